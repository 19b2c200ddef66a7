package redisstreams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// ackCleanup is how long the answers to a broadcast with acknowledgements
// are awaited when it has no Timeout flag.
const ackCleanup = time.Minute

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

	mu          sync.Mutex
	requests    map[string]*request
	ackRequests map[string]*ackRequest
	sse         func(event string, args socketio.Args, ack func(args ...any))
	closed      bool

	// Heartbeats mode.
	nodes        map[string]time.Time // uid -> last heard
	hbTimer      *time.Timer
	hung         atomic.Bool // tests: a node that stops sending and answering
	stopCleanup  chan struct{}
	cleanupDone  chan struct{}
	heartbeatsOn bool
}

type request struct {
	typ       int
	expected  int
	current   int
	missing   map[string]struct{} // Heartbeats mode: the nodes yet to answer
	sockets   []*socketio.RemoteSocket
	responses []socketio.Args
	done      chan struct{}
}

type ackRequest struct {
	clientCount func(int)
	ack         func(socketio.Args)
	timer       *time.Timer
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newAdapter(c *cluster, nsp *socketio.Namespace) *Adapter {
	mem := socketio.NewInMemoryAdapter(nsp).(*socketio.InMemoryAdapter)
	a := &Adapter{
		Adapter:     mem,
		mem:         mem,
		c:           c,
		opts:        c.opts,
		nsp:         nsp,
		uid:         randomID(),
		stream:      streamName(nsp.Name(), c.opts),
		recovery:    nsp.Server().ConnectionStateRecovery(),
		requests:    make(map[string]*request),
		ackRequests: make(map[string]*ackRequest),
	}
	a.publicChannel = c.opts.ChannelPrefix + "#" + nsp.Name() + "#"
	a.privateChannel = a.publicChannel + a.uid + "#"
	if c.opts.Heartbeats {
		a.heartbeatsOn = true
		a.nodes = make(map[string]time.Time)
		a.stopCleanup = make(chan struct{})
		a.cleanupDone = make(chan struct{})
	}
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
	data := m.data
	switch m.typ {
	case clusterproto.MsgInitialHeartbeat:
		if a.heartbeatsOn {
			a.publish(clusterproto.MsgHeartbeat, nil)
		}
	case clusterproto.MsgAdapterClose:
		if a.heartbeatsOn {
			a.removeNode(m.uid)
		}
	case clusterproto.MsgBroadcast:
		pv, _ := data.Get("packet")
		p, err := clusterproto.DecodePacket(pv, a.nsp.Name())
		if err != nil {
			a.opts.Logger.Debug("redisstreams: ignored broadcast", "err", err)
			return
		}
		o, _ := data.Get("opts")
		opts := clusterproto.DecodeOptions(o)
		requestID, withAck := clusterproto.GetString(data, "requestId")
		if !withAck {
			_ = a.mem.BroadcastWithOffset(p, opts, offset)
			return
		}
		from := m.uid
		p.ID, p.HasID = a.nsp.NextAckID(), true
		_ = a.mem.BroadcastWithAck(p, opts, func(n int) {
			a.publishResponse(from, clusterproto.MsgBroadcastClientCount, msgpack.Map{
				{Key: "requestId", Value: requestID},
				{Key: "clientCount", Value: int64(n)},
			})
		}, func(args socketio.Args) {
			a.publishResponse(from, clusterproto.MsgBroadcastAck, msgpack.Map{
				{Key: "requestId", Value: requestID},
				{Key: "packet", Value: clusterproto.FirstArg(args)},
			})
		})
	case clusterproto.MsgSocketsJoin, clusterproto.MsgSocketsLeave:
		o, _ := data.Get("opts")
		rooms, _ := data.Get("rooms")
		if m.typ == clusterproto.MsgSocketsJoin {
			a.mem.AddSockets(clusterproto.DecodeOptions(o), clusterproto.RoomList(rooms))
		} else {
			a.mem.DelSockets(clusterproto.DecodeOptions(o), clusterproto.RoomList(rooms))
		}
	case clusterproto.MsgDisconnectSockets:
		o, _ := data.Get("opts")
		closeConn, _ := data.Get("close")
		a.mem.DisconnectSockets(clusterproto.DecodeOptions(o), closeConn == true)
	case clusterproto.MsgFetchSockets:
		requestID, ok := clusterproto.GetString(data, "requestId")
		if !ok {
			return
		}
		o, _ := data.Get("opts")
		opts := clusterproto.DecodeOptions(o)
		opts.Flags.Local = true
		local, _ := a.mem.FetchSockets(context.Background(), opts)
		list := make([]any, len(local))
		for i, s := range local {
			list[i] = clusterproto.EncodeRemoteSocket(s)
		}
		a.publishResponse(m.uid, clusterproto.MsgFetchSocketsResponse, msgpack.Map{
			{Key: "requestId", Value: requestID},
			{Key: "sockets", Value: list},
		})
	case clusterproto.MsgServerSideEmit:
		a.onServerSideEmit(m.uid, data)
	case clusterproto.MsgBroadcastClientCount, clusterproto.MsgBroadcastAck,
		clusterproto.MsgFetchSocketsResponse, clusterproto.MsgServerSideEmitResponse:
		a.onResponse(m.uid, m.typ, data)
	}
}

func (a *Adapter) onServerSideEmit(from string, data msgpack.Map) {
	packet, ok := clusterproto.GetArray(data, "packet")
	if !ok || len(packet) == 0 {
		return
	}
	event, ok := packet[0].(string)
	if !ok {
		return
	}
	args, err := clusterproto.ArgsOf(packet[1:])
	if err != nil {
		return
	}
	a.mu.Lock()
	fn := a.sse
	a.mu.Unlock()
	if fn == nil {
		return
	}
	var ack func(...any)
	if requestID, ok := clusterproto.GetString(data, "requestId"); ok {
		var once sync.Once
		ack = func(args ...any) {
			once.Do(func() {
				var arg any
				if list, err := clusterproto.ValuesOf(args); err == nil && len(list) > 0 {
					arg = list[0] // one argument, as in socket.io
				}
				a.publishResponse(from, clusterproto.MsgServerSideEmitResponse, msgpack.Map{
					{Key: "requestId", Value: requestID},
					{Key: "packet", Value: arg},
				})
			})
		}
	}
	// Not on the reading goroutine: the handler may itself wait for the cluster.
	go fn(event, args, ack)
}

func (a *Adapter) onResponse(from string, typ int64, data msgpack.Map) {
	requestID, ok := clusterproto.GetString(data, "requestId")
	if !ok {
		return
	}
	a.mu.Lock()
	switch typ {
	case clusterproto.MsgBroadcastClientCount, clusterproto.MsgBroadcastAck:
		ar := a.ackRequests[requestID]
		a.mu.Unlock()
		if ar == nil {
			return
		}
		if typ == clusterproto.MsgBroadcastClientCount {
			if n, ok := clusterproto.GetInt(data, "clientCount"); ok && n >= 0 {
				ar.clientCount(int(n))
			}
			return
		}
		pv, _ := data.Get("packet")
		if args, err := clusterproto.ArgsOf([]any{pv}); err == nil {
			ar.ack(args)
		}
		return
	}
	defer a.mu.Unlock()
	req := a.requests[requestID]
	if req == nil {
		return
	}
	if req.missing != nil {
		if _, ok := req.missing[from]; !ok {
			return // not awaited, or already answered
		}
	}
	switch {
	case typ == clusterproto.MsgFetchSocketsResponse && req.typ == clusterproto.MsgFetchSockets:
		list, _ := clusterproto.GetArray(data, "sockets")
		for _, sv := range list {
			if s := clusterproto.DecodeRemoteSocket(a.nsp, sv); s != nil {
				req.sockets = append(req.sockets, s)
			}
		}
	case typ == clusterproto.MsgServerSideEmitResponse && req.typ == clusterproto.MsgServerSideEmit:
		pv, _ := data.Get("packet")
		if args, err := clusterproto.ArgsOf([]any{pv}); err == nil {
			req.responses = append(req.responses, args)
		}
	default:
		return
	}
	req.current++
	if req.missing != nil {
		delete(req.missing, from)
	}
	a.completeLocked(requestID, req)
}

// completeLocked ends a request that has every answer it waits for.
func (a *Adapter) completeLocked(requestID string, req *request) {
	if (req.missing != nil && len(req.missing) == 0) || (req.missing == nil && req.current >= req.expected) {
		delete(a.requests, requestID)
		close(req.done)
	}
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
	if !opts.Flags.Local {
		pm, err := clusterproto.EncodePacket(p)
		if err != nil {
			return err
		}
		requestID := randomID()
		wait := opts.Flags.Timeout
		if wait <= 0 {
			wait = ackCleanup
		}
		ar := &ackRequest{clientCount: clientCount, ack: ack}
		a.mu.Lock()
		a.ackRequests[requestID] = ar
		ar.timer = time.AfterFunc(wait, func() {
			a.mu.Lock()
			delete(a.ackRequests, requestID)
			a.mu.Unlock()
		})
		a.mu.Unlock()
		a.publish(clusterproto.MsgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "requestId", Value: requestID},
			{Key: "opts", Value: clusterproto.EncodeOptions(opts, true)},
		})
	}
	return a.mem.BroadcastWithAck(p, opts, clientCount, ack)
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

