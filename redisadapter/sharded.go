package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// Message types of socket.io-adapter's ClusterAdapter (sharded mode and
// the streams adapter).
const (
	msgBroadcast              = clusterproto.MsgBroadcast
	msgSocketsJoin            = clusterproto.MsgSocketsJoin
	msgSocketsLeave           = clusterproto.MsgSocketsLeave
	msgDisconnectSockets      = clusterproto.MsgDisconnectSockets
	msgFetchSockets           = clusterproto.MsgFetchSockets
	msgFetchSocketsResponse   = clusterproto.MsgFetchSocketsResponse
	msgServerSideEmit         = clusterproto.MsgServerSideEmit
	msgServerSideEmitResponse = clusterproto.MsgServerSideEmitResponse
	msgBroadcastClientCount   = clusterproto.MsgBroadcastClientCount
	msgBroadcastAck           = clusterproto.MsgBroadcastAck
)

// NewSharded returns an adapter factory that speaks the sharded mode of
// @socket.io/redis-adapter (createShardedAdapter, Redis 7's SPUBLISH and
// SSUBSCRIBE) with its default "dynamic" subscription mode: messages
// {uid, nsp, type, data} on "<key>#<nsp>#", a broadcast to one public room
// on "<key>#<nsp>#<room>#", answers on "<key>#<nsp>#<uid>#"; the server
// count is PUBSUB SHARDNUMSUB. Options.Key is the Node adapter's
// channelPrefix.
func NewSharded(client redis.UniversalClient, opts *Options) (func(*socketio.Namespace) socketio.Adapter, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("redisadapter: nil client")
	}
	return func(nsp *socketio.Namespace) socketio.Adapter { return newShardedAdapter(client, nsp, &o) }, nil
}

