package clusterproto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// AckCleanup is how long the answers to a broadcast with acknowledgements
// are awaited from other nodes when the broadcast has no timeout of its own.
const AckCleanup = time.Minute

// PeerConfig is what a Peer needs of the adapter it serves.
type PeerConfig struct {
	Nsp   *socketio.Namespace
	Local *socketio.InMemoryAdapter // the node's own rooms and sockets
	UID   string                    // the node's id in the cluster
	// Prefix starts the errors and logs of the Peer ("redisadapter").
	Prefix string
	Logger *slog.Logger // for what it ignores; not nil
	// RequestsTimeout bounds the wait for the other nodes' answers, unless
	// a request's Timeout flag sets another.
	RequestsTimeout time.Duration

	// Publish sends a message to every other node, PublishResponse to one.
	Publish         func(typ int, data MapData)
	PublishResponse func(to string, typ int, data MapData)
	// Deliver hands a broadcast from another node to the local sockets;
	// offset is the broadcast's entry in the cluster's log, if it has one.
	Deliver func(p *parser.Packet, opts socketio.BroadcastOptions, offset string) error
	// Others tells who must answer a request: that many nodes, or, when
	// missing is not nil, one answer from each node in it. Zero and nil:
	// there is no other node.
	Others func(ctx context.Context) (expected int, missing map[string]struct{}, err error)
}

// MapData is the data of a message: a msgpack map, as the Node adapters
// send it.
type MapData = msgpack.Map

// Peer is the part of socket.io-adapter's ClusterAdapter that does not
// depend on how messages travel: it answers the other nodes' requests from
// the local adapter, and keeps this node's requests until their answers
// come. The sharded Redis adapter and the streams adapter both use it. It
// is safe for concurrent use.
type Peer struct {
	cfg     PeerConfig
	pending Pending

	mu  sync.Mutex
	sse func(event string, args socketio.Args, ack func(args ...any))
}

// NewPeer returns a Peer for cfg, whose fields must all be set.
func NewPeer(cfg PeerConfig) *Peer { return &Peer{cfg: cfg} }

// RandomID returns 16 hex digits, as the Node adapters' ids.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handle acts on a message of another node (from, its uid) of one of
// ClusterAdapter's request and response types, and reports whether typ is
// one of those; offset is the message's entry in the cluster's log, if any.
func (p *Peer) Handle(from string, typ int64, data msgpack.Map, offset string) bool {
	switch typ {
	case MsgBroadcast:
		p.onBroadcast(from, data, offset)
	case MsgSocketsJoin, MsgSocketsLeave:
		o, _ := data.Get("opts")
		rooms, _ := data.Get("rooms")
		if typ == MsgSocketsJoin {
			p.cfg.Local.AddSockets(DecodeOptions(o), RoomList(rooms))
		} else {
			p.cfg.Local.DelSockets(DecodeOptions(o), RoomList(rooms))
		}
	case MsgDisconnectSockets:
		o, _ := data.Get("opts")
		closeConn, _ := data.Get("close")
		p.cfg.Local.DisconnectSockets(DecodeOptions(o), closeConn == true)
	case MsgFetchSockets:
		requestID, ok := GetString(data, "requestId")
		if !ok {
			return true
		}
		o, _ := data.Get("opts")
		opts := DecodeOptions(o)
		opts.Flags.Local = true
		local, _ := p.cfg.Local.FetchSockets(context.Background(), opts)
		list := make([]any, len(local))
		for i, s := range local {
			list[i] = EncodeRemoteSocket(s)
		}
		p.cfg.PublishResponse(from, MsgFetchSocketsResponse, msgpack.Map{
			{Key: "requestId", Value: requestID},
			{Key: "sockets", Value: list},
		})
	case MsgServerSideEmit:
		p.onServerSideEmit(from, data)
	case MsgBroadcastClientCount, MsgBroadcastAck, MsgFetchSocketsResponse, MsgServerSideEmitResponse:
		p.onResponse(from, typ, data)
	default:
		return false
	}
	return true
}