// newRequest prepares a request to the other nodes, or returns nil when
// there is none.
func (a *Adapter) newRequest(ctx context.Context, typ int) (*request, error) {
	req := &request{typ: typ, done: make(chan struct{})}
	if a.heartbeatsOn {
		a.mu.Lock()
		req.missing = make(map[string]struct{}, len(a.nodes))
		for uid := range a.nodes {
			req.missing[uid] = struct{}{}
		}
		a.mu.Unlock()
		if len(req.missing) == 0 {
			return nil, nil
		}
		return req, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return nil, nil
	}
	req.expected = n - 1
	return req, nil
}

// await publishes a request and waits for its answers; on a timeout the
// request's fields hold what came.
func (a *Adapter) await(ctx context.Context, requestID string, req *request, timeout time.Duration, typ int, data msgpack.Map) error {
	a.mu.Lock()
	a.requests[requestID] = req
	a.mu.Unlock()
	a.publish(typ, data)
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-req.done:
		return nil
	case <-t.C:
		err = socketio.ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-req.done:
		return nil
	default:
	}
	delete(a.requests, requestID)
	// Copy what came, as late answers must not race with the caller.
	req.sockets = append([]*socketio.RemoteSocket(nil), req.sockets...)
	req.responses = append([]socketio.Args(nil), req.responses...)
	return err
}

