package engineio_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

// TestListenerSuite runs the long-polling tests again with the server behind
// its Listener, whose own loop answers the polling requests. (Not
// TestPollingHeadersNotShared: the loop's requests skip the handler chain,
// its middleware included.)
func TestListenerSuite(t *testing.T) {
	harnessListener = true
	defer func() { harnessListener, harnessListeners = false, nil }()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"PollingMessages", TestPollingMessages},
		{"PollingBodyLimit", TestPollingBodyLimit},
		{"PollingHugeBodyNotReadWhole", TestPollingHugeBodyNotReadWhole},
		{"PollingOctetStreamRefused", TestPollingOctetStreamRefused},
		{"OverlappingGets", TestOverlappingGets},
		{"OverlappingPosts", TestOverlappingPosts},
		{"AbortedConnections", TestAbortedConnections},
		{"PollingClientClose", TestPollingClientClose},
		{"PollingServerClose", TestPollingServerClose},
		{"Shutdown", TestShutdown},
		{"ServerClose", TestServerClose},
		{"HTTPCompression", TestHTTPCompression},
		{"HandshakePolling", TestHandshakePolling},
		{"Cookie", TestCookie},
		{"CustomPath", TestCustomPath},
		{"ErrorCodes", TestErrorCodes},
		{"RepeatedQueryValuesLastWins", TestRepeatedQueryValuesLastWins},
		{"OtherMethodOnSession", TestOtherMethodOnSession},
		{"CORS", TestCORS},
		{"PollingResponseFraming", TestPollingResponseFraming},
		{"PollingInvalidPackets", TestPollingInvalidPackets},
		{"Upgrade", TestUpgrade},
	} {
		harnessListeners = nil
		if !t.Run(tc.name, tc.fn) {
			continue
		}
		// The loop answered requests of the test's own.
		var served int64
		for _, ln := range harnessListeners {
			n, _, _ := engineio.ListenerCounts(ln)
			served += n
		}
		if len(harnessListeners) == 0 || served == 0 {
			t.Errorf("%s: %d listeners answered %d requests", tc.name, len(harnessListeners), served)
		}
	}
}

// listenerServer is a server behind its Listener, in front of a mux that
// also serves /hello.
func listenerServer(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t, nil)
	h.hs.Close()
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", h.srv)
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "hi %s %s", r.Method, b)
	})
	h.hs = httptest.NewUnstartedServer(mux)
	h.hs.Listener = h.srv.Listener(h.hs.Listener)
	h.hs.Start()
	t.Cleanup(h.hs.Close)
	h.url = h.hs.URL + "/engine.io/?"
	return h, h.hs.Listener.Addr().String()
}

// exchange writes raw on a new connection and reads n responses.
func exchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %q: %v", i, raw, err)
		}
		if resp.StatusCode == http.StatusContinue {
			i--
			continue
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, resp)
	}
	return out
}

