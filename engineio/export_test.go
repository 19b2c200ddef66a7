package engineio

import (
	"net"
	"net/http"
)

// Test hooks for the external tests: they let a test wait until the server
// has really taken a request, instead of sleeping and hoping.

// PollPending reports whether a polling GET is being served for s.
func PollPending(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getActive
}

// PostPending reports whether a polling POST is being served for s.
func PostPending(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.postActive
}

// Upgrading reports whether a WebSocket is being probed for s.
func Upgrading(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upgrading || s.probeWS != nil
}

// ParsePollHead parses a request head as the polling loop of srv's Listener
// does; ok is false when the loop would hand the request to net/http.
func ParsePollHead(srv *Server, head []byte) (r *http.Request, closeAfter, ok bool) {
	pc := &pollConn{l: &pollListener{srv: srv}}
	return pc.parse(head)
}

// ListenerCounts returns how many requests the polling loop of a Listener
// answered, how many connections it handed over and how many it took back.
func ListenerCounts(ln net.Listener) (served, handed, taken int64) {
	l := ln.(*pollListener)
	return l.nServed.Load(), l.nHanded.Load(), l.nTaken.Load()
}