func (p *Peer) onBroadcast(from string, data msgpack.Map, offset string) {
	pv, _ := data.Get("packet")
	pkt, err := DecodePacket(pv, p.cfg.Nsp.Name())
	if err != nil {
		p.cfg.Logger.Debug(p.cfg.Prefix+": ignored broadcast", "err", err)
		return
	}
	o, _ := data.Get("opts")
	opts := DecodeOptions(o)
	requestID, withAck := GetString(data, "requestId")
	if !withAck {
		_ = p.cfg.Deliver(pkt, opts, offset)
		return
	}
	pkt.ID, pkt.HasID = p.cfg.Nsp.NextAckID(), true
	_ = p.cfg.Local.BroadcastWithAck(pkt, opts, func(n int) {
		p.cfg.PublishResponse(from, MsgBroadcastClientCount, msgpack.Map{
			{Key: "requestId", Value: requestID},
			{Key: "clientCount", Value: int64(n)},
		})
	}, func(args socketio.Args) {
		p.cfg.PublishResponse(from, MsgBroadcastAck, msgpack.Map{
			{Key: "requestId", Value: requestID},
			{Key: "packet", Value: FirstArg(args)},
		})
	})
}

func (p *Peer) onServerSideEmit(from string, data msgpack.Map) {
	packet, _ := GetArray(data, "packet")
	event, args, ok := ServerSideEvent(packet)
	if !ok {
		return
	}
	p.mu.Lock()
	fn := p.sse
	p.mu.Unlock()
	if fn == nil {
		return
	}
	var ack func(...any)
	if requestID, ok := GetString(data, "requestId"); ok {
		ack = OnceAck(func(arg any) {
			p.cfg.PublishResponse(from, MsgServerSideEmitResponse, msgpack.Map{
				{Key: "requestId", Value: requestID},
				{Key: "packet", Value: arg},
			})
		})
	}
	// Not on the reading goroutine: the handler may itself wait for the cluster.
	go fn(event, args, ack)
}

func (p *Peer) onResponse(from string, typ int64, data msgpack.Map) {
	requestID, ok := GetString(data, "requestId")
	if !ok {
		return
	}
	switch typ {
	case MsgBroadcastClientCount:
		if ar := p.pending.AckFor(requestID); ar != nil {
			if n, ok := GetInt(data, "clientCount"); ok && n >= 0 {
				ar.ClientCount(int(n))
			}
		}
	case MsgBroadcastAck:
		if ar := p.pending.AckFor(requestID); ar != nil {
			pv, _ := data.Get("packet")
			if args, err := ArgsOf([]any{pv}); err == nil {
				ar.Ack(args)
			}
		}
	case MsgFetchSocketsResponse:
		p.pending.Answer(requestID, from, func(req *Request) bool {
			if req.Type != MsgFetchSockets {
				return false
			}
			list, _ := GetArray(data, "sockets")
			for _, sv := range list {
				if s := DecodeRemoteSocket(p.cfg.Nsp, sv); s != nil {
					req.Sockets = append(req.Sockets, s)
				}
			}
			return true
		})
	case MsgServerSideEmitResponse:
		p.pending.Answer(requestID, from, func(req *Request) bool {
			if req.Type != MsgServerSideEmit {
				return false
			}
			pv, _ := data.Get("packet")
			if args, err := ArgsOf([]any{pv}); err == nil {
				req.Responses = append(req.Responses, args)
			}
			return true
		})
	}
}

// NodeGone ends the wait for uid's answers: a node that left the cluster
// will not answer.
func (p *Peer) NodeGone(uid string) { p.pending.NodeGone(uid) }

// newRequest prepares a request to the other nodes, or returns nil when
// there is none.
func (p *Peer) newRequest(ctx context.Context, typ int) (*Request, error) {
	expected, missing, err := p.cfg.Others(ctx)
	if err != nil || (expected <= 0 && len(missing) == 0) {
		return nil, err
	}
	return NewRequest(typ, expected, missing), nil
}

// await publishes a request and waits for its answers.
func (p *Peer) await(ctx context.Context, requestID string, req *Request, timeout time.Duration, data msgpack.Map) error {
	return p.pending.Await(ctx, requestID, req, timeout, func() { p.cfg.Publish(req.Type, data) })
}

