package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
)

// benchServer is our server with the handlers sio bench expects.
func benchServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			var v string
			_ = e.Args.Decode(0, &v)
			if e.WantsAck() {
				_ = e.Ack(v)
				return
			}
			_ = s.Emit("echo", v)
		})
		socketio.OnWithAck(s, "join", func(s *socketio.Socket, room string) bool { s.Join(room); return true })
		socketio.On(s, "bcast", func(s *socketio.Socket, v string) { _ = srv.Emit("bcast", v) })
		socketio.On(s, "bcastroom", func(s *socketio.Socket, v string) { _ = srv.To("bench").Emit("bcast", v) })
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return hs
}

// TestBench runs every mode briefly against our server: a smoke test, with
// no assertion on the figures beyond "something was measured".
func TestBench(t *testing.T) {
	hs := benchServer(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"echo", []string{"-mode", "echo", "-c", "4", "-inflight", "2"}},
		{"ack", []string{"-mode", "ack", "-c", "4", "-inflight", "4", "-size", "1024"}},
		{"broadcast", []string{"-mode", "broadcast", "-c", "5", "-inflight", "2"}},
		{"room", []string{"-mode", "broadcast", "-c", "5", "-room", "2"}},
		{"pace own", []string{"-mode", "broadcast", "-c", "5", "-inflight", "2", "-pace", "own"}},
		{"room pace own", []string{"-mode", "broadcast", "-c", "5", "-room", "2", "-pace", "own"}},
		// The emitter on "another node": here the same server, a cluster of one.
		{"emit-url", []string{"-mode", "broadcast", "-c", "5", "-inflight", "2", "-emit-url", hs.URL}},
		{"idle", []string{"-mode", "idle", "-c", "3"}},
		{"storm", []string{"-mode", "storm", "-c", "2", "-cycles", "20"}},
		{"polling", []string{"-mode", "echo", "-transport", "polling", "-c", "2", "-rate", "50"}},
		{"lib", []string{"-client", "lib", "-mode", "echo", "-c", "2", "-inflight", "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb syncBuffer
			args := append([]string{"bench", "-json", "-quiet", "-duration", "300ms", "-warmup", "50ms"}, tc.args...)
			args = append(args, hs.URL)
			if code := run(context.Background(), args, &out, &errb); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var res benchResult
			if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if res.Errors != 0 {
				t.Errorf("%d errors: %s", res.Errors, errb.String())
			}
			if tc.name != "idle" && res.Messages == 0 {
				t.Errorf("nothing measured: %+v", res)
			}
		})
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "-mode", "nope", "http://127.0.0.1:1"},
		{"bench", "-transport", "polling", "-mode", "ack", "http://127.0.0.1:1"},
		{"bench", "-client", "lib", "-mode", "ack", "http://127.0.0.1:1"},
		{"bench", "-room", "5", "-c", "2", "-mode", "broadcast", "http://127.0.0.1:1"},
		{"bench", "-emit-url", "http://127.0.0.1:2", "-mode", "echo", "http://127.0.0.1:1"},
		{"bench", "-emit-url", "http://127.0.0.1:2", "-room", "1", "-c", "2", "-mode", "broadcast", "http://127.0.0.1:1"},
		{"bench", "-emit-url", "::", "-mode", "broadcast", "http://127.0.0.1:1"},
	} {
		var out, errb syncBuffer
		if code := run(context.Background(), args, &out, &errb); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(timeMicro(i))
	}
	for _, tc := range []struct {
		q    float64
		want int
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}} {
		got := h.quantile(tc.q)
		lo, hi := timeMicro(tc.want), timeMicro(tc.want)*104/100
		if got < lo || got > hi {
			t.Errorf("quantile(%v) = %v, want %v within 4%%", tc.q, got, lo)
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		if i := histIndex(v); histLow(i) > v || histLow(i+1) <= v {
			t.Fatalf("value %d in bucket %d [%d, %d)", v, i, histLow(i), histLow(i+1))
		}
	}
}

