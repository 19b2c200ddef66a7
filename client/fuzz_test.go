package client

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
)

// nopTransport is a transport that goes nowhere.
type nopTransport struct{}

func (nopTransport) name() string                                  { return TransportPolling }
func (nopTransport) send(context.Context, []eiocodec.Packet) error { return nil }
func (nopTransport) run(*engine) (string, error)                   { return "", nil }
func (nopTransport) close(bool)                                    {}

// fakeConnected returns a Manager whose socket "/" is connected over an
// engine that reads nothing from the network: the decoders are fed directly.
func fakeConnected(t testing.TB) (*Manager, *Socket, *engine) {
	m, err := NewManager("http://127.0.0.1:1", &Options{DisableAutoConnect: true})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Socket("/", nil)
	ctx, cancel := context.WithCancel(context.Background())
	e := &engine{
		cfg: &m.opts.engine, ctx: ctx, cancel: cancel, tr: nopTransport{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), drained: make(chan struct{}),
		hs: handshakeData{SID: "x", PingInterval: 1000, PingTimeout: 1000, MaxPayload: 1000},
	}
	e.pingTimer = time.AfterFunc(time.Hour, func() {})
	e.pingFrom, e.pingWait = time.Now(), time.Hour
	m.mu.Lock()
	m.gen, m.eng = 1, e
	m.mu.Unlock()
	s.mu.Lock()
	s.active, s.connected, s.gen, s.connectGen, s.pid = true, true, 1, 1, "pid"
	s.mu.Unlock()
	dec := m.parser.NewDecoder()
	e.onMessage = func(data []byte, binary bool) { m.onData(e, dec, data, binary) }
	s.On("ev", func(ev *Event) {
		_, _ = ev.Values()
		_ = ev.Ack(1, []byte{2})
	})
	return m, s, e
}

// fakeTest is fakeConnected for a test: the engine and the Manager are
// closed when the test ends (not gracefully: no writer runs to drain).
func fakeTest(t *testing.T) (*Manager, *Socket, *engine) {
	m, s, e := fakeConnected(t)
	t.Cleanup(func() {
		e.close("test over", nil)
		e.cancel()
		m.disp.wait(5 * time.Second)
		_ = m.Close()
	})
	return m, s, e
}

// FuzzServerPayload feeds arbitrary polling payloads (Engine.IO packets
// carrying Socket.IO packets) to a connected client: a hostile server must
// not make it panic.
func FuzzServerPayload(f *testing.F) {
	for _, seed := range []string{
		"2\x1e40{\"sid\":\"a\",\"pid\":\"p\"}",
		"42[\"ev\",1,{\"a\":[true]},\"offset\"]",
		"451-[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
		"430[1,2]\x1e431[]\x1e461-2[{\"_placeholder\":true,\"num\":0}]\x1ebAA==",
		"44{\"message\":\"no\",\"data\":{\"x\":1}}\x1e44\"old\"",
		"41\x1e1\x1e6\x1e3probe\x1e0{}",
		"4/admin,2[\"ev\"]\x1e40/admin,{\"sid\":\"b\"}",
		"b\x1e4\x1e45-[]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, s, e := fakeConnected(t)
		for id := uint64(0); id < 3; id++ {
			s.acks[id] = &pendingAck{fn: func(Args, error) {}}
		}
		_ = eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
			if !e.handle(p) {
				return errStop
			}
			return nil
		})
		// The same bytes as WebSocket frames, binary and text.
		for _, part := range bytes.Split(body, []byte{eiocodec.Separator}) {
			e.onMessage(part, len(part)%2 == 1)
		}
		e.close(reasonForcedClose, nil)
		e.cancel()
		m.disp.wait(5 * time.Second)
		_ = m.Close()
	})
}

// FuzzHandshake feeds arbitrary open packets.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte(`{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	f.Add([]byte(`{"sid":"","pingInterval":-1}`))
	f.Add([]byte(`{"sid":"a","pingInterval":1e300,"pingTimeout":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := parseHandshake(data)
		if err == nil && (hs.SID == "" || hs.PingInterval <= 0 || hs.PingTimeout <= 0 || hs.MaxPayload < 0) {
			t.Fatalf("accepted %+v", hs)
		}
	})
}

// FuzzConnectError feeds arbitrary CONNECT_ERROR payloads.
func FuzzConnectError(f *testing.F) {
	f.Add([]byte(`{"message":"no","data":{"code":1}}`))
	f.Add([]byte(`"legacy"`))
	f.Add([]byte(`{"message":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parseConnectError(data).Error()
	})
}

func TestBatchLen(t *testing.T) {
	e := &engine{tr: nopTransport{}, hs: handshakeData{MaxPayload: 10}}
	pk := func(n int) eiocodec.Packet {
		return eiocodec.Packet{Type: eiocodec.Message, Data: bytes.Repeat([]byte("a"), n)}
	}
	tests := []struct {
		sizes []int
		want  int
	}{
		{[]int{3}, 1},
		{[]int{20}, 1},         // one packet always goes
		{[]int{20, 1}, 1},      // never more than maxPayload with two
		{[]int{3, 4}, 2},       // 4 + 1 + 5 = 10
		{[]int{3, 5}, 1},       // 4 + 1 + 6 = 11
		{[]int{1, 1, 1, 1}, 3}, // 2+3+3 = 8, then 11
	}
	for _, tc := range tests {
		e.wbuf = nil
		for _, n := range tc.sizes {
			e.wbuf = append(e.wbuf, pk(n))
		}
		if got := e.batchLen(); got != tc.want {
			t.Errorf("sizes %v: %d, want %d", tc.sizes, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 1000 * time.Millisecond, jitter: 0.5}
	for i := 0; i < 20; i++ {
		base := 100 * time.Millisecond << min(i, 10)
		d := b.duration()
		lo := time.Duration(float64(base) * 0.5)
		hi := min(time.Duration(float64(base)*1.5), time.Second)
		if d < min(lo, time.Second) || d > hi {
			t.Fatalf("attempt %d: %v not in [%v, %v]", i, d, lo, hi)
		}
	}
	b = backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for i, want := range []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000} {
		if d := b.duration(); d != want*time.Millisecond {
			t.Fatalf("attempt %d: %v, want %v", i, d, want*time.Millisecond)
		}
	}
}

func TestConnectPayload(t *testing.T) {
	tests := []struct {
		auth     any
		pid, off string
		hasOff   bool
		want     string
	}{
		{nil, "", "", false, ""},
		{map[string]int{"a": 1}, "", "", false, `{"a":1}`},
		{nil, "p", "o", true, `{"pid":"p","offset":"o"}`},
		{map[string]int{"a": 1}, "p", "", false, `{"pid":"p","a":1}`},
		{struct{}{}, "p", "o", true, `{"pid":"p","offset":"o"}`},
	}
	for _, tc := range tests {
		got, err := connectPayload(tc.auth, tc.pid, tc.off, tc.hasOff)
		if err != nil || string(got) != tc.want {
			t.Errorf("%v: %s %v, want %s", tc.auth, got, err, tc.want)
		}
	}
	if _, err := connectPayload([]int{1}, "", "", false); err == nil {
		t.Error("array auth accepted")
	}
}
