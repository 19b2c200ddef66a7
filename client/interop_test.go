package client_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socketio-go/socketio/engineio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func engineOptions() engineio.Options {
	return engineio.Options{PingInterval: time.Second, PingTimeout: 2 * time.Second}
}

// TestGoServer runs the suite against this module's server.
func TestGoServer(t *testing.T) {
	runSuite(t, newGoServer(t))
}

// TestInteropNode runs the suite against the official socket.io server
// (interop/node-server, installed with npm ci).
func TestInteropNode(t *testing.T) {
	runSuite(t, newNodeServer(t))
}

// serverProc runs a server of another implementation (server.mjs,
// server.py) that prints "listening PORT" once ready.
type serverProc struct {
	what string   // for messages
	dir  string   // its directory
	argv []string // the command; the port is appended
	// lacks names the suite's cases the server cannot play, with why.
	lacks map[string]string
	// expect holds the server's wording of answers where it is not
	// socket.io's (see expecter).
	expect map[string]string

	port string
	cmd  *exec.Cmd
	done chan struct{}
}

// newNodeServer runs interop/node-server/server.mjs.
func newNodeServer(t *testing.T) *serverProc {
	t.Helper()
	dir, _ := filepath.Abs("../interop/node-server")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(dir, "node_modules", "socket.io"))
	if errNode != nil || errMods != nil {
		msg := "node or interop/node-server/node_modules missing (run npm ci --prefix interop/node-server)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING THE NODE INTEROP SUITE: " + msg)
	}
	n := &serverProc{what: "node server", dir: dir, argv: []string{"node", "server.mjs"}}
	n.start(t, "0")
	t.Cleanup(n.stop)
	return n
}

func (n *serverProc) URL() string { return "http://127.0.0.1:" + n.port }

// Lacks implements the suite's lacker.
func (n *serverProc) Lacks(name string) string { return n.lacks[name] }

// Expect implements the suite's expecter.
func (n *serverProc) Expect(key string) string { return n.expect[key] }

func (n *serverProc) start(t *testing.T, port string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.CommandContext(context.Background(), n.argv[0], append(n.argv[1:], port)...)
		cmd.Dir = n.dir
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		lines := make(chan string, 1)
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				default:
				}
			}
			_ = cmd.Wait()
		}()
		select {
		case line := <-lines:
			p, ok := strings.CutPrefix(line, "listening ")
			if !ok {
				t.Fatalf("%s said %q", n.what, line)
			}
			n.port, n.cmd, n.done = p, cmd, done
			return
		case <-done:
			// The port may still be held by the previous process.
			if attempt > 20 {
				t.Fatalf("%s exited before listening", n.what)
			}
			time.Sleep(100 * time.Millisecond)
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s did not start", n.what)
		}
	}
}

func (n *serverProc) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill() // by PID
	<-n.done
	n.cmd = nil
}

func (n *serverProc) Restart(t *testing.T) {
	n.stop()
	time.Sleep(300 * time.Millisecond)
	n.start(t, n.port)
}
