package socketio

import (
	"sync"
	"time"
)

// workerPool keeps the goroutines that ran sockets' queued handlers
// (Socket.schedule) for the next socket that needs one, instead of ending
// them. An event that arrives over long-polling, or on a socket whose
// handlers do not run on the reader, is run by one: a parked worker is
// woken, where a new goroutine would be started, its stack grown to fit a
// handler (presizeStack) and ended after. That was about 5% of a
// long-polling message's CPU.
//
// Workers that stay parked through a whole trim period (a second) end, the
// longest parked first, so a server that went quiet keeps none; Close ends
// them all.
type workerPool struct {
	mu      sync.Mutex
	idle    []*worker // parked workers, the most recently parked last
	minIdle int       // the fewest parked since the last trim: the surplus
	timer   *time.Timer
	ticking bool
	closed  bool
}

// worker is one pooled goroutine: it waits on wake for its next socket; nil
// ends it.
type worker struct {
	wake chan *Socket
}

// maxIdleWorkers bounds the parked workers: beyond it, a worker whose run
// is over ends.
const maxIdleWorkers = 256

// workerTrimPeriod is how long a worker may stay parked (tests shorten it).
var workerTrimPeriod = time.Second

// start runs s's queue on a parked worker, or on a new one.
func (p *workerPool) start(s *Socket) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if n-1 < p.minIdle {
			p.minIdle = n - 1
		}
		p.mu.Unlock()
		w.wake <- s
		return
	}
	p.mu.Unlock()
	go p.run(s)
}

// run is a worker's goroutine, first running s's queue.
func (p *workerPool) run(s *Socket) {
	presizeStack(0)
	var w *worker
	for s != nil {
		srv := s.nsp.srv
		s.drainQueue()
		srv.goroutines.Done()
		if w == nil {
			w = &worker{wake: make(chan *Socket, 1)}
		}
		if !p.park(w) {
			return
		}
		s = <-w.wake
	}
}

// park lists w as idle; false means it must end instead.
func (p *workerPool) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= maxIdleWorkers {
		return false
	}
	p.idle = append(p.idle, w)
	if !p.ticking {
		p.ticking = true
		p.minIdle = len(p.idle)
		if p.timer == nil {
			p.timer = time.AfterFunc(workerTrimPeriod, p.trim)
		} else {
			p.timer.Reset(workerTrimPeriod)
		}
	}
	return true
}

// trim ends the workers that stayed parked since the last trim.
func (p *workerPool) trim() {
	p.mu.Lock()
	n := min(p.minIdle, len(p.idle))
	surplus := append([]*worker(nil), p.idle[:n]...)
	copy(p.idle, p.idle[n:])
	clear(p.idle[len(p.idle)-n:])
	p.idle = p.idle[:len(p.idle)-n]
	p.minIdle = len(p.idle)
	if len(p.idle) > 0 {
		p.timer.Reset(workerTrimPeriod)
	} else {
		p.ticking = false
		p.idle = nil
	}
	p.mu.Unlock()
	for _, w := range surplus {
		w.wake <- nil
	}
}

// close ends the parked workers, and the others once their runs are over.
func (p *workerPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	if p.timer != nil {
		p.timer.Stop()
	}
	p.ticking = false
	p.mu.Unlock()
	for _, w := range idle {
		w.wake <- nil
	}
}
