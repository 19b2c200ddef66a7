package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/internal/lazyctx"
	"github.com/socketio-go/socketio/parser"
)

// Disconnect reasons, with socket.io's strings.
const (
	ReasonTransportError            = engineio.ReasonTransportError
	ReasonTransportClose            = engineio.ReasonTransportClose
	ReasonForcedClose               = engineio.ReasonForcedClose
	ReasonPingTimeout               = engineio.ReasonPingTimeout
	ReasonParseError                = engineio.ReasonParseError
	ReasonServerShuttingDown        = "server shutting down"
	ReasonForcedServerClose         = "forced server close"
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
)

// recoverable lists the disconnect reasons after which a session is kept
// for connection state recovery, as in socket.io.
var recoverable = map[string]bool{
	ReasonTransportError:     true,
	ReasonTransportClose:     true,
	ReasonForcedClose:        true,
	ReasonPingTimeout:        true,
	ReasonServerShuttingDown: true,
	ReasonForcedServerClose:  true,
}

// isReserved reports whether event is a name an application may not emit
// (a switch: cheaper than a map lookup on every emit).
func isReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Handshake describes the connection of a socket, as socket.io's
// socket.handshake does.
type Handshake struct {
	Headers http.Header
	// Time is when the socket was created, in JavaScript's Date string form.
	Time string
	// Address is the client's IP address.
	Address string
	// XDomain reports whether the request had an Origin header.
	XDomain bool
	// Secure reports whether the connection used TLS.
	Secure bool
	// Issued is the creation time in milliseconds since the Unix epoch.
	Issued int64
	// URL is the request URL of the first request.
	URL string
	// Query is the query of the first request.
	Query url.Values
	// Auth is the payload of the client's CONNECT packet ({} when none).
	Auth json.RawMessage
}

// BindAuth decodes the auth payload into v.
func (h *Handshake) BindAuth(v any) error { return json.Unmarshal(h.Auth, v) }

type listener struct {
	name string // the event (empty for catch-all and outgoing listeners)
	fn   func(*Event)
	once bool
	// plain: name is valid UTF-8 without a backslash, so that a JSON
	// string token whose content has the same bytes holds no escape and
	// decodes to name (handledName).
	plain bool
}

func newListener(event string, fn func(*Event), once bool) *listener {
	return &listener{name: event, fn: fn, once: once, plain: utf8.ValidString(event) && strings.IndexByte(event, '\\') < 0}
}

// handledName returns the name of a handled event equal to the JSON string
// tok (valid JSON, as the decoder checked), without decoding tok: a token
// whose content is byte for byte a plain listener's name has no escape and
// is valid UTF-8, so its value is that name.
func (s *Socket) handledName(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	in := tok[1 : len(tok)-1]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.handlers {
		if l.plain && l.name == string(in) {
			return l.name, true
		}
	}
	return "", false
}

// socketHooks holds what a socket has only when the application adds it:
// catch-all listeners, middlewares, error and disconnection handlers (six
// slice headers an idle socket would otherwise carry). Guarded by the
// socket's mu.
type socketHooks struct {
	anyListeners  []*listener
	outListeners  []*outListener
	middlewares   []func(*Event) error
	errorHandlers []func(error)
	disconnecting []func(reason string)
	disconnect    []func(reason string)
}

// noHooks is what readHooks returns for a socket without hooks; never
// written.
var noHooks socketHooks

// hk returns the socket's hooks, made on first use, to change them. Called
// with mu held.
func (s *Socket) hk() *socketHooks {
	if s.hooks == nil {
		s.hooks = &socketHooks{}
	}
	return s.hooks
}

// readHooks returns the socket's hooks, to read only. Called with mu held.
func (s *Socket) readHooks() *socketHooks {
	if s.hooks == nil {
		return &noHooks
	}
	return s.hooks
}

type outListener struct {
	fn func(event string, args Args)
}

