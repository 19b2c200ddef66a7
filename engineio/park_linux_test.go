package engineio_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

// parkedClient is one WebSocket session of the parking tests.
type parkedClient struct {
	c   *wsClient
	rec *record
}

// openParked opens n WebSocket sessions, makes each go through its first
// burst (a message and its echo), and waits until all are parked.
func openParked(t *testing.T, h *harness, n int) []parkedClient {
	t.Helper()
	out := make([]parkedClient, n)
	for i := range out {
		c, sid := h.wsHandshake()
		c.echoRoundTrip(fmt.Sprint("first-", i))
		out[i] = parkedClient{c, h.rec(sid)}
	}
	waitParked(t, out)
	return out
}

func waitParked(t *testing.T, cs []parkedClient) {
	t.Helper()
	for _, pc := range cs {
		waitFor(t, "session parked", func() bool { return engineio.Parked(pc.rec.sess) })
	}
}

// Idle sessions wait without goroutines, and wake up on input.
func TestParkIdleSessions(t *testing.T) {
	const n = 200
	h := newHarness(t, nil)
	base := runtime.NumGoroutine()
	cs := openParked(t, h, n)
	// The point of parking: no goroutine per idle session. The poller is
	// one; a few more may belong to the runtime or the HTTP server.
	if got := runtime.NumGoroutine() - base; got > 10 {
		t.Errorf("%d idle sessions hold %d goroutines", n, got)
	}
	for i, pc := range cs {
		pc.c.echoRoundTrip(fmt.Sprint("again-", i))
	}
	// Several messages in one burst, after being parked again is not due
	// (no pong): the sessions now have readers, and still echo in order.
	for i, pc := range cs {
		pc.c.sendText(fmt.Sprint("4a", i))
		pc.c.sendText(fmt.Sprint("4b", i))
	}
	for i, pc := range cs {
		for _, want := range []string{fmt.Sprint("4a", i), fmt.Sprint("4b", i)} {
			if got := pc.c.readText(); got != want {
				t.Fatalf("session %d: got %q, want %q", i, got, want)
			}
		}
		if pc.rec.isClosed() {
			t.Fatalf("session %d closed: %s", i, pc.rec.reason)
		}
	}
}

// Bytes that arrive while a session is being parked are not missed
// (level-triggered epoll): a client that sends right after its echo gets
// an answer whether its message beat the parking or not.
func TestParkNoLostWakeup(t *testing.T) {
	h := newHarness(t, nil)
	for i := range 50 {
		c, _ := h.wsHandshake()
		c.sendText("4x")
		c.sendText("3") // a pong: the reader parks after it
		c.sendText(fmt.Sprint("4y", i))
		if got := c.readText(); got != "4x" {
			t.Fatalf("got %q", got)
		}
		if got := c.readText(); got != fmt.Sprint("4y", i) {
			t.Fatalf("got %q", got)
		}
	}
}

// Server.Close closes parked sessions (and stops the poller: goleak).
func TestParkServerClose(t *testing.T) {
	h := newHarness(t, nil)
	cs := openParked(t, h, 50)
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pc := range cs {
		if reason := pc.rec.waitClosed(t); reason != engineio.ReasonForcedClose {
			t.Errorf("reason %q", reason)
		}
		if engineio.Parked(pc.rec.sess) {
			t.Error("closed session still parked")
		}
		pc.c.expectEnd()
	}
}

// Server.Shutdown sends parked sessions a close frame.
func TestParkShutdown(t *testing.T) {
	h := newHarness(t, nil)
	cs := openParked(t, h, 50)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	for _, pc := range cs {
		if !pc.c.expectEnd() {
			t.Error("no close frame")
		}
		if reason := pc.rec.waitClosed(t); reason != engineio.ReasonForcedClose {
			t.Errorf("reason %q", reason)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// A client that drops its TCP connection while parked is noticed.
func TestParkClientDrop(t *testing.T) {
	h := newHarness(t, nil)
	cs := openParked(t, h, 50)
	for _, pc := range cs {
		pc.c.conn.Close()
	}
	for _, pc := range cs {
		if reason := pc.rec.waitClosed(t); reason != engineio.ReasonTransportClose {
			t.Errorf("reason %q", reason)
		}
	}
	// Sessions closed by the server while parked leave nothing behind:
	// the others still work.
	more := openParked(t, h, 5)
	for _, pc := range more[:2] {
		pc.rec.sess.Close()
		if !pc.c.expectEnd() {
			t.Error("no close frame")
		}
		if reason := pc.rec.waitClosed(t); reason != engineio.ReasonForcedClose {
			t.Errorf("reason %q", reason)
		}
	}
	for _, pc := range more[2:] {
		pc.c.echoRoundTrip("still")
	}
}

// Heartbeats go through the parked path: each pong wakes a parked session,
// which parks again after it; a session that stops answering times out
// while parked.
func TestParkHeartbeat(t *testing.T) {
	const interval, timeout = 30 * time.Millisecond, time.Second
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: timeout})
	const n = 20
	cs := make([]parkedClient, n)
	for i := range cs {
		c, sid := h.wsHandshake()
		cs[i] = parkedClient{c, h.rec(sid)}
	}
	for round := range 5 {
		for _, pc := range cs {
			if got := pc.c.readText(); got != "2" {
				t.Fatalf("round %d: got %q, want a ping", round, got)
			}
			pc.c.sendText("3")
		}
		waitParked(t, cs)
	}
	for i, pc := range cs {
		if pc.rec.isClosed() {
			t.Fatalf("session %d closed: %s", i, pc.rec.reason)
		}
		echoAnsweringPings(pc.c, "alive")
	}

	// Parked (after a pong), then silent: the ping timeout closes it.
	for i, pc := range cs {
		if got := pc.c.readText(); got != "2" {
			t.Fatalf("session %d: %q while waiting for a ping", i, got)
		}
		pc.c.sendText("3")
	}
	waitParked(t, cs)
	start := time.Now()
	for _, pc := range cs {
		if reason := pc.rec.waitClosed(t); reason != engineio.ReasonPingTimeout {
			t.Errorf("reason %q", reason)
		}
	}
	if d := time.Since(start); d < timeout/2 {
		t.Errorf("closed after %v, before the ping timeout", d)
	}
}

// echoAnsweringPings is echoRoundTrip on a session whose pings may come
// first: they are answered.
func echoAnsweringPings(c *wsClient, msg string) {
	c.t.Helper()
	c.sendText("4" + msg)
	for {
		switch got := c.readText(); got {
		case "4" + msg:
			return
		case "2":
			c.sendText("3")
		default:
			c.t.Fatalf("echo: got %q, want %q", got, "4"+msg)
		}
	}
}
