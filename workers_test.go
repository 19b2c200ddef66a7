package socketio

import (
	"bytes"
	"context"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	sioclient "github.com/socketio-go/socketio/client"
)

// goid returns the calling goroutine's id, from its stack trace's header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

// workerGoroutines counts the goroutines in workerPool.run.
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "socketio.(*workerPool).run")
}

// dialWS connects a client of hs's main namespace over WebSocket.
func dialWS(t *testing.T, url string) *sioclient.Socket {
	t.Helper()
	// Without DisableAutoConnect, Socket would connect before OnConnect
	// is added, and the test could miss the event.
	m, err := sioclient.NewManager(url, &sioclient.Options{Transports: []string{sioclient.TransportWebSocket}, DisableReconnection: true, DisableAutoConnect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	s := m.Socket("/", nil)
	ready := make(chan struct{}, 1)
	s.OnConnect(func() { ready <- struct{}{} })
	s.Connect()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("not connected")
	}
	return s
}

// With handlers on goroutines (a negative InlineHandlerTimeout), a socket's
// second burst of events runs on the goroutine that ran its first, parked
// in between, rather than on a new one.
func TestWorkerReused(t *testing.T) {
	srv, err := NewServer(&Options{InlineHandlerTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *Socket) {
		OnWithAck(s, "goid", func(*Socket, int) uint64 { return goid() })
	})
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	sock := dialWS(t, hs.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []uint64
	for i := 0; i < 3; i++ {
		args, err := sock.EmitWithAck(ctx, "goid", i)
		if err != nil {
			t.Fatal(err)
		}
		var id uint64
		if err := args.Decode(0, &id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		time.Sleep(10 * time.Millisecond) // the worker parks
	}
	if ids[0] == 0 || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Fatalf("three bursts ran on goroutines %v, want one reused", ids)
	}
}

// Parked workers end after a trim period without use, and at Close.
func TestWorkerTrimAndClose(t *testing.T) {
	old := workerTrimPeriod
	workerTrimPeriod = 50 * time.Millisecond
	defer func() { workerTrimPeriod = old }()

	srv, url := workServer(t, &Options{InlineHandlerTimeout: -1})
	const n = 4
	socks := make([]*sioclient.Socket, n)
	for i := range socks {
		socks[i] = dialWS(t, url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	idle := func() int {
		srv.workers.mu.Lock()
		defer srv.workers.mu.Unlock()
		return len(srv.workers.idle)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %d parked workers, %d worker goroutines", what, idle(), workerGoroutines())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	workAll(ctx, t, socks, 30) // four sockets' handlers at once: four workers
	waitFor("after a burst on 4 sockets", func() bool { return idle() == n })
	waitFor("after trim periods without use", func() bool { return idle() == 0 && workerGoroutines() == 0 })

	workAll(ctx, t, socks, 30)
	waitFor("after a second burst", func() bool { return idle() > 0 })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor("after Close", func() bool { return idle() == 0 && workerGoroutines() == 0 })
}
