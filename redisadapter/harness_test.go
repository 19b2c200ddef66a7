package redisadapter_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// go-redis's process-wide helpers, started on first use.
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/maintnotifications.(*poolHook).cleanupWorker"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal.(*process).start.func1"),
	)
}

const redisAddr = "127.0.0.1:6379"

// skipOrFail skips the test, loudly, or fails it when CI is set (where
// everything the tests need must be there).
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal("CI: " + msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// newRedis returns a client of the shared Redis server, or skips.
func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	return newRedisAt(t, redisAddr)
}

func newRedisAt(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: 1, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		skipOrFail(t, "no Redis server at %s (%v); start one with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// uniqueKey returns a channel prefix of this test only: tests share one
// Redis server and must never see each other's messages.
func uniqueKey(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return "siotest-" + name + "-" + hex.EncodeToString(b[:])
}

// cmdOptions are the options of a cluster-wide command.
type cmdOptions struct {
	Rooms  []string `json:"rooms,omitempty"`
	Except []string `json:"except,omitempty"`
}

// node is a server of the cluster, Go or Node, driven the same way.
type node interface {
	Name() string
	URL() string
	Emit(t *testing.T, o cmdOptions, event string, args ...any)
	EmitWithAck(t *testing.T, o cmdOptions, event string) []string
	FetchSockets(t *testing.T, o cmdOptions) []string // "name:room1,room2" sorted
	ServerSideEmitWithAck(t *testing.T, event string) []string
	SocketsJoin(t *testing.T, o cmdOptions, room string)
	DisconnectSockets(t *testing.T, o cmdOptions, close bool)
	ServerCount(t *testing.T) int
}

// goNode is a Go server with a cluster adapter.
type goNode struct {
	name string
	srv  *socketio.Server
	url  string
}

func newGoNode(t *testing.T, name string, adapter func(*socketio.Namespace) socketio.Adapter) *goNode {
	t.Helper()
	srv, err := socketio.NewServer(&socketio.Options{Adapter: adapter})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		var auth struct {
			Name string `json:"name"`
		}
		_ = s.Handshake().BindAuth(&auth)
		s.SetData(map[string]any{"name": auth.Name})
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Decode(0, &room)
			s.Join(room)
			_ = e.Ack()
		})
	})
	srv.Of("/").OnServerSideEmit(func(event string, args socketio.Args, ack func(...any)) {
		if event == "ping" && ack != nil {
			ack("pong-" + name)
		}
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return &goNode{name: name, srv: srv, url: hs.URL}
}

func (g *goNode) Name() string { return g.name }
func (g *goNode) URL() string  { return g.url }

func (g *goNode) op(o cmdOptions) *socketio.BroadcastOperator {
	return g.srv.Of("/").To(o.Rooms...).Except(o.Except...)
}

func (g *goNode) Emit(t *testing.T, o cmdOptions, event string, args ...any) {
	if err := g.op(o).Emit(event, args...); err != nil {
		t.Fatalf("%s: emit: %v", g.name, err)
	}
}

func (g *goNode) EmitWithAck(t *testing.T, o cmdOptions, event string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := g.op(o).Timeout(3*time.Second).EmitWithAck(ctx, event)
	if err != nil {
		t.Errorf("%s: emitWithAck: %v (%d answers)", g.name, err, len(res))
	}
	var out []string
	for _, a := range res {
		var s string
		_ = a.Decode(0, &s)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (g *goNode) FetchSockets(t *testing.T, o cmdOptions) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := g.op(o).FetchSockets(ctx)
	if err != nil {
		t.Errorf("%s: fetchSockets: %v", g.name, err)
	}
	var out []string
	for _, s := range list {
		name := ""
		if m, ok := s.Data.(map[string]any); ok {
			name, _ = m["name"].(string)
		}
		out = append(out, socketString(name, s.ID, s.Rooms))
	}
	sort.Strings(out)
	return out
}

// socketString describes a fetched socket: its name and its rooms other
// than its own.
func socketString(name, id string, rooms []string) string {
	var rs []string
	for _, r := range rooms {
		if r != id {
			rs = append(rs, r)
		}
	}
	sort.Strings(rs)
	return name + ":" + strings.Join(rs, ",")
}

func (g *goNode) ServerSideEmitWithAck(t *testing.T, event string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := g.srv.Of("/").Adapter().ServerSideEmitWithAck(ctx, event, nil)
	if err != nil {
		t.Errorf("%s: serverSideEmitWithAck: %v", g.name, err)
	}
	var out []string
	for _, a := range res {
		var s string
		_ = a.Decode(0, &s)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (g *goNode) SocketsJoin(t *testing.T, o cmdOptions, room string) { g.op(o).SocketsJoin(room) }

func (g *goNode) DisconnectSockets(t *testing.T, o cmdOptions, close bool) {
	g.op(o).DisconnectSockets(close)
}

func (g *goNode) ServerCount(t *testing.T) int {
	n, err := g.srv.Of("/").Adapter().ServerCount(context.Background())
	if err != nil {
		t.Logf("%s: serverCount: %v", g.name, err)
	}
	return n
}

// nodeDir is interop/node-redis, or the test skips (fails under CI) when
// node or its packages are missing.
func nodeDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "interop", "node-redis")
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-adapter")); err != nil {
		skipOrFail(t, "Node packages missing: run npm ci --prefix interop/node-redis")
	}
	return dir
}

// proc is a Node process speaking JSON lines.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin *json.Encoder
	lines chan map[string]any
}

