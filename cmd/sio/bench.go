package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/internal/websocket"
	"github.com/socketio-go/socketio/parser"
)

const benchUsage = `usage: sio bench [flags] URL

A load generator that speaks Engine.IO v4 / Socket.IO v5 directly (the fast
path writes frames with internal/websocket and batches its flushes). The
server must handle these events (bench/server and bench/node/server.mjs do):

  echo      emit "echo" back with the same argument (or call the ack)
  join      join the room named by the argument, then call the ack
  bcast     emit "bcast" with the argument to every socket
  bcastroom emit "bcast" with the argument to the room "bench"

Modes:
  echo       every connection keeps -inflight "echo" events in flight
  ack        the same with acknowledgements instead of echoed events
  broadcast  -c receivers; one more connection emits "bcast" (or "bcastroom"
             when -room > 0), keeping -inflight broadcasts in flight: with
             -pace all (the default) a broadcast is in flight until every
             receiver has it; with -pace own, until the emitter's own copy
             arrives (wherever the server puts it in its fan-out).
             With -emit-url (another node of the same cluster), the emitter
             connects there and one more connection on URL, not counted,
             paces it: the broadcasts cross the cluster adapter
  idle       open -c connections and hold them for -duration
  storm      -c workers loop: handshake, CONNECT, close (-cycles in all)
`

// benchConfig is the command line of sio bench.
type benchConfig struct {
	url        string
	mode       string
	conns      int
	inflight   int
	pace       string
	size       int
	transport  string
	duration   time.Duration
	warmup     time.Duration
	rate       float64
	room       int
	cycles     int64
	pid        int
	statsURL   string
	jsonOut    bool
	quiet      bool
	dialConc   int
	srcAddrs   int
	cpuProfile string
	client     string
	emitURL    string
	emitPID    int
}

