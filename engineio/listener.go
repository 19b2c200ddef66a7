package engineio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/socketio-go/socketio/internal/rawio"
)

// Listener returns a listener that answers the server's long-polling
// requests itself and hands every other connection to its caller.
//
// Behind an http.Server, each long-polling request costs net/http's
// per-request work: parsing into a new header map, a context, a background
// read that watches for the client going away, and the response's header
// machinery. That work is most of the CPU a polling message costs. The
// returned listener accepts connections from ln and reads their requests
// with a small HTTP/1.1 loop of its own: a GET or POST for the server's path
// with transport=polling is answered on the spot, without net/http. At the
// first request that is anything else (a WebSocket upgrade, another path, a
// request with a chunked body, HTTP/1.0, anything unusual), the connection,
// with the bytes already read from it, is returned by Accept, so that the
// http.Server that serves the returned listener answers that request and the
// next ones as usual. When one of those is a plain long-polling request
// again, ServeHTTP gives the connection back to the loop (it hijacks it and
// answers the request there): a browser sends its polling requests on the
// connections that loaded the page, and they are served by the loop too.
// Middleware that wraps the ResponseWriter without http.Hijacker keeps such
// a connection with net/http.
//
// This is what Node's engine.io does when it is attached to an http.Server:
// requests for its path are answered before the application's own request
// listeners see them. It follows that the long-polling requests answered by
// the listener do not pass through the handler chain given to the
// http.Server: middleware that must see them (authentication, logging,
// header rewriting) sees only the requests handed over. Mount the server in
// that chain as usual anyway: it answers the WebSocket upgrades, the CORS
// preflights, and every polling request the loop hands over.
//
// The http.Server's timeouts (ReadHeaderTimeout, ReadTimeout, IdleTimeout)
// and hooks (ConnState, ConnContext) apply to the connections it is handed,
// not to those the loop holds. A panic in a request the loop answers is
// recovered and logged to Options.Logger, and closes that connection, as
// net/http would. With a Cluster, a request for a session of another node
// is handed over, so that ServeHTTP forwards it. The loop has one limit of
// its own: a connection is closed when a request's head (and a POST's
// body) has not arrived whole within PingInterval+PingTimeout (45 s by
// default) of the previous response, or of the connection's opening, or
// when a response has not been taken within as long. A live polling client
// sends a request at least every PingInterval, so it never meets the limit;
// a client that opens connections and sends nothing, sends slowly, or does
// not read, does.
//
// Closing the returned listener closes ln, closes the connections waiting
// for their next request, and lets those answering one finish it first. It
// does not close the server's sessions: call Close or Shutdown for that, and
// the http.Server's Shutdown for the connections it was handed.
//
// The listener serves plain TCP connections; wrap ln with tls.NewListener
// for TLS (the requests answered by the loop then have no TLS field).
func (s *Server) Listener(ln net.Listener) net.Listener {
	l := &pollListener{
		Listener:  ln,
		srv:       s,
		handoff:   make(chan net.Conn),
		acceptErr: make(chan error),
		done:      make(chan struct{}),
		conns:     make(map[*pollConn]struct{}),
		handed:    make(map[string]*replayConn),
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	s.hasListeners.Store(true)
	return l
}

type pollListener struct {
	net.Listener
	srv       *Server
	handoff   chan net.Conn // connections for Accept's caller
	acceptErr chan error    // errors of ln.Accept, for Accept's caller
	done      chan struct{} // closed by Close
	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool
	conns  map[*pollConn]struct{}

	// handed holds the connections handed over and not yet closed, by
	// local and remote address: a long-polling request that comes to
	// ServeHTTP on one of them takes it back (takeBack).
	hmu    sync.Mutex // guards handed; taken after mu, never before
	handed map[string]*replayConn

	// For tests: requests answered by the loop, connections handed over,
	// connections taken back.
	nServed, nHanded, nTaken atomic.Int64

	// tick counts the sweeper's periods (a quarter of the limit each); a
	// connection waiting for a request records the tick it started at.
	tick atomic.Int64
}

// sweepPeriods is how many sweeper periods make the limit.
const sweepPeriods = 4

// sweep closes the connections that have waited longer than the limit for
// a request. It reads no clock per request: connections record the tick.
func (l *pollListener) sweep() {
	limit := l.srv.opts.PingInterval + l.srv.opts.PingTimeout
	t := time.NewTicker(limit / sweepPeriods)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.done:
			return
		}
		now := l.tick.Add(1)
		l.mu.Lock()
		for pc := range l.conns {
			if since := pc.waitTick.Load(); since != 0 && now-since > sweepPeriods {
				_ = pc.c.Close()
			}
		}
		l.mu.Unlock()
	}
}

