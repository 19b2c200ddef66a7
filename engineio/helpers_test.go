package engineio_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socketio-go/socketio/engineio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds every wait in these tests. It is generous: a test that
// reaches it has failed, it does not measure anything.
const waitTimeout = 10 * time.Second

// record is what the test server saw of one session.
type record struct {
	sess     *engineio.Session
	msgs     chan engineio.Message
	closed   chan struct{}
	upgraded chan string
	reason   string // valid once closed is closed
	cause    error
}

func (r *record) waitClosed(t testing.TB) string {
	t.Helper()
	select {
	case <-r.closed:
		return r.reason
	case <-time.After(waitTimeout):
		t.Fatalf("session %s not closed", r.sess.ID())
		return ""
	}
}

func (r *record) isClosed() bool {
	select {
	case <-r.closed:
		return true
	default:
		return false
	}
}

func (r *record) nextMsg(t testing.TB) engineio.Message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf("session %s: no message", r.sess.ID())
		return engineio.Message{}
	}
}

// harnessListener puts the harness's server behind its Listener
// (TestListenerSuite runs other tests so).
var harnessListener bool

// harnessListeners are the listeners of the harnesses made so.
var harnessListeners []net.Listener

// harness is an engineio.Server behind an httptest.Server. Sessions echo
// every message back unless noEcho is set.
type harness struct {
	t   testing.TB
	srv *engineio.Server
	hs  *httptest.Server
	url string // base URL of the Engine.IO path, ending in "?"

	mu      sync.Mutex
	records map[string]*record
}

type harnessConfig struct {
	noEcho bool
	// onConn runs at the end of OnConnection.
	onConn func(*engineio.Session)
	// middleware, when set, wraps each request before the server sees it.
	middleware func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func newHarness(t testing.TB, opts *engineio.Options, cfgs ...harnessConfig) *harness {
	t.Helper()
	var cfg harnessConfig
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	srv, err := engineio.NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	h := &harness{t: t, srv: srv, records: map[string]*record{}}
	srv.OnConnection(func(s *engineio.Session) {
		rec := &record{sess: s, msgs: make(chan engineio.Message, 100000), closed: make(chan struct{}), upgraded: make(chan string, 1)}
		h.mu.Lock()
		h.records[s.ID()] = rec
		h.mu.Unlock()
		s.OnMessage(func(m engineio.Message) {
			rec.msgs <- m
			if !cfg.noEcho {
				_ = s.Send(m)
			}
		})
		s.OnClose(func(reason string, cause error) {
			rec.reason, rec.cause = reason, cause
			close(rec.closed)
		})
		s.OnUpgrade(func(tr string) { rec.upgraded <- tr })
		if cfg.onConn != nil {
			cfg.onConn(s)
		}
	})
	var handler http.Handler = srv
	if cfg.middleware != nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cfg.middleware(w, r, srv) })
	}
	if harnessListener {
		// The server's own polling loop in front of net/http (Listener).
		h.hs = httptest.NewUnstartedServer(handler)
		h.hs.Listener = srv.Listener(h.hs.Listener)
		harnessListeners = append(harnessListeners, h.hs.Listener)
		h.hs.Start()
	} else {
		h.hs = httptest.NewServer(handler)
	}
	h.url = h.hs.URL + srv.Options().Path + "?"
	t.Cleanup(func() {
		_ = srv.Close()
		h.hs.Close()
	})
	return h
}