// benchResult is what sio bench reports (as JSON with --json).
type benchResult struct {
	Mode      string  `json:"mode"`
	Client    string  `json:"client"`
	Transport string  `json:"transport"`
	Conns     int     `json:"conns"`
	Inflight  int     `json:"inflight"`
	Size      int     `json:"size"`
	Seconds   float64 `json:"seconds"`
	Messages  uint64  `json:"messages"` // echoes, acks, deliveries or cycles counted in the window
	Rate      float64 `json:"rate"`     // per second
	Sent      uint64  `json:"sent"`     // broadcasts emitted (broadcast mode)
	Errors    uint64  `json:"errors"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	P999us    float64 `json:"p999_us"`
	MaxUs     float64 `json:"max_us"`
	ConnectS  float64 `json:"connect_seconds"`
	// Load generator's own CPU during the window (user+system seconds).
	ClientCPU float64 `json:"client_cpu_s"`
	// The server's, from /proc/<pid>/stat, when --pid is given.
	ServerCPU float64 `json:"server_cpu_s,omitempty"`
	// The part of ServerCPU spent in the kernel (stime): system calls and
	// the network stack's work on the server's behalf.
	ServerSys  float64 `json:"server_sys_s,omitempty"`
	ServerRSS0 int64   `json:"server_rss0,omitempty"` // bytes, before connecting
	ServerRSS1 int64   `json:"server_rss1,omitempty"` // bytes, at the end of the window
	// The emitting node's (-emit-pid), from /proc.
	EmitServerCPU float64 `json:"emit_server_cpu_s,omitempty"`
	StatsBefore   *stats  `json:"stats_before,omitempty"`
	StatsAfter    *stats  `json:"stats_after,omitempty"`
	Load          string  `json:"loadavg"`
}

// stats is the answer of a server's stats URL (after a forced GC).
type stats struct {
	Heap       int64 `json:"heap"` // Go: HeapInuse+StackInuse; Node: heapUsed+external
	Goroutines int   `json:"goroutines,omitempty"`
	RSS        int64 `json:"rss"`
}

func bench(ctx context.Context, args []string, out, errw *lockedWriter) int {
	fs := newFlagSet("bench", errw)
	fs.Usage = func() { errw.println("%s", benchUsage); fs.PrintDefaults() }
	var c benchConfig
	fs.StringVar(&c.mode, "mode", "echo", "echo, ack, broadcast, idle or storm")
	fs.IntVar(&c.conns, "c", 100, "connections (receivers in broadcast mode, workers in storm mode)")
	fs.IntVar(&c.inflight, "inflight", 1, "messages in flight per connection (broadcasts in flight in broadcast mode)")
	fs.StringVar(&c.pace, "pace", "all", "broadcast mode: a broadcast is in flight until all receivers have it (all) or until the emitter's own copy arrives (own)")
	fs.IntVar(&c.size, "size", 32, "payload bytes (the event's string argument)")
	fs.StringVar(&c.transport, "transport", "websocket", "websocket or polling (polling: echo mode only)")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measurement window")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "time before the window starts")
	fs.Float64Var(&c.rate, "rate", 0, "messages per second per connection (0: as many as -inflight allows)")
	fs.IntVar(&c.room, "room", 0, "broadcast mode: this many receivers join room \"bench\" and the emitter targets it")
	fs.Int64Var(&c.cycles, "cycles", 0, "storm mode: stop after this many cycles (0: at the end of -duration)")
	fs.IntVar(&c.pid, "pid", 0, "server process id: report its CPU time and RSS (from /proc)")
	fs.StringVar(&c.statsURL, "stats", "", "server stats URL (JSON heap/goroutines/rss after GC), read before and after")
	fs.StringVar(&c.client, "client", "fast", "fast (frames written directly) or lib (the client library; echo mode over websocket only)")
	fs.StringVar(&c.emitURL, "emit-url", "", "broadcast mode: the emitter connects to this other node of URL's cluster (cross-node broadcast)")
	fs.IntVar(&c.emitPID, "emit-pid", 0, "process id of the -emit-url node: report its CPU time too (from /proc)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as one JSON object")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress line")
	fs.IntVar(&c.dialConc, "dial-concurrency", 64, "connections opened at the same time")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile (pprof) to this file")
	fs.IntVar(&c.srcAddrs, "source-addrs", 16, "for a 127.0.0.1 server, spread connections over this many 127.0.0.x source addresses (more than 28k connections need several)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		errw.println("sio: bench takes one URL\n%s", benchUsage)
		return exitUsage
	}
	c.url = pos[0]
	if err := c.validate(); err != nil {
		errw.println("sio: %v", err)
		return exitUsage
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			errw.println("sio: bench: %v", err)
			return exitFail
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			errw.println("sio: bench: %v", err)
			return exitFail
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	res, err := runBench(ctx, &c, errw)
	if err != nil {
		errw.println("sio: bench: %v", err)
		return exitFail
	}
	if c.jsonOut {
		b, _ := json.Marshal(res)
		out.println("%s", b)
	} else {
		out.println("%s", res.text())
	}
	return exitOK
}

func (c *benchConfig) validate() error {
	switch c.mode {
	case "echo", "ack", "broadcast", "idle", "storm":
	default:
		return fmt.Errorf("unknown --mode %q", c.mode)
	}
	switch c.transport {
	case "websocket":
	case "polling":
		if c.mode != "echo" {
			return errors.New("--transport polling supports --mode echo only")
		}
	default:
		return fmt.Errorf("unknown --transport %q", c.transport)
	}
	if c.client != "fast" && (c.client != "lib" || c.mode != "echo" || c.transport != "websocket") {
		return errors.New("--client is fast, or lib with --mode echo over websocket")
	}
	if c.conns < 1 || c.inflight < 1 || c.size < 0 || c.duration <= 0 || c.warmup < 0 || c.dialConc < 1 {
		return errors.New("-c, --inflight and --dial-concurrency must be positive, --duration too")
	}
	if c.inflight > 4096 {
		return errors.New("--inflight is at most 4096")
	}
	if c.room > c.conns {
		return errors.New("--room is larger than -c")
	}
	if c.pace != "all" && c.pace != "own" {
		return fmt.Errorf("--pace is all or own, not %q", c.pace)
	}
	u, err := url.Parse(c.url)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bad URL %q", c.url)
	}
	if c.emitURL != "" {
		if c.mode != "broadcast" || c.room > 0 {
			return errors.New("--emit-url needs --mode broadcast without --room")
		}
		if u, err := url.Parse(c.emitURL); err != nil || u.Host == "" {
			return fmt.Errorf("bad --emit-url %q", c.emitURL)
		}
	}
	return nil
}

// wsURLOf is the WebSocket URL of the Engine.IO endpoint of a server URL.
func wsURLOf(u *url.URL) string {
	path := strings.TrimSuffix(u.Path, "/")
	if path == "" {
		path = "/socket.io"
	}
	base := *u
	base.Path = path + "/"
	base.RawQuery = "EIO=4&transport=websocket"
	return base.String()
}

// run is the shared state of one bench run.
type benchRun struct {
	cfg   *benchConfig
	errw  *lockedWriter
	start time.Time // timestamps in broadcast payloads count from here

	wsURL, pollURL string
	emitWSURL      string // -emit-url's WebSocket URL
	httpClient     *http.Client
	dialer         func(ctx context.Context, network, addr string) (net.Conn, error)

	measuring atomic.Bool
	stopping  atomic.Bool
	sent      atomic.Uint64
	errors    atomic.Uint64
	connected atomic.Int64
	cycles    atomic.Int64

	// Connections record what they receive in a few shards, handed out in
	// turn (shardOf). A histogram per connection (16 kB each) made every
	// record a cache and TLB miss with 10 000 connections, and counters
	// shared by all of them moved between the CPUs on every message.
	shards [recordShards]histShard
	next   atomic.Uint32
}

// recordShards is the number of shards connections record into.
const recordShards = 16

// histShard is one shard of the run's records, on cache lines of its own.
type histShard struct {
	mu      sync.Mutex
	h       histogram
	total   uint64 // messages since the start, for the progress line
	counted uint64 // messages in the window
	_       [64]byte
}

// newHist returns the shard a new connection records into.
func (r *benchRun) newHist() *histShard {
	return &r.shards[(r.next.Add(1)-1)%recordShards]
}

// totals returns the messages since the start and those in the window.
func (r *benchRun) totals() (total, counted uint64) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		total += s.total
		counted += s.counted
		s.mu.Unlock()
	}
	return total, counted
}

func (r *benchRun) fail(err error) {
	if r.stopping.Load() {
		return
	}
	if r.errors.Add(1) <= 5 {
		r.errw.println("sio: bench: %v", err)
	}
}

// count records one completed message.
func (r *benchRun) count(s *histShard, lat time.Duration) {
	measuring := r.measuring.Load()
	s.mu.Lock()
	s.total++
	if measuring {
		s.counted++
		s.h.record(lat)
	}
	s.mu.Unlock()
}

func runBench(ctx context.Context, c *benchConfig, errw *lockedWriter) (*benchResult, error) {
	u, _ := url.Parse(c.url)
	path := strings.TrimSuffix(u.Path, "/")
	if path == "" {
		path = "/socket.io"
	}
	base := *u
	base.Path = path + "/"
	base.RawQuery = "EIO=4&transport=websocket"
	wsURL := base.String()
	base.RawQuery = "EIO=4&transport=polling"
	r := &benchRun{cfg: c, errw: errw, start: time.Now(), wsURL: wsURL, pollURL: base.String()}
	if c.emitURL != "" {
		eu, _ := url.Parse(c.emitURL)
		r.emitWSURL = wsURLOf(eu)
	}
	r.dialer = sourceDialer(u.Hostname(), c.srcAddrs)
	tr := &http.Transport{DialContext: r.dialer, MaxIdleConnsPerHost: 4 * c.conns, MaxIdleConns: 4 * c.conns, DisableCompression: true}
	r.httpClient = &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	res := &benchResult{Mode: c.mode, Client: c.client, Transport: c.transport, Conns: c.conns, Inflight: c.inflight, Size: c.size}
	if c.statsURL != "" {
		if c.mode == "storm" {
			sleepCtx(ctx, stormSettle) // what earlier runs left behind ends first
		}
		res.StatsBefore = r.fetchStats(ctx)
	}
	if c.pid > 0 {
		res.ServerRSS0 = procRSS(c.pid)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	progressDone := make(chan struct{})
	if !c.quiet {
		go r.progress(runCtx, progressDone)
	} else {
		close(progressDone)
	}

	connectStart := time.Now()
	var ready func() error
	switch {
	case c.mode == "storm":
		ready = func() error { return nil }
	case c.transport == "polling":
		ready = r.startPolling(runCtx, &wg)
	case c.client == "lib":
		ready = r.startLibEcho(runCtx, &wg)
	case c.mode == "broadcast":
		ready = r.startBroadcast(runCtx, &wg)
	default:
		ready = r.startWS(runCtx, &wg)
	}
	if err := ready(); err != nil {
		r.stopping.Store(true)
		cancel()
		wg.Wait()
		<-progressDone
		return nil, err
	}
	res.ConnectS = time.Since(connectStart).Seconds()

	if c.mode == "storm" {
		r.startStorm(runCtx, &wg)
	}
	sleepCtx(ctx, c.warmup)
	cpu0, emit0 := selfCPU(), procCPU(c.emitPID)
	srvUser0, srvSys0 := procTimes(c.pid)
	t0 := time.Now()
	r.measuring.Store(true)
	window := time.NewTimer(c.duration)
	if c.mode == "storm" && c.cycles > 0 {
		r.waitCycles(ctx, window.C)
	} else {
		select {
		case <-window.C:
		case <-ctx.Done():
		}
	}
	window.Stop()
	r.measuring.Store(false)
	res.Seconds = time.Since(t0).Seconds()
	res.ClientCPU = selfCPU() - cpu0
	if c.pid > 0 {
		u, sys := procTimes(c.pid)
		res.ServerCPU = (u - srvUser0) + (sys - srvSys0)
		res.ServerSys = sys - srvSys0
		res.ServerRSS1 = procRSS(c.pid)
	}
	if c.emitPID > 0 {
		res.EmitServerCPU = procCPU(c.emitPID) - emit0
	}
	if c.statsURL != "" && c.mode == "idle" {
		res.StatsAfter = r.fetchStats(ctx)
	}
	res.Load = loadavg()
	r.stopping.Store(true)
	cancel()
	wg.Wait()
	<-progressDone
	if c.statsURL != "" && c.mode != "idle" {
		// After a storm, what the server still holds once every connection closed.
		settle := 500 * time.Millisecond
		if c.mode == "storm" {
			settle = stormSettle
		}
		sleepCtx(ctx, settle)
		res.StatsAfter = r.fetchStats(ctx)
	}

	var h histogram
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		h.merge(&s.h)
		s.mu.Unlock()
	}
	_, res.Messages = r.totals()
	res.Rate = float64(res.Messages) / res.Seconds
	res.Sent = r.sent.Load()
	res.Errors = r.errors.Load()
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	res.P50us, res.P99us, res.P999us, res.MaxUs = us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max)
	if c.mode != "idle" && res.Messages == 0 {
		return res, errors.New("no message completed in the window")
	}
	return res, nil
}

func (r *benchRun) waitCycles(ctx context.Context, deadline <-chan time.Time) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for r.cycles.Load() < r.cfg.cycles {
		select {
		case <-t.C:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (res *benchResult) text() string {
	var b strings.Builder
	unit := map[string]string{"echo": "echoes", "ack": "acks", "broadcast": "deliveries", "idle": "messages", "storm": "cycles"}[res.Mode]
	fmt.Fprintf(&b, "%s over %s: %d connections, %d in flight, %d B\n", res.Mode, res.Transport, res.Conns, res.Inflight, res.Size)
	fmt.Fprintf(&b, "  %d %s in %.2fs: %.0f/s (connect %.2fs, errors %d)\n", res.Messages, unit, res.Seconds, res.Rate, res.ConnectS, res.Errors)
	if res.Messages > 0 {
		fmt.Fprintf(&b, "  latency p50 %s  p99 %s  p999 %s  max %s\n", fmtUs(res.P50us), fmtUs(res.P99us), fmtUs(res.P999us), fmtUs(res.MaxUs))
	}
	fmt.Fprintf(&b, "  load generator CPU %.2fs", res.ClientCPU)
	if res.ServerCPU > 0 {
		fmt.Fprintf(&b, ", server CPU %.2fs", res.ServerCPU)
		if res.Messages > 0 {
			fmt.Fprintf(&b, " (%.2f µs per message)", res.ServerCPU*1e6/float64(res.Messages))
		}
		fmt.Fprintf(&b, ", %.0f%% of it in the kernel", 100*res.ServerSys/res.ServerCPU)
		fmt.Fprintf(&b, ", server RSS %d -> %d KiB", res.ServerRSS0>>10, res.ServerRSS1>>10)
	}
	if res.EmitServerCPU > 0 {
		fmt.Fprintf(&b, ", emitting node CPU %.2fs", res.EmitServerCPU)
	}
	b.WriteString("\n")
	if res.StatsBefore != nil && res.StatsAfter != nil {
		fmt.Fprintf(&b, "  server heap %d -> %d KiB, goroutines %d -> %d\n", res.StatsBefore.Heap>>10, res.StatsAfter.Heap>>10, res.StatsBefore.Goroutines, res.StatsAfter.Goroutines)
	}
	fmt.Fprintf(&b, "  load average %s", res.Load)
	return b.String()
}

func fmtUs(us float64) string {
	if us >= 1000 {
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
}

// progress prints a live line on stderr every second.
func (r *benchRun) progress(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last uint64
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			r.errw.println("")
			return
		case <-t.C:
		}
		n, _ := r.totals()
		phase := "warmup"
		if r.measuring.Load() {
			phase = "measuring"
		}
		r.errw.mu.Lock()
		fmt.Fprintf(r.errw.w, "\r[%4.0fs %-9s] connections %d  %s/s %-9d total %-10d errors %d   ",
			time.Since(start).Seconds(), phase, r.connected.Load(), r.cfg.mode, n-last, n, r.errors.Load())
		r.errw.mu.Unlock()
		last = n
	}
}

// --- Protocol helpers -----------------------------------------------------

// eventFrame returns the Engine.IO message carrying the Socket.IO event
// [name, payload] (with an ack id when id >= 0), encoded by package parser.
func eventFrame(name, payload string, id int64) []byte {
	data, _, err := parser.MarshalEvent(name, []any{payload})
	if err != nil {
		panic(err) // a string always marshals
	}
	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data}
	if id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	msgs, err := parser.NewJSONParser(nil).NewEncoder().Encode(p)
	if err != nil {
		panic(err)
	}
	return eiocodec.AppendText(nil, eiocodec.Message, msgs[0], false)
}

// withAckID rewrites the ack id of a frame made by eventFrame with id 0
// ("420[...": '4' message, '2' event, id, then the array).
func withAckID(dst, frame []byte, id uint64) []byte {
	dst = append(dst[:0], frame[:2]...)
	dst = strconv.AppendUint(dst, id, 10)
	return append(dst, frame[3:]...)
}

func payloadOf(size int) string { return strings.Repeat("x", size) }

// wsConnect opens a WebSocket session and connects to the main namespace.
func (r *benchRun) wsConnect(ctx context.Context) (*websocket.Conn, error) {
	return r.wsConnectTo(ctx, r.wsURL)
}

// wsConnectTo is wsConnect to the Engine.IO WebSocket URL wsURL.
func (r *benchRun) wsConnectTo(ctx context.Context, wsURL string) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{DialContext: r.dialer})
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ws.CloseNow() })
	defer stop()
	// Engine.IO open packet, then Socket.IO CONNECT for "/".
	if _, data, err := ws.ReadMessage(); err != nil || len(data) == 0 || data[0] != '0' {
		ws.CloseNow()
		return nil, fmt.Errorf("no Engine.IO open packet: %v", err)
	}
	if err := ws.WriteMessage(websocket.Text, []byte("40")); err != nil {
		ws.CloseNow()
		return nil, err
	}
	if err := ws.Flush(); err != nil {
		ws.CloseNow()
		return nil, err
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			ws.CloseNow()
			return nil, err
		}
		if bytes.HasPrefix(data, []byte("40")) {
			return ws, nil
		}
		if bytes.HasPrefix(data, []byte("44")) {
			ws.CloseNow()
			return nil, fmt.Errorf("CONNECT refused: %s", data[2:])
		}
	}
}

// connectAll opens n connections with at most cfg.dialConc handshakes at a time.
func (r *benchRun) connectAll(ctx context.Context, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, r.cfg.dialConc)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			ws, err := r.wsConnect(cctx)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("connection %d: %w", i, err)
				}
				mu.Unlock()
				return
			}
			conns[i] = ws
			r.connected.Add(1)
		}(i)
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
	}
	wg.Wait()
	if firstErr != nil {
		for _, ws := range conns {
			if ws != nil {
				ws.CloseNow()
			}
		}
		return nil, firstErr
	}
	return conns, nil
}

// handleControl answers Engine.IO pings; it reports false for a message that
// is not a Socket.IO packet.
func handleControl(ws *websocket.Conn, data []byte) (sio []byte, ok bool) {
	if len(data) == 0 {
		return nil, false
	}
	switch data[0] {
	case '2': // ping
		_ = ws.WriteMessage(websocket.Text, []byte("3"))
		_ = ws.Flush()
		return nil, false
	case '4':
		return data[1:], true
	}
	return nil, false
}

// --- WebSocket echo, ack and idle -------------------------------------------

func (r *benchRun) startWS(ctx context.Context, wg *sync.WaitGroup) func() error {
	return func() error {
		conns, err := r.connectAll(ctx, r.cfg.conns)
		if err != nil {
			return err
		}
		payload := payloadOf(r.cfg.size)
		for _, ws := range conns {
			wg.Add(1)
			go func(ws *websocket.Conn) {
				defer wg.Done()
				stop := context.AfterFunc(ctx, func() { ws.CloseNow() })
				defer stop()
				switch r.cfg.mode {
				case "idle":
					r.idleLoop(ws)
				default:
					r.echoLoop(ws, payload)
				}
				ws.CloseNow()
			}(ws)
		}
		return nil
	}
}

func (r *benchRun) idleLoop(ws *websocket.Conn) {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if !r.stopping.Load() {
				r.fail(err)
			}
			return
		}
		handleControl(ws, data)
	}
}

// echoLoop keeps cfg.inflight events (or acks) in flight on ws. Replies on
// one connection come back in order, so a ring of send times gives each
// reply its latency. Writes triggered by a burst of replies are flushed
// together, once the burst is read.
func (r *benchRun) echoLoop(ws *websocket.Conn, payload string) {
	h := r.newHist()
	ack := r.cfg.mode == "ack"
	var frame []byte
	if ack {
		frame = eventFrame("echo", payload, 0)
	} else {
		frame = eventFrame("echo", payload, -1)
	}
	n := r.cfg.inflight
	sentAt := make([]time.Time, n)
	var head, tail uint64 // sent and received counts; ack id = sequence number
	var scratch []byte
	var pacer *pacer
	if r.cfg.rate > 0 {
		pacer = newPacer(r.cfg.rate)
	}
	send := func() error {
		if pacer != nil {
			pacer.wait()
		}
		out := frame
		if ack {
			scratch = withAckID(scratch, frame, head)
			out = scratch
		}
		sentAt[head%uint64(n)] = time.Now()
		head++
		return ws.WriteMessage(websocket.Text, out)
	}
	for i := 0; i < n; i++ {
		if err := send(); err != nil {
			r.fail(err)
			return
		}
	}
	if err := ws.Flush(); err != nil {
		r.fail(err)
		return
	}
	for !r.stopping.Load() {
		_, data, err := ws.ReadMessage()
		if err != nil {
			r.fail(err)
			return
		}
		sio, ok := handleControl(ws, data)
		if !ok || len(sio) == 0 {
			continue
		}
		switch {
		case !ack && sio[0] == '2':
		case ack && sio[0] == '3':
			id, ok := leadingUint(sio[1:])
			if !ok || id != tail {
				r.fail(fmt.Errorf("ack %d out of order (expected %d)", id, tail))
				return
			}
		default:
			continue
		}
		r.count(h, time.Since(sentAt[tail%uint64(n)]))
		tail++
		if err := send(); err != nil {
			r.fail(err)
			return
		}
		if ws.Buffered() == 0 {
			if err := ws.Flush(); err != nil {
				r.fail(err)
				return
			}
		}
	}
}

func leadingUint(b []byte) (uint64, bool) {
	var v uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, i > 0
}

// pacer spaces calls to wait at 1/rate.
type pacer struct {
	every time.Duration
	next  time.Time
}

func newPacer(rate float64) *pacer {
	return &pacer{every: time.Duration(float64(time.Second) / rate), next: time.Now()}
}

func (p *pacer) wait() {
	if d := time.Until(p.next); d > 0 {
		time.Sleep(d)
	}
	p.next = p.next.Add(p.every)
	if now := time.Now(); p.next.Before(now.Add(-time.Second)) {
		p.next = now // do not catch up after a long stall
	}
}

// --- Broadcast ----------------------------------------------------------------

// The broadcast payload starts with the emitter's send time (16 hex digits of
// nanoseconds since the run started), so each receiver measures its delivery latency.
func (r *benchRun) startBroadcast(ctx context.Context, wg *sync.WaitGroup) func() error {
	return func() error {
		conns, err := r.connectAll(ctx, r.cfg.conns+1)
		if err != nil {
			return err
		}
		if r.emitWSURL != "" {
			return r.startCrossNode(ctx, wg, conns[0], conns[1:])
		}
		emitter, receivers := conns[0], conns[1:]
		target := "bcast"
		if r.cfg.room > 0 {
			target = "bcastroom"
			// The emitter joins too: its own copy paces it.
			for _, ws := range append([]*websocket.Conn{emitter}, receivers[:r.cfg.room]...) {
				if err := joinRoom(ws); err != nil {
					for _, ws := range conns {
						ws.CloseNow()
					}
					return fmt.Errorf("join: %w", err)
				}
			}
		}
		var all *deliveries
		if r.cfg.pace == "all" {
			n := len(receivers)
			if r.cfg.room > 0 {
				n = r.cfg.room
			}
			all = newDeliveries(n, r.cfg.inflight)
		}
		for _, ws := range receivers {
			wg.Add(1)
			go func(ws *websocket.Conn) {
				defer wg.Done()
				stop := context.AfterFunc(ctx, func() { ws.CloseNow() })
				defer stop()
				r.receiveLoop(ws, all)
				ws.CloseNow()
			}(ws)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { emitter.CloseNow() })
			defer stop()
			if all != nil {
				r.emitAllLoop(ctx, emitter, target, all)
			} else {
				r.emitLoop(emitter, target)
			}
			emitter.CloseNow()
		}()
		return nil
	}
}

func joinRoom(ws *websocket.Conn) error {
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer ws.SetReadDeadline(time.Time{})
	if err := ws.WriteMessage(websocket.Text, eventFrame("join", "bench", 0)); err != nil {
		return err
	}
	if err := ws.Flush(); err != nil {
		return err
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		if sio, ok := handleControl(ws, data); ok && len(sio) > 0 && sio[0] == '3' {
			return nil
		}
	}
}

const stampLen = 16

func (r *benchRun) stampedFrame(target string) []byte {
	size := r.cfg.size
	if size < stampLen {
		size = stampLen
	}
	return eventFrame(target, payloadOf(size), -1)
}

// stamp writes the send time into the payload of a frame made by stampedFrame.
func (r *benchRun) stamp(frame []byte) {
	i := bytes.LastIndexByte(frame[:len(frame)-2], '"') + 1 // start of the string argument
	v := uint64(time.Since(r.start))
	const hex = "0123456789abcdef"
	for j := stampLen - 1; j >= 0; j-- {
		frame[i+j] = hex[v&15]
		v >>= 4
	}
}

// stampAge returns the time since the stamp in a received "bcast" event.
func (r *benchRun) stampAge(sio []byte) (time.Duration, bool) {
	// 2["bcast","<stamp>xxx"]
	i := bytes.Index(sio, []byte(`","`))
	if i < 0 || len(sio) < i+3+stampLen {
		return 0, false
	}
	var v uint64
	for _, c := range sio[i+3 : i+3+stampLen] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return time.Since(r.start) - time.Duration(v), true
}

// deliveries tells the emitter when a broadcast has reached every
// receiver (-pace all). Each connection receives the broadcasts in the
// order they were sent, so a receiver's k-th is broadcast k; slot k mod
// len(count) counts who has it, and the last one frees the slot (no later
// broadcast can use it before then: broadcast k+len(count) leaves after
// broadcast k+len(count)-inflight is complete, hence after k is) and hands
// the emitter a token.
type deliveries struct {
	n     int64
	count []atomic.Int64
	done  chan struct{}
}

func newDeliveries(receivers, inflight int) *deliveries {
	return &deliveries{n: int64(receivers), count: make([]atomic.Int64, inflight+1), done: make(chan struct{}, inflight+1)}
}

// got records that a receiver has its k-th broadcast (from 0).
func (d *deliveries) got(k uint64) {
	c := &d.count[k%uint64(len(d.count))]
	if c.Add(1) == d.n {
		c.Store(0)
		d.done <- struct{}{}
	}
}

func (r *benchRun) receiveLoop(ws *websocket.Conn, all *deliveries) {
	h := r.newHist()
	var k uint64 // broadcasts received
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			r.fail(err)
			return
		}
		sio, ok := handleControl(ws, data)
		if !ok || len(sio) == 0 || sio[0] != '2' {
			continue
		}
		if age, ok := r.stampAge(sio); ok {
			r.count(h, age)
			if all != nil {
				all.got(k)
				k++
			}
		}
	}
}

// emitAllLoop keeps cfg.inflight broadcasts in flight, each until every
// receiver has it (-pace all). Its own copies are read and dropped by a
// goroutine of their own.
func (r *benchRun) emitAllLoop(ctx context.Context, ws *websocket.Conn, target string, all *deliveries) {
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r.idleLoop(ws)
	}()
	defer func() { ws.CloseNow(); <-readDone }()
	frame := r.stampedFrame(target)
	send := func() error {
		r.stamp(frame)
		r.sent.Add(1)
		if err := ws.WriteMessage(websocket.Text, frame); err != nil {
			return err
		}
		return ws.Flush()
	}
	for i := 0; i < r.cfg.inflight; i++ {
		if err := send(); err != nil {
			r.fail(err)
			return
		}
	}
	for !r.stopping.Load() {
		select {
		case <-all.done:
		case <-ctx.Done():
			return
		case <-readDone:
			return
		}
		if err := send(); err != nil {
			r.fail(err)
			return
		}
	}
}

// emitLoop keeps cfg.inflight broadcasts in flight: it sends the next when
// its own copy of an earlier one arrives (the server has then queued it for
// every recipient).
func (r *benchRun) emitLoop(ws *websocket.Conn, target string) {
	frame := r.stampedFrame(target)
	send := func() error {
		r.stamp(frame)
		r.sent.Add(1)
		return ws.WriteMessage(websocket.Text, frame)
	}
	for i := 0; i < r.cfg.inflight; i++ {
		if err := send(); err != nil {
			r.fail(err)
			return
		}
	}
	if err := ws.Flush(); err != nil {
		r.fail(err)
		return
	}
	for !r.stopping.Load() {
		_, data, err := ws.ReadMessage()
		if err != nil {
			r.fail(err)
			return
		}
		sio, ok := handleControl(ws, data)
		if !ok || len(sio) == 0 || sio[0] != '2' {
			continue
		}
		if err := send(); err != nil {
			r.fail(err)
			return
		}
		if ws.Buffered() == 0 {
			if err := ws.Flush(); err != nil {
				r.fail(err)
				return
			}
		}
	}
}

// startCrossNode runs a cross-node broadcast: the emitter is connected to
// another node of the cluster (-emit-url), and pacer, connected to the
// node under test like the receivers but not counted, paces it: the next
// broadcast leaves when pacer receives an earlier one, so cfg.inflight
// broadcasts are in flight through the cluster adapter (one more is sent
// when none arrived for half a second). The emitter's own copies (delivered by
// its node) are read and dropped.
func (r *benchRun) startCrossNode(ctx context.Context, wg *sync.WaitGroup, pacer *websocket.Conn, receivers []*websocket.Conn) error {
	closeAll := func() {
		pacer.CloseNow()
		for _, ws := range receivers {
			ws.CloseNow()
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	emitter, err := r.wsConnectTo(cctx, r.emitWSURL)
	cancel()
	if err != nil {
		closeAll()
		return fmt.Errorf("emitter: %w", err)
	}
	for _, ws := range receivers {
		wg.Add(1)
		go func(ws *websocket.Conn) {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { ws.CloseNow() })
			defer stop()
			r.receiveLoop(ws, nil)
			ws.CloseNow()
		}(ws)
	}
	tokens := make(chan struct{}, r.cfg.inflight)
	wg.Add(3)
	go func() { // pacer: one token per broadcast that crossed
		defer wg.Done()
		stop := context.AfterFunc(ctx, func() { pacer.CloseNow() })
		defer stop()
		defer close(tokens)
		for {
			_, data, err := pacer.ReadMessage()
			if err != nil {
				r.fail(err)
				return
			}
			if sio, ok := handleControl(pacer, data); ok && len(sio) > 0 && sio[0] == '2' {
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() { // the emitter's own copies and pings
		defer wg.Done()
		stop := context.AfterFunc(ctx, func() { emitter.CloseNow() })
		defer stop()
		for {
			_, data, err := emitter.ReadMessage()
			if err != nil {
				r.fail(err)
				return
			}
			handleControl(emitter, data)
		}
	}()
	go func() {
		defer wg.Done()
		defer emitter.CloseNow()
		frame := r.stampedFrame("bcast")
		send := func() error {
			r.stamp(frame)
			r.sent.Add(1)
			return emitter.WriteMessage(websocket.Text, frame)
		}
		for i := 0; i < r.cfg.inflight; i++ {
			if err := send(); err != nil {
				r.fail(err)
				return
			}
		}
		for {
			if err := emitter.Flush(); err != nil {
				r.fail(err)
				return
			}
			// A broadcast lost between the nodes (say, sent before the
			// other node had subscribed) is replaced after a while.
			select {
			case _, ok := <-tokens:
				if !ok {
					return
				}
			case <-time.After(500 * time.Millisecond):
			}
			if err := send(); err != nil {
				r.fail(err)
				return
			}
			for more := true; more; { // and one per token already there
				select {
				case _, ok := <-tokens:
					if !ok {
						return
					}
					if err := send(); err != nil {
						r.fail(err)
						return
					}
				default:
					more = false
				}
			}
		}
	}()
	return nil
}

// --- Connection storm -----------------------------------------------------------

func (r *benchRun) startStorm(ctx context.Context, wg *sync.WaitGroup) {
	for i := 0; i < r.cfg.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := r.newHist()
			for ctx.Err() == nil {
				if r.cfg.cycles > 0 && r.measuring.Load() && r.cycles.Load() >= r.cfg.cycles {
					return
				}
				t := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				ws, err := r.wsConnect(cctx)
				cancel()
				if err != nil {
					if ctx.Err() == nil {
						r.fail(err)
						sleepCtx(ctx, 10*time.Millisecond)
					}
					continue
				}
				ws.Close(websocket.StatusNormalClosure, "")
				if r.measuring.Load() {
					r.cycles.Add(1)
				}
				r.count(h, time.Since(t))
			}
		}()
	}
}

// --- Long-polling ---------------------------------------------------------------

// pollClient is one Engine.IO session over long-polling.
type pollClient struct {
	r   *benchRun
	url string // with the sid

	mu     sync.Mutex
	sentAt []time.Time // FIFO of outstanding echo send times
}

func (r *benchRun) pollOpen(ctx context.Context) (*pollClient, error) {
	body, err := r.pollGet(ctx, r.pollURL)
	if err != nil {
		return nil, err
	}
	var sid string
	err = eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
		if p.Type == eiocodec.Open {
			var o struct {
				SID string `json:"sid"`
			}
			if err := json.Unmarshal(p.Data, &o); err != nil {
				return err
			}
			sid = o.SID
		}
		return nil
	})
	if err != nil || sid == "" {
		return nil, fmt.Errorf("no open packet: %v", err)
	}
	pc := &pollClient{r: r, url: r.pollURL + "&sid=" + url.QueryEscape(sid)}
	if err := pc.post(ctx, []byte("40")); err != nil {
		return nil, err
	}
	for {
		body, err := r.pollGet(ctx, pc.url)
		if err != nil {
			return nil, err
		}
		connected := false
		eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
			if p.Type == eiocodec.Message && bytes.HasPrefix(p.Data, []byte("0")) {
				connected = true
			}
			return nil
		})
		if connected {
			return pc, nil
		}
	}
}

func (r *benchRun) pollGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET: %s: %s", resp.Status, body)
	}
	return body, err
}

func (pc *pollClient) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pc.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := pc.r.httpClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s", resp.Status)
	}
	return nil
}

func (r *benchRun) startPolling(ctx context.Context, wg *sync.WaitGroup) func() error {
	return func() error {
		clients := make([]*pollClient, r.cfg.conns)
		sem := make(chan struct{}, r.cfg.dialConc)
		var cwg sync.WaitGroup
		var errOnce sync.Once
		var firstErr error
		for i := range clients {
			sem <- struct{}{}
			cwg.Add(1)
			go func(i int) {
				defer cwg.Done()
				defer func() { <-sem }()
				pc, err := r.pollOpen(ctx)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				clients[i] = pc
				r.connected.Add(1)
			}(i)
		}
		cwg.Wait()
		if firstErr != nil {
			return firstErr
		}
		frame := eventFrame("echo", payloadOf(r.cfg.size), -1)
		for _, pc := range clients {
			wg.Add(2)
			go func(pc *pollClient) {
				defer wg.Done()
				pc.receiveLoop(ctx)
			}(pc)
			go func(pc *pollClient) {
				defer wg.Done()
				pc.sendLoop(ctx, frame)
			}(pc)
		}
		return nil
	}
}

// sendLoop POSTs one echo event at a time, at cfg.rate per second (or as
// fast as -inflight allows).
func (pc *pollClient) sendLoop(ctx context.Context, frame []byte) {
	rate := pc.r.cfg.rate
	if rate <= 0 {
		rate = 1000
	}
	p := newPacer(rate)
	for ctx.Err() == nil {
		p.wait()
		pc.mu.Lock()
		full := len(pc.sentAt) >= pc.r.cfg.inflight
		if !full {
			pc.sentAt = append(pc.sentAt, time.Now())
		}
		pc.mu.Unlock()
		if full {
			continue
		}
		if err := pc.post(ctx, frame); err != nil {
			if ctx.Err() == nil {
				pc.r.fail(err)
			}
			return
		}
	}
}

func (pc *pollClient) receiveLoop(ctx context.Context) {
	h := pc.r.newHist()
	for ctx.Err() == nil {
		body, err := pc.r.pollGet(ctx, pc.url)
		if err != nil {
			if ctx.Err() == nil {
				pc.r.fail(err)
			}
			return
		}
		eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
			switch {
			case p.Type == eiocodec.Ping:
				go pc.post(ctx, []byte("3"))
			case p.Type == eiocodec.Message && len(p.Data) > 0 && p.Data[0] == '2':
				pc.mu.Lock()
				var t time.Time
				if len(pc.sentAt) > 0 {
					t = pc.sentAt[0]
					pc.sentAt = pc.sentAt[1:]
				}
				pc.mu.Unlock()
				if !t.IsZero() {
					pc.r.count(h, time.Since(t))
				}
			}
			return nil
		})
	}
}

// --- Measurement helpers --------------------------------------------------------

// sourceDialer spreads connections to a loopback server over n source
// addresses, so that more connections than one address's ephemeral ports
// can be opened.
func sourceDialer(host string, n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if n <= 1 || ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		d := &net.Dialer{}
		return d.DialContext
	}
	var next atomic.Uint32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		i := next.Add(1) % uint32(n)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i))}}
		return d.DialContext(ctx, network, addr)
	}
}

// stormSettle is the quiet time before the server's stats are read around
// a storm run (its leak check): our server keeps the goroutines that ran
// queued handlers (the disconnection handlers, here) parked for reuse, and
// ends those unused for a whole second at its next trim, a second later.
const stormSettle = 2500 * time.Millisecond

func (r *benchRun) fetchStats(ctx context.Context) *stats {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, r.cfg.statsURL, nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.errw.println("sio: bench: stats: %v", err)
		return nil
	}
	defer resp.Body.Close()
	var s stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil
	}
	http.DefaultClient.CloseIdleConnections()
	return &s
}

const clockTicks = 100 // USER_HZ on Linux

// procCPU returns the user+system CPU seconds of process pid (0: none).
func procCPU(pid int) float64 {
	u, s := procTimes(pid)
	return u + s
}

// procTimes returns the user and the system CPU seconds of process pid
// (utime and stime; 0 for none).
func procTimes(pid int) (user, sys float64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64) // field 14, utime
	st, _ := strconv.ParseFloat(f[12], 64) // field 15, stime
	return ut / clockTicks, st / clockTicks
}

func selfCPU() float64 { return procCPU(os.Getpid()) }

// procRSS returns the resident set size of pid in bytes.
func procRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
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

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
