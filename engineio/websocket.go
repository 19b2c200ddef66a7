package engineio

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/internal/websocket"
)

var errUpgradeRefused = errors.New("engineio: upgrade refused")

// readLoop reads the session's WebSocket until it fails or the session closes.
//
// An idle session's reader is its only goroutine, so its stack is most of
// the session's memory. The reader waits for input in WaitReadable, from
// this shallow frame, and decodes and handles in readBurst. A goroutine's
// stack only shrinks while it uses less than a quarter of it minus a guard,
// so once a burst has grown it to 4 KiB it would stay there: after the
// bursts that tend to be deep (the first one, which carries the handshake
// or a namespace CONNECT) and after each pong (once per ping interval, so
// that a connection gone idle is also trimmed), the reader hands over to a
// fresh goroutine, which starts and waits at 2 KiB. On Linux the session is
// parked there instead (park_linux.go): it waits with no goroutine at all,
// and the server's poller starts a fresh reader once input comes. Between
// the bursts of a busy connection (one burst or more per garbage
// collection cycle), on the other hand, the reader waits from a deeper
// frame (waitKeepingStack), so that a collection does not halve the stack
// that the next burst would grow again.
func (s *Session) readLoop(ws wsConn) {
	s.mu.Lock()
	gen := s.rdGen
	s.mu.Unlock()
	s.readFrom(ws, true, gen)
}

// readFrom reads ws as the reader of generation gen (see ReleaseReader).
func (s *Session) readFrom(ws wsConn, first bool, gen uint32) {
	w, _ := ws.(idleWaiter)
	// deep: wait in waitKeepingStack (keepStack); last: the collection
	// count at the end of the previous burst (none yet: two cycles ago).
	deep, last := false, gcCycles.Load()-2
	for {
		switch {
		case w == nil:
		case deep:
			waitKeepingStack(w, 0)
		default:
			w.WaitReadable()
		}
		r := s.readBurst(ws, w, gen)
		now := gcCycles.Load()
		deep, last = keepStack(last, now), now
		switch r {
		case burstOver, burstReleased:
			s.srv.goroutines.Done()
			return
		case burstPong:
			first = true
		}
		if first && w != nil {
			s.trimIdle()
			if s.park(ws, gen) {
				// No goroutine while idle: the server's poller starts
				// the next reader, with a count of its own.
				s.srv.goroutines.Done()
				return
			}
			go s.readFrom(ws, false, gen) // inherits this goroutine's count
			return
		}
	}
}

// keepStackBytes is how deep waitKeepingStack waits: with what the
// reader's frames below it use, more than a quarter of an 8 KiB stack (the
// runtime shrinks a stack using less, counting 800 bytes of guard).
const keepStackBytes = 1536

// waitKeepingStack is WaitReadable for a busy reader (keepStack): it waits
// from a frame keepStackBytes deep, so that a garbage collection meanwhile
// does not halve the stack its bursts grew, only for the next burst to grow
// it again (two copies of a deep stack per reader and collection: ~10% of
// an echo's instructions when collections are frequent). Its array is never
// written (n is always 0), so the waiting costs no stores. A reader that
// slows down waits shallow again, and one that goes idle hands over to a
// fresh goroutine or parks (readFrom), which gives the memory back.
//
//go:noinline
func waitKeepingStack(w idleWaiter, n int) byte {
	if n > 0 {
		var frame [keepStackBytes]byte
		frame[n%keepStackBytes] = byte(n)
		return frame[(n/2)%keepStackBytes]
	}
	w.WaitReadable()
	return 0
}

// What readBurst reports.
const (
	burstOver     = iota // the session is over
	burstIdle            // the input is drained
	burstPong            // drained, and a pong was among the packets
	burstReleased        // ReleaseReader gave the reading to another goroutine
)

// idleWaiter is the part of *websocket.Conn that lets readLoop wait for
// input without decoding it.
type idleWaiter interface {
	WaitReadable()
	Buffered() int
}