func (h *harness) rec(sid string) *record {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.records[sid]
	if r == nil {
		h.t.Fatalf("no session %q", sid)
	}
	return r
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request; query is appended to the Engine.IO URL.
func (h *harness) do(method, query string, body io.Reader, hdr map[string]string) response {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, h.url+query, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.hs.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: reading body: %v", method, query, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// handshake opens a polling session and returns its sid and open packet.
func (h *harness) handshake() (string, map[string]any) {
	h.t.Helper()
	r := h.do("GET", "EIO=4&transport=polling", nil, nil)
	if r.status != 200 || !strings.HasPrefix(r.body, "0") {
		h.t.Fatalf("handshake: %d %q", r.status, r.body)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(r.body[1:]), &open); err != nil {
		h.t.Fatalf("handshake: open packet %q: %v", r.body, err)
	}
	sid, _ := open["sid"].(string)
	if sid == "" {
		h.t.Fatalf("handshake: no sid in %q", r.body)
	}
	return sid, open
}

func (h *harness) get(sid string) response {
	h.t.Helper()
	return h.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil)
}

func (h *harness) post(sid, body string) response {
	h.t.Helper()
	return h.do("POST", "EIO=4&transport=polling&sid="+sid, strings.NewReader(body), map[string]string{"Content-Type": "text/plain;charset=UTF-8"})
}

// getAsync starts a GET and returns a channel with its response. The
// request's errors are reported as status 0.
func (h *harness) getAsync(ctx context.Context, sid string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"EIO=4&transport=polling&sid="+sid, nil)
		resp, err := h.hs.Client().Do(req)
		if err != nil {
			ch <- response{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ch <- response{resp.StatusCode, resp.Header, string(b)}
	}()
	return ch
}

// pendingGet starts a GET and waits until the server is holding it.
func (h *harness) pendingGet(sid string) <-chan response {
	h.t.Helper()
	ch := h.getAsync(context.Background(), sid)
	sess := h.rec(sid).sess
	waitFor(h.t, "GET pending", func() bool { return engineio.PollPending(sess) })
	return ch
}

func waitResp(t testing.TB, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		t.Fatal("no response")
		return response{}
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// echoRoundTrip proves that a polling session works: a message posted comes
// back on a following GET. Pings met on the way are answered.
func (h *harness) echoRoundTrip(sid string) {
	h.t.Helper()
	msg := "4hello-" + sid
	if r := h.post(sid, msg); r.status != 200 || r.body != "ok" {
		h.t.Fatalf("echo POST on %s: %d %q", sid, r.status, r.body)
	}
	for {
		r := h.get(sid)
		if r.status != 200 {
			h.t.Fatalf("echo GET on %s: %d %q", sid, r.status, r.body)
		}
		found := false
		for _, p := range strings.Split(r.body, "\x1e") {
			switch p {
			case msg:
				found = true
			case "2":
				h.post(sid, "3")
			default:
				h.t.Fatalf("echo GET on %s: %q", sid, r.body)
			}
		}
		if found {
			return
		}
	}
}

// errorBody is the JSON body of a refused request.
func errorBody(code int, msg string) string {
	return fmt.Sprintf(`{"code":%d,"message":%q}`, code, msg)
}

// ---- A minimal WebSocket client, enough to send anything a peer could. ----

type wsClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

// dialWS opens a TCP connection, sends a WebSocket handshake for the given
// query and returns the client with the server's response. The client is
// usable only when the status is 101.
func (h *harness) dialWS(query string, extra ...string) *wsClient {
	h.t.Helper()
	return h.dialWSRaw(query, nil, extra...)
}

// dialWSRaw is dialWS with bytes sent right after the request headers.
func (h *harness) dialWSRaw(query string, trailing []byte, extra ...string) *wsClient {
	h.t.Helper()
	conn, err := net.Dial("tcp", h.hs.Listener.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s?%s HTTP/1.1\r\nHost: %s\r\n", h.srv.Options().Path, query, h.hs.Listener.Addr())
	hdr := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": k, "Sec-WebSocket-Version": "13"}
	for _, e := range extra {
		name, val, _ := strings.Cut(e, ":")
		hdr[name] = strings.TrimSpace(val)
	}
	for name, val := range hdr {
		if val != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, val)
		}
	}
	b.WriteString("\r\n")
	conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := conn.Write(append([]byte(b.String()), trailing...)); err != nil {
		h.t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		h.t.Fatalf("websocket handshake: %v", err)
	}
	c := &wsClient{t: h.t, conn: conn, br: br, resp: resp}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			h.t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
		}
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return c
}

// mustDialWS is dialWS that fails the test unless the server switched protocols.
func (h *harness) mustDialWS(query string, extra ...string) *wsClient {
	h.t.Helper()
	c := h.dialWS(query, extra...)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		h.t.Fatalf("websocket handshake: status %d", c.resp.StatusCode)
	}
	return c
}

