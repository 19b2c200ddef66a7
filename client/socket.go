package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/socketio-go/socketio/parser"
)

// Socket is the connection to one namespace, multiplexed with the other
// namespaces of its Manager on one Engine.IO connection. It is safe for
// concurrent use. Its handlers run one at a time, in the order the packets
// arrived.
type Socket struct {
	m    *Manager
	nsp  string
	opts SocketOptions

	listeners    handlers[*listener]
	anyIn        handlers[func(*Event)]
	anyOut       handlers[func(string, Args)]
	onConnect    handlers[func()]
	onConnectErr handlers[func(error)]
	onDisconnect handlers[func(string, error)]

	mu         sync.Mutex
	active     bool   // wants to be connected
	connected  bool   // the server accepted the connection
	gen        uint64 // the Manager connection the socket is connected on
	connectGen uint64 // the Manager connection a CONNECT was sent on
	id         string
	pid        string // connection state recovery: private session id
	offset     string // ... and the offset of the last packet received
	hasOffset  bool
	recovered  bool
	ctx        context.Context
	cancel     context.CancelFunc
	sendBuffer []*parser.Packet
	recvBuffer []*Event
	ids        uint64
	acks       map[uint64]*pendingAck
	queue      []*queuedEmit
	queueSeq   uint64
}

type listener struct {
	event string
	fn    func(*Event)
	once  bool
	done  bool
}

type pendingAck struct {
	fn    func(Args, error)
	timer *time.Timer
}

// queuedEmit is an emit waiting in the retry queue (SocketOptions.Retries).
type queuedEmit struct {
	id       uint64
	event    string
	args     []any
	flags    flags
	tries    int
	pending  bool
	callback func(Args, error)
}

// flags modify one emit.
type flags struct {
	timeout   time.Duration
	volatile  bool
	compress  *bool
	fromQueue bool
}

var cancelledCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func newSocket(m *Manager, nsp string, o *SocketOptions) *Socket {
	s := &Socket{m: m, nsp: nsp, ctx: cancelledCtx, cancel: func() {}, acks: map[uint64]*pendingAck{}}
	if o != nil {
		s.opts = *o
	}
	return s
}

// Manager returns the socket's Manager.
func (s *Socket) Manager() *Manager { return s.m }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// ID returns the socket id the server gave, "" while disconnected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Active reports whether the socket is connected or trying to (it is not
// after Disconnect or a refusal by the server).
func (s *Socket) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Recovered reports whether the last connection restored the previous
// session (connection state recovery): same id, rooms, and the packets
// missed while disconnected were delivered.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// Context returns a context cancelled when the socket disconnects (already
// cancelled while it is not connected).
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// Connect connects the socket (the Manager's connection opens if needed).
// It does not wait: see OnConnect and OnConnectError, or use the package's
// Connect function.
func (s *Socket) Connect() {
	s.mu.Lock()
	if s.connected {
		s.mu.Unlock()
		return
	}
	s.active = true
	s.mu.Unlock()
	if !s.m.ensureOpen() {
		return
	}
	if gen := s.m.currentGen(); gen != 0 {
		s.onOpen(context.Background(), gen)
	}
}