// FetchSockets implements socketio.Adapter. It fails, with the sockets
// gathered so far, when a node does not answer in time (the Timeout flag,
// else Options.RequestsTimeout).
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := a.mem.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	req, err := a.newRequest(ctx, clusterproto.MsgFetchSockets)
	if err != nil || req == nil {
		return local, err
	}
	req.sockets = local
	timeout := a.opts.RequestsTimeout
	if opts.Flags.Timeout > 0 {
		timeout = opts.Flags.Timeout
	}
	requestID := randomID()
	if err := a.await(ctx, requestID, req, timeout, clusterproto.MsgFetchSockets, msgpack.Map{
		{Key: "opts", Value: clusterproto.EncodeOptions(opts, true)},
		{Key: "requestId", Value: requestID},
	}); err != nil {
		return req.sockets, fmt.Errorf("redisstreams: fetchSockets: %w", err)
	}
	return req.sockets, nil
}

func (a *Adapter) cluster(typ int, opts socketio.BroadcastOptions, extra msgpack.KV) {
	a.publish(typ, msgpack.Map{{Key: "opts", Value: clusterproto.EncodeOptions(opts, true)}, extra})
}

// AddSockets implements socketio.Adapter.
func (a *Adapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(clusterproto.MsgSocketsJoin, opts, msgpack.KV{Key: "rooms", Value: clusterproto.StringList(rooms)})
	}
	a.mem.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *Adapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(clusterproto.MsgSocketsLeave, opts, msgpack.KV{Key: "rooms", Value: clusterproto.StringList(rooms)})
	}
	a.mem.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *Adapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	if !opts.Flags.Local {
		a.cluster(clusterproto.MsgDisconnectSockets, opts, msgpack.KV{Key: "close", Value: closeConn})
	}
	a.mem.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit implements socketio.Adapter.
func (a *Adapter) ServerSideEmit(event string, args []any) error {
	packet, err := clusterproto.ValuesOf(append([]any{event}, args...))
	if err != nil {
		return err
	}
	a.publish(clusterproto.MsgServerSideEmit, msgpack.Map{{Key: "packet", Value: packet}})
	return nil
}

// ServerSideEmitWithAck implements socketio.Adapter: each other node
// answers once, with one argument. On a timeout it returns the answers so
// far with an error wrapping socketio.ErrTimeout.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	packet, err := clusterproto.ValuesOf(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	req, err := a.newRequest(ctx, clusterproto.MsgServerSideEmit)
	if err != nil || req == nil {
		return nil, err
	}
	requestID := randomID()
	if err := a.await(ctx, requestID, req, a.opts.RequestsTimeout, clusterproto.MsgServerSideEmit, msgpack.Map{
		{Key: "requestId", Value: requestID},
		{Key: "packet", Value: packet},
	}); err != nil {
		return req.responses, fmt.Errorf("redisstreams: serverSideEmit: %w (%d responses)", err, len(req.responses))
	}
	return req.responses, nil
}

// OnServerSideEmit implements socketio.Adapter. The handler runs on a
// goroutine of its own for each event.
func (a *Adapter) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	a.mu.Lock()
	a.sse = fn
	a.mu.Unlock()
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
	for id, ar := range a.ackRequests {
		ar.timer.Stop()
		delete(a.ackRequests, id)
	}
	if a.hbTimer != nil {
		a.hbTimer.Stop()
	}
	a.mu.Unlock()
	if a.heartbeatsOn {
		close(a.stopCleanup)
		<-a.cleanupDone
		a.publish(clusterproto.MsgAdapterClose, nil)
	}
	a.c.unregister(a)
	return a.mem.Close()
}
