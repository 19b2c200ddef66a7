// Command run is the benchmark harness behind `make bench`: it builds sio
// and bench/server, starts each server under test pinned to one CPU
// (taskset), drives it with `sio bench` pinned to another, takes the median
// of the runs and writes BENCHMARKS.md with its SVG plots and raw results
// under bench/results/.
//
// Servers: ours (bench/server), socket.io 4.8 on Node (bench/node/server.mjs,
// needs `npm ci --prefix bench/node`) and a raw WebSocket server on our
// WebSocket library (bench/server -mode raw), all in the same run. The
// cross-node broadcast scenario runs two-node clusters of ours and of Node
// on the Redis server at BENCH_REDIS (default 127.0.0.1:6379; channels under
// a key prefix of the run only; skipped when Redis does not answer).
//
// -only (or BENCH_ONLY) runs the scenarios named, comma-separated, among
// echo, pipelined, broadcast, idle, storm, polling, client and cluster;
// its report goes to bench/results/only/ unless BENCH_OUT is set.
//
// Environment: BENCH_QUICK=1 runs every scenario once, briefly, with fewer
// connections (a smoke test, ~30 s); BENCH_RUNS (default 5) and
// BENCH_SECONDS (default 2) override the runs and window; BENCH_OUT names
// the markdown file (default BENCHMARKS.md; BENCH_QUICK writes to
// bench/results/quick/ unless set); BENCH_SERVER_CPU and BENCH_CLIENT_CPU
// choose the CPUs (default 0 and 1).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	root      string // repository root
	out       string // markdown file
	assets    string // directory of SVG and JSON results
	bin       string // built binaries
	quick     bool
	runs      int
	seconds   float64
	serverCPU string
	clientCPU string
	node      bool   // bench/node/node_modules is installed
	only      string // scenario ids, comma-separated ("": all)
	redis     string // Redis server of the cluster scenario
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	cfg, err := setup()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	rep := &report{cfg: cfg, started: start, loadStart: loadavg()}
	list := scenarios(cfg)
	if cfg.only != "" {
		var picked []scenario
		for _, id := range strings.Split(cfg.only, ",") {
			found := false
			for _, sc := range list {
				if sc.id == strings.TrimSpace(id) {
					picked, found = append(picked, sc), true
				}
			}
			if !found {
				log.Fatalf("-only: unknown scenario %q", id)
			}
		}
		list = picked
	}
	for _, sc := range list {
		log.Printf("scenario %s (load average %s)", sc.title, loadavg())
		res, err := sc.run(ctx, cfg)
		if err != nil {
			log.Fatalf("%s: %v", sc.title, err)
		}
		rep.sections = append(rep.sections, res)
	}
	rep.loadEnd = loadavg()
	rep.elapsed = time.Since(start)
	if err := rep.write(); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %s", cfg.out, rep.elapsed.Round(time.Second))
}

