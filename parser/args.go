package parser

import (
	"encoding/json"
	"fmt"
)

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (with their binary attachments) until decoded. The server and the
// client both hand them to handlers. The zero value holds no argument.
type Args struct {
	raw         []json.RawMessage
	attachments [][]byte
	// Bit k is set when raw[k] (k < 64) is known to be a string without
	// escapes or non-ASCII bytes (Packet.Args learns it from the
	// decoder): Decode into a *string takes it as it is.
	plain uint64
}

// NewArgs splits data, a JSON array whose binary values are
// {"_placeholder":true,"num":N} objects indexing attachments, into Args
// without decoding the elements. Empty data gives no arguments.
func NewArgs(data json.RawMessage, attachments [][]byte) (Args, error) {
	if len(data) == 0 {
		return Args{}, nil
	}
	raw, err := SplitArray(data)
	if err != nil {
		return Args{}, err
	}
	return Args{raw: raw, attachments: attachments}, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns the raw JSON of the arguments. Binary values still appear as
// {"_placeholder":true,"num":N} objects; Decode resolves them.
func (a Args) Raw() []json.RawMessage { return a.raw }

// Attachments returns the binary attachments of the arguments.
func (a Args) Attachments() [][]byte { return a.attachments }

// From returns the arguments from index i on (none when i is past the end),
// sharing the attachments: an event's arguments after its name.
func (a Args) From(i int) Args {
	if i >= len(a.raw) {
		return Args{attachments: a.attachments}
	}
	var plain uint64
	if i < 64 {
		plain = a.plain >> i
	}
	return Args{raw: a.raw[i:], attachments: a.attachments, plain: plain}
}

// Decode decodes argument i into v (a pointer). Binary arguments decode
// into []byte, including inside structs, maps and slices.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return fmt.Errorf("parser: argument %d of %d missing", i, len(a.raw))
	}
	if sp, ok := v.(*string); ok && i < 64 && a.plain>>i&1 != 0 {
		r := a.raw[i]
		*sp = string(r[1 : len(r)-1])
		return nil
	}
	return Unmarshal(a.raw[i], a.attachments, v)
}

// DecodeString returns argument i as a string. A plain string (no escapes,
// ASCII) costs one copy of its bytes and nothing else: unlike Decode into a
// *string, no variable escapes to the heap for it. Other JSON strings are
// decoded as Decode does; any other value is an error.
func (a Args) DecodeString(i int) (string, error) {
	if i >= 0 && i < 64 && i < len(a.raw) && a.plain>>i&1 != 0 {
		r := a.raw[i]
		return string(r[1 : len(r)-1]), nil
	}
	var v string
	err := a.Decode(i, &v)
	return v, err
}

// DecodeAs returns argument i decoded into a new T; a string T takes
// DecodeString's path, with no allocation beyond the string itself.
func DecodeAs[T any](a Args, i int) (T, error) {
	var zero T
	if _, ok := any(zero).(string); ok {
		v, err := a.DecodeString(i)
		return any(v).(T), err
	}
	p := new(T)
	err := a.Decode(i, p)
	return *p, err
}

// Bind decodes the arguments, in order, into the given pointers. Missing
// arguments leave their targets untouched; a nil target skips an argument.
func (a Args) Bind(vs ...any) error {
	for i, v := range vs {
		if v == nil || i >= len(a.raw) {
			continue
		}
		if err := a.Decode(i, v); err != nil {
			return err
		}
	}
	return nil
}

// Values decodes every argument into Go values (as encoding/json does into
// interface{}, with []byte for binary values).
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.raw))
	for i := range a.raw {
		if err := a.Decode(i, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
