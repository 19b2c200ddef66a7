package redisadapter

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// Request types of @socket.io/redis-adapter (classic mode).
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
)

// New returns an adapter factory for socketio.Options.Adapter that speaks
// the classic protocol of @socket.io/redis-adapter (Redis pub/sub), so that
// Go and Node servers can share one cluster. client publishes and answers
// PUBSUB NUMSUB; each namespace's adapter opens one subscription of its own
// through it. The adapters do not close client.
func New(client redis.UniversalClient, opts *Options) (func(*socketio.Namespace) socketio.Adapter, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("redisadapter: nil client")
	}
	return func(nsp *socketio.Namespace) socketio.Adapter { return newAdapter(client, nsp, &o) }, nil
}

// Adapter is the classic Redis adapter of one namespace: rooms and local
// delivery are those of socketio.InMemoryAdapter, which it wraps; every
// operation that concerns the cluster goes through Redis. It is safe for
// concurrent use.
type Adapter struct {
	socketio.Adapter // local rooms and delivery

	nsp    *socketio.Namespace
	client redis.UniversalClient
	opts   *Options
	uid    string
	link   *link

	channel, requestChannel, responseChannel, specificResponseChannel string

	// pending: this node's requests and broadcasts with acknowledgements,
	// awaiting the other nodes' answers.
	pending clusterproto.Pending

	mu  sync.Mutex
	sse func(event string, args socketio.Args, ack func(args ...any))
}

func newAdapter(client redis.UniversalClient, nsp *socketio.Namespace, o *Options) *Adapter {
	a := &Adapter{
		Adapter: socketio.NewInMemoryAdapter(nsp),
		nsp:     nsp,
		client:  client,
		opts:    o,
		uid:     uid(6),
	}
	name := nsp.Name()
	a.channel = o.Key + "#" + name + "#"
	a.requestChannel = o.Key + "-request#" + name + "#"
	a.responseChannel = o.Key + "-response#" + name + "#"
	a.specificResponseChannel = a.responseChannel + a.uid + "#"
	a.link = newLink(client, false, name, o, a.onRedisMessage)
	a.link.subscribe(true, a.channel+"*")
	a.link.subscribe(false, a.requestChannel, a.responseChannel, a.specificResponseChannel)
	a.link.start()
	return a
}

// UID returns the id of this node in the cluster (6 characters, as with
// the Node adapter).
func (a *Adapter) UID() string { return a.uid }

// Healthy reports whether the adapter is subscribed and Redis answers.
// While it is not, local delivery goes on and the adapter reconnects.
func (a *Adapter) Healthy() bool { return a.link.healthy.Load() }

// Dropped returns the number of messages that could not be published.
func (a *Adapter) Dropped() uint64 { return a.link.dropped.Load() }

func (a *Adapter) onRedisMessage(m *redis.Message) {
	payload := []byte(m.Payload)
	switch {
	case m.Pattern != "" || (strings.HasPrefix(m.Channel, a.channel) && m.Channel != a.requestChannel):
		a.onBroadcast(m.Channel, payload)
	case strings.HasPrefix(m.Channel, a.responseChannel):
		a.onResponse(payload)
	case m.Channel == a.requestChannel:
		a.onRequest(payload)
	}
}

// onBroadcast handles [uid, packet, opts] from another node.
func (a *Adapter) onBroadcast(channel string, payload []byte) {
	if !strings.HasPrefix(channel, a.channel) {
		return
	}
	if room := strings.TrimSuffix(channel[len(a.channel):], "#"); room != "" {
		if len(a.Adapter.Sockets([]string{room})) == 0 {
			return // no local socket in that room
		}
	}
	v, err := decodeMessage(payload, a.opts.MaxMessageSize)
	if err != nil {
		a.opts.Logger.Debug("redisadapter: malformed broadcast", "err", err)
		return
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return
	}
	if from, _ := arr[0].(string); from == a.uid {
		return
	}
	p, err := decodePacket(arr[1], a.nsp.Name())
	if err != nil {
		a.opts.Logger.Debug("redisadapter: ignored broadcast", "err", err)
		return
	}
	opts := decodeOptions(arr[2])
	_ = a.Adapter.Broadcast(p, opts)
}

