package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// EventEncoder is an optional interface of an Encoder: it encodes an EVENT
// or ACK packet straight from its arguments, into a single buffer. The JSON
// parser's Encoder implements it; the server uses it for emits and acks to
// one socket, where building a Packet, its payload and then the message
// would cost three allocations and a copy of the payload.
type EventEncoder interface {
	// EncodeEvent returns what Encode returns for the packet
	// {Type: Event, Namespace: nsp, ID: id, HasID: hasID, Data: the
	// payload MarshalEvent(event, args) makes, Attachments: its
	// attachments}: the text message, then the attachments (the caller's
	// slices, as with MarshalArgs). The text message is a new slice.
	EncodeEvent(nsp string, id uint64, hasID bool, event string, args []any) (text []byte, attachments [][]byte, err error)
	// EncodeAck is EncodeEvent for the ACK packet {Type: Ack, Namespace:
	// nsp, ID: id, HasID: true, Data: the payload MarshalArgs(args) makes}.
	EncodeAck(nsp string, id uint64, args []any) (text []byte, attachments [][]byte, err error)
}

var _ EventEncoder = JSONEncoder{}

// EncodeEvent implements EventEncoder.
func (JSONEncoder) EncodeEvent(nsp string, id uint64, hasID bool, event string, args []any) ([]byte, [][]byte, error) {
	return encodeArgsPacket(Event, nsp, id, hasID, event, true, args)
}

// EncodeAck implements EventEncoder.
func (JSONEncoder) EncodeAck(nsp string, id uint64, args []any) ([]byte, [][]byte, error) {
	return encodeArgsPacket(Ack, nsp, id, true, "", false, args)
}

// encodeArgsPacket writes the payload with the pooled writer, then the
// header (whose attachment count is known only then) and the payload into
// one new buffer. t is Event or Ack.
func encodeArgsPacket(t Type, nsp string, id uint64, hasID bool, event string, hasEvent bool, args []any) ([]byte, [][]byte, error) {
	if nsp == "/" {
		nsp = ""
	}
	if nsp != "" && (nsp[0] != '/' || strings.IndexByte(nsp, ',') >= 0) {
		return nil, nil, fmt.Errorf("%w: bad namespace %q", ErrInvalidPacket, nsp)
	}
	if hasID && id > MaxAckID {
		return nil, nil, fmt.Errorf("%w: ack id beyond 2^53-1", ErrInvalidPacket)
	}
	if n, ok := simpleArgsLen(event, hasEvent, args); ok {
		return appendSimpleArgs(make([]byte, 0, 1+len(nsp)+1+16+n), t, nsp, id, hasID, event, hasEvent, args), nil, nil
	}
	w := writerPool.Get().(*argsWriter)
	defer w.release()
	if err := w.array(event, hasEvent, args); err != nil {
		return nil, nil, err
	}
	atts := w.atts
	w.atts = nil

	text := appendHeader(make([]byte, 0, 1+4+len(nsp)+1+16+w.buf.Len()), t, len(atts), nsp, id, hasID)
	text = append(text, w.buf.Bytes()...)
	return text, atts, nil
}

// simpleArgsLen reports whether the event name and the arguments are all
// of the kinds appendSimpleArgs writes (strings that need no escaping,
// bools, nil, ints), and if so, at most how long their JSON array is.
func simpleArgsLen(event string, hasEvent bool, args []any) (int, bool) {
	n := 2 + len(args) // brackets, commas
	if hasEvent {
		if !plainASCII(event) {
			return 0, false
		}
		n += len(event) + 3
	}
	for _, a := range args {
		switch x := a.(type) {
		case string:
			if !plainASCII(x) {
				return 0, false
			}
			n += len(x) + 2
		case bool, nil:
			n += 5
		case int:
			n += 20
		default:
			return 0, false
		}
	}
	return n, true
}

// appendSimpleArgs appends the packet to text, in one pass, for arguments
// simpleArgsLen accepted: what the pooled writer and the copy after it
// would make, without them.
func appendSimpleArgs(text []byte, t Type, nsp string, id uint64, hasID bool, event string, hasEvent bool, args []any) []byte {
	text = append(appendHeader(text, t, 0, nsp, id, hasID), '[')
	if hasEvent {
		text = append(text, '"')
		text = append(text, event...)
		text = append(text, '"')
	}
	for i, a := range args {
		if i > 0 || hasEvent {
			text = append(text, ',')
		}
		switch x := a.(type) {
		case string:
			text = append(text, '"')
			text = append(text, x...)
			text = append(text, '"')
		case bool:
			text = strconv.AppendBool(text, x)
		case nil:
			text = append(text, "null"...)
		case int:
			text = strconv.AppendInt(text, int64(x), 10)
		}
	}
	return append(text, ']')
}

// appendHeader appends an EVENT or ACK packet's header: its type (BINARY_
// with the attachment count when atts > 0), namespace (nsp: "" for "/")
// and ack id.
func appendHeader(text []byte, t Type, atts int, nsp string, id uint64, hasID bool) []byte {
	if atts > 0 {
		if t == Event {
			t = BinaryEvent
		} else {
			t = BinaryAck
		}
		text = append(text, '0'+byte(t))
		text = strconv.AppendInt(text, int64(atts), 10)
		text = append(text, '-')
	} else {
		text = append(text, '0'+byte(t))
	}
	if nsp != "" {
		text = append(text, nsp...)
		text = append(text, ',')
	}
	if hasID {
		text = strconv.AppendUint(text, id, 10)
	}
	return text
}
