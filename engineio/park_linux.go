//go:build linux

package engineio

import (
	"sync"
	"syscall"
)

// parker lets idle WebSocket sessions wait for input without a goroutine.
//
// A goroutine parked in the Go netpoller costs its 2 KiB stack and its g,
// the largest part of an idle session. At the reader's hand-over points
// (readFrom: after the first burst and after a pong) the session is put in
// an epoll set of the server's instead, with EPOLLONESHOT, and the reader
// goroutine ends. One goroutine per server waits in EpollWait; when a
// session's socket becomes readable (or fails), it takes the session out
// and starts a new reader for it. Busy sessions never come here.
//
// The epoll set is level-triggered, so that bytes which arrived before the
// socket was armed fire at once. Each parking gets a new 64-bit token, the
// event's data: file descriptor numbers are reused, tokens are not, so an
// event can never wake the wrong session.
type parker struct {
	mu     sync.Mutex
	state  int // parkerIdle, parkerRunning or parkerDown
	epfd   int
	wake   [2]int                   // a pipe; a byte written to wake[1] stops the poller
	next   uint64                   // the last token given out (0 is the pipe's)
	parked map[uint64]parkedSession // by token
	done   chan struct{}            // closed when the poller has ended

	// epoll_ctl on a connection's descriptor goes through its
	// RawConn.Control, with ctlFn (p.ctl, bound once) and its arguments
	// and result in these fields, under mu: parking allocates nothing.
	ctlFn  func(fd uintptr)
	ctlOp  int
	ctlEv  syscall.EpollEvent
	ctlErr error
}

const (
	parkerIdle    = iota // not started yet: started by the first park
	parkerRunning        // the poller runs
	parkerDown           // stopped (Server.Close) or failed: park falls back to goroutines
)

// parkedSession is what the poller needs to start a session's next reader.
type parkedSession struct {
	s   *Session
	ws  wsConn
	gen uint32
}

// rawConner is the part of *websocket.Conn that gives its file descriptor.
type rawConner interface {
	SyscallConn() (syscall.RawConn, bool)
}

// park hands the reading of ws (by the reader of generation gen) to the
// server's poller. It reports false when it cannot (no file descriptor, as
// with TLS; unread bytes; epoll failing; the server closed): the caller then
// starts the next reader itself, as on other systems. On true, the calling
// reader must end, and release its goroutine count: a parked session holds
// none, the poller adds one for the reader it starts.
func (s *Session) park(ws wsConn, gen uint32) bool {
	rcr, ok := ws.(rawConner)
	if !ok {
		return false
	}
	rc, ok := rcr.SyscallConn()
	if !ok {
		return false
	}
	if w, ok := ws.(idleWaiter); !ok || w.Buffered() != 0 {
		return false
	}
	p := &s.srv.park
	p.mu.Lock()
	if !p.startLocked() {
		p.mu.Unlock()
		return false
	}
	p.next++
	tok := p.next
	// In the map before it is armed: the event may come at once, and the
	// poller, waiting for mu, then finds it.
	p.parked[tok] = parkedSession{s: s, ws: ws, gen: gen}
	s.parkTok = tok
	// Level-triggered, so that bytes which came before fire at once; one
	// event, then the descriptor stays in the set, disarmed, until the
	// next park (EPOLL_CTL_MOD).
	if err := p.ctlLocked(rc, syscall.EPOLL_CTL_MOD, tok); err != nil {
		delete(p.parked, tok)
		s.parkTok = 0
		p.mu.Unlock()
		return false
	}
	p.mu.Unlock()

	// closeWith takes a parked session out (unpark); one that closed
	// before the session was in the map did not see it.
	s.mu.Lock()
	closed := s.state == stateClosed
	s.mu.Unlock()
	if closed {
		s.srv.park.unpark(s)
	}
	return true
}

