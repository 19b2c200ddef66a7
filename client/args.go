package client

import (
	"encoding/json"
	"errors"

	"github.com/socketio-go/socketio/parser"
)

// Errors of the client. Test for them with errors.Is.
var (
	// ErrTimeout is returned when an acknowledgement did not come in time
	// (JS: "operation has timed out").
	ErrTimeout = errors.New("client: operation has timed out")
	// ErrDisconnected is returned for an acknowledgement still awaited
	// when the socket disconnected (JS: "socket has been disconnected").
	ErrDisconnected = errors.New("client: socket has been disconnected")
	// ErrReservedEvent is returned when emitting a reserved event name.
	ErrReservedEvent = errors.New("client: reserved event name")
	// ErrClosed is returned when using a closed Manager.
	ErrClosed = errors.New("client: manager closed")
	// ErrProtocol reports a server that broke the Engine.IO or Socket.IO protocol.
	ErrProtocol = errors.New("client: protocol error")
)

// ConnectError is the server's refusal of a namespace connection: an
// unknown namespace ("Invalid namespace") or a middleware's error, with the
// data the middleware attached.
type ConnectError struct {
	Message string
	// Data is the raw JSON the server attached, or nil.
	Data json.RawMessage
}

// Error returns the server's message.
func (e *ConnectError) Error() string { return e.Message }

// DisconnectReason is why a socket disconnected, with socket.io-client's strings.
const (
	ReasonIOServerDisconnect = "io server disconnect" // the server disconnected the socket
	ReasonIOClientDisconnect = "io client disconnect" // Socket.Disconnect or Manager.Close
	ReasonPingTimeout        = "ping timeout"         // no ping within pingInterval + pingTimeout
	ReasonTransportClose     = "transport close"      // the connection was closed
	ReasonTransportError     = "transport error"      // the connection failed
	ReasonParseError         = "parse error"          // the server sent an invalid packet
	ReasonForcedClose        = "forced close"         // the Manager closed the connection
)

// reservedEvents may not be emitted.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// Args are the arguments of an event or an acknowledgement, kept as raw
// JSON (with their binary attachments) until decoded: see parser.Args.
type Args = parser.Args

// Event is an event received from the server.
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

// WantsAck reports whether the server asked for an acknowledgement.
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

// On adds a typed handler for an event: the first argument is decoded into
// a T. A decoding error is logged and the handler is not called.
func On[T any](s *Socket, event string, fn func(arg T)) (off func()) {
	return s.On(event, func(e *Event) {
		var v T
		if e.Len() > 0 {
			var err error
			if v, err = parser.DecodeAs[T](e.Args, 0); err != nil {
				s.m.opts.Logger.Debug("socket.io: cannot decode event", "event", event, "err", err)
				return
			}
		}
		fn(v)
	})
}

// OnWithAck adds a typed handler whose return value acknowledges the event:
// the first argument is decoded into a T, and the R returned is sent as the
// acknowledgement (when the server asked for one).
func OnWithAck[T, R any](s *Socket, event string, fn func(arg T) R) (off func()) {
	return s.On(event, func(e *Event) {
		var v T
		if e.Len() > 0 {
			var err error
			if v, err = parser.DecodeAs[T](e.Args, 0); err != nil {
				s.m.opts.Logger.Debug("socket.io: cannot decode event", "event", event, "err", err)
				return
			}
		}
		_ = e.Ack(fn(v))
	})
}
