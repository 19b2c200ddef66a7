package socketio

import (
	"errors"
	"log/slog"
	"time"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/internal/nolog"
	"github.com/socketio-go/socketio/parser"
)

// Options configures a Server. A nil *Options, or the zero value, gives the
// defaults of socket.io 4.8.
type Options struct {
	// Path is the URL path the server answers. Default "/socket.io/".
	Path string

	// Engine configures the Engine.IO layer: heartbeats, transports, body
	// limits, CORS, cookies, compression. Its Path is ignored (Path above wins).
	Engine engineio.Options

	// ConnectTimeout closes a connection that has joined no namespace after
	// that long. Default 45 s.
	ConnectTimeout time.Duration

	// Parser encodes and decodes packets. Default: the JSON parser with at
	// most 10 binary attachments per packet.
	Parser parser.Parser

	// Adapter makes the adapter of each namespace. Default: the in-memory
	// adapter (one server process).
	Adapter func(nsp *Namespace) Adapter

	// ConnectionStateRecovery, when set, lets a client that lost its
	// connection come back with the same socket id, rooms and data, and get
	// the packets it missed. Off by default.
	ConnectionStateRecovery *RecoveryOptions

	// CleanupEmptyChildNamespaces removes a child of a dynamic namespace
	// when its last socket leaves.
	CleanupEmptyChildNamespaces bool

	// MaxQueuedEvents caps the events received by one socket and waiting
	// for its handlers; a client past it is disconnected ("transport
	// error"). Default 4096. (socket.io on Node has no such cap.)
	MaxQueuedEvents int

	// InlineHandlerTimeout: the event handlers of a client on WebSocket
	// run on the goroutine that reads its connection, so that an event
	// costs no goroutine start or wake-up (about a fifth of the server's
	// CPU per echoed event, see BENCHMARKS.md). While a handler runs,
	// nothing more is read from that client; one still running after
	// InlineHandlerTimeout hands the reading over to a new goroutine, so
	// that a slow handler (a database query, a wait for the client's event
	// on another namespace) holds up that client's other input, its
	// heartbeats included, at most that long. (Handlers are checked every
	// half InlineHandlerTimeout, so one may be handed over after running
	// between half of it and all of it.) Waits for acknowledgements
	// in this package (EmitWithAck on a socket or a broadcast) hand it
	// over at once. Default 10 ms (DefaultInlineHandlerTimeout). A
	// negative value runs every handler on a goroutine of its socket's
	// instead (taken from the server's pool for each burst of events;
	// nothing is ever held up). Events that arrive over HTTP long-polling always run there.
	// Either way, the events of one socket run one at a time, in order.
	InlineHandlerTimeout time.Duration

	// Logger receives debug logs. Nil (the default) logs nothing.
	Logger *slog.Logger
}

// RecoveryOptions configures connection state recovery.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a session and the packets it
	// misses are kept. Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips the namespace middlewares for a recovered socket.
	SkipMiddlewares bool
}

// Defaults of Options.
const (
	DefaultPath                     = "/socket.io/"
	DefaultConnectTimeout           = 45 * time.Second
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultMaxQueuedEvents          = 4096
	DefaultInlineHandlerTimeout     = 10 * time.Millisecond
)

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	r.Engine.Path = r.Path
	if r.ConnectTimeout == 0 {
		r.ConnectTimeout = DefaultConnectTimeout
	}
	if r.ConnectTimeout < 0 {
		return r, errors.New("socketio: ConnectTimeout must not be negative")
	}
	if r.Parser == nil {
		r.Parser = parser.NewJSONParser(nil)
	}
	if r.InlineHandlerTimeout == 0 {
		r.InlineHandlerTimeout = DefaultInlineHandlerTimeout
	}

	if r.Adapter == nil {
		r.Adapter = NewInMemoryAdapter
	}
	if r.ConnectionStateRecovery != nil {
		c := *r.ConnectionStateRecovery
		if c.MaxDisconnectionDuration == 0 {
			c.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		r.ConnectionStateRecovery = &c
	}
	if r.MaxQueuedEvents == 0 {
		r.MaxQueuedEvents = DefaultMaxQueuedEvents
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	if r.Engine.Logger == nil {
		r.Engine.Logger = r.Logger
	}
	return r, nil
}
