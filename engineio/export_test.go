package engineio

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