// Disconnect disconnects the socket ("io client disconnect") and stops it
// from reconnecting; the Manager's connection closes if no other socket
// uses it. Connect connects it again.
func (s *Socket) Disconnect() {
	s.mu.Lock()
	wasConnected := s.connected
	if wasConnected {
		_, _ = s.m.writePacket(s.gen, &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
	}
	s.active = false
	s.connectGen = 0
	var after func()
	if wasConnected {
		after = s.closeLocked(ReasonIOClientDisconnect, nil)
	}
	s.mu.Unlock()
	if after != nil {
		after()
	}
	s.m.socketInactive()
}

// Close is Disconnect.
func (s *Socket) Close() error {
	s.Disconnect()
	return nil
}

// abandon fails everything still waiting, when the Manager closes.
func (s *Socket) abandon() {
	s.mu.Lock()
	var fns []func(Args, error)
	for id, a := range s.acks {
		if a.timer != nil {
			a.timer.Stop()
		}
		fns = append(fns, a.fn)
		delete(s.acks, id)
	}
	for _, q := range s.queue {
		if q.callback != nil {
			fns = append(fns, q.callback)
		}
	}
	s.queue, s.sendBuffer, s.recvBuffer = nil, nil, nil
	s.mu.Unlock()
	for _, fn := range fns {
		fn(Args{}, ErrClosed)
	}
}

// On adds a handler for an event; off removes it.
func (s *Socket) On(event string, fn func(*Event)) (off func()) {
	return s.listeners.add(&listener{event: event, fn: fn})
}

// Once adds a handler called for the next occurrence of the event only.
func (s *Socket) Once(event string, fn func(*Event)) (off func()) {
	return s.listeners.add(&listener{event: event, fn: fn, once: true})
}

// Off removes every handler of the event.
func (s *Socket) Off(event string) {
	s.listeners.removeIf(func(l *listener) bool { return l.event == event })
}

// OnAny adds a handler called for every event received, before the
// event's own handlers.
func (s *Socket) OnAny(fn func(*Event)) (off func()) { return s.anyIn.add(fn) }

// OnAnyOutgoing adds a handler called for every event sent, with its
// arguments as encoded.
func (s *Socket) OnAnyOutgoing(fn func(event string, args Args)) (off func()) {
	return s.anyOut.add(fn)
}

// OnConnect adds a handler called each time the socket connects.
func (s *Socket) OnConnect(fn func()) (off func()) { return s.onConnect.add(fn) }

// OnConnectError adds a handler called when a connection attempt fails:
// with a *ConnectError when the server refused the namespace (the socket
// then stops trying), or with the error of the Manager's connection (it
// keeps trying while reconnection is on).
func (s *Socket) OnConnectError(fn func(err error)) (off func()) { return s.onConnectErr.add(fn) }

// OnDisconnect adds a handler called when the socket disconnects, with
// socket.io-client's reason (ReasonIOServerDisconnect, ReasonTransportClose,
// ...) and the error behind it, if any.
func (s *Socket) OnDisconnect(fn func(reason string, err error)) (off func()) {
	return s.onDisconnect.add(fn)
}

// Emit sends an event. While the socket is disconnected the event is
// buffered and sent, in order, once it connects.
func (s *Socket) Emit(event string, args ...any) error {
	_, err := s.emit(event, args, flags{}, nil)
	return err
}

// EmitWithAck sends an event and waits for the server's acknowledgement,
// until ctx is done, the AckTimeout passes (ErrTimeout) or the socket
// disconnects (ErrDisconnected).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, event, args, flags{})
}

// Timeout returns an emitter whose acknowledgements time out after d with
// ErrTimeout.
func (s *Socket) Timeout(d time.Duration) *Emitter { return &Emitter{s: s, f: flags{timeout: d}} }

// Volatile returns an emitter whose events are dropped, rather than
// buffered, when they cannot be sent right away.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, f: flags{volatile: true}} }

// Compress returns an emitter with compression set as given (kept for
// parity with the JS client; this client does not compress).
func (s *Socket) Compress(compress bool) *Emitter {
	return &Emitter{s: s, f: flags{compress: &compress}}
}

// Emitter sends events on one socket with flags (timeout, volatile,
// compress). It is safe for concurrent use.
type Emitter struct {
	s *Socket
	f flags
}

// Timeout sets the acknowledgement timeout.
func (e *Emitter) Timeout(d time.Duration) *Emitter { f := e.f; f.timeout = d; return &Emitter{e.s, f} }

// Volatile marks the events as droppable.
func (e *Emitter) Volatile() *Emitter { f := e.f; f.volatile = true; return &Emitter{e.s, f} }

// Compress sets compression.
func (e *Emitter) Compress(c bool) *Emitter { f := e.f; f.compress = &c; return &Emitter{e.s, f} }

// Emit sends an event.
func (e *Emitter) Emit(event string, args ...any) error {
	_, err := e.s.emit(event, args, e.f, nil)
	return err
}

// EmitWithAck sends an event and waits for its acknowledgement.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, event, args, e.f)
}

type ackResult struct {
	args Args
	err  error
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, f flags) (Args, error) {
	ch := make(chan ackResult, 1)
	id, err := s.emit(event, args, f, func(a Args, err error) { ch <- ackResult{a, err} })
	if err != nil {
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		if id != nil {
			s.dropAck(*id)
		}
		return Args{}, ctx.Err()
	}
}

