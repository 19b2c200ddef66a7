package redisstreams

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// offsetWait bounds the wait of a broadcast for its stream entry id (its
// offset for connection state recovery); past it the local sockets get the
// packet without an offset.
const offsetWait = 2 * time.Second

// New returns an adapter factory for socketio.Options.Adapter that speaks
// the protocol of @socket.io/redis-streams-adapter 0.3, so that Go and
// Node servers can share one cluster. client writes to Redis; the adapters
// of every namespace share one stream reader (on a connection of its own
// when client is a *redis.Client or *redis.ClusterClient) and one pub/sub
// subscription, which run while at least one adapter is open. Use one
// factory per server. The adapters do not close client.
func New(client redis.UniversalClient, opts *Options) (func(*socketio.Namespace) socketio.Adapter, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("redisstreams: nil client")
	}
	c := newCluster(client, &o)
	return func(nsp *socketio.Namespace) socketio.Adapter { return newAdapter(c, nsp) }, nil
}

// Adapter is the streams adapter of one namespace: rooms and local
// delivery are those of socketio.InMemoryAdapter, which it wraps; every
// operation that concerns the cluster goes through Redis. It is safe for
// concurrent use.
type Adapter struct {
	socketio.Adapter // local rooms and delivery
	mem              *socketio.InMemoryAdapter

	c        *cluster
	opts     *Options
	nsp      *socketio.Namespace
	uid      string
	stream   string
	recovery *socketio.RecoveryOptions

	publicChannel, privateChannel string

	// peer is socket.io-adapter's ClusterAdapter: the requests to the
	// other nodes and the answers to theirs.
	peer *clusterproto.Peer

	mu     sync.Mutex
	closed bool

	// Heartbeats mode.
	nodes        map[string]time.Time // uid -> last heard
	hbTimer      *time.Timer
	hung         atomic.Bool // tests: a node that stops sending and answering
	stopCleanup  chan struct{}
	cleanupDone  chan struct{}
	heartbeatsOn bool
}

func newAdapter(c *cluster, nsp *socketio.Namespace) *Adapter {
	mem := socketio.NewInMemoryAdapter(nsp).(*socketio.InMemoryAdapter)
	a := &Adapter{
		Adapter:  mem,
		mem:      mem,
		c:        c,
		opts:     c.opts,
		nsp:      nsp,
		uid:      clusterproto.RandomID(),
		stream:   streamName(nsp.Name(), c.opts),
		recovery: nsp.Server().ConnectionStateRecovery(),
	}
	a.publicChannel = c.opts.ChannelPrefix + "#" + nsp.Name() + "#"
	a.privateChannel = a.publicChannel + a.uid + "#"
	if c.opts.Heartbeats {
		a.heartbeatsOn = true
		a.nodes = make(map[string]time.Time)
		a.stopCleanup = make(chan struct{})
		a.cleanupDone = make(chan struct{})
	}
	a.peer = clusterproto.NewPeer(clusterproto.PeerConfig{
		Nsp: nsp, Local: mem, UID: a.uid,
		Prefix:          "redisstreams",
		Logger:          c.opts.Logger,
		RequestsTimeout: c.opts.RequestsTimeout,
		Publish:         a.publish,
		PublishResponse: a.publishResponse,
		Deliver:         mem.BroadcastWithOffset,
		Others:          a.others,
	})
	// Registered once every field is set: the stream reader may deliver a
	// message at once.
	c.register(a)
	if a.heartbeatsOn {
		go a.cleanupLoop()
		a.publish(clusterproto.MsgInitialHeartbeat, nil)
	}
	return a
}

// UID returns the id of this node in the cluster (16 hex digits, as with
// the Node adapter).
func (a *Adapter) UID() string { return a.uid }

// Healthy reports whether the stream is read, the subscription is up and
// Redis answers. While it is not, local delivery goes on and the adapter
// reconnects.
func (a *Adapter) Healthy() bool { return a.c.healthy.Load() }

// Dropped returns the number of messages that could not be written to
// Redis (by the adapters of every namespace of this factory).
func (a *Adapter) Dropped() uint64 { return a.c.dropped.Load() }

// publish sends a message to the other nodes: over pub/sub when it is
// ephemeral, else in the stream. With wait, it returns the stream entry id
// (or "" when it could not be written in time).
func (a *Adapter) publish(typ int, data msgpack.Map) {
	a.publishWait(typ, data, false)
}

func (a *Adapter) publishWait(typ int, data msgpack.Map, wait bool) string {
	if a.heartbeatsOn {
		a.scheduleHeartbeat()
	}
	var j *job
	if ephemeral(typ, data) {
		b, err := encodePubSub(a.uid, a.nsp.Name(), typ, data)
		if err != nil {
			a.opts.Logger.Debug("redisstreams: cannot encode", "err", err)
			return ""
		}
		j = &job{channel: a.publicChannel, payload: b}
		wait = false
	} else {
		values, err := encodeEntry(a.uid, a.nsp.Name(), typ, data)
		if err != nil {
			a.opts.Logger.Debug("redisstreams: cannot encode", "err", err)
			return ""
		}
		j = &job{stream: a.stream, values: values}
	}
	// No wait while Redis is known to be down: local delivery goes first.
	if wait && a.c.healthy.Load() {
		j.done = make(chan string, 1)
	}
	if !a.c.enqueue(j) || j.done == nil {
		return ""
	}
	t := time.NewTimer(offsetWait)
	defer t.Stop()
	select {
	case id := <-j.done:
		return id
	case <-t.C:
		return ""
	}
}

