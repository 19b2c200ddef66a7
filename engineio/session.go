package engineio

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/internal/lazyctx"
	"github.com/socketio-go/socketio/internal/websocket"
)

// Close reasons, with the strings Node's engine.io uses.
const (
	ReasonTransportClose = "transport close" // the client closed the connection or sent a close packet
	ReasonTransportError = "transport error" // a network error, a protocol violation by the transport, or a slow consumer
	ReasonPingTimeout    = "ping timeout"    // no pong within PingTimeout
	ReasonForcedClose    = "forced close"    // the server closed the session
	ReasonParseError     = "parse error"     // the client sent a packet that does not decode
)

// Message is one Engine.IO message payload: text (UTF-8) or binary.
type Message struct {
	Data   []byte
	Binary bool
	// FromReader is set on a received message whose OnMessage callback runs
	// on the goroutine that reads the session's WebSocket: until it
	// returns, or calls Session.ReleaseReader, nothing more is read from
	// the client. Ignored when sending.
	FromReader bool
	// NoCompress keeps the message from being compressed (socket.io's
	// compress(false)): a polling response made only of such messages is
	// sent as is, and a WebSocket frame is never deflated.
	NoCompress bool
}

// PreparedMessage is a message encoded once for many sessions (a broadcast):
// every WebSocket session writes the same frame bytes. It is safe for
// concurrent use and must not be modified after creation.
type PreparedMessage struct {
	msg    Message
	once   sync.Once
	wsMsg  *websocket.PreparedMessage
	wsData []byte
}

// NewPreparedMessage prepares m for sending to many sessions. m.Data must not
// be modified afterwards.
func NewPreparedMessage(m Message) *PreparedMessage { return &PreparedMessage{msg: m} }

func (p *PreparedMessage) ws() *websocket.PreparedMessage {
	p.once.Do(func() {
		prepare := websocket.NewPreparedMessage
		if p.msg.NoCompress {
			prepare = websocket.NewUncompressedPreparedMessage
		}
		if p.msg.Binary {
			p.wsMsg = prepare(websocket.Binary, p.msg.Data)
			return
		}
		p.wsData = make([]byte, 0, len(p.msg.Data)+1)
		p.wsData = append(append(p.wsData, '4'), p.msg.Data...)
		p.wsMsg = prepare(websocket.Text, p.wsData)
	})
	return p.wsMsg
}

// outMsg is a queued outgoing packet.
type outMsg struct {
	typ        eiocodec.Type
	data       []byte
	binary     bool
	noCompress bool
	prepared   *PreparedMessage
}

func (m *outMsg) compressible() bool {
	if m.prepared != nil {
		return !m.prepared.msg.NoCompress
	}
	return !m.noCompress
}

func (m *outMsg) size() int {
	if m.prepared != nil {
		return len(m.prepared.msg.Data) + 1
	}
	return len(m.data) + 1
}

type state int

const (
	stateOpen state = iota
	stateClosing
	stateClosed
)

// wsConn is what a session needs from a WebSocket connection; the
// implementation in internal/websocket was chosen by measurement (see its DESIGN.md).
type wsConn interface {
	ReadMessage() (websocket.MessageType, []byte, error)
	WriteMessage(websocket.MessageType, []byte) error
	WriteUncompressed(websocket.MessageType, []byte) error
	WritePrepared(*websocket.PreparedMessage) error
	Flush() error
	SetWriteDeadline(time.Time) error
	Close(websocket.StatusCode, string) error
	CloseNow() error
}

