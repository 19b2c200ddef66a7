package socketio

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/parser"
)

// client is one Engine.IO session and the namespace sockets multiplexed on it.
type client struct {
	srv  *Server
	conn *engineio.Session

	// orderMu is held by a reader from a message's decoding until the
	// packet is handed on (an event queued or running for its socket). It
	// guards the decoder.
	orderMu   sync.Mutex
	decoder   parser.Decoder
	inlineTok atomic.Uint64 // the inline handler run being timed, or 0
	// backlog counts the handler runs of this client's sockets that have
	// further events queued behind them: their sends go to the session's
	// writer, which coalesces them, rather than one write each.
	backlog   atomic.Int32
	tickArmed atomic.Bool // the client is in the server's inlineWatch; beside backlog, in its padding
	inlineSeq atomic.Uint64
	tickSeen  atomic.Uint64 // the run the watch saw at its last tick

	mu           sync.Mutex
	sockets      []*Socket // one per namespace: a client joins few, and a slice is far smaller than a map
	connectTimer *time.Timer
	closed       bool
	connecting   uint8 // CONNECTs whose middlewares run (see connect); beside closed, in its padding
}

// maxConnecting bounds a client's CONNECTs whose middlewares run at once:
// a peer connecting to ever more dynamic namespaces behind a slow
// middleware would otherwise start a goroutine for each.
const maxConnecting = 16

var emptyAuth = json.RawMessage("{}")

func newClient(srv *Server, conn *engineio.Session) {
	c := &client{
		srv:     srv,
		conn:    conn,
		decoder: srv.opts.Parser.NewDecoder(),
	}
	conn.OnMessage(c.onMessage)
	conn.OnClose(func(reason string, _ error) { c.onClose(reason) })
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		joined := len(c.sockets) > 0
		c.mu.Unlock()
		if !joined {
			c.close()
		}
	})
}

func (c *client) onMessage(m engineio.Message) {
	if testHookBeforeCommit != nil {
		testHookBeforeCommit()
	}
	c.orderMu.Lock()
	p, err := c.decoder.Add(m.Data, m.Binary)
	if err != nil {
		c.orderMu.Unlock()
		c.srv.log.Debug("socketio: invalid packet", "sid", c.conn.ID(), "err", err)
		c.onError(err)
		return
	}
	if p == nil {
		c.orderMu.Unlock()
		return // waiting for attachments
	}
	c.mu.Lock()
	sock := c.socketLocked(p.Namespace)
	c.mu.Unlock()
	switch {
	case sock == nil && p.Type == parser.Connect:
		c.connect(p.Namespace, p.Data)
		c.orderMu.Unlock()
	case sock != nil && p.Type != parser.Connect && p.Type != parser.ConnectError:
		if !sock.onPacket(p, m.FromReader && c.srv.opts.InlineHandlerTimeout > 0) {
			c.orderMu.Unlock()
		}
	default:
		c.orderMu.Unlock()
		// A packet for a namespace the client has not joined, a second
		// CONNECT, or a CONNECT_ERROR from the client: a protocol violation.
		c.srv.log.Debug("socketio: invalid state", "sid", c.conn.ID(), "type", p.Type.String(), "nsp", p.Namespace)
		c.close()
	}
}

func (c *client) connect(name string, auth json.RawMessage) {
	if len(auth) == 0 {
		auth = emptyAuth
	}
	nsp := c.srv.lookupNamespace(name, auth)
	if nsp == nil {
		c.writePacket(&parser.Packet{
			Type: parser.ConnectError, Namespace: name,
			Data: json.RawMessage(`{"message":"Invalid namespace"}`),
		}, Flags{})
		return
	}
	if !nsp.hasMiddlewares() {
		nsp.add(c, auth, false)
		return
	}
	// Middlewares may wait (for a database, another service): they run on
	// a goroutine of their own, as Node runs them asynchronously, so that
	// the client's other namespaces and its heartbeat go on meanwhile. A
	// packet for the namespace before its CONNECT reply is, as in Node, a
	// protocol violation; so is a second CONNECT, and more than
	// maxConnecting CONNECTs at once.
	c.mu.Lock()
	tooMany := c.connecting >= maxConnecting
	if !tooMany {
		c.connecting++
	}
	c.mu.Unlock()
	if tooMany {
		c.srv.log.Debug("socketio: too many CONNECTs at once", "sid", c.conn.ID(), "nsp", name)
		c.close()
		return
	}
	if !nsp.beginAdd(c) {
		c.doneConnecting()
		c.srv.log.Debug("socketio: second CONNECT while connecting", "sid", c.conn.ID(), "nsp", name)
		c.close()
		return
	}
	c.srv.goroutines.Add()
	go func() {
		defer c.srv.goroutines.Done()
		defer c.doneConnecting()
		defer nsp.endAdd(c)
		nsp.add(c, auth, true)
	}()
}

func (c *client) doneConnecting() {
	c.mu.Lock()
	c.connecting--
	c.mu.Unlock()
}

// registered is called by the namespace once a socket is connected.
func (c *client) registered(s *Socket) {
	c.mu.Lock()
	if i := c.indexLocked(s.nsp.name); i >= 0 {
		c.sockets[i] = s
	} else {
		c.sockets = append(c.sockets, s)
	}
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
}

// indexLocked returns the index in c.sockets of the socket on namespace
// name, or -1; c.mu is held.
func (c *client) indexLocked(name string) int {
	for i, s := range c.sockets {
		if s.nsp.name == name {
			return i
		}
	}
	return -1
}

