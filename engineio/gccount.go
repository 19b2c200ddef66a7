package engineio

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// gcCycles counts the garbage collections since the first server was made,
// give or take one: a sentinel object's finalizer adds one after each
// collection that found it unreachable, and makes the next sentinel. A
// WebSocket reader reads it once per burst (readFrom) to tell a busy
// connection, whose stack is worth keeping through a collection, from a
// quiet one, whose stack the collection may shrink.
var gcCycles atomic.Uint32

var gcCountOnce sync.Once

// startGCCount starts counting collections (once per process). The
// finalizer runs on the runtime's finalizer goroutine; no goroutine of
// ours is involved.
func startGCCount() { gcCountOnce.Do(armGCSentinel) }

// gcSentinel holds a pointer so that it is not batched with other small
// objects by the tiny allocator (whose objects may never be finalized).
type gcSentinel struct{ _ *byte }

func armGCSentinel() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		gcCycles.Add(1)
		armGCSentinel()
	})
}

// keepStack reports whether a reader whose previous burst ended at
// collection count prev, and whose latest one at now, is busy enough to
// wait in waitKeepingStack: it had a burst in this collection cycle or the
// one before. A quieter reader waits shallow, so that a collection can
// halve the stack its burst grew: the memory is its own until the next
// burst, which is then worth growing the stack again for.
func keepStack(prev, now uint32) bool { return now-prev <= 1 }