// ShardedAdapter is the sharded-mode adapter of one namespace. It is safe
// for concurrent use.
type ShardedAdapter struct {
	socketio.Adapter // local rooms and delivery

	nsp    *socketio.Namespace
	client redis.UniversalClient
	opts   *Options
	uid    string
	link   *link

	channel, responseChannel string

	mu          sync.Mutex
	requests    map[string]*request
	ackRequests map[string]*ackRequest
	sse         func(event string, args socketio.Args, ack func(args ...any))
	roomMu      sync.Mutex // orders room subscriptions
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newShardedAdapter(client redis.UniversalClient, nsp *socketio.Namespace, o *Options) *ShardedAdapter {
	a := &ShardedAdapter{
		Adapter:     socketio.NewInMemoryAdapter(nsp),
		nsp:         nsp,
		client:      client,
		opts:        o,
		uid:         randomID(),
		requests:    make(map[string]*request),
		ackRequests: make(map[string]*ackRequest),
	}
	a.channel = o.Key + "#" + nsp.Name() + "#"
	a.responseChannel = a.channel + a.uid + "#"
	a.link = newLink(client, true, nsp.Name(), o, a.onRedisMessage)
	a.link.subscribe(false, a.channel, a.responseChannel)
	a.link.start()
	return a
}

// UID returns the id of this node in the cluster.
func (a *ShardedAdapter) UID() string { return a.uid }

// Healthy reports whether the adapter is subscribed and Redis answers.
func (a *ShardedAdapter) Healthy() bool { return a.link.healthy.Load() }

// Dropped returns the number of messages that could not be published.
func (a *ShardedAdapter) Dropped() uint64 { return a.link.dropped.Load() }

func (a *ShardedAdapter) dynamicChannel(room string) string { return a.channel + room + "#" }

// isPublic tells a room shared by sockets from a socket's own room.
func (a *ShardedAdapter) isPublic(room string) bool { return a.nsp.Socket(room) == nil }

// AddAll implements socketio.Adapter; a public room's first socket
// subscribes this node to the room's channel.
func (a *ShardedAdapter) AddAll(id string, rooms []string) {
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	var created []string
	for _, r := range rooms {
		if r != id && a.isPublic(r) && len(a.Adapter.Sockets([]string{r})) == 0 {
			created = append(created, a.dynamicChannel(r))
		}
	}
	a.Adapter.AddAll(id, rooms)
	if len(created) > 0 {
		a.link.subscribe(false, created...)
	}
}

// Del implements socketio.Adapter.
func (a *ShardedAdapter) Del(id, room string) {
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	a.Adapter.Del(id, room)
	a.unsubscribeEmpty(id, []string{room})
}

// DelAll implements socketio.Adapter.
func (a *ShardedAdapter) DelAll(id string) {
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	rooms := a.Adapter.SocketRooms(id)
	a.Adapter.DelAll(id)
	a.unsubscribeEmpty(id, rooms)
}

func (a *ShardedAdapter) unsubscribeEmpty(id string, rooms []string) {
	var gone []string
	for _, r := range rooms {
		if r != id && a.isPublic(r) && len(a.Adapter.Sockets([]string{r})) == 0 {
			gone = append(gone, a.dynamicChannel(r))
		}
	}
	if len(gone) > 0 {
		a.link.unsubscribe(gone...)
	}
}

func (a *ShardedAdapter) onRedisMessage(m *redis.Message) {
	v, err := decodeMessage([]byte(m.Payload), a.opts.MaxMessageSize)
	if err != nil {
		a.opts.Logger.Debug("redisadapter: malformed message", "err", err)
		return
	}
	msg, ok := v.(msgpack.Map)
	if !ok {
		return
	}
	from, _ := getString(msg, "uid")
	if from == a.uid {
		return
	}
	if nsp, _ := getString(msg, "nsp"); nsp != a.nsp.Name() {
		return
	}
	typ, _ := getInt(msg, "type")
	data, _ := getMap(msg, "data")
	switch typ {
	case msgBroadcast:
		pv, _ := data.Get("packet")
		p, err := decodePacket(pv, a.nsp.Name())
		if err != nil {
			return
		}
		o, _ := data.Get("opts")
		opts := decodeOptions(o)
		requestID, withAck := getString(data, "requestId")
		if !withAck {
			_ = a.Adapter.Broadcast(p, opts)
			return
		}
		p.ID, p.HasID = a.nsp.NextAckID(), true
		_ = a.Adapter.BroadcastWithAck(p, opts, func(n int) {
			a.publishResponse(from, msgBroadcastClientCount, msgpack.Map{
				{Key: "requestId", Value: requestID},
				{Key: "clientCount", Value: int64(n)},
			})
		}, func(args socketio.Args) {
			a.publishResponse(from, msgBroadcastAck, msgpack.Map{
				{Key: "requestId", Value: requestID},
				{Key: "packet", Value: firstArg(args)},
			})
		})
	case msgSocketsJoin, msgSocketsLeave:
		o, _ := data.Get("opts")
		rooms, _ := data.Get("rooms")
		if typ == msgSocketsJoin {
			a.Adapter.AddSockets(decodeOptions(o), roomList(rooms))
		} else {
			a.Adapter.DelSockets(decodeOptions(o), roomList(rooms))
		}
	case msgDisconnectSockets:
		o, _ := data.Get("opts")
		c, _ := data.Get("close")
		a.Adapter.DisconnectSockets(decodeOptions(o), c == true)
	case msgFetchSockets:
		requestID, ok := getString(data, "requestId")
		if !ok {
			return
		}
		o, _ := data.Get("opts")
		opts := decodeOptions(o)
		opts.Flags.Local = true
		local, _ := a.Adapter.FetchSockets(context.Background(), opts)
		list := make([]any, len(local))
		for i, s := range local {
			list[i] = encodeRemoteSocket(s)
		}
		a.publishResponse(from, msgFetchSocketsResponse, msgpack.Map{
			{Key: "requestId", Value: requestID},
			{Key: "sockets", Value: list},
		})
	case msgServerSideEmit:
		packet, ok := getArray(data, "packet")
		if !ok || len(packet) == 0 {
			return
		}
		event, ok := packet[0].(string)
		if !ok {
			return
		}
		args, err := argsOf(packet[1:])
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
		if requestID, ok := getString(data, "requestId"); ok {
			var once sync.Once
			ack = func(args ...any) {
				once.Do(func() {
					var arg any
					if list, err := valuesOf(args); err == nil && len(list) > 0 {
						arg = list[0]
					}
					a.publishResponse(from, msgServerSideEmitResponse, msgpack.Map{
						{Key: "requestId", Value: requestID},
						{Key: "packet", Value: arg},
					})
				})
			}
		}
		go fn(event, args, ack)
	case msgBroadcastClientCount, msgBroadcastAck, msgFetchSocketsResponse, msgServerSideEmitResponse:
		a.onResponse(typ, data)
	}
}

func (a *ShardedAdapter) onResponse(typ int64, data msgpack.Map) {
	requestID, ok := getString(data, "requestId")
	if !ok {
		return
	}
	a.mu.Lock()
	switch typ {
	case msgBroadcastClientCount, msgBroadcastAck:
		ar := a.ackRequests[requestID]
		a.mu.Unlock()
		if ar == nil {
			return
		}
		if typ == msgBroadcastClientCount {
			if n, ok := getInt(data, "clientCount"); ok && n >= 0 {
				ar.clientCount(int(n))
			}
			return
		}
		pv, _ := data.Get("packet")
		if args, err := argsOf([]any{pv}); err == nil {
			ar.ack(args)
		}
		return
	}
	defer a.mu.Unlock()
	req := a.requests[requestID]
	if req == nil {
		return
	}
	req.msgCount++
	switch {
	case typ == msgFetchSocketsResponse && req.typ == msgFetchSockets:
		list, _ := getArray(data, "sockets")
		for _, sv := range list {
			if s := decodeRemoteSocket(a.nsp, sv); s != nil {
				req.sockets = append(req.sockets, s)
			}
		}
	case typ == msgServerSideEmitResponse && req.typ == msgServerSideEmit:
		pv, _ := data.Get("packet")
		if args, err := argsOf([]any{pv}); err == nil {
			req.responses = append(req.responses, args)
		}
	default:
		req.msgCount--
		return
	}
	if req.msgCount >= req.numSub {
		delete(a.requests, requestID)
		close(req.done)
	}
}

// encode writes a message as the Node adapter does: JSON, or msgpack when
// a type that may carry binary does.
func (a *ShardedAdapter) encode(typ int, data msgpack.Map) ([]byte, error) {
	m := msgpack.Map{
		{Key: "uid", Value: a.uid},
		{Key: "nsp", Value: a.nsp.Name()},
		{Key: "type", Value: int64(typ)},
	}
	if data != nil {
		m = append(m, msgpack.KV{Key: "data", Value: data})
	}
	return encodeMessage(m, false)
}

func (a *ShardedAdapter) publish(channel string, typ int, data msgpack.Map) {
	b, err := a.encode(typ, data)
	if err != nil {
		a.opts.Logger.Debug("redisadapter: cannot encode", "err", err)
		return
	}
	a.link.publish(channel, b)
}

func (a *ShardedAdapter) publishResponse(requester string, typ int, data msgpack.Map) {
	a.publish(a.channel+requester+"#", typ, data)
}

// Broadcast implements socketio.Adapter.
func (a *ShardedAdapter) Broadcast(p *parser.Packet, opts socketio.BroadcastOptions) error {
	if !opts.Flags.Local {
		pm, err := encodePacket(p)
		if err != nil {
			return err
		}
		channel := a.channel
		// A single room that does not look like a socket id has a channel
		// of its own (the "dynamic" subscription mode).
		if rooms := dedup(opts.Rooms); len(rooms) == 1 && len(rooms[0]) != 20 {
			channel = a.dynamicChannel(rooms[0])
		}
		a.publish(channel, msgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "opts", Value: encodeOptions(opts, true)},
		})
	}
	return a.Adapter.Broadcast(p, opts)
}