func respBody(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// A connection whose requests are all polling stays with the loop; at the
// first other request it goes, with the bytes read after it, to net/http,
// which answers that request; at the next long-polling request, ServeHTTP
// gives the connection back to the loop (it hijacks it), and so on.
func TestListenerHandsOver(t *testing.T) {
	h, addr := listenerServer(t)
	sid, _ := h.handshake()
	post := func(body string) string {
		return fmt.Sprintf("POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", sid, len(body), body)
	}
	get := fmt.Sprintf("GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n\r\n", sid)
	hello := "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	// All in one write, so that each side reads ahead the other's requests:
	// two posts for the loop, the mux's page (handed over), a post and a
	// GET (taken back), the page again, a post and a GET again.
	raw := post("4one") + post("4two") + hello + post("4three") + get + hello + post("4four") + get
	served0, _, _ := engineio.ListenerCounts(h.hs.Listener)
	rs := exchange(t, addr, raw, 8)
	served, handed, taken := engineio.ListenerCounts(h.hs.Listener)
	if served-served0 != 6 || handed != 2 || taken != 2 {
		t.Errorf("the loop answered %d requests, handed over %d connections, took back %d; want 6, 2 and 2", served-served0, handed, taken)
	}
	want := []string{"ok", "ok", "hi POST abc", "ok", "4one\x1e4two\x1e4three", "hi POST abc", "ok", "4four"}
	for i, r := range rs {
		if r.StatusCode != 200 || respBody(r) != want[i] {
			t.Errorf("response %d: %d, want 200 %q", i, r.StatusCode, want[i])
		}
	}
	// The loop's responses: framed by Content-Length, with a Date.
	for _, i := range []int{0, 1, 3, 6} {
		if r := rs[i]; r.ContentLength != 2 || r.Header.Get("Date") == "" || r.Header.Get("Content-Type") != "text/html" {
			t.Errorf("response %d: length %d, headers %v", i, r.ContentLength, r.Header)
		}
	}
}

// Requests the loop does not parse itself reach net/http, which answers
// them as it would without the Listener.
func TestListenerUnusualRequests(t *testing.T) {
	h, addr := listenerServer(t)
	sid, _ := h.handshake()
	q := "/engine.io/?EIO=4&transport=polling&sid=" + sid
	for _, tc := range []struct {
		name, raw  string
		status     int
		body       string
		thenPolled bool // the message reached the session
	}{
		{"chunked body", "POST " + q + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n4ab\r\n0\r\n\r\n", 200, "ok", true},
		{"HTTP/1.0", "POST " + q + " HTTP/1.0\r\nHost: x\r\nContent-Length: 3\r\n\r\n4cd", 200, "ok", true},
		{"bare LF", "POST " + q + " HTTP/1.1\nHost: x\nContent-Length: 3\n\n4ef", 200, "ok", true},
		{"expect continue", "POST " + q + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n4gh", 200, "ok", true},
		{"long header", "POST " + q + " HTTP/1.1\r\nHost: x\r\nX-Long: " + strings.Repeat("a", 100<<10) + "\r\nContent-Length: 3\r\n\r\n4ij", 200, "ok", true},
		{"no host", "POST " + q + " HTTP/1.1\r\nContent-Length: 3\r\n\r\n4kl", 400, "", false},
		{"two lengths", "POST " + q + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n4mn", 400, "", false},
		{"bad header name", "POST " + q + " HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 3\r\n\r\n4op", 400, "", false},
		{"escaped path", "GET /engine.io%2F?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", false},
		{"websocket query, no upgrade", "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(t, addr, tc.raw, 1)[0]
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.StatusCode, tc.status, respBody(r))
			}
			if tc.body != "" && respBody(r) != tc.body {
				t.Errorf("body %q", respBody(r))
			}
			if tc.thenPolled {
				m := h.rec(sid).nextMsg(t)
				if len(m.Data) != 2 {
					t.Errorf("message %q", m.Data)
				}
			}
		})
	}
	// The session has the five messages that reached it, echoed.
	if r := h.get(sid); r.body != "4ab\x1e4cd\x1e4ef\x1e4gh\x1e4ij" {
		t.Errorf("GET: %d %q", r.status, r.body)
	}
}

// Closing the Listener closes the connections waiting for a request and
// ends Accept; the sessions are the server's to close.
func TestListenerClose(t *testing.T) {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := srv.Listener(inner)
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if c != nil {
			c.Close()
		}
		accepted <- err
	}()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A handshake answered by the loop: the connection then waits.
	if _, err := io.WriteString(c, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if err := ln.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after Close, read: %d %v", n, err)
	}
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Accept did not return")
	}
	if _, err := net.Dial("tcp", inner.Addr().String()); err == nil {
		t.Error("the inner listener still accepts")
	}
}

// FuzzPollHead checks the loop's request parser against net/http's: a head
// the loop keeps must be one net/http reads the same way.
func FuzzPollHead(f *testing.F) {
	for _, s := range []string{
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /engine.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: 127.0.0.1:80\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nconnection: close\r\n\r\n",
		"GET /engine.io/?transport=polling&EIO=4&t=a%20b HTTP/1.1\r\nhost: [::1]:3000\r\naccept: */*\r\nX-A: 1\r\nx-a: 2\r\nPragma: no-cache\r\n\r\n",
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\nContent-Length: 7\r\nUser-Agent:  ua \t\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	srv, err := engineio.NewServer(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	f.Fuzz(func(t *testing.T, head []byte) {
		// What the loop's reader would give the parser: up to the first
		// blank line, no bare LF.
		if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
			head = head[:i+4]
		} else {
			head = append(bytes.TrimRight(head, "\r\n"), "\r\n\r\n"...)
		}
		for i, c := range head {
			if c == '\n' && (i == 0 || head[i-1] != '\r') {
				return
			}
		}
		ours, closeAfter, ok := engineio.ParsePollHead(srv, head)
		if !ok {
			return
		}
		want, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("kept a head net/http refuses (%v): %q", err, head)
		}
		if ours.Method != want.Method || ours.RequestURI != want.RequestURI || ours.Host != want.Host ||
			ours.URL.Path != want.URL.Path || ours.URL.RawQuery != want.URL.RawQuery ||
			ours.ContentLength != want.ContentLength || closeAfter != want.Close || ours.Close != want.Close {
			t.Fatalf("%q: ours %s %q %q %q?%q %d %v, net/http %s %q %q %q?%q %d %v", head,
				ours.Method, ours.RequestURI, ours.Host, ours.URL.Path, ours.URL.RawQuery, ours.ContentLength, closeAfter,
				want.Method, want.RequestURI, want.Host, want.URL.Path, want.URL.RawQuery, want.ContentLength, want.Close)
		}
		delete(want.Header, "Host") // net/http's server drops it too
		if fmt.Sprint(ours.Header) != fmt.Sprint(want.Header) {
			t.Fatalf("%q: headers %v, net/http %v", head, ours.Header, want.Header)
		}
		if ours.Context() == nil || ours.Body == nil {
			t.Fatal("no context or body")
		}
	})
}

