package socketio

// PendingAcks returns the number of acknowledgements s still waits for.
func PendingAcks(s *Socket) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}
