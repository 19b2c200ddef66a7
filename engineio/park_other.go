//go:build !linux

package engineio

// parker parks idle WebSocket sessions in an epoll set on Linux
// (park_linux.go). Elsewhere every session keeps a reader goroutine.
type parker struct{}

// park reports that the session cannot be parked: the caller starts the
// next reader goroutine itself.
func (s *Session) park(ws wsConn, gen uint32) bool { return false }

func (p *parker) unpark(s *Session) {}

func (p *parker) stop() {}
