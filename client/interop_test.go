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

// nodeServer runs interop/node-server/server.mjs.
type nodeServer struct {
	dir  string
	port string
	cmd  *exec.Cmd
	done chan struct{}
}

func newNodeServer(t *testing.T) *nodeServer {
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
	n := &nodeServer{dir: dir}
	n.start(t, "0")
	t.Cleanup(n.stop)
	return n
}

func (n *nodeServer) URL() string { return "http://127.0.0.1:" + n.port }

func (n *nodeServer) start(t *testing.T, port string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.CommandContext(context.Background(), "node", "server.mjs", port)
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
				t.Fatalf("node server said %q", line)
			}
			n.port, n.cmd, n.done = p, cmd, done
			return
		case <-done:
			// The port may still be held by the previous process.
			if attempt > 20 {
				t.Fatal("node server exited before listening")
			}
			time.Sleep(100 * time.Millisecond)
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("node server did not start")
		}
	}
}

func (n *nodeServer) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill() // by PID
	<-n.done
	n.cmd = nil
}

func (n *nodeServer) Restart(t *testing.T) {
	n.stop()
	time.Sleep(300 * time.Millisecond)
	n.start(t, n.port)
}