func startProc(t *testing.T, script string, args ...string) *proc {
	t.Helper()
	dir := nodeDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDIS_URL=redis://"+redisAddr)
	cmd.Stderr = &testWriter{t: t, prefix: script + ": "}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stdin: json.NewEncoder(in), lines: make(chan map[string]any, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(outPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Process.Kill() // by PID
		cancel()
		_ = cmd.Wait()
		<-done
	})
	return p
}

type testWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(w.prefix + strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// nodeNode is a Node socket.io server (node.mjs) in the cluster.
type nodeNode struct {
	name string
	p    *proc
	url  string
	mu   sync.Mutex
	seq  int
}

func newNodeNode(t *testing.T, mode, key, name string) *nodeNode {
	t.Helper()
	p := startProc(t, "node.mjs", mode, key, name)
	select {
	case m, ok := <-p.lines:
		if !ok {
			t.Fatal("node.mjs exited")
		}
		return &nodeNode{name: name, p: p, url: fmt.Sprintf("http://127.0.0.1:%v", m["port"])}
	case <-time.After(15 * time.Second):
		t.Fatal("node.mjs did not start")
	}
	return nil
}

func (n *nodeNode) Name() string { return n.name }
func (n *nodeNode) URL() string  { return n.url }

func (n *nodeNode) call(t *testing.T, c map[string]any) map[string]any {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	c["id"] = n.seq
	if err := n.p.stdin.Encode(c); err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-n.p.lines:
			if !ok {
				t.Fatalf("%s: node.mjs exited", n.name)
			}
			if id, _ := m["id"].(float64); int(id) != n.seq {
				continue
			}
			if e, ok := m["error"]; ok {
				t.Errorf("%s: %v: %v", n.name, c["cmd"], e)
			}
			return m
		case <-timeout:
			t.Fatalf("%s: no answer to %v", n.name, c["cmd"])
		}
	}
}

func jsArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			out[i] = map[string]any{"$bin": hex.EncodeToString(b)}
		} else {
			out[i] = a
		}
	}
	return out
}

func strList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, fmt.Sprint(s))
	}
	sort.Strings(out)
	return out
}

func (n *nodeNode) Emit(t *testing.T, o cmdOptions, event string, args ...any) {
	n.call(t, map[string]any{"cmd": "emit", "rooms": o.Rooms, "except": o.Except, "event": event, "args": jsArgs(args)})
}

func (n *nodeNode) EmitWithAck(t *testing.T, o cmdOptions, event string) []string {
	m := n.call(t, map[string]any{"cmd": "emitWithAck", "rooms": o.Rooms, "except": o.Except, "event": event})
	return strList(m["responses"])
}

