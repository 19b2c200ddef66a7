package socketio

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketio-go/socketio/parser"
)

// Middleware runs for every socket connecting to a namespace, before the
// connection handlers. A non-nil error refuses the connection: the client
// gets a CONNECT_ERROR with the error's text as the message, or with the
// Message and Data of a *ConnectError. A namespace's middlewares run on a
// goroutine of their own, as Node runs them asynchronously: one may wait
// (for a database, say) while the client's other namespaces go on.
type Middleware func(s *Socket) error

// Namespace is a communication channel with its own sockets, rooms,
// middlewares and handlers ("/" is the main namespace). It is safe for
// concurrent use.
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace
	adapter Adapter
	ackID   atomic.Uint64

	mu          sync.RWMutex
	sockets     map[string]*Socket
	middlewares []Middleware
	handlers    []func(*Socket)
	// adding: the clients whose CONNECT's middlewares are running (see
	// client.connect).
	adding map[*client]struct{}
}

func newNamespace(srv *Server, name string, parent *ParentNamespace) *Namespace {
	n := &Namespace{srv: srv, name: name, parent: parent, sockets: make(map[string]*Socket)}
	n.adapter = srv.opts.Adapter(n)
	return n
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.srv }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// NextAckID reserves an acknowledgement id of the namespace. Cluster
// adapters use it for broadcasts with acknowledgements started on other
// servers, whose ids must not collide with this server's.
func (n *Namespace) NextAckID() uint64 { return n.ackID.Add(1) - 1 }

// Use adds a middleware, run in the order added.
func (n *Namespace) Use(fn Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, fn)
	n.mu.Unlock()
}

// OnConnection adds a handler called for every socket that connects. It runs
// before the socket's first event is dispatched: set the socket's handlers there.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.mu.Lock()
	n.handlers = append(n.handlers, fn)
	n.mu.Unlock()
}

// Sockets returns the sockets connected to this namespace on this server.
func (n *Namespace) Sockets() []*Socket { return n.localSockets() }

// Socket returns the local socket with the given id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// forgetAck drops the callbacks a broadcast with acknowledgements left on
// the local sockets that did not answer.
func (n *Namespace) forgetAck(id uint64) {
	for _, s := range n.localSockets() {
		s.dropAck(id)
	}
}

func (n *Namespace) localSockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

func (n *Namespace) operator() *BroadcastOperator { return &BroadcastOperator{nsp: n} }

// To selects rooms for a broadcast (several calls or names add up).
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.operator().To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.operator().In(rooms...) }

// Except excludes rooms from a broadcast.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator { return n.operator().Except(rooms...) }

// Local restricts a broadcast to this server (with a cluster adapter).
func (n *Namespace) Local() *BroadcastOperator { return n.operator().Local() }

// Volatile marks a broadcast as droppable for clients not ready to receive it.
func (n *Namespace) Volatile() *BroadcastOperator { return n.operator().Volatile() }

// Compress sets whether the broadcast may be compressed.
func (n *Namespace) Compress(compress bool) *BroadcastOperator {
	return n.operator().Compress(compress)
}

// Timeout sets how long EmitWithAck waits for acknowledgements.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.operator().Timeout(d) }

// Emit broadcasts an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// FetchSockets returns the sockets of the namespace, on every server.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join the rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.operator().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave the rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.operator().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace; with close,
// their underlying connections close too.
func (n *Namespace) DisconnectSockets(close bool) { n.operator().DisconnectSockets(close) }

// ServerSideEmit sends an event to the other servers of a cluster (a no-op
// with a single server).
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	return n.adapter.ServerSideEmit(event, args)
}

// ServerSideEmitWithAck sends an event to the other servers of a cluster
// and gathers their answers (the first argument of each), until ctx is done.
// With a single server there is nobody to answer: it returns no answers.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return n.adapter.ServerSideEmitWithAck(ctx, event, args)
}

// OnServerSideEmit sets the handler of events sent by other servers with
// ServerSideEmit. The handler may answer by calling ack, when not nil.
func (n *Namespace) OnServerSideEmit(fn func(event string, args Args, ack func(args ...any))) {
	n.adapter.OnServerSideEmit(fn)
}

// testHookAfterConnectReply, set by tests only, runs between a socket's
// CONNECT reply and its registration.
var testHookAfterConnectReply func()

// hasMiddlewares reports whether a socket connecting to n goes through
// middlewares (its own or its parent's).
func (n *Namespace) hasMiddlewares() bool {
	n.mu.RLock()
	has := len(n.middlewares) > 0
	n.mu.RUnlock()
	if !has && n.parent != nil {
		has = len(n.parent.middlewareList()) > 0
	}
	return has
}

// beginAdd marks c as connecting to n; false: it already is.
func (n *Namespace) beginAdd(c *client) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.adding[c]; ok {
		return false
	}
	if n.adding == nil {
		n.adding = make(map[*client]struct{})
	}
	n.adding[c] = struct{}{}
	return true
}

func (n *Namespace) endAdd(c *client) {
	n.mu.Lock()
	delete(n.adding, c)
	n.mu.Unlock()
}

