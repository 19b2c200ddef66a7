package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestIsUpgradeRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		hdr    map[string][]string
		want   bool
	}{
		{"plain", "GET", map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, true},
		{"lists and case", "GET", map[string][]string{"Connection": {"keep-alive, UPGRADE"}, "Upgrade": {"foo, WebSocket"}}, true},
		{"several lines", "GET", map[string][]string{"Connection": {"keep-alive", "upgrade"}, "Upgrade": {"websocket"}}, true},
		{"post", "POST", map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, false},
		{"h2c", "GET", map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"h2c"}}, false},
		{"no connection", "GET", map[string][]string{"Upgrade": {"websocket"}}, false},
		{"token substring", "GET", map[string][]string{"Connection": {"upgrades"}, "Upgrade": {"websocket"}}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/", nil)
		for k, v := range tt.hdr {
			r.Header[k] = v
		}
		if got := IsUpgradeRequest(r); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHandshake(t *testing.T) {
	s := newTestServer(t, nil, echo)
	host := s.Listener.Addr().String()
	tests := []struct {
		name   string
		req    string
		status int
	}{
		{"ok", handshakeRequest(host), 101},
		{"bad version", handshakeRequest(host, "Sec-WebSocket-Version: 8"), 426},
		{"missing key", handshakeRequest(host, "Sec-WebSocket-Key: <omit>"), 400},
		{"short key", handshakeRequest(host, "Sec-WebSocket-Key: AAAA"), 400},
		{"non-GET", strings.Replace(handshakeRequest(host), "GET", "POST", 1), 400},
		{"h2c upgrade", handshakeRequest(host, "Upgrade: h2c"), 400},
		{"no connection upgrade", handshakeRequest(host, "Connection: keep-alive"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, s, tt.req, nil)
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", c.resp.StatusCode, tt.status)
			}
			switch tt.status {
			case 101:
				if got := c.resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
					t.Errorf("accept key %q", got)
				}
				if c.resp.Header.Get("X-Test") != "yes" {
					t.Error("extra header missing")
				}
				if c.resp.Header.Get("Sec-WebSocket-Extensions") != "" {
					t.Error("extension negotiated without being enabled")
				}
				c.send(clientFrame(0x88, []byte{0x03, 0xe8}, true))
				c.expectClose()
				s.serverErr(t)
			case 426:
				if c.resp.Header.Get("Sec-WebSocket-Version") != "13" {
					t.Error("426 without Sec-WebSocket-Version: 13")
				}
			}
		})
	}
}

func TestBufferedAfterHandshake(t *testing.T) {
	s := newTestServer(t, nil, echo)
	frames := append(clientFrame(0x81, []byte("early"), true), clientFrame(0x82, []byte{1, 2, 3}, true)...)
	c := rawDial(t, s, handshakeRequest(s.Listener.Addr().String()), frames)
	if c.resp.StatusCode != 101 {
		t.Fatalf("status %d", c.resp.StatusCode)
	}
	if op, p := c.readMessage(); op != opText || string(p) != "early" {
		t.Fatalf("got %d %q", op, p)
	}
	if op, p := c.readMessage(); op != opBinary || !bytes.Equal(p, []byte{1, 2, 3}) {
		t.Fatalf("got %d %v", op, p)
	}
}

func TestEcho(t *testing.T) {
	s := newTestServer(t, nil, echo)
	c := dial(t, s)
	for _, n := range []int{0, 1, 125, 126, 127, 4095, 4096, 65535, 65536, 300000} {
		for _, op := range []byte{opText, opBinary} {
			data := bytes.Repeat([]byte("a"), n)
			c.send(clientFrame(0x80|op, data, true))
			gotOp, got := c.readMessage()
			if gotOp != op || !bytes.Equal(got, data) {
				t.Fatalf("size %d op %d: got op %d, %d bytes", n, op, gotOp, len(got))
			}
		}
	}
}