// Accept returns the next connection handed over by the polling loop.
func (l *pollListener) Accept() (net.Conn, error) {
	l.startOnce.Do(func() {
		l.tick.Store(1)
		go l.acceptLoop()
		go l.sweep()
	})
	select {
	case c := <-l.handoff:
		return c, nil
	case err := <-l.acceptErr:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// acceptLoop accepts from the wrapped listener and starts a polling loop on
// each connection. Its errors go to Accept's caller, which decides whether to
// go on (net/http retries temporary errors); it ends at the first other one.
func (l *pollListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.acceptErr <- err:
			case <-l.done:
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pc := &pollConn{l: l, c: c}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			return
		}
		l.conns[pc] = struct{}{}
		l.mu.Unlock()
		go pc.serve()
		// Let the new connection read its first request before the next
		// connection is accepted: the scheduler runs the newest goroutine
		// first, which would answer requests of connections accepted
		// together in reverse order (a POST closing a session before the
		// GET sent just before it, on another connection, say).
		runtime.Gosched()
	}
}

// Close closes the wrapped listener and the connections of the polling loop
// that wait for a request; those answering one close when it is answered.
func (l *pollListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = l.Listener.Close()
		l.srv.mu.Lock()
		for i, x := range l.srv.listeners {
			if x == l {
				l.srv.listeners = append(l.srv.listeners[:i], l.srv.listeners[i+1:]...)
				break
			}
		}
		l.srv.mu.Unlock()
		l.mu.Lock()
		l.closed = true
		for pc := range l.conns {
			if pc.idle {
				_ = pc.c.Close()
			}
		}
		l.mu.Unlock()
	})
	return l.closeErr
}

func (l *pollListener) remove(pc *pollConn) {
	l.mu.Lock()
	delete(l.conns, pc)
	l.mu.Unlock()
}

// Limits of the polling loop. A request head longer than maxPollHead, or
// with more header lines than maxPollHeaders, is handed over to net/http,
// which applies its own limits (MaxHeaderBytes) and answers accordingly.
const (
	pollBufSize    = 4 << 10
	maxPollHead    = 64 << 10
	maxPollHeaders = 64
	// maxPollDiscard is how much of a body the handler left unread is read
	// and dropped to keep the connection; more, and the connection closes.
	maxPollDiscard = 256 << 10
)

// pollConn is one connection served by the polling loop.
type pollConn struct {
	l      *pollListener
	c      net.Conn
	raw    syscall.RawConn // c's, when c is a socket of package net: see internal/rawio
	buf    []byte          // buf[r:w] is read and not yet consumed
	r, w   int
	remote string
	base   *http.Request // carries ctx into each request
	ctx    connCtx
	resp   pollResponse
	idle   bool // waiting for a request's first bytes (under l.mu)
	// waitTick is the listener's tick when the connection started waiting
	// for the request it reads, or for its peer to take a response; 0 when
	// it waits for neither.
	waitTick atomic.Int64

	// mayWatch is set while a request without a body is being answered:
	// the first call of its context's Done starts watch, which reads the
	// connection meanwhile, to learn if the client goes away.
	mayWatch atomic.Bool
	watched  chan watchResult // watch's read, for the loop
}

// watchResult is what watch read.
type watchResult struct {
	n   int
	err error
}

// connCtx is the context of the requests of a connection of the polling
// loop. It is done when the connection is found closed, which is learnt only
// while a request waits: a long-polling GET, whose Done call starts watch.
// Unlike net/http's, it is not cancelled when the response is written: it
// ends with the connection.
type connCtx struct {
	pc   *pollConn
	once sync.Once
	done chan struct{}
	err  atomic.Pointer[error]
}

