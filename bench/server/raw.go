package main

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/socketio-go/socketio/internal/websocket"
)

// rawServer speaks just enough of Engine.IO and Socket.IO over a bare
// WebSocket for sio bench: a constant open packet, a constant CONNECT
// answer, echoes that send the received frame back unchanged, acks made by
// slicing bytes, and broadcasts that write one prepared frame to each
// connection in the emitter's goroutine. No JSON is parsed, nothing is
// queued: it is the ceiling a Socket.IO server on this library can approach.
type rawServer struct {
	mu    sync.RWMutex
	conns map[*websocket.Conn]bool // value: in the room "bench"
	next  atomic.Uint64
}

func newRawServer() *rawServer { return &rawServer{conns: make(map[*websocket.Conn]bool)} }

var (
	openPacket  = []byte(`0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	echoPrefix  = []byte(`2["echo",`)
	joinPrefix  = []byte(`["join",`)
	bcastPrefix = []byte(`2["bcast",`)
	roomPrefix  = []byte(`2["bcastroom",`)
)

func (s *rawServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Upgrade(w, r, nil, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	if ws.WriteMessage(websocket.Text, openPacket) != nil || ws.Flush() != nil {
		return
	}
	s.mu.Lock()
	s.conns[ws] = false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, ws)
		s.mu.Unlock()
	}()
	var out []byte
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if len(data) < 2 || data[0] != '4' {
			continue // pongs and the like
		}
		sio := data[1:]
		switch {
		case sio[0] == '0': // CONNECT
			out = append(out[:0], `40{"sid":"`...)
			out = strconv.AppendUint(out, s.next.Add(1), 36)
			out = append(out, `"}`...)
			err = ws.WriteMessage(websocket.Text, out)
		case bytes.HasPrefix(sio, echoPrefix):
			err = ws.WriteMessage(websocket.Text, data)
		case bytes.HasPrefix(sio, bcastPrefix):
			s.broadcast(data, false)
		case bytes.HasPrefix(sio, roomPrefix):
			s.broadcast(data, true)
		case sio[0] == '2': // an event with an ack id: 2<id>["name",arg]
			i := bytes.IndexByte(sio, '[')
			if i < 0 {
				continue
			}
			id, rest := sio[1:i], sio[i:]
			out = append(append(out[:0], "43"...), id...)
			switch {
			case bytes.HasPrefix(rest, joinPrefix):
				s.mu.Lock()
				s.conns[ws] = true
				s.mu.Unlock()
				out = append(out, "[true]"...)
			default: // echo: the arguments after the name
				j := bytes.IndexByte(rest, ',')
				if j < 0 {
					continue
				}
				out = append(append(out, '['), rest[j+1:]...)
			}
			err = ws.WriteMessage(websocket.Text, out)
		}
		if err != nil {
			return
		}
		if ws.Buffered() == 0 && ws.Flush() != nil {
			return
		}
	}
}

func (s *rawServer) broadcast(frame []byte, room bool) {
	pm := websocket.NewUncompressedPreparedMessage(websocket.Text, bytes.Clone(frame))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c, inRoom := range s.conns {
		if room && !inRoom {
			continue
		}
		if c.WritePrepared(pm) == nil {
			_ = c.Flush()
		}
	}
}