func TestFragmentation(t *testing.T) {
	s := newTestServer(t, nil, echo)
	c := dial(t, s)
	// Fragments with a ping in the middle; the pong comes first.
	c.send(clientFrame(0x01, []byte("hel"), true), clientFrame(0x89, []byte("p"), true),
		clientFrame(0x00, []byte("lo "), true), clientFrame(0x80, []byte("world"), true))
	if op, p := c.readMessage(); op != opPong || string(p) != "p" {
		t.Fatalf("got %d %q, want pong", op, p)
	}
	if op, p := c.readMessage(); op != opText || string(p) != "hello world" {
		t.Fatalf("got %d %q", op, p)
	}
	// A multi-byte rune split across fragments is valid UTF-8 once reassembled.
	euro := []byte("€")
	c.send(clientFrame(0x01, euro[:1], true), clientFrame(0x80, euro[1:], true))
	if _, p := c.readMessage(); !bytes.Equal(p, euro) {
		t.Fatalf("got %q", p)
	}
	// Thousands of one-byte continuation frames.
	const n = 5000
	var frames [][]byte
	frames = append(frames, clientFrame(0x02, []byte{0}, true))
	for i := 1; i < n-1; i++ {
		frames = append(frames, clientFrame(0x00, []byte{byte(i)}, true))
	}
	frames = append(frames, clientFrame(0x80, []byte{byte((n - 1) % 256)}, true))
	start := time.Now()
	c.send(frames...)
	op, p := c.readMessage()
	if op != opBinary || len(p) != n {
		t.Fatalf("got op %d, %d bytes", op, len(p))
	}
	for i := range p {
		if p[i] != byte(i) {
			t.Fatalf("byte %d = %d", i, p[i])
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5000 fragments took %v", d)
	}
}

func TestPingPong(t *testing.T) {
	s := newTestServer(t, nil, echo)
	c := dial(t, s)
	c.send(clientFrame(0x8a, []byte("unsolicited"), true), clientFrame(0x89, []byte("ping!"), true),
		clientFrame(0x89, nil, true), clientFrame(0x89, bytes.Repeat([]byte("x"), 125), true))
	for _, want := range []string{"ping!", "", strings.Repeat("x", 125)} {
		op, p := c.readMessage()
		if op != opPong || string(p) != want {
			t.Fatalf("got %d %q, want pong %q", op, p, want)
		}
	}
}

func TestCloseHandshake(t *testing.T) {
	t.Run("client initiates", func(t *testing.T) {
		s := newTestServer(t, nil, echo)
		c := dial(t, s)
		c.send(clientFrame(0x88, append([]byte{0x03, 0xe8}, "bye"...), true))
		if code, _ := c.expectClose(); code != StatusNormalClosure {
			t.Fatalf("close code %d", code)
		}
		c.expectEOF()
		var ce *CloseError
		if err := s.serverErr(t); !errors.As(err, &ce) || ce.Code != 1000 || ce.Reason != "bye" {
			t.Fatalf("server error %v", err)
		}
	})
	t.Run("empty close", func(t *testing.T) {
		s := newTestServer(t, nil, echo)
		c := dial(t, s)
		c.send(clientFrame(0x88, nil, true))
		if code, _ := c.expectClose(); code != StatusNoStatusRcvd {
			t.Fatalf("close code %d, want an empty close", code)
		}
		var ce *CloseError
		if err := s.serverErr(t); !errors.As(err, &ce) || ce.Code != StatusNoStatusRcvd {
			t.Fatalf("server error %v", err)
		}
	})
	t.Run("server initiates", func(t *testing.T) {
		s := newTestServer(t, nil, func(c *Conn) error {
			c.WriteMessage(Text, []byte("last"))
			if err := c.Close(StatusGoingAway, "shutdown"); err != nil {
				return err
			}
			if err := c.Close(StatusGoingAway, "again"); err != nil {
				return fmt.Errorf("second Close: %w", err)
			}
			if err := c.WriteMessage(Text, []byte("x")); !errors.Is(err, ErrClosed) {
				return fmt.Errorf("write after close: %v", err)
			}
			if _, _, err := c.ReadMessage(); !errors.Is(err, ErrClosed) {
				return fmt.Errorf("read after close: %v", err)
			}
			return nil
		})
		c := dial(t, s)
		if _, p := c.readMessage(); string(p) != "last" {
			t.Fatalf("got %q", p)
		}
		if code, reason := c.expectClose(); code != StatusGoingAway || reason != "shutdown" {
			t.Fatalf("close %d %q", code, reason)
		}
		c.expectEOF()
		if err := s.serverErr(t); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("close unblocks reader", func(t *testing.T) {
		s := newTestServer(t, nil, func(c *Conn) error {
			errc := make(chan error, 1)
			go func() { _, _, err := c.ReadMessage(); errc <- err }()
			time.Sleep(20 * time.Millisecond)
			c.CloseNow()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				return fmt.Errorf("read: %v", err)
			}
			return nil
		})
		c := dial(t, s)
		c.expectEOF()
		if err := s.serverErr(t); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("eof", func(t *testing.T) {
		s := newTestServer(t, nil, echo)
		c := dial(t, s)
		c.nc.Close()
		if err := s.serverErr(t); err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	})
}

func TestProtocolViolations(t *testing.T) {
	len64 := func(b0 byte, n uint64) []byte {
		f := []byte{b0, 0x80 | 127}
		f = binary.BigEndian.AppendUint64(f, n)
		return append(f, 1, 2, 3, 4)
	}
	tests := []struct {
		name   string
		frames [][]byte
		code   StatusCode
	}{
		{"rsv1 without extension", [][]byte{clientFrame(0xc1, []byte("x"), true)}, 1002},
		{"rsv2", [][]byte{clientFrame(0xa1, []byte("x"), true)}, 1002},
		{"rsv3", [][]byte{clientFrame(0x91, []byte("x"), true)}, 1002},
		{"reserved data opcode", [][]byte{clientFrame(0x83, []byte("x"), true)}, 1002},
		{"reserved control opcode", [][]byte{clientFrame(0x8b, nil, true)}, 1002},
		{"unmasked", [][]byte{clientFrame(0x81, []byte("x"), false)}, 1002},
		{"control too long", [][]byte{clientFrame(0x89, make([]byte, 126), true)}, 1002},
		{"fragmented control", [][]byte{clientFrame(0x09, nil, true)}, 1002},
		{"continuation without start", [][]byte{clientFrame(0x80, []byte("x"), true)}, 1002},
		{"data inside fragmented message", [][]byte{clientFrame(0x01, []byte("a"), true), clientFrame(0x81, []byte("b"), true)}, 1002},
		{"invalid utf8", [][]byte{clientFrame(0x81, []byte{0xff, 0xfe}, true)}, 1007},
		{"invalid utf8 fragmented", [][]byte{clientFrame(0x01, []byte("ok"), true), clientFrame(0x80, []byte{0xc3}, true)}, 1007},
		{"close reason invalid utf8", [][]byte{clientFrame(0x88, []byte{0x03, 0xe8, 0xff}, true)}, 1007},
		{"close code 1005", [][]byte{clientFrame(0x88, []byte{0x03, 0xed}, true)}, 1002},
		{"close code 999", [][]byte{clientFrame(0x88, []byte{0x03, 0xe7}, true)}, 1002},
		{"close code 5000", [][]byte{clientFrame(0x88, []byte{0x13, 0x88}, true)}, 1002},
		{"close one byte", [][]byte{clientFrame(0x88, []byte{0x03}, true)}, 1002},
		{"64-bit length top bit", [][]byte{len64(0x82, 1<<63)}, 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, nil, echo)
			c := dial(t, s)
			c.send(tt.frames...)
			if code, _ := c.expectClose(); code != tt.code {
				t.Fatalf("close code %d, want %d", code, tt.code)
			}
			c.expectEOF()
			var ce *CloseError
			if err := s.serverErr(t); !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("server error %v, want close %d", err, tt.code)
			}
		})
	}
}

// readOne runs ReadMessage over an in-memory stream and reports the bytes
// allocated meanwhile.
func readOne(t *testing.T, stream []byte, opts Options, compress bool) (err error, allocated uint64, out []byte) {
	t.Helper()
	mc := &memConn{r: bytes.NewReader(stream)}
	o, _ := opts.normalize()
	c := newConn(mc, nil, o, compress)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err = c.ReadMessage()
	runtime.ReadMemStats(&after)
	return err, after.TotalAlloc - before.TotalAlloc, mc.out.Bytes()
}

func TestMessageTooBig(t *testing.T) {
	// A header announcing 100 MB must be rejected before any allocation.
	hdr := []byte{0x82, 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, 100<<20)
	hdr = append(hdr, 1, 2, 3, 4, 5, 6, 7)
	err, alloc, out := readOne(t, hdr, Options{MaxMessageSize: 1 << 20}, false)
	var ce *CloseError
	if !errors.Is(err, ErrMessageTooBig) || !errors.As(err, &ce) || ce.Code != StatusMessageTooBig {
		t.Fatalf("got %v", err)
	}
	if alloc > 1<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
	if !bytes.HasPrefix(out, []byte{0x88, 0x11, 0x03, 0xf1}) {
		t.Errorf("close frame %x, want 1009", out)
	}

	// Without a limit, a lying header costs only what actually arrives.
	err, alloc, _ = readOne(t, hdr, Options{}, false)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
	if alloc > 1<<20 {
		t.Errorf("allocated %d bytes for a 3-byte payload", alloc)
	}

	// The limit is on the reassembled message.
	s := newTestServer(t, &Options{MaxMessageSize: 1000}, echo)
	c := dial(t, s)
	c.send(clientFrame(0x82, make([]byte, 1000), true))
	if _, p := c.readMessage(); len(p) != 1000 {
		t.Fatalf("got %d bytes", len(p))
	}
	c.send(clientFrame(0x02, make([]byte, 600), true), clientFrame(0x80, make([]byte, 600), true))
	if code, _ := c.expectClose(); code != StatusMessageTooBig {
		t.Fatalf("close code %d", code)
	}
	c.expectEOF()
	if err := s.serverErr(t); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("server error %v", err)
	}
}