// wsHandshake opens a WebSocket-only session and returns the client and the sid.
func (h *harness) wsHandshake() (*wsClient, string) {
	h.t.Helper()
	c := h.mustDialWS("EIO=4&transport=websocket")
	op, p := c.read()
	if op != opText || !strings.HasPrefix(string(p), "0") {
		h.t.Fatalf("websocket open packet: op %d %q", op, p)
	}
	var open struct{ SID string }
	if err := json.Unmarshal(p[1:], &open); err != nil || open.SID == "" {
		h.t.Fatalf("websocket open packet %q: %v", p, err)
	}
	return c, open.SID
}

// frame encodes one client frame: b0 holds FIN, RSV and the opcode.
func frame(b0 byte, payload []byte, masked bool) []byte {
	out := []byte{b0}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n < 1<<16:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i%4])
	}
	return out
}

func (c *wsClient) write(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(waitTimeout))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

func (c *wsClient) sendText(s string)   { c.t.Helper(); c.write(frame(0x80|opText, []byte(s), true)) }
func (c *wsClient) sendBinary(b []byte) { c.t.Helper(); c.write(frame(0x80|opBinary, b, true)) }

// readFrame reads one server frame.
func (c *wsClient) readFrame() (b0 byte, payload []byte, err error) {
	c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	if hdr[1]&0x80 != 0 {
		return 0, nil, errors.New("masked server frame")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// read returns the next complete data message, or the close frame.
func (c *wsClient) read() (op byte, payload []byte) {
	c.t.Helper()
	var msg []byte
	op = 0xff
	for {
		b0, p, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("websocket read: %v", err)
		}
		fop := b0 & 0x0f
		if fop >= opClose {
			if fop == opClose {
				return opClose, p
			}
			continue
		}
		if op == 0xff {
			op = fop
		}
		msg = append(msg, p...)
		if b0&0x80 != 0 {
			return op, msg
		}
	}
}

// readText reads the next message and checks it is text.
func (c *wsClient) readText() string {
	c.t.Helper()
	op, p := c.read()
	if op != opText {
		c.t.Fatalf("websocket: got opcode %d (%q), want text", op, p)
	}
	return string(p)
}

// expectEnd reads until the server ends the connection: a close frame or
// EOF. It reports whether a close frame came and fails on a data message.
// Like a real client, it then closes the TCP connection (the server
// lingers after a protocol error until the peer does so).
func (c *wsClient) expectEnd() (gotClose bool) {
	c.t.Helper()
	defer c.conn.Close()
	for {
		b0, p, err := c.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("websocket: connection not closed by the server")
			}
			return false
		}
		switch b0 & 0x0f {
		case opClose:
			return true
		case opText, opBinary, opCont:
			if strings.HasPrefix(string(p), "2") && len(p) == 1 {
				continue // a heartbeat may come first
			}
			c.t.Fatalf("websocket: message %q while waiting for close", p)
		}
	}
}

// drain reads and drops frames until the server ends the connection.
func (c *wsClient) drain() {
	c.t.Helper()
	defer c.conn.Close()
	for {
		b0, _, err := c.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("websocket: connection not closed by the server")
			}
			return
		}
		if b0&0x0f == opClose {
			return
		}
	}
}

// wsEchoRoundTrip proves a WebSocket session works.
func (c *wsClient) echoRoundTrip(msg string) {
	c.t.Helper()
	c.sendText("4" + msg)
	if got := c.readText(); got != "4"+msg {
		c.t.Fatalf("echo: got %q, want %q", got, "4"+msg)
	}
}

// probe opens the WebSocket of an upgrade of the polling session sid, whose
// GET pending is pending, and sends the probe: the probe is answered and the
// pending GET released with a noop.
func (h *harness) probe(sid string, pending <-chan response) *wsClient {
	h.t.Helper()
	c := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		h.t.Fatalf("probe answer %q", got)
	}
	if pending != nil {
		if r := waitResp(h.t, pending); r.status != 200 || r.body != "6" {
			h.t.Errorf("pending GET: %d %q", r.status, r.body)
		}
	}
	return c
}

// upgrade moves the polling session sid to a WebSocket, checking each step.
func (h *harness) upgrade(sid string) *wsClient {
	h.t.Helper()
	c := h.probe(sid, nil)
	c.sendText("5")
	select {
	case tr := <-h.rec(sid).upgraded:
		if tr != "websocket" {
			h.t.Fatalf("OnUpgrade(%q)", tr)
		}
	case <-time.After(waitTimeout):
		h.t.Fatal("OnUpgrade not called")
	}
	return c
}