// readBurst handles the messages that arrive until the input is drained (w
// nil: until the connection ends).
//
//go:noinline
func (s *Session) readBurst(ws wsConn, w idleWaiter, gen uint32) int {
	// pong: a pong was among the packets; holding: a message was delivered
	// with more input behind it, so that answers may be held (flushHeld).
	pong, holding := false, false
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			reason := wsCloseReason(err)
			s.mu.Lock()
			if s.state == stateClosing {
				// Close() is under way: writeLoop's close frame ended this
				// read, and its own closeWith may come second. Node reports
				// "forced close" here.
				reason = ReasonForcedClose
			}
			s.mu.Unlock()
			s.closeWith(reason, err)
			return burstOver
		}
		p, ok := decodeWS(typ, data)
		if !ok {
			s.closeWith(ReasonParseError, eiocodec.ErrInvalidPacket)
			return burstOver
		}
		// More input already read: answers to this message wait for the
		// end of the burst, to go out in one write with the others.
		more := w != nil && w.Buffered() > 0
		if p.Type == eiocodec.Message {
			holding = holding || more
			if s.deliverOnReader(p, gen, more) {
				return burstReleased // ws belongs to the next reader now
			}
		} else {
			pong = pong || p.Type == eiocodec.Pong
			if !s.handlePacket(p) {
				return burstOver
			}
		}
		if w != nil && !more {
			if holding {
				s.flushHeld()
			}
			if pong {
				return burstPong
			}
			return burstIdle
		}
	}
}

func decodeWS(typ websocket.MessageType, data []byte) (eiocodec.Packet, bool) {
	if typ == websocket.Binary {
		return eiocodec.Packet{Type: eiocodec.Message, Data: data, Binary: true}, true
	}
	p, err := eiocodec.DecodeText(data)
	return p, err == nil
}

// wsCloseReason maps a read error to Node's reason: the peer closing (a close
// frame or the end of the stream) is "transport close"; anything else, such as
// a protocol violation or an oversized message, is "transport error".
func wsCloseReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
			return ReasonTransportClose
		}
		return ReasonTransportError
	}
	// The stream ended or the network failed: Node's ws reports a close.
	return ReasonTransportClose
}

// writeLoop writes the queue to the WebSocket, each batch with one flush, and
// exits when the queue is empty. On a closing session it then writes the close
// frame and finishes the close.
func (s *Session) writeLoop() {
	defer s.srv.goroutines.Done()
	for {
		s.mu.Lock()
		ws := s.ws
		if s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 0 && !s.unflushed {
			s.writing = false
			closing := s.state == stateClosing
			s.mu.Unlock()
			if closing {
				ws.Close(websocket.StatusNormalClosure, "")
				s.closeWith(ReasonForcedClose, nil)
			}
			return
		}
		s.unflushed = false
		batch := s.takeQueueLocked()
		s.mu.Unlock()

		s.refreshWriteDeadline(ws)
		err := writeBatch(ws, batch)
		if err == nil {
			err = ws.Flush()
		}
		clear(batch)
		if err != nil {
			s.closeWith(ReasonTransportError, err)
			return
		}
	}
}

// refreshWriteDeadline gives the coming flush at least WriteTimeout. Setting
// the deadline costs a runtime timer update, a measurable share of a
// broadcast's CPU when done per recipient and batch, so a deadline is set
// 1.5 WriteTimeout ahead and renewed only once less than WriteTimeout is
// left: a peer that stops reading is closed after between 1 and 1.5
// WriteTimeout. Only the writer (writeLoop, one at a time) calls it.
func (s *Session) refreshWriteDeadline(ws wsConn) {
	now := time.Now()
	t := s.srv.opts.WriteTimeout
	if s.wdeadline.IsZero() || s.wdeadline.Sub(now) < t {
		s.wdeadline = now.Add(t + t/2)
		ws.SetWriteDeadline(s.wdeadline)
	}
}

