package client

import (
	"testing"
	"time"
)

// An emit after the heartbeat's deadline, whose timer has not fired (late,
// as after the machine slept), closes the engine with "ping timeout" and
// buffers the packet for the next connection, as the JS client does; before
// the deadline the packet goes out.
func TestEmitAfterPingDeadline(t *testing.T) {
	for _, late := range []bool{false, true} {
		_, s, e := fakeTest(t)
		if late {
			e.mu.Lock()
			e.pingFrom = time.Now().Add(-2 * e.pingWait)
			e.mu.Unlock()
		}
		if err := s.Emit("x", 1); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		buffered := len(s.sendBuffer)
		s.mu.Unlock()
		e.mu.Lock()
		closed, reason := e.closed, e.reason
		e.mu.Unlock()
		if late && (buffered != 1 || !closed || reason != reasonPingTimeout) {
			t.Errorf("late: buffered %d, engine closed %v (%q); want 1, closed with %q", buffered, closed, reason, reasonPingTimeout)
		}
		if !late && (buffered != 0 || closed) {
			t.Errorf("in time: buffered %d, engine closed %v (%q); want 0, open", buffered, closed, reason)
		}
	}
}
