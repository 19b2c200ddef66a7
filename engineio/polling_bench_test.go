package engineio_test

import "testing"

// BenchmarkPollingEcho is one long-polling echo over loopback: a POST with
// one message, then the GET that carries its echo back. The allocations
// reported are the client's and the server's together (net/http on both
// sides); compare them between revisions, not with other benchmarks.
func BenchmarkPollingEcho(b *testing.B) {
	h := newHarness(b, nil, harnessConfig{})
	sid, _ := h.handshake()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := h.post(sid, "4hello"); r.status != 200 {
			b.Fatalf("POST %d %q", r.status, r.body)
		}
		if r := h.get(sid); r.body != "4hello" {
			b.Fatalf("GET %q", r.body)
		}
	}
}