func setup() (*config, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "run", "main.go")); err != nil {
		return nil, errors.New("run from the repository root (make bench)")
	}
	cfg := &config{root: root, runs: 5, seconds: 2, serverCPU: "0", clientCPU: "1", redis: "127.0.0.1:6379"}
	flag.StringVar(&cfg.only, "only", os.Getenv("BENCH_ONLY"), "run only these scenarios (comma-separated ids: echo, pipelined, broadcast, idle, storm, polling, client, cluster)")
	flag.Parse()
	if v := os.Getenv("BENCH_REDIS"); v != "" {
		cfg.redis = v
	}
	cfg.quick = os.Getenv("BENCH_QUICK") == "1"
	if cfg.quick {
		cfg.runs, cfg.seconds = 1, 0.5
	}
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		if cfg.runs, err = strconv.Atoi(v); err != nil || cfg.runs < 1 {
			return nil, fmt.Errorf("bad BENCH_RUNS %q", v)
		}
	}
	if v := os.Getenv("BENCH_SECONDS"); v != "" {
		if cfg.seconds, err = strconv.ParseFloat(v, 64); err != nil || cfg.seconds <= 0 {
			return nil, fmt.Errorf("bad BENCH_SECONDS %q", v)
		}
	}
	if v := os.Getenv("BENCH_SERVER_CPU"); v != "" {
		cfg.serverCPU = v
	}
	if v := os.Getenv("BENCH_CLIENT_CPU"); v != "" {
		cfg.clientCPU = v
	}
	cfg.out = os.Getenv("BENCH_OUT")
	switch {
	case cfg.out != "":
	case cfg.quick:
		cfg.out = filepath.Join(root, "bench", "results", "quick", "BENCHMARKS.md")
	case cfg.only != "":
		cfg.out = filepath.Join(root, "bench", "results", "only", "BENCHMARKS.md")
	default:
		cfg.out = filepath.Join(root, "BENCHMARKS.md")
	}
	if cfg.out == filepath.Join(root, "BENCHMARKS.md") {
		cfg.assets = filepath.Join(root, "bench", "results")
	} else {
		cfg.assets = filepath.Dir(cfg.out)
	}
	if err := os.MkdirAll(cfg.assets, 0o755); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, errors.New("taskset is needed (util-linux)")
	}
	if runtime.NumCPU() < 2 {
		return nil, errors.New("two CPUs are needed: one for the server, one for the load generator")
	}
	_, err = os.Stat(filepath.Join(root, "bench", "node", "node_modules", "socket.io"))
	cfg.node = err == nil
	if !cfg.node {
		log.Printf("bench/node/node_modules is missing (npm ci --prefix bench/node): Node is left out")
	}
	cfg.bin, err = os.MkdirTemp("", "sio-bench-")
	if err != nil {
		return nil, err
	}
	for pkg, name := range map[string]string{"./cmd/sio": "sio", "./bench/server": "server"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(cfg.bin, name), pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	return cfg, nil
}

// --- Servers under test ---------------------------------------------------------

type serverKind string

const (
	ours serverKind = "ours"
	// oursGoroutines is our server with every handler on its socket's
	// goroutine (Options.InlineHandlerTimeout -1), in the echo and pipelined
	// scenarios.
	oursGoroutines serverKind = "ours-goroutines"
	// oursListener is our server behind its Listener, which answers
	// long-polling requests without net/http, in the polling scenario.
	oursListener serverKind = "ours-listener"
	node         serverKind = "node"
	raw          serverKind = "raw-ws"
)

type server struct {
	kind serverKind
	cmd  *exec.Cmd
	addr string
	pid  int
}

func (cfg *config) kinds(withRaw bool) []serverKind {
	out := []serverKind{ours}
	if cfg.node {
		out = append(out, node)
	}
	if withRaw {
		out = append(out, raw)
	}
	return out
}

// start launches a server pinned to the server CPU and waits for its address.
func start(cfg *config, kind serverKind) (*server, error) {
	return startWith(cfg, kind, "", cfg.serverCPU)
}

// bothCPUs is the CPU list of a "both cores" run: the server and the load
// generator each may use both CPUs.
func (cfg *config) bothCPUs() string { return cfg.serverCPU + "," + cfg.clientCPU }