// Socket is a client's connection to one namespace. It is safe for
// concurrent use. Its event handlers run one at a time, in the order the
// events arrived (see "Ordering and concurrency" in the package
// documentation for the goroutine they run on).
type Socket struct {
	id        string
	pid       string
	nsp       *Namespace
	client    *client
	handshake atomic.Pointer[Handshake] // made on first Handshake call
	issued    int64                     // when the socket connected (Unix nanoseconds)
	auth      json.RawMessage           // the CONNECT packet's payload
	ctx       lazyctx.Ctx
	// outgoing: the socket has outgoing catch-all listeners (read without
	// mu by every broadcast to it, written under mu with the listeners).
	// The fields from here to data are ordered to fill the padding.
	outgoing atomic.Bool

	mu        sync.Mutex
	connected bool
	closing   bool // disconnect under way: new events are dropped
	recovered bool // not guarded by mu: set before the socket is shared
	data      any
	// handlers: the event listeners, in the order added, each with its
	// event's name (a socket listens to a handful of events: one slice
	// scanned in order is as fast as a map and far smaller). Replaced, never
	// changed in place, except by appending: a dispatch iterates a snapshot.
	handlers []*listener
	hooks    *socketHooks // made by the first hook added
	acks     map[uint64]func(Args)

	qmu     sync.Mutex
	queue   []func()
	running bool
}

func newSocket(nsp *Namespace, c *client, auth json.RawMessage, sess *PersistedSession) *Socket {
	s := &Socket{nsp: nsp, client: c}
	if sess != nil {
		s.id, s.pid, s.data, s.recovered = sess.SID, sess.PID, sess.Data, true
	} else {
		s.id = newID()
		if nsp.srv.opts.ConnectionStateRecovery != nil {
			s.pid = newID()
		}
	}
	s.issued, s.auth = time.Now().UnixNano(), auth
	if sess != nil {
		s.nsp.adapter.AddAll(s.id, sess.Rooms)
		for _, mp := range sess.MissedPackets {
			c.writePacket(mp, Flags{})
		}
	}
	return s
}

// ID returns the socket id (not the Engine.IO session id, which stays private).
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the details of the socket's connection.
func (s *Socket) Handshake() *Handshake {
	if h := s.handshake.Load(); h != nil {
		return h
	}
	// Made on first use: many servers never look at it, and its strings
	// and parsed query are a tenth of an idle connection. Two first calls
	// at once make equal values; the first stored wins.
	{
		r := s.client.conn.Request()
		addr := r.RemoteAddr
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
		issued := time.Unix(0, s.issued)
		s.handshake.CompareAndSwap(nil, &Handshake{
			Headers: r.Header,
			Time:    issued.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"),
			Address: addr,
			XDomain: r.Header.Get("Origin") != "",
			Secure:  r.TLS != nil,
			Issued:  issued.UnixMilli(),
			URL:     r.URL.RequestURI(),
			Query:   r.URL.Query(),
			Auth:    s.auth,
		})
	}
	return s.handshake.Load()
}

// Conn returns the underlying Engine.IO session.
func (s *Socket) Conn() *engineio.Session { return s.client.conn }

// Context returns a context cancelled when the socket disconnects.
func (s *Socket) Context() context.Context { return s.ctx.Context() }

// Recovered reports whether the socket's state was restored by connection
// state recovery.
func (s *Socket) Recovered() bool { return s.recovered }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// active reports whether the socket is connected and not disconnecting.
func (s *Socket) active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected && !s.closing
}

// Data returns the application's data attached to the socket.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData attaches application data to the socket; it is kept across a
// connection state recovery and visible to FetchSockets.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On adds a handler for an event; off removes it.
func (s *Socket) On(event string, fn func(*Event)) (off func()) {
	return s.addListener(newListener(event, fn, false))
}

// Once adds a handler called for the next occurrence of the event only.
func (s *Socket) Once(event string, fn func(*Event)) (off func()) {
	return s.addListener(newListener(event, fn, true))
}