func (a *Adapter) onRequest(payload []byte) {
	v, err := decodeMessage(payload, a.opts.MaxMessageSize)
	if err != nil {
		a.opts.Logger.Debug("redisadapter: malformed request", "err", err)
		return
	}
	req, ok := v.(msgpack.Map)
	if !ok {
		return
	}
	typ, ok := getInt(req, "type")
	if !ok {
		return
	}
	from, _ := getString(req, "uid")
	requestID, _ := getString(req, "requestId")
	mine := from == a.uid
	switch typ {
	case reqSockets, reqRemoteFetch, reqAllRooms:
		if mine || a.pending.Has(requestID) || requestID == "" {
			return
		}
		a.answerQuery(int(typ), req, from, requestID)
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if o, ok := req.Get("opts"); ok {
			if mine {
				return // already applied locally
			}
			opts := decodeOptions(o)
			switch typ {
			case reqRemoteJoin:
				rooms, _ := req.Get("rooms")
				a.Adapter.AddSockets(opts, roomList(rooms))
			case reqRemoteLeave:
				rooms, _ := req.Get("rooms")
				a.Adapter.DelSockets(opts, roomList(rooms))
			default:
				closeConn, _ := req.Get("close")
				a.Adapter.DisconnectSockets(opts, closeConn == true)
			}
			return
		}
		// The older form, for one socket: {sid, room, requestId}.
		sid, _ := getString(req, "sid")
		s := a.nsp.Socket(sid)
		if s == nil {
			return
		}
		switch typ {
		case reqRemoteJoin:
			room, _ := getString(req, "room")
			s.Join(room)
		case reqRemoteLeave:
			room, _ := getString(req, "room")
			s.Leave(room)
		default:
			closeConn, _ := req.Get("close")
			s.Disconnect(closeConn == true)
		}
		a.publishResponse(from, msgpack.Map{{Key: "requestId", Value: requestID}})
	case reqServerSideEmit:
		if mine {
			return
		}
		data, _ := getArray(req, "data")
		event, args, ok := clusterproto.ServerSideEvent(data)
		if !ok {
			return
		}
		a.mu.Lock()
		fn := a.sse
		a.mu.Unlock()
		if fn == nil {
			return
		}
		var ack func(...any)
		if requestID != "" {
			ack = clusterproto.OnceAck(func(arg any) {
				// Always on the common channel, as the Node adapter does.
				a.publishMsg(a.responseChannel, msgpack.Map{
					{Key: "type", Value: int64(reqServerSideEmit)},
					{Key: "requestId", Value: requestID},
					{Key: "data", Value: arg},
				}, false)
			})
		}
		// Not on the receive goroutine: the handler may itself wait for the cluster.
		go fn(event, args, ack)
	case reqBroadcast:
		if mine || requestID == "" {
			return
		}
		if a.pending.AckFor(requestID) != nil {
			return // this node's own broadcast
		}
		pv, _ := req.Get("packet")
		p, err := decodePacket(pv, a.nsp.Name())
		if err != nil {
			return
		}
		o, _ := req.Get("opts")
		opts := decodeOptions(o)
		p.ID, p.HasID = a.nsp.NextAckID(), true
		_ = a.Adapter.BroadcastWithAck(p, opts, func(n int) {
			a.publishResponse(from, msgpack.Map{
				{Key: "type", Value: int64(reqBroadcastClientCount)},
				{Key: "requestId", Value: requestID},
				{Key: "clientCount", Value: int64(n)},
			})
		}, func(args socketio.Args) {
			a.publishResponseMsgpack(from, msgpack.Map{
				{Key: "type", Value: int64(reqBroadcastAck)},
				{Key: "requestId", Value: requestID},
				{Key: "packet", Value: firstArg(args)},
			})
		})
	}
}