func (a *Adapter) publishResponse(requester string, typ int, data msgpack.Map) {
	b, err := encodePubSub(a.uid, a.nsp.Name(), typ, data)
	if err != nil {
		a.opts.Logger.Debug("redisstreams: cannot encode", "err", err)
		return
	}
	a.c.enqueue(&job{channel: a.opts.ChannelPrefix + "#" + a.nsp.Name() + "#" + requester + "#", payload: b})
}

// onMessage handles a message of another node, from the stream (with its
// entry id) or from pub/sub.
func (a *Adapter) onMessage(m message, offset string) {
	if m.uid == a.uid || m.nsp != a.nsp.Name() || a.hung.Load() {
		return
	}
	if a.heartbeatsOn && m.uid != "" && m.uid != clusterproto.EmitterUID {
		a.mu.Lock()
		a.nodes[m.uid] = time.Now()
		a.mu.Unlock()
	}
	switch m.typ {
	case clusterproto.MsgInitialHeartbeat:
		if a.heartbeatsOn {
			a.publish(clusterproto.MsgHeartbeat, nil)
		}
	case clusterproto.MsgAdapterClose:
		if a.heartbeatsOn {
			a.removeNode(m.uid)
		}
	default:
		a.peer.Handle(m.uid, m.typ, m.data, offset)
	}
}

// others tells the Peer who must answer a request: the nodes heard from
// lately in Heartbeats mode, else as many as ServerCount counts.
func (a *Adapter) others(ctx context.Context) (int, map[string]struct{}, error) {
	if a.heartbeatsOn {
		a.mu.Lock()
		defer a.mu.Unlock()
		missing := make(map[string]struct{}, len(a.nodes))
		for uid := range a.nodes {
			missing[uid] = struct{}{}
		}
		return 0, missing, nil
	}
	n, err := a.ServerCount(ctx)
	return n - 1, nil, err
}

// Broadcast implements socketio.Adapter: the packet goes into the stream
// and to the local sockets. With connection state recovery on, the local
// sockets get it with its entry id as offset, as in Node: the broadcast
// then waits (2 s at most) for Redis.
func (a *Adapter) Broadcast(p *parser.Packet, opts socketio.BroadcastOptions) error {
	offset := ""
	if !opts.Flags.Local {
		pm, err := clusterproto.EncodePacket(p)
		if err != nil {
			return err
		}
		wait := a.recovery != nil && p.Type == parser.Event && !p.HasID && !opts.Flags.Volatile
		offset = a.publishWait(clusterproto.MsgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "opts", Value: clusterproto.EncodeOptions(opts, true)},
		}, wait)
	}
	return a.mem.BroadcastWithOffset(p, opts, offset)
}

// BroadcastWithAck implements socketio.Adapter (over pub/sub).
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts socketio.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) error {
	return a.peer.BroadcastWithAck(p, opts, clientCount, ack)
}

// ServerCount implements socketio.Adapter: the subscribers of the
// namespace's channel (PUBSUB NUMSUB, or SHARDNUMSUB), or, with
// Options.Heartbeats, 1 + the nodes heard from lately.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.heartbeatsOn {
		a.mu.Lock()
		defer a.mu.Unlock()
		return 1 + len(a.nodes), nil
	}
	n, err := clusterproto.NumSub(ctx, a.c.client, a.publicChannel, a.opts.UseShardedPubSub)
	if err != nil {
		return n, fmt.Errorf("redisstreams: %w", err)
	}
	return n, nil
}

// FetchSockets implements socketio.Adapter. It fails, with the sockets
// gathered so far, when a node does not answer in time (the Timeout flag,
// else Options.RequestsTimeout).
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	return a.peer.FetchSockets(ctx, opts)
}

// AddSockets implements socketio.Adapter.
func (a *Adapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.peer.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *Adapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.peer.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *Adapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	a.peer.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit implements socketio.Adapter.
func (a *Adapter) ServerSideEmit(event string, args []any) error {
	return a.peer.ServerSideEmit(event, args)
}

// ServerSideEmitWithAck implements socketio.Adapter: each other node
// answers once, with one argument. On a timeout it returns the answers so
// far with an error wrapping socketio.ErrTimeout.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	return a.peer.ServerSideEmitWithAck(ctx, event, args)
}

// OnServerSideEmit implements socketio.Adapter. The handler runs on a
// goroutine of its own for each event.
func (a *Adapter) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	a.peer.OnServerSideEmit(fn)
}

// Close implements socketio.Adapter: in Heartbeats mode it tells the other
// nodes this one is gone; the last adapter of the factory stops the shared
// reader and subscription (the client stays open).
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	if a.hbTimer != nil {
		a.hbTimer.Stop()
	}
	a.mu.Unlock()
	if a.heartbeatsOn {
		close(a.stopCleanup)
		<-a.cleanupDone
		a.publish(clusterproto.MsgAdapterClose, nil)
	}
	a.peer.Close()
	a.c.unregister(a)
	return a.mem.Close()
}
