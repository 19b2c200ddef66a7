package socketio

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sioclient "github.com/socketio-go/socketio/client"
)

// InlineHandlerTimeout's timer ticks every half timeout rather than being
// reset per run: back-to-back short runs (each far shorter than the
// timeout, together far longer) never hand the reading over, and one run
// longer than the timeout does, once.
func TestInlineTimeoutTicks(t *testing.T) {
	var releases atomic.Int32
	testHookInlineRelease = func() { releases.Add(1) }
	defer func() { testHookInlineRelease = nil }()

	srv, err := NewServer(&Options{InlineHandlerTimeout: 100 * time.Millisecond})
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
	defer func() { hs.Close(); _ = srv.Close() }()
	m, err := sioclient.NewManager(hs.URL, &sioclient.Options{Transports: []string{sioclient.TransportWebSocket}, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sock := m.Socket("/", nil)
	ready := make(chan struct{}, 1)
	sock.OnConnect(func() { ready <- struct{}{} })
	sock.Connect()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("not connected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// 60 runs of 2 ms, queued back to back: ~120 ms of handlers.
	done := make(chan error, 60)
	for i := 0; i < 60; i++ {
		go func() {
			_, err := sock.EmitWithAck(ctx, "work", 2)
			done <- err
		}()
	}
	for i := 0; i < 60; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
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

	srv, err := NewServer(&Options{InlineHandlerTimeout: 60 * time.Millisecond})
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
	defer func() { hs.Close(); _ = srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 3
	socks := make([]*sioclient.Socket, n)
	for i := range socks {
		m, err := sioclient.NewManager(hs.URL, &sioclient.Options{Transports: []string{sioclient.TransportWebSocket}, DisableReconnection: true})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		socks[i] = m.Socket("/", nil)
		ready := make(chan struct{}, 1)
		socks[i].OnConnect(func() { ready <- struct{}{} })
		socks[i].Connect()
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			t.Fatal("not connected")
		}
	}
	done := make(chan error, n)
	for _, s := range socks {
		go func() {
			_, err := s.EmitWithAck(ctx, "work", 200)
			done <- err
		}()
	}
	for range socks {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
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