func (s *Socket) addListener(l *listener) func() {
	s.mu.Lock()
	s.handlers = append(s.handlers, l)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.handlers = without(s.handlers, l)
		s.mu.Unlock()
	}
}

// Off removes every handler of the event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	var keep []*listener
	for _, l := range s.handlers {
		if l.name != event {
			keep = append(keep, l)
		}
	}
	s.handlers = keep
	s.mu.Unlock()
}

// OnAny adds a handler called for every event, before the event's own handlers.
func (s *Socket) OnAny(fn func(*Event)) (off func()) {
	l := &listener{fn: fn}
	s.mu.Lock()
	s.hk().anyListeners = append(s.hk().anyListeners, l)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hk().anyListeners = without(s.hk().anyListeners, l)
		s.mu.Unlock()
	}
}

// PrependAny adds a catch-all handler that runs before the others.
func (s *Socket) PrependAny(fn func(*Event)) (off func()) {
	l := &listener{fn: fn}
	s.mu.Lock()
	s.hk().anyListeners = append([]*listener{l}, s.hk().anyListeners...)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hk().anyListeners = without(s.hk().anyListeners, l)
		s.mu.Unlock()
	}
}

// OffAny removes every catch-all handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.hk().anyListeners = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler called for every event sent to the client.
func (s *Socket) OnAnyOutgoing(fn func(event string, args Args)) (off func()) {
	l := &outListener{fn: fn}
	s.mu.Lock()
	s.hk().outListeners = append(s.hk().outListeners, l)
	s.outgoing.Store(true)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hk().outListeners = without(s.hk().outListeners, l)
		s.outgoing.Store(len(s.hk().outListeners) > 0)
		s.mu.Unlock()
	}
}

// PrependAnyOutgoing adds an outgoing catch-all handler that runs before the others.
func (s *Socket) PrependAnyOutgoing(fn func(event string, args Args)) (off func()) {
	l := &outListener{fn: fn}
	s.mu.Lock()
	s.hk().outListeners = append([]*outListener{l}, s.hk().outListeners...)
	s.outgoing.Store(true)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hk().outListeners = without(s.hk().outListeners, l)
		s.outgoing.Store(len(s.hk().outListeners) > 0)
		s.mu.Unlock()
	}
}

// OffAnyOutgoing removes every outgoing catch-all handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.hk().outListeners = nil
	s.outgoing.Store(false)
	s.mu.Unlock()
}

// Use adds a middleware run for every incoming event, after the catch-all
// handlers and before the event's handlers. An error stops the event and
// goes to the error handlers.
func (s *Socket) Use(fn func(*Event) error) {
	s.mu.Lock()
	s.hk().middlewares = append(s.hk().middlewares, fn)
	s.mu.Unlock()
}

// OnError adds a handler for errors: a socket middleware's error, an
// argument that does not decode, a protocol violation by the client.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.hk().errorHandlers = append(s.hk().errorHandlers, fn)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler called when the socket is about to
// disconnect, while it is still in its rooms.
func (s *Socket) OnDisconnecting(fn func(reason string)) {
	s.mu.Lock()
	s.hk().disconnecting = append(s.hk().disconnecting, fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler called once the socket has disconnected, with
// the reason (one of the Reason constants).
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.hk().disconnect = append(s.hk().disconnect, fn)
	s.mu.Unlock()
}

func without[T comparable](list []T, v T) []T {
	for i, x := range list {
		if x == v {
			out := make([]T, 0, len(list)-1)
			out = append(out, list[:i]...)
			return append(out, list[i+1:]...)
		}
	}
	return list
}

// Join adds the socket to rooms.
// A middleware may join rooms too: they are left if it refuses the socket.
// Once the socket is disconnecting, Join does nothing.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	s.nsp.adapter.AddAll(s.id, rooms)
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.nsp.adapter.Del(s.id, r)
	}
}

