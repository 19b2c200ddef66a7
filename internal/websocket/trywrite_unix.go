//go:build unix

package websocket

import (
	"sync"
	"syscall"

	"github.com/socketio-go/socketio/internal/rawio"
)

// rawWriter makes non-blocking writes through a syscall.RawConn. Its
// callback is bound once, so that a write allocates nothing (a closure
// capturing the buffer would escape on every call); writers are pooled
// rather than kept per connection, which an idle connection would pay for.
type rawWriter struct {
	b     []byte
	n     int
	fn    func(fd uintptr) bool
	frame [maxHeaderLen + 1 + directMax]byte // for tryWriteJoined
}

// directMax is the largest payload TryWritePrefixed writes from a pooled
// writer's own array rather than the connection's write buffer.
const directMax = 500

var rawWriters = sync.Pool{New: func() any {
	w := &rawWriter{}
	w.fn = w.write
	return w
}}

// tryWrite makes non-blocking writes of b on rc until the socket would
// block and returns how many bytes it took; a failure is left for a
// blocking write to report.
func tryWrite(rc syscall.RawConn, b []byte) int { return rawio.TryWrite(rc, b) }

// tryWriteJoined is tryWrite of hdr followed by data (at most
// maxHeaderLen+1 and directMax bytes), joined in the writer's array.
func tryWriteJoined(rc syscall.RawConn, hdr, data []byte) int {
	w := rawWriters.Get().(*rawWriter)
	n := copy(w.frame[:], hdr)
	n += copy(w.frame[n:], data)
	w.b, w.n = w.frame[:n], 0
	err := rc.Write(w.fn)
	n = w.n
	w.b = nil
	rawWriters.Put(w)
	if err != nil {
		return 0
	}
	return n
}

func (w *rawWriter) write(fd uintptr) bool {
	w.n = rawio.WriteOnce(fd, w.b) // see internal/rawio
	return true                    // never wait for the socket to become writable
}