// Session is one Engine.IO connection (a "socket" in Node's engine.io). Its
// methods are safe for concurrent use. Set its handlers in the server's
// OnConnection function; they are called from the session's read path, one at
// a time and in the order the packets arrived.
type Session struct {
	srv *Server
	id  string
	ctx lazyctx.Ctx

	// What Request rebuilds of the opening request (a copy of the whole
	// http.Request would cost about 300 bytes per session). The URL and
	// header map are the request's own.
	reqMethod, reqURI, reqProto, reqHost, reqRemote string
	reqURL                                          *url.URL
	reqHeader                                       http.Header
	reqTLS                                          *tls.ConnectionState

	// The handlers are guarded by mu: a session may close (Server.Close, a
	// timer) while OnConnection is still setting them.
	onMessage     func(Message)
	onClose       func(reason string, cause error)
	onUpgrade     func(transport string)
	closeReason   string
	closeCause    error
	closeNotified bool
	closeByte     byte // answered to a pending GET once closed: '1' server close, '6' client close
	getActive     bool
	postActive    bool
	// While a GET writes its response (pollW) or a POST reads its body
	// (postW), their ResponseWriter: a session that closes for a reason
	// other than a graceful close cuts that I/O off (cutHTTP), so that a
	// client that stopped reading or sending does not keep the handler,
	// its buffers and the connection forever.
	pollW http.ResponseWriter
	postW http.ResponseWriter

	mu        sync.Mutex
	state     state
	transport string
	queue     []outMsg
	spare     []outMsg
	queued    int
	wake      chan struct{}

	ws      wsConn
	writing bool
	// The WebSocket reader (see ReleaseReader): rdGen counts the goroutines
	// that took over the reading, rdInCall says that the current one is
	// inside the message callback.
	rdGen    uint32
	rdInCall bool
	// rdHandedOn: the callback said its message is handed on (HandedOn);
	// rdWantRelease: a ReleaseReaderWhenHandedOn waits for that.
	rdHandedOn    bool
	rdWantRelease bool
	// holdFlush: the reader is delivering a message with more input
	// buffered behind it, so sends wait in the queue and go out together
	// at the end of the burst (flushHeld), one write for the lot; held
	// says that some did.
	holdFlush bool
	held      bool
	unflushed bool      // writeInline left bytes in ws's buffer: the writer flushes them first
	wdeadline time.Time // the write deadline last set on ws (writer only)
	// startWriter is s.writeLoop as a func value made once: a go statement
	// on the method would allocate a closure each time an idle session
	// starts writing, that is, per recipient of a broadcast.
	startWriter func()
	parkTok     uint64 // the session's token while it is parked (park_linux.go), else 0; guarded by srv.park.mu

	upgrading bool // a WebSocket is being probed
	probed    bool // the probe succeeded; pending GETs are answered with noop
	upgraded  bool
	probeWS   wsConn

	// Heartbeat: hbGen numbers the deadlines (a pong makes the pending one
	// stale), hbWaitPong tells a pong deadline from a ping one; both are
	// guarded by mu. hbIdx (1-based place in srv.hb's heap, 0 when not in
	// it), hbDue and hbSched are guarded by srv.hb.mu.
	hbGen      uint32
	hbSched    uint32
	hbWaitPong bool
	hbIdx      int
	hbDue      int64
	closeTimer *time.Timer
	closeOnce  sync.Once
}

func newSession(srv *Server, id string, r *http.Request, transport string) *Session {
	// Neither the request's context nor its body is kept (both would hold
	// the connection's buffers alive); its URL and header map are shared
	// with r, which net/http drops once the handler returns.
	s := &Session{
		srv: srv, id: id,
		reqMethod: r.Method, reqURI: r.RequestURI, reqProto: r.Proto, reqHost: r.Host, reqRemote: r.RemoteAddr,
		reqURL: r.URL, reqHeader: r.Header, reqTLS: r.TLS,
		transport: transport,
		closeByte: '1',
	}
	if transport == TransportPolling {
		// Only a polling GET waits on it (a WebSocket session never polls;
		// sends to a nil channel in a select with default do nothing).
		s.wake = make(chan struct{}, 1)
	}
	s.startWriter = s.writeLoop
	return s
}

// ID returns the session id (the "sid").
func (s *Session) ID() string { return s.id }

// Request returns a copy of the request that opened the session, made on
// each call: its method, URL, protocol, header, host, remote address and
// TLS state, without its body or context. Its URL and Header are the
// original's, to be read, not modified.
func (s *Session) Request() *http.Request {
	major, minor, _ := http.ParseHTTPVersion(s.reqProto)
	return &http.Request{
		Method: s.reqMethod, URL: s.reqURL, Proto: s.reqProto, ProtoMajor: major, ProtoMinor: minor,
		Header: s.reqHeader, Body: http.NoBody, Host: s.reqHost, RemoteAddr: s.reqRemote,
		RequestURI: s.reqURI, TLS: s.reqTLS,
	}
}

// Context returns a context cancelled when the session closes.
func (s *Session) Context() context.Context { return s.ctx.Context() }

// Transport returns the current transport name: "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// OnMessage sets the function called with each message the client sends.
// The message's Data belongs to the function.
func (s *Session) OnMessage(fn func(Message)) {
	s.mu.Lock()
	s.onMessage = fn
	s.mu.Unlock()
}

