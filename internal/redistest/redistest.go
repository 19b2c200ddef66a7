// Package redistest is the test harness of the Redis adapters (redisadapter,
// redisstreams, redisemitter): a cluster of Go and Node servers on one Redis
// (interop/node-redis/node.mjs), driven the same way, and official
// socket.io-client clients (clients.mjs) whose deliveries are recorded. Each
// test isolates its keys, streams and channels with UniqueKey; Node
// processes are killed by PID when the test ends. Without Redis or Node, a
// test is skipped, loudly, or fails when the environment variable CI is set.
package redistest

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
)

const RedisAddr = "127.0.0.1:6379"

// SkipOrFail skips the test, loudly, or fails it when CI is set (where
// everything the tests need must be there).
func SkipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal("CI: " + msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// NewRedis returns a client of the shared Redis server, or skips.
func NewRedis(t *testing.T) *redis.Client {
	t.Helper()
	return NewRedisAt(t, RedisAddr)
}

func NewRedisAt(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: 1, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		SkipOrFail(t, "no Redis server at %s (%v); start one with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// UniqueKey returns a channel prefix of this test only: tests share one
// Redis server and must never see each other's messages.
func UniqueKey(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return "siotest-" + name + "-" + hex.EncodeToString(b[:])
}

// CmdOptions are the options of a cluster-wide command.
type CmdOptions struct {
	Rooms  []string `json:"rooms,omitempty"`
	Except []string `json:"except,omitempty"`
}

// node is a server of the cluster, Go or Node, driven the same way.
type Node interface {
	Name() string
	URL() string
	Emit(t *testing.T, o CmdOptions, event string, args ...any)
	EmitWithAck(t *testing.T, o CmdOptions, event string) []string
	FetchSockets(t *testing.T, o CmdOptions) []string // "name:room1,room2" Sorted
	ServerSideEmitWithAck(t *testing.T, event string) []string
	SocketsJoin(t *testing.T, o CmdOptions, room string)
	DisconnectSockets(t *testing.T, o CmdOptions, close bool)
	ServerCount(t *testing.T) int
}

// GoNode is a Go server with a cluster adapter.
type GoNode struct {
	name string
	Srv  *socketio.Server
	url  string
}

// NewGoNode starts a Go server with adapter on an httptest server, stopped
// when the test ends.
func NewGoNode(t *testing.T, name string, adapter func(*socketio.Namespace) socketio.Adapter) *GoNode {
	t.Helper()
	return NewGoNodeWith(t, name, &socketio.Options{Adapter: adapter})
}

// NewGoNodeWith is NewGoNode with more server options (opts.Adapter set).
func NewGoNodeWith(t *testing.T, name string, opts *socketio.Options) *GoNode {
	t.Helper()
	srv, err := socketio.NewServer(opts)
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
	return &GoNode{name: name, Srv: srv, url: hs.URL}
}

func (g *GoNode) Name() string { return g.name }
func (g *GoNode) URL() string  { return g.url }

func (g *GoNode) op(o CmdOptions) *socketio.BroadcastOperator {
	return g.Srv.Of("/").To(o.Rooms...).Except(o.Except...)
}

func (g *GoNode) Emit(t *testing.T, o CmdOptions, event string, args ...any) {
	if err := g.op(o).Emit(event, args...); err != nil {
		t.Fatalf("%s: emit: %v", g.name, err)
	}
}

func (g *GoNode) EmitWithAck(t *testing.T, o CmdOptions, event string) []string {
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

func (g *GoNode) FetchSockets(t *testing.T, o CmdOptions) []string {
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
		out = append(out, SocketString(name, s.ID, s.Rooms))
	}
	sort.Strings(out)
	return out
}

// SocketString describes a fetched socket: its name and its rooms other
// than its own.
func SocketString(name, id string, rooms []string) string {
	var rs []string
	for _, r := range rooms {
		if r != id {
			rs = append(rs, r)
		}
	}
	sort.Strings(rs)
	return name + ":" + strings.Join(rs, ",")
}

func (g *GoNode) ServerSideEmitWithAck(t *testing.T, event string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := g.Srv.Of("/").ServerSideEmitWithAck(ctx, event)
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

func (g *GoNode) SocketsJoin(t *testing.T, o CmdOptions, room string) { g.op(o).SocketsJoin(room) }

func (g *GoNode) DisconnectSockets(t *testing.T, o CmdOptions, close bool) {
	g.op(o).DisconnectSockets(close)
}

func (g *GoNode) ServerCount(t *testing.T) int {
	n, err := g.Srv.Of("/").Adapter().ServerCount(context.Background())
	if err != nil {
		t.Logf("%s: serverCount: %v", g.name, err)
	}
	return n
}

// NodeDir is interop/node-redis, or the test skips (fails under CI) when
// node or its packages are missing.
func NodeDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "interop", "node-redis")
	if _, err := exec.LookPath("node"); err != nil {
		SkipOrFail(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-adapter")); err != nil {
		SkipOrFail(t, "Node packages missing: run npm ci --prefix interop/node-redis")
	}
	return dir
}

// Proc is a Node process speaking JSON lines.
type Proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin *json.Encoder
	lines chan map[string]any
}

func StartProc(t *testing.T, script string, args ...string) *Proc {
	t.Helper()
	dir := NodeDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDIS_URL=redis://"+RedisAddr)
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
	p := &Proc{t: t, cmd: cmd, stdin: json.NewEncoder(in), lines: make(chan map[string]any, 1024)}
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

// Send writes one JSON command line to the process.
func (p *Proc) Send(v any) {
	p.t.Helper()
	if err := p.stdin.Encode(v); err != nil {
		p.t.Fatalf("node: %v", err)
	}
}

// Lines returns the JSON lines the process prints (closed when it exits).
func (p *Proc) Lines() <-chan map[string]any { return p.lines }

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

// NodeNode is a Node socket.io server (node.mjs) in the cluster.
type NodeNode struct {
	name string
	p    *Proc
	url  string
	mu   sync.Mutex
	seq  int
}

// NewNodeNode starts node.mjs in mode (classic, sharded or streams) with key
// as its prefix; extra, when given, is a JSON object of more options for node.mjs (see there).
func NewNodeNode(t *testing.T, mode, key, name string, extra ...string) *NodeNode {
	t.Helper()
	p := StartProc(t, "node.mjs", append([]string{mode, key, name}, extra...)...)
	select {
	case m, ok := <-p.lines:
		if !ok {
			t.Fatal("node.mjs exited")
		}
		return &NodeNode{name: name, p: p, url: fmt.Sprintf("http://127.0.0.1:%v", m["port"])}
	case <-time.After(15 * time.Second):
		t.Fatal("node.mjs did not start")
	}
	return nil
}

func (n *NodeNode) Name() string { return n.name }
func (n *NodeNode) URL() string  { return n.url }

func (n *NodeNode) call(t *testing.T, c map[string]any) map[string]any {
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

func (n *NodeNode) Emit(t *testing.T, o CmdOptions, event string, args ...any) {
	n.call(t, map[string]any{"cmd": "emit", "rooms": o.Rooms, "except": o.Except, "event": event, "args": jsArgs(args)})
}

func (n *NodeNode) EmitWithAck(t *testing.T, o CmdOptions, event string) []string {
	m := n.call(t, map[string]any{"cmd": "emitWithAck", "rooms": o.Rooms, "except": o.Except, "event": event})
	return strList(m["responses"])
}

func (n *NodeNode) FetchSockets(t *testing.T, o CmdOptions) []string {
	m := n.call(t, map[string]any{"cmd": "fetchSockets", "rooms": o.Rooms, "except": o.Except})
	var out []string
	list, _ := m["sockets"].([]any)
	for _, s := range list {
		sm, _ := s.(map[string]any)
		name, _ := sm["name"].(string)
		id, _ := sm["id"].(string)
		out = append(out, SocketString(name, id, strList(sm["rooms"])))
	}
	sort.Strings(out)
	return out
}

func (n *NodeNode) ServerSideEmitWithAck(t *testing.T, event string) []string {
	m := n.call(t, map[string]any{"cmd": "serverSideEmitWithAck", "event": event})
	return strList(m["responses"])
}

func (n *NodeNode) SocketsJoin(t *testing.T, o CmdOptions, room string) {
	n.call(t, map[string]any{"cmd": "socketsJoin", "rooms": o.Rooms, "except": o.Except, "join": room})
}

func (n *NodeNode) DisconnectSockets(t *testing.T, o CmdOptions, close bool) {
	n.call(t, map[string]any{"cmd": "disconnectSockets", "rooms": o.Rooms, "except": o.Except, "close": close})
}

// Call sends a command to node.mjs and returns its answer.
func (n *NodeNode) Call(t *testing.T, cmd map[string]any) map[string]any { return n.call(t, cmd) }

func (n *NodeNode) ServerCount(t *testing.T) int {
	m := n.call(t, map[string]any{"cmd": "serverCount"})
	c, _ := m["count"].(float64)
	return int(c)
}

// ClientSpec is one official socket.io-client socket of clients.mjs.
type ClientSpec struct {
	Name  string   `json:"name"`
	URL   string   `json:"url"`
	Rooms []string `json:"rooms,omitempty"`
}

// clients records what the official clients receive.
type Clients struct {
	mu     sync.Mutex
	events map[string][]string // event -> client names (one entry per delivery)
	args   map[string][]any    // event/client -> args
	disc   map[string]string   // client -> disconnect reason
	ready  map[string]bool
	errs   []string
}

func StartClients(t *testing.T, specs []ClientSpec) *Clients {
	t.Helper()
	b, _ := json.Marshal(specs)
	p := StartProc(t, "clients.mjs", string(b))
	c := &Clients{events: map[string][]string{}, args: map[string][]any{}, disc: map[string]string{}, ready: map[string]bool{}}
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
	Eventually(t, 15*time.Second, "clients ready", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.errs) > 0 {
			t.Fatalf("client errors: %v", c.errs)
		}
		return len(c.ready) == len(specs)
	})
	return c
}

// Received returns the sorted names of the clients that got event.
func (c *Clients) Received(event string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.events[event]...)
	sort.Strings(out)
	return out
}

func (c *Clients) ArgsOf(event, client string) []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.args[event+"/"+client]
}

