package engineio

import (
	"testing"
	"unsafe"
)

// depthWaiter records where on the stack WaitReadable was called.
type depthWaiter struct{ at uintptr }

//go:noinline
func (d *depthWaiter) WaitReadable() {
	var x byte
	d.at = uintptr(unsafe.Pointer(&x))
}

func (d *depthWaiter) Buffered() int { return 0 }

// A busy reader waits at least keepStackBytes deeper than its caller, so
// that the garbage collector, which halves a stack using less than a
// quarter of it, leaves the 8 KiB an echo grows alone.
func TestWaitKeepingStackDepth(t *testing.T) {
	var top byte
	d := &depthWaiter{}
	waitKeepingStack(d, 0)
	// Read after the call: the stack may have moved while it grew.
	depth := uintptr(unsafe.Pointer(&top)) - d.at
	if depth < keepStackBytes {
		t.Fatalf("waited %d bytes below the caller, want at least %d", depth, keepStackBytes)
	}
	// With the frame's guard, more than a quarter of an 8 KiB stack.
	const guard = 800
	if depth+guard < 8<<10/4 {
		t.Fatalf("waited %d bytes deep: an 8 KiB stack would still shrink", depth)
	}
}