// OnClose sets the function called once when the session closes, with one of
// the Reason strings and, for errors, the cause.
//
// Set on a session that has already closed, fn is called at once.
func (s *Session) OnClose(fn func(reason string, cause error)) {
	s.mu.Lock()
	if s.state == stateClosed && !s.closeNotified && fn != nil {
		s.closeNotified = true
		reason, cause := s.closeReason, s.closeCause
		s.mu.Unlock()
		fn(reason, cause)
		return
	}
	s.onClose = fn
	s.mu.Unlock()
}

// OnUpgrade sets the function called when the session has moved to another
// transport (from polling to WebSocket).
func (s *Session) OnUpgrade(fn func(transport string)) {
	s.mu.Lock()
	s.onUpgrade = fn
	s.mu.Unlock()
}

// Send queues messages for the client, in order and together (no other
// message is queued between them). It returns ErrClosed once the session is
// closing. The session keeps the Data slices until they are written: callers
// must not modify them. On an idle WebSocket session, Send writes from the
// caller's goroutine with one non-blocking write; it never waits for the peer.
func (s *Session) Send(msgs ...Message) error { return s.sendMessages(true, msgs) }

// Queue is Send for a caller that has more to send shortly (a handler
// goroutine with further events waiting, say): the messages are left to the
// server's flushers (or the session's writer goroutine), which write in one
// go whatever accumulated by the time they get to the session, where Send
// on an idle WebSocket writes at once, one system call per Send. Messages
// keep their order with those of Send.
func (s *Session) Queue(msgs ...Message) error { return s.sendMessages(false, msgs) }

func (s *Session) sendMessages(inline bool, msgs []Message) error {
	if len(msgs) == 1 {
		return s.enqueue(inline, outMsg{typ: eiocodec.Message, data: msgs[0].Data, binary: msgs[0].Binary, noCompress: msgs[0].NoCompress})
	}
	out := make([]outMsg, len(msgs))
	for i, m := range msgs {
		out[i] = outMsg{typ: eiocodec.Message, data: m.Data, binary: m.Binary, noCompress: m.NoCompress}
	}
	return s.enqueue(inline, out...)
}

// SendPrepared queues prepared messages, in order and together.
func (s *Session) SendPrepared(msgs ...*PreparedMessage) error {
	if len(msgs) == 1 {
		return s.enqueue(false, outMsg{typ: eiocodec.Message, prepared: msgs[0]})
	}
	out := make([]outMsg, len(msgs))
	for i, m := range msgs {
		out[i] = outMsg{typ: eiocodec.Message, prepared: m}
	}
	return s.enqueue(false, out...)
}

