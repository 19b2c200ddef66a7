package engineio_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

func TestPollingMessages(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	rec := h.rec(sid)

	if r := h.post(sid, "4hello"); r.status != 200 || r.body != "ok" {
		t.Fatalf("POST %d %q", r.status, r.body)
	}
	if m := rec.nextMsg(t); string(m.Data) != "hello" || m.Binary {
		t.Errorf("message %q binary=%v", m.Data, m.Binary)
	}
	if r := h.get(sid); r.body != "4hello" {
		t.Errorf("echo %q", r.body)
	}

	// Several packets, text and binary, in one payload; an empty message too.
	if r := h.post(sid, "4a\x1ebAQID\x1e4\x1e4é€\x1eb"); r.status != 200 {
		t.Fatalf("POST %d %q", r.status, r.body)
	}
	want := []engineio.Message{{Data: []byte("a")}, {Data: []byte{1, 2, 3}, Binary: true}, {}, {Data: []byte("é€")}, {Binary: true}}
	for i, w := range want {
		m := rec.nextMsg(t)
		if !bytes.Equal(m.Data, w.Data) || m.Binary != w.Binary {
			t.Errorf("message %d: %q binary=%v, want %q binary=%v", i, m.Data, m.Binary, w.Data, w.Binary)
		}
	}
	if r := h.get(sid); r.body != "4a\x1ebAQID\x1e4\x1e4é€\x1eb" {
		t.Errorf("echo %q", r.body)
	}

	// Messages sent by the server together arrive together.
	rec.sess.Send(engineio.Message{Data: []byte{0xff, 0}, Binary: true}, engineio.Message{Data: []byte("x")})
	if r := h.get(sid); r.body != "b/wA=\x1e4x" {
		t.Errorf("server messages %q", r.body)
	}
	p := engineio.NewPreparedMessage(engineio.Message{Data: []byte("shared")})
	rec.sess.SendPrepared(p, p)
	if r := h.get(sid); r.body != "4shared\x1e4shared" {
		t.Errorf("prepared messages %q", r.body)
	}
	// Noop, open and upgrade packets from the client are ignored.
	if r := h.post(sid, "6\x1e0\x1e5\x1e4after"); r.status != 200 {
		t.Fatalf("POST %d", r.status)
	}
	if m := rec.nextMsg(t); string(m.Data) != "after" {
		t.Errorf("message %q", m.Data)
	}
	if r := h.get(sid); r.body != "4after" {
		t.Errorf("echo %q", r.body)
	}
}

// countingReader produces n bytes of "4aaaa..." and counts what was read.
type countingReader struct {
	n    int64
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	done := c.read.Load()
	if done >= c.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), c.n-done)
	for i := range p[:k] {
		p[i] = 'a'
	}
	if done == 0 && k > 0 {
		p[0] = '4'
	}
	c.read.Add(k)
	return int(k), nil
}

func TestPollingBodyLimit(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxHTTPBufferSize: 1000})
	sid, _ := h.handshake()
	rec := h.rec(sid)

	if r := h.post(sid, "4"+strings.Repeat("a", 999)); r.status != 200 {
		t.Errorf("POST at the limit: %d", r.status)
	}
	if m := rec.nextMsg(t); len(m.Data) != 999 {
		t.Errorf("message of %d bytes", len(m.Data))
	}
	h.get(sid)

	// With Content-Length.
	if r := h.post(sid, "4"+strings.Repeat("a", 1000)); r.status != 413 {
		t.Errorf("POST over the limit: %d", r.status)
	}
	// Chunked: the length is unknown until the body is read.
	body := &countingReader{n: 1001}
	if r := h.do("POST", "EIO=4&transport=polling&sid="+sid, io.MultiReader(body), nil); r.status != 413 {
		t.Errorf("chunked POST over the limit: %d", r.status)
	}
	// Node keeps the session after a 413.
	if rec.isClosed() {
		t.Fatalf("session closed after 413: %s", rec.reason)
	}
	h.echoRoundTrip(sid)
	if len(rec.msgs) != 1 {
		t.Errorf("oversized bodies delivered %d messages", len(rec.msgs)-1)
	}
}

