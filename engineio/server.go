package engineio

import (
	"time"

	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/socketio-go/socketio/internal/gotrack"
	"github.com/socketio-go/socketio/internal/websocket"
)

// ErrorCode is an Engine.IO error code, sent in the JSON body of a refused request.
type ErrorCode int

// The error codes of the Engine.IO protocol, as Node's engine.io sends them.
const (
	CodeUnknownTransport   ErrorCode = 0
	CodeUnknownSID         ErrorCode = 1
	CodeBadHandshakeMethod ErrorCode = 2
	CodeBadRequest         ErrorCode = 3
	CodeForbidden          ErrorCode = 4
	CodeUnsupportedVersion ErrorCode = 5
)

var errorMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Message returns the message Node's engine.io sends with the code.
func (c ErrorCode) Message() string {
	if c >= 0 && int(c) < len(errorMessages) {
		return errorMessages[c]
	}
	return "Unknown error"
}

// Errors returned by the server and sessions.
var (
	// ErrClosed is returned when sending on a session that is closing or closed.
	ErrClosed = errors.New("engineio: session closed")
	// ErrSlowConsumer is the close cause of a session whose queue went past MaxBufferedBytes.
	ErrSlowConsumer = errors.New("engineio: send queue full (slow consumer)")
)

// Server is an Engine.IO v4 server. It is an http.Handler serving the
// requests under Options.Path. It is safe for concurrent use.
type Server struct {
	opts Options

	onConnection func(*Session)
	onConnError  func(r *http.Request, code ErrorCode, message string)

	mu        sync.RWMutex
	sessions  map[string]*Session
	closed    bool
	listeners []*pollListener // Listener's, open (under mu)

	hasListeners atomic.Bool // Listener was called

	goroutines gotrack.Tracker
	park       parker // idle WebSocket sessions waiting without a goroutine (park_linux.go)
	flush      flushers
	hb         heartbeats
	log        *slog.Logger
}

// NewServer returns a server with the given options (nil for the defaults).
func NewServer(opts *Options) (*Server, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, sessions: make(map[string]*Session), log: o.Logger, flush: newFlushers()}
	s.hb.base = time.Now()
	startGCCount() // see keepStack
	if o.Cluster != nil {
		if err := o.Cluster.Attach(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Options returns the options in force, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// OnConnection sets the function called for every new session, before any of
// its messages is delivered: set the session's handlers there. It must be
// called before the server serves requests.
func (s *Server) OnConnection(fn func(*Session)) { s.onConnection = fn }

// OnConnectionError sets a function called for every request refused with an
// Engine.IO error code (Node's "connection_error" event). It must be called
// before the server serves requests.
func (s *Server) OnConnectionError(fn func(r *http.Request, code ErrorCode, message string)) {
	s.onConnError = fn
}

// Count returns the number of open sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Session returns the open session with the given id, or nil.
func (s *Server) Session(id string) *Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[id]
}

// ServeHTTP answers Engine.IO requests: polling GETs and POSTs, WebSocket
// upgrades, and (when CORS is on) preflight requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, s.opts.Path) && r.URL.Path+"/" != s.opts.Path {
		http.NotFound(w, r)
		return
	}
	q := parseRequestParams(r.URL.RawQuery)
	isWS := websocket.IsUpgradeRequest(r)
	if !isWS && q.transport == TransportPolling && s.hasListeners.Load() &&
		(s.opts.Cluster == nil || q.sid == "" || s.Session(q.sid) != nil) && s.takeBack(w, r) {
		return // answered by a Listener's loop, which has the connection again
	}
	if !isWS && s.opts.CORS != nil {
		if s.applyCORS(w, r) {
			return // preflight answered
		}
	}

	transport := q.transport
	if !s.opts.allows(transport) {
		s.refuse(w, r, isWS, CodeUnknownTransport, "")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !validHeaderValue(origin) {
		s.refuse(w, r, isWS, CodeBadRequest, "")
		return
	}

	if sid := q.sid; sid != "" {
		sess := s.Session(sid)
		if sess == nil {
			if s.opts.Cluster != nil && s.opts.Cluster.Forward(w, r, sid) {
				return // served by the node that has the session
			}
			s.refuse(w, r, isWS, CodeUnknownSID, "")
			return
		}
		if isWS {
			if transport != TransportWebSocket {
				s.refuse(w, r, isWS, CodeBadRequest, "")
				return
			}
			s.serveUpgrade(w, r, sess)
			return
		}
		if sess.Transport() != transport {
			s.refuse(w, r, isWS, CodeBadRequest, "")
			return
		}
		switch r.Method {
		case http.MethodGet:
			sess.servePoll(w, r)
		case http.MethodPost:
			sess.servePost(w, r)
		default:
			// Node answers other methods on an existing session with a bare 500.
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}

	// A closed server opens no session, but the sessions it is closing
	// still need their next GET to carry the close packet (Shutdown).
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet {
		s.refuse(w, r, isWS, CodeBadHandshakeMethod, "")
		return
	}
	if transport == TransportWebSocket && !isWS {
		s.refuse(w, r, isWS, CodeBadRequest, "")
		return
	}
	if transport == TransportPolling && isWS {
		// A WebSocket handshake sent with transport=polling cannot become a
		// polling session.
		s.refuse(w, r, isWS, CodeBadRequest, "")
		return
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			s.refuse(w, r, isWS, CodeForbidden, err.Error())
			return
		}
	}
	if q.eio != "4" {
		s.refuse(w, r, isWS, CodeUnsupportedVersion, "")
		return
	}
	s.handshake(w, r, transport)
}

