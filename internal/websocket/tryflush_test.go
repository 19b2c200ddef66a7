package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestWaitReadableAndTryFlush echoes with the idle wait and the
// non-blocking flush over a real TCP connection.
func TestWaitReadableAndTryFlush(t *testing.T) {
	s := newTestServer(t, nil, func(c *Conn) error {
		for {
			c.WaitReadable()
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				return err
			}
			if !c.TryFlush() {
				if err := c.Flush(); err != nil {
					return err
				}
			}
		}
	})
	c := dial(t, s)
	for _, m := range []string{"a", "hello", string(bytes.Repeat([]byte("x"), 300))} {
		c.send(clientFrame(0x81, []byte(m), true))
		op, p := c.readMessage()
		if op != opText || string(p) != m {
			t.Fatalf("got %d %q, want text %q", op, p, m)
		}
	}
	c.nc.Close()
	// The end of the stream, seen by WaitReadable, is what ReadMessage returns.
	if err := s.serverErr(t); !errors.Is(err, io.EOF) {
		t.Fatalf("server: %v, want EOF", err)
	}
}

// TestTryFlushNeverBlocks fills the socket of a peer that does not read:
// TryFlush must return (false) instead of waiting, keep what the socket did
// not take, and Flush must then deliver everything in order.
func TestTryFlushNeverBlocks(t *testing.T) {
	const size = 64 << 10
	result := make(chan int, 1)
	flush := make(chan struct{})
	s := newTestServer(t, nil, func(c *Conn) error {
		msg := make([]byte, size)
		n := 0
		deadline := time.Now().Add(5 * time.Second)
		for ; time.Now().Before(deadline); n++ {
			for i := range msg {
				msg[i] = byte(n)
			}
			if err := c.WriteUncompressed(Binary, msg); err != nil {
				return err
			}
			if !c.TryFlush() {
				n++
				break
			}
		}
		result <- n
		<-flush
		return c.Flush()
	})
	c := dial(t, s)
	n := filled(t, result, flush, "TryFlush")
	for i := 0; i < n; i++ {
		op, p := c.readMessage()
		if op != opBinary || len(p) != size || p[0] != byte(i) || p[size-1] != byte(i) {
			t.Fatalf("message %d: op %d, %d bytes, first %d", i, op, len(p), p[0])
		}
	}
	if err := s.serverErr(t); err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestTryWritePrefixed writes prefixed messages to a peer that does not
// read, small ones (from the writer's own array) and large ones (through
// the write buffer), until the socket is full: what the socket did not take
// must stay buffered, later writes must queue behind it, and Flush must
// deliver every message whole and in order.
func TestTryWritePrefixed(t *testing.T) {
	sizes := []int{0, 1, 100, directMax - 1, directMax, directMax + 1, 3000}
	msg := func(n int) []byte {
		size := sizes[n%len(sizes)]
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(n + i)
		}
		return b
	}
	result := make(chan int, 1)
	flush := make(chan struct{})
	s := newTestServer(t, nil, func(c *Conn) error {
		n := 0
		full := false
		deadline := time.Now().Add(5 * time.Second)
		for ; time.Now().Before(deadline); n++ {
			ok, err := c.TryWritePrefixed(Text, byte('0'+n%10), msg(n), true)
			if err != nil {
				return err
			}
			if !ok {
				n++
				full = true
				break
			}
		}
		if !full {
			result <- -1
			return errors.New("the socket never filled")
		}
		// Behind what is buffered: queued, in order. (The kernel may take
		// a little more meanwhile, when it compacts the receiver's queue,
		// so a write here may also flush: only the order is checked.)
		for end := n + len(sizes); n < end; n++ {
			if _, err := c.TryWritePrefixed(Text, byte('0'+n%10), msg(n), false); err != nil {
				return fmt.Errorf("write %d behind a full socket: %v", n, err)
			}
		}
		if err := c.WritePrefixed(Binary, 'b', msg(n), true); err != nil {
			return err
		}
		n++
		result <- n
		<-flush
		return c.Flush()
	})
	c := dial(t, s)
	n := filled(t, result, flush, "TryWritePrefixed")
	if n < 0 {
		t.Fatalf("server: %v", s.serverErr(t))
	}
	for i := 0; i < n; i++ {
		op, p := c.readMessage()
		wantOp, wantPrefix := byte(opText), byte('0'+i%10)
		if i == n-1 {
			wantOp, wantPrefix = opBinary, 'b'
		}
		if op != wantOp || len(p) == 0 || p[0] != wantPrefix || !bytes.Equal(p[1:], msg(i)) {
			t.Fatalf("message %d of %d: op %d, %d bytes, want op %d, prefix %q and %d bytes", i, n, op, len(p), wantOp, wantPrefix, len(msg(i))+1)
		}
	}
	if err := s.serverErr(t); err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestWritePrefixedCompressed checks prefixed writes on a connection with
// compression: deflated from the threshold on unless told not to, and the
// prefix is part of the deflated payload.
func TestWritePrefixedCompressed(t *testing.T) {
	big := []byte(strings.Repeat("prefixed and compressed ", 100))
	s := newTestServer(t, &Options{Compression: true}, func(c *Conn) error {
		if ok, err := c.TryWritePrefixed(Text, '4', big, true); err != nil {
			return err
		} else if !ok {
			if err := c.Flush(); err != nil {
				return err
			}
		}
		if err := c.WritePrefixed(Text, '4', big, false); err != nil {
			return err
		}
		if err := c.WritePrefixed(Text, '4', []byte("small"), true); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
		return echo(c)
	})
	c := dial(t, s, "Sec-WebSocket-Extensions: permessage-deflate")
	want := append([]byte{'4'}, big...)
	for i, wantCompressed := range []bool{true, false, false} {
		b0, p, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if compressed := b0&0x40 != 0; compressed != wantCompressed {
			t.Fatalf("frame %d: compressed=%v, want %v", i, compressed, wantCompressed)
		}
		if compressed := b0&0x40 != 0; compressed {
			p = inflateForTest(t, p)
		}
		if i == 2 {
			want = []byte("4small")
		}
		if !bytes.Equal(p, want) {
			t.Fatalf("frame %d: payload %.20q..., want %.20q...", i, p, want)
		}
	}
}

// TestAppendUnsent checks what a partial direct write leaves buffered, for
// every count of bytes the socket may have taken.
func TestAppendUnsent(t *testing.T) {
	hdr, data := []byte{0x81, 5, '4'}, []byte("abcd")
	joined := append(append([]byte(nil), hdr...), data...)
	for sent := 0; sent < len(joined); sent++ {
		if got := appendUnsent([]byte("x"), hdr, data, sent); string(got) != "x"+string(joined[sent:]) {
			t.Errorf("sent %d: kept %q, want %q", sent, got, "x"+string(joined[sent:]))
		}
	}
}

// filled waits for the server side of a fill test to report how many
// messages it wrote (failing if its non-blocking writes blocked), then lets
// it flush them.
func filled(t *testing.T, result <-chan int, flush chan struct{}, what string) int {
	t.Helper()
	select {
	case n := <-result:
		close(flush)
		return n
	case <-time.After(10 * time.Second):
		t.Fatal(what + " blocked")
		return 0
	}
}
