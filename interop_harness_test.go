package socketio_test

// The harness of the interop tests (interop_server_test.go): our server on
// httptest, the official socket.io-client in a Node process
// (interop/node/client.mjs) reporting what it sees as JSON lines.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
)

const (
	// interopWait bounds every wait of the interop tests. It is generous:
	// a test that reaches it has failed, it measures nothing.
	interopWait = 15 * time.Second
	// interopRun bounds a whole Node process.
	interopRun = 45 * time.Second
	interopDir = "interop/node"
)

// interopTransports are the client setups every scenario runs over:
// polling only, WebSocket only, polling upgraded to WebSocket (the default),
// and polling only against the server behind its Listener ("listener":
// startInteropServer sees it in the subtest's name).
var interopTransports = []string{"polling", "websocket", "upgrade", "listener"}

// interopNodePath returns the path of node, or skips the test (fails it when
// the CI environment variable is set) when node or the npm packages are missing.
func interopNodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(interopDir, "node_modules", "socket.io-client", "package.json"))
	}
	if err != nil {
		msg := fmt.Sprintf("INTEROP TESTS NOT RUN: need node and the npm packages "+
			"(run `npm ci --prefix %s`): %v", interopDir, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("!!! " + msg)
	}
	return node
}

// interopEach runs fn for each transport setup, in parallel subtests.
func interopEach(t *testing.T, fn func(t *testing.T, mode string)) {
	interopNodePath(t)
	for _, mode := range interopTransports {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// interopTransport is the transport a live client ends on in a mode.
func interopTransport(mode string) string {
	if mode == "polling" || mode == "listener" {
		return "polling"
	}
	return "websocket"
}

// startInteropServer serves a new Server (configured by setup) on
// 127.0.0.1; the test's cleanup shuts it down.
func startInteropServer(t *testing.T, opts *socketio.Options, setup func(*socketio.Server)) (*socketio.Server, string) {
	t.Helper()
	srv, err := socketio.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(srv)
	}
	var polls atomic.Int64 // polling requests that reached the handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "polling" {
			polls.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	listener := strings.Contains(t.Name(), "/listener")
	if listener {
		ts.Listener = srv.Listener(ts.Listener)
	}
	ts.Start()
	t.Cleanup(func() {
		// Behind the Listener, the client's plain polling requests are all
		// answered by its loop: none reaches the handler.
		if n := polls.Load(); listener && n != 0 {
			t.Errorf("%d polling requests reached the handler behind the Listener", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), interopWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return srv, ts.URL
}

// waitInteropPoll waits until a polling GET of the socket's session is
// being served. A test that closes polling sessions at once waits for it
// first: without a pending GET to carry the close packet, the client would
// learn of the close from a refused request ("transport error", with Node's
// server too).
func waitInteropPoll(t *testing.T, s *socketio.Socket) {
	t.Helper()
	interopEventually(t, "a pending poll", s.Conn().Writable)
}

// interopNodeMsg is one line reported by the Node script.
type interopNodeMsg struct {
	Event  string          `json:"event"`
	Client string          `json:"client"`
	Data   json.RawMessage `json:"data"`
}

// interopNode is a running Node process of interop/node/client.mjs.
type interopNode struct {
	t      *testing.T
	stdin  io.WriteCloser
	stderr interopBuffer
	exited chan struct{} // closed once the process has ended and stdout is read
	err    error         // the process's exit error, set before exited is closed

	mu     sync.Mutex
	queue  []interopNodeMsg // reported and not yet taken by next
	all    []interopNodeMsg // everything reported, for failure logs
	notify chan struct{}
}

// startInteropNode runs a scenario of client.mjs against url in a transport mode.
// The test's cleanup kills the process (if still running) and waits for it.
func startInteropNode(t *testing.T, scenario, url, mode string) *interopNode {
	t.Helper()
	node := interopNodePath(t)
	ctx, cancel := context.WithTimeout(context.Background(), interopRun)
	cmd := exec.CommandContext(ctx, node, "client.mjs", scenario, url, mode)
	cmd.Dir = interopDir
	cmd.WaitDelay = 2 * time.Second
	n := &interopNode{t: t, exited: make(chan struct{}), notify: make(chan struct{}, 1)}
	cmd.Stderr = &n.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if n.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var m interopNodeMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = interopNodeMsg{Event: "error", Data: interopMarshal(map[string]string{
					"message": fmt.Sprintf("bad line (%v): %s", err, interopAbbrev(sc.Bytes())),
				})}
			}
			n.mu.Lock()
			n.queue = append(n.queue, m)
			n.all = append(n.all, m)
			n.mu.Unlock()
			select {
			case n.notify <- struct{}{}:
			default:
			}
		}
		n.err = cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills the process (by its PID) if it still runs
		<-n.exited
		if t.Failed() {
			n.mu.Lock()
			for _, m := range n.all {
				t.Logf("node reported: %s %s %s", m.Event, m.Client, interopAbbrev(m.Data))
			}
			n.mu.Unlock()
			t.Logf("node stderr:\n%s", n.stderr.String())
		}
	})
	return n
}

