package engineio_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

func TestPollingInvalidPackets(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	for _, body := range []string{"abc", "9", "", "4ok\x1e", "\x1e4x", "4a\x1e7b", "b!!!", "/", "4ok\x1e\x1e4ok"} {
		t.Run(fmt.Sprintf("%q", body), func(t *testing.T) {
			sid, _ := h.handshake()
			rec := h.rec(sid)
			if r := h.post(sid, body); r.status != 400 {
				t.Errorf("status %d %q", r.status, r.body)
			}
			if reason := rec.waitClosed(t); reason != "parse error" {
				t.Errorf("reason %q", reason)
			}
			if r := h.get(sid); r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
				t.Errorf("GET after: %d %q", r.status, r.body)
			}
			h.echoRoundTrip(healthy)
		})
	}
}

func TestWebSocketBadInput(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	healthyWS, _ := h.wsHandshake()
	for _, tc := range []struct {
		name   string
		send   func(c *wsClient)
		reason string
	}{
		{"unknown packet type", func(c *wsClient) { c.sendText("9") }, "parse error"},
		{"letters", func(c *wsClient) { c.sendText("abc") }, "parse error"},
		{"empty text", func(c *wsClient) { c.sendText("") }, "parse error"},
		{"bad base64", func(c *wsClient) { c.sendText("b!!") }, "parse error"},
		{"junk bytes", func(c *wsClient) { c.write([]byte("hello, this is not a frame\r\n")) }, "transport error"},
		{"reserved bits", func(c *wsClient) { c.write(frame(0x80|0x20|opText, []byte("4x"), true)) }, "transport error"},
		{"rsv1 without deflate", func(c *wsClient) { c.write(frame(0x80|0x40|opText, []byte("4x"), true)) }, "transport error"},
		{"unmasked frame", func(c *wsClient) { c.write(frame(0x80|opText, []byte("4x"), false)) }, "transport error"},
		{"unknown opcode", func(c *wsClient) { c.write(frame(0x80|0x3, []byte("4x"), true)) }, "transport error"},
		{"invalid UTF-8", func(c *wsClient) { c.write(frame(0x80|opText, []byte{'4', 0xff, 0xfe}, true)) }, "transport error"},
		{"continuation first", func(c *wsClient) { c.write(frame(0x80|opCont, []byte("4x"), true)) }, "transport error"},
		{"fragmented ping", func(c *wsClient) { c.write(frame(opPing, []byte("x"), true)) }, "transport error"},
		{"bad close code", func(c *wsClient) { c.write(frame(0x80|opClose, []byte{0x03, 0xe7}, true)) }, "transport error"},
		{"truncated frame", func(c *wsClient) { c.write(frame(0x80|opText, []byte("4abcdef"), true)[:5]); c.conn.Close() }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sid := h.wsHandshake()
			tc.send(c)
			if tc.reason != "" {
				c.expectEnd()
			}
			reason := h.rec(sid).waitClosed(t)
			if tc.reason != "" && reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
			h.echoRoundTrip(healthy)
			healthyWS.echoRoundTrip("healthy")
		})
	}
}

func TestWebSocketJunkAfterHandshake(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	// Junk sent with the handshake request itself, before any 101 is seen.
	c := h.dialWSRaw("EIO=4&transport=websocket", []byte("\x00\x01garbage garbage garbage"))
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", c.resp.StatusCode)
	}
	c.drain()
	// Junk during an upgrade probe.
	sid, _ := h.handshake()
	c = h.dialWSRaw("EIO=4&transport=websocket&sid="+sid, []byte("GET / HTTP/1.1\r\n\r\n"))
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", c.resp.StatusCode)
	}
	c.drain()
	waitFor(t, "server idle", func() bool { return h.srv.Count() == 2 && !engineio.Upgrading(h.rec(sid).sess) })
	h.echoRoundTrip(sid)
	h.echoRoundTrip(healthy)
}

