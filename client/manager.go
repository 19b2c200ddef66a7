package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/parser"
)

// Manager is one Engine.IO connection to a server, shared by the sockets of
// several namespaces, with automatic reconnection (socket.io-client's
// Manager). The connection opens when a socket connects and closes when the
// last socket disconnects. A Manager is safe for concurrent use.
//
// Its events (OnOpen, OnClose, OnReconnect, ...) and the sockets' handlers
// run one at a time, in order, on a goroutine of the Manager.
type Manager struct {
	opts   *resolved
	parser parser.Parser
	encMu  sync.Mutex
	enc    parser.Encoder
	disp   *dispatcher

	onOpen             handlers[func()]
	onError            handlers[func(error)]
	onPing             handlers[func()]
	onClose            handlers[func(string, error)]
	onReconnect        handlers[func(int)]
	onReconnectAttempt handlers[func(int)]
	onReconnectError   handlers[func(error)]
	onReconnectFailed  handlers[func()]

	mu         sync.Mutex
	closed     bool
	sockets    map[string]*Socket
	eng        *engine // the open connection, nil when there is none
	gen        uint64  // incremented at each opened connection
	loopCancel context.CancelFunc
	loopDone   chan struct{}
}

// NewManager returns a Manager for the server at rawURL (http, https, ws or
// wss). The URL's path is ignored (Options.Path is the Engine.IO path) and
// its query is sent with every request. Nothing connects until a socket does.
func NewManager(rawURL string, opts *Options) (*Manager, error) {
	r, err := resolveOptions(rawURL, opts)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: r, parser: parser.NewJSONParser(nil), sockets: map[string]*Socket{}}
	m.enc = m.parser.NewEncoder()
	m.disp = newDispatcher(func(v any) {
		r.Logger.Error("socket.io: handler panicked", "panic", v)
	})
	return m, nil
}

// Socket returns the socket for a namespace ("/" when empty), creating it
// on first use with sopts (later calls ignore sopts). Unless
// Options.DisableAutoConnect is set, the socket connects.
func (m *Manager) Socket(nsp string, sopts *SocketOptions) *Socket {
	if nsp == "" {
		nsp = "/"
	} else if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	m.mu.Lock()
	s := m.sockets[nsp]
	created := s == nil
	if created {
		s = newSocket(m, nsp, sopts)
		m.sockets[nsp] = s
	}
	m.mu.Unlock()
	if !m.opts.DisableAutoConnect && (created || !s.Active()) {
		s.Connect()
	}
	return s
}

// OnOpen adds a handler called when the Engine.IO connection opens.
func (m *Manager) OnOpen(fn func()) (off func()) { return m.onOpen.add(fn) }

// OnError adds a handler called when a connection attempt fails.
func (m *Manager) OnError(fn func(err error)) (off func()) { return m.onError.add(fn) }

// OnPing adds a handler called at each ping from the server.
func (m *Manager) OnPing(fn func()) (off func()) { return m.onPing.add(fn) }

// OnClose adds a handler called when the connection closes, with the reason
// ("transport close", "ping timeout", "forced close", ...) and the error
// behind it, if any.
func (m *Manager) OnClose(fn func(reason string, err error)) (off func()) {
	return m.onClose.add(fn)
}

// OnReconnect adds a handler called when a reconnection succeeds, with the
// number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) (off func()) { return m.onReconnect.add(fn) }

// OnReconnectAttempt adds a handler called before each reconnection attempt
// (numbered from 1).
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) (off func()) {
	return m.onReconnectAttempt.add(fn)
}

// OnReconnectError adds a handler called when a reconnection attempt fails.
func (m *Manager) OnReconnectError(fn func(err error)) (off func()) {
	return m.onReconnectError.add(fn)
}

// OnReconnectFailed adds a handler called when ReconnectionAttempts
// attempts all failed; the Manager then stops trying.
func (m *Manager) OnReconnectFailed(fn func()) (off func()) { return m.onReconnectFailed.add(fn) }

// Transport returns the name of the current transport ("polling" or
// "websocket"), or "" when not connected.
func (m *Manager) Transport() string {
	m.mu.Lock()
	e := m.eng
	m.mu.Unlock()
	if e == nil {
		return ""
	}
	return e.transportName()
}

