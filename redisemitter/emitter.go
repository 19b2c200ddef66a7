package redisemitter

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// Request types of the classic protocol of @socket.io/redis-adapter.
const (
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqServerSideEmit   = 6
)

// DefaultKey is the default Options.Key, that of @socket.io/redis-adapter.
const DefaultKey = "socket.io"

// ErrReservedEvent is returned by Emit for the events socket.io keeps for
// itself ("connect", "disconnect", ...).
var ErrReservedEvent = errors.New("redisemitter: reserved event name")

var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// Options configures New. A nil *Options gives the defaults.
type Options struct {
	// Key prefixes every channel; it must be the servers' adapter key.
	// Default "socket.io".
	Key string
}

// Emitter publishes to the servers of one namespace ("/" for the value New
// returns). It is immutable and safe for concurrent use.
type Emitter struct {
	client redis.UniversalClient
	key    string
	nsp    string
}

// New returns an emitter of the main namespace that publishes through
// client (which it does not close).
func New(client redis.UniversalClient, opts *Options) (*Emitter, error) {
	if client == nil {
		return nil, errors.New("redisemitter: nil client")
	}
	key := DefaultKey
	if opts != nil && opts.Key != "" {
		key = opts.Key
	}
	return &Emitter{client: client, key: key, nsp: "/"}, nil
}

// Of returns an emitter of namespace nsp ("/" is added in front when
// missing, as in Node).
func (e *Emitter) Of(nsp string) *Emitter {
	if len(nsp) == 0 || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return &Emitter{client: e.client, key: e.key, nsp: nsp}
}

func (e *Emitter) operator() *BroadcastOperator { return &BroadcastOperator{e: e} }

// To selects the sockets in rooms.
func (e *Emitter) To(rooms ...string) *BroadcastOperator { return e.operator().To(rooms...) }

// In is the same as To.
func (e *Emitter) In(rooms ...string) *BroadcastOperator { return e.operator().To(rooms...) }

// Except excludes the sockets in rooms.
func (e *Emitter) Except(rooms ...string) *BroadcastOperator { return e.operator().Except(rooms...) }

// Volatile lets the servers drop the events for clients not ready to
// receive them.
func (e *Emitter) Volatile() *BroadcastOperator { return e.operator().Volatile() }

// Compress sets whether the events may be compressed.
func (e *Emitter) Compress(compress bool) *BroadcastOperator { return e.operator().Compress(compress) }

// Emit sends an event to every client of the namespace.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return e.operator().Emit(ctx, event, args...)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.operator().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.operator().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace; with close,
// their underlying connections too.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.operator().DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to every server of the namespace (their
// OnServerSideEmit handlers), without acknowledgement. Binary arguments are
// sent as Node's emitter sends them: as JSON {"type":"Buffer","data":[...]}.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data, err := clusterproto.ValuesOf(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return e.publish(ctx, e.requestChannel(), jsonOf(msgpack.Map{
		{Key: "uid", Value: clusterproto.EmitterUID},
		{Key: "type", Value: int64(reqServerSideEmit)},
		{Key: "data", Value: bufferJSON(data)},
	}))
}

func (e *Emitter) requestChannel() string { return e.key + "-request#" + e.nsp + "#" }

func (e *Emitter) publish(ctx context.Context, channel string, payload []byte) error {
	if err := e.client.Publish(ctx, channel, payload).Err(); err != nil {
		return fmt.Errorf("redisemitter: %w", err)
	}
	return nil
}

func jsonOf(m msgpack.Map) []byte {
	var buf bytes.Buffer
	clusterproto.ToJSON(&buf, m, nil)
	return buf.Bytes()
}

// bufferJSON turns byte slices into what JSON.stringify makes of a Buffer.
func bufferJSON(v any) any {
	switch v := v.(type) {
	case []byte:
		data := make([]any, len(v))
		for i, b := range v {
			data[i] = int64(b)
		}
		return msgpack.Map{{Key: "type", Value: "Buffer"}, {Key: "data", Value: data}}
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = bufferJSON(x)
		}
		return out
	case msgpack.Map:
		out := make(msgpack.Map, len(v))
		for i, kv := range v {
			out[i] = msgpack.KV{Key: kv.Key, Value: bufferJSON(kv.Value)}
		}
		return out
	}
	return v
}

// BroadcastOperator is a selection of sockets of one namespace: every
// method that narrows it returns a new operator. It is safe for concurrent
// use.
type BroadcastOperator struct {
	e        *Emitter
	rooms    []string
	except   []string
	volatile bool
	compress *bool
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = append([]string(nil), b.rooms...)
	c.except = append([]string(nil), b.except...)
	return &c
}

// To adds rooms to the selection.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = clusterproto.Dedup(append(c.rooms, rooms...))
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.except = clusterproto.Dedup(append(c.except, rooms...))
	return c
}

// Volatile lets the servers drop the events for clients not ready to
// receive them.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.volatile = true
	return c
}

// Compress sets whether the events may be compressed.
func (b *BroadcastOperator) Compress(compress bool) *BroadcastOperator {
	c := b.clone()
	c.compress = &compress
	return c
}

// Emit sends an event to the selected clients, on every server.
func (b *BroadcastOperator) Emit(ctx context.Context, event string, args ...any) error {
	if reservedEvents[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args)
	if err != nil {
		return err
	}
	packet, err := clusterproto.EncodePacket(&parser.Packet{Type: parser.Event, Namespace: b.e.nsp, Data: data, Attachments: atts})
	if err != nil {
		return err
	}
	flags := msgpack.Map{}
	if b.compress != nil {
		flags = append(flags, msgpack.KV{Key: "compress", Value: *b.compress})
	}
	if b.volatile {
		flags = append(flags, msgpack.KV{Key: "volatile", Value: true})
	}
	msg, err := msgpack.Encode([]any{clusterproto.EmitterUID, packet, msgpack.Map{
		{Key: "rooms", Value: clusterproto.StringList(b.rooms)},
		{Key: "flags", Value: flags},
		{Key: "except", Value: clusterproto.StringList(b.except)},
	}})
	if err != nil {
		return err
	}
	channel := b.e.key + "#" + b.e.nsp + "#"
	if len(b.rooms) == 1 {
		channel += b.rooms[0] + "#"
	}
	return b.e.publish(ctx, channel, msg)
}

func (b *BroadcastOperator) request(ctx context.Context, typ int, extra msgpack.KV) error {
	return b.e.publish(ctx, b.e.requestChannel(), jsonOf(msgpack.Map{
		{Key: "type", Value: int64(typ)},
		{Key: "opts", Value: msgpack.Map{
			{Key: "rooms", Value: clusterproto.StringList(b.rooms)},
			{Key: "except", Value: clusterproto.StringList(b.except)},
		}},
		extra,
	}))
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.request(ctx, reqRemoteJoin, msgpack.KV{Key: "rooms", Value: clusterproto.StringList(rooms)})
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.request(ctx, reqRemoteLeave, msgpack.KV{Key: "rooms", Value: clusterproto.StringList(rooms)})
}

// DisconnectSockets disconnects the selected sockets; with close, their
// underlying connections too.
func (b *BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return b.request(ctx, reqRemoteDisconnect, msgpack.KV{Key: "close", Value: close})
}