// Rooms returns the rooms the socket is in, its own room (named after its id) included.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// Emit sends an event to the client.
func (s *Socket) Emit(event string, args ...any) error { return s.emit(event, args, Flags{}) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done or the socket disconnects.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, event, args, Flags{})
}

// Timeout returns an emitter whose EmitWithAck gives up after d with ErrTimeout.
func (s *Socket) Timeout(d time.Duration) *Emitter { return &Emitter{s: s, flags: Flags{Timeout: d}} }

// Volatile returns an emitter whose events are dropped when the client is
// not ready to receive them.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, flags: Flags{Volatile: true}} }

// Compress returns an emitter with compression set as given.
func (s *Socket) Compress(compress bool) *Emitter {
	return &Emitter{s: s, flags: Flags{Compress: &compress}}
}

// Emitter sends events to one socket with flags (volatile, timeout, compress).
type Emitter struct {
	s     *Socket
	flags Flags
}

// Timeout sets the acknowledgement timeout.
func (e *Emitter) Timeout(d time.Duration) *Emitter {
	f := e.flags
	f.Timeout = d
	return &Emitter{s: e.s, flags: f}
}

// Volatile marks the events as droppable.
func (e *Emitter) Volatile() *Emitter {
	f := e.flags
	f.Volatile = true
	return &Emitter{s: e.s, flags: f}
}

// Compress sets compression.
func (e *Emitter) Compress(compress bool) *Emitter {
	f := e.flags
	f.Compress = &compress
	return &Emitter{s: e.s, flags: f}
}

// Emit sends an event.
func (e *Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.flags) }

// EmitWithAck sends an event and waits for its acknowledgement.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, event, args, e.flags)
}

func (s *Socket) eventPacket(event string, args []any) (*parser.Packet, error) {
	if isReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args)
	if err != nil {
		return nil, err
	}
	return &parser.Packet{Type: parser.Event, Namespace: s.nsp.name, Data: data, Attachments: atts}, nil
}

func (s *Socket) emit(event string, args []any, f Flags) error {
	s.mu.Lock()
	outListeners, connected := len(s.readHooks().outListeners) > 0, s.connected
	s.mu.Unlock()
	if s.nsp.srv.opts.ConnectionStateRecovery == nil && !outListeners {
		// The common case, in one buffer: no Packet for the adapter or
		// the outgoing listeners to see.
		if isReserved(event) {
			return fmt.Errorf("%w: %q", ErrReservedEvent, event)
		}
		text, atts, ok, err := s.encodeArgs(false, 0, event, args)
		if err != nil {
			return err
		}
		if ok {
			if !connected {
				return ErrDisconnected
			}
			return s.client.writeEncoded(text, atts, f)
		}
	}
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	if !s.Connected() {
		return ErrDisconnected
	}
	if s.nsp.srv.opts.ConnectionStateRecovery != nil {
		// Through the adapter, so that the packet gets an offset.
		return s.nsp.adapter.Broadcast(p, BroadcastOptions{Rooms: []string{s.id}, Flags: f})
	}
	s.notifyOutgoing(p)
	return s.client.writePacket(p, f)
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, f Flags) (Args, error) {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return Args{}, err
	}
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	id := s.nsp.ackID.Add(1) - 1
	p.ID, p.HasID = id, true
	ch := make(chan Args, 1)
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return Args{}, ErrDisconnected
	}
	if s.acks == nil {
		s.acks = make(map[uint64]func(Args))
	}
	s.acks[id] = func(a Args) { ch <- a }
	s.mu.Unlock()
	s.releaseReader()
	s.notifyOutgoing(p)
	if err := s.client.writePacket(p, f); err != nil {
		s.dropAck(id)
		return Args{}, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		s.dropAck(id)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Args{}, ErrTimeout
		}
		return Args{}, ctx.Err()
	case <-s.Context().Done():
		s.dropAck(id)
		return Args{}, ErrDisconnected
	}
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// registerAck sets the callback of a broadcast's acknowledgement.
func (s *Socket) registerAck(id uint64, fn func(Args)) {
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]func(Args))
	}
	s.acks[id] = fn
	s.mu.Unlock()
	s.releaseReader()
}

// releaseReader is called before a wait for this socket's acknowledgement:
// with Options.InlineHandlerTimeout, a handler of this client may be running on
// its reader (possibly the one about to wait), which must then go on
// reading in another goroutine, or the acknowledgement would never be read.
func (s *Socket) releaseReader() {
	if s.nsp.srv.opts.InlineHandlerTimeout > 0 {
		s.client.releaseReader()
	}
}

func (s *Socket) notifyOutgoing(p *parser.Packet) {
	if !s.outgoing.Load() {
		return // the common case, without the socket's lock
	}
	s.mu.Lock()
	ls := s.readHooks().outListeners
	s.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	args, err := p.Args()
	if err != nil || args.Len() == 0 {
		return
	}
	var name string
	_ = json.Unmarshal(args.Raw()[0], &name)
	rest := args.From(1)
	for _, l := range ls {
		l.fn(name, rest)
	}
}

// encodeArgs encodes an EVENT (or, with ack, an ACK with id) packet for
// the socket's namespace straight from its arguments, in one buffer, when
// the parser can (parser.EventEncoder): ok is false when it cannot. With
// the JSON parser, the call is made without an interface, so that args does
// not escape and the slice of an Emit(event, args...) call stays on the
// caller's stack; another parser's EventEncoder gets a copy.
func (s *Socket) encodeArgs(ack bool, id uint64, event string, args []any) (text []byte, atts [][]byte, ok bool, err error) {
	if s.nsp.srv.jsonEncoding {
		var je parser.JSONEncoder
		if ack {
			text, atts, err = je.EncodeAck(s.nsp.name, id, args)
		} else {
			text, atts, err = je.EncodeEvent(s.nsp.name, 0, false, event, args)
		}
		return text, atts, true, err
	}
	enc := s.client.eventEncoder()
	if enc == nil {
		return nil, nil, false, nil
	}
	own := append([]any(nil), args...) // the encoder's own: args stays the caller's
	if ack {
		text, atts, err = enc.EncodeAck(s.nsp.name, id, own)
	} else {
		text, atts, err = enc.EncodeEvent(s.nsp.name, 0, false, event, own)
	}
	return text, atts, true, err
}

func (s *Socket) sendAck(id uint64, args []any) error {
	if text, atts, ok, err := s.encodeArgs(true, id, "", args); err != nil {
		return err
	} else if ok {
		return s.client.writeEncoded(text, atts, Flags{})
	}
	data, atts, err := parser.MarshalArgs(args)
	if err != nil {
		return err
	}
	return s.client.writePacket(&parser.Packet{
		Type: parser.Ack, Namespace: s.nsp.name, ID: id, HasID: true, Data: data, Attachments: atts,
	}, Flags{})
}

// To returns a broadcast operator for rooms, excluding this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except returns a broadcast operator excluding rooms and this socket.
func (s *Socket) Except(rooms ...string) *BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns a broadcast operator reaching every socket of the
// namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return &BroadcastOperator{nsp: s.nsp, except: []string{s.id}}
}

// Disconnect disconnects the socket from its namespace ("server namespace
// disconnect"). With close, the whole connection closes, with every
// namespace on it.
func (s *Socket) Disconnect(close bool) {
	if !s.active() {
		return
	}
	if close {
		s.client.disconnectAll()
		return
	}
	s.client.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, Flags{})
	s.onClose(ReasonServerNamespaceDisconnect)
}

func (s *Socket) onConnect() {
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	s.nsp.adapter.AddAll(s.id, []string{s.id})
	var data []byte
	if s.pid != "" {
		data, _ = json.Marshal(struct {
			SID string `json:"sid"`
			PID string `json:"pid"`
		}{s.id, s.pid})
	} else {
		data, _ = json.Marshal(struct {
			SID string `json:"sid"`
		}{s.id})
	}
	s.client.writePacket(&parser.Packet{Type: parser.Connect, Namespace: s.nsp.name, Data: data}, Flags{})
}