func TestPollingHugeBodyNotReadWhole(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	const size = 100 << 20
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			body := &countingReader{n: size}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", h.url+"EIO=4&transport=polling&sid="+sid, io.MultiReader(body))
			if !chunked {
				req.ContentLength = size
			}
			resp, err := h.hs.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 413 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
			// The server may reset the connection while the client still
			// writes; either way it must not have read 100 MB.
			if n := body.read.Load(); n > 20<<20 {
				t.Errorf("the client could send %d bytes", n)
			}
		})
	}
	h.echoRoundTrip(sid)
}

func TestPollingOctetStreamRefused(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	sid, _ := h.handshake()
	r := h.do("POST", "EIO=4&transport=polling&sid="+sid, strings.NewReader("4abc"), map[string]string{"Content-Type": "application/octet-stream"})
	if r.status != 400 {
		t.Errorf("status %d", r.status)
	}
	if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
		t.Errorf("reason %q", reason)
	}
	if r := h.get(sid); r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
		t.Errorf("GET after close: %d %q", r.status, r.body)
	}
	h.echoRoundTrip(healthy)
}

func TestOverlappingGets(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	first := h.pendingGet(sid)
	second := h.get(sid)
	if second.status != 400 {
		t.Errorf("second GET: %d %q", second.status, second.body)
	}
	if r := waitResp(t, first); r.status != 200 || r.body != "1" {
		t.Errorf("first GET: %d %q", r.status, r.body)
	}
	if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
		t.Errorf("reason %q", reason)
	}
	if r := h.get(sid); r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
		t.Errorf("next GET: %d %q", r.status, r.body)
	}
}

// rawRequest writes a request on a fresh TCP connection and leaves it open.
func (h *harness) rawRequest(req string) net.Conn {
	h.t.Helper()
	c, err := net.Dial("tcp", h.hs.Listener.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, req); err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) partialPost(sid string, length int, body string) net.Conn {
	return h.rawRequest(fmt.Sprintf("POST %s?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
		h.srv.Options().Path, sid, length, body))
}

func TestOverlappingPosts(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	sid, _ := h.handshake()
	rec := h.rec(sid)
	conn := h.partialPost(sid, 100, "4half")
	waitFor(t, "POST pending", func() bool { return engineio.PostPending(rec.sess) })
	if r := h.post(sid, "4second"); r.status != 400 {
		t.Errorf("second POST: %d %q", r.status, r.body)
	}
	if reason := rec.waitClosed(t); reason != "transport error" {
		t.Errorf("reason %q", reason)
	}
	conn.Close()
	if r := h.get(sid); r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
		t.Errorf("GET after close: %d %q", r.status, r.body)
	}
	if len(rec.msgs) != 0 {
		t.Errorf("%d messages delivered", len(rec.msgs))
	}
	h.echoRoundTrip(healthy)
}

func TestAbortedConnections(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()

	t.Run("GET aborted", func(t *testing.T) {
		sid, _ := h.handshake()
		ctx, cancel := context.WithCancel(context.Background())
		ch := h.getAsync(ctx, sid)
		waitFor(t, "GET pending", func() bool { return engineio.PollPending(h.rec(sid).sess) })
		cancel()
		waitResp(t, ch)
		if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
			t.Errorf("reason %q", reason)
		}
	})

	t.Run("half a POST body", func(t *testing.T) {
		sid, _ := h.handshake()
		rec := h.rec(sid)
		conn := h.partialPost(sid, 100, "4abc")
		waitFor(t, "POST pending", func() bool { return engineio.PostPending(rec.sess) })
		conn.Close()
		if reason := rec.waitClosed(t); reason != "transport error" {
			t.Errorf("reason %q", reason)
		}
		if len(rec.msgs) != 0 {
			t.Errorf("a truncated body delivered %d messages", len(rec.msgs))
		}
	})

	t.Run("half the headers", func(t *testing.T) {
		sid, _ := h.handshake()
		conn := h.rawRequest(fmt.Sprintf("POST %s?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Le", h.srv.Options().Path, sid))
		conn.Close()
		// The request never reached the server: the session is intact.
		h.echoRoundTrip(sid)
	})

	t.Run("reset during handshake", func(t *testing.T) {
		n := h.srv.Count()
		conn := h.rawRequest(fmt.Sprintf("GET %s?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConn", h.srv.Options().Path))
		conn.Close()
		h.echoRoundTrip(healthy)
		if h.srv.Count() != n {
			t.Errorf("Count() = %d, want %d", h.srv.Count(), n)
		}
	})

	h.echoRoundTrip(healthy)
}