func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	id, err := s.generateID(r)
	if err != nil || id == "" {
		s.log.Debug("engineio: id generation failed", "err", err)
		s.refuse(w, r, transport == TransportWebSocket, CodeBadRequest, "")
		return
	}
	hdr := http.Header{}
	if c := s.opts.Cookie; c != nil {
		hdr.Add("Set-Cookie", (&http.Cookie{
			Name: c.Name, Value: id, Path: c.Path, Domain: c.Domain, MaxAge: c.MaxAge,
			HttpOnly: !c.NoHTTPOnly, SameSite: c.SameSite, Secure: c.Secure,
		}).String())
	}

	var ws *websocket.Conn
	if transport == TransportWebSocket {
		ws, err = websocket.Upgrade(w, r, hdr, s.wsOptions())
		if err != nil {
			s.log.Debug("engineio: websocket handshake failed", "err", err)
			return
		}
	}

	sess := newSession(s, id, r, transport)
	s.mu.Lock()
	if s.closed || s.sessions[id] != nil {
		s.mu.Unlock()
		if ws != nil {
			ws.CloseNow()
		} else {
			s.refuse(w, r, false, CodeBadRequest, "")
		}
		return
	}
	s.sessions[id] = sess
	s.goroutines.Add() // the session itself, released when it closes
	s.mu.Unlock()
	s.log.Debug("engineio: session opened", "sid", id, "transport", transport)

	open := s.openPacket(id, transport)
	if ws != nil {
		// Queued first but written only once OnConnection has returned: a
		// client that saw the open packet could otherwise make the session
		// close (and call OnClose) before its handlers are set.
		sess.enqueue(false, outMsg{typ: 0, data: open})
	}
	if s.onConnection != nil {
		s.onConnection(sess)
	}
	// Started after OnConnection, whose handler writes the timers' goroutines
	// must see (startHeartbeat's lock orders them).
	sess.startHeartbeat()
	if ws != nil {
		sess.mu.Lock()
		if sess.state == stateClosed {
			sess.mu.Unlock()
			ws.CloseNow()
			return
		}
		sess.ws = ws
		sess.kickLocked()
		s.goroutines.Add()
		sess.mu.Unlock()
		go sess.readLoop(ws)
		return
	}
	// The handshake response carries the open packet alone, as in Node.
	if c := hdr["Set-Cookie"]; c != nil {
		w.Header()["Set-Cookie"] = c
	}
	writePollResponse(w, r, append([]byte{'0'}, open...), s, true)
}