// onPacket acts on a packet for this socket, with the client's orderMu
// held. inline: the caller is the connection's reader and the server runs
// handlers there (Options.InlineHandlerTimeout). It reports whether it
// unlocked orderMu (an event run here); if not, the caller does.
func (s *Socket) onPacket(p *parser.Packet, inline bool) bool {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		args, err := p.Args()
		if err != nil {
			s.client.onError(fmt.Errorf("socketio: invalid event payload: %w", err))
			return false
		}
		if args.Len() == 0 {
			return false // an EVENT without payload names no event: nothing to run, as in socket.io
		}
		ev := &Event{socket: s, id: p.ID, hasAck: p.HasID}
		first := args.Raw()[0]
		if name, ok := s.handledName(first); ok {
			ev.Name = name // no new string per event
		} else if len(first) > 0 && first[0] == '"' {
			if err := parser.Unmarshal(first, nil, &ev.Name); err != nil {
				s.client.onError(err)
				return false
			}
		} else {
			ev.Name = string(first)
		}
		ev.Args = args.From(1)
		if inline && s.runHere(ev) {
			return true
		}
		if !s.schedule(func() { s.dispatch(ev) }, false) {
			s.nsp.srv.log.Warn("socketio: too many queued events, closing", "socket", s.id)
			go s.client.close()
		}
	case parser.Ack, parser.BinaryAck:
		s.mu.Lock()
		fn := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if fn == nil {
			return false // unknown or expired ack id
		}
		args, err := p.Args()
		if err != nil {
			s.client.onError(err)
			return false
		}
		fn(args)
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	}
	return false
}

func (s *Socket) dispatch(ev *Event) {
	s.mu.Lock()
	if !s.connected || s.closing {
		s.mu.Unlock()
		return // received before the disconnection, handled after it: dropped, as in socket.io
	}
	anys := s.readHooks().anyListeners
	mws := s.readHooks().middlewares
	if len(anys) > 0 || len(mws) > 0 {
		// They may change the listeners: the event's are read after them.
		s.mu.Unlock()
		for _, l := range anys {
			l.fn(ev)
		}
		for _, mw := range mws {
			if err := mw(ev); err != nil {
				s.callErrorHandlers(err)
				return
			}
		}
		s.mu.Lock()
	}
	hs := s.handlers
	for _, l := range hs {
		if l.once && l.name == ev.Name {
			s.handlers = without(s.handlers, l)
		}
	}
	s.mu.Unlock()
	for _, l := range hs {
		if l.name == ev.Name {
			l.fn(ev)
		}
	}
}

func (s *Socket) emitError(err error) {
	s.schedule(func() { s.callErrorHandlers(err) }, true)
}

func (s *Socket) callErrorHandlers(err error) {
	s.mu.Lock()
	hs := s.readHooks().errorHandlers
	s.mu.Unlock()
	for _, h := range hs {
		h(err)
	}
}

// onClose disconnects the socket with a reason. The handlers run on the
// socket's handler goroutine, after the event already running; events still
// queued are dropped.
func (s *Socket) onClose(reason string) {
	s.mu.Lock()
	if !s.connected || s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.mu.Unlock()
	s.client.remove(s)
	s.ctx.Cancel()
	s.schedule(func() {
		// As in socket.io, "disconnecting" handlers still see the socket
		// connected and in its rooms.
		s.mu.Lock()
		before := s.readHooks().disconnecting
		s.mu.Unlock()
		for _, h := range before {
			h(reason)
		}
		s.mu.Lock()
		s.connected = false
		s.mu.Unlock()
		if s.nsp.srv.opts.ConnectionStateRecovery != nil && recoverable[reason] && s.pid != "" {
			s.nsp.adapter.PersistSession(&PersistedSession{
				SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data(),
			})
		}
		s.nsp.adapter.DelAll(s.id)
		s.nsp.remove(s)
		s.mu.Lock()
		after := s.readHooks().disconnect
		s.mu.Unlock()
		for _, h := range after {
			h(reason)
		}
	}, true)
}