// enqueue queues msgs. With inline, an idle WebSocket writer is bypassed:
// the caller buffers the messages and tries one non-blocking write itself
// (writeInline); broadcasts (SendPrepared) and the heartbeat leave the
// writing to the server's flushers (see flushers), so that a broadcasting
// handler does not make the system calls for every recipient itself.
func (s *Session) enqueue(inline bool, msgs ...outMsg) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for i := range msgs {
		n += msgs[i].size()
	}
	if s.queued+n > s.srv.opts.MaxBufferedBytes {
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, ErrSlowConsumer)
		return ErrSlowConsumer
	}
	s.queue = append(s.queue, msgs...)
	s.queued += n
	if inline && s.transport == TransportWebSocket && !s.writing && s.ws != nil {
		if s.holdFlush {
			s.held = true // written at the end of the reader's burst
			s.mu.Unlock()
			return nil
		}
		if tf, ok := s.ws.(tryFlusher); ok {
			s.writing = true
			ws, batch := s.ws, s.takeQueueLocked()
			s.mu.Unlock()
			s.writeInline(ws, tf, batch)
			return nil
		}
	}
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// kickLocked makes the transport deliver the queue: it wakes a pending poll
// or starts the WebSocket writer.
func (s *Session) kickLocked() {
	if s.transport == TransportWebSocket {
		if !s.writing && s.ws != nil {
			s.writing = true
			if _, ok := s.ws.(tryFlusher); ok && s.state == stateOpen && !s.unflushed {
				s.scheduleFlushLocked() // see flushers
				return
			}
			s.srv.goroutines.Add()
			go s.startWriter()
		}
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// takeQueueLocked returns the queued messages and gives the session a fresh
// queue, recycling the slice of the previous batch.
func (s *Session) takeQueueLocked() []outMsg {
	batch := s.queue
	clear(s.spare)
	s.queue = s.spare[:0]
	s.spare = batch
	s.queued = 0
	return batch
}

var errHeartbeatDirection = errors.New("engineio: invalid heartbeat direction (ping from a v4 client)")

// handlePacket acts on one packet received on the session's transport. It
// reports false when the session is now closed.
func (s *Session) handlePacket(p eiocodec.Packet) bool {
	switch p.Type {
	case eiocodec.Pong:
		s.onPong()
	case eiocodec.Ping:
		s.closeWith(ReasonTransportError, errHeartbeatDirection)
		return false
	case eiocodec.Message:
		s.mu.Lock()
		open, fn := s.state == stateOpen, s.onMessage
		s.mu.Unlock()
		if open && fn != nil {
			fn(Message{Data: p.Data, Binary: p.Binary})
		}
	case eiocodec.Close:
		s.closeByClient()
		return false
	}
	// open, upgrade and noop packets from the client are ignored, as in Node.
	return true
}

// deliverOnReader calls the message callback from the WebSocket reader of
// generation gen. It reports whether ReleaseReader handed the reading to
// another goroutine meanwhile: then the caller must stop reading.
func (s *Session) deliverOnReader(p eiocodec.Packet, gen uint32, more bool) (released bool) {
	s.mu.Lock()
	fn := s.onMessage
	if s.state != stateOpen || fn == nil {
		s.mu.Unlock()
		return false
	}
	s.rdInCall = true
	s.rdHandedOn, s.rdWantRelease = false, false
	s.holdFlush = more
	s.mu.Unlock()
	fn(Message{Data: p.Data, Binary: p.Binary, FromReader: true})
	s.mu.Lock()
	released = s.rdGen != gen
	if !released {
		s.rdInCall = false
		s.holdFlush = false
	}
	s.mu.Unlock()
	return released
}

// trimIdle lets go what an idle session needs only when active: its send
// queue's slices (made again on the next message).
func (s *Session) trimIdle() {
	s.mu.Lock()
	if len(s.queue) == 0 && !s.writing {
		s.queue, s.spare = nil, nil
	}
	s.mu.Unlock()
}

// ReleaseReader hands the reading of the session's WebSocket to a new
// goroutine when an OnMessage callback is running on the reading goroutine
// (Message.FromReader): that callback may then block as long as it needs,
// for example waiting for an answer from this same client, without holding
// up the session's input. Once it returns, its goroutine reads no more.
// ReleaseReader reports whether such a callback was running. It is safe to
// call from any goroutine, and does nothing on a polling session. The next
// reader delivers the following messages at once, possibly before the
// released callback is done with its own: from another goroutine, use
// ReleaseReaderWhenHandedOn to keep the order. Answers held for the end of
// the reader's burst are sent at once.
func (s *Session) ReleaseReader() bool {
	s.mu.Lock()
	if !s.rdInCall || s.state == stateClosed || s.ws == nil {
		s.mu.Unlock()
		return false
	}
	s.releaseLocked()
	return true
}

// HandedOn tells the session that the OnMessage callback running on its
// reader has handed its message on (queued it, or started acting on it),
// so that a reader taking over can no longer overtake it: a
// ReleaseReaderWhenHandedOn asked for before happens now, later ones at
// once. Only such a callback may call it, from its own goroutine.
func (s *Session) HandedOn() {
	s.mu.Lock()
	if !s.rdInCall {
		s.mu.Unlock()
		return
	}
	s.rdHandedOn = true
	if s.rdWantRelease && s.state != stateClosed && s.ws != nil {
		s.releaseLocked()
		return
	}
	s.mu.Unlock()
}

// ReleaseReaderWhenHandedOn is ReleaseReader for a caller that must not let
// the next reader overtake the message in the callback's hands (a wait on
// another goroutine for this client's answer, say): the reading is handed
// over once the callback has called HandedOn, at once if it has. If the
// callback returns first, nothing happens: its reader reads on by itself.
func (s *Session) ReleaseReaderWhenHandedOn() {
	s.mu.Lock()
	if !s.rdInCall || s.state == stateClosed || s.ws == nil {
		s.mu.Unlock()
		return
	}
	if !s.rdHandedOn {
		s.rdWantRelease = true
		s.mu.Unlock()
		return
	}
	s.releaseLocked()
}

// releaseLocked hands the reading to a new goroutine; it unlocks s.mu.
func (s *Session) releaseLocked() {
	s.rdGen++
	s.rdInCall = false
	if s.holdFlush || s.held {
		// The burst's end is no longer in sight: the writer sends what
		// waits.
		s.holdFlush, s.held = false, false
		s.kickLocked()
	}
	gen, ws := s.rdGen, s.ws
	s.srv.goroutines.Add()
	s.mu.Unlock()
	go s.readFrom(ws, false, gen)
}

// flushHeld writes, at the end of the reader's burst, what sends left in
// the queue while it held the flush.
func (s *Session) flushHeld() {
	s.mu.Lock()
	if !s.held {
		s.mu.Unlock()
		return
	}
	s.held = false
	if s.state != stateOpen || s.writing || len(s.queue) == 0 || s.ws == nil {
		s.mu.Unlock()
		return
	}
	if tf, ok := s.ws.(tryFlusher); ok {
		s.writing = true
		ws, batch := s.ws, s.takeQueueLocked()
		s.mu.Unlock()
		s.writeInline(ws, tf, batch)
		return
	}
	s.kickLocked()
	s.mu.Unlock()
}

func (s *Session) closeByClient() {
	s.mu.Lock()
	s.closeByte = '6'
	// A close packet in a POST while no GET waits: the client may have sent
	// a GET along with it (on another connection) which the server has not
	// read yet. Node, reading in arrival order, would answer that GET with
	// a noop before the session goes; here it waits for it a little, so
	// that it gets the same answer instead of "unknown sid" (the official
	// suites' "forcefully closes the session").
	for i := 0; i < closeGraceSteps && s.transport == TransportPolling && !s.getActive && s.state == stateOpen; i++ {
		s.mu.Unlock()
		time.Sleep(closeGraceStep)
		s.mu.Lock()
	}
	s.mu.Unlock()
	s.closeWith(ReasonTransportClose, nil)
}

// closeByClient waits at most closeGraceSteps*closeGraceStep for a GET.
const (
	closeGraceSteps = 25
	closeGraceStep  = 2 * time.Millisecond
)

// Close closes the session gracefully: what is queued is sent first, then a
// close packet; the close reason is "forced close". It does not wait.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return nil
	}
	s.state = stateClosing
	if s.probeWS != nil {
		s.probeWS.CloseNow()
	}
	if s.transport == TransportWebSocket {
		// Before the handshake has attached the WebSocket (s.ws == nil), the
		// handshake starts the writer itself.
		if !s.writing && s.ws != nil {
			s.writing = true
			s.srv.goroutines.Add()
			go s.startWriter()
		}
		s.mu.Unlock()
		return nil
	}
	// Polling: the pending or next GET carries the queue, the one after it
	// the close packet (servePoll).
	// Without a GET within a while the session is closed anyway, as Node does.
	s.closeTimer = time.AfterFunc(s.srv.opts.PingInterval+s.srv.opts.PingTimeout, func() {
		s.closeWith(ReasonForcedClose, nil)
	})
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// closeWith closes the session at once. Only the first call has an effect.
func (s *Session) closeWith(reason string, cause error) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.closeReason, s.closeCause = reason, cause
	s.srv.hb.cancel(s)
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	clear(s.queue)
	s.queue = nil
	s.spare = nil
	s.queued = 0
	ws, probe := s.ws, s.probeWS
	s.probeWS = nil
	if reason != ReasonForcedClose {
		cutHTTP(s.pollW, s.postW)
	}
	// Wake a pending GET so that it answers with the close (or noop) packet.
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.mu.Unlock()

	if ws != nil {
		// Out of the poller's set while the descriptor is still open
		// (only a WebSocket session is ever parked).
		s.srv.park.unpark(s)
		// A graceful close frame was already written by writeLoop where one is due.
		ws.CloseNow()
	}
	if probe != nil {
		probe.CloseNow()
	}
	s.srv.remove(s)
	s.ctx.Cancel()
	s.srv.log.Debug("engineio: session closed", "sid", s.id, "reason", reason, "cause", cause)
	s.mu.Lock()
	fn := s.onClose
	notify := fn != nil && !s.closeNotified
	s.closeNotified = s.closeNotified || notify
	s.mu.Unlock()
	if notify {
		fn(reason, cause)
	}
	s.srv.goroutines.Done()
}

// Writable reports whether a message sent now would leave at once: a poll is
// waiting, or the WebSocket writer is idle. Volatile messages are dropped
// when it is false, as Node does.
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return false
	}
	if s.transport == TransportWebSocket {
		return !s.writing && len(s.queue) == 0
	}
	return s.getActive && len(s.queue) == 0
}

// RemoteAddr returns the network address of the client that opened the session.
func (s *Session) RemoteAddr() string { return s.reqRemote }
