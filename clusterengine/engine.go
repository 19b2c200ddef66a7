package clusterengine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socketio-go/socketio/engineio"
)

// ErrClosed is returned by the relayed connections of a closed Engine.
var ErrClosed = errors.New("clusterengine: closed")

// Engine connects one Engine.IO server to the other nodes of a cluster
// through Redis Pub/Sub: it is the server's engineio.Cluster. Create one per
// server with New, set it as the server's Options.Cluster, and Close it after
// the server has shut down. It is safe for concurrent use.
type Engine struct {
	rdb     redis.UniversalClient
	ps      *redis.PubSub
	opts    Options
	channel string
	log     *slog.Logger

	srv    atomic.Pointer[engineio.Server]
	nextID atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	pending map[uint64]*pending     // this node's requests waiting for an owner's answer
	relays  map[uint64]*relay       // WebSockets this node accepted for sessions elsewhere
	served  map[peerKey]*servedReq  // requests other nodes relayed here
	conns   map[peerKey]*remoteConn // WebSockets other nodes relay to sessions here
	misses  map[string]int          // liveness checks a peer missed in a row
}

// peerKey names what a peer node relays: its node id and its own number.
type peerKey struct {
	node string
	id   uint64
}

// New subscribes to this node's channel and returns the Engine. ctx bounds
// the subscription only.
func New(ctx context.Context, rdb redis.UniversalClient, opts *Options) (*Engine, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		rdb: rdb, opts: o, log: o.Logger,
		channel: channelName(o.Prefix, o.NodeID),
		pending: map[uint64]*pending{},
		relays:  map[uint64]*relay{},
		served:  map[peerKey]*servedReq{},
		conns:   map[peerKey]*remoteConn{},
		misses:  map[string]int{},
	}
	e.ps = rdb.Subscribe(ctx, e.channel)
	if _, err := e.ps.Receive(ctx); err != nil { // the subscription's confirmation
		e.ps.Close()
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(2)
	go e.receiveLoop()
	go e.livenessLoop()
	return e, nil
}

// NodeID returns this node's id, the prefix of its session ids.
func (e *Engine) NodeID() string { return e.opts.NodeID }

// OwnerOf returns the id of the node that made session id sid.
func OwnerOf(sid string) (node string, ok bool) {
	i := strings.IndexByte(sid, '.')
	if i <= 0 {
		return "", false
	}
	return sid[:i], true
}

func channelName(prefix, node string) string { return prefix + "#" + node + "#" }

// Attach implements engineio.Cluster.
func (e *Engine) Attach(srv *engineio.Server) error {
	if !e.srv.CompareAndSwap(nil, srv) {
		return errors.New("clusterengine: the Engine is attached to another server")
	}
	return nil
}

// NewID implements engineio.Cluster: "<NodeID>.<20 random characters>".
func (e *Engine) NewID() (string, error) {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return e.opts.NodeID + "." + base64.URLEncoding.EncodeToString(b[:]), nil
}

// Forward implements engineio.Cluster: a polling request is relayed to the
// session's owner and its answer relayed back; a WebSocket is accepted here
// and its messages relayed both ways.
func (e *Engine) Forward(w http.ResponseWriter, r *http.Request, sid string) bool {
	if r.Context().Value(relayedKey{}) != nil {
		return false // relayed here already: the session is gone
	}
	owner, ok := OwnerOf(sid)
	if !ok || owner == e.opts.NodeID || !validNodeID(owner) {
		return false
	}
	if isUpgrade(r) {
		return e.forwardWebSocket(w, r, owner)
	}
	return e.forwardHTTP(w, r, owner)
}

// Close stops relaying: relayed requests and WebSockets are closed, and the
// subscription ends. Close the server first.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var relays []*relay
	for _, rl := range e.relays {
		relays = append(relays, rl)
	}
	var conns []*remoteConn
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	for id, p := range e.pending {
		delete(e.pending, id)
		p.fail()
	}
	e.mu.Unlock()
	e.cancel()
	for _, rl := range relays {
		rl.closeClient()
	}
	for _, c := range conns {
		c.closeLocal(false)
	}
	err := e.ps.Close()
	e.wg.Wait()
	return err
}

// publish sends m to node's channel and reports whether a node received it.
func (e *Engine) publish(node string, m *message) bool {
	m.From = e.opts.NodeID
	b, err := json.Marshal(m)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	n, err := e.rdb.Publish(ctx, channelName(e.opts.Prefix, node), b).Result()
	if err != nil {
		e.log.Debug("clusterengine: publish failed", "node", node, "err", err)
		return false
	}
	return n > 0
}

