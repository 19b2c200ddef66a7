package socketio

import (
	"sync"
	"time"
)

// inlineWatch times the event handlers that run on their connection's
// reader (Options.InlineHandlerTimeout) with one timer for the whole
// server. A client joins its list when a handler run starts while it is not
// in it (client.startInline); at every tick, half a timeout apart, the
// watch hands over the reading of each client whose run it saw at the tick
// before, and drops the clients that have no run going.
//
// One timer per client did the same, but a timer's callback runs on a
// goroutine of its own: with many busy clients that was a goroutine started
// per client every half timeout, about 5% of an echoed event's CPU. Here it
// is one per half timeout for the server, and the timer stops when no
// client is listed.
type inlineWatch struct {
	d time.Duration // the tick: half InlineHandlerTimeout

	mu      sync.Mutex
	clients []*client // the clients being watched (client.tickArmed set)
	spare   []*client // the previous tick's list, reused
	timer   *time.Timer
	ticking bool // the timer is armed, or its callback is running
}

// add lists c, whose tickArmed its caller has just set, and starts the
// timer if it is stopped.
func (w *inlineWatch) add(c *client) {
	w.mu.Lock()
	w.clients = append(w.clients, c)
	if !w.ticking {
		w.ticking = true
		if w.timer == nil {
			w.timer = time.AfterFunc(w.d, w.tick)
		} else {
			w.timer.Reset(w.d)
		}
	}
	w.mu.Unlock()
}

// tick looks at every listed client: see client.inlineTick.
func (w *inlineWatch) tick() {
	w.mu.Lock()
	list := w.clients
	w.clients = w.spare[:0]
	w.mu.Unlock()
	kept := list[:0]
	for _, c := range list {
		if c.inlineTick() {
			kept = append(kept, c)
		}
	}
	// Clients added meanwhile are in w.clients; the timer is still
	// "ticking" for them, so none of them armed it.
	w.mu.Lock()
	w.clients = append(w.clients, kept...)
	clear(list[:cap(list)])
	w.spare = list[:0]
	if cap(w.spare) > 1024 && len(w.clients) < cap(w.spare)/4 {
		w.spare = nil // a burst of busy clients is over: let its list go
	}
	if len(w.clients) > 0 {
		w.timer.Reset(w.d)
	} else {
		w.ticking = false
	}
	w.mu.Unlock()
}
