package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// JSONEncoder is the Encoder of the JSON parser (NewJSONParser): the format
// of the reference implementation. It has no state; its zero value is
// ready. It is exported so that a caller that knows its parser is the JSON
// one can call its methods without an interface: the Go compiler can then
// tell that the argument slices passed to EncodeEvent and EncodeAck do not
// escape, so that a variadic caller's slice stays on its stack.
type JSONEncoder struct{}

// Encode writes the header with appends on one buffer. EVENT and ACK
// packets become BINARY_EVENT and BINARY_ACK when they carry attachments,
// and the other way round when they carry none: a "50-" header would leave
// the reference decoder waiting for attachments forever.
func (JSONEncoder) Encode(p *Packet) ([][]byte, error) {
	t := p.Type
	switch t {
	case Event, BinaryEvent:
		t = Event
		if len(p.Attachments) > 0 {
			t = BinaryEvent
		}
	case Ack, BinaryAck:
		t = Ack
		if len(p.Attachments) > 0 {
			t = BinaryAck
		}
	case Connect, Disconnect, ConnectError:
		if len(p.Attachments) > 0 {
			return nil, fmt.Errorf("%w: %v cannot carry attachments", ErrInvalidPacket, t)
		}
	default:
		return nil, fmt.Errorf("%w: unknown packet type %d", ErrInvalidPacket, byte(t))
	}

	data := p.Data
	if string(data) == "null" { // like JSON.stringify's caller in the reference: null is absent
		data = nil
	}
	if len(data) > 0 {
		// Only the first byte is checked: it keeps the header unambiguous
		// (no digit or "/" can follow it); the payload itself is trusted.
		ok := false
		switch c := data[0]; t {
		case Connect:
			ok = c == '{'
		case ConnectError:
			ok = c == '{' || c == '"'
		case Event, Ack, BinaryEvent, BinaryAck:
			ok = c == '['
		}
		if !ok {
			return nil, fmt.Errorf("%w: %v cannot carry a payload starting with %q", ErrInvalidPacket, t, data[0])
		}
	}

	nsp := p.Namespace
	if nsp == "/" {
		nsp = ""
	}
	if nsp != "" && (nsp[0] != '/' || strings.IndexByte(nsp, ',') >= 0) {
		return nil, fmt.Errorf("%w: bad namespace %q", ErrInvalidPacket, nsp)
	}
	if p.HasID && p.ID > MaxAckID {
		return nil, fmt.Errorf("%w: ack id beyond 2^53-1", ErrInvalidPacket)
	}

	buf := make([]byte, 0, 1+4+len(nsp)+1+16+len(data))
	buf = append(buf, '0'+byte(t))
	if t == BinaryEvent || t == BinaryAck {
		buf = strconv.AppendInt(buf, int64(len(p.Attachments)), 10)
		buf = append(buf, '-')
	}
	if nsp != "" {
		buf = append(buf, nsp...)
		buf = append(buf, ',')
	}
	if p.HasID {
		buf = strconv.AppendUint(buf, p.ID, 10)
	}
	buf = append(buf, data...)

	out := make([][]byte, 1, 1+len(p.Attachments))
	out[0] = buf
	return append(out, p.Attachments...), nil
}