// emit sends or buffers an event; ack, when set, receives the
// acknowledgement. It returns the ack id (nil for queued emits).
func (s *Socket) emit(event string, args []any, f flags, ack func(Args, error)) (*uint64, error) {
	if reservedEvents[event] {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Retries > 0 && !f.fromQueue && !f.volatile {
		s.queueSeq++
		s.queue = append(s.queue, &queuedEmit{id: s.queueSeq, event: event, args: args, flags: f, callback: ack})
		s.drainQueueLocked(false)
		return nil, nil
	}
	id := s.emitLocked(data, atts, f, ack)
	return id, nil
}

// emitLocked is emit once the packet is encoded; s.mu is held.
func (s *Socket) emitLocked(data json.RawMessage, atts [][]byte, f flags, ack func(Args, error)) *uint64 {
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp, Data: data, Attachments: atts}
	var idp *uint64
	if ack != nil {
		id := s.ids
		s.ids++
		idp = &id
		p.ID, p.HasID = id, true
		pa := &pendingAck{fn: ack}
		timeout := f.timeout
		if timeout == 0 {
			timeout = s.opts.AckTimeout
		}
		if timeout > 0 {
			pa.timer = time.AfterFunc(timeout, func() { s.ackTimedOut(id) })
		}
		s.acks[id] = pa
	}
	eng := s.m.current(s.gen)
	connected := s.connected && eng != nil && !eng.pingExpired()
	switch {
	case f.volatile && !(connected && eng.writable()):
		s.m.opts.Logger.Debug("socket.io: volatile packet discarded", "nsp", s.nsp)
	case connected:
		s.notifyOutgoing(p)
		_, _ = s.m.writePacket(s.gen, p)
	default:
		s.sendBuffer = append(s.sendBuffer, p)
	}
	return idp
}

func (s *Socket) notifyOutgoing(p *parser.Packet) {
	fns := s.anyOut.view()
	if len(fns) == 0 {
		return
	}
	all, err := p.Args()
	if err != nil || all.Len() == 0 {
		return
	}
	name := eventName(all.Raw()[0])
	args := all.From(1)
	for _, fn := range fns {
		s.m.emit(func() { (*fn)(name, args) })
	}
}

// drainQueueLocked sends the head of the retry queue unless it is in
// flight (force resends it, after a reconnection).
func (s *Socket) drainQueueLocked(force bool) {
	if !s.connected || len(s.queue) == 0 {
		return
	}
	q := s.queue[0]
	if q.pending && !force {
		return
	}
	q.pending = true
	q.tries++
	data, atts, err := parser.MarshalEvent(q.event, q.args)
	if err != nil {
		return // cannot happen: it was encoded once already
	}
	f := q.flags
	f.fromQueue = true
	s.emitLocked(data, atts, f, func(a Args, err error) { s.onQueueAck(q, a, err) })
}

func (s *Socket) onQueueAck(q *queuedEmit, a Args, err error) {
	s.mu.Lock()
	if len(s.queue) == 0 || s.queue[0] != q {
		s.mu.Unlock()
		return // already acknowledged
	}
	var done func()
	if err != nil {
		if q.tries > s.opts.Retries {
			s.queue = s.queue[1:]
			if q.callback != nil {
				done = func() { q.callback(Args{}, err) }
			}
		}
	} else {
		s.queue = s.queue[1:]
		if q.callback != nil {
			done = func() { q.callback(a, nil) }
		}
	}
	q.pending = false
	s.drainQueueLocked(false)
	s.mu.Unlock()
	if done != nil {
		done()
	}
}

func (s *Socket) ackTimedOut(id uint64) {
	s.mu.Lock()
	a := s.acks[id]
	delete(s.acks, id)
	s.sendBuffer = slices.DeleteFunc(s.sendBuffer, func(p *parser.Packet) bool { return p.HasID && p.ID == id })
	s.mu.Unlock()
	if a != nil {
		a.fn(Args{}, ErrTimeout)
	}
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	if a := s.acks[id]; a != nil && a.timer != nil {
		a.timer.Stop()
	}
	delete(s.acks, id)
	s.sendBuffer = slices.DeleteFunc(s.sendBuffer, func(p *parser.Packet) bool { return p.HasID && p.ID == id })
	s.mu.Unlock()
}

