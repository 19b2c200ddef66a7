package client

import "testing"

// With connection state recovery (the socket has a pid), an event without
// an ack id records its last argument, a string, as the offset to resume
// from; other events leave it as it was.
func TestRecoveryOffset(t *testing.T) {
	_, s, e := fakeTest(t)
	for _, tc := range []struct {
		packet string
		want   string
	}{
		{`2["ev","a","off-1"]`, "off-1"},
		{`21["ev","b","off-ack"]`, "off-1"}, // an ack id: not a broadcast
		{`2["ev",7]`, "off-1"},              // not a string
		{`2["ev","o\"ff-2"]`, `o"ff-2`},     // escaped: decoded
		{`2["ev","caf\u00e9"]`, "café"},
	} {
		e.onMessage([]byte(tc.packet), false)
		s.mu.Lock()
		off, has := s.offset, s.hasOffset
		s.mu.Unlock()
		if !has || off != tc.want {
			t.Errorf("after %s: offset %q (recorded %v), want %q", tc.packet, off, has, tc.want)
		}
	}
}
