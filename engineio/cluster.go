package engineio

import (
	"net/http"
	"time"

	"github.com/socketio-go/socketio/internal/websocket"
)

// Cluster lets every node of a cluster serve requests for the sessions of the
// others, so that HTTP long-polling works behind a load balancer without
// sticky sessions (as @socket.io/cluster-engine does for Node). The server
// consults it only for a request naming a session it does not have. Package
// clusterengine implements it over Redis.
type Cluster interface {
	// Attach is called once by NewServer with the server: the cluster serves
	// the requests other nodes relay to this node with it (ServeHTTP for
	// polling, ServeRelayedWebSocket for a WebSocket upgrade). An error
	// fails NewServer.
	Attach(srv *Server) error
	// NewID returns the id of a session opened on this node; the other
	// nodes tell the session's owner from it. It replaces the default ids
	// (Options.GenerateID cannot be combined with a Cluster).
	NewID() (string, error)
	// Forward serves r, a request for session sid which this server does not
	// have, by relaying it to the node that has it. It returns false,
	// having written nothing, when no node has the session: the server then
	// refuses the request with code 1 ("Session ID unknown").
	Forward(w http.ResponseWriter, r *http.Request, sid string) bool
}

// Conn is a message connection standing in for a WebSocket that another node
// of a cluster accepted and relays (see ServeRelayedWebSocket). The session
// reads it from one goroutine and writes it from one other goroutine; Close
// may be called from any goroutine, more than once.
type Conn interface {
	// ReadMessage returns the next message from the client; io.EOF once
	// the connection closed.
	ReadMessage() (binary bool, data []byte, err error)
	// WriteMessage queues a message to the client. data is only valid
	// during the call.
	WriteMessage(binary bool, data []byte) error
	// Flush sends what WriteMessage queued.
	Flush() error
	// Close closes the connection (the client's WebSocket too).
	Close() error
}

// ServeRelayedWebSocket serves r, a WebSocket request upgrading one of the
// server's sessions (its sid parameter), over conn: a WebSocket that another
// node of the cluster accepted and relays. As for a direct request, the probe
// and upgrade packets move the session to conn; a request the server refuses
// has conn closed.
func (s *Server) ServeRelayedWebSocket(r *http.Request, conn Conn) {
	q := r.URL.Query()
	sess := s.Session(lastValue(q, "sid"))
	if sess == nil || lastValue(q, "transport") != TransportWebSocket || !s.opts.allows(TransportWebSocket) ||
		s.opts.DisableUpgrades {
		conn.Close()
		return
	}
	if s.opts.AllowRequest != nil && s.opts.AllowRequest(r) != nil {
		conn.Close()
		return
	}
	s.startProbe(sess, relayedWS{conn}, sess.beginUpgrade())
}

// relayedWS adapts a Conn to the session's WebSocket needs. Its write
// deadline is the Conn's business (a relay never blocks on the client).
type relayedWS struct{ c Conn }

func (w relayedWS) ReadMessage() (websocket.MessageType, []byte, error) {
	bin, data, err := w.c.ReadMessage()
	if err != nil {
		return 0, nil, err // not a *websocket.CloseError: "transport close"
	}
	if bin {
		return websocket.Binary, data, nil
	}
	return websocket.Text, data, nil
}

func (w relayedWS) WriteMessage(t websocket.MessageType, data []byte) error {
	return w.c.WriteMessage(t == websocket.Binary, data)
}

func (w relayedWS) WriteUncompressed(t websocket.MessageType, data []byte) error {
	return w.WriteMessage(t, data)
}

func (w relayedWS) WritePrepared(pm *websocket.PreparedMessage) error {
	t, data := pm.Payload()
	return w.WriteMessage(t, data)
}

func (w relayedWS) Flush() error                             { return w.c.Flush() }
func (w relayedWS) SetWriteDeadline(time.Time) error         { return nil }
func (w relayedWS) Close(websocket.StatusCode, string) error { return w.c.Close() }
func (w relayedWS) CloseNow() error                          { return w.c.Close() }
