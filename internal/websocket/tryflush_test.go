package websocket

import (
	"bytes"
	"errors"
	"io"
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
	var n int
	select {
	case n = <-result:
	case <-time.After(10 * time.Second):
		t.Fatal("TryFlush blocked")
	}
	close(flush)
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
