// Command server is a server under test for the benchmark harness
// (bench/run): our Socket.IO server, or, with -mode raw, a bare WebSocket
// server built on the same WebSocket library (internal/websocket), the
// ceiling for what any Socket.IO server could do on this machine.
//
// Both answer the events that sio bench sends (echo, join, bcast,
// bcastroom) and serve /stats: JSON with the heap (HeapInuse+StackInuse),
// the goroutines and the RSS after a forced GC.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	socketio "github.com/socketio-go/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: any; the address is printed on stdout)")
	mode := flag.String("mode", "sio", "sio (our Socket.IO server) or raw (a bare WebSocket server)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGTERM")
	flag.Parse()

	var h http.Handler
	switch *mode {
	case "sio":
		h = sioServer()
	case "raw":
		h = newRawServer()
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", h)
	mux.HandleFunc("/stats", serveStats)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// The harness reads this line to learn the address.
	os.Stdout.WriteString("listening " + ln.Addr().String() + "\n")
	go func() { _ = http.Serve(ln, mux) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

// sioServer returns our server with the benchmark's handlers.
func sioServer() http.Handler {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			var v string
			if err := e.Args.Decode(0, &v); err != nil {
				return
			}
			if e.WantsAck() {
				_ = e.Ack(v)
				return
			}
			_ = s.Emit("echo", v)
		})
		socketio.OnWithAck(s, "join", func(s *socketio.Socket, room string) bool {
			s.Join(room)
			return true
		})
		socketio.On(s, "bcast", func(s *socketio.Socket, v string) {
			_ = srv.Emit("bcast", v)
		})
		socketio.On(s, "bcastroom", func(s *socketio.Socket, v string) {
			_ = srv.To("bench").Emit("bcast", v)
		})
	})
	return srv
}

func serveStats(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	_ = json.NewEncoder(w).Encode(map[string]int64{
		"heap":       int64(m.HeapInuse + m.StackInuse),
		"goroutines": int64(runtime.NumGoroutine()),
		"rss":        rss(),
	})
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