func TestUpgradeH2C(t *testing.T) {
	h := newHarness(t, nil)
	healthy, _ := h.handshake()
	hdr := map[string]string{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
	// A polling handshake asking for h2c is served as plain HTTP/1.1.
	r := h.do("GET", "EIO=4&transport=polling", nil, hdr)
	if r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Errorf("polling handshake with h2c: %d %q", r.status, r.body)
	}
	// A WebSocket request asking for h2c instead is refused.
	c := h.dialWS("EIO=4&transport=websocket", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings")
	if c.resp.StatusCode != 400 {
		t.Errorf("websocket with h2c: %d", c.resp.StatusCode)
	}
	c = h.dialWS("EIO=4&transport=websocket&sid="+healthy, "Upgrade: h2c")
	if c.resp.StatusCode != 400 {
		t.Errorf("upgrade with h2c: %d", c.resp.StatusCode)
	}
	h.echoRoundTrip(healthy)
}

// goroutinesSettle waits for the goroutine count to fall to at most n.
func goroutinesSettle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPongFlood(t *testing.T) {
	h := newHarness(t, nil)

	t.Run("polling", func(t *testing.T) {
		sid, _ := h.handshake()
		h.echoRoundTrip(sid) // opens the keep-alive connection
		h.rec(sid).nextMsg(t)
		before := runtime.NumGoroutine()
		body := strings.Repeat("3\x1e", 5000) + "4end"
		for range 5 {
			if r := h.post(sid, body); r.status != 200 {
				t.Fatalf("POST %d", r.status)
			}
		}
		for range 5 {
			if m := h.rec(sid).nextMsg(t); string(m.Data) != "end" {
				t.Fatalf("message %q", m.Data)
			}
		}
		if got := h.get(sid).body; got != strings.Repeat("4end\x1e", 4)+"4end" {
			t.Errorf("GET %q", got)
		}
		goroutinesSettle(t, before+10)
		h.echoRoundTrip(sid)
	})

	t.Run("websocket", func(t *testing.T) {
		c, sid := h.wsHandshake()
		c.echoRoundTrip("warm")
		before := runtime.NumGoroutine()
		var buf bytes.Buffer
		for range 5000 {
			buf.Write(frame(0x80|opText, []byte("3"), true))
		}
		c.write(buf.Bytes())
		c.echoRoundTrip("after the flood")
		goroutinesSettle(t, before+10)
		if rec := h.rec(sid); rec.isClosed() {
			t.Errorf("closed: %s", rec.reason)
		}
	})
}

func TestWebSocketContinuationFrames(t *testing.T) {
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	const n = 4000
	text := "4" + strings.Repeat("é", (n-1)/2) // multibyte runes split across frames
	var buf bytes.Buffer
	for i := 0; i < len(text); i++ {
		var b0 byte = opCont
		if i == 0 {
			b0 = opText
		}
		if i == len(text)-1 {
			b0 |= 0x80
		}
		buf.Write(frame(b0, []byte{text[i]}, true))
		if i == len(text)/2 {
			// A control frame may come between fragments.
			buf.Write(frame(0x80|opPing, nil, true))
		}
	}
	c.write(buf.Bytes())
	if m := h.rec(sid).nextMsg(t); string(m.Data) != text[1:] || m.Binary {
		t.Errorf("message of %d bytes, binary=%v", len(m.Data), m.Binary)
	}
	if op, _ := c.read(); op != opText { // the pong is skipped by read
		t.Errorf("op %d", op)
	}

	// Binary, fragmented.
	data := bytes.Repeat([]byte{0, 1, 2, 0xff}, 500)
	buf.Reset()
	for i, b := range data {
		var b0 byte = opCont
		if i == 0 {
			b0 = opBinary
		}
		if i == len(data)-1 {
			b0 |= 0x80
		}
		buf.Write(frame(b0, []byte{b}, true))
	}
	c.write(buf.Bytes())
	if m := h.rec(sid).nextMsg(t); !bytes.Equal(m.Data, data) || !m.Binary {
		t.Errorf("binary message of %d bytes, binary=%v", len(m.Data), m.Binary)
	}
	if op, p := c.read(); op != opBinary || !bytes.Equal(p, data) {
		t.Errorf("echo op %d, %d bytes", op, len(p))
	}
}

// FuzzPollingPost posts arbitrary bodies to live sessions: the server must
// answer 200, 400 or 413 and never panic.
func FuzzPollingPost(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1e4b", "bAQID", "3", "2", "1", "6", "", "abc", "9", "\x1e", "b", "b=", "4" + strings.Repeat("x", 600), "2probe", "5\x1e4x"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("4x"), true)
	srv, err := engineio.NewServer(&engineio.Options{MaxHTTPBufferSize: 512})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) { _ = s.Send(m) })
	})
	f.Fuzz(func(t *testing.T, body []byte, octet bool) {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil))
		if w.Code != 200 || !bytes.HasPrefix(w.Body.Bytes(), []byte(`0{"sid":"`)) {
			t.Fatalf("handshake %d %q", w.Code, w.Body.Bytes())
		}
		sid := string(w.Body.Bytes()[9:29])
		req := httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, bytes.NewReader(body))
		if octet {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		w = httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		switch w.Code {
		case 200:
			if w.Body.String() != "ok" {
				t.Errorf("200 with body %q", w.Body.Bytes())
			}
		case 400, 413:
		default:
			t.Errorf("status %d for %q", w.Code, body)
		}
		if !octet && int64(len(body)) > 512 && w.Code != 413 {
			t.Errorf("status %d for a %d-byte body", w.Code, len(body))
		}
		if sess := srv.Session(sid); sess != nil {
			// End the session so that sessions do not pile up.
			w = httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader("1")))
			if srv.Session(sid) != nil {
				t.Errorf("session still open after a close packet")
			}
		}
	})
}
