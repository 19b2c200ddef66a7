package engineio

// Parked reports whether s waits for input in the server's poller, with no
// reader goroutine (park_linux.go).
func Parked(s *Session) bool {
	p := &s.srv.park
	p.mu.Lock()
	defer p.mu.Unlock()
	return s.parkTok != 0
}