func TestPollingClientClose(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	pending := h.pendingGet(sid)
	if r := h.post(sid, "1"); r.status != 200 {
		t.Errorf("POST close: %d", r.status)
	}
	if r := waitResp(t, pending); r.status != 200 || r.body != "6" {
		t.Errorf("pending GET: %d %q", r.status, r.body)
	}
	if reason := h.rec(sid).waitClosed(t); reason != "transport close" {
		t.Errorf("reason %q", reason)
	}
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
	select {
	case <-h.rec(sid).sess.Context().Done():
	default:
		t.Error("session context not cancelled")
	}
	if err := h.rec(sid).sess.Send(engineio.Message{Data: []byte("late")}); err != engineio.ErrClosed {
		t.Errorf("Send after close: %v", err)
	}

	// Packets after the close packet in the same payload are not handled.
	sid2, _ := h.handshake()
	h.post(sid2, "1\x1e4ignored")
	h.rec(sid2).waitClosed(t)
	if len(h.rec(sid2).msgs) != 0 {
		t.Error("a message after the close packet was delivered")
	}
}

// TestPollingCloseRacingGet is the official suites' "forcefully closes the
// session" when the server reads the POST with the close packet before the
// GET sent along with it: the GET still gets the noop that ends it, and a
// GET after both is refused.
func TestPollingCloseRacingGet(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 3; i++ {
		sid, _ := h.handshake()
		posted := make(chan response, 1)
		go func() { posted <- h.post(sid, "1") }()
		time.Sleep(time.Duration(1+i*5) * time.Millisecond) // the POST first
		if r := h.get(sid); r.status != 200 || r.body != "6" {
			t.Errorf("round %d: GET racing the close: %d %q", i, r.status, r.body)
		}
		if r := waitResp(t, posted); r.status != 200 || r.body != "ok" {
			t.Errorf("round %d: POST close: %d %q", i, r.status, r.body)
		}
		if reason := h.rec(sid).waitClosed(t); reason != "transport close" {
			t.Errorf("round %d: reason %q", i, reason)
		}
		if r := h.get(sid); r.status != 400 {
			t.Errorf("round %d: GET after the close: %d %q", i, r.status, r.body)
		}
	}
}

