package main

import (
	"math"
	"reflect"
	"testing"
)

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for round, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotate(xs, round); !reflect.DeepEqual(got, want) {
			t.Errorf("round %d: %v, want %v", round, got, want)
		}
	}
	if !reflect.DeepEqual(xs, []string{"a", "b", "c"}) {
		t.Errorf("rotate changed its argument: %v", xs)
	}
	if got := rotate([]int(nil), 3); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}

// The machine slows down between rounds: the ratio of the medians is off,
// the median of the per-round ratios is not.
func TestPairedRatio(t *testing.T) {
	runs := func(rates ...float64) *measure {
		m := &measure{}
		for _, r := range rates {
			m.Runs = append(m.Runs, &result{Messages: uint64(r), ServerCPU: 1})
		}
		return m
	}
	// Per round 0.5, 4, 4: the median of the per-round ratios is 4, the
	// ratio of the medians 1000/500 = 2.
	ours := runs(500, 2000, 1000)
	base := runs(1000, 500, 250)
	if got := pairedRatio(ours, base, perServerCPU); math.Abs(got-4) > 1e-9 {
		t.Errorf("paired: %v, want 4", got)
	}
	// Steady per-round ratio of 3 under any drift.
	ours, base = runs(300, 3000, 30), runs(100, 1000, 10)
	if got := pairedRatio(ours, base, perServerCPU); math.Abs(got-3) > 1e-9 {
		t.Errorf("steady: %v, want 3", got)
	}
	// Unpaired (different run counts): the ratio of the medians.
	ours, base = runs(300, 600), runs(100, 200, 300)
	if got := pairedRatio(ours, base, perServerCPU); math.Abs(got-450.0/200) > 1e-9 {
		t.Errorf("unpaired: %v, want 2.25", got)
	}
	// A round without figures for the base falls back too.
	ours, base = runs(300, 600, 900), runs(100, 0, 300)
	if got := pairedRatio(ours, base, perServerCPU); math.Abs(got-600.0/100) > 1e-9 {
		t.Errorf("with an empty round: %v, want 6", got)
	}
}