func (c *connCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value knows http.LocalAddrContextKey, as a net/http request's context does.
func (c *connCtx) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return c.pc.c.LocalAddr()
	}
	return nil
}

func (c *connCtx) Done() <-chan struct{} {
	c.once.Do(func() { c.done = make(chan struct{}) })
	pc := c.pc
	if pc.mayWatch.CompareAndSwap(true, false) {
		go pc.watch()
	}
	return c.done
}

func (c *connCtx) Err() error {
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}

func (c *connCtx) cancel() {
	c.once.Do(func() { c.done = make(chan struct{}) })
	if c.err.CompareAndSwap(nil, &errCanceled) {
		close(c.done)
	}
}

var errCanceled = context.Canceled

// watch reads the connection while a request is answered (its buffer is the
// loop's, which the loop does not touch meanwhile) and gives the loop what it
// read. A read that fails means the client has gone: the request's context
// is cancelled at once.
func (pc *pollConn) watch() {
	n, err := pc.read(pc.buf[pc.w:])
	if n == 0 && err != nil {
		pc.ctx.cancel()
	}
	pc.watched <- watchResult{n, err}
}

var errHandOver = errors.New("engineio: hand the connection over")

// read reads from the connection, as its Read does.
func (pc *pollConn) read(p []byte) (int, error) {
	if pc.raw != nil {
		return rawio.Read(pc.raw, p)
	}
	return pc.c.Read(p)
}

// write writes b to the connection, as its Write does.
func (pc *pollConn) write(b []byte) (int, error) {
	if pc.raw != nil {
		return rawio.Write(pc.raw, b)
	}
	return pc.c.Write(b)
}

func (pc *pollConn) serve() {
	switch c := pc.c.(type) {
	case *net.TCPConn, *net.UnixConn:
		if rawio.Supported {
			pc.raw, _ = c.(syscall.Conn).SyscallConn()
		}
	}
	pc.buf = make([]byte, pollBufSize)
	pc.remote = pc.c.RemoteAddr().String()
	pc.watched = make(chan watchResult, 1)
	pc.loop(nil, false)
}

// loop answers the connection's requests, first req if not nil, until the
// connection ends or is handed over.
func (pc *pollConn) loop(req *http.Request, closeAfter bool) {
	handed := false
	defer func() {
		pc.l.remove(pc)
		pc.ctx.cancel()
		if !handed {
			_ = pc.c.Close()
		}
	}()
	if req != nil && !pc.answer(req, closeAfter) {
		return
	}
	for {
		if !pc.setIdle(pc.r == pc.w) {
			return
		}
		pc.waitTick.Store(pc.l.tick.Load())
		head, err := pc.readHead()
		pc.setIdle(false)
		if err == errHandOver {
			handed = pc.handOver()
			return
		}
		if err != nil {
			return
		}
		req, closeAfter, ok := pc.parse(head)
		if !ok {
			handed = pc.handOver()
			return
		}
		pc.r += len(head)
		if !pc.answer(req, closeAfter) {
			return
		}
	}
}

// handOver gives the connection, with its unconsumed bytes, to Accept's
// caller. It reports false if the listener closed first.
func (pc *pollConn) handOver() bool {
	var pending []byte
	if pc.w > pc.r {
		pending = append([]byte(nil), pc.buf[pc.r:pc.w]...)
	}
	pc.buf = nil
	c, ok := pc.c.(*replayConn)
	if !ok || len(c.pending) > 0 {
		c = &replayConn{Conn: pc.c, l: pc.l}
	}
	c.pending = pending
	c.key = connKey(pc.c.LocalAddr().String(), pc.remote)
	pc.l.hmu.Lock()
	pc.l.handed[c.key] = c
	pc.l.hmu.Unlock()
	pc.l.nHanded.Add(1)
	select {
	case pc.l.handoff <- c:
		return true
	case <-pc.l.done:
		pc.l.forget(c)
		return false
	}
}

