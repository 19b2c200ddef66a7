package engineio

import (
	"math/rand"
	"testing"
	"time"
)

// testHeartbeats returns a scheduler whose timer fires a no-op (Reset keeps
// AfterFunc's function): the tests call popDue themselves.
func testHeartbeats() *heartbeats {
	hb := &heartbeats{base: time.Now()}
	hb.timer = time.AfterFunc(time.Hour, func() {})
	return hb
}

// checkHeap verifies the heap order and every session's recorded place.
func checkHeap(t *testing.T, hb *heartbeats, in map[*Session]bool) {
	t.Helper()
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if len(hb.heap) != len(in) {
		t.Fatalf("heap holds %d sessions, want %d", len(hb.heap), len(in))
	}
	for i, s := range hb.heap {
		if !in[s] {
			t.Fatalf("heap[%d]: a session that was cancelled or never scheduled", i)
		}
		if s.hbIdx != i+1 {
			t.Fatalf("heap[%d].hbIdx = %d", i, s.hbIdx)
		}
		if i > 0 && hb.heap[(i-1)/2].hbDue > s.hbDue {
			t.Fatalf("heap order broken at %d", i)
		}
	}
	for s, ok := range in {
		if ok && (s.hbIdx == 0 || hb.heap[s.hbIdx-1] != s) {
			t.Fatal("a scheduled session is not at its recorded place")
		}
	}
}

// The deadline heap stays ordered and consistent through schedules,
// reschedules and cancellations in any order, and lets go of everything.
func TestHeartbeatHeap(t *testing.T) {
	hb := testHeartbeats()
	rng := rand.New(rand.NewSource(1))
	sessions := make([]*Session, 300)
	for i := range sessions {
		sessions[i] = &Session{}
	}
	in := map[*Session]bool{}
	for op := 0; op < 5000; op++ {
		s := sessions[rng.Intn(len(sessions))]
		if rng.Intn(3) == 0 {
			hb.cancel(s)
			delete(in, s)
		} else {
			// Far in the future: the timer must not fire during the test.
			hb.schedule(s, 1, time.Hour+time.Duration(rng.Intn(1e6))*time.Millisecond)
			in[s] = true
		}
		if op%97 == 0 {
			checkHeap(t, hb, in)
		}
	}
	checkHeap(t, hb, in)
	for _, s := range sessions {
		hb.cancel(s)
		delete(in, s)
	}
	checkHeap(t, hb, in)
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.timerDue != 0 || len(hb.heap) != 0 {
		t.Fatalf("empty heap: timer due %d, %d entries", hb.timerDue, len(hb.heap))
	}
	if cap(hb.heap) > 256 {
		t.Errorf("the heap keeps a capacity of %d after emptying", cap(hb.heap))
	}
}

// Deadlines come out earliest first, only once due, each once.
func TestHeartbeatPopDue(t *testing.T) {
	hb := testHeartbeats()
	rng := rand.New(rand.NewSource(2))
	const n = 200
	for i := 0; i < n; i++ {
		// Half already due (in the past), half an hour away.
		d := -time.Duration(rng.Intn(1000)) * time.Millisecond
		if i%2 == 1 {
			d = time.Hour + time.Duration(rng.Intn(1000))*time.Millisecond
		}
		hb.schedule(&Session{}, uint32(i), d)
	}
	due := hb.popDue()
	if len(due) != n/2 {
		t.Fatalf("%d sessions due, want %d", len(due), n/2)
	}
	for i, d := range due {
		if d.gen%2 != 0 {
			t.Fatalf("a session not yet due came out (generation %d)", d.gen)
		}
		if i > 0 && d.s.hbDue < due[i-1].s.hbDue {
			t.Fatalf("out of order at %d", i)
		}
		if d.s.hbIdx != 0 {
			t.Fatal("a popped session still has a place in the heap")
		}
	}
	if again := hb.popDue(); len(again) != 0 {
		t.Fatalf("%d more came out at once", len(again))
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if len(hb.heap) != n/2 || hb.timerDue != hb.heap[0].hbDue {
		t.Fatalf("%d left, timer due %d, next deadline %d", len(hb.heap), hb.timerDue, hb.heap[0].hbDue)
	}
}
