package redisadapter

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
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

	// peer is socket.io-adapter's ClusterAdapter: the requests to the
	// other nodes and the answers to theirs.
	peer *clusterproto.Peer

	roomMu sync.Mutex // orders room subscriptions
}

func newShardedAdapter(client redis.UniversalClient, nsp *socketio.Namespace, o *Options) *ShardedAdapter {
	mem := socketio.NewInMemoryAdapter(nsp).(*socketio.InMemoryAdapter)
	a := &ShardedAdapter{
		Adapter: mem,
		nsp:     nsp,
		client:  client,
		opts:    o,
		uid:     clusterproto.RandomID(),
	}
	a.channel = o.Key + "#" + nsp.Name() + "#"
	a.responseChannel = a.channel + a.uid + "#"
	a.peer = clusterproto.NewPeer(clusterproto.PeerConfig{
		Nsp: nsp, Local: mem, UID: a.uid,
		Prefix:          "redisadapter",
		Logger:          o.Logger,
		RequestsTimeout: o.RequestsTimeout,
		Publish:         func(typ int, data msgpack.Map) { a.publish(a.channel, typ, data) },
		PublishResponse: a.publishResponse,
		Deliver: func(p *parser.Packet, opts socketio.BroadcastOptions, _ string) error {
			return mem.Broadcast(p, opts)
		},
		Others: func(ctx context.Context) (int, map[string]struct{}, error) {
			n, err := a.ServerCount(ctx)
			return n - 1, nil, err
		},
	})
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
	a.peer.Handle(from, typ, data, "")
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
		a.publish(channel, clusterproto.MsgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "opts", Value: encodeOptions(opts, true)},
		})
	}
	return a.Adapter.Broadcast(p, opts)
}

// BroadcastWithAck implements socketio.Adapter.
func (a *ShardedAdapter) BroadcastWithAck(p *parser.Packet, opts socketio.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) error {
	return a.peer.BroadcastWithAck(p, opts, clientCount, ack)
}

// ServerCount implements socketio.Adapter (PUBSUB SHARDNUMSUB).
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return numSub(ctx, a.client, a.channel, true)
}

// FetchSockets implements socketio.Adapter. It fails, with the sockets
// gathered so far, when a node does not answer in time (the Timeout flag,
// else Options.RequestsTimeout).
func (a *ShardedAdapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	return a.peer.FetchSockets(ctx, opts)
}

// AddSockets implements socketio.Adapter.
func (a *ShardedAdapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.peer.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *ShardedAdapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.peer.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *ShardedAdapter) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	a.peer.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit implements socketio.Adapter.
func (a *ShardedAdapter) ServerSideEmit(event string, args []any) error {
	return a.peer.ServerSideEmit(event, args)
}

// ServerSideEmitWithAck implements socketio.Adapter: each other node
// answers once, with one argument. On a timeout it returns the answers so
// far with an error wrapping socketio.ErrTimeout.
func (a *ShardedAdapter) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	return a.peer.ServerSideEmitWithAck(ctx, event, args)
}

// OnServerSideEmit implements socketio.Adapter. The handler runs on a
// goroutine of its own for each event.
func (a *ShardedAdapter) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	a.peer.OnServerSideEmit(fn)
}

// Close implements socketio.Adapter.
func (a *ShardedAdapter) Close() error {
	a.link.close()
	a.peer.Close()
	return a.Adapter.Close()
}