// connKey identifies a connection among those of every listener.
func connKey(local, remote string) string { return local + " " + remote }

// forget drops a handed-over connection from l.handed.
func (l *pollListener) forget(c *replayConn) {
	l.hmu.Lock()
	if l.handed[c.key] == c {
		delete(l.handed, c.key)
	}
	l.hmu.Unlock()
}

// takeBack serves r, a long-polling request that net/http brought to
// ServeHTTP, in the polling loop of the listener that handed its connection
// over, if one did: it hijacks the connection, answers r and goes on with
// the connection's next requests. It reports false, having done nothing,
// when the connection is not one of a Listener's, when r is not plain
// enough for the loop, or when w cannot be hijacked.
func (s *Server) takeBack(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || (r.Method != http.MethodGet && r.Method != http.MethodPost) ||
		r.Close || len(r.TransferEncoding) > 0 || r.ContentLength < 0 ||
		r.Header.Get("Expect") != "" || r.Header.Get("Upgrade") != "" {
		return false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return false
	}
	key := connKey(local.String(), r.RemoteAddr)
	var l *pollListener
	s.mu.RLock()
	for _, x := range s.listeners {
		x.hmu.Lock()
		if c := x.handed[key]; c != nil {
			delete(x.handed, key)
			l = x
		}
		x.hmu.Unlock()
		if l != nil {
			break
		}
	}
	s.mu.RUnlock()
	if l == nil {
		return false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return false // net/http still has the connection and answers r
	}
	pc := &pollConn{l: l, c: conn, remote: r.RemoteAddr, watched: make(chan watchResult, 1)}
	n := rw.Reader.Buffered()
	pc.buf = make([]byte, max(pollBufSize, n))
	if n > 0 {
		b, _ := rw.Reader.Peek(n)
		pc.w = copy(pc.buf, b)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = conn.Close()
		return true
	}
	l.conns[pc] = struct{}{}
	l.mu.Unlock()
	l.nTaken.Add(1)
	pc.ctx.pc = pc
	pc.base = (&http.Request{}).WithContext(&pc.ctx)
	req := new(http.Request)
	*req = *pc.base
	req.Method, req.URL, req.Proto, req.ProtoMajor, req.ProtoMinor = r.Method, r.URL, r.Proto, 1, 1
	req.Header, req.Host, req.RemoteAddr, req.RequestURI = r.Header, r.Host, r.RemoteAddr, r.RequestURI
	req.ContentLength, req.Body = r.ContentLength, http.NoBody
	pc.loop(req, false)
	return true
}