// startLocked starts the poller on first use; it reports whether it runs.
func (p *parker) startLocked() bool {
	switch p.state {
	case parkerRunning:
		return true
	case parkerDown:
		return false
	}
	p.state = parkerDown // unless everything below succeeds
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return false
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return false
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // token 0
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(pipe[0])
		syscall.Close(pipe[1])
		return false
	}
	p.epfd, p.wake = epfd, pipe
	p.parked = make(map[uint64]parkedSession)
	p.ctlFn = p.ctl
	p.done = make(chan struct{})
	p.state = parkerRunning
	go p.run()
	return true
}

// ctlLocked makes epoll_ctl(op) on rc's descriptor, for one readable (or
// hung up) event carrying tok. Control fails on a closed connection rather
// than pass a descriptor number that may have been reused.
func (p *parker) ctlLocked(rc syscall.RawConn, op int, tok uint64) error {
	p.ctlOp = op
	p.ctlEv = syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
	// Fd and Pad are the kernel's 64-bit epoll_data on every architecture.
	p.ctlEv.Fd, p.ctlEv.Pad = int32(uint32(tok)), int32(uint32(tok>>32))
	p.ctlErr = nil
	if err := rc.Control(p.ctlFn); err != nil {
		return err
	}
	return p.ctlErr
}

// ctl is ctlFn. A descriptor never parked is not in the set yet: MOD then
// fails with ENOENT, and it is added.
func (p *parker) ctl(fd uintptr) {
	p.ctlErr = syscall.EpollCtl(p.epfd, p.ctlOp, int(fd), &p.ctlEv)
	if p.ctlErr == syscall.ENOENT && p.ctlOp == syscall.EPOLL_CTL_MOD {
		p.ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &p.ctlEv)
	}
}

// run is the poller: it starts a reader for each session whose socket
// fires, until stop writes to the pipe (or epoll fails).
func (p *parker) run() {
	defer close(p.done)
	var evs [64]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(p.epfd, evs[:], -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			p.shutdown()
			return
		}
		p.mu.Lock()
		for i := range evs[:n] {
			tok := uint64(uint32(evs[i].Fd)) | uint64(uint32(evs[i].Pad))<<32
			if tok == 0 {
				p.mu.Unlock()
				p.shutdown()
				return
			}
			// A session closed meanwhile is no longer in the map.
			if e, ok := p.parked[tok]; ok {
				p.wakeLocked(tok, e)
			}
		}
		p.mu.Unlock()
	}
}

// wakeLocked takes a session out and starts its next reader. The goroutine
// is counted under p.mu: a closeWith that no longer finds the session
// (unpark) finds the count, so Server.Close waits for that reader, which
// ends at once on the closed connection.
func (p *parker) wakeLocked(tok uint64, e parkedSession) {
	delete(p.parked, tok)
	e.s.parkTok = 0
	e.s.srv.goroutines.Add()
	go e.s.readFrom(e.ws, false, e.gen)
}

// shutdown ends the poller: the sessions still parked get reader
// goroutines back, later parks fail, and the descriptors are closed.
func (p *parker) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = parkerDown
	for tok, e := range p.parked {
		p.wakeLocked(tok, e)
	}
	syscall.Close(p.epfd)
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
}

// unpark takes a closing session out of the epoll set, if it is parked. It
// runs before the connection is closed (when the descriptor goes, the
// kernel drops it from the set anyway).
func (p *parker) unpark(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tok := s.parkTok
	if tok == 0 {
		return
	}
	e := p.parked[tok]
	delete(p.parked, tok)
	s.parkTok = 0
	if rc, ok := e.ws.(rawConner).SyscallConn(); ok && p.state == parkerRunning {
		_ = p.ctlLocked(rc, syscall.EPOLL_CTL_DEL, 0)
	}
}

// stop ends the poller and waits for it (Server.Close and Shutdown, once
// every session is closed). Later parks fail.
func (p *parker) stop() {
	p.mu.Lock()
	switch p.state {
	case parkerIdle:
		p.state = parkerDown
	case parkerRunning:
		_, _ = syscall.Write(p.wake[1], []byte{0})
	}
	done := p.done
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}
