package redisadapter

import (
	"errors"
	"log/slog"
	"time"

	"github.com/socketio-go/socketio/internal/nolog"
)

// Options configures New and NewSharded. A nil *Options, or the zero
// value, gives the defaults of @socket.io/redis-adapter.
type Options struct {
	// Key prefixes every channel ("socket.io#/#", "socket.io-request#/#",
	// ...). Default "socket.io". Every node of a cluster must use the same.
	Key string

	// RequestsTimeout bounds the wait for the other nodes' answers to
	// FetchSockets and ServerSideEmitWithAck. Default 5 s.
	RequestsTimeout time.Duration

	// PublishOnSpecificResponseChannel makes this node answer a request on
	// the requester's own channel ("socket.io-response#/#<uid>#") instead of
	// the channel every node reads. Classic mode only.
	PublishOnSpecificResponseChannel bool

	// MaxMessageSize caps a message read from Redis; larger ones are
	// dropped. Default 16 MiB. Messages from Redis are untrusted: they are
	// also depth-capped and validated, and unknown types are ignored.
	MaxMessageSize int

	// PublishQueueSize caps the messages waiting to be published. A
	// broadcast never waits for Redis: when the queue is full (Redis down
	// or slow), the message is dropped for the other nodes and still
	// delivered locally. Default 1024.
	PublishQueueSize int

	// OnStateChange, when set, is called (on the adapter's goroutine; it
	// must not block) when the connection to Redis of a namespace's adapter
	// goes down or comes back. Adapter.Healthy gives the current state.
	OnStateChange func(State)

	// Logger receives debug logs. Nil logs nothing.
	Logger *slog.Logger
}

// State is a change of an adapter's connection to Redis.
type State struct {
	// Namespace is the namespace of the adapter.
	Namespace string
	// Healthy reports whether the adapter is subscribed and Redis answers.
	Healthy bool
	// Err is the error that made the adapter unhealthy.
	Err error
}

// Defaults of Options.
const (
	DefaultKey              = "socket.io"
	DefaultRequestsTimeout  = 5 * time.Second
	DefaultMaxMessageSize   = 16 << 20
	DefaultPublishQueueSize = 1024
)

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Key == "" {
		r.Key = DefaultKey
	}
	if r.RequestsTimeout == 0 {
		r.RequestsTimeout = DefaultRequestsTimeout
	}
	if r.RequestsTimeout < 0 {
		return r, errors.New("redisadapter: RequestsTimeout must not be negative")
	}
	if r.MaxMessageSize == 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.MaxMessageSize < 0 {
		return r, errors.New("redisadapter: MaxMessageSize must not be negative")
	}
	if r.PublishQueueSize == 0 {
		r.PublishQueueSize = DefaultPublishQueueSize
	}
	if r.PublishQueueSize < 0 {
		return r, errors.New("redisadapter: PublishQueueSize must not be negative")
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	return r, nil
}
