// Command compare measures WebSocket server implementations on loopback:
// echo throughput (ping-pong and pipelined), server CPU and allocations per
// message, and memory per idle connection. The same raw-frame client drives
// every server, and each server runs in its own process so that its CPU time
// and memory statistics are its own.
//
//	cd internal/websocket/compare && go run . [-duration 3s] [-rounds 3] [-conns 50] [-idle 2000]
//
// COMPARE_CPUPROFILE=file writes a CPU profile of each server's first 5 s
// (the last server started overwrites it, so use it with -impls one,-rounds 1).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	serveFlag = flag.String("serve", "", "internal: run the server for this implementation")
	implsFlag = flag.String("impls", "ours,ours-batched,gorilla,gws,coder", "implementations to measure")
	duration  = flag.Duration("duration", 3*time.Second, "duration of each throughput run")
	conns     = flag.Int("conns", 50, "client connections for the throughput runs")
	pipeline  = flag.Int("pipeline", 16, "messages in flight per connection in the pipelined run")
	idleConns = flag.Int("idle", 2000, "connections for the idle-memory measurement")
	msgSize   = flag.Int("size", 32, "message size in bytes")
	rounds    = flag.Int("rounds", 3, "interleaved rounds of throughput runs; medians are reported")
)

func main() {
	flag.Parse()
	if *serveFlag != "" {
		if err := serve(*serveFlag); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("machine: %s/%s, %d CPUs, %s; %d conns x %d-byte text messages, %v per run, pipeline %d, %d idle conns\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), *conns, *msgSize, *duration, *pipeline, *idleConns)
	fmt.Printf("load average at start: %s\n", loadavg())
	impls := strings.Split(*implsFlag, ",")
	// Rounds are interleaved, so that a burst of load from other processes
	// on the machine hits every implementation alike; the median is reported.
	runs := make([][]result, len(impls))
	for round := 0; round < *rounds; round++ {
		for i, impl := range impls {
			r, err := measure(impl, round == 0)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", impl, err)
				os.Exit(1)
			}
			runs[i] = append(runs[i], r)
			fmt.Fprintf(os.Stderr, "round %d: %s done\n", round+1, impl)
		}
	}
	fmt.Printf("load average at end: %s\n\n", loadavg())
	rows := make([]result, len(impls))
	for i, rs := range runs {
		rows[i] = median(rs)
	}
	printTable(rows)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// median combines rounds: the median of each throughput figure; idle memory
// comes from the first round, the only one that measures it.
func median(rs []result) result {
	m := rs[0]
	pick := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	m.pingpong.msgsPerSec = pick(func(r result) float64 { return r.pingpong.msgsPerSec })
	m.pingpong.cpuPerMsg = time.Duration(pick(func(r result) float64 { return float64(r.pingpong.cpuPerMsg) }))
	m.pingpong.allocsPerMsg = pick(func(r result) float64 { return r.pingpong.allocsPerMsg })
	m.pingpong.bytesPerMsg = pick(func(r result) float64 { return r.pingpong.bytesPerMsg })
	m.piped.msgsPerSec = pick(func(r result) float64 { return r.piped.msgsPerSec })
	m.piped.cpuPerMsg = time.Duration(pick(func(r result) float64 { return float64(r.piped.cpuPerMsg) }))
	m.piped.allocsPerMsg = pick(func(r result) float64 { return r.piped.allocsPerMsg })
	return m
}

type result struct {
	impl             string
	pingpong, piped  throughput
	idleFresh, idle1 idleMem
}

type throughput struct {
	msgsPerSec    float64
	cpuPerMsg     time.Duration
	allocsPerMsg  float64
	bytesPerMsg   float64
	serverMessags int64
}

type idleMem struct {
	bytesPerConn      float64
	stackPerConn      float64
	goroutinesPerConn float64
}

// server is a child process running one implementation.
type server struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(impl string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve="+impl)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server did not start: %w", err)
	}
	return &server{cmd: cmd, addr: strings.TrimSpace(line)}, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *server) stats(gc bool) (stats, error) {
	url := "http://" + s.addr + "/stats"
	if gc {
		url += "?gc=1"
	}
	resp, err := http.Get(url)
	if err != nil {
		return stats{}, err
	}
	defer resp.Body.Close()
	var st stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func measure(impl string, withIdle bool) (result, error) {
	r := result{impl: impl}
	s, err := startServer(impl)
	if err != nil {
		return r, err
	}
	defer s.stop()
	// Warm up, so that pools and the runtime have settled.
	if _, err := s.echoRun(*conns, 1, 300*time.Millisecond); err != nil {
		return r, fmt.Errorf("warm-up: %w", err)
	}
	if r.pingpong, err = s.echoRun(*conns, 1, *duration); err != nil {
		return r, fmt.Errorf("ping-pong: %w", err)
	}
	if r.piped, err = s.echoRun(*conns, *pipeline, *duration); err != nil {
		return r, fmt.Errorf("pipelined: %w", err)
	}
	if !withIdle {
		return r, nil
	}
	if r.idleFresh, r.idle1, err = s.idleRun(*idleConns); err != nil {
		return r, fmt.Errorf("idle: %w", err)
	}
	return r, nil
}

// echoRun drives n connections that each keep depth messages in flight and
// wait for their echoes, for d.
func (s *server) echoRun(n, depth int, d time.Duration) (throughput, error) {
	clients := make([]*rawClient, n)
	for i := range clients {
		c, err := dialRaw(s.addr)
		if err != nil {
			return throughput{}, err
		}
		defer c.nc.Close()
		clients[i] = c
	}
	time.Sleep(100 * time.Millisecond) // let the server goroutines settle
	before, err := s.stats(false)
	if err != nil {
		return throughput{}, err
	}
	var (
		total    atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func(c *rawClient) {
			defer wg.Done()
			for !stop.Load() {
				if err := c.roundTrip(depth); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				total.Add(int64(depth))
			}
		}(c)
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	after, err := s.stats(false)
	if err != nil {
		return throughput{}, err
	}
	if firstErr != nil {
		return throughput{}, firstErr
	}
	m := total.Load()
	return throughput{
		msgsPerSec:    float64(m) / elapsed.Seconds(),
		cpuPerMsg:     time.Duration((after.CPUNanos - before.CPUNanos) / m),
		allocsPerMsg:  float64(after.Mallocs-before.Mallocs) / float64(m),
		bytesPerMsg:   float64(after.TotalAlloc-before.TotalAlloc) / float64(m),
		serverMessags: m,
	}, nil
}

// idleRun opens n connections and reports the server's heap + stack growth
// per connection, right after the handshake and after one echoed message.
func (s *server) idleRun(n int) (fresh, afterMsg idleMem, err error) {
	base, err := s.stats(true)
	if err != nil {
		return
	}
	clients := make([]*rawClient, 0, n)
	defer func() {
		for _, c := range clients {
			c.nc.Close()
		}
	}()
	for i := 0; i < n; i++ {
		var c *rawClient
		if c, err = dialRaw(s.addr); err != nil {
			return
		}
		clients = append(clients, c)
	}
	per := func() (idleMem, error) {
		time.Sleep(300 * time.Millisecond) // let every handler block in its read
		st, err := s.stats(true)
		if err != nil {
			return idleMem{}, err
		}
		mem := float64(st.HeapInuse+st.StackInuse) - float64(base.HeapInuse+base.StackInuse)
		return idleMem{
			bytesPerConn:      mem / float64(n),
			stackPerConn:      (float64(st.StackInuse) - float64(base.StackInuse)) / float64(n),
			goroutinesPerConn: float64(st.Goroutines-base.Goroutines) / float64(n),
		}, nil
	}
	if fresh, err = per(); err != nil {
		return
	}
	for _, c := range clients {
		if err = c.roundTrip(1); err != nil {
			return
		}
	}
	afterMsg, err = per()
	return
}

// rawClient is the client used for every server: it writes pre-encoded
// masked frames and parses the server's unmasked ones.
type rawClient struct {
	nc    net.Conn
	br    *bufio.Reader
	frame []byte // one masked text frame
	batch []byte
	buf   []byte
}

func dialRaw(addr string) (*rawClient, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("handshake: status %d", resp.StatusCode)
	}
	payload := []byte(strings.Repeat("x", *msgSize))
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	frame := []byte{0x81}
	if len(payload) > 125 {
		return nil, errors.New("message size must be at most 125")
	}
	frame = append(frame, 0x80|byte(len(payload)))
	frame = append(frame, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i&3])
	}
	return &rawClient{nc: nc, br: br, frame: frame, buf: make([]byte, 2+len(payload))}, nil
}

