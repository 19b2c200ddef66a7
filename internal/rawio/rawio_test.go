//go:build unix

package rawio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns the two ends of a loopback TCP connection and the server
// end's RawConn.
func pair(t *testing.T) (*net.TCPConn, *net.TCPConn, syscall.RawConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	rc, err := s.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return s.(*net.TCPConn), c.(*net.TCPConn), rc
}

func TestReadWrite(t *testing.T) {
	s, c, rc := pair(t)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := Read(rc, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read: %q, %v", buf[:n], err)
	}
	if n, err := Write(rc, []byte("world")); n != 5 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if _, err := io.ReadFull(c, buf[:5]); err != nil || string(buf[:5]) != "world" {
		t.Fatalf("peer read %q, %v", buf[:5], err)
	}
	if n, err := Read(rc, nil); n != 0 || err != nil {
		t.Errorf("Read of nothing: %d, %v", n, err)
	}
	// A read waits in the poller for bytes that come later.
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = c.Write([]byte("late"))
	}()
	n, err = Read(rc, buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("Read after waiting: %q, %v", buf[:n], err)
	}
	// The end of the stream.
	c.Close()
	if n, err := Read(rc, buf); n != 0 || err != io.EOF {
		t.Errorf("Read at the end: %d, %v; want 0, EOF", n, err)
	}
	_ = s
}

// TestWriteWaits writes more than the socket buffers hold: Write waits for
// the reader and writes all of it, in order.
func TestWriteWaits(t *testing.T) {
	s, c, rc := pair(t)
	if err := s.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(c, int64(len(data))))
		got <- b
	}()
	n, err := Write(rc, data)
	if n != len(data) || err != nil {
		t.Fatalf("Write: %d of %d, %v", n, len(data), err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("the peer read %d bytes, not the same", len(b))
	}
}

// TestDeadlinesAndClose: the connection's deadlines and Close end a waiting
// Read or Write with the errors net.Conn gives.
func TestDeadlinesAndClose(t *testing.T) {
	s, c, rc := pair(t)
	buf := make([]byte, 16)
	if err := s.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(rc, buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read past the deadline: %v", err)
	}
	if err := s.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}

	// A peer that does not read: a small receive buffer on its side, so that
	// the kernel's buffers fill.
	if err := c.SetReadBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 8<<20)
	if err := s.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := Write(rc, big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= len(big) {
		t.Errorf("Write to a peer that does not read: %d of %d, %v", n, len(big), err)
	}
	if got := TryWrite(rc, big); got != 0 {
		t.Errorf("TryWrite on a full socket took %d bytes", got)
	}

	done := make(chan error, 1)
	go func() {
		_, err := Read(rc, buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read when closed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Read")
	}
	if _, err := Write(rc, []byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestTryWriteAndWriteOnce(t *testing.T) {
	_, c, rc := pair(t)
	if n := TryWrite(rc, []byte("abc")); n != 3 {
		t.Fatalf("TryWrite: %d", n)
	}
	var once int
	if err := rc.Write(func(fd uintptr) bool { once = WriteOnce(fd, []byte("def")); return true }); err != nil {
		t.Fatal(err)
	}
	if once != 3 {
		t.Fatalf("WriteOnce: %d", once)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "abcdef" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	if TryWrite(rc, nil) != 0 || WriteOnce(0, nil) != 0 {
		t.Error("writes of nothing took something")
	}
}

func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not counted under the race detector (sync.Pool drops items)")
	}
	_, c, rc := pair(t)
	msg := []byte("ping")
	buf := make([]byte, 16)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, err := Read(rc, buf); n != len(msg) || err != nil {
			t.Fatal(n, err)
		}
		if n, err := Write(rc, msg); n != len(msg) || err != nil {
			t.Fatal(n, err)
		}
		if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per read and write", allocs)
	}
}