// schedule queues fn on the socket's handler goroutine, taking one from
// the server's workerPool if none runs. Without force it refuses when the queue is full.
func (s *Socket) schedule(fn func(), force bool) bool {
	srv := s.nsp.srv
	s.qmu.Lock()
	if !force && len(s.queue) >= srv.opts.MaxQueuedEvents {
		s.qmu.Unlock()
		return false
	}
	s.queue = append(s.queue, fn)
	if !s.running {
		s.running = true
		srv.goroutines.Add()
		srv.workers.start(s)
	}
	s.qmu.Unlock()
	return true
}

// testHookBeforeCommit, set by tests only, runs with a message in hand.
var testHookBeforeCommit func()

// testHookInlineRelease, set by tests only, runs when InlineHandlerTimeout
// hands a client's reading over.
var testHookInlineRelease func()

// runHere runs ev on the calling goroutine, the connection's reader, when
// the socket has nothing running or queued (Options.InlineHandlerTimeout), then
// whatever was queued meanwhile. It reports false, doing nothing, when the
// event must wait in the queue behind others.
func (s *Socket) runHere(ev *Event) bool {
	s.qmu.Lock()
	if s.running {
		s.qmu.Unlock()
		return false
	}
	s.running = true
	s.qmu.Unlock()
	c := s.client
	tok := c.startInline()
	c.orderMu.Unlock()
	// Handed on: a reader taking over from here (a wait for an ack, the
	// timeout) queues this socket's next events behind this one.
	c.conn.HandedOn()
	s.runEvent(ev)
	s.drainQueue()
	c.endInline(tok)
	return true
}

// runEvent is run(func() { s.dispatch(ev) }) without the closure.
func (s *Socket) runEvent(ev *Event) {
	defer s.recoverHandler()
	s.dispatch(ev)
}

// drainQueue runs the queue until it is empty, then marks the socket's
// handler goroutine as stopped.
func (s *Socket) drainQueue() {
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.queue = nil
			s.qmu.Unlock()
			return
		}
		fn := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		more := len(s.queue) > 0
		s.qmu.Unlock()
		if !more {
			s.run(fn)
			continue
		}
		// More events wait: what this one sends is coalesced with theirs.
		s.client.backlog.Add(1)
		s.run(fn)
		s.client.backlog.Add(-1)
	}
}

// presizeStack grows a new pooled handler goroutine's stack (workerPool) to
// 4 KiB while it is one frame deep. The runtime starts goroutines at the average stack in use,
// which is 2 KiB when most goroutines are idle connection readers (see
// engineio's readLoop); a handler that emits then outgrows it mid-call, and
// copying a stack many frames deep costs about 10% of an echo's CPU.
// Growing it here costs a copy of one frame.
//
//go:noinline
func presizeStack(i int) byte {
	var b [1280]byte // more than a 2 KiB stack has left above its guard
	b[i] = 1
	return b[i/2]
}

// run calls a handler, turning a panic into a closed connection: a handler
// bug must not take the server down.
func (s *Socket) run(fn func()) {
	defer s.recoverHandler()
	fn()
}

// recoverHandler, deferred around a handler, turns its panic into a log
// line and the client's disconnection.
func (s *Socket) recoverHandler() {
	if r := recover(); r != nil {
		s.nsp.srv.log.Error("socketio: handler panicked", "socket", s.id, "nsp", s.nsp.name, "panic", r)
		go s.client.close()
	}
}

// String returns a description for logs.
func (s *Socket) String() string {
	return "socket " + s.id + " on " + s.nsp.name + " (" + strings.TrimSpace(s.Handshake().Address) + ")"
}