// next waits for the first report of event from client that next has not
// returned yet, and returns its data. A report of an error by the script
// fails the test.
func (n *interopNode) next(event, client string) json.RawMessage {
	n.t.Helper()
	timer := time.NewTimer(interopWait)
	defer timer.Stop()
	for {
		n.mu.Lock()
		for i, m := range n.queue {
			if m.Event == "error" {
				n.mu.Unlock()
				n.t.Fatalf("node client failed: %s", m.Data)
			}
			if m.Event == event && m.Client == client {
				n.queue = append(n.queue[:i:i], n.queue[i+1:]...)
				n.mu.Unlock()
				return m.Data
			}
		}
		n.mu.Unlock()
		select {
		case <-n.notify:
		case <-n.exited:
			// Look once more: the last lines may have come with the exit.
			n.mu.Lock()
			found := false
			for _, m := range n.queue {
				found = found || m.Event == "error" || (m.Event == event && m.Client == client)
			}
			n.mu.Unlock()
			if !found {
				n.t.Fatalf("node exited (%v) before reporting %q from %q", n.err, event, client)
			}
		case <-timer.C:
			n.t.Fatalf("timeout waiting for node to report %q from %q", event, client)
		}
	}
}

// send writes a command line to the script.
func (n *interopNode) send(cmd string) {
	n.t.Helper()
	if _, err := io.WriteString(n.stdin, cmd+"\n"); err != nil {
		n.t.Fatalf("writing %q to node: %v", cmd, err)
	}
}

// finish waits for the script to report "done" and to exit successfully.
func (n *interopNode) finish() {
	n.t.Helper()
	n.next("done", "")
	select {
	case <-n.exited:
		if n.err != nil {
			n.t.Fatalf("node exited with %v", n.err)
		}
	case <-time.After(interopWait):
		n.t.Fatal("timeout waiting for node to exit")
	}
}

// expectTransport checks the transport the client reported ending on.
func (n *interopNode) expectTransport(client, mode string) {
	n.t.Helper()
	var got string
	interopDecode(n.t, n.next("transport", client), &got)
	if want := interopTransport(mode); got != want {
		n.t.Errorf("client %q ended on transport %q, want %q", client, got, want)
	}
}

type interopBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *interopBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *interopBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// interopRecv waits for a value on ch.
func interopRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(interopWait):
		t.Fatalf("timeout waiting for %s", what)
		panic("unreachable")
	}
}

// interopEventually waits until cond holds.
func interopEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(interopWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func interopMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func interopDecode(t *testing.T, data json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// interopJSONEqual compares JSON documents (want may be a Go value, a string or
// raw JSON) by meaning.
func interopJSONEqual(t *testing.T, what string, got json.RawMessage, want any) {
	t.Helper()
	var wantJSON []byte
	switch w := want.(type) {
	case string:
		wantJSON = []byte(w)
	case json.RawMessage:
		wantJSON = w
	default:
		wantJSON = interopMarshal(w)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: decoding %s: %v", what, got, err)
	}
	if err := json.Unmarshal(wantJSON, &w); err != nil {
		t.Fatalf("%s: decoding the expected %s: %v", what, wantJSON, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, interopAbbrev(got), interopAbbrev(wantJSON))
	}
}

func interopAbbrev(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// interopBin is how the Node script reports binary data.
func interopBin(b []byte) map[string]string {
	return map[string]string{"$bin": base64.StdEncoding.EncodeToString(b)}
}

// interopAuthName returns the "name" (or "role") field of a socket's handshake auth.
func interopAuthName(s *socketio.Socket) string {
	var a struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	_ = s.Handshake().BindAuth(&a)
	if a.Name != "" {
		return a.Name
	}
	return a.Role
}

// interopFreezeProxy forwards TCP connections to a server and can stop forwarding
// (without closing anything), to make both ends observe a ping timeout.
type interopFreezeProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	frozen chan struct{} // non-nil while frozen; closed on thaw
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

func startInteropFreezeProxy(t *testing.T, target string) *interopFreezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &interopFreezeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *interopFreezeProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *interopFreezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns = append(p.conns, c, u)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(u, c)
		go p.pipe(c, u)
	}
}

func (p *interopFreezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			ch := p.frozen
			p.mu.Unlock()
			if ch != nil {
				<-ch // held until thawed or closed
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

// freeze stops forwarding in both directions.
func (p *interopFreezeProxy) freeze() {
	p.mu.Lock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *interopFreezeProxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
