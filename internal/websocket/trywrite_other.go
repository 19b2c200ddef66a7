//go:build !unix

package websocket

import "syscall"

// tryWrite never writes here: TryFlush leaves everything to Flush.
func tryWrite(syscall.RawConn, []byte) int { return 0 }

// directMax bounds what TryWritePrefixed writes without the write buffer.
const directMax = 500

// tryWriteJoined never writes here either.
func tryWriteJoined(syscall.RawConn, []byte, []byte) int { return 0 }
