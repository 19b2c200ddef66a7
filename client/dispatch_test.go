package client

import (
	"testing"
	"time"
)

// wait from inside a handler returns at once (waiting would wait for
// itself until the timeout); from another goroutine it waits until the
// queue is drained.
func TestDispatcherWait(t *testing.T) {
	d := newDispatcher(nil)
	inside := make(chan time.Duration, 1)
	d.push(func() {
		start := time.Now()
		d.wait(time.Minute)
		inside <- time.Since(start)
	})
	select {
	case took := <-inside:
		if took > 10*time.Second {
			t.Fatalf("wait from a handler took %v", took)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait from a handler waited for itself")
	}

	release := make(chan struct{})
	ran := make(chan struct{})
	d.push(func() { <-release })
	d.push(func() { close(ran) })
	waited := make(chan struct{})
	go func() { d.wait(time.Minute); close(waited) }()
	select {
	case <-waited:
		t.Fatal("wait returned while handlers were queued")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not return once the queue drained")
	}
	select {
	case <-ran:
	default:
		t.Fatal("wait returned before the last handler ran")
	}
}

// A handler that sits deeper than the first batch of frames is still seen
// as one.
func TestInHandlerDeepStack(t *testing.T) {
	d := newDispatcher(nil)
	got := make(chan bool, 1)
	var deep func(n int) bool
	deep = func(n int) bool {
		if n == 0 {
			return inHandler()
		}
		return deep(n - 1)
	}
	d.push(func() { got <- deep(200) })
	if !<-got {
		t.Error("inHandler: false 200 frames down a handler")
	}
	if inHandler() {
		t.Error("inHandler: true outside any handler")
	}
}
