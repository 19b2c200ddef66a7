package engineio

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/internal/websocket"
)

var errUpgradeRefused = errors.New("engineio: upgrade refused")

// readLoop reads the session's WebSocket until it fails or the session closes.
func (s *Session) readLoop(ws wsConn) {
	defer s.srv.goroutines.Done()
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
			return
		}
		p, ok := decodeWS(typ, data)
		if !ok {
			s.closeWith(ReasonParseError, eiocodec.ErrInvalidPacket)
			return
		}
		if !s.handlePacket(p) {
			return
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
	var scratch []byte
	for {
		s.mu.Lock()
		ws := s.ws
		if s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 0 {
			s.writing = false
			closing := s.state == stateClosing
			s.mu.Unlock()
			if closing {
				ws.Close(websocket.StatusNormalClosure, "")
				s.closeWith(ReasonForcedClose, nil)
			}
			return
		}
		batch := s.takeQueueLocked()
		s.mu.Unlock()

		ws.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
		var err error
		for i := range batch {
			m := &batch[i]
			switch {
			case m.prepared != nil:
				err = ws.WritePrepared(m.prepared.ws())
			default:
				write := ws.WriteMessage
				if m.noCompress {
					write = ws.WriteUncompressed
				}
				if m.binary {
					err = write(websocket.Binary, m.data)
				} else {
					scratch = append(append(scratch[:0], '0'+byte(m.typ)), m.data...)
					err = write(websocket.Text, scratch)
				}
			}
			if err != nil {
				break
			}
		}
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
			conn.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
			if conn.WriteMessage(websocket.Text, pongProbe) != nil || conn.Flush() != nil {
				abort()
				return
			}
			s.mu.Lock()
			s.probed = true
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