func (s *Socket) sendAck(id uint64, args []any) error {
	data, atts, err := parser.MarshalArgs(args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	_, err = s.m.writePacket(gen, &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id, HasID: true, Data: data, Attachments: atts})
	return err
}

// onOpen sends the CONNECT packet on the Manager's new connection.
func (s *Socket) onOpen(ctx context.Context, gen uint64) {
	s.mu.Lock()
	if !s.active || s.connected || s.connectGen == gen {
		s.mu.Unlock()
		return
	}
	s.connectGen = gen
	auth, authFn := s.opts.Auth, s.opts.AuthFunc
	pid, offset, hasOffset := s.pid, s.offset, s.hasOffset
	s.mu.Unlock()
	if authFn != nil {
		a, err := authFn(ctx)
		if err != nil {
			s.connectError(fmt.Errorf("client: auth: %w", err))
			return
		}
		auth = a
	}
	data, err := connectPayload(auth, pid, offset, hasOffset)
	if err != nil {
		s.connectError(err)
		return
	}
	_, _ = s.m.writePacket(gen, &parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: data})
}

// connectPayload is the CONNECT data: the auth object, preceded by the
// recovery fields (Object.assign({pid, offset}, auth) in the JS client).
func connectPayload(auth any, pid, offset string, hasOffset bool) (json.RawMessage, error) {
	var a []byte
	if auth != nil {
		var err error
		if a, err = json.Marshal(auth); err != nil {
			return nil, fmt.Errorf("client: auth: %w", err)
		}
		if string(a) == "null" {
			a = nil
		} else if len(a) == 0 || a[0] != '{' {
			return nil, errors.New("client: auth must encode as a JSON object")
		}
	}
	if pid == "" {
		return a, nil
	}
	out := []byte(`{"pid":`)
	out = strconv.AppendQuote(out, pid) // pid and offset are the server's ASCII ids
	if hasOffset {
		out = append(out, `,"offset":`...)
		out = appendJSONString(out, offset)
	}
	if len(a) > 2 {
		out = append(out, ',')
		out = append(out, a[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func (s *Socket) connectError(err error) {
	for _, fn := range s.onConnectErr.snapshot() {
		s.m.emit(func() { fn(err) })
	}
}

// onManagerError reports a failed connection attempt to a socket that is
// not connected.
func (s *Socket) onManagerError(err error) {
	if !s.Connected() {
		s.connectError(err)
	}
}

// onPacket handles a packet for this namespace, on the connection's reader.
func (s *Socket) onPacket(p *parser.Packet) {
	if !s.Active() {
		return
	}
	switch p.Type {
	case parser.Connect:
		var d struct {
			SID string `json:"sid"`
			PID string `json:"pid"`
		}
		if len(p.Data) > 0 {
			_ = json.Unmarshal(p.Data, &d)
		}
		if d.SID == "" {
			s.connectError(errors.New("It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)"))
			return
		}
		s.onConnected(d.SID, d.PID)
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.mu.Lock()
		s.active, s.connectGen = false, 0
		after := s.closeLocked(ReasonIOServerDisconnect, nil)
		s.mu.Unlock()
		after()
		s.m.socketInactive()
	case parser.ConnectError:
		s.mu.Lock()
		s.active, s.connectGen = false, 0
		s.mu.Unlock()
		s.connectError(parseConnectError(p.Data))
		s.m.socketInactive()
	}
}

func parseConnectError(data json.RawMessage) *ConnectError {
	ce := &ConnectError{}
	var obj struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &obj) == nil && obj.Message != "" {
		ce.Message, ce.Data = obj.Message, obj.Data
	} else {
		var msg string
		if json.Unmarshal(data, &msg) == nil {
			ce.Message = msg
		} else {
			ce.Message = string(data)
		}
	}
	if string(ce.Data) == "null" {
		ce.Data = nil
	}
	return ce
}

func (s *Socket) onConnected(sid, pid string) {
	s.mu.Lock()
	gen := s.connectGen
	if s.m.current(gen) == nil || s.connected {
		s.mu.Unlock()
		return
	}
	s.id = sid
	s.recovered = pid != "" && s.pid == pid
	s.pid = pid
	s.connected = true
	s.gen = gen
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, ev := range s.recvBuffer {
		s.deliverLocked(ev)
	}
	s.recvBuffer = nil
	for _, p := range s.sendBuffer {
		s.notifyOutgoing(p)
		_, _ = s.m.writePacket(gen, p)
	}
	s.sendBuffer = nil
	s.drainQueueLocked(true)
	for _, fn := range s.onConnect.snapshot() {
		s.m.emit(fn)
	}
	s.mu.Unlock()
}

// eventName returns the value of an event's name, a JSON string or number
// the decoder has validated. A string without escapes that is valid UTF-8
// is its own value, with no JSON decoding.
func eventName(raw json.RawMessage) string {
	if n := len(raw); n >= 2 && raw[0] == '"' {
		if in := raw[1 : n-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			return string(in)
		}
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return name
	}
	return string(raw) // a number
}

func (s *Socket) onEvent(p *parser.Packet) {
	all, err := p.Args()
	if err != nil || all.Len() == 0 {
		return // the decoder has already checked the payload
	}
	ev := &Event{
		Name:   eventName(all.Raw()[0]),
		Args:   all.From(1),
		socket: s, id: p.ID, hasAck: p.HasID,
	}
	s.mu.Lock()
	if s.connected {
		s.deliverLocked(ev)
	} else {
		s.recvBuffer = append(s.recvBuffer, ev)
	}
	s.mu.Unlock()
}

// deliverLocked queues an event for its handlers and, with connection
// state recovery, records its offset (the last argument, a string).
func (s *Socket) deliverLocked(ev *Event) {
	if s.pid != "" && !ev.hasAck && ev.Len() > 0 {
		// The server's offsets are plain ASCII strings: no JSON decoding.
		if off, err := ev.DecodeString(ev.Len() - 1); err == nil {
			s.offset, s.hasOffset = off, true
		}
	}
	anys := s.anyIn.view()
	ls := s.listeners.view()
	s.m.emit(func() {
		for _, fn := range anys {
			(*fn)(ev)
		}
		for _, p := range ls {
			l := *p
			if l.event != ev.Name {
				continue
			}
			if l.once {
				s.listeners.mu.Lock()
				done := l.done
				l.done = true
				s.listeners.mu.Unlock()
				s.listeners.removeIf(func(q *listener) bool { return q == l })
				if done {
					continue
				}
			}
			l.fn(ev)
		}
	})
}

func (s *Socket) onAck(p *parser.Packet) {
	s.mu.Lock()
	a := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if a == nil {
		return
	}
	if a.timer != nil {
		a.timer.Stop()
	}
	args, err := p.Args()
	if err != nil {
		a.fn(Args{}, err)
		return
	}
	a.fn(args, nil)
}

// onEngineClose handles the end of the Manager's connection gen.
func (s *Socket) onEngineClose(gen uint64, reason string, err error) {
	s.mu.Lock()
	if !s.connected || s.gen != gen {
		s.mu.Unlock()
		return
	}
	after := s.closeLocked(reason, err)
	s.mu.Unlock()
	after()
}

// closeLocked marks the socket disconnected; the returned function, called
// without s.mu, fails the acknowledgements still awaited (except those of
// buffered packets) and queues the disconnect handlers.
func (s *Socket) closeLocked(reason string, err error) func() {
	if !s.connected {
		return func() {}
	}
	s.connected = false
	s.id = ""
	s.cancel()
	var fns []func(Args, error)
	for id, a := range s.acks {
		if slices.ContainsFunc(s.sendBuffer, func(p *parser.Packet) bool { return p.HasID && p.ID == id }) {
			continue
		}
		if a.timer != nil {
			a.timer.Stop()
		}
		fns = append(fns, a.fn)
		delete(s.acks, id)
	}
	handlers := s.onDisconnect.snapshot()
	return func() {
		for _, fn := range handlers {
			s.m.emit(func() { fn(reason, err) })
		}
		for _, fn := range fns {
			fn(Args{}, ErrDisconnected)
		}
	}
}
