package socketio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// Listeners run in the order added, Once runs for one event only, the off
// function removes its own listener, Off every listener of an event.
func TestSocketListeners(t *testing.T) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []string
	)
	record := func(tag string) func(*socketio.Event) {
		return func(e *socketio.Event) {
			var n int
			_ = e.Args.Decode(0, &n)
			mu.Lock()
			got = append(got, fmt.Sprintf("%s%d", tag, n))
			mu.Unlock()
		}
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("a", record("a1-"))
		s.Once("a", record("once-"))
		offA2 := s.On("a", record("a2-"))
		s.On("b", record("b-"))
		s.On("c", record("c-"))
		s.On("c", func(e *socketio.Event) {
			var n int
			_ = e.Args.Decode(0, &n)
			switch n {
			case 1:
				offA2()
			case 2:
				s.Off("b")
			}
			_ = e.Ack("ok")
		})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, hs.URL, &client.Options{DisableReconnection: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Manager().Close() })
	for round := 1; round <= 3; round++ {
		for _, ev := range []string{"a", "b"} {
			if err := c.Emit(ev, round); err != nil {
				t.Fatal(err)
			}
		}
		// "c" is acknowledged after everything before it ran (one at a time, in order).
		if _, err := c.EmitWithAck(ctx, "c", round); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := "a1-1 once-1 a2-1 b-1 c-1 a1-2 b-2 c-2 a1-3 c-3"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("listeners ran:\n got %s\nwant %s", g, want)
	}
}

// Outgoing catch-all listeners see what the socket sends (its own emits and
// broadcasts that reach it, by event name and arguments), in the order
// added with prepended ones first; off and OffAnyOutgoing stop them.
func TestAnyOutgoing(t *testing.T) {
	srv, url := newTestServer(t, nil)
	var (
		mu  sync.Mutex
		got []string
	)
	record := func(tag string) func(string, socketio.Args) {
		return func(event string, args socketio.Args) {
			var n int
			_ = args.Decode(0, &n)
			mu.Lock()
			got = append(got, fmt.Sprintf("%s:%s%d", tag, event, n))
			mu.Unlock()
		}
	}
	steps := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) { steps <- s })
	c := newPollClient(t, url)
	c.connect("/", "")
	s := waitFor(t, steps)
	offB := s.OnAnyOutgoing(record("b"))
	s.PrependAnyOutgoing(record("a"))
	expect := func(packet string, want ...string) {
		t.Helper()
		if p := c.next(); p != packet {
			t.Fatalf("client got %q, want %q", p, packet)
		}
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("outgoing listeners saw %q, want %q", got, want)
		}
		got = nil
	}
	_ = s.Emit("own", 1)
	expect(`42["own",1]`, "a:own1", "b:own1")
	_ = srv.Emit("all", 2)
	expect(`42["all",2]`, "a:all2", "b:all2")
	offB()
	_ = srv.To(s.ID()).Emit("room", 3)
	expect(`42["room",3]`, "a:room3")
	s.OffAnyOutgoing()
	_ = s.Emit("own", 4)
	_ = srv.Emit("all", 5)
	expect(`42["own",4]`)
	expect(`42["all",5]`)
}
