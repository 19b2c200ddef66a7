package engineio

import (
	"runtime"
	"sync"
)

// flushChunk is how many sessions a flusher takes from the list at a time.
const flushChunk = 64

// flushers write the queues of WebSocket sessions whose writer is idle
// when something is queued for them without a sender that writes it
// itself: the recipients of a broadcast, heartbeats. A goroutine per
// recipient (the writer, started for each one) used to do it: at 10 000
// recipients that is 10 000 goroutine starts per broadcast, each touching a
// stack of its own. A flusher goes down the list of such sessions and makes
// one non-blocking write for each (writeInline, as a sender's own answer);
// only a session whose socket does not take everything gets its writer
// goroutine, which waits for the socket with the write deadline. Frames
// queued for a session while it waits in the list go out in the same write.
//
// Up to GOMAXPROCS flushers run at once, one more for each flushChunk
// sessions waiting; they end when the list is empty.
type flushers struct {
	mu      sync.Mutex
	list    []*Session
	head    int // list[head:] waits
	running int
	max     int // GOMAXPROCS when the server was made
}

// scheduleFlushLocked hands s to the flushers; s.mu is held and s.writing
// has just been set for them.
func (s *Session) scheduleFlushLocked() {
	srv := s.srv
	f := &srv.flush
	f.mu.Lock()
	f.list = append(f.list, s)
	start := f.running == 0 || (f.running < f.max && len(f.list)-f.head > flushChunk*f.running)
	if start {
		f.running++
	}
	f.mu.Unlock()
	if start {
		srv.goroutines.Add()
		go srv.flushLoop()
	}
}

func (srv *Server) flushLoop() {
	defer srv.goroutines.Done()
	f := &srv.flush
	var chunk [flushChunk]*Session
	for {
		f.mu.Lock()
		n := f.takeLocked(chunk[:])
		if n == 0 {
			f.running--
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		for i, s := range chunk[:n] {
			chunk[i] = nil
			s.flushScheduled()
		}
	}
}

// takeLocked moves the oldest waiting sessions into chunk and returns how
// many; f.mu must be held.
func (f *flushers) takeLocked(chunk []*Session) int {
	n := copy(chunk, f.list[f.head:])
	f.head += n
	switch {
	case f.head == len(f.list):
		clear(f.list)
		f.list, f.head = f.list[:0], 0
	case f.head > len(f.list)/2:
		// Under steady load the list may never empty: drop the taken
		// half so that it does not grow without end.
		m := copy(f.list, f.list[f.head:])
		clear(f.list[m:])
		f.list, f.head = f.list[:m], 0
	}
	return n
}

// flushScheduled writes what is queued for s, whose writing the flushers
// own: one non-blocking write, the rest (bytes the socket did not take, a
// close to send) left to the writer goroutine.
func (s *Session) flushScheduled() {
	s.mu.Lock()
	ws := s.ws
	tf, ok := ws.(tryFlusher)
	if !ok || s.state != stateOpen || s.unflushed {
		s.srv.goroutines.Add()
		s.mu.Unlock()
		go s.startWriter()
		return
	}
	if len(s.queue) == 0 {
		s.writing = false
		s.mu.Unlock()
		return
	}
	batch := s.takeQueueLocked()
	s.mu.Unlock()
	flushed, err := tryWriteBatch(ws, tf, batch)
	clear(batch)
	if err != nil {
		// The close runs the session's callbacks: not on a flusher,
		// which other sessions wait for.
		s.srv.goroutines.Add()
		go s.closeAfterWriteError(err)
		return
	}
	s.afterTryWrite(flushed)
}

func (s *Session) closeAfterWriteError(err error) {
	defer s.srv.goroutines.Done()
	s.closeWith(ReasonTransportError, err)
}

func newFlushers() flushers { return flushers{max: runtime.GOMAXPROCS(0)} }
