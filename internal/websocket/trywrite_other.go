//go:build !unix

package websocket

import "syscall"

// rawWriter never writes here: TryFlush leaves everything to Flush.
type rawWriter struct{}

func newRawWriter(syscall.RawConn) *rawWriter { return &rawWriter{} }

func (*rawWriter) tryWrite([]byte) int { return 0 }