// readHead reads until buf[r:] holds a whole request head and returns it
// (up to and including the blank line). A head the loop will not parse (too
// long, a line ending in a bare LF) is errHandOver.
func (pc *pollConn) readHead() ([]byte, error) {
	scanned, lineStart := pc.r, pc.r
	for {
		for scanned < pc.w {
			i := bytes.IndexByte(pc.buf[scanned:pc.w], '\n')
			if i < 0 {
				scanned = pc.w
				break
			}
			i += scanned
			if i == pc.r || pc.buf[i-1] != '\r' {
				return nil, errHandOver
			}
			if i-1 == lineStart && lineStart > pc.r {
				return pc.buf[pc.r : i+1], nil
			}
			scanned, lineStart = i+1, i+1
		}
		if pc.w-pc.r >= maxPollHead {
			return nil, errHandOver
		}
		if pc.w == len(pc.buf) {
			if pc.r > 0 {
				n := copy(pc.buf, pc.buf[pc.r:pc.w])
				scanned -= pc.r
				lineStart -= pc.r
				pc.r, pc.w = 0, n
			} else {
				pc.buf = append(pc.buf, make([]byte, len(pc.buf))...)
				pc.buf = pc.buf[:cap(pc.buf)]
			}
		}
		n, err := pc.read(pc.buf[pc.w:])
		pc.w += n
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// parse reads a request head. It reports ok false for anything the loop
// leaves to net/http.
func (pc *pollConn) parse(head []byte) (req *http.Request, closeAfter, ok bool) {
	srv := pc.l.srv
	// One string holds the whole head: every name, value and the target
	// are slices of it.
	hs := string(head[:len(head)-2])
	line, rest, _ := strings.Cut(hs, "\r\n")
	method, line, _ := strings.Cut(line, " ")
	target, proto, _ := strings.Cut(line, " ")
	if proto != "HTTP/1.1" || (method != http.MethodGet && method != http.MethodPost) {
		return nil, false, false
	}
	if !printable(target) {
		return nil, false, false
	}
	path, rawQuery, _ := strings.Cut(target, "?")
	if path == "" || path[0] != '/' || strings.IndexByte(path, '%') >= 0 ||
		(!strings.HasPrefix(path, srv.opts.Path) && path+"/" != srv.opts.Path) {
		return nil, false, false
	}
	q := parseRequestParams(rawQuery)
	if q.transport != TransportPolling {
		return nil, false, false
	}
	if q.sid != "" && srv.opts.Cluster != nil && srv.Session(q.sid) == nil {
		return nil, false, false // another node's session: ServeHTTP forwards it
	}

	n := strings.Count(rest, "\r\n")
	if n > maxPollHeaders {
		return nil, false, false
	}
	h := make(http.Header, n)
	vals := make([]string, n)
	var host string
	hasHost := false
	cl := int64(0)
	hasCL := false
	for i := 0; rest != ""; i++ {
		line, rest, _ = strings.Cut(rest, "\r\n")
		name, value, found := strings.Cut(line, ":")
		if !found || !validHeaderName(name) {
			return nil, false, false
		}
		value = strings.Trim(value, " \t")
		if !validHeaderValue(value) {
			return nil, false, false
		}
		key := canonicalHeaderKey(name)
		switch key {
		case "Host":
			if hasHost || !plainHost(value) {
				return nil, false, false
			}
			host, hasHost = value, true
			continue // net/http keeps the host in Request.Host only
		case "Content-Length":
			v, ok := parseLength(value)
			if !ok || hasCL {
				return nil, false, false
			}
			cl, hasCL = v, true
		case "Transfer-Encoding", "Expect", "Upgrade":
			return nil, false, false
		case "Connection":
			for _, tok := range strings.Split(value, ",") {
				tok = strings.TrimSpace(tok)
				if strings.EqualFold(tok, "close") {
					closeAfter = true
				} else if strings.EqualFold(tok, "upgrade") {
					return nil, false, false
				}
			}
		}
		vals[i] = value
		if old, dup := h[key]; dup {
			h[key] = append(old, value)
		} else {
			h[key] = vals[i : i+1 : i+1]
		}
	}
	if !hasHost {
		return nil, false, false
	}
	// As net/http: "Pragma: no-cache" stands for "Cache-Control: no-cache"
	// when there is no Cache-Control.
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}

	if pc.base == nil {
		pc.ctx.pc = pc
		pc.base = (&http.Request{}).WithContext(&pc.ctx)
	}
	req = new(http.Request)
	*req = *pc.base // copies the context, which has no exported setter
	req.Method = method
	req.URL = &url.URL{Path: path, RawQuery: rawQuery}
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	req.Header = h
	req.Host = host
	req.RemoteAddr = pc.remote
	req.RequestURI = target
	req.ContentLength = cl
	req.Close = closeAfter
	req.Body = http.NoBody
	return req, closeAfter, true
}

// answer runs the request through the server and writes the response. It
// reports whether the connection can serve another request.
func (pc *pollConn) answer(req *http.Request, closeAfter bool) bool {
	var body *pollBody
	if req.ContentLength > 0 {
		body = &pollBody{pc: pc, remain: req.ContentLength}
		req.Body = body // the wait ends with the body
	} else {
		pc.waitTick.Store(0)
	}
	w := &pc.resp
	w.reset()
	if body == nil {
		// Room for watch to read into.
		if pc.r == pc.w {
			pc.r, pc.w = 0, 0
		} else if pc.w == len(pc.buf) {
			n := copy(pc.buf, pc.buf[pc.r:pc.w])
			pc.r, pc.w = 0, n
		}
		if pc.w < len(pc.buf) {
			pc.mayWatch.Store(true)
		}
	}
	pc.l.nServed.Add(1)
	served := pc.serveRequest(w, req)
	watching := body == nil && !pc.mayWatch.CompareAndSwap(true, false)
	if !served {
		_ = pc.c.Close()
		if watching {
			<-pc.watched
		}
		return false
	}
	if body != nil && body.remain > 0 {
		if body.err != nil || body.remain > maxPollDiscard {
			closeAfter = true
		} else if _, err := io.Copy(io.Discard, body); err != nil {
			closeAfter = true
		}
	}
	pc.waitTick.Store(0)
	if v := w.h["Connection"]; len(v) > 0 && strings.EqualFold(v[0], "close") {
		closeAfter = true // the handler's choice (a body refused unread)
	}
	out := w.finish(closeAfter)
	pc.waitTick.Store(pc.l.tick.Load()) // a peer that does not read is cut off too
	_, err := pc.write(out)
	pc.waitTick.Store(0)
	w.done()
	if watching {
		// The next request's bytes come from watch.
		if err != nil || closeAfter {
			_ = pc.c.Close() // ends watch's read
		} else {
			pc.setIdle(pc.r == pc.w)
			pc.waitTick.Store(pc.l.tick.Load())
		}
		res := <-pc.watched
		pc.w += res.n
		if res.n == 0 {
			return false
		}
	}
	if pc.r == pc.w {
		pc.r, pc.w = 0, 0
	}
	return err == nil && !closeAfter
}

// serveRequest runs the request through the server. A panic is recovered
// as net/http recovers one: logged (but http.ErrAbortHandler), and the
// connection closed without a response; other connections carry on.
func (pc *pollConn) serveRequest(w *pollResponse, req *http.Request) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			if r != http.ErrAbortHandler {
				stack := make([]byte, 64<<10)
				stack = stack[:runtime.Stack(stack, false)]
				pc.l.srv.log.Error("engineio: panic serving a long-polling request", "remote", pc.remote, "panic", r, "stack", string(stack))
			}
		}
	}()
	pc.l.srv.ServeHTTP(w, req)
	return true
}

