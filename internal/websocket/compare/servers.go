package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	ours "github.com/socketio-go/socketio/internal/websocket"
)

// stats is what a server process reports about itself.
type stats struct {
	CPUNanos   int64  `json:"cpu_ns"` // user + system CPU time of the process
	Mallocs    uint64 `json:"mallocs"`
	TotalAlloc uint64 `json:"total_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
}

func readStats(gc bool) stats {
	if gc {
		runtime.GC()
		runtime.GC()
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return stats{
		CPUNanos:   ru.Utime.Nano() + ru.Stime.Nano(),
		Mallocs:    ms.Mallocs,
		TotalAlloc: ms.TotalAlloc,
		HeapInuse:  ms.HeapInuse,
		StackInuse: ms.StackInuse,
		Goroutines: runtime.NumGoroutine(),
	}
}

// echoHandlers are the servers under test. Each echoes every message in the
// handler's goroutine, the way each library's own examples do it.
var echoHandlers = map[string]http.HandlerFunc{
	// ours flushes after every message, like the other libraries' writes.
	"ours": func(w http.ResponseWriter, r *http.Request) {
		c, err := ours.Upgrade(w, r, nil, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(typ, msg) != nil || c.Flush() != nil {
				return
			}
		}
	},
	// ours-batched flushes only when no more input is buffered, which is how
	// the Engine.IO transport uses the package.
	"ours-batched": func(w http.ResponseWriter, r *http.Request) {
		c, err := ours.Upgrade(w, r, nil, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(typ, msg) != nil {
				return
			}
			if c.Buffered() == 0 && c.Flush() != nil {
				return
			}
		}
	},
	"gorilla": func(w http.ResponseWriter, r *http.Request) {
		up := gorilla.Upgrader{}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	},
	"gws": func(w http.ResponseWriter, r *http.Request) {
		c, err := gwsUpgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	},
	"coder": func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: coder.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if c.Write(ctx, typ, msg) != nil {
				return
			}
		}
	},
}

var gwsUpgrader = gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{})

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// serve runs the server for impl on a loopback port, prints the address on
// stdout and serves until killed.
func serve(impl string) error {
	h, ok := echoHandlers[impl]
	if !ok {
		return fmt.Errorf("unknown implementation %q", impl)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(readStats(r.URL.Query().Get("gc") != ""))
	})
	if path := os.Getenv("COMPARE_CPUPROFILE"); path != "" {
		// Profiles the server's first 5 s: the warm-up and the ping-pong run.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		time.AfterFunc(5*time.Second, func() { pprof.StopCPUProfile(); f.Close() })
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	return http.Serve(ln, mux)
}
