package redisstreams

import (
	"errors"
	"log/slog"
	"time"

	"github.com/socketio-go/socketio/internal/nolog"
)

// Options configures New. A nil *Options, or the zero value, gives the
// defaults of @socket.io/redis-streams-adapter 0.3. Every node of a
// cluster must use the same StreamName, StreamCount, ChannelPrefix,
// UseShardedPubSub, SessionKeyPrefix and Heartbeats.
type Options struct {
	// StreamName is the Redis stream of the cluster's messages. Default
	// "socket.io".
	StreamName string

	// StreamCount spreads the namespaces over StreamCount streams
	// ("<StreamName>-<i>", i chosen by a hash of the namespace's name, as
	// the Node adapter does) when above 1. Default 1: one stream.
	StreamCount int

	// ChannelPrefix prefixes the pub/sub channels ("<prefix>#<nsp>#" for
	// requests, "<prefix>#<nsp>#<uid>#" for the answers to this node).
	// Default "socket.io".
	ChannelPrefix string

	// UseShardedPubSub uses SPUBLISH and SSUBSCRIBE (Redis 7) for the
	// pub/sub messages.
	UseShardedPubSub bool

	// MaxLen caps the stream, approximately (XADD MAXLEN ~). Default 10000.
	// It bounds how far back a client can recover its connection state.
	MaxLen int64

	// ReadCount is the COUNT of each XREAD. Default 100.
	ReadCount int64

	// BlockTime is the BLOCK of each XREAD. Default 5 s.
	BlockTime time.Duration

	// SessionKeyPrefix prefixes the keys of the sessions kept for
	// connection state recovery ("<prefix><pid>", a base64 msgpack value
	// that expires after the server's MaxDisconnectionDuration). Default
	// "sio:session:".
	SessionKeyPrefix string

	// RequestsTimeout bounds the wait for the other nodes' answers to
	// FetchSockets and ServerSideEmitWithAck, and the Redis commands of
	// session recovery. Default 5 s.
	RequestsTimeout time.Duration

	// Heartbeats counts the servers of the cluster as socket.io-adapter's
	// ClusterAdapterWithHeartbeat does (and @socket.io/redis-streams-adapter
	// before 0.3): each node publishes a heartbeat every HeartbeatInterval
	// when it has published nothing else, a node not heard from for
	// HeartbeatTimeout is gone, and a request waits for the answers of the
	// nodes known when it was made. Without it (the default, as the Node
	// adapter 0.3 does), the server count is the number of subscribers of
	// the namespace's channel (PUBSUB NUMSUB), and Node nodes of version 0.3,
	// which send no heartbeats, are counted. Use it only when every node
	// sends heartbeats.
	Heartbeats bool

	// HeartbeatInterval is the period of heartbeats. Default 5 s.
	HeartbeatInterval time.Duration

	// HeartbeatTimeout is the silence after which a node is gone. Default 10 s.
	HeartbeatTimeout time.Duration

	// MaxMessageSize caps a message read from Redis; larger ones are
	// dropped. Default 16 MiB. Messages from Redis are untrusted: they are
	// also depth-capped and validated, and unknown types are ignored.
	MaxMessageSize int

	// PublishQueueSize caps the messages waiting to be written to Redis. A
	// broadcast never waits for a full queue: when it is full (Redis down
	// or slow), the message is dropped for the other nodes and still
	// delivered locally. Default 1024.
	PublishQueueSize int

	// OnStateChange, when set, is called (on one of the adapter's
	// goroutines; it must not block) when the connection to Redis goes
	// down or comes back. Adapter.Healthy gives the current state.
	OnStateChange func(State)

	// Logger receives debug logs. Nil logs nothing.
	Logger *slog.Logger
}

// State is a change of the connection to Redis, shared by the adapters of
// every namespace made by one factory.
type State struct {
	// Healthy reports whether the stream is read, the pub/sub subscription
	// is up and Redis answers.
	Healthy bool
	// Err is the error that made the adapters unhealthy.
	Err error
}

// Defaults of Options.
const (
	DefaultStreamName        = "socket.io"
	DefaultChannelPrefix     = "socket.io"
	DefaultMaxLen            = 10000
	DefaultReadCount         = 100
	DefaultBlockTime         = 5 * time.Second
	DefaultSessionKeyPrefix  = "sio:session:"
	DefaultRequestsTimeout   = 5 * time.Second
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultHeartbeatTimeout  = 10 * time.Second
	DefaultMaxMessageSize    = 16 << 20
	DefaultPublishQueueSize  = 1024
)

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(v *time.Duration, d time.Duration, name string) error {
		if *v == 0 {
			*v = d
		}
		if *v < 0 {
			return errors.New("redisstreams: " + name + " must not be negative")
		}
		return nil
	}
	if r.StreamName == "" {
		r.StreamName = DefaultStreamName
	}
	if r.StreamCount == 0 {
		r.StreamCount = 1
	}
	if r.ChannelPrefix == "" {
		r.ChannelPrefix = DefaultChannelPrefix
	}
	if r.MaxLen == 0 {
		r.MaxLen = DefaultMaxLen
	}
	if r.ReadCount == 0 {
		r.ReadCount = DefaultReadCount
	}
	if r.SessionKeyPrefix == "" {
		r.SessionKeyPrefix = DefaultSessionKeyPrefix
	}
	if r.MaxMessageSize == 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.PublishQueueSize == 0 {
		r.PublishQueueSize = DefaultPublishQueueSize
	}
	switch {
	case r.StreamCount < 0:
		return r, errors.New("redisstreams: StreamCount must not be negative")
	case r.MaxLen < 0, r.ReadCount < 0, r.MaxMessageSize < 0, r.PublishQueueSize < 0:
		return r, errors.New("redisstreams: MaxLen, ReadCount, MaxMessageSize and PublishQueueSize must not be negative")
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&r.BlockTime, DefaultBlockTime, "BlockTime"},
		{&r.RequestsTimeout, DefaultRequestsTimeout, "RequestsTimeout"},
		{&r.HeartbeatInterval, DefaultHeartbeatInterval, "HeartbeatInterval"},
		{&r.HeartbeatTimeout, DefaultHeartbeatTimeout, "HeartbeatTimeout"},
	} {
		if err := def(d.v, d.def, d.name); err != nil {
			return r, err
		}
	}
	if r.Heartbeats && r.HeartbeatTimeout <= r.HeartbeatInterval {
		return r, errors.New("redisstreams: HeartbeatTimeout must exceed HeartbeatInterval")
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	return r, nil
}
