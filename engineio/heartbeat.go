package engineio

import (
	"sync"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
)

// heartbeats schedules the server's heartbeat deadlines, one per session:
// when to send the next ping, or, once it is sent, by when the pong must
// come. One timer serves every session, which holds only its place in a
// min-heap (a time.Timer per session would cost about 200 bytes each, and
// two once the first ping is out).
//
// Lock order: Session.mu before heartbeats.mu; fire calls sessions only
// after releasing heartbeats.mu.
type heartbeats struct {
	mu       sync.Mutex
	base     time.Time  // the clock's origin (monotonic)
	heap     []*Session // min-heap on hbDue
	timer    *time.Timer
	timerDue int64 // when the timer fires, 0 when it is not armed
}

// heartbeatSlack lets fire take deadlines this close to now along, so that
// sessions due a moment apart are served by one wake-up.
const heartbeatSlack = int64(time.Millisecond)

func (hb *heartbeats) now() int64 { return int64(time.Since(hb.base)) }

// schedule sets s's deadline to after from now, for the heartbeat generation
// gen (see Session.heartbeatDue), replacing any deadline s had.
func (hb *heartbeats) schedule(s *Session, gen uint32, after time.Duration) {
	hb.mu.Lock()
	due := hb.now() + int64(after)
	s.hbDue, s.hbSched = due, gen
	if s.hbIdx > 0 {
		i := s.hbIdx - 1
		if !hb.up(i) {
			hb.down(i)
		}
	} else {
		hb.heap = append(hb.heap, s)
		s.hbIdx = len(hb.heap)
		hb.up(len(hb.heap) - 1)
	}
	if hb.timerDue == 0 || due < hb.timerDue {
		hb.armLocked(due)
	}
	hb.mu.Unlock()
}

// cancel removes s's deadline, if it has one.
func (hb *heartbeats) cancel(s *Session) {
	hb.mu.Lock()
	if s.hbIdx > 0 {
		hb.removeLocked(s.hbIdx - 1)
		if len(hb.heap) == 0 && hb.timer != nil {
			hb.timer.Stop()
			hb.timerDue = 0
		}
	}
	hb.mu.Unlock()
}

func (hb *heartbeats) armLocked(due int64) {
	hb.timerDue = due
	d := time.Duration(due - hb.now())
	if hb.timer == nil {
		hb.timer = time.AfterFunc(d, hb.fire)
	} else {
		hb.timer.Reset(d)
	}
}

type dueSession struct {
	s   *Session
	gen uint32
}

// fire acts on every deadline that has come: a ping to send, or a pong
// that did not come.
func (hb *heartbeats) fire() {
	for _, d := range hb.popDue() {
		d.s.heartbeatDue(d.gen)
	}
}

// popDue takes the sessions whose deadline has come out of the heap,
// earliest first, and arms the timer for the next deadline.
func (hb *heartbeats) popDue() []dueSession {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	now := hb.now()
	var due []dueSession
	for len(hb.heap) > 0 && hb.heap[0].hbDue <= now+heartbeatSlack {
		s := hb.heap[0]
		due = append(due, dueSession{s, s.hbSched})
		hb.removeLocked(0)
	}
	hb.timerDue = 0
	if len(hb.heap) > 0 {
		hb.armLocked(hb.heap[0].hbDue)
	}
	return due
}

func (hb *heartbeats) removeLocked(i int) {
	h := hb.heap
	last := len(h) - 1
	h[i].hbIdx = 0
	if i != last {
		h[i] = h[last]
		h[i].hbIdx = i + 1
	}
	h[last] = nil
	hb.heap = h[:last]
	if i != last {
		if !hb.up(i) {
			hb.down(i)
		}
	}
	if cap(hb.heap) > 256 && len(hb.heap) < cap(hb.heap)/4 {
		hb.heap = append([]*Session(nil), hb.heap...) // let a past peak go
	}
}

// up moves heap[i] towards the root; it reports whether it moved.
func (hb *heartbeats) up(i int) bool {
	h := hb.heap
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if h[p].hbDue <= h[i].hbDue {
			break
		}
		hb.swap(i, p)
		i = p
		moved = true
	}
	return moved
}

func (hb *heartbeats) down(i int) {
	h := hb.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].hbDue < h[l].hbDue {
			m = r
		}
		if h[i].hbDue <= h[m].hbDue {
			return
		}
		hb.swap(i, m)
		i = m
	}
}

func (hb *heartbeats) swap(i, j int) {
	h := hb.heap
	h[i], h[j] = h[j], h[i]
	h[i].hbIdx = i + 1
	h[j].hbIdx = j + 1
}

// startHeartbeat schedules the first ping.
func (s *Session) startHeartbeat() {
	s.mu.Lock()
	if s.state != stateClosed {
		s.hbGen++
		s.srv.hb.schedule(s, s.hbGen, s.srv.opts.PingInterval)
	}
	s.mu.Unlock()
}

// heartbeatDue is called when the deadline of heartbeat generation gen has
// come: it sends a ping and starts waiting for the pong, or closes the
// session when the pong did not come. A deadline of an older generation
// (a pong arrived meanwhile) is ignored.
func (s *Session) heartbeatDue(gen uint32) {
	s.mu.Lock()
	if s.state == stateClosed || gen != s.hbGen {
		s.mu.Unlock()
		return
	}
	if s.hbWaitPong {
		s.mu.Unlock()
		s.closeWith(ReasonPingTimeout, nil)
		return
	}
	// The pong deadline starts when the ping is queued, even while no GET
	// is there to carry it; it is set before, so that a pong can never come
	// back before it.
	s.hbWaitPong = true
	s.hbGen++
	s.srv.hb.schedule(s, s.hbGen, s.srv.opts.PingTimeout)
	s.mu.Unlock()
	_ = s.enqueue(false, outMsg{typ: eiocodec.Ping})
}

// onPong ends the wait for a pong and schedules the next ping. As in Node,
// a pong also pushes back a ping not sent yet.
func (s *Session) onPong() {
	s.mu.Lock()
	if s.state != stateClosed && s.hbGen != 0 { // 0: the heartbeat has not started
		s.hbWaitPong = false
		s.hbGen++
		s.srv.hb.schedule(s, s.hbGen, s.srv.opts.PingInterval)
	}
	s.mu.Unlock()
}
