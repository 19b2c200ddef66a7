// Command server is a server under test for the benchmark harness
// (bench/run): our Socket.IO server, or, with -mode raw, a bare WebSocket
// server built on the same WebSocket library (internal/websocket), the
// ceiling for what any Socket.IO server could do on this machine.
//
// With -redis, our server joins a cluster through the classic Redis adapter
// (redisadapter.New, channels prefixed with -key), like bench/node/server.mjs
// --redis: the cross-node broadcast scenario runs two of them.
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
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisadapter"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: any; the address is printed on stdout)")
	mode := flag.String("mode", "sio", "sio (our Socket.IO server) or raw (a bare WebSocket server)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGTERM")
	redisAddr := flag.String("redis", "", "sio mode: join a cluster with the classic Redis adapter on this Redis server (host:port)")
	redisKey := flag.String("key", redisadapter.DefaultKey, "with -redis: the adapter's channel prefix")
	goroutines := flag.Bool("handler-goroutines", false, "sio mode: run every event handler on its socket's goroutine (Options.InlineHandlerTimeout -1)")
	pollLoop := flag.Bool("poll-listener", false, "sio mode: serve through the server's Listener, which answers long-polling requests without net/http")
	memRate := flag.Int("memprofilerate", 0, "set runtime.MemProfileRate (1: record every allocation, for exact heap profiles at /debug/pprof/heap)")
	flag.Parse()
	if *memRate > 0 {
		runtime.MemProfileRate = *memRate
	}

	var h http.Handler
	var sio *socketio.Server
	switch *mode {
	case "sio":
		opts := &socketio.Options{}
		if *goroutines {
			opts.InlineHandlerTimeout = -1
		}
		if *redisAddr != "" {
			rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
			adapter, err := redisadapter.New(rdb, &redisadapter.Options{Key: *redisKey})
			if err != nil {
				log.Fatal(err)
			}
			opts.Adapter = adapter
		}
		sio = sioServer(opts)
		h = sio
	case "raw":
		h = newRawServer()
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", h)
	mux.HandleFunc("/stats", serveStats)
	// Heap and goroutine profiles of the server under test (127.0.0.1 only by default).
	mux.HandleFunc("/debug/pprof/", httppprof.Index)

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
	if sio != nil && *pollLoop {
		ln = sio.Engine().Listener(ln)
	}
	go func() { _ = http.Serve(ln, mux) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

// sioServer returns our server with the benchmark's handlers.
func sioServer(opts *socketio.Options) *socketio.Server {
	srv, err := socketio.NewServer(opts)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			v, err := e.Args.DecodeString(0)
			if err != nil {
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
		"heap_inuse": int64(m.HeapInuse),
		"heap_alloc": int64(m.HeapAlloc),
		"stack":      int64(m.StackInuse),
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
