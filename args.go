package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/socketio-go/socketio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (with their binary attachments) until decoded.
type Args struct {
	raw         []json.RawMessage
	attachments [][]byte
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns the raw JSON of the arguments. Binary values still appear as
// {"_placeholder":true,"num":N} objects; Decode resolves them.
func (a Args) Raw() []json.RawMessage { return a.raw }

// Attachments returns the binary attachments of the arguments.
func (a Args) Attachments() [][]byte { return a.attachments }

// Decode decodes argument i into v (a pointer). Binary arguments decode
// into []byte, including inside structs, maps and slices.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return fmt.Errorf("socketio: argument %d of %d missing", i, len(a.raw))
	}
	return parser.Unmarshal(a.raw[i], a.attachments, v)
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

func argsOf(data json.RawMessage, attachments [][]byte) (Args, error) {
	if len(data) == 0 {
		return Args{}, nil
	}
	raw, err := parser.SplitArray(data)
	if err != nil {
		return Args{}, err
	}
	return Args{raw: raw, attachments: attachments}, nil
}

// Event is an event received from a client.
type Event struct {
	// Name is the event name (a number sent as the name is in decimal).
	Name string
	// Args are the arguments after the name.
	Args

	socket *Socket
	id     uint64
	hasAck bool
	acked  bool
}

// Socket returns the socket the event arrived on.
func (e *Event) Socket() *Socket { return e.socket }

// WantsAck reports whether the client asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.hasAck }

// Ack sends the acknowledgement with the given arguments. Only the first
// call sends anything; without a request for one it does nothing.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck || e.acked {
		return nil
	}
	e.acked = true
	return e.socket.sendAck(e.id, args)
}

// On adds a typed handler for an event: the first argument is decoded into a
// T. A decoding error goes to the socket's error handlers.
func On[T any](s *Socket, event string, fn func(s *Socket, arg T)) (off func()) {
	return s.On(event, func(e *Event) {
		var v T
		if e.Len() > 0 {
			if err := e.Decode(0, &v); err != nil {
				s.emitError(fmt.Errorf("socketio: event %q: %w", event, err))
				return
			}
		}
		fn(s, v)
	})
}

// OnWithAck adds a typed handler whose return value acknowledges the event:
// the first argument is decoded into a T, and the R returned is sent as the
// acknowledgement (when the client asked for one).
func OnWithAck[T, R any](s *Socket, event string, fn func(s *Socket, arg T) R) (off func()) {
	return s.On(event, func(e *Event) {
		var v T
		if e.Len() > 0 {
			if err := e.Decode(0, &v); err != nil {
				s.emitError(fmt.Errorf("socketio: event %q: %w", event, err))
				return
			}
		}
		r := fn(s, v)
		if err := e.Ack(r); err != nil {
			s.emitError(err)
		}
	})
}