// BroadcastWithAck sends the broadcast to the other nodes, whose sockets'
// counts and acknowledgements go to clientCount and ack (for the broadcast's
// timeout, else AckCleanup), then to the local sockets.
func (p *Peer) BroadcastWithAck(pkt *parser.Packet, opts socketio.BroadcastOptions, clientCount func(int), ack func(socketio.Args)) error {
	if !opts.Flags.Local {
		pm, err := EncodePacket(pkt)
		if err != nil {
			return err
		}
		requestID := RandomID()
		p.pending.AddAck(requestID, clientCount, ack, opts.Flags.Timeout)
		p.cfg.Publish(MsgBroadcast, msgpack.Map{
			{Key: "packet", Value: pm},
			{Key: "requestId", Value: requestID},
			{Key: "opts", Value: EncodeOptions(opts, true)},
		})
	}
	return p.cfg.Local.BroadcastWithAck(pkt, opts, clientCount, ack)
}

// FetchSockets returns the sockets opts selects on every node. It fails,
// with the sockets gathered so far, when a node does not answer in time
// (the Timeout flag, else RequestsTimeout).
func (p *Peer) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := p.cfg.Local.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	req, err := p.newRequest(ctx, MsgFetchSockets)
	if err != nil || req == nil {
		return local, err
	}
	req.Sockets = local
	timeout := p.cfg.RequestsTimeout
	if opts.Flags.Timeout > 0 {
		timeout = opts.Flags.Timeout
	}
	requestID := RandomID()
	if err := p.await(ctx, requestID, req, timeout, msgpack.Map{
		{Key: "opts", Value: EncodeOptions(opts, true)},
		{Key: "requestId", Value: requestID},
	}); err != nil {
		return req.Sockets, fmt.Errorf("%s: fetchSockets: %w", p.cfg.Prefix, err)
	}
	return req.Sockets, nil
}

func (p *Peer) cluster(typ int, opts socketio.BroadcastOptions, extra msgpack.KV) {
	p.cfg.Publish(typ, msgpack.Map{{Key: "opts", Value: EncodeOptions(opts, true)}, extra})
}

// AddSockets makes the sockets opts selects, on every node, join rooms.
func (p *Peer) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		p.cluster(MsgSocketsJoin, opts, msgpack.KV{Key: "rooms", Value: StringList(rooms)})
	}
	p.cfg.Local.AddSockets(opts, rooms)
}

// DelSockets makes the sockets opts selects, on every node, leave rooms.
func (p *Peer) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	if !opts.Flags.Local {
		p.cluster(MsgSocketsLeave, opts, msgpack.KV{Key: "rooms", Value: StringList(rooms)})
	}
	p.cfg.Local.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the sockets opts selects, on every node.
func (p *Peer) DisconnectSockets(opts socketio.BroadcastOptions, closeConn bool) {
	if !opts.Flags.Local {
		p.cluster(MsgDisconnectSockets, opts, msgpack.KV{Key: "close", Value: closeConn})
	}
	p.cfg.Local.DisconnectSockets(opts, closeConn)
}

// ServerSideEmit sends an event to the other nodes.
func (p *Peer) ServerSideEmit(event string, args []any) error {
	packet, err := ValuesOf(append([]any{event}, args...))
	if err != nil {
		return err
	}
	p.cfg.Publish(MsgServerSideEmit, msgpack.Map{{Key: "packet", Value: packet}})
	return nil
}

// ServerSideEmitWithAck sends an event to the other nodes and waits for
// each one's answer (one argument). On a timeout it returns the answers so
// far with an error wrapping socketio.ErrTimeout.
func (p *Peer) ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]socketio.Args, error) {
	packet, err := ValuesOf(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	req, err := p.newRequest(ctx, MsgServerSideEmit)
	if err != nil || req == nil {
		return nil, err
	}
	requestID := RandomID()
	if err := p.await(ctx, requestID, req, p.cfg.RequestsTimeout, msgpack.Map{
		{Key: "requestId", Value: requestID},
		{Key: "packet", Value: packet},
	}); err != nil {
		return req.Responses, fmt.Errorf("%s: serverSideEmit: %w (%d responses)", p.cfg.Prefix, err, len(req.Responses))
	}
	return req.Responses, nil
}

// OnServerSideEmit sets the handler of the other nodes' server-side
// events; it runs on a goroutine of its own for each event.
func (p *Peer) OnServerSideEmit(fn func(event string, args socketio.Args, ack func(args ...any))) {
	p.mu.Lock()
	p.sse = fn
	p.mu.Unlock()
}

// Close stops waiting for the acknowledgements of broadcasts.
func (p *Peer) Close() { p.pending.Close() }