// setIdle records whether the connection waits for a request, for Close.
// It reports false if the listener is closed.
func (pc *pollConn) setIdle(idle bool) bool {
	pc.l.mu.Lock()
	defer pc.l.mu.Unlock()
	pc.idle = idle
	if idle && pc.l.closed {
		_ = pc.c.Close()
	}
	return !pc.l.closed
}

// pollBody is a request body of known length, read from the connection's
// buffer and then from the connection.
type pollBody struct {
	pc     *pollConn
	remain int64
	err    error
}

func (b *pollBody) Read(p []byte) (int, error) {
	if b.remain == 0 {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	pc := b.pc
	var n int
	if pc.w > pc.r {
		n = copy(p, pc.buf[pc.r:pc.w])
		pc.r += n
	} else {
		n, b.err = pc.read(p)
		if b.err == io.EOF {
			b.err = io.ErrUnexpectedEOF
		}
	}
	b.remain -= int64(n)
	if b.remain == 0 {
		pc.waitTick.Store(0)
		return n, io.EOF
	}
	return n, b.err
}

func (b *pollBody) Close() error { return nil }

// pollResponse is the ResponseWriter of the polling loop: it keeps the whole
// response and writes it in one call, with a Content-Length.
type pollResponse struct {
	h         http.Header
	head      []byte // scratch for the response head
	code      int
	out       []byte
	bodyStart int
}

func (w *pollResponse) reset() {
	if w.h == nil {
		w.h = make(http.Header, 4)
	}
	w.code = 0
	if w.out == nil {
		w.out = make([]byte, 0, 512)
	}
	// Room for the head, written in front of the body by finish.
	w.out = w.out[:pollHeadRoom]
	w.bodyStart = pollHeadRoom
}

// pollHeadRoom is the space kept before the body for the response head;
// finish moves the body when a head is longer.
const pollHeadRoom = 256

func (w *pollResponse) Header() http.Header { return w.h }

func (w *pollResponse) WriteHeader(code int) {
	if w.code != 0 || code < 200 || code > 999 {
		return
	}
	w.code = code
}

func (w *pollResponse) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.out = append(w.out, p...)
	return len(p), nil
}

