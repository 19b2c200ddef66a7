//go:build unix

package websocket

import "syscall"

// tryWrite makes one non-blocking write of b on rc and returns how many
// bytes the socket took; any failure (including EAGAIN) counts as 0 and is
// left for a blocking write to report.
func tryWrite(rc syscall.RawConn, b []byte) int {
	var n int
	err := rc.Write(func(fd uintptr) bool {
		var err error
		n, err = syscall.Write(int(fd), b)
		if err != nil || n < 0 {
			n = 0
		}
		return true // never wait for the socket to become writable
	})
	if err != nil {
		return 0
	}
	return n
}