func TestPollingServerClose(t *testing.T) {
	h := newHarness(t, nil)

	t.Run("next GET", func(t *testing.T) {
		sid, _ := h.handshake()
		rec := h.rec(sid)
		rec.sess.Send(engineio.Message{Data: []byte("a")})
		rec.sess.Send(engineio.Message{Data: []byte{7}, Binary: true})
		rec.sess.Close()
		if err := rec.sess.Send(engineio.Message{Data: []byte("too late")}); err != engineio.ErrClosed {
			t.Errorf("Send while closing: %v", err)
		}
		// As Node: the queued packets, then the close packet in the next
		// response (a client would handle the close before the packets).
		if r := h.get(sid); r.status != 200 || r.body != "4a\x1ebBw==" {
			t.Errorf("GET: %d %q", r.status, r.body)
		}
		if r := h.get(sid); r.status != 200 || r.body != "1" {
			t.Errorf("second GET: %d %q", r.status, r.body)
		}
		if reason := rec.waitClosed(t); reason != "forced close" {
			t.Errorf("reason %q", reason)
		}
	})

	t.Run("pending GET", func(t *testing.T) {
		sid, _ := h.handshake()
		rec := h.rec(sid)
		pending := h.pendingGet(sid)
		rec.sess.Close()
		if r := waitResp(t, pending); r.status != 200 || r.body != "1" {
			t.Errorf("GET: %d %q", r.status, r.body)
		}
		if reason := rec.waitClosed(t); reason != "forced close" {
			t.Errorf("reason %q", reason)
		}
		if r := h.get(sid); r.status != 400 {
			t.Errorf("GET after close: %d", r.status)
		}
	})
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, nil)
	sid1, _ := h.handshake()
	sid2, _ := h.handshake()
	ws, wsSID := h.wsHandshake()
	h.rec(sid2).sess.Send(engineio.Message{Data: []byte("bye")})
	h.rec(wsSID).sess.Send(engineio.Message{Data: []byte("bye")})
	p1 := h.pendingGet(sid1)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		done <- h.srv.Shutdown(ctx)
	}()
	if r := waitResp(t, p1); r.body != "1" {
		t.Errorf("pending GET: %q", r.body)
	}
	// As Node's close(): an idle polling session closes at once, what is
	// queued for it dropped. (Shutdown may close sid1 before sid2: wait for
	// sid2's close before asking.)
	h.rec(sid2).waitClosed(t)
	if r := h.get(sid2); r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
		t.Errorf("next GET: %d %q", r.status, r.body)
	}
	if got := ws.readText(); got != "4bye" {
		t.Errorf("websocket: %q", got)
	}
	if !ws.expectEnd() {
		t.Error("websocket: no close frame")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Shutdown did not return")
	}
	for _, sid := range []string{sid1, sid2, wsSID} {
		if reason := h.rec(sid).waitClosed(t); reason != "forced close" {
			t.Errorf("%s: reason %q", sid, reason)
		}
	}
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
	if r := h.do("GET", "EIO=4&transport=polling", nil, nil); r.status != 503 {
		t.Errorf("handshake after Shutdown: %d", r.status)
	}
}

func TestShutdownDeadline(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxBufferedBytes: 64 << 20})
	_, sid := h.wsHandshake() // never reads: its writer blocks
	chunk := make([]byte, 1<<20)
	for range 40 {
		if err := h.rec(sid).sess.Send(engineio.Message{Data: chunk, Binary: true}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown: %v", err)
	}
	if reason := h.rec(sid).waitClosed(t); reason != "forced close" {
		t.Errorf("reason %q", reason)
	}
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestServerClose(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	ws, wsSID := h.wsHandshake()
	pending := h.pendingGet(sid)
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if r := waitResp(t, pending); r.body != "1" {
		t.Errorf("pending GET: %q", r.body)
	}
	ws.expectEnd()
	for _, s := range []string{sid, wsSID} {
		if reason := h.rec(s).waitClosed(t); reason != "forced close" {
			t.Errorf("reason %q", reason)
		}
	}
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestHTTPCompression(t *testing.T) {
	big := strings.Repeat("compressible ", 100) // 1300 bytes
	decode := map[string]func(io.Reader) (io.Reader, error){
		"gzip":    func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"deflate": func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) },
	}
	for _, tc := range []struct {
		name, accept, want string
		msg                string
		disable            bool
		noCompress         bool
	}{
		{"gzip", "gzip", "gzip", big, false, false},
		{"deflate", "deflate", "deflate", big, false, false},
		{"preference", "deflate;q=0.5, gzip;q=0.9", "gzip", big, false, false},
		{"deflate preferred", "gzip;q=0.1, deflate", "deflate", big, false, false},
		{"gzip refused", "gzip;q=0, identity", "", big, false, false},
		{"small", "gzip, deflate", "", "short", false, false},
		{"disabled", "gzip, deflate", "", big, true, false},
		{"message with NoCompress", "gzip, deflate", "", big, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &engineio.Options{DisableHTTPCompression: tc.disable})
			sid, _ := h.handshake()
			h.rec(sid).sess.Send(engineio.Message{Data: []byte(tc.msg), NoCompress: tc.noCompress})
			r := h.do("GET", "EIO=4&transport=polling&sid="+sid, nil, map[string]string{"Accept-Encoding": tc.accept})
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			body := r.body
			if tc.want != "" {
				zr, err := decode[tc.want](strings.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.body) >= len(b) {
					t.Errorf("compressed %d bytes into %d", len(b), len(r.body))
				}
				body = string(b)
			}
			if body != "4"+tc.msg {
				t.Errorf("payload %q", body)
			}
		})
	}
}