func TestCompression(t *testing.T) {
	s := newTestServer(t, &Options{Compression: true}, func(c *Conn) error {
		if !c.CompressionEnabled() {
			return errors.New("compression not enabled")
		}
		return echo(c)
	})
	c := dial(t, s, "Sec-WebSocket-Extensions: x-foo, permessage-deflate; client_max_window_bits")
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); got != extensionResponse {
		t.Fatalf("extensions %q", got)
	}
	big := []byte(strings.Repeat("hello compression ", 500))
	// Compressed from the client, echoed compressed.
	c.send(clientFrame(0xc1, deflateForTest(t, big), true))
	b0, p, err := c.readFrame()
	if err != nil || b0&0x40 == 0 {
		t.Fatalf("want a compressed frame, got %x %v", b0, err)
	}
	if got := inflateForTest(t, p); !bytes.Equal(got, big) {
		t.Fatal("compressed echo differs")
	}
	// Fragmented compressed message: RSV1 only on the first frame.
	z := deflateForTest(t, big)
	c.send(clientFrame(0x41, z[:10], true), clientFrame(0x00, z[10:20], true), clientFrame(0x80, z[20:], true))
	if _, p := c.readMessage(); !bytes.Equal(p, big) {
		t.Fatal("fragmented compressed echo differs")
	}
	// Below the threshold: sent uncompressed.
	c.send(clientFrame(0xc1, deflateForTest(t, []byte("small")), true))
	b0, p, _ = c.readFrame()
	if b0&0x40 != 0 || string(p) != "small" {
		t.Fatalf("small message: %x %q", b0, p)
	}
	// RSV1 on a continuation frame is still an error.
	c.send(clientFrame(0x01, []byte("a"), true), clientFrame(0xc0, []byte("b"), true))
	if code, _ := c.expectClose(); code != StatusProtocolError {
		t.Fatalf("close code %d", code)
	}
	c.expectEOF()
	s.serverErr(t)

	// Not offered: not negotiated, and RSV1 is then a protocol error.
	s2 := newTestServer(t, &Options{Compression: true}, echo)
	c2 := dial(t, s2)
	if c2.resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatal("negotiated without an offer")
	}
	c2.send(clientFrame(0xc1, deflateForTest(t, big), true))
	if code, _ := c2.expectClose(); code != StatusProtocolError {
		t.Fatalf("close code %d", code)
	}
	c2.expectEOF()
	s2.serverErr(t)
}

