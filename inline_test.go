package socketio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// handlerModes are the values of Options.InlineHandlerTimeout the tests
// run with: handlers on the reader (the default), and on goroutines.
var handlerModes = map[string]time.Duration{"inline": 0, "goroutines": -1}

// inlineServer starts a server with the given InlineHandlerTimeout and
// connection handler, and connects a Go client over transport.
func inlineServer(t *testing.T, mode time.Duration, transport string, onConn func(*socketio.Server, *socketio.Socket)) *client.Socket {
	t.Helper()
	srv, err := socketio.NewServer(&socketio.Options{InlineHandlerTimeout: mode})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) { onConn(srv, s) })
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, hs.URL, &client.Options{Transports: []string{transport}, DisableReconnection: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Manager().Close() })
	return c
}

var inlineTransports = []string{client.TransportWebSocket, client.TransportPolling}

// A handler that waits for its own client's acknowledgement must not
// deadlock the connection's reader it runs on.
func TestInlineHandlerWaitsForOwnClient(t *testing.T) {
	forModes(t, func(t *testing.T, mode time.Duration, tr string) {
		{
			c := inlineServer(t, mode, tr, func(srv *socketio.Server, s *socketio.Socket) {
				socketio.OnWithAck(s, "ask", func(s *socketio.Socket, q string) string {
					ctx := context.Background()
					a, err := s.Timeout(3*time.Second).EmitWithAck(ctx, "question", q)
					if err != nil {
						return "socket: " + err.Error()
					}
					var one string
					_ = a.Decode(0, &one)
					// And through a broadcast that includes this client.
					all, err := srv.Timeout(3*time.Second).EmitWithAck(ctx, "question", q+"!")
					if err != nil || len(all) != 1 {
						return fmt.Sprintf("broadcast: %v, %d answers", err, len(all))
					}
					var two string
					_ = all[0].Decode(0, &two)
					return one + " " + two
				})
			})
			c.On("question", func(e *client.Event) {
				var q string
				_ = e.Decode(0, &q)
				_ = e.Ack("re: " + q)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a, err := c.EmitWithAck(ctx, "ask", "why")
			if err != nil {
				t.Fatal(err)
			}
			var got string
			_ = a.Decode(0, &got)
			if got != "re: why re: why!" {
				t.Fatalf("got %q", got)
			}
			// The connection goes on working after the reader was handed over.
			a, err = c.EmitWithAck(ctx, "ask", "again")
			if err != nil {
				t.Fatal(err)
			}
			_ = a.Decode(0, &got)
			if got != "re: again re: again!" {
				t.Fatalf("got %q", got)
			}
		}
	})
}

// forModes runs fn for each handler mode and transport.
func forModes(t *testing.T, fn func(t *testing.T, mode time.Duration, transport string)) {
	for name, mode := range handlerModes {
		for _, tr := range inlineTransports {
			t.Run(name+"/"+tr, func(t *testing.T) { fn(t, mode, tr) })
		}
	}
}

// emitNumbered emits "n" with 0 to n-1, then waits until done is closed.
func emitNumbered(t *testing.T, c *client.Socket, n int, done <-chan struct{}) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := c.Emit("n", i); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every event arrived")
	}
}

// Events of one socket run one at a time and in order, also when a
// handler blocks and the reading goes on in another goroutine meanwhile.
func TestInlineHandlersKeepOrder(t *testing.T) {
	forModes(t, func(t *testing.T, mode time.Duration, tr string) {
		{
			const n = 200
			var (
				mu      sync.Mutex
				got     []int
				running int
				overlap bool
			)
			done := make(chan struct{})
			c := inlineServer(t, mode, tr, func(_ *socketio.Server, s *socketio.Socket) {
				socketio.On(s, "n", func(s *socketio.Socket, i int) {
					mu.Lock()
					running++
					overlap = overlap || running > 1
					mu.Unlock()
					if i%50 == 0 {
						// Hand the reader over, as a wait for an ack does,
						// and let more events arrive meanwhile.
						_, _ = s.Timeout(time.Second).EmitWithAck(context.Background(), "ping")
					}
					mu.Lock()
					running--
					got = append(got, i)
					if len(got) == n {
						close(done)
					}
					mu.Unlock()
				})
			})
			c.On("ping", func(e *client.Event) { _ = e.Ack() })
			emitNumbered(t, c, n, done)
			mu.Lock()
			defer mu.Unlock()
			if overlap {
				t.Error("two handlers of one socket ran at once")
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("event %d ran in place %d: %v", v, i, got)
				}
			}
		}
	})
}

