//go:build !race

package parser_test

import (
	"runtime"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

// TestDecodedPacketSizes checks what the decoder allocates per packet: an
// event costs one allocation (its packet, with room for the split of up to
// four elements), and a CONNECT, which every connection sends, a smaller
// one without that room (a larger size class left fragmented spans behind
// in the heap of a server full of idle connections).
func TestDecodedPacketSizes(t *testing.T) {
	d := parser.NewJSONParser(nil).NewDecoder()
	perDecode := func(msg string) (allocs, bytes float64) {
		data := []byte(msg)
		const n = 1000
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			p, err := d.Add(data, false)
			if err != nil || p == nil {
				t.Fatalf("%s: %v", msg, err)
			}
			if p.Type == parser.Event {
				if _, err := p.Args(); err != nil {
					t.Fatal(err)
				}
			}
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / n, float64(after.TotalAlloc-before.TotalAlloc) / n
	}
	if allocs, size := perDecode(`2["echo","hello",1,true]`); allocs > 1.01 || size > 256 {
		t.Errorf("event: %.2f allocations, %.0f bytes per decode; want 1 of at most 256", allocs, size)
	}
	if allocs, size := perDecode(`0{"token":"abc"}`); allocs > 1.01 || size > 160 {
		t.Errorf("CONNECT: %.2f allocations, %.0f bytes per decode; want 1 of at most 160", allocs, size)
	}
}

// A plain string argument decodes with one allocation, its own bytes,
// through DecodeString and DecodeAs[string]; Decode into a *string costs a
// second one, the variable it fills escaping through the interface.
func TestDecodeStringAllocations(t *testing.T) {
	p, err := parser.NewJSONParser(nil).NewDecoder().Add([]byte(`2["ev","plain text"]`), false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	var sink string
	for name, f := range map[string]func(){
		"DecodeString":     func() { sink, _ = a.DecodeString(1) },
		"DecodeAs[string]": func() { sink, _ = parser.DecodeAs[string](a, 1) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 1 {
			t.Errorf("%s: %v allocations, want 1", name, n)
		}
	}
	if sink != "plain text" {
		t.Errorf("decoded %q", sink)
	}
}