// Close disconnects every socket ("io client disconnect"), closes the
// connection and stops reconnecting; it returns once the Manager's
// goroutines have ended and the handlers already queued have run (except
// when called from a handler). The Manager cannot be used afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	socks := make([]*Socket, 0, len(m.sockets))
	for _, s := range m.sockets {
		socks = append(socks, s)
	}
	m.mu.Unlock()
	for _, s := range socks {
		s.Disconnect()
		s.abandon()
	}
	m.stopLoop(true)
	if m.opts.ownsClient != nil {
		m.opts.ownsClient.CloseIdleConnections()
	}
	m.disp.wait(10 * time.Second)
	return nil
}

// emit queues a handler call.
func (m *Manager) emit(fn func()) { m.disp.push(fn) }

// ensureOpen starts the connection loop unless it runs.
func (m *Manager) ensureOpen() bool {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return false
		}
		if m.loopCancel != nil {
			m.mu.Unlock()
			return true
		}
		if done := m.loopDone; done != nil {
			// The previous loop is still closing its connection.
			m.mu.Unlock()
			<-done
			m.mu.Lock()
			if m.loopDone == done {
				m.loopDone = nil
			}
			m.mu.Unlock()
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		m.loopCancel, m.loopDone = cancel, done
		m.mu.Unlock()
		go m.loop(ctx, done)
		return true
	}
}

// stopLoop stops the connection loop; wait waits until it has ended.
func (m *Manager) stopLoop(wait bool) {
	m.mu.Lock()
	cancel, done := m.loopCancel, m.loopDone
	m.loopCancel = nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if wait && done != nil {
		<-done
		m.mu.Lock()
		if m.loopDone == done {
			m.loopDone = nil
		}
		m.mu.Unlock()
	}
}

// socketInactive closes the connection once no socket wants it.
func (m *Manager) socketInactive() {
	for _, s := range m.allSockets() {
		if s.Active() {
			return
		}
	}
	m.stopLoop(false)
}

// allSockets returns the sockets; their methods must not be called with m.mu
// held (the lock order is Socket, then Manager, then engine).
func (m *Manager) allSockets() []*Socket {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Socket, 0, len(m.sockets))
	for _, s := range m.sockets {
		out = append(out, s)
	}
	return out
}

func (m *Manager) activeSockets() []*Socket {
	var out []*Socket
	for _, s := range m.allSockets() {
		if s.Active() {
			out = append(out, s)
		}
	}
	return out
}

// loop opens the connection, waits for it to close, and reconnects with
// backoff, as socket.io-client's Manager does.
func (m *Manager) loop(ctx context.Context, done chan struct{}) {
	defer func() {
		m.mu.Lock()
		if m.loopDone == done {
			m.loopCancel = nil
		}
		m.mu.Unlock()
		if m.opts.ownsClient != nil {
			m.opts.ownsClient.CloseIdleConnections()
		}
		close(done)
	}()
	o := m.opts
	bo := backoff{min: o.ReconnectionDelay, max: o.ReconnectionDelayMax, jitter: o.RandomizationFactor}
	reconnecting := false
	for {
		if reconnecting {
			if o.ReconnectionAttempts > 0 && bo.attempts >= o.ReconnectionAttempts {
				o.Logger.Debug("socket.io: reconnect failed")
				for _, fn := range m.onReconnectFailed.snapshot() {
					m.emit(fn)
				}
				return
			}
			d := bo.duration()
			o.Logger.Debug("socket.io: waiting before reconnecting", "delay", d)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			attempt := bo.attempts
			for _, fn := range m.onReconnectAttempt.snapshot() {
				m.emit(func() { fn(attempt) })
			}
		}
		octx, cancel := ctx, context.CancelFunc(func() {})
		if o.Timeout > 0 {
			octx, cancel = context.WithTimeout(ctx, o.Timeout)
		}
		eng, extra, err := openEngine(octx, &o.engine)
		if err != nil && octx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = fmt.Errorf("client: timeout: %w", err)
		}
		cancel()
		if ctx.Err() != nil {
			if eng != nil {
				eng.close(reasonForcedClose, nil)
				eng.wait()
			}
			return
		}
		if err != nil {
			o.Logger.Debug("socket.io: connection failed", "err", err)
			for _, fn := range m.onError.snapshot() {
				m.emit(func() { fn(err) })
			}
			for _, s := range m.activeSockets() {
				s.onManagerError(err)
			}
			if reconnecting {
				for _, fn := range m.onReconnectError.snapshot() {
					m.emit(func() { fn(err) })
				}
			}
			if o.DisableReconnection {
				return
			}
			reconnecting = true
			continue
		}

		dec := m.parser.NewDecoder()
		m.mu.Lock()
		m.gen++
		gen := m.gen
		m.eng = eng
		m.mu.Unlock()
		eng.start(func(data []byte, binary bool) { m.onData(eng, dec, data, binary) }, func() {
			for _, fn := range m.onPing.snapshot() {
				m.emit(fn)
			}
		}, extra)
		for _, fn := range m.onOpen.snapshot() {
			m.emit(fn)
		}
		if reconnecting {
			attempt := bo.attempts
			for _, fn := range m.onReconnect.snapshot() {
				m.emit(func() { fn(attempt) })
			}
		}
		bo.reset()
		reconnecting = false
		for _, s := range m.activeSockets() {
			s.onOpen(ctx, gen)
		}

		select {
		case <-eng.done:
		case <-ctx.Done():
			eng.close(reasonForcedClose, nil)
		}
		reason, cerr := eng.closeReason()
		o.Logger.Debug("socket.io: connection closed", "reason", reason, "err", cerr)
		m.mu.Lock()
		m.eng = nil
		m.mu.Unlock()
		for _, fn := range m.onClose.snapshot() {
			m.emit(func() { fn(reason, cerr) })
		}
		for _, s := range m.allSockets() {
			s.onEngineClose(gen, reason, cerr)
		}
		eng.wait()
		if ctx.Err() != nil || o.DisableReconnection {
			return
		}
		reconnecting = true
	}
}