// add connects a socket of client c to the namespace: recovery, middlewares,
// then the CONNECT reply and the connection handlers. With async, add runs
// beside the client's reader (see client.connect): the reply and the
// socket's registration then take the client's orderMu, so that the
// client's answer to the reply finds the socket.
func (n *Namespace) add(c *client, auth json.RawMessage, async bool) {
	var sock *Socket
	if rec := n.srv.opts.ConnectionStateRecovery; rec != nil {
		var ids struct {
			PID    any `json:"pid"`
			Offset any `json:"offset"`
		}
		_ = json.Unmarshal(auth, &ids)
		pid, ok1 := ids.PID.(string)
		offset, ok2 := ids.Offset.(string)
		if ok1 && ok2 {
			if sess, err := n.adapter.RestoreSession(pid, offset); err == nil && sess != nil {
				sock = newSocket(n, c, auth, sess)
			}
		}
	}
	if sock == nil {
		sock = newSocket(n, c, auth, nil)
	}
	skip := sock.recovered && n.srv.opts.ConnectionStateRecovery.SkipMiddlewares
	if !skip {
		if err := n.runMiddlewares(sock); err != nil {
			n.adapter.DelAll(sock.id) // rooms joined by a middleware or restored by recovery
			if !c.open() {
				return
			}
			ce, ok := err.(*ConnectError)
			if !ok {
				ce = &ConnectError{Message: err.Error()}
			}
			data, merr := json.Marshal(struct {
				Message string `json:"message"`
				Data    any    `json:"data,omitempty"`
			}{ce.Message, ce.Data})
			if merr != nil {
				data, _ = json.Marshal(struct {
					Message string `json:"message"`
				}{ce.Message})
			}
			c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: n.name, Data: data}, Flags{})
			return
		}
	}
	if async {
		c.orderMu.Lock()
		defer c.orderMu.Unlock()
	}
	if !c.open() {
		n.adapter.DelAll(sock.id)
		return
	}
	n.mu.Lock()
	n.sockets[sock.id] = sock
	handlers := append([]func(*Socket){}, n.handlers...)
	n.mu.Unlock()
	if n.parent != nil {
		handlers = append(n.parent.connectionHandlers(), handlers...)
	}
	sock.onConnect()
	if testHookAfterConnectReply != nil {
		testHookAfterConnectReply()
	}
	c.registered(sock)
	sock.schedule(func() {
		for _, h := range handlers {
			h(sock)
		}
	}, true)
}

func (n *Namespace) runMiddlewares(s *Socket) (err error) {
	n.mu.RLock()
	mws := append([]Middleware{}, n.middlewares...)
	n.mu.RUnlock()
	if n.parent != nil {
		mws = append(n.parent.middlewareList(), mws...)
	}
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: middleware panicked", "nsp", n.name, "panic", r)
			err = &ConnectError{Message: "server error"}
		}
	}()
	for _, mw := range mws {
		if err := mw(s); err != nil {
			return err
		}
	}
	return nil
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty && n.parent != nil && n.srv.opts.CleanupEmptyChildNamespaces {
		n.srv.removeNamespace(n)
	}
}

// ParentNamespace is a dynamic namespace: it creates a child Namespace for
// each matching name a client connects to. Its middlewares and connection
// handlers apply to every child; a broadcast from it reaches every child.
// It is safe for concurrent use.
type ParentNamespace struct {
	srv   *Server
	re    *regexp.Regexp
	match func(name string, auth json.RawMessage) bool

	mu          sync.RWMutex
	children    map[*Namespace]struct{}
	middlewares []Middleware
	handlers    []func(*Socket)
}

func newParentNamespace(srv *Server, re *regexp.Regexp, match func(string, json.RawMessage) bool) *ParentNamespace {
	return &ParentNamespace{srv: srv, re: re, match: match, children: make(map[*Namespace]struct{})}
}

func (p *ParentNamespace) allows(name string, auth json.RawMessage) bool {
	if p.re != nil {
		return p.re.MatchString(name)
	}
	return p.match(name, auth)
}

func (p *ParentNamespace) createChildLocked(name string) *Namespace {
	nsp := newNamespace(p.srv, name, p)
	p.srv.nsps[name] = nsp
	p.mu.Lock()
	p.children[nsp] = struct{}{}
	p.mu.Unlock()
	return nsp
}

func (p *ParentNamespace) removeChild(nsp *Namespace) {
	p.mu.Lock()
	delete(p.children, nsp)
	p.mu.Unlock()
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for c := range p.children {
		out = append(out, c)
	}
	return out
}

// Use adds a middleware run for sockets connecting to any child.
func (p *ParentNamespace) Use(fn Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, fn)
	p.mu.Unlock()
}

// OnConnection adds a handler for sockets connecting to any child.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	p.handlers = append(p.handlers, fn)
	p.mu.Unlock()
}

func (p *ParentNamespace) middlewareList() []Middleware {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]Middleware{}, p.middlewares...)
}

func (p *ParentNamespace) connectionHandlers() []func(*Socket) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]func(*Socket){}, p.handlers...)
}

// Emit broadcasts an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, c := range p.Children() {
		if err := c.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}
