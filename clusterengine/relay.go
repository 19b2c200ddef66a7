package clusterengine

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/internal/websocket"
)

// The message types between nodes. A relaying node numbers its requests and
// WebSockets (ID); the owner answers with the same number.
const (
	msgRequest  = 1 + iota // a polling request, relaying node -> owner
	msgResponse            // its answer, owner -> relaying node
	msgAbort               // the client went away before the answer
	msgWSOpen              // a WebSocket upgrade, relaying node -> owner
	msgWSIn                // messages from the client, relaying node -> owner
	msgWSOut               // messages to the client, owner -> relaying node
	msgWSClose             // the WebSocket closed, either way
)

type message struct {
	Type   int         `json:"t"`
	From   string      `json:"f"`
	ID     uint64      `json:"i"`
	Method string      `json:"m,omitempty"`
	URL    string      `json:"u,omitempty"`
	Host   string      `json:"host,omitempty"`
	Remote string      `json:"ra,omitempty"`
	Header http.Header `json:"h,omitempty"`
	Status int         `json:"s,omitempty"` // 0 in a response: the owner has no server
	Body   []byte      `json:"b,omitempty"`
	Frames []frame     `json:"fr,omitempty"`
}

type frame struct {
	Binary bool   `json:"b,omitempty"`
	Data   []byte `json:"d"`
}

// relayedKey marks the context of a request relayed to this node, so that it
// is never relayed again.
type relayedKey struct{}

func isUpgrade(r *http.Request) bool { return websocket.IsUpgradeRequest(r) }

func requestMessage(typ int, r *http.Request) *message {
	return &message{Type: typ, Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host,
		Remote: r.RemoteAddr, Header: r.Header}
}

// The relaying side of a polling request.

type pending struct {
	owner string
	ch    chan *message // the answer, or nil when the owner is gone
}

func (p *pending) fail() { p.ch <- nil }

func (e *Engine) forwardHTTP(w http.ResponseWriter, r *http.Request, owner string) bool {
	m := requestMessage(msgRequest, r)
	if r.Body != nil && r.Body != http.NoBody {
		// One byte more than the owner accepts, so that it refuses the body as too large.
		limit := int64(engineio.DefaultMaxHTTPBufferSize)
		if srv := e.srv.Load(); srv != nil {
			limit = srv.Options().MaxHTTPBufferSize
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return true
		}
		m.Body = body
	}
	m.ID = e.nextID.Add(1)
	p := &pending{owner: owner, ch: make(chan *message, 1)}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.pending[m.ID] = p
	e.mu.Unlock()
	if !e.publish(owner, m) {
		e.dropPending(m.ID)
		return false
	}
	select {
	case res := <-p.ch:
		if res == nil || res.Status == 0 {
			return false
		}
		h := w.Header()
		for k, v := range res.Header {
			h[k] = v
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return true
	case <-r.Context().Done():
		// The client went away: the owner closes the session, as a direct
		// aborted GET would.
		if e.dropPending(m.ID) {
			e.publish(owner, &message{Type: msgAbort, ID: m.ID})
		}
		return true
	}
}

// dropPending forgets a pending request, reporting whether it was still there.
func (e *Engine) dropPending(id uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.pending[id]
	delete(e.pending, id)
	return ok
}

// The owner's side of a polling request.

type servedReq struct{ cancel context.CancelFunc }

func (e *Engine) serveRequest(m *message) {
	srv := e.srv.Load()
	if srv == nil {
		e.publishAsync(m.From, &message{Type: msgResponse, ID: m.ID})
		return
	}
	key := peerKey{m.From, m.ID}
	ctx, cancel := context.WithCancel(context.WithValue(e.ctx, relayedKey{}, m.From))
	req, err := http.NewRequestWithContext(ctx, m.Method, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		cancel()
		e.publishAsync(m.From, &message{Type: msgResponse, ID: m.ID})
		return
	}
	req.Header = m.Header
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Host, req.RemoteAddr, req.RequestURI = m.Host, m.Remote, m.URL
	req.ContentLength = int64(len(m.Body))
	if len(m.Body) == 0 {
		req.Body = http.NoBody
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		return
	}
	e.served[key] = &servedReq{cancel: cancel}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		rec := &recorder{header: http.Header{}}
		srv.ServeHTTP(rec, req)
		e.mu.Lock()
		delete(e.served, key)
		e.mu.Unlock()
		aborted := ctx.Err() != nil
		cancel()
		if aborted {
			return // the client, its node or this one went away: nobody waits
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		e.publish(m.From, &message{Type: msgResponse, ID: m.ID, Status: rec.status,
			Header: rec.header, Body: rec.body.Bytes()})
	}()
}

func (e *Engine) publishAsync(node string, m *message) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		e.publish(node, m)
	}()
}