func TestNegotiateDeflate(t *testing.T) {
	tests := []struct {
		offer string
		want  bool
	}{
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; client_max_window_bits=10; server_no_context_takeover", true},
		{`permessage-deflate; server_max_window_bits="15"`, true},
		{"permessage-deflate; server_max_window_bits=10", false},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits=16", false},
		{"permessage-deflate; unknown", false},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", false},
		{"permessage-deflate; client_no_context_takeover=1", false},
		{"x-webkit-deflate-frame", false},
	}
	for _, tt := range tests {
		if got := negotiateDeflate([]string{tt.offer}); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.offer, got, tt.want)
		}
	}
}

func TestDeflateBomb(t *testing.T) {
	bomb := deflateForTest(t, make([]byte, 16<<20)) // 16 MiB of zeros, ~16 KiB on the wire
	frame := clientFrame(0xc2, bomb, true)
	err, alloc, out := readOne(t, frame, Options{MaxMessageSize: 1 << 20}, true)
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("got %v", err)
	}
	if alloc > 8<<20 {
		t.Errorf("allocated %d bytes inflating a bomb with a 1 MiB limit", alloc)
	}
	if !bytes.HasPrefix(out, []byte{0x88, 0x11, 0x03, 0xf1}) {
		t.Errorf("close frame %x, want 1009", out)
	}

	// Corrupt compressed data is 1007.
	err, _, _ = readOne(t, clientFrame(0xc2, []byte{0xff, 0xff, 0xff}, true), Options{}, true)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != StatusInvalidFramePayloadData {
		t.Fatalf("got %v", err)
	}

	// Within the limit it inflates.
	small := bytes.Repeat([]byte("z"), 100000)
	mc := &memConn{r: bytes.NewReader(clientFrame(0xc2, deflateForTest(t, small), true))}
	c := newConn(mc, nil, Options{MaxMessageSize: 100000}, true)
	if _, p, err := c.ReadMessage(); err != nil || !bytes.Equal(p, small) {
		t.Fatalf("got %d bytes, %v", len(p), err)
	}
}

