package socketio_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
)

// frameCounter is a bare WebSocket client that counts the frames it
// receives without decoding them, so that the benchmark's allocations are
// the server's.
type frameCounter struct {
	nc     net.Conn
	br     *bufio.Reader
	frames atomic.Int64
}

func dialCounter(tb testing.TB, addr string) *frameCounter {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	var key [16]byte
	rand.Read(key[:])
	fmt.Fprintf(nc, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, base64.StdEncoding.EncodeToString(key[:]))
	br := bufio.NewReaderSize(nc, 32<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake: %v %v", err, resp)
	}
	// CONNECT to "/": a text frame "40", masked with a zero key.
	if _, err := nc.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil {
		tb.Fatal(err)
	}
	return &frameCounter{nc: nc, br: br}
}

// run counts frames until the connection closes.
func (f *frameCounter) run() {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(f.br, hdr[:2]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(f.br, hdr[:2]); err != nil {
				return
			}
			n = int(hdr[0])<<8 | int(hdr[1])
		case 127:
			if _, err := io.ReadFull(f.br, hdr[:8]); err != nil {
				return
			}
			n = 0
			for _, b := range hdr {
				n = n<<8 | int(b)
			}
		}
		if _, err := f.br.Discard(n); err != nil {
			return
		}
		f.frames.Add(1)
	}
}

// BenchmarkBroadcast emits one event to N connected WebSocket clients per
// iteration and waits until every client has received it. It reports the
// server's allocations per recipient (the clients allocate nothing per frame).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 1000} {
		for _, size := range []int{32, 1024} {
			b.Run(fmt.Sprintf("recipients=%d/size=%d", n, size), func(b *testing.B) {
				benchmarkBroadcast(b, n, size)
			})
		}
	}
}

func benchmarkBroadcast(b *testing.B, n, size int) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	counters := make([]*frameCounter, n)
	var wg sync.WaitGroup
	for i := range counters {
		counters[i] = dialCounter(b, addr)
		wg.Add(1)
		go func(f *frameCounter) { defer wg.Done(); f.run() }(counters[i])
	}
	defer func() {
		for _, f := range counters {
			f.nc.Close()
		}
		wg.Wait()
	}()
	// Each client has its open packet and CONNECT answer: 2 frames.
	waitFrames(b, counters, 2)
	for len(srv.Of("/").Sockets()) < n {
		time.Sleep(time.Millisecond)
	}
	payload := strings.Repeat("x", size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := srv.Emit("bcast", payload); err != nil {
			b.Fatal(err)
		}
		// At most 64 broadcasts in flight, so that no queue grows without bound.
		if i%64 == 63 {
			waitFrames(b, counters, int64(i+1-32)+2)
		}
	}
	waitFrames(b, counters, int64(b.N)+2)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	deliveries := float64(b.N) * float64(n)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/recipient")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/deliveries, "B/recipient")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/recipient")
}

func waitFrames(tb testing.TB, counters []*frameCounter, want int64) {
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range counters {
		for f.frames.Load() < want {
			if time.Now().After(deadline) {
				tb.Fatalf("a client got %d frames, want %d", f.frames.Load(), want)
			}
			runtime.Gosched()
		}
	}
}