// socketLocked returns the socket on namespace name, or nil; c.mu is held.
func (c *client) socketLocked(name string) *Socket {
	if i := c.indexLocked(name); i >= 0 {
		return c.sockets[i]
	}
	return nil
}

func (c *client) remove(s *Socket) {
	c.mu.Lock()
	for i, x := range c.sockets {
		if x == s {
			c.sockets = append(c.sockets[:i:i], c.sockets[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
}

func (c *client) open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

// onError handles a protocol violation: the sockets hear of it, then the
// connection closes.
func (c *client) onError(err error) {
	for _, s := range c.socketList() {
		s.emitError(err)
	}
	c.conn.Close()
}

// close closes the connection from the server ("forced server close").
func (c *client) close() {
	c.conn.Close()
	c.onClose(ReasonForcedServerClose)
}

// disconnectAll disconnects every socket (each gets a DISCONNECT packet),
// then closes the connection.
func (c *client) disconnectAll() {
	for _, s := range c.socketList() {
		s.Disconnect(false)
	}
	c.close()
}

func (c *client) onClose(reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.sockets = nil
	c.mu.Unlock()
	for _, s := range socks {
		s.onClose(reason)
	}
	// Buffered attachments go now, unless the reader is at work (it may be
	// the caller, closing on a bad packet): then they go with the client.
	if c.orderMu.TryLock() {
		c.decoder.Reset()
		c.orderMu.Unlock()
	}
}

func (c *client) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
}

// writePacket encodes p and queues it on the connection.
func (c *client) writePacket(p *parser.Packet, f Flags) error {
	msgs, err := c.srv.opts.Parser.NewEncoder().Encode(p)
	if err != nil {
		return err
	}
	if f.Volatile && !c.conn.Writable() {
		return nil
	}
	noCompress := f.noCompress()
	if len(msgs) == 1 {
		return c.send(engineio.Message{Data: msgs[0], NoCompress: noCompress})
	}
	out := make([]engineio.Message, len(msgs))
	for i, m := range msgs {
		out[i] = engineio.Message{Data: m, Binary: i > 0, NoCompress: noCompress}
	}
	return c.send(out...)
}

// releaseReader hands the reading of the client's WebSocket over to a new
// goroutine once the reader has handed on the packet it holds (runHere
// tells engineio so), at once if it has: the next reader never overtakes
// it.
func (c *client) releaseReader() { c.conn.ReleaseReaderWhenHandedOn() }

// startInline times an event handler run on the reader: past
// InlineHandlerTimeout the reading is handed over. Called with orderMu held.
//
// Nothing is reset per run (a timer update was a measurable share of an
// echoed event's CPU): while runs go on, the server's inlineWatch looks at
// the client every half InlineHandlerTimeout, and a run it sees at two
// ticks in a row has lasted at least half of it and at most all of it. The
// client leaves the watch at a tick that finds no run, and the next run
// puts it back.
func (c *client) startInline() uint64 {
	tok := c.inlineSeq.Add(1)
	c.inlineTok.Store(tok)
	if c.tickArmed.CompareAndSwap(false, true) {
		c.srv.inline.add(c)
	}
	return tok
}

// endInline ends the timing of startInline's run, unless a later run (on
// the next reader) took it over.
func (c *client) endInline(tok uint64) { c.inlineTok.CompareAndSwap(tok, 0) }

// inlineTick is the watch's look at the client: it hands the reading over
// when the run it saw at the tick before is still going. It reports whether
// the client stays in the watch: while runs go on.
func (c *client) inlineTick() bool {
	cur := c.inlineTok.Load()
	if cur != 0 && cur != c.tickSeen.Load() {
		c.tickSeen.Store(cur)
		return true // tickArmed stays set: no start adds the client meanwhile
	}
	if cur != 0 {
		if testHookInlineRelease != nil {
			testHookInlineRelease()
		}
		c.releaseReader() // the same run as a half timeout ago
	}
	c.tickArmed.Store(false)
	// A run that started since the load above found the client listed and
	// left it: keep it for that run (unless that run's start added it).
	t := c.inlineTok.Load()
	return t != 0 && t != cur && c.tickArmed.CompareAndSwap(false, true)
}

// eventEncoder returns the parser's one-buffer encoder of EVENT and ACK
// packets, or nil when the parser has none.
func (c *client) eventEncoder() parser.EventEncoder {
	e, _ := c.srv.opts.Parser.NewEncoder().(parser.EventEncoder)
	return e
}

// writeEncoded queues a packet made by an EventEncoder.
func (c *client) writeEncoded(text []byte, atts [][]byte, f Flags) error {
	if f.Volatile && !c.conn.Writable() {
		return nil
	}
	noCompress := f.noCompress()
	if len(atts) == 0 {
		return c.send(engineio.Message{Data: text, NoCompress: noCompress})
	}
	out := make([]engineio.Message, 1+len(atts))
	out[0] = engineio.Message{Data: text, NoCompress: noCompress}
	for i, m := range atts {
		out[i+1] = engineio.Message{Data: m, Binary: true, NoCompress: noCompress}
	}
	return c.send(out...)
}

// send hands encoded messages to the connection: written at once when the
// sender has nothing more coming, left to the writer (which writes what
// accumulates in one go) while a handler has further events queued.
func (c *client) send(msgs ...engineio.Message) error {
	if c.backlog.Load() > 0 {
		return c.conn.Queue(msgs...)
	}
	return c.conn.Send(msgs...)
}

// writePrepared queues a packet encoded once for many clients.
func (c *client) writePrepared(msgs []*engineio.PreparedMessage, volatile bool) error {
	if volatile && !c.conn.Writable() {
		return nil
	}
	return c.conn.SendPrepared(msgs...)
}
