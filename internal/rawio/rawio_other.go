//go:build !unix

package rawio

import (
	"errors"
	"syscall"
)

// Supported reports whether this system has raw socket calls.
const Supported = false

var errUnsupported = errors.New("rawio: not supported on this system")

// Read is not available here: callers check Supported first.
func Read(syscall.RawConn, []byte) (int, error) { return 0, errUnsupported }

// Write is not available here: callers check Supported first.
func Write(syscall.RawConn, []byte) (int, error) { return 0, errUnsupported }

// TryWrite is not available here: it writes nothing.
func TryWrite(syscall.RawConn, []byte) int { return 0 }

// WriteOnce is not available here: it writes nothing.
func WriteOnce(uintptr, []byte) int { return 0 }
