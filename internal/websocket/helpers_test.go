package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer runs fn on every upgraded connection and records what it returns.
type testServer struct {
	*httptest.Server
	wg    sync.WaitGroup
	errs  chan error
	conns chan *Conn
}

func newTestServer(t testing.TB, opts *Options, fn func(*Conn) error) *testServer {
	t.Helper()
	s := &testServer{errs: make(chan error, 100), conns: make(chan *Conn, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.wg.Add(1)
		defer s.wg.Done()
		c, err := Upgrade(w, r, http.Header{"X-Test": {"yes"}}, opts)
		if err != nil {
			return
		}
		s.conns <- c
		err = fn(c)
		c.CloseNow()
		s.errs <- err
	}))
	t.Cleanup(func() {
		s.Server.Close()
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("server handlers did not return")
		}
	})
	return s
}

// serverErr returns what the handler of the next finished connection returned.
func (s *testServer) serverErr(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("timeout waiting for the server handler")
		return nil
	}
}

func echo(c *Conn) error {
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
	}
}

// testClient is a minimal masking client that speaks raw frames.
type testClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// handshakeRequest builds an upgrade request; extra lines are "Name: value".
func handshakeRequest(host string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET /ws HTTP/1.1\r\nHost: %s\r\n", host)
	has := func(name string) bool {
		for _, e := range extra {
			if strings.HasPrefix(strings.ToLower(e), strings.ToLower(name)+":") {
				return true
			}
		}
		return false
	}
	for _, def := range []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 13"} {
		name, _, _ := strings.Cut(def, ":")
		if !has(name) {
			b.WriteString(def + "\r\n")
		}
	}
	for _, e := range extra {
		if !strings.HasSuffix(e, ": <omit>") {
			b.WriteString(e + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// rawDial sends req (plus any trailing bytes) and reads the response.
func rawDial(t testing.TB, s *testServer, req string, trailing []byte) *testClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write(append([]byte(req), trailing...)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testClient{t: t, nc: nc, br: br, resp: resp}
}

func dial(t testing.TB, s *testServer, extra ...string) *testClient {
	t.Helper()
	c := rawDial(t, s, handshakeRequest(s.Listener.Addr().String(), extra...), nil)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	return c
}

// clientFrame encodes a client frame; b0 holds FIN, RSV and opcode.
func clientFrame(b0 byte, payload []byte, masked bool) []byte {
	var b []byte
	b = append(b, b0)
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, mbit|byte(n))
	case n <= 0xffff:
		b = append(b, mbit|126, byte(n>>8), byte(n))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{byte(rand.Intn(256)), byte(rand.Intn(256)), byte(rand.Intn(256)), byte(rand.Intn(256))}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	return b
}

func (c *testClient) send(frames ...[]byte) {
	c.t.Helper()
	var all []byte
	for _, f := range frames {
		all = append(all, f...)
	}
	if _, err := c.nc.Write(all); err != nil {
		c.t.Fatal(err)
	}
}

// readFrame reads one server frame and checks that it is unmasked.
func (c *testClient) readFrame() (b0 byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
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
	_, err = io.ReadFull(c.br, payload)
	return h[0], payload, err
}

// readMessage reads one unfragmented data frame, inflating it if RSV1 is set.
func (c *testClient) readMessage() (op byte, payload []byte) {
	c.t.Helper()
	b0, p, err := c.readFrame()
	if err != nil {
		c.t.Fatal(err)
	}
	if b0&0x80 == 0 {
		c.t.Fatal("server sent a fragmented frame")
	}
	if b0&0x40 != 0 {
		p = inflateForTest(c.t, p)
	}
	return b0 & 0x0f, p
}

// expectClose reads until a close frame and returns its code (1005 if empty).
func (c *testClient) expectClose() (StatusCode, string) {
	c.t.Helper()
	for {
		b0, p, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("reading close frame: %v", err)
		}
		if b0&0x0f != opClose {
			continue
		}
		if len(p) < 2 {
			return StatusNoStatusRcvd, ""
		}
		return StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
	}
}

// expectEOF checks that the server closed the TCP connection.
func (c *testClient) expectEOF() {
	c.t.Helper()
	if _, err := c.br.ReadByte(); err == nil {
		c.t.Fatal("expected the connection to be closed")
	}
	c.nc.Close()
}

func deflateForTest(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	fw.Write(data)
	fw.Flush()
	out := buf.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("no sync marker")
	}
	return out[:len(out)-4]
}

func inflateForTest(t testing.TB, data []byte) []byte {
	fr := flate.NewReader(io.MultiReader(bytes.NewReader(data), bytes.NewReader(deflateTail)))
	out, err := io.ReadAll(fr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// memConn is an in-memory net.Conn: reads come from r, writes are appended
// to out (or discarded when discard is set).
type memConn struct {
	mu      sync.Mutex
	r       io.Reader
	out     bytes.Buffer
	discard bool
	closed  bool
}

func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	if !m.discard {
		m.out.Write(p)
	}
	return len(p), nil
}

func (m *memConn) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }
