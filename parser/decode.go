package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// reservedEvents are the event names a peer may not send, because they have
// a meaning of their own on one side or the other.
var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

type jsonDecoder struct {
	max     int
	pending *Packet // binary packet waiting for attachments
	want    int
}

func (d *jsonDecoder) Reset() {
	d.pending = nil
	d.want = 0
}

func (d *jsonDecoder) Add(data []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, ErrUnexpectedBinary
		}
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	p, n, err := d.decodeText(data)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// decodeText decodes a packet header and payload. n is the number of
// attachments that must follow.
func (d *jsonDecoder) decodeText(s []byte) (p *Packet, n int, err error) {
	if len(s) == 0 {
		return nil, 0, fmt.Errorf("%w: empty message", ErrInvalidPacket)
	}
	// The reference reads the type with Number(), which also takes "" and
	// white space for 0; we take digits only.
	if s[0] < '0' || s[0] > '6' {
		return nil, 0, fmt.Errorf("%w: unknown packet type %q", ErrInvalidPacket, s[0])
	}
	t := Type(s[0] - '0')
	i := 1

	if t == BinaryEvent || t == BinaryAck {
		start, tooMany := i, false
		for ; i < len(s) && isDigit(s[i]); i++ {
			// Stop counting past the limit: no overflow, however many digits.
			if dgt := int(s[i] - '0'); n > d.max/10 || n*10 > d.max-dgt {
				tooMany = true
			} else if !tooMany {
				n = n*10 + dgt
			}
		}
		if i == start || i == len(s) || s[i] != '-' {
			return nil, 0, fmt.Errorf("%w: bad attachment count", ErrIllegalAttachments)
		}
		if tooMany {
			return nil, 0, fmt.Errorf("%w: more than %d", ErrTooManyAttachments, d.max)
		}
		i++
		if n == 0 {
			// Nothing follows: a plain EVENT or ACK (see Encode).
			t -= BinaryEvent - Event
		}
	}

	nsp := "/"
	if i < len(s) && s[i] == '/' {
		end := bytes.IndexByte(s[i:], ',')
		if end < 0 {
			end = len(s)
		} else {
			end += i
		}
		if end-i > 1 {
			nsp = string(s[i:end])
		}
		i = end + 1
	}

	var id uint64
	hasID := false
	if i < len(s) && isDigit(s[i]) {
		hasID = true
		for ; i < len(s) && isDigit(s[i]); i++ {
			id = id*10 + uint64(s[i]-'0')
			if id > MaxAckID {
				return nil, 0, fmt.Errorf("%w: ack id beyond 2^53-1", ErrInvalidPacket)
			}
		}
	}

	var elems []json.RawMessage // storage for the split of an array payload
	if i < len(s) && s[i] == '[' {
		ap := &arrayPacket{}
		p, elems = &ap.Packet, ap.inline[:0]
	} else {
		p = &Packet{}
	}
	p.Type, p.Namespace, p.ID, p.HasID = t, nsp, id, hasID
	if i < len(s) {
		p.Data = s[i:len(s):len(s)]
		if err := checkPayload(t, p.Data, s[0] >= '5', n, p, elems); err != nil {
			return nil, 0, err
		}
	}
	return p, n, nil
}

// checkPayload applies the reference's rules for what each packet type may
// carry, and checks the placeholders of binary packets. The top-level
// elements of an array payload are recorded in split (if not nil) for
// Packet.Args, in elems' storage while they fit.
func checkPayload(t Type, b []byte, binary bool, attachments int, split *Packet, elems []json.RawMessage) error {
	// The first byte tells the kind of the value. White space cannot come
	// first: the reference would read it as part of an ack id.
	switch c := b[0]; t {
	case Connect:
		if c != '{' {
			return fmt.Errorf("%w: CONNECT payload must be an object", ErrInvalidPayload)
		}
	case ConnectError:
		if c != '{' && c != '"' {
			return fmt.Errorf("%w: CONNECT_ERROR payload must be an object or a string", ErrInvalidPayload)
		}
	case Event, BinaryEvent, Ack, BinaryAck:
		if c != '[' {
			return fmt.Errorf("%w: %v payload must be an array", ErrInvalidPayload, t)
		}
	default:
		return fmt.Errorf("%w: %v takes no payload", ErrInvalidPayload, t)
	}
	w := walker{b: b, check: binary, n: attachments}
	if split != nil && b[0] == '[' {
		w.elems = elems[:0]
	}
	end, perr, err := w.value(0, 0)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	if w.elems != nil {
		split.split, split.splitOf, split.plain = w.elems, b, w.plain
	}
	if skipSpace(b, end) != len(b) {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, errSyntax)
	}
	if t == Event || t == BinaryEvent {
		if w.elems != nil && len(w.elems) > 0 && w.plain&1 != 0 {
			// The name, already scanned: a string without escapes.
			if r, ok := reservedName(w.elems[0][1 : len(w.elems[0])-1]); ok {
				return fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, r)
			}
		} else if err := checkEventName(b); err != nil {
			return err
		}
	}
	if perr != nil {
		return fmt.Errorf("%w: %v", ErrIllegalAttachments, perr)
	}
	return nil
}

// reservedName reports whether name, the content of a JSON string without
// escapes, is a reserved event name.
func reservedName(name []byte) (string, bool) {
	if len(name) < len("connect") || len(name) > len("removeListener") {
		return "", false
	}
	for _, r := range reservedEvents {
		if string(name) == r {
			return r, true
		}
	}
	return "", false
}

// checkEventName checks the first element of a valid JSON array: a number,
// or a string that is not a reserved event name.
func checkEventName(b []byte) error {
	i := skipSpace(b, 1)
	switch c := b[i]; {
	case c == '-' || isDigit(c):
		return nil
	case c == '"':
		end, escaped, _ := scanString(b, i)
		if n := end - i - 2; !escaped && (n < len("connect") || n > len("removeListener")) {
			return nil // too short or long to be reserved
		}
		for _, r := range reservedEvents {
			if keyIs(b[i:end], escaped, r) {
				return fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, r)
			}
		}
		return nil
	case c == ']':
		return fmt.Errorf("%w: empty event", ErrInvalidPayload)
	default:
		return fmt.Errorf("%w: event name must be a string or a number", ErrInvalidPayload)
	}
}