// writeBatch buffers a batch on the WebSocket (without flushing it).
func writeBatch(ws wsConn, batch []outMsg) error {
	pw, _ := ws.(prefixedWriter)
	var scratch *[]byte
	var err error
	for i := range batch {
		m := &batch[i]
		switch {
		case m.prepared != nil:
			err = ws.WritePrepared(m.prepared.ws())
		case !m.binary && pw != nil:
			err = pw.WritePrefixed(websocket.Text, '0'+byte(m.typ), m.data, !m.noCompress)
		default:
			write := ws.WriteMessage
			if m.noCompress {
				write = ws.WriteUncompressed
			}
			if m.binary {
				err = write(websocket.Binary, m.data)
			} else {
				if scratch == nil {
					scratch = scratchPool.Get().(*[]byte)
				}
				*scratch = append(append((*scratch)[:0], '0'+byte(m.typ)), m.data...)
				err = write(websocket.Text, *scratch)
			}
		}
		if err != nil {
			break
		}
	}
	if scratch != nil {
		if cap(*scratch) <= 64<<10 {
			scratchPool.Put(scratch)
		}
	}
	return err
}

// prefixedWriter is the part of *websocket.Conn that writes a text packet's
// type digit and data as one message without joining them first.
type prefixedWriter interface {
	WritePrefixed(typ websocket.MessageType, prefix byte, data []byte, compress bool) error
	TryWritePrefixed(typ websocket.MessageType, prefix byte, data []byte, compress bool) (bool, error)
}

// scratchPool holds the buffers in which a text packet is prefixed with its
// type before WriteMessage copies it (connections without WritePrefixed).
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// tryFlusher is the part of *websocket.Conn that writes without blocking.
type tryFlusher interface {
	TryFlush() bool
}

// writeInline writes a batch from the sender's goroutine, the session's
// writer being idle (s.writing was set for it): the frames are buffered and
// one non-blocking write is tried. Whatever is left (bytes the socket did not
// take, messages queued meanwhile, a close to send) goes to the writer
// goroutine, so a sender never waits for a slow peer. This saves an echo or
// an ack the start of a goroutine and a switch to it.
func (s *Session) writeInline(ws wsConn, tf tryFlusher, batch []outMsg) {
	flushed, err := tryWriteBatch(ws, tf, batch)
	clear(batch)
	if err != nil {
		s.closeWith(ReasonTransportError, err)
		return
	}
	s.afterTryWrite(flushed)
}

// afterTryWrite ends the writing of a sender or a flusher that made one
// non-blocking write: what was queued meanwhile goes to the flushers, bytes
// the socket did not take and a close to send to the writer goroutine.
func (s *Session) afterTryWrite(flushed bool) {
	s.mu.Lock()
	switch {
	case s.state == stateClosed:
		s.writing = false
	case flushed && len(s.queue) == 0 && s.state == stateOpen:
		s.writing = false
	case flushed && s.state == stateOpen:
		// Queued while this write was made: a flusher writes it.
		s.scheduleFlushLocked()
	default:
		s.unflushed = !flushed
		s.srv.goroutines.Add()
		go s.startWriter()
	}
	s.mu.Unlock()
}

// tryWriteBatch buffers batch and makes one non-blocking write, reporting
// whether everything went.
func tryWriteBatch(ws wsConn, tf tryFlusher, batch []outMsg) (bool, error) {
	if len(batch) == 1 && batch[0].prepared == nil && !batch[0].binary {
		// The commonest answer, one text packet: written straight from its
		// encoded data when the socket takes it all.
		if pw, ok := ws.(prefixedWriter); ok {
			m := &batch[0]
			return pw.TryWritePrefixed(websocket.Text, '0'+byte(m.typ), m.data, !m.noCompress)
		}
	}
	if err := writeBatch(ws, batch); err != nil {
		return false, err
	}
	return tf.TryFlush(), nil
}