// onData decodes one Engine.IO message, on the connection's reader.
func (m *Manager) onData(eng *engine, dec parser.Decoder, data []byte, binary bool) {
	p, err := dec.Add(data, binary)
	if err != nil {
		eng.close(reasonParseError, fmt.Errorf("%w: %w", ErrProtocol, err))
		return
	}
	if p == nil {
		return
	}
	m.mu.Lock()
	s := m.sockets[p.Namespace]
	m.mu.Unlock()
	if s != nil {
		s.onPacket(p)
	}
}

// writePacket sends p on the connection of generation gen; false means that
// connection is gone and nothing was sent.
func (m *Manager) writePacket(gen uint64, p *parser.Packet) (bool, error) {
	m.encMu.Lock()
	msgs, err := m.enc.Encode(p)
	m.encMu.Unlock()
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	eng := m.eng
	ok := eng != nil && m.gen == gen
	m.mu.Unlock()
	if !ok {
		return false, nil
	}
	pkts := make([]eiocodec.Packet, len(msgs))
	for i, msg := range msgs {
		pkts[i] = eiocodec.Packet{Type: eiocodec.Message, Data: msg, Binary: i > 0}
	}
	eng.write(pkts...)
	return true, nil
}

// current returns the open connection if it is of generation gen.
func (m *Manager) current(gen uint64) *engine {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.eng == nil || m.gen != gen {
		return nil
	}
	return m.eng
}

// currentGen returns the generation of the open connection, or 0.
func (m *Manager) currentGen() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.eng == nil {
		return 0
	}
	return m.gen
}

// Connect connects to the namespace named by rawURL's path ("/" when it has
// none) on the server at rawURL, with a Manager of its own, and waits until
// the socket is connected. It returns the server's *ConnectError when the
// namespace refuses the connection, and the first connection error
// otherwise (without retrying). Close the socket's Manager when done:
// s.Manager().Close().
func Connect(ctx context.Context, rawURL string, opts *Options, sopts *SocketOptions) (*Socket, error) {
	u, err := url.Parse(trimScheme(rawURL))
	if err != nil {
		return nil, fmt.Errorf("client: bad URL: %w", err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.DisableAutoConnect = true
	m, err := NewManager(rawURL, &o)
	if err != nil {
		return nil, err
	}
	s := m.Socket(u.Path, sopts)
	// Later sockets of this Manager follow the caller's choice.
	m.opts.DisableAutoConnect = opts != nil && opts.DisableAutoConnect
	result := make(chan error, 1)
	offC := s.OnConnect(func() {
		select {
		case result <- nil:
		default:
		}
	})
	offE := s.OnConnectError(func(err error) {
		select {
		case result <- err:
		default:
		}
	})
	s.Connect()
	select {
	case err = <-result:
	case <-ctx.Done():
		err = ctx.Err()
	}
	offC()
	offE()
	if err != nil {
		_ = m.Close()
		return nil, err
	}
	return s, nil
}
