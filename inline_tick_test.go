package socketio

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sioclient "github.com/socketio-go/socketio/client"
)

// workServer serves a server whose "work" event sleeps its argument's
// milliseconds and acknowledges it; both close with the test.
func workServer(t *testing.T, opts *Options) (*Server, string) {
	t.Helper()
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *Socket) {
		OnWithAck(s, "work", func(_ *Socket, ms int) int {
			time.Sleep(time.Duration(ms) * time.Millisecond)
			return ms
		})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = srv.Close() })
	return srv, hs.URL
}

// waitHandlersIdle waits until no socket of srv's main namespace has a
// handler running or queued (its OnConnection handler, say), so that the
// next event of each runs on its reader.
func waitHandlersIdle(t *testing.T, srv *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := 0
		for _, s := range srv.Of("/").localSockets() {
			s.qmu.Lock()
			if s.running {
				busy++
			}
			s.qmu.Unlock()
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets still run handlers after 5 s", busy)
		}
		time.Sleep(time.Millisecond)
	}
}

// workAll sends "work" for ms to every socket at once and waits for the
// acknowledgements.
func workAll(ctx context.Context, t *testing.T, socks []*sioclient.Socket, ms int) {
	t.Helper()
	done := make(chan error, len(socks))
	for _, s := range socks {
		go func() {
			_, err := s.EmitWithAck(ctx, "work", ms)
			done <- err
		}()
	}
	for range socks {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// InlineHandlerTimeout's timer ticks every half timeout rather than being
// reset per run: back-to-back short runs (each far shorter than the
// timeout, together far longer) never hand the reading over, and one run
// longer than the timeout does, once.
func TestInlineTimeoutTicks(t *testing.T) {
	var releases atomic.Int32
	testHookInlineRelease = func() { releases.Add(1) }
	defer func() { testHookInlineRelease = nil }()

	_, url := workServer(t, &Options{InlineHandlerTimeout: 100 * time.Millisecond})
	sock := dialWS(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// 60 runs of 2 ms, queued back to back: ~120 ms of handlers.
	same := make([]*sioclient.Socket, 60)
	for i := range same {
		same[i] = sock
	}
	workAll(ctx, t, same, 2)
	if n := releases.Load(); n != 0 {
		t.Fatalf("short runs handed the reading over %d times", n)
	}
	if _, err := sock.EmitWithAck(ctx, "work", 250); err != nil {
		t.Fatal(err)
	}
	if n := releases.Load(); n != 1 {
		t.Fatalf("a 250 ms run with a 100 ms timeout: %d hand-overs, want 1", n)
	}
}

// One watch times every client's runs (inlineWatch): long runs on three
// clients at once are each handed over once, and the watch's timer stops
// once no run goes on, with no client left in its list.
func TestInlineWatchSharedAndStops(t *testing.T) {
	var releases atomic.Int32
	testHookInlineRelease = func() { releases.Add(1) }
	defer func() { testHookInlineRelease = nil }()

	srv, url := workServer(t, &Options{InlineHandlerTimeout: 60 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 3
	socks := make([]*sioclient.Socket, n)
	for i := range socks {
		socks[i] = dialWS(t, url)
	}
	waitHandlersIdle(t, srv)
	workAll(ctx, t, socks, 200)
	if got := releases.Load(); got != n {
		t.Fatalf("%d clients with a 200 ms run each and a 60 ms timeout: %d hand-overs, want %d", n, got, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.inline.mu.Lock()
		ticking, listed := srv.inline.ticking, len(srv.inline.clients)
		srv.inline.mu.Unlock()
		if !ticking && listed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run for 5 s: the watch still ticks (%v) with %d clients listed", ticking, listed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