// FuzzListenerStream writes arbitrary bytes to a connection of a Listener
// and reads until the server closes it: whatever the bytes, the loop (or
// net/http after it) answers and ends the connection once the input ends.
func FuzzListenerStream(f *testing.F) {
	for _, s := range []string{
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n4abcdGET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\nGET /other HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n4ab",
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET",
	} {
		f.Add([]byte(s))
	}
	_, addr := serveListener(f, &engineio.Options{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitTimeout))
		if _, err := c.Write(in); err != nil {
			return // the server may close before reading it all
		}
		_ = c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection stayed open after %q", in)
		}
	})
}

// A connection of the loop that does not send a whole request within
// PingInterval+PingTimeout is closed: silent, a head sent slowly, a body
// that stops. A polling client with its heartbeat keeps its connections.
func TestListenerWaitLimit(t *testing.T) {
	srv, addr := serveListener(t, &engineio.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 300 * time.Millisecond})

	closedWithin := func(t *testing.T, c net.Conn, d time.Duration) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(d))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("not closed within %v: %v", d, err)
		}
	}
	dial := func(t *testing.T, s string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The limit is 600 ms, checked every 150 ms: closed after 600-900 ms.
	t.Run("silent", func(t *testing.T) {
		closedWithin(t, dial(t, ""), waitTimeout)
	})
	t.Run("half a head", func(t *testing.T) {
		closedWithin(t, dial(t, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHo"), waitTimeout)
	})
	t.Run("half a body", func(t *testing.T) {
		c := dial(t, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		open := respBody(resp)
		sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
		fmt.Fprintf(c, "POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n4ab", sid)
		closedWithin(t, c, waitTimeout)
	})
	t.Run("response not read", func(t *testing.T) {
		// A session with 8 MB to send, a GET for it, and nothing read for
		// two limits: the write that cannot finish is cut off. (Were it
		// not, reading would let it finish and the connection stay open.)
		big := strings.Repeat("x", 8<<20)
		c := dial(t, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
		// A receive buffer of fixed size, which 8 MB exceed: Linux's
		// autotuning could grow it to tcp_rmem's maximum (32 MB here).
		_ = c.(*net.TCPConn).SetReadBuffer(256 << 10)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		open := respBody(resp)
		sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
		if err := srv.Session(sid).Send(engineio.Message{Data: []byte(big)}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n\r\n", sid)
		time.Sleep(1500 * time.Millisecond)
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		n, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) || n >= int64(len(big)) {
			t.Errorf("read %d bytes, %v: the response was not cut off", n, err)
		}
	})
	t.Run("live client", func(t *testing.T) {
		// Answers every ping for 1.2 s (two limits) on one connection for
		// GETs and one for POSTs: neither is closed.
		get := dial(t, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
		gr := bufio.NewReader(get)
		resp, err := http.ReadResponse(gr, nil)
		if err != nil {
			t.Fatal(err)
		}
		open := respBody(resp)
		sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
		q := "/engine.io/?EIO=4&transport=polling&sid=" + sid
		post := dial(t, "")
		pr := bufio.NewReader(post)
		for end := time.Now().Add(1200 * time.Millisecond); time.Now().Before(end); {
			fmt.Fprintf(get, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", q)
			resp, err := http.ReadResponse(gr, nil)
			if err != nil || respBody(resp) != "2" {
				t.Fatalf("GET: %v", err)
			}
			fmt.Fprintf(post, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n3", q)
			resp, err = http.ReadResponse(pr, nil)
			if err != nil || respBody(resp) != "ok" {
				t.Fatalf("POST: %v", err)
			}
		}
	})
}

// A panic in a callback run by a polling request is recovered, as net/http
// recovers it: logged, that connection closed, the server carries on.
func TestListenerRecoversPanic(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	h := newHarnessListener(t, &engineio.Options{Logger: logger}, harnessConfig{onConn: func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) {
			if string(m.Data) == "boom" {
				panic("boom")
			}
			_ = s.Send(m) // the harness's echo, which this callback replaces
		})
	}})
	healthy, _ := h.handshake()
	sid, _ := h.handshake()
	c := h.rawRequest(fmt.Sprintf("POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n4boom", sid))
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("after the panic: %q %v, want the connection closed without a response", b, err)
	}
	h.echoRoundTrip(healthy)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "panic=boom") {
		t.Errorf("log: %q", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newHarnessListener is newHarness with the server behind its Listener.
func newHarnessListener(t *testing.T, opts *engineio.Options, cfg harnessConfig) *harness {
	t.Helper()
	harnessListener = true
	defer func() { harnessListener = false }()
	return newHarness(t, opts, cfg)
}

// fakeCluster forwards requests for the session "remote" by answering them
// itself.
type fakeCluster struct{ n atomic.Int64 }

func (c *fakeCluster) Attach(*engineio.Server) error { return nil }
func (c *fakeCluster) NewID() (string, error) {
	return fmt.Sprintf("local%015d", c.n.Add(1)), nil
}
func (c *fakeCluster) Forward(w http.ResponseWriter, r *http.Request, sid string) bool {
	if sid != "remote" {
		return false
	}
	fmt.Fprintf(w, "forwarded %s", r.Method)
	return true
}

// With a Cluster, a request for a session of another node goes to net/http,
// whose ServeHTTP forwards it; the node's own sessions stay with the loop.
func TestListenerCluster(t *testing.T) {
	h := newHarnessListener(t, &engineio.Options{Cluster: &fakeCluster{}}, harnessConfig{})
	sid, _ := h.handshake()
	h.echoRoundTrip(sid)
	_, handed0, _ := engineio.ListenerCounts(h.hs.Listener)
	if r := h.post("remote", "4x"); r.status != 200 || r.body != "forwarded POST" {
		t.Errorf("POST for another node: %d %q", r.status, r.body)
	}
	if _, handed, _ := engineio.ListenerCounts(h.hs.Listener); handed != handed0+1 {
		t.Errorf("handed over %d connections, want %d", handed, handed0+1)
	}
}

// noHijack hides the ResponseWriter's http.Hijacker, as some middleware does.
type noHijack struct{ http.ResponseWriter }

// Behind middleware whose ResponseWriter cannot be hijacked, a connection
// handed over stays with net/http, which answers its polling requests.
func TestListenerNoHijacker(t *testing.T) {
	h := newHarnessListener(t, nil, harnessConfig{middleware: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path == "/other" {
			fmt.Fprint(w, "other")
			return
		}
		next.ServeHTTP(noHijack{w}, r)
	}})
	sid, _ := h.handshake()
	q := "/engine.io/?EIO=4&transport=polling&sid=" + sid
	rs := exchange(t, h.hs.Listener.Addr().String(),
		"GET /other HTTP/1.1\r\nHost: x\r\n\r\nPOST "+q+" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n4hi"+
			"GET "+q+" HTTP/1.1\r\nHost: x\r\n\r\n", 3)
	for i, want := range []string{"other", "ok", "4hi"} {
		if got := respBody(rs[i]); got != want {
			t.Errorf("response %d: %q, want %q", i, got, want)
		}
	}
	if _, handed, taken := engineio.ListenerCounts(h.hs.Listener); handed != 1 || taken != 0 {
		t.Errorf("handed over %d, taken back %d; want 1 and 0", handed, taken)
	}
}

// serveListener serves a new server (its sessions silent) through its
// Listener, behind an http.Server whose handler is the server, on
// 127.0.0.1; the cleanup closes both. It returns the server and the address.
func serveListener(tb testing.TB, opts *engineio.Options) (*engineio.Server, string) {
	tb.Helper()
	srv, err := engineio.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(srv.Listener(inner)) }()
	tb.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, inner.Addr().String()
}

// A request answered by the loop has, like net/http's, the local address in
// its context.
func TestListenerLocalAddr(t *testing.T) {
	h := newHarnessListener(t, nil, harnessConfig{})
	got := make(chan any, 1)
	h.srv.OnConnectionError(func(r *http.Request, code engineio.ErrorCode, message string) {
		got <- r.Context().Value(http.LocalAddrContextKey)
	})
	if r := h.do("GET", "EIO=3&transport=polling", nil, nil); r.status != 400 {
		t.Fatalf("EIO=3: %d %q", r.status, r.body)
	}
	if a, ok := (<-got).(net.Addr); !ok || a.String() != h.hs.Listener.Addr().String() {
		t.Errorf("local address %v, want %s", a, h.hs.Listener.Addr())
	}
	if served, _, _ := engineio.ListenerCounts(h.hs.Listener); served != 1 {
		t.Errorf("the loop answered %d requests, want 1", served)
	}
}
