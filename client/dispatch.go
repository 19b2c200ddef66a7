package client

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// dispatcher runs the user's handlers one at a time, in the order they were
// queued, on a goroutine that exists only while there is work. The
// connection's reader only queues: a handler may block (for example on
// EmitWithAck) without stopping the delivery of acknowledgements.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	running bool
	// idle, made only when someone waits, is closed when the queue
	// drains: most bursts of events have no waiter and cost no channel.
	idle    chan struct{}
	onPanic func(any)
}

func newDispatcher(onPanic func(any)) *dispatcher {
	return &dispatcher{onPanic: onPanic}
}

func (d *dispatcher) push(fn func()) {
	d.mu.Lock()
	d.queue = append(d.queue, fn)
	if !d.running {
		d.running = true
		go d.run()
	}
	d.mu.Unlock()
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			if d.idle != nil {
				close(d.idle)
				d.idle = nil
			}
			d.mu.Unlock()
			return
		}
		fn := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		d.call(fn)
	}
}

func (d *dispatcher) call(fn func()) {
	defer func() {
		if r := recover(); r != nil && d.onPanic != nil {
			d.onPanic(r)
		}
	}()
	fn()
}

// wait returns once the queue is drained, unless called from a handler
// (which would wait for itself), or after the timeout.
func (d *dispatcher) wait(timeout time.Duration) {
	d.mu.Lock()
	if !d.running {
		d.mu.Unlock()
		return
	}
	if d.idle == nil {
		d.idle = make(chan struct{})
	}
	idle := d.idle
	d.mu.Unlock()
	if inHandler() {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// dispatcherCall is the name of the frame every handler runs under.
const dispatcherCall = "github.com/socketio-go/socketio/client.(*dispatcher).call"

// inHandler reports whether the calling goroutine is running a handler of
// a dispatcher (this Manager's or, rarely, another's: then Close does not
// wait for its queue, which is only a courtesy). It walks the caller's
// frames, which costs a few microseconds: it is only used by Close, so that
// the dispatcher itself need not record which goroutine runs it.
func inHandler() bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(2, pcs)
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Function == dispatcherCall {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) || len(pcs) >= 1<<14 {
			return false
		}
		pcs = make([]uintptr, 2*len(pcs)) // a deeper stack: look at all of it
	}
}

// handlers is a list of callbacks that can each be removed. The list is
// copy-on-write: every change makes a new array, so that view can hand out
// the current one without copying it.
type handlers[F any] struct {
	mu   sync.Mutex
	list []*F
}

func (h *handlers[F]) add(fn F) (off func()) {
	p := &fn
	h.mu.Lock()
	h.list = append(h.list[:len(h.list):len(h.list)], p)
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, q := range h.list {
			if q == p {
				h.list = append(h.list[:i:i], h.list[i+1:]...)
				return
			}
		}
	}
}

// view returns the current list, which nobody modifies: changes replace it.
func (h *handlers[F]) view() []*F {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.list
}

// removeIf removes the callbacks for which drop reports true.
func (h *handlers[F]) removeIf(drop func(F) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var kept []*F
	for _, p := range h.list {
		if !drop(*p) {
			kept = append(kept, p)
		}
	}
	h.list = kept
}

func (h *handlers[F]) snapshot() []F {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]F, len(h.list))
	for i, p := range h.list {
		out[i] = *p
	}
	return out
}

// backoff is socket.io-client's backo2: min * 2^attempts, randomised by
// ±jitter, capped at max.
type backoff struct {
	min, max time.Duration
	jitter   float64
	attempts int
}

func (b *backoff) duration() time.Duration {
	ms := float64(b.min.Milliseconds()) * float64(uint64(1)<<min(b.attempts, 62))
	b.attempts++
	if b.jitter > 0 {
		r := rand.Float64()
		deviation := float64(int64(r * b.jitter * ms))
		if int64(r*10)&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	ms = min(ms, float64(b.max.Milliseconds()))
	return time.Duration(ms) * time.Millisecond
}

func (b *backoff) reset() { b.attempts = 0 }