func (n *nodeNode) FetchSockets(t *testing.T, o cmdOptions) []string {
	m := n.call(t, map[string]any{"cmd": "fetchSockets", "rooms": o.Rooms, "except": o.Except})
	var out []string
	list, _ := m["sockets"].([]any)
	for _, s := range list {
		sm, _ := s.(map[string]any)
		name, _ := sm["name"].(string)
		id, _ := sm["id"].(string)
		out = append(out, socketString(name, id, strList(sm["rooms"])))
	}
	sort.Strings(out)
	return out
}

func (n *nodeNode) ServerSideEmitWithAck(t *testing.T, event string) []string {
	m := n.call(t, map[string]any{"cmd": "serverSideEmitWithAck", "event": event})
	return strList(m["responses"])
}

func (n *nodeNode) SocketsJoin(t *testing.T, o cmdOptions, room string) {
	n.call(t, map[string]any{"cmd": "socketsJoin", "rooms": o.Rooms, "except": o.Except, "join": room})
}

func (n *nodeNode) DisconnectSockets(t *testing.T, o cmdOptions, close bool) {
	n.call(t, map[string]any{"cmd": "disconnectSockets", "rooms": o.Rooms, "except": o.Except, "close": close})
}

func (n *nodeNode) ServerCount(t *testing.T) int {
	m := n.call(t, map[string]any{"cmd": "serverCount"})
	c, _ := m["count"].(float64)
	return int(c)
}

// clientSpec is one official socket.io-client socket of clients.mjs.
type clientSpec struct {
	Name  string   `json:"name"`
	URL   string   `json:"url"`
	Rooms []string `json:"rooms,omitempty"`
}

// clients records what the official clients receive.
type clients struct {
	mu     sync.Mutex
	events map[string][]string // event -> client names (one entry per delivery)
	args   map[string][]any    // event/client -> args
	disc   map[string]string   // client -> disconnect reason
	ready  map[string]bool
	errs   []string
}

func startClients(t *testing.T, specs []clientSpec) *clients {
	t.Helper()
	b, _ := json.Marshal(specs)
	p := startProc(t, "clients.mjs", string(b))
	c := &clients{events: map[string][]string{}, args: map[string][]any{}, disc: map[string]string{}, ready: map[string]bool{}}
	go func() {
		for m := range p.lines {
			c.mu.Lock()
			switch {
			case m["ready"] != nil:
				c.ready[fmt.Sprint(m["ready"])] = true
			case m["error"] != nil:
				c.errs = append(c.errs, fmt.Sprint(m["client"], ": ", m["error"]))
			case m["disconnect"] != nil:
				c.disc[fmt.Sprint(m["client"])] = fmt.Sprint(m["disconnect"])
			case m["event"] != nil:
				ev, cl := fmt.Sprint(m["event"]), fmt.Sprint(m["client"])
				c.events[ev] = append(c.events[ev], cl)
				c.args[ev+"/"+cl] = append([]any(nil), m["args"])
			}
			c.mu.Unlock()
		}
	}()
	eventually(t, 15*time.Second, "clients ready", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.errs) > 0 {
			t.Fatalf("client errors: %v", c.errs)
		}
		return len(c.ready) == len(specs)
	})
	return c
}

// received returns the sorted names of the clients that got event.
func (c *clients) received(event string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.events[event]...)
	sort.Strings(out)
	return out
}

func (c *clients) argsOf(event, client string) []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.args[event+"/"+client]
}

func (c *clients) disconnected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n := range c.disc {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// expectExactly waits until event reached exactly want (each client once).
func (c *clients) expectExactly(t *testing.T, event string, want []string) {
	t.Helper()
	want = append([]string(nil), want...)
	sort.Strings(want)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.received(event)
		if strings.Join(got, " ") == strings.Join(want, " ") {
			// A short grace for an extra delivery to show up.
			time.Sleep(150 * time.Millisecond)
			if got := c.received(event); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s reached %v, want %v", event, got, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s reached %v, want %v", event, got, want)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }
