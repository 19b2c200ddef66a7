package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/socketio-go/socketio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (with their binary attachments) until decoded: see parser.Args.
type Args = parser.Args

// NewArgs returns the arguments held by data, a JSON array in which binary
// values are {"_placeholder":true,"num":N} objects indexing attachments.
// Cluster adapters use it for what other servers send.
func NewArgs(data json.RawMessage, attachments [][]byte) (Args, error) {
	return parser.NewArgs(data, attachments)
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
			var err error
			if v, err = parser.DecodeAs[T](e.Args, 0); err != nil {
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
			var err error
			if v, err = parser.DecodeAs[T](e.Args, 0); err != nil {
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