// Connections record into shards in turn; the totals and the merged
// histogram hold every message, those of the window apart.
func TestRecordShards(t *testing.T) {
	r := &benchRun{}
	const conns, each = 50, 20
	var wg sync.WaitGroup
	record := func() {
		for c := 0; c < conns; c++ {
			wg.Add(1)
			go func(s *histShard) {
				defer wg.Done()
				for i := 1; i <= each; i++ {
					r.count(s, timeMicro(i))
				}
			}(r.newHist())
		}
		wg.Wait()
	}
	record() // warm-up: counted in the total only
	r.measuring.Store(true)
	record()
	total, counted := r.totals()
	if total != 2*conns*each || counted != conns*each {
		t.Fatalf("totals %d, %d; want %d, %d", total, counted, 2*conns*each, conns*each)
	}
	var h histogram
	used := 0
	for i := range r.shards {
		h.merge(&r.shards[i].h)
		if r.shards[i].total > 0 {
			used++
		}
	}
	if h.n != conns*each || h.max != timeMicro(each) {
		t.Errorf("merged histogram: %d values, max %v", h.n, h.max)
	}
	if used != recordShards {
		t.Errorf("%d shards used, want all %d", used, recordShards)
	}
}

func timeMicro(n int) time.Duration { return time.Duration(n) * time.Microsecond }

// With -pace all, the emitter gets a token when the last receiver has a
// broadcast, and only then; slots are reused.
func TestDeliveries(t *testing.T) {
	d := newDeliveries(3, 2) // 3 receivers, 2 in flight: 3 slots
	tokens := func() int { return len(d.done) }
	for k := uint64(0); k < 10; k++ {
		d.got(k)
		d.got(k)
		if tokens() != 0 {
			t.Fatalf("broadcast %d: a token before the last receiver", k)
		}
		d.got(k)
		if tokens() != 1 {
			t.Fatalf("broadcast %d: %d tokens after the last receiver, want 1", k, tokens())
		}
		<-d.done
	}
	// Receivers at different points: broadcast 10 completes only when the
	// slowest has it, after 11 is partly delivered.
	d.got(10)
	d.got(11)
	d.got(10)
	d.got(11)
	if tokens() != 0 {
		t.Fatal("early token")
	}
	d.got(10)
	d.got(11)
	if tokens() != 2 {
		t.Fatalf("%d tokens, want 2", tokens())
	}
}

// TestProcTimes checks that procTimes tells user time from system time: a
// busy loop raises the first, system calls the second.
func TestProcTimes(t *testing.T) {
	pid := os.Getpid()
	u0, s0 := procTimes(pid)
	if u0 <= 0 {
		t.Skipf("no /proc/%d/stat here (user %v)", pid, u0)
	}
	x := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1_000_000; i++ {
			x += i ^ x
		}
		if u, _ := procTimes(pid); u-u0 >= 0.05 {
			break
		}
	}
	u1, s1 := procTimes(pid)
	if u1-u0 < 0.05 {
		t.Errorf("user time rose by %.2fs in a 2 s busy loop (%d)", u1-u0, x)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf [1]byte
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 10_000; i++ {
			_, _ = f.ReadAt(buf[:], 0) // a pread64 per call
		}
		if _, s := procTimes(pid); s-s1 >= 0.05 {
			break
		}
	}
	if _, s2 := procTimes(pid); s2-s1 < 0.05 {
		t.Errorf("system time rose by %.2fs in 2 s of system calls", s2-s1)
	}
	if s1 < s0 || procCPU(pid) < u1+s1 {
		t.Errorf("times went back: user %v -> %v, sys %v -> %v, total now %v", u0, u1, s0, s1, procCPU(pid))
	}
	if u, s := procTimes(0); u != 0 || s != 0 {
		t.Errorf("pid 0: %v %v, want 0 0", u, s)
	}
}

// TestBenchServerCPU measures the test process itself as the server: the
// server's CPU time and its kernel part are reported and consistent.
func TestBenchServerCPU(t *testing.T) {
	hs := benchServer(t)
	var out, errb syncBuffer
	args := []string{"bench", "-json", "-quiet", "-duration", "500ms", "-warmup", "50ms", "-mode", "echo", "-c", "4", "-inflight", "4", "-pid", strconv.Itoa(os.Getpid()), hs.URL}
	if code := run(context.Background(), args, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res benchResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if res.ServerCPU <= 0 {
		t.Skipf("no server CPU read (no /proc here?): %+v", res)
	}
	if res.ServerSys < 0 || res.ServerSys > res.ServerCPU {
		t.Errorf("server CPU %.2fs, of which %.2fs in the kernel", res.ServerCPU, res.ServerSys)
	}
	if txt := res.text(); !strings.Contains(txt, "in the kernel") {
		t.Errorf("the text result does not give the kernel's part:\n%s", txt)
	}
}