// roundTrip writes depth messages in one write and reads their echoes.
func (c *rawClient) roundTrip(depth int) error {
	if len(c.batch) != depth*len(c.frame) {
		c.batch = c.batch[:0]
		for i := 0; i < depth; i++ {
			c.batch = append(c.batch, c.frame...)
		}
	}
	if _, err := c.nc.Write(c.batch); err != nil {
		return err
	}
	for i := 0; i < depth; i++ {
		if _, err := io.ReadFull(c.br, c.buf); err != nil {
			return err
		}
		if c.buf[0] != 0x81 || int(c.buf[1]) != len(c.buf)-2 || c.buf[2] != 'x' {
			return fmt.Errorf("unexpected echo frame % x", c.buf[:2])
		}
	}
	return nil
}

func printTable(rows []result) {
	fmt.Println("| server | ping-pong msg/s | CPU/msg | allocs/msg | B/msg | pipelined msg/s | CPU/msg | allocs/msg | idle B/conn (of which stack) | idle B/conn after 1 msg | goroutines/conn |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %s | %.0f | %v | %.2f | %.0f | %.0f | %v | %.2f | %.0f (%.0f) | %.0f | %.2f |\n",
			r.impl,
			r.pingpong.msgsPerSec, r.pingpong.cpuPerMsg, r.pingpong.allocsPerMsg, r.pingpong.bytesPerMsg,
			r.piped.msgsPerSec, r.piped.cpuPerMsg, r.piped.allocsPerMsg,
			r.idleFresh.bytesPerConn, r.idleFresh.stackPerConn, r.idle1.bytesPerConn, r.idle1.goroutinesPerConn)
	}
}
