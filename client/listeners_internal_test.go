package client

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Listeners as the JS client's emitter has them: Once runs once, Off
// removes an event's handlers, the functions returned by On and OnAny
// remove theirs, and a handler added while an event is being handled does
// not see that event (each event sees the listeners of its arrival).
func TestListenerLists(t *testing.T) {
	m, s, e := fakeTest(t)
	var mu sync.Mutex
	var got []string
	record := func(what string) func(*Event) {
		return func(ev *Event) {
			mu.Lock()
			got = append(got, what+":"+ev.Name)
			mu.Unlock()
		}
	}
	feed := func(events ...string) {
		for _, name := range events {
			e.onMessage([]byte(`2["`+name+`"]`), false) // a Socket.IO EVENT, as the engine hands it over
		}
		m.disp.wait(5 * time.Second)
	}
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}

	s.Once("a", record("once"))
	offA := s.On("a", record("on"))
	offAny := s.OnAny(record("any"))
	s.On("b", record("b1"))
	s.On("b", record("b2"))
	var late []string
	s.On("c", func(*Event) {
		s.On("c", func(ev *Event) { late = append(late, ev.Name) })
	})
	feed("a", "a", "b", "c")
	want := []string{"any:a", "once:a", "on:a", "any:a", "on:a", "any:b", "b1:b", "b2:b", "any:c"}
	if g := take(); !slices.Equal(g, want) {
		t.Errorf("first round: %q, want %q", g, want)
	}
	if len(late) != 0 {
		t.Errorf("a handler added during event c saw it: %q", late)
	}

	offA()
	offAny()
	s.Off("b")
	s.On("b", record("b3"))
	feed("a", "b", "c")
	want = []string{"b3:b"}
	if g := take(); !slices.Equal(g, want) {
		t.Errorf("second round: %q, want %q", g, want)
	}
	if len(late) != 1 {
		t.Errorf("the handler added during the first c saw %q, want one c", late)
	}
}