// serveUpgrade takes a WebSocket request for a polling session: after the
// client's "2probe" and the server's "3probe", the client's "5" moves the
// session to the WebSocket.
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	if srv.opts.DisableUpgrades {
		srv.refuse(w, r, true, CodeBadRequest, "")
		return
	}
	if srv.opts.AllowRequest != nil {
		if err := srv.opts.AllowRequest(r); err != nil {
			srv.refuse(w, r, true, CodeForbidden, err.Error())
			return
		}
	}
	refused := s.beginUpgrade()
	conn, err := websocket.Upgrade(w, r, nil, srv.wsOptions())
	if err != nil {
		if !refused {
			s.mu.Lock()
			s.upgrading = false
			s.mu.Unlock()
		}
		return
	}
	srv.startProbe(s, conn, refused)
}

// beginUpgrade marks the session as upgrading, or reports that it refuses an
// upgrade (closed, upgraded, or an upgrade already under way).
func (s *Session) beginUpgrade() (refused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refused = s.state != stateOpen || s.transport != TransportPolling || s.upgrading || s.upgraded
	if !refused {
		s.upgrading = true
	}
	return refused
}

// startProbe runs the probe on conn, a new WebSocket for s (beginUpgrade
// said whether it is refused).
func (srv *Server) startProbe(s *Session, conn wsConn, refused bool) {
	if refused {
		// As Node does: the WebSocket opens, then closes at once; the session's
		// own transport carries on.
		conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.upgrading = false
		s.mu.Unlock()
		conn.CloseNow()
		return
	}
	s.probeWS = conn
	srv.goroutines.Add()
	s.mu.Unlock()
	go s.probeLoop(conn)
}

func (s *Session) probeLoop(conn wsConn) {
	defer s.srv.goroutines.Done()
	timer := time.AfterFunc(s.srv.opts.UpgradeTimeout, func() { conn.CloseNow() })
	abort := func() {
		timer.Stop()
		conn.CloseNow()
		s.mu.Lock()
		if s.probeWS == conn {
			s.probeWS = nil
			s.upgrading = false
			s.probed = false
		}
		s.mu.Unlock()
	}
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			abort()
			return
		}
		p, ok := decodeWS(typ, data)
		switch {
		case ok && p.Type == eiocodec.Ping && bytes.Equal(p.Data, probeData):
			// probed is set before the pong goes out, so that a GET which
			// arrives after the client has read it is known to be one
			// (servePoll: it may be overtaking the client's upgrade packet).
			s.mu.Lock()
			s.probed = true
			s.mu.Unlock()
			conn.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
			if conn.WriteMessage(websocket.Text, pongProbe) != nil || conn.Flush() != nil {
				abort()
				return
			}
			s.mu.Lock()
			s.kickLocked() // a pending GET is answered with noop
			s.mu.Unlock()
		case ok && p.Type == eiocodec.Upgrade:
			timer.Stop()
			s.mu.Lock()
			if s.state == stateClosed || s.probeWS != conn {
				s.mu.Unlock()
				conn.CloseNow()
				return
			}
			s.probeWS = nil
			s.upgrading, s.probed, s.upgraded = false, false, true
			s.transport = TransportWebSocket
			s.ws = conn
			// Wake a pending GET (it ends with noop) and flush the queue on the WebSocket.
			select {
			case s.wake <- struct{}{}:
			default:
			}
			s.kickLocked()
			onUpgrade := s.onUpgrade
			s.mu.Unlock()
			if onUpgrade != nil {
				onUpgrade(TransportWebSocket)
			}
			s.srv.goroutines.Add() // handed over to readLoop
			s.readLoop(conn)
			return
		default:
			abort()
			return
		}
	}
}

var (
	probeData = []byte("probe")
	pongProbe = []byte("3probe")
)
