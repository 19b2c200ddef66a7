package engineio

import (
	"runtime"
	"testing"
	"time"
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

// The collection count moves with the garbage collector: a reader can tell
// a burst per cycle (busy) from rarer ones.
func TestGCCyclesCount(t *testing.T) {
	startGCCount()
	before := gcCycles.Load()
	// The finalizer runs after the collection, on its own goroutine.
	deadline := time.Now().Add(10 * time.Second)
	for gcCycles.Load()-before < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("collection count stayed at %d after forced collections", gcCycles.Load()-before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

func TestKeepStack(t *testing.T) {
	for _, c := range []struct {
		prev, now uint32
		want      bool
	}{
		{5, 5, true},               // two bursts in one cycle
		{5, 6, true},               // in consecutive cycles
		{5, 7, false},              // a whole cycle without a burst
		{^uint32(0), 0, true},      // across the counter's wrap
		{^uint32(0) - 1, 0, false}, // a reader's first burst (readFrom)
		{^uint32(0) - 1, 1, false}, // across the wrap, three cycles apart
	} {
		if got := keepStack(c.prev, c.now); got != c.want {
			t.Errorf("keepStack(%d, %d) = %v, want %v", c.prev, c.now, got, c.want)
		}
	}
}