func (c *Clients) Disconnected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n := range c.disc {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ExpectExactly waits until event reached exactly want (each client once).
func (c *Clients) ExpectExactly(t *testing.T, event string, want []string) {
	t.Helper()
	want = append([]string(nil), want...)
	sort.Strings(want)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.Received(event)
		if strings.Join(got, " ") == strings.Join(want, " ") {
			// A short grace for an extra delivery to show up.
			time.Sleep(150 * time.Millisecond)
			if got := c.Received(event); strings.Join(got, " ") != strings.Join(want, " ") {
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

func Eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func Equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

// RunScenario checks, from each node in turn, that every cluster operation
// reaches exactly the right clients on every node. nodes[i] hosts the
// clients named <nodes[i].Name()>a (rooms r1) and <nodes[i].Name()>b (for
// the last node, r1 and r2; else r2).
func RunScenario(t *testing.T, nodes []Node) {
	var specs []ClientSpec
	var all, r1, r2, notR1 []string
	for i, n := range nodes {
		a, b := n.Name()+"a", n.Name()+"b"
		bRooms := []string{"r2"}
		if i == len(nodes)-1 {
			bRooms = []string{"r1", "r2"}
		}
		specs = append(specs, ClientSpec{Name: a, URL: n.URL(), Rooms: []string{"r1"}}, ClientSpec{Name: b, URL: n.URL(), Rooms: bRooms})
		all = append(all, a, b)
		r1 = append(r1, a)
		r2 = append(r2, b)
		if i == len(nodes)-1 {
			r1 = append(r1, b)
		} else {
			notR1 = append(notR1, b)
		}
	}
	sort.Strings(all)
	Eventually(t, 10*time.Second, "every node counting the cluster", func() bool {
		for _, n := range nodes {
			if n.ServerCount(t) != len(nodes) {
				return false
			}
		}
		return true
	})
	cl := StartClients(t, specs)

	// The rooms of each client; the r2 clients join one more room per node.
	rooms := map[string][]string{}
	for _, s := range specs {
		rooms[s.Name] = s.Rooms
	}
	expected := func(filter []string) []string {
		var out []string
		for _, s := range specs {
			if filter == nil || Contains(filter, s.Name) {
				out = append(out, SocketString(s.Name, "", rooms[s.Name]))
			}
		}
		sort.Strings(out)
		return out
	}

	for i, n := range nodes {
		from := n.Name()
		t.Run("from "+from, func(t *testing.T) {
			wantSockets := expected(nil)
			wantR2 := expected(r2)
			n.Emit(t, CmdOptions{}, "all-"+from, float64(i), []byte{1, 2, 255})
			cl.ExpectExactly(t, "all-"+from, all)
			for _, c := range all {
				args := cl.ArgsOf("all-"+from, c)
				if got := fmt.Sprint(args); got != fmt.Sprintf("[[%d map[$bin:0102ff]]]", i) {
					t.Errorf("%s got %s", c, got)
				}
			}

			n.Emit(t, CmdOptions{Rooms: []string{"r1"}}, "r1-"+from)
			cl.ExpectExactly(t, "r1-"+from, r1)
			n.Emit(t, CmdOptions{Rooms: []string{"r1"}, Except: []string{"r2"}}, "r1-except-r2-"+from)
			cl.ExpectExactly(t, "r1-except-r2-"+from, Minus(r1, r2))
			n.Emit(t, CmdOptions{Except: []string{"r1"}}, "except-r1-"+from)
			cl.ExpectExactly(t, "except-r1-"+from, notR1)

			if got := n.FetchSockets(t, CmdOptions{}); !Equal(got, wantSockets) {
				t.Errorf("fetchSockets = %v, want %v", got, wantSockets)
			}
			if got := n.FetchSockets(t, CmdOptions{Rooms: []string{"r2"}}); !Equal(got, wantR2) {
				t.Errorf("fetchSockets(r2) = %v, want %v", got, wantR2)
			}

			var pongs []string
			for _, m := range nodes {
				if m != n {
					pongs = append(pongs, "pong-"+m.Name())
				}
			}
			sort.Strings(pongs)
			if got := n.ServerSideEmitWithAck(t, "ping"); !Equal(got, pongs) {
				t.Errorf("serverSideEmitWithAck = %v, want %v", got, pongs)
			}

			if got := n.EmitWithAck(t, CmdOptions{}, "ack-"+from); !Equal(got, all) {
				t.Errorf("emitWithAck answers = %v, want %v", got, all)
			}
			if got := n.EmitWithAck(t, CmdOptions{Rooms: []string{"r2"}}, "ack-r2-"+from); !Equal(got, Sorted(r2)) {
				t.Errorf("emitWithAck(r2) answers = %v, want %v", got, Sorted(r2))
			}

			room := "joined-" + from
			n.SocketsJoin(t, CmdOptions{Rooms: []string{"r2"}}, room)
			time.Sleep(200 * time.Millisecond) // the join travels through Redis
			n.Emit(t, CmdOptions{Rooms: []string{room}}, "to-"+room)
			cl.ExpectExactly(t, "to-"+room, r2)
			for _, c := range r2 {
				rooms[c] = append(append([]string(nil), rooms[c]...), room)
			}
		})
	}

	last := nodes[0]
	last.DisconnectSockets(t, CmdOptions{Rooms: []string{"r2"}}, true)
	Eventually(t, 5*time.Second, "r2 disconnected", func() bool { return Equal(cl.Disconnected(), Sorted(r2)) })
	time.Sleep(150 * time.Millisecond)
	if got := cl.Disconnected(); !Equal(got, Sorted(r2)) {
		t.Errorf("disconnected %v, want %v", got, Sorted(r2))
	}
}

func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func Minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

func Sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
