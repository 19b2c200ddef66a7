// Package eiocodec encodes and decodes Engine.IO v4 packets and polling payloads.
//
// It is shared by the server (package engineio) and the Go client. Decoders never
// panic on peer input: anything malformed is reported as ErrInvalidPacket.
package eiocodec

import (
	"encoding/base64"
	"errors"
)

// Type is an Engine.IO packet type.
type Type byte

// The Engine.IO v4 packet types. The wire form is the ASCII digit.
const (
	Open    Type = 0
	Close   Type = 1
	Ping    Type = 2
	Pong    Type = 3
	Message Type = 4
	Upgrade Type = 5
	Noop    Type = 6
)

// Separator joins packets in a polling payload (the ASCII record separator).
const Separator = '\x1e'

// ErrInvalidPacket reports a packet or payload that does not follow the protocol.
var ErrInvalidPacket = errors.New("eiocodec: invalid packet")

// Packet is one decoded Engine.IO packet. Binary is true for a message that
// carries bytes (a binary WebSocket frame or a "b"-prefixed polling packet);
// only message packets can be binary.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

func (t Type) String() string {
	switch t {
	case Open:
		return "open"
	case Close:
		return "close"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	case Message:
		return "message"
	case Upgrade:
		return "upgrade"
	case Noop:
		return "noop"
	}
	return "unknown"
}

// DecodeText decodes a packet received as text (a WebSocket text frame or one
// element of a polling payload). A leading 'b' means base64-encoded binary.
// The returned Data aliases s for text packets.
func DecodeText(s []byte) (Packet, error) {
	if len(s) == 0 {
		return Packet{}, ErrInvalidPacket
	}
	if s[0] == 'b' {
		buf := make([]byte, base64.StdEncoding.DecodedLen(len(s)-1))
		n, err := base64.StdEncoding.Decode(buf, s[1:])
		if err != nil {
			return Packet{}, ErrInvalidPacket
		}
		return Packet{Type: Message, Data: buf[:n], Binary: true}, nil
	}
	t := s[0] - '0'
	if t > byte(Noop) {
		return Packet{}, ErrInvalidPacket
	}
	p := Packet{Type: Type(t)}
	if len(s) > 1 {
		p.Data = s[1:]
	}
	return p, nil
}

// DecodePayload calls fn for each packet of a polling payload, in order, and
// stops at the first invalid packet or the first error fn returns.
func DecodePayload(body []byte, fn func(Packet) error) error {
	start := 0
	for i := 0; i <= len(body); i++ {
		if i < len(body) && body[i] != Separator {
			continue
		}
		p, err := DecodeText(body[start:i])
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

// AppendText appends the text encoding of one packet (as sent in a polling
// payload): the type digit and data, or 'b' and base64 for binary data.
func AppendText(dst []byte, t Type, data []byte, binary bool) []byte {
	if binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, data)
	}
	dst = append(dst, '0'+byte(t))
	return append(dst, data...)
}

// TextLen returns the length of AppendText's output.
func TextLen(data []byte, binary bool) int {
	if binary {
		return 1 + base64.StdEncoding.EncodedLen(len(data))
	}
	return 1 + len(data)
}