func TestPrepared(t *testing.T) {
	var ready sync.WaitGroup
	ready.Add(3)
	connc := make(chan *Conn, 3)
	s := newTestServer(t, &Options{Compression: true}, func(c *Conn) error {
		connc <- c
		ready.Done()
		_, _, err := c.ReadMessage()
		return err
	})
	clients := []*testClient{dial(t, s), dial(t, s), dial(t, s, "Sec-WebSocket-Extensions: permessage-deflate")}
	ready.Wait()
	small := NewPreparedMessage(Text, []byte("broadcast"))
	large := NewPreparedMessage(Binary, bytes.Repeat([]byte("0123456789"), 10000))
	for i := 0; i < 3; i++ {
		c := <-connc
		for _, pm := range []*PreparedMessage{small, large, small} {
			if err := c.WritePrepared(pm); err != nil {
				t.Fatal(err)
			}
		}
		c.WriteMessage(Text, []byte("after"))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range clients {
		for _, want := range []string{"broadcast", strings.Repeat("0123456789", 10000), "broadcast", "after"} {
			if _, p := c.readMessage(); string(p) != want {
				t.Fatalf("client %d: got %d bytes, want %d", i, len(p), len(want))
			}
		}
		c.send(clientFrame(0x88, nil, true))
	}
	for range clients {
		s.serverErr(t)
	}
	if large.zframe == nil {
		t.Error("compressed variant not used by the compressing client")
	}
}

func TestConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 200
	s := newTestServer(t, nil, func(c *Conn) error {
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					c.WriteMessage(Text, []byte(fmt.Sprintf("%d:%d", w, i)))
					if i%3 == 0 {
						c.WritePrepared(NewPreparedMessage(Binary, make([]byte, 3000)))
					}
					c.Flush()
				}
			}(w)
		}
		errc := make(chan error, 1)
		go func() { errc <- echo(c) }()
		wg.Wait()
		c.WriteMessage(Text, []byte("done"))
		c.Flush()
		return <-errc
	})
	c := dial(t, s)
	c.send(clientFrame(0x89, []byte("p"), true))
	next := make([]int, writers)
	for {
		op, p := c.readMessage()
		if op != opText {
			continue
		}
		if string(p) == "done" {
			break
		}
		var w, i int
		if _, err := fmt.Sscanf(string(p), "%d:%d", &w, &i); err != nil || next[w] != i {
			t.Fatalf("message %q out of order (want %d:%d)", p, w, next[w])
		}
		next[w]++
	}
	c.send(clientFrame(0x88, nil, true))
	s.serverErr(t)
}

func TestReadDeadline(t *testing.T) {
	s := newTestServer(t, nil, func(c *Conn) error {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _, err := c.ReadMessage()
		return err
	})
	dial(t, s)
	var ne interface{ Timeout() bool }
	if err := s.serverErr(t); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout", err)
	}
}