func (a *Adapter) answerQuery(typ int, req msgpack.Map, from, requestID string) {
	resp := msgpack.Map{{Key: "requestId", Value: requestID}}
	switch typ {
	case reqSockets:
		rooms, _ := req.Get("rooms")
		resp = append(resp, msgpack.KV{Key: "sockets", Value: stringList(a.Adapter.Sockets(roomList(rooms)))})
	case reqAllRooms:
		var rooms []string
		if r, ok := a.Adapter.(interface{ Rooms() map[string]int }); ok {
			for room := range r.Rooms() {
				rooms = append(rooms, room)
			}
		}
		resp = append(resp, msgpack.KV{Key: "rooms", Value: stringList(rooms)})
	case reqRemoteFetch:
		o, _ := req.Get("opts")
		opts := decodeOptions(o)
		opts.Flags.Local = true
		local, _ := a.Adapter.FetchSockets(context.Background(), opts)
		list := make([]any, len(local))
		for i, s := range local {
			list[i] = encodeRemoteSocket(s)
		}
		resp = append(resp, msgpack.KV{Key: "sockets", Value: list})
	}
	a.publishResponse(from, resp)
}

func (a *Adapter) onResponse(payload []byte) {
	v, err := decodeMessage(payload, a.opts.MaxMessageSize)
	if err != nil {
		return
	}
	resp, ok := v.(msgpack.Map)
	if !ok {
		return
	}
	requestID, ok := getString(resp, "requestId")
	if !ok {
		return
	}
	typ, _ := getInt(resp, "type")
	if ar := a.pending.AckFor(requestID); ar != nil {
		switch typ {
		case reqBroadcastClientCount:
			if n, ok := getInt(resp, "clientCount"); ok && n >= 0 {
				ar.ClientCount(int(n))
			}
		case reqBroadcastAck:
			pv, _ := resp.Get("packet")
			if args, err := argsOf([]any{pv}); err == nil {
				ar.Ack(args)
			}
		}
		return
	}
	a.pending.Answer(requestID, "", func(req *clusterproto.Request) bool {
		switch req.Type {
		case reqRemoteFetch:
			list, _ := getArray(resp, "sockets")
			for _, sv := range list {
				if s := decodeRemoteSocket(a.nsp, sv); s != nil {
					req.Sockets = append(req.Sockets, s)
				}
			}
			return true
		case reqServerSideEmit:
			dv, _ := resp.Get("data")
			args, err := argsOf([]any{dv})
			if err != nil {
				return false
			}
			req.Responses = append(req.Responses, args)
			return true
		}
		return false
	})
}

func (a *Adapter) publishMsg(channel string, m msgpack.Map, forceMsgpack bool) {
	b, err := encodeMessage(m, forceMsgpack)
	if err != nil {
		a.opts.Logger.Debug("redisadapter: cannot encode", "err", err)
		return
	}
	a.link.publish(channel, b)
}

func (a *Adapter) responseChannelOf(requester string) string {
	if a.opts.PublishOnSpecificResponseChannel && requester != "" {
		return a.responseChannel + requester + "#"
	}
	return a.responseChannel
}

func (a *Adapter) publishResponse(requester string, m msgpack.Map) {
	a.publishMsg(a.responseChannelOf(requester), m, false)
}

func (a *Adapter) publishResponseMsgpack(requester string, m msgpack.Map) {
	a.publishMsg(a.responseChannelOf(requester), m, true)
}

// Broadcast implements socketio.Adapter: the packet goes to the other
// nodes (on the room's channel when there is exactly one room) and to the
// local sockets.
func (a *Adapter) Broadcast(p *parser.Packet, opts socketio.BroadcastOptions) error {
	if !opts.Flags.Local {
		pm, err := encodePacket(p)
		if err != nil {
			return err
		}
		msg, err := msgpack.Encode([]any{a.uid, pm, encodeOptions(opts, true)})
		if err != nil {
			return err
		}
		channel := a.channel
		if rooms := dedup(opts.Rooms); len(rooms) == 1 {
			channel += rooms[0] + "#"
		}
		a.link.publish(channel, msg)
	}
	return a.Adapter.Broadcast(p, opts)
}

// BroadcastWithAck implements socketio.Adapter.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts socketio.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) error {
	if !opts.Flags.Local {
		pm, err := encodePacket(p)
		if err != nil {
			return err
		}
		requestID := uid(6)
		a.pending.AddAck(requestID, clientCount, ack, opts.Flags.Timeout)
		a.publishMsg(a.requestChannel, msgpack.Map{
			{Key: "uid", Value: a.uid},
			{Key: "requestId", Value: requestID},
			{Key: "type", Value: int64(reqBroadcast)},
			{Key: "packet", Value: pm},
			{Key: "opts", Value: encodeOptions(opts, true)},
		}, true)
	}
	return a.Adapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// ServerCount implements socketio.Adapter: the number of subscribers of the