func (w *pollResponse) WriteString(p string) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.out = append(w.out, p...)
	return len(p), nil
}

// finish writes the head in front of the body and returns the response.
func (w *pollResponse) finish(closeAfter bool) []byte {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	body := w.out[w.bodyStart:]
	head := append(w.head[:0], "HTTP/1.1 "...)
	head = strconv.AppendInt(head, int64(w.code), 10)
	head = append(head, ' ')
	head = append(head, http.StatusText(w.code)...)
	head = append(head, "\r\n"...)
	if _, ok := w.h["Content-Type"]; !ok && len(body) > 0 {
		w.h["Content-Type"] = []string{http.DetectContentType(body)}
	}
	for k, vs := range w.h {
		if k == "Content-Length" || k == "Connection" || k == "Date" || k == "Transfer-Encoding" {
			continue
		}
		for _, v := range vs {
			head = append(head, k...)
			head = append(head, ": "...)
			head = appendHeaderValue(head, v)
			head = append(head, "\r\n"...)
		}
	}
	head = append(head, "Date: "...)
	head = appendDate(head)
	head = append(head, "\r\nContent-Length: "...)
	head = strconv.AppendInt(head, int64(len(body)), 10)
	if closeAfter {
		head = append(head, "\r\nConnection: close"...)
	}
	head = append(head, "\r\n\r\n"...)
	w.head = head
	if len(head) <= w.bodyStart {
		start := w.bodyStart - len(head)
		copy(w.out[start:], head)
		return w.out[start:]
	}
	return append(head, body...)
}

// done drops what the response held.
func (w *pollResponse) done() {
	clear(w.h)
	if cap(w.out) > maxPooledBuf {
		w.out = nil
	}
}

// appendHeaderValue appends v with CR and LF replaced by spaces, as net/http
// does, so that no value can end the header early.
func appendHeaderValue(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// The Date header is formatted once a second.
var dateCache atomic.Pointer[dateValue]

type dateValue struct {
	sec int64
	b   []byte
}

func appendDate(dst []byte) []byte {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateValue{sec: now.Unix(), b: now.UTC().AppendFormat(nil, http.TimeFormat)}
		dateCache.Store(d)
	}
	return append(dst, d.b...)
}

// printable reports whether s is made of visible ASCII characters only.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// plainHost reports whether a Host value holds only letters, digits and
// "-._:[]": a subset of what net/http accepts, enough for names, IPv4 and
// IPv6 addresses and ports. Others go to net/http.
func plainHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// parseLength reads a Content-Length: digits only, at most 18 of them.
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

// validHeaderName reports whether name is an HTTP token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// canonicalHeaderKey is textproto.CanonicalMIMEHeaderKey without its
// allocation for the names browsers and clients usually send.
func canonicalHeaderKey(name string) string {
	switch name {
	case "Host", "host":
		return "Host"
	case "Content-Length", "content-length":
		return "Content-Length"
	case "Content-Type", "content-type":
		return "Content-Type"
	case "Connection", "connection":
		return "Connection"
	case "Accept", "accept":
		return "Accept"
	case "Accept-Encoding", "accept-encoding":
		return "Accept-Encoding"
	case "Accept-Language", "accept-language":
		return "Accept-Language"
	case "User-Agent", "user-agent":
		return "User-Agent"
	case "Origin", "origin":
		return "Origin"
	case "Cookie", "cookie":
		return "Cookie"
	case "Referer", "referer":
		return "Referer"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// replayConn is a handed-over connection: reads return the bytes the polling
// loop had read first.
type replayConn struct {
	net.Conn
	pending []byte
	l       *pollListener
	key     string // in l.handed: connKey(local, remote)
}

// Close closes the connection and drops it from the listener's handed-over
// connections.
func (c *replayConn) Close() error {
	c.l.forget(c)
	return c.Conn.Close()
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection when it can (net/http uses it to
// end a connection gracefully).
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