func TestIdleHoldsNoBuffers(t *testing.T) {
	var frames []byte
	for i := 0; i < 200; i++ {
		frames = append(frames, clientFrame(0x82, make([]byte, 100), true)...)
	}
	mc := &memConn{r: bytes.NewReader(frames)}
	c := newConn(mc, nil, Options{}, false)
	for i := 0; i < 200; i++ {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		c.WriteMessage(Binary, []byte("x"))
		c.Flush()
		if c.wpooled != nil || c.wbuf != nil {
			t.Fatal("write buffer kept after Flush")
		}
	}
	if c.pooled != nil {
		t.Fatal("read buffer kept after the input was drained")
	}
}

func TestMask(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n < 100; n++ {
		for pos := 0; pos < 4; pos++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 7)
			}
			want := make([]byte, n)
			for i := range want {
				want[i] = b[i] ^ key[(pos+i)&3]
			}
			var wantOr byte
			for _, x := range want {
				wantOr |= x
			}
			if next, or := maskOr(key, pos, b); next != (pos+n)&3 || !bytes.Equal(b, want) || or != wantOr {
				t.Fatalf("n=%d pos=%d: or %#x, want %#x", n, pos, or, wantOr)
			}
		}
	}
}

// Text messages are checked for UTF-8 whatever the place of a non-ASCII
// byte: in the bytes unmasked one at a time, in 8-byte words or in 32-byte
// blocks, in one frame or split over two.
func TestTextValidationEveryPosition(t *testing.T) {
	for n := 1; n <= 80; n++ {
		for at := 0; at+1 < n; at++ {
			good := bytes.Repeat([]byte("a"), n)
			copy(good[at:], "é") // two bytes, valid
			bad := bytes.Repeat([]byte("a"), n)
			bad[at] = 0xff
			split := n / 3
			for _, tc := range []struct {
				name   string
				frames []byte
				want   []byte // nil: refused
			}{
				{"valid", clientFrame(0x81, good, true), good},
				{"invalid", clientFrame(0x81, bad, true), nil},
				{"valid split", append(clientFrame(0x01, good[:split], true), clientFrame(0x80, good[split:], true)...), good},
				{"invalid split", append(clientFrame(0x01, bad[:split], true), clientFrame(0x80, bad[split:], true)...), nil},
			} {
				mc := &memConn{r: bytes.NewReader(tc.frames)}
				o, _ := (&Options{}).normalize()
				c := newConn(mc, nil, o, false)
				_, msg, err := c.ReadMessage()
				var ce *CloseError
				switch {
				case tc.want != nil && (err != nil || !bytes.Equal(msg, tc.want)):
					t.Fatalf("n=%d at=%d %s: %q, %v", n, at, tc.name, msg, err)
				case tc.want == nil && (!errors.As(err, &ce) || ce.Code != StatusInvalidFramePayloadData):
					t.Fatalf("n=%d at=%d %s: %v, want close 1007", n, at, tc.name, err)
				}
			}
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	if _, err := Upgrade(rec, r, nil, &Options{MaxMessageSize: -1}); err == nil || rec.Code != http.StatusInternalServerError {
		t.Fatalf("got %v, %d", err, rec.Code)
	}
}

func TestUncompressedWrites(t *testing.T) {
	big := []byte(strings.Repeat("never compressed ", 500))
	s := newTestServer(t, &Options{Compression: true}, func(c *Conn) error {
		if err := c.WriteUncompressed(Text, big); err != nil {
			return err
		}
		if err := c.WritePrepared(NewUncompressedPreparedMessage(Text, big)); err != nil {
			return err
		}
		if err := c.WritePrepared(NewPreparedMessage(Text, big)); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
		return echo(c)
	})
	c := dial(t, s, "Sec-WebSocket-Extensions: permessage-deflate")
	for i, wantCompressed := range []bool{false, false, true} {
		b0, p, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if compressed := b0&0x40 != 0; compressed != wantCompressed {
			t.Fatalf("frame %d: compressed=%v, want %v", i, compressed, wantCompressed)
		}
		if !wantCompressed && !bytes.Equal(p, big) {
			t.Fatalf("frame %d: payload differs", i)
		}
	}
}
