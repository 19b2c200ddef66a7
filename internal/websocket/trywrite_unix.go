//go:build unix

package websocket

import "syscall"

// rawWriter makes non-blocking writes through a syscall.RawConn. Its
// callback is bound once per connection, so that a write allocates nothing
// (a closure capturing the buffer would escape on every call).
type rawWriter struct {
	rc syscall.RawConn
	b  []byte
	n  int
	fn func(fd uintptr) bool
}

func newRawWriter(rc syscall.RawConn) *rawWriter {
	w := &rawWriter{rc: rc}
	w.fn = w.write
	return w
}

func (w *rawWriter) write(fd uintptr) bool {
	n, err := syscall.Write(int(fd), w.b)
	if err != nil || n < 0 {
		n = 0
	}
	w.n = n
	return true // never wait for the socket to become writable
}

// tryWrite makes one non-blocking write of b and returns how many bytes the
// socket took; any failure (including EAGAIN) counts as 0 and is left for a
// blocking write to report. Callers serialise it (Conn.wmu).
func (w *rawWriter) tryWrite(b []byte) int {
	w.b, w.n = b, 0
	err := w.rc.Write(w.fn)
	w.b = nil
	if err != nil {
		return 0
	}
	return w.n
}