// addingWriter is a middleware's ResponseWriter that adds a value to
// Cache-Control when the handler writes its header.
type addingWriter struct{ http.ResponseWriter }

func (w addingWriter) WriteHeader(code int) {
	w.Header().Add("Cache-Control", "private")
	w.ResponseWriter.WriteHeader(code)
}

// The polling responses share their header values between responses; a
// middleware adding to one changes only its own response, never the next.
func TestPollingHeadersNotShared(t *testing.T) {
	h := newHarness(t, nil, harnessConfig{middleware: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(addingWriter{w}, r)
	}})
	sid, _ := h.handshake()
	for i := 0; i < 3; i++ {
		p := h.post(sid, "4x")
		g := h.get(sid)
		if p.status != 200 || g.body != "4x" {
			t.Fatalf("round %d: POST %d %q, GET %q", i, p.status, p.body, g.body)
		}
		for _, r := range []response{p, g} {
			if got := r.header.Values("Cache-Control"); len(got) != 2 || got[0] != "no-store" || got[1] != "private" {
				t.Errorf("round %d: Cache-Control %q, want [no-store private]", i, got)
			}
		}
		if ct := g.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			t.Errorf("round %d: GET Content-Type %q", i, ct)
		}
		if ct := p.header.Get("Content-Type"); ct != "text/html" {
			t.Errorf("round %d: POST Content-Type %q", i, ct)
		}
	}
}

// Behind net/http, a polling request blocked on a client that stopped
// reading its response or sending its body is cut off when the session
// times out, instead of holding the handler, its buffers and the
// connection for as long as the client keeps the TCP connection open.
func TestPollingStalledRequestCutOff(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 500 * time.Millisecond, PingTimeout: 500 * time.Millisecond, MaxBufferedBytes: 64 << 20}, harnessConfig{noEcho: true})
	addr := h.hs.Listener.Addr().String()
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// A receive buffer of fixed size: Linux's autotuning may grow it
		// to tcp_rmem's maximum (32 MB here), which would take the whole
		// response below unread. (Not much smaller, either: a window under
		// loopback's MSS would make the data written before the cut-off
		// trickle out.)
		_ = c.(*net.TCPConn).SetReadBuffer(256 << 10)
		return c
	}
	// closedAfter reads the connection to its end; a connection still open
	// after waitTimeout is what the cut-off prevents.
	closedAfter := func(t *testing.T, c net.Conn) int64 {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			t.Errorf("connection not closed after the session's timeout (read %d bytes): %v", n, err)
		}
		return n
	}

	t.Run("response not read", func(t *testing.T) {
		// More than the two sockets' buffers take (at most 4 MB to send
		// here, 256 kB to receive).
		big := strings.Repeat("x", 16<<20)
		sid, _ := h.handshake()
		rec := h.rec(sid)
		if err := rec.sess.Send(engineio.Message{Data: []byte(big)}); err != nil {
			t.Fatal(err)
		}
		c := dial(t)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", strings.TrimPrefix(h.url, h.hs.URL)+"EIO=4&transport=polling&sid="+sid)
		if reason := rec.waitClosed(t); reason != engineio.ReasonPingTimeout {
			t.Errorf("closed with %q", reason)
		}
		if n := closedAfter(t, c); n >= int64(len(big)) {
			t.Errorf("read %d bytes: the whole response went out", n)
		}
	})
	t.Run("body not sent", func(t *testing.T) {
		sid, _ := h.handshake()
		rec := h.rec(sid)
		c := dial(t)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4ab", strings.TrimPrefix(h.url, h.hs.URL)+"EIO=4&transport=polling&sid="+sid)
		if reason := rec.waitClosed(t); reason != engineio.ReasonPingTimeout {
			t.Errorf("closed with %q", reason)
		}
		closedAfter(t, c)
	})
}