func (e *Engine) receiveLoop() {
	defer e.wg.Done()
	for {
		msg, err := e.ps.ReceiveMessage(e.ctx)
		if err != nil {
			if e.ctx.Err() != nil {
				return
			}
			// go-redis reconnects and subscribes again on the next call.
			e.log.Debug("clusterengine: receive failed", "err", err)
			select {
			case <-e.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		var m message
		if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil || m.From == "" || m.From == e.opts.NodeID {
			continue
		}
		e.dispatch(&m)
	}
}

// dispatch handles one message from another node. It never blocks: the
// receive loop serves every relay of the node.
func (e *Engine) dispatch(m *message) {
	key := peerKey{m.From, m.ID}
	switch m.Type {
	case msgRequest:
		e.serveRequest(m)
	case msgResponse:
		e.mu.Lock()
		p := e.pending[m.ID]
		delete(e.pending, m.ID)
		e.mu.Unlock()
		if p != nil && p.owner == m.From {
			p.ch <- m
		}
	case msgAbort:
		e.mu.Lock()
		s := e.served[key]
		e.mu.Unlock()
		if s != nil {
			s.cancel()
		}
	case msgWSOpen:
		e.serveWebSocket(m)
	case msgWSIn:
		e.mu.Lock()
		c := e.conns[key]
		e.mu.Unlock()
		if c != nil {
			c.push(m.Frames)
		}
	case msgWSOut:
		e.mu.Lock()
		rl := e.relays[m.ID]
		e.mu.Unlock()
		if rl != nil && rl.owner == m.From {
			rl.push(m.Frames, false)
		}
	case msgWSClose:
		e.mu.Lock()
		c := e.conns[key]
		rl := e.relays[m.ID]
		e.mu.Unlock()
		if c != nil {
			c.closeLocal(false)
		}
		if rl != nil && rl.owner == m.From {
			rl.push(nil, true)
		}
	}
}

// livenessLoop closes what is relayed through a node that left Redis.
func (e *Engine) livenessLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.LivenessInterval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		peers := e.peers()
		if len(peers) == 0 {
			continue
		}
		channels := make([]string, len(peers))
		for i, p := range peers {
			channels[i] = channelName(e.opts.Prefix, p)
		}
		ctx, cancel := context.WithTimeout(e.ctx, e.opts.LivenessInterval)
		counts, err := e.rdb.PubSubNumSub(ctx, channels...).Result()
		cancel()
		if err != nil {
			continue // Redis is away: no news of the peers
		}
		var gone []string
		e.mu.Lock()
		for i, p := range peers {
			if counts[channels[i]] > 0 {
				delete(e.misses, p)
				continue
			}
			e.misses[p]++
			if e.misses[p] >= 2 {
				delete(e.misses, p)
				gone = append(gone, p)
			}
		}
		e.mu.Unlock()
		for _, p := range gone {
			e.log.Debug("clusterengine: node gone", "node", p)
			e.peerGone(p)
		}
	}
}

// peers returns the nodes this node relays something to or from.
func (e *Engine) peers() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := map[string]bool{}
	for _, p := range e.pending {
		set[p.owner] = true
	}
	for _, rl := range e.relays {
		set[rl.owner] = true
	}
	for k := range e.served {
		set[k.node] = true
	}
	for k := range e.conns {
		set[k.node] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	for p := range e.misses {
		if !set[p] {
			delete(e.misses, p)
		}
	}
	return out
}

func (e *Engine) peerGone(node string) {
	e.mu.Lock()
	var (
		relays []*relay
		conns  []*remoteConn
		served []*servedReq
	)
	for id, p := range e.pending {
		if p.owner == node {
			delete(e.pending, id)
			p.fail()
		}
	}
	for _, rl := range e.relays {
		if rl.owner == node {
			relays = append(relays, rl)
		}
	}
	for k, c := range e.conns {
		if k.node == node {
			conns = append(conns, c)
		}
	}
	for k, s := range e.served {
		if k.node == node {
			served = append(served, s)
		}
	}
	e.mu.Unlock()
	for _, rl := range relays {
		rl.closeClient()
	}
	for _, c := range conns {
		c.closeLocal(false)
	}
	for _, s := range served {
		s.cancel()
	}
}