// BroadcastWithAck implements socketio.Adapter.
func (a *ShardedAdapter) BroadcastWithAck(p *parser.Packet, opts socketio.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) error {
	if !opts.Flags.Local {
		pm, err := encodePacket(p)
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
		a.publish(a.channel, msgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "requestId", Value: requestID},
			{Key: "opts", Value: encodeOptions(opts, true)},
		})
	}
	return a.Adapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// ServerCount implements socketio.Adapter (PUBSUB SHARDNUMSUB).
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return numSub(ctx, a.client, a.channel, true)
}

func (a *ShardedAdapter) await(ctx context.Context, requestID string, req *request, typ int, data msgpack.Map) error {
	a.mu.Lock()
	a.requests[requestID] = req
	a.mu.Unlock()
	a.publish(a.channel, typ, data)
	t := time.NewTimer(a.opts.RequestsTimeout)
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
	req.sockets = append([]*socketio.RemoteSocket(nil), req.sockets...)
	req.responses = append([]socketio.Args(nil), req.responses...)
	return err
}

// FetchSockets implements socketio.Adapter.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := a.Adapter.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, err
	}
	if n <= 1 {
		return local, nil
	}
	requestID := randomID()
	req := &request{typ: msgFetchSockets, numSub: n - 1, sockets: local, done: make(chan struct{})}
	if err := a.await(ctx, requestID, req, msgFetchSockets, msgpack.Map{
		{Key: "opts", Value: encodeOptions(opts, true)},
		{Key: "requestId", Value: requestID},
	}); err != nil {
		return req.sockets, fmt.Errorf("redisadapter: fetchSockets: %w", err)
	}
	return req.sockets, nil
}

