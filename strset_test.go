package socketio

import (
	"fmt"
	"slices"
	"testing"
)

// TestStrSet checks the set through its change from a slice to a map.
func TestStrSet(t *testing.T) {
	for _, n := range []int{1, strSetSliceMax, strSetSliceMax + 1, 3 * strSetSliceMax} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var s strSet
			want := map[string]bool{}
			for i := 0; i < n; i++ {
				v := fmt.Sprint("r", i)
				s = s.add(v).add(v) // adding twice keeps one
				want[v] = true
			}
			for i := 0; i < n; i += 2 {
				v := fmt.Sprint("r", i)
				s = s.del(v).del(v)
				delete(want, v)
			}
			s = s.del("absent")
			var got []string
			got = append(got, s.few...)
			for v := range s.many {
				got = append(got, v)
			}
			if s.len() != len(want) || len(got) != len(want) {
				t.Fatalf("len %d, %d elements, want %d", s.len(), len(got), len(want))
			}
			for _, v := range got {
				if !want[v] {
					t.Fatalf("unexpected %q in %v", v, got)
				}
			}
			slices.Sort(got)
			if len(slices.Compact(got)) != len(want) {
				t.Fatalf("duplicates in %v", got)
			}
		})
	}
}