func (s *Server) openPacket(id, transport string) []byte {
	upgrades := []string{}
	if transport == TransportPolling && !s.opts.DisableUpgrades && s.opts.allows(TransportWebSocket) {
		upgrades = append(upgrades, TransportWebSocket)
	}
	b, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{id, upgrades, s.opts.PingInterval.Milliseconds(), s.opts.PingTimeout.Milliseconds(), s.opts.MaxHTTPBufferSize})
	return b
}

func (s *Server) generateID(r *http.Request) (string, error) {
	if s.opts.GenerateID != nil {
		return s.opts.GenerateID(r)
	}
	if s.opts.Cluster != nil {
		return s.opts.Cluster.NewID()
	}
	return newID(), nil
}

// newID returns 20 URL-safe characters from 15 random bytes (120 bits), the
// shape of Node's base64id.
func newID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("engineio: crypto/rand failed: " + err.Error()) // the OS has no randomness left
	}
	return base64.URLEncoding.EncodeToString(b[:])
}

func (s *Server) wsOptions() *websocket.Options {
	return &websocket.Options{
		MaxMessageSize: s.opts.MaxHTTPBufferSize,
		Compression:    s.opts.PerMessageDeflate,
	}
}

// refuse answers a request with an Engine.IO error. A WebSocket handshake gets
// a plain 400 as in Node (the browser sees only a failed handshake).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, isWS bool, code ErrorCode, message string) {
	if message == "" {
		message = code.Message()
	}
	s.log.Debug("engineio: request refused", "code", int(code), "message", message, "url", r.URL.String())
	if s.onConnError != nil {
		s.onConnError(r, code, message)
	}
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	if isWS {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(message))
		return
	}
	body, _ := json.Marshal(struct {
		Code    ErrorCode `json:"code"`
		Message string    `json:"message"`
	}{code, message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Close closes every session at once (reason "forced close") and waits for
// their goroutines to end. The server refuses requests afterwards.
func (s *Server) Close() error {
	for _, sess := range s.markClosed() {
		sess.closeWith(ReasonForcedClose, nil)
	}
	s.goroutines.Wait(context.Background())
	s.park.stop()
	return nil
}

// Shutdown closes every session: a WebSocket session gets what was queued
// for it, then a close frame; a polling session closes at once, its pending
// poll answered with the close packet. It waits until every session's goroutines have ended,
// or until ctx is done; then it closes what is left at once and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.park.stop() // once the sessions are closed
	sessions := s.markClosed()
	for _, sess := range sessions {
		// As Node's close(true): a polling session ends at once (a pending
		// GET gets the close packet); a WebSocket is flushed, then closed.
		if sess.Transport() == TransportPolling {
			sess.closeWith(ReasonForcedClose, nil)
		} else {
			sess.Close()
		}
	}
	if err := s.goroutines.Wait(ctx); err != nil {
		for _, sess := range sessions {
			sess.closeWith(ReasonForcedClose, nil)
		}
		s.goroutines.Wait(context.Background())
		return err
	}
	return nil
}

func (s *Server) markClosed() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	out := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess)
	}
	return out
}

func (s *Server) remove(sess *Session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
}

// lastValue returns the last value of a query parameter: Node builds its
// query object with Object.fromEntries, where a repeated key keeps the last.
func lastValue(q url.Values, key string) string {
	v := q[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// validHeaderValue mirrors Node's checkInvalidHeaderChar: tabs and visible
// characters (and obs-text) only.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return false
		}
	}
	return true
}