func (a *ShardedAdapter) cluster(typ int, opts socketio.BroadcastOptions, extra msgpack.KV) {
	a.publish(a.channel, typ, msgpack.Map{{Key: "opts", Value: encodeOptions(opts, true)}, extra})
}

// AddSockets implements socketio.Adapter.
func (a *ShardedAdapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(msgSocketsJoin, opts, msgpack.KV{Key: "rooms", Value: stringList(rooms)})
	}
	a.Adapter.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *ShardedAdapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(msgSocketsLeave, opts, msgpack.KV{Key: "rooms", Value: stringList(rooms)})
	}
	a.Adapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *ShardedAdapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	if !opts.Flags.Local {
		a.cluster(msgDisconnectSockets, opts, msgpack.KV{Key: "close", Value: closeConn})
	}
	a.Adapter.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit implements socketio.Adapter.
func (a *ShardedAdapter) ServerSideEmit(event string, args []any) error {
	packet, err := valuesOf(append([]any{event}, args...))
	if err != nil {
		return err
	}
	a.publish(a.channel, msgServerSideEmit, msgpack.Map{{Key: "packet", Value: packet}})
	return nil
}

// ServerSideEmitWithAck implements socketio.Adapter.
func (a *ShardedAdapter) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	packet, err := valuesOf(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return nil, nil
	}
	requestID := randomID()
	req := &request{typ: msgServerSideEmit, numSub: n - 1, done: make(chan struct{})}
	if err := a.await(ctx, requestID, req, msgServerSideEmit, msgpack.Map{
		{Key: "requestId", Value: requestID},
		{Key: "packet", Value: packet},
	}); err != nil {
		return req.responses, fmt.Errorf("redisadapter: serverSideEmit: %w (%d responses of %d)", err, len(req.responses), req.numSub)
	}
	return req.responses, nil
}

// OnServerSideEmit implements socketio.Adapter.
func (a *ShardedAdapter) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	a.mu.Lock()
	a.sse = fn
	a.mu.Unlock()
}

// Close implements socketio.Adapter.
func (a *ShardedAdapter) Close() error {
	a.link.close()
	a.mu.Lock()
	for id, ar := range a.ackRequests {
		ar.timer.Stop()
		delete(a.ackRequests, id)
	}
	a.mu.Unlock()
	return a.Adapter.Close()
}