// startWith is start on the CPUs cpus; with a key, the server joins the
// cluster of that key on cfg.redis (classic Redis adapter).
func startWith(cfg *config, kind serverKind, key, cpus string) (*server, error) {
	args := []string{"-c", cpus}
	switch kind {
	case ours:
		args = append(args, filepath.Join(cfg.bin, "server"), "-mode", "sio")
	case oursGoroutines:
		args = append(args, filepath.Join(cfg.bin, "server"), "-mode", "sio", "-handler-goroutines")
	case oursListener:
		args = append(args, filepath.Join(cfg.bin, "server"), "-mode", "sio", "-poll-listener")
	case raw:
		args = append(args, filepath.Join(cfg.bin, "server"), "-mode", "raw")
	case node:
		args = append(args, "node", "--expose-gc", filepath.Join(cfg.root, "bench", "node", "server.mjs"))
	}
	switch {
	case key != "" && kind == ours:
		args = append(args, "-redis", cfg.redis, "-key", key)
	case key != "" && kind == node:
		args = append(args, "--redis", "redis://"+cfg.redis, "--key", key)
	}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" && kind == ours && key == "" {
		args = append(args, "-cpuprofile", p)
	}
	cmd := tied(exec.Command("taskset", args...))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{kind: kind, cmd: cmd, pid: cmd.Process.Pid} // taskset execs the server: same pid
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- a
			}
		}
	}()
	select {
	case s.addr = <-line:
		return s, nil
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s did not start", kind)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// result is the JSON that sio bench prints (the fields used here).
type result struct {
	Messages    uint64  `json:"messages"`
	Seconds     float64 `json:"seconds"`
	Rate        float64 `json:"rate"`
	Errors      uint64  `json:"errors"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	P999us      float64 `json:"p999_us"`
	ConnectS    float64 `json:"connect_seconds"`
	ClientCPU   float64 `json:"client_cpu_s"`
	ServerCPU   float64 `json:"server_cpu_s"`
	ServerSys   float64 `json:"server_sys_s"` // the kernel's part of ServerCPU
	ServerRSS0  int64   `json:"server_rss0"`
	ServerRSS1  int64   `json:"server_rss1"`
	EmitCPU     float64 `json:"emit_server_cpu_s"` // the emitting node's, cross-node broadcast
	StatsBefore *stats  `json:"stats_before"`
	StatsAfter  *stats  `json:"stats_after"`
	Load        string  `json:"loadavg"`
}

type stats struct {
	Heap       int64 `json:"heap"`
	Goroutines int   `json:"goroutines"`
	RSS        int64 `json:"rss"`
}

// loadgen runs sio bench pinned to the client CPU against s.
func loadgen(ctx context.Context, cfg *config, s *server, args ...string) (*result, error) {
	return loadgenOn(ctx, cfg, cfg.clientCPU, s, args...)
}

// loadgenOn is loadgen on the CPUs cpus.
func loadgenOn(ctx context.Context, cfg *config, cpus string, s *server, args ...string) (*result, error) {
	full := append([]string{"-c", cpus, filepath.Join(cfg.bin, "sio"), "bench", "-json", "-quiet",
		"-pid", strconv.Itoa(s.pid), "-stats", "http://" + s.addr + "/stats"}, args...)
	full = append(full, "http://"+s.addr)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := tied(exec.CommandContext(ctx, "taskset", full...))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sio bench %s against %s: %w", strings.Join(args, " "), s.kind, err)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("sio bench output: %w: %s", err, out)
	}
	return &r, nil
}

// --- Scenarios ------------------------------------------------------------------------

// measure is one table row: a server's medians in one variant of a scenario.
type measure struct {
	Variant string
	Server  serverKind
	Runs    []*result
	// Medians.
	Rate, PerCPU, CPUus, P50, P99, P999 float64
	// SysPct is the part of the server's CPU time spent in the kernel
	// (stime), in percent.
	SysPct float64
	Extra  map[string]float64
	Errors uint64
}

type section struct {
	ID, Title, Unit, Notes string
	Rows                   []*measure
	Load                   []string // load average at the start and end
}

type scenario struct {
	id, title string
	run       func(ctx context.Context, cfg *config) (*section, error)
}

func (cfg *config) dur() string { return strconv.FormatFloat(cfg.seconds, 'f', -1, 64) + "s" }

func (cfg *config) warm() string {
	if cfg.quick {
		return "200ms"
	}
	return "500ms"
}

// throughput runs the variants against each server (each server started once
// per scenario), interleaving the servers in each round.
func throughput(id, title, unit string, withRaw bool, variants []variant) scenario {
	return scenario{id: id, title: title, run: func(ctx context.Context, cfg *config) (*section, error) {
		sec := &section{ID: id, Title: title, Unit: unit, Load: []string{loadavg()}}
		if cfg.quick && len(variants) > 1 {
			variants = variants[:1] // a smoke test: one variant per scenario
		}
		for _, v := range variants {
			kinds := cfg.kinds(withRaw && !v.noRaw)
			if v.goroutines {
				kinds = append([]serverKind{ours, oursGoroutines}, kinds[1:]...)
			}
			if v.listener {
				kinds = append([]serverKind{ours, oursListener}, kinds[1:]...)
			}
			serverCPUs, clientCPUs := cfg.serverCPU, cfg.clientCPU
			if v.bothCores {
				serverCPUs, clientCPUs = cfg.bothCPUs(), cfg.bothCPUs()
			}
			servers := map[serverKind]*server{}
			for _, k := range kinds {
				s, err := startWith(cfg, k, "", serverCPUs)
				if err != nil {
					return nil, err
				}
				defer s.stop()
				servers[k] = s
			}
			rows := map[serverKind]*measure{}
			for round := 0; round < cfg.runs; round++ {
				for _, k := range rotate(kinds, round) {
					args := append([]string{"-duration", cfg.dur(), "-warmup", cfg.warm()}, v.args...)
					r, err := loadgenOn(ctx, cfg, clientCPUs, servers[k], args...)
					if err != nil {
						return nil, err
					}
					log.Printf("  %-28s %-6s %10.0f/s  server %.2f µs/msg (%.0f%% kernel)  p99 %.0f µs  load %s", v.name, k, r.Rate, r.ServerCPU*1e6/float64(max(r.Messages, 1)), 100*r.ServerSys/max(r.ServerCPU, 1e-9), r.P99us, r.Load)
					if rows[k] == nil {
						rows[k] = &measure{Variant: v.name, Server: k}
					}
					rows[k].Runs = append(rows[k].Runs, r)
				}
			}
			for _, k := range kinds {
				s := servers[k]
				s.stop()
				m := rows[k]
				m.summarise()
				sec.Rows = append(sec.Rows, m)
			}
		}
		sec.Load = append(sec.Load, loadavg())
		return sec, nil
	}}
}

type variant struct {
	name       string
	args       []string
	noRaw      bool
	goroutines bool // also run our server with handlers on goroutines
	listener   bool // also run our server behind its polling Listener
	// bothCores: the server and the load generator are not pinned apart,
	// each may use both CPUs (GOMAXPROCS 2 for the Go processes); the
	// figure that counts is then deliveries per second.
	bothCores bool
}

func (m *measure) summarise() {
	med := func(f func(r *result) float64) float64 {
		xs := make([]float64, len(m.Runs))
		for i, r := range m.Runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	m.Rate = med(func(r *result) float64 { return r.Rate })
	// Server CPU: all the servers' (both nodes of a cluster).
	m.PerCPU = med(perServerCPU)
	m.CPUus = med(func(r *result) float64 { return (r.ServerCPU + r.EmitCPU) * 1e6 / float64(max(r.Messages, 1)) })
	m.SysPct = med(func(r *result) float64 {
		if r.ServerCPU <= 0 {
			return 0
		}
		return 100 * r.ServerSys / r.ServerCPU
	})
	m.P50 = med(func(r *result) float64 { return r.P50us })
	m.P99 = med(func(r *result) float64 { return r.P99us })
	m.P999 = med(func(r *result) float64 { return r.P999us })
	for _, r := range m.Runs {
		m.Errors += r.Errors
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// bothCoresSuffix ends the name of the broadcast variant run on both CPUs.
const bothCoresSuffix = "both cores (not pinned apart)"

func bothCoresVariant(clients string) string { return clients + " clients, 32 B, " + bothCoresSuffix }

func scenarios(cfg *config) []scenario {
	q := cfg.quick
	pick := func(full, quick int) string {
		if q {
			return strconv.Itoa(quick)
		}
		return strconv.Itoa(full)
	}
	bigFan := pick(10000, 2000)
	out := []scenario{
		throughput("echo", "1. Ping-pong echo", "echoes", true, []variant{
			{name: "100 conns, 1 in flight, 32 B", args: []string{"-mode", "echo", "-c", "100", "-inflight", "1", "-size", "32"}, goroutines: true},
		}),
		throughput("pipelined", "2. Pipelined echo and acks", "messages", true, []variant{
			{name: "echo, 100 x 16 in flight, 32 B", args: []string{"-mode", "echo", "-c", "100", "-inflight", "16", "-size", "32"}, goroutines: true},
			{name: "echo, 100 x 16 in flight, 1 kB", args: []string{"-mode", "echo", "-c", "100", "-inflight", "16", "-size", "1024"}, goroutines: true},
			{name: "ack, 100 x 16 in flight, 32 B", args: []string{"-mode", "ack", "-c", "100", "-inflight", "16", "-size", "32"}, goroutines: true},
			{name: "ack, 100 x 16 in flight, 1 kB", args: []string{"-mode", "ack", "-c", "100", "-inflight", "16", "-size", "1024"}, goroutines: true},
		}),
		throughput("broadcast", "3. Broadcast fan-out (one emitter, 4 broadcasts in flight, each until every receiver has it)", "deliveries", true, []variant{
			{name: "1k clients, 32 B", args: []string{"-mode", "broadcast", "-c", pick(1000, 500), "-inflight", "4", "-size", "32"}},
			{name: "1k clients, 1 kB", args: []string{"-mode", "broadcast", "-c", pick(1000, 500), "-inflight", "4", "-size", "1024"}},
			{name: bigFan + " clients, 32 B", args: []string{"-mode", "broadcast", "-c", bigFan, "-inflight", "4", "-size", "32"}},
			{name: bigFan + " clients, 1 kB", args: []string{"-mode", "broadcast", "-c", bigFan, "-inflight", "4", "-size", "1024"}},
			{name: "room of 100 among 1k, 32 B", args: []string{"-mode", "broadcast", "-c", pick(1000, 500), "-room", "100", "-inflight", "4", "-size", "32"}},
			{name: bothCoresVariant(bigFan), args: []string{"-mode", "broadcast", "-c", bigFan, "-inflight", "4", "-size", "32"}, noRaw: true, bothCores: true},
		}),
		idleScenario(pick(10000, 1000)),
		stormScenario(),
		throughput("polling", "6. Long-polling only: 500 clients, 10 messages/s each", "echoes", false, []variant{
			{name: pick(500, 100) + " clients x 10 msg/s, 32 B", args: []string{"-mode", "echo", "-transport", "polling", "-c", pick(500, 100), "-rate", "10", "-size", "32"}, listener: true},
		}),
		clientScenario(),
		clusterScenario(pick(1000, 500)),
	}
	return out
}

// idleScenario opens n WebSocket connections to a fresh server, holds them and
// reads the server's memory after GC and its idle CPU.
func idleScenario(n string) scenario {
	return scenario{id: "idle", title: "4. Idle WebSocket connections", run: func(ctx context.Context, cfg *config) (*section, error) {
		sec := &section{ID: "idle", Title: "4. Idle WebSocket connections (" + n + ")", Unit: "connections", Load: []string{loadavg()},
			Notes: "50k connections cannot be opened here: the container's open-file hard limit is 20000 per process and cannot be raised (no CAP_SYS_RESOURCE)."}
		hold := "3s"
		if cfg.quick {
			hold = "1s"
		}
		for _, k := range cfg.kinds(true) {
			m := &measure{Variant: n + " idle connections", Server: k, Extra: map[string]float64{}}
			var rssPer, heapPer, cpuPct []float64
			for round := 0; round < cfg.runs; round++ {
				s, err := start(cfg, k)
				if err != nil {
					return nil, err
				}
				r, err := loadgen(ctx, cfg, s, "-mode", "idle", "-c", n, "-duration", hold, "-warmup", "1s", "-dial-concurrency", "128")
				s.stop()
				if err != nil {
					return nil, err
				}
				c, _ := strconv.ParseFloat(n, 64)
				if r.StatsBefore != nil && r.StatsAfter != nil {
					rssPer = append(rssPer, float64(r.StatsAfter.RSS-r.StatsBefore.RSS)/c)
					heapPer = append(heapPer, float64(r.StatsAfter.Heap-r.StatsBefore.Heap)/c)
				}
				cpuPct = append(cpuPct, 100*r.ServerCPU/r.Seconds)
				m.Runs = append(m.Runs, r)
				log.Printf("  %-28s %-6s RSS/conn %.0f B  heap/conn %.0f B  idle CPU %.2f%%  load %s", m.Variant, k, last(rssPer), last(heapPer), last(cpuPct), r.Load)
			}
			m.Extra["rss_per_conn"] = median(rssPer)
			m.Extra["heap_per_conn"] = median(heapPer)
			m.Extra["idle_cpu_pct"] = median(cpuPct)
			m.Extra["connect_per_s"] = median(mapRuns(m.Runs, func(r *result) float64 {
				c, _ := strconv.ParseFloat(n, 64)
				return c / r.ConnectS
			}))
			for _, r := range m.Runs {
				m.Errors += r.Errors
			}
			sec.Rows = append(sec.Rows, m)
		}
		sec.Load = append(sec.Load, loadavg())
		return sec, nil
	}}
}

// stormScenario loops handshake + CONNECT + close; a last long run on our
// server checks that goroutines and heap return to the baseline.
func stormScenario() scenario {
	return scenario{id: "storm", title: "5. Connection storm", run: func(ctx context.Context, cfg *config) (*section, error) {
		sec := &section{ID: "storm", Title: "5. Connection storm (32 workers: handshake + CONNECT + close)", Unit: "cycles", Load: []string{loadavg()}}
		kinds := cfg.kinds(true)
		servers := map[serverKind]*server{}
		rows := map[serverKind]*measure{}
		for _, k := range kinds {
			s, err := start(cfg, k)
			if err != nil {
				return nil, err
			}
			defer s.stop()
			servers[k] = s
			rows[k] = &measure{Variant: "handshake + CONNECT + close", Server: k, Extra: map[string]float64{}}
		}
		for round := 0; round < cfg.runs; round++ {
			for _, k := range rotate(kinds, round) {
				r, err := loadgen(ctx, cfg, servers[k], "-mode", "storm", "-c", "32", "-duration", cfg.dur(), "-warmup", cfg.warm())
				if err != nil {
					return nil, err
				}
				rows[k].Runs = append(rows[k].Runs, r)
				log.Printf("  %-28s %-6s %8.0f conn/s  load %s", rows[k].Variant, k, r.Rate, r.Load)
			}
		}
		for _, k := range kinds {
			m := rows[k]
			m.summarise()
			if k == ours {
				cycles := "100000"
				if cfg.quick {
					cycles = "5000"
				}
				r, err := loadgen(ctx, cfg, servers[k], "-mode", "storm", "-c", "32", "-cycles", cycles, "-duration", "120s", "-warmup", "0s")
				if err != nil {
					return nil, err
				}
				if r.StatsBefore != nil && r.StatsAfter != nil {
					m.Extra["leak_cycles"] = float64(r.Messages)
					m.Extra["goroutines_before"] = float64(r.StatsBefore.Goroutines)
					m.Extra["goroutines_after"] = float64(r.StatsAfter.Goroutines)
					m.Extra["heap_before"] = float64(r.StatsBefore.Heap)
					m.Extra["heap_after"] = float64(r.StatsAfter.Heap)
					log.Printf("  leak check: %d cycles, goroutines %d -> %d, heap %d -> %d KiB", r.Messages,
						r.StatsBefore.Goroutines, r.StatsAfter.Goroutines, r.StatsBefore.Heap>>10, r.StatsAfter.Heap>>10)
				}
			}
			servers[k].stop()
			sec.Rows = append(sec.Rows, m)
		}
		sec.Load = append(sec.Load, loadavg())
		return sec, nil
	}}
}

// clientScenario compares the load generators' own CPU: our client library
// (sio bench -client lib) and the official Node client, both driving our
// server with scenario 2's pipelined echo.
func clientScenario() scenario {
	return scenario{id: "client", title: "7. Client efficiency (pipelined echo against our server, 100 x 16 in flight, 32 B)", run: func(ctx context.Context, cfg *config) (*section, error) {
		sec := &section{ID: "client", Title: "7. Client efficiency (pipelined echo against our server, 100 x 16 in flight, 32 B)", Unit: "echoes", Load: []string{loadavg()}}
		s, err := start(cfg, ours)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		type cl struct {
			name serverKind
			run  func() (*result, error)
		}
		clients := []cl{
			{"ours (client lib)", func() (*result, error) {
				return loadgen(ctx, cfg, s, "-client", "lib", "-mode", "echo", "-c", "100", "-inflight", "16", "-duration", cfg.dur(), "-warmup", cfg.warm())
			}},
			{"ours (sio bench fast path)", func() (*result, error) {
				return loadgen(ctx, cfg, s, "-mode", "echo", "-c", "100", "-inflight", "16", "-duration", cfg.dur(), "-warmup", cfg.warm())
			}},
		}
		if cfg.node {
			clients = append(clients, cl{"node socket.io-client", func() (*result, error) {
				cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				defer cancel()
				warm := strings.TrimSuffix(cfg.warm(), "ms")
				w, _ := strconv.ParseFloat(warm, 64)
				cmd := tied(exec.CommandContext(cctx, "taskset", "-c", cfg.clientCPU, "node", filepath.Join(cfg.root, "bench", "node", "client.mjs"),
					"http://"+s.addr, "100", "16", "32", strconv.FormatFloat(cfg.seconds, 'f', -1, 64), strconv.FormatFloat(w/1000, 'f', -1, 64)))
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					return nil, fmt.Errorf("node client.mjs: %w", err)
				}
				var r result
				if err := json.Unmarshal(out, &r); err != nil {
					return nil, err
				}
				r.Load = loadavg()
				return &r, nil
			}})
		}
		rows := map[serverKind]*measure{}
		for round := 0; round < cfg.runs; round++ {
			for _, c := range rotate(clients, round) {
				r, err := c.run()
				if err != nil {
					return nil, err
				}
				if rows[c.name] == nil {
					rows[c.name] = &measure{Variant: "client CPU", Server: c.name, Extra: map[string]float64{}}
				}
				rows[c.name].Runs = append(rows[c.name].Runs, r)
				log.Printf("  %-28s %8.0f/s  client %.2f µs/msg  load %s", c.name, r.Rate, r.ClientCPU*1e6/float64(max(r.Messages, 1)), r.Load)
			}
		}
		for _, c := range clients {
			m := rows[c.name]
			m.summarise()
			m.Extra["client_per_cpu"] = median(mapRuns(m.Runs, perClientCPU))
			m.Extra["client_us"] = median(mapRuns(m.Runs, func(r *result) float64 { return r.ClientCPU * 1e6 / float64(max(r.Messages, 1)) }))
			sec.Rows = append(sec.Rows, m)
		}
		sec.Load = append(sec.Load, loadavg())
		return sec, nil
	}}
}

// rotate returns xs started at index round (mod len): each round runs the
// servers in another order, so that a drift of the machine's speed during
// a round does not always favour the same one.
func rotate[T any](xs []T, round int) []T {
	if len(xs) == 0 {
		return xs
	}
	k := round % len(xs)
	return append(append([]T(nil), xs[k:]...), xs[:k]...)
}

// pairedRatio compares m with base by f: the median over the rounds of
// f(m's run) / f(base's run in the same round), so that the machine's
// drift from one round to the next (tens of percent here over minutes)
// cancels out. Without paired runs it is the ratio of the medians.
func pairedRatio(m, base *measure, f func(*result) float64) float64 {
	if len(m.Runs) == len(base.Runs) && len(m.Runs) > 0 {
		rs := make([]float64, 0, len(m.Runs))
		for i := range m.Runs {
			if b := f(base.Runs[i]); b > 0 {
				rs = append(rs, f(m.Runs[i])/b)
			}
		}
		if len(rs) == len(m.Runs) {
			return median(rs)
		}
	}
	a, b := median(mapRuns(m.Runs, f)), median(mapRuns(base.Runs, f))
	if b == 0 {
		return 0
	}
	return a / b
}

// perServerCPU is messages per CPU-second of the server(s).
func perServerCPU(r *result) float64 {
	if r.ServerCPU+r.EmitCPU == 0 {
		return 0
	}
	return float64(r.Messages) / (r.ServerCPU + r.EmitCPU)
}

// perClientCPU is messages per CPU-second of the load generator.
func perClientCPU(r *result) float64 {
	if r.ClientCPU == 0 {
		return 0
	}
	return float64(r.Messages) / r.ClientCPU
}

func mapRuns(rs []*result, f func(*result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
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
