package engineio

import "testing"

// TestFlushersTake checks that the flushers take sessions oldest first and
// that a list which never empties (sessions added while others are taken)
// keeps its length bounded by what waits.
func TestFlushersTake(t *testing.T) {
	var f flushers
	sessions := make([]*Session, 1000)
	for i := range sessions {
		sessions[i] = &Session{id: string(rune('a' + i%26))}
	}
	next, added := 0, 0
	var chunk [flushChunk]*Session
	for ; added < 100; added++ { // a backlog that stays
		f.list = append(f.list, sessions[added])
	}
	for round := 0; round < 200; round++ {
		for k := 0; k < flushChunk; k++ { // as many added as taken: never empty
			f.list = append(f.list, sessions[added%len(sessions)])
			added++
		}
		n := f.takeLocked(chunk[:])
		for _, s := range chunk[:n] {
			if s != sessions[next%len(sessions)] {
				t.Fatalf("round %d: session %d taken out of order", round, next)
			}
			next++
		}
		if waiting := len(f.list) - f.head; waiting != added-next {
			t.Fatalf("round %d: %d waiting, want %d", round, waiting, added-next)
		}
		if len(f.list) > 2*(added-next)+2*flushChunk {
			t.Fatalf("round %d: list of %d for %d waiting", round, len(f.list), added-next)
		}
	}
	for f.takeLocked(chunk[:]) > 0 {
	}
	if len(f.list) != 0 || f.head != 0 {
		t.Fatalf("drained list: len %d, head %d", len(f.list), f.head)
	}
}
