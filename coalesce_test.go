//go:build unix

package socketio_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// countingListener hands out connections that count the server's writes:
// blocking ones (Write) and the non-blocking ones made through the raw
// descriptor (the WebSocket's write from a handler's goroutine).
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{TCPConn: c.(*net.TCPConn), writes: l.writes}, nil
}

type countingConn struct {
	*net.TCPConn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.TCPConn.Write(b)
}

func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	rc, err := c.TCPConn.SyscallConn()
	if err != nil {
		return nil, err
	}
	return countingRawConn{RawConn: rc, writes: c.writes}, nil
}

type countingRawConn struct {
	syscall.RawConn
	writes *atomic.Int64
}

func (r countingRawConn) Write(f func(fd uintptr) bool) error {
	r.writes.Add(1)
	return r.RawConn.Write(f)
}

// Answers to events that waited in a socket's queue are coalesced:
// the handler goroutine leaves them to the session's writer, which writes
// what accumulated in one go, rather than making a system call per answer.
func TestQueuedEventsCoalesceWrites(t *testing.T) {
	for name, mode := range handlerModes {
		t.Run(name, func(t *testing.T) {
			const n = 32
			srv, err := socketio.NewServer(&socketio.Options{InlineHandlerTimeout: mode})
			if err != nil {
				t.Fatal(err)
			}
			release := make(chan struct{})
			srv.OnConnection(func(s *socketio.Socket) {
				socketio.On(s, "n", func(s *socketio.Socket, i int) {
					if i == 0 {
						<-release // the others queue up behind this one
					}
					_ = s.Emit("r", i)
				})
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var writes atomic.Int64
			hs := &http.Server{Handler: srv}
			go func() { _ = hs.Serve(countingListener{Listener: ln, writes: &writes}) }()
			t.Cleanup(func() { _ = hs.Close(); _ = srv.Close() })

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := client.Connect(ctx, "http://"+ln.Addr().String(),
				&client.Options{Transports: []string{client.TransportWebSocket}, DisableReconnection: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Manager().Close() })

			acks := make(chan int, n)
			c.On("r", func(e *client.Event) {
				v := -1
				_ = e.Decode(0, &v)
				acks <- v
			})
			for i := 0; i < n; i++ {
				if err := c.Emit("n", i); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(200 * time.Millisecond) // every event read and queued
			before := writes.Load()
			close(release)
			for i := 0; i < n; i++ {
				select {
				case v := <-acks:
					if v != i {
						t.Fatalf("answer %d: got %d", i, v)
					}
				case <-ctx.Done():
					t.Fatalf("%d of %d answers", i, n)
				}
			}
			// One write per answer without coalescing; the writer takes
			// whatever accumulated while it wrote the previous batch (a
			// handful of writes; more on a loaded machine, never n).
			if w := writes.Load() - before; w > n*3/4 {
				t.Errorf("%d answers took %d writes", n, w)
			} else {
				t.Logf("%d answers in %d writes", n, w)
			}
		})
	}
}