// recorder keeps the owner's answer to a relayed request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// The relaying side of a WebSocket: the client's connection is here, the
// session at the owner.

type relay struct {
	e     *Engine
	owner string
	id    uint64

	mu      sync.Mutex
	conn    *websocket.Conn
	queue   []frame
	queued  int
	closing bool // the owner closed: write the queue, then close
	done    bool
	wake    chan struct{}
}

func (e *Engine) forwardWebSocket(w http.ResponseWriter, r *http.Request, owner string) bool {
	m := requestMessage(msgWSOpen, r)
	m.ID = e.nextID.Add(1)
	rl := &relay{e: e, owner: owner, id: m.ID, wake: make(chan struct{}, 1)}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.relays[m.ID] = rl
	e.wg.Add(1) // rl.writeLoop
	e.mu.Unlock()
	if !e.publish(owner, m) {
		e.dropRelay(rl)
		e.wg.Done()
		return false
	}
	opts := &websocket.Options{MaxMessageSize: engineio.DefaultMaxHTTPBufferSize}
	if srv := e.srv.Load(); srv != nil {
		o := srv.Options()
		opts = &websocket.Options{MaxMessageSize: o.MaxHTTPBufferSize, Compression: o.PerMessageDeflate}
	}
	conn, err := websocket.Upgrade(w, r, nil, opts)
	if err != nil {
		e.dropRelay(rl)
		e.wg.Done()
		e.publish(owner, &message{Type: msgWSClose, ID: m.ID})
		return true // Upgrade answered the request
	}
	rl.mu.Lock()
	rl.conn = conn
	done := rl.done // closed meanwhile (the owner went away)
	rl.mu.Unlock()
	if done {
		conn.CloseNow() // readLoop ends at once
	}
	e.wg.Add(1)
	go rl.readLoop()
	go rl.writeLoop()
	return true
}

// dropRelay forgets rl, reporting whether it was still there.
func (e *Engine) dropRelay(rl *relay) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.relays[rl.id] != rl {
		return false
	}
	delete(e.relays, rl.id)
	return true
}

// readLoop relays the client's messages to the owner, one publish each, in order.
func (rl *relay) readLoop() {
	defer rl.e.wg.Done()
	for {
		typ, data, err := rl.conn.ReadMessage()
		if err != nil {
			if rl.e.dropRelay(rl) {
				rl.e.publish(rl.owner, &message{Type: msgWSClose, ID: rl.id})
			}
			rl.closeClient()
			return
		}
		m := &message{Type: msgWSIn, ID: rl.id, Frames: []frame{{Binary: typ == websocket.Binary, Data: data}}}
		if !rl.e.publish(rl.owner, m) {
			rl.e.dropRelay(rl)
			rl.closeClient()
			return
		}
	}
}

// push queues the owner's messages for the client; close ends the
// connection once they are written.
func (rl *relay) push(frames []frame, close bool) {
	rl.mu.Lock()
	for _, f := range frames {
		rl.queue = append(rl.queue, f)
		rl.queued += len(f.Data)
	}
	over := rl.queued > rl.e.opts.MaxQueuedBytes
	if close || over {
		rl.closing = true
	}
	rl.mu.Unlock()
	if over {
		rl.e.log.Debug("clusterengine: relayed WebSocket too slow, closed", "owner", rl.owner)
		rl.closeClient()
		return
	}
	select {
	case rl.wake <- struct{}{}:
	default:
	}
}

// closeClient closes the client's connection at once.
func (rl *relay) closeClient() {
	rl.e.dropRelay(rl)
	rl.mu.Lock()
	rl.done = true
	conn := rl.conn
	rl.mu.Unlock()
	if conn != nil {
		conn.CloseNow()
	}
	select {
	case rl.wake <- struct{}{}:
	default:
	}
}

