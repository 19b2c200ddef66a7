package socketio

// PendingAcks returns the number of acknowledgements s still waits for.
func PendingAcks(s *Socket) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}

// SetBeforeCommitHook sets a function the reader calls with a message in
// hand, before it decodes it (nil: none).
func SetBeforeCommitHook(fn func()) { testHookBeforeCommit = fn }

// SetAfterConnectReplyHook sets a function a namespace calls between a
// socket's CONNECT reply and its registration with its client (nil: none).
func SetAfterConnectReplyHook(fn func()) { testHookAfterConnectReply = fn }