// namespace's request channel (PUBSUB NUMSUB, summed over the masters of a
// Redis Cluster).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	return numSub(ctx, a.client, a.requestChannel, false)
}

var numSub = clusterproto.NumSub

// FetchSockets implements socketio.Adapter. It fails, with the sockets
// gathered so far, when a node does not answer within RequestsTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
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
	requestID := uid(6)
	req := clusterproto.NewRequest(reqRemoteFetch, n-1, nil)
	req.Sockets = local
	msg := msgpack.Map{
		{Key: "uid", Value: a.uid},
		{Key: "requestId", Value: requestID},
		{Key: "type", Value: int64(reqRemoteFetch)},
		{Key: "opts", Value: encodeOptions(opts, false)},
	}
	if err := a.await(ctx, requestID, req, msg); err != nil {
		return req.Sockets, fmt.Errorf("redisadapter: fetchSockets: %w", err)
	}
	return req.Sockets, nil
}

// await publishes a request and waits for its answers; on a timeout the
// request's fields hold what came.
func (a *Adapter) await(ctx context.Context, requestID string, req *clusterproto.Request, msg msgpack.Map) error {
	return a.pending.Await(ctx, requestID, req, a.opts.RequestsTimeout, func() {
		a.publishMsg(a.requestChannel, msg, false)
	})
}

func (a *Adapter) cluster(typ int, opts socketio.BroadcastOptions, extra ...msgpack.KV) {
	m := msgpack.Map{
		{Key: "uid", Value: a.uid},
		{Key: "type", Value: int64(typ)},
		{Key: "opts", Value: encodeOptions(opts, false)},
	}
	a.publishMsg(a.requestChannel, append(m, extra...), false)
}

// AddSockets implements socketio.Adapter.
func (a *Adapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(reqRemoteJoin, opts, msgpack.KV{Key: "rooms", Value: stringList(rooms)})
	}
	a.Adapter.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *Adapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		a.cluster(reqRemoteLeave, opts, msgpack.KV{Key: "rooms", Value: stringList(rooms)})
	}
	a.Adapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *Adapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	if !opts.Flags.Local {
		a.cluster(reqRemoteDisconnect, opts, msgpack.KV{Key: "close", Value: closeConn})
	}
	a.Adapter.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit implements socketio.Adapter.
func (a *Adapter) ServerSideEmit(event string, args []any) error {
	data, err := valuesOf(append([]any{event}, args...))
	if err != nil {
		return err
	}
	a.publishMsg(a.requestChannel, msgpack.Map{
		{Key: "uid", Value: a.uid},
		{Key: "type", Value: int64(reqServerSideEmit)},
		{Key: "data", Value: data},
	}, false)
	return nil
}

// ServerSideEmitWithAck implements socketio.Adapter: each other node
// answers once, with one argument. On a timeout it returns the answers so
// far with an error wrapping socketio.ErrTimeout.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	data, err := valuesOf(append([]any{event}, args...))
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
	requestID := uid(6)
	req := clusterproto.NewRequest(reqServerSideEmit, n-1, nil)
	msg := msgpack.Map{
		{Key: "uid", Value: a.uid},
		{Key: "requestId", Value: requestID},
		{Key: "type", Value: int64(reqServerSideEmit)},
		{Key: "data", Value: data},
	}
	if err := a.await(ctx, requestID, req, msg); err != nil {
		return req.Responses, fmt.Errorf("redisadapter: serverSideEmit: %w (%d responses of %d)", err, len(req.Responses), req.Expected)
	}
	return req.Responses, nil
}

// OnServerSideEmit implements socketio.Adapter. The handler runs on a
// goroutine of its own for each event.
func (a *Adapter) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	a.mu.Lock()
	a.sse = fn
	a.mu.Unlock()
}

// Close implements socketio.Adapter: it unsubscribes and stops the
// adapter's goroutines (the client stays open).
func (a *Adapter) Close() error {
	a.link.close()
	a.pending.Close()
	return a.Adapter.Close()
}