func (rl *relay) writeLoop() {
	defer rl.e.wg.Done()
	for {
		rl.mu.Lock()
		batch, closing, done, conn := rl.queue, rl.closing, rl.done, rl.conn
		rl.queue, rl.queued = nil, 0
		rl.mu.Unlock()
		if done {
			return
		}
		for _, f := range batch {
			typ := websocket.Text
			if f.Binary {
				typ = websocket.Binary
			}
			if conn.WriteMessage(typ, f.Data) != nil {
				rl.closeClient()
				return
			}
		}
		if len(batch) > 0 && conn.Flush() != nil {
			rl.closeClient()
			return
		}
		if closing {
			rl.e.dropRelay(rl)
			conn.Close(websocket.StatusNormalClosure, "")
			rl.closeClient()
			return
		}
		select {
		case <-rl.wake:
		case <-rl.e.ctx.Done():
			rl.closeClient()
			return
		}
	}
}

// The owner's side of a relayed WebSocket: an engineio.Conn.

type remoteConn struct {
	e    *Engine
	peer string
	id   uint64

	mu     sync.Mutex
	in     []frame
	inLen  int
	out    []frame
	closed bool
	wake   chan struct{}
}

func (e *Engine) serveWebSocket(m *message) {
	srv := e.srv.Load()
	if srv == nil {
		e.publishAsync(m.From, &message{Type: msgWSClose, ID: m.ID})
		return
	}
	req, err := http.NewRequestWithContext(context.WithValue(e.ctx, relayedKey{}, m.From), m.Method, m.URL, nil)
	if err != nil {
		e.publishAsync(m.From, &message{Type: msgWSClose, ID: m.ID})
		return
	}
	req.Header = m.Header
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Host, req.RemoteAddr, req.RequestURI = m.Host, m.Remote, m.URL
	c := &remoteConn{e: e, peer: m.From, id: m.ID, wake: make(chan struct{}, 1)}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.conns[peerKey{m.From, m.ID}] = c
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		srv.ServeRelayedWebSocket(req, c)
	}()
}

func (c *remoteConn) push(frames []frame) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.in = append(c.in, frames...)
	for _, f := range frames {
		c.inLen += len(f.Data)
	}
	over := c.inLen > c.e.opts.MaxQueuedBytes
	c.mu.Unlock()
	if over {
		c.closeLocal(true)
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// ReadMessage implements engineio.Conn.
func (c *remoteConn) ReadMessage() (bool, []byte, error) {
	for {
		c.mu.Lock()
		if len(c.in) > 0 {
			f := c.in[0]
			c.in[0] = frame{}
			c.in = c.in[1:]
			c.inLen -= len(f.Data)
			c.mu.Unlock()
			return f.Binary, f.Data, nil
		}
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return false, nil, io.EOF
		}
		<-c.wake
	}
}

// WriteMessage implements engineio.Conn.
func (c *remoteConn) WriteMessage(binary bool, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.out = append(c.out, frame{Binary: binary, Data: bytes.Clone(data)})
	return nil
}

// Flush implements engineio.Conn: one publish for what was written since.
func (c *remoteConn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock() // held while publishing: publishes stay in order
	if c.closed {
		return ErrClosed
	}
	if len(c.out) == 0 {
		return nil
	}
	frames := c.out
	c.out = nil
	if !c.e.publish(c.peer, &message{Type: msgWSOut, ID: c.id, Frames: frames}) {
		return ErrClosed // the relaying node is gone
	}
	return nil
}

// Close implements engineio.Conn.
func (c *remoteConn) Close() error {
	c.closeLocal(true)
	return nil
}

// closeLocal ends the connection; tell says whether the relaying node is
// to be told (it is not when it closed first or is gone).
func (c *remoteConn) closeLocal(tell bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	c.e.mu.Lock()
	k := peerKey{c.peer, c.id}
	if c.e.conns[k] == c {
		delete(c.e.conns, k)
	}
	c.e.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if tell {
		c.e.publishAsync(c.peer, &message{Type: msgWSClose, ID: c.id})
	}
}