// A handler that waits for an event of its client on another namespace
// (which its blocked reader cannot read) gets it once InlineHandlerTimeout
// has handed the reading over.
func TestInlineHandlerTimeout(t *testing.T) {
	srv, err := socketio.NewServer(&socketio.Options{InlineHandlerTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	other := make(chan string, 1)
	srv.Of("/other").OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "note", func(_ *socketio.Socket, v string) { other <- v })
	})
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.OnWithAck(s, "wait", func(s *socketio.Socket, _ string) string {
			select {
			case v := <-other:
				return v
			case <-time.After(5 * time.Second):
				return "no note"
			}
		})
	})
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	m, err := client.NewManager(hs.URL, &client.Options{Transports: []string{client.TransportWebSocket}, DisableReconnection: true, DisableAutoConnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	main, note := m.Socket("/", nil), m.Socket("/other", nil)
	ready := make(chan struct{}, 2)
	main.OnConnect(func() { ready <- struct{}{} })
	note.OnConnect(func() { ready <- struct{}{} })
	main.Connect()
	note.Connect()
	for i := 0; i < 2; i++ {
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			t.Fatal("not connected")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		a, err := main.EmitWithAck(ctx, "wait", "")
		if err != nil {
			got <- err.Error()
			return
		}
		var v string
		_ = a.Decode(0, &v)
		got <- v
	}()
	time.Sleep(50 * time.Millisecond) // the handler is waiting
	if err := note.Emit("note", "hello"); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "hello" {
		t.Fatalf("got %q", v)
	}
}

// A panicking inline handler closes its own client only.
func TestInlineHandlerPanic(t *testing.T) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("boom", func(*socketio.Event) { panic("boom") })
		socketio.OnWithAck(s, "echo", func(_ *socketio.Socket, v string) string { return v })
	})
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &client.Options{Transports: []string{client.TransportWebSocket}, DisableReconnection: true}
	bad, err := client.Connect(ctx, hs.URL, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Manager().Close()
	good, err := client.Connect(ctx, hs.URL, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Manager().Close()
	gone := make(chan string, 1)
	bad.OnDisconnect(func(reason string, _ error) { gone <- reason })
	_ = bad.Emit("boom")
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the panicking client was not disconnected")
	}
	a, err := good.EmitWithAck(ctx, "echo", "still here")
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := a.Decode(0, &v); err != nil || v != "still here" {
		t.Fatalf("%q %v", v, err)
	}
}

// Releases of the reader at any moment (a tiny InlineHandlerTimeout, and
// broadcasts with acks from another goroutine, each of which hands the
// reading of every recipient over) never reorder a socket's events.
func TestInlineReleaseKeepsOrder(t *testing.T) {
	srv, err := socketio.NewServer(&socketio.Options{InlineHandlerTimeout: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	// Widen the stretch between reading an event and queueing it, where a
	// release would let the next reader overtake it.
	var k atomic.Int64
	socketio.SetBeforeCommitHook(func() {
		if k.Add(1)%8 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
	})
	defer socketio.SetBeforeCommitHook(nil)
	const n = 2000
	var (
		mu   sync.Mutex
		got  []int
		done = make(chan struct{})
	)
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "n", func(s *socketio.Socket, i int) {
			mu.Lock()
			got = append(got, i)
			if len(got) == n {
				close(done)
			}
			mu.Unlock()
		})
	})
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, hs.URL, &client.Options{Transports: []string{client.TransportWebSocket}, DisableReconnection: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Manager().Close()
	c.On("poke", func(e *client.Event) { _ = e.Ack() })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = srv.Timeout(time.Second).EmitWithAck(ctx, "poke")
		}
	}()
	emitNumbered(t, c, n, done)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d ran in place %d", v, i)
		}
	}
}
