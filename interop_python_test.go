package socketio_test

// Interop with python-socketio (Debian's python3-socketio, 5.7): its
// client against our server, over each transport setup, playing the script
// interop/python/client.py. client/interop_python_test.go runs the other
// way round.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
)

// pythonPath returns Debian's python3 with python-socketio, or skips the
// test (fails it when the CI environment variable is set).
func pythonPath(t *testing.T) string {
	t.Helper()
	// Debian's interpreter, not one earlier in PATH: the packages are
	// installed for it.
	const python = "/usr/bin/python3"
	out, err := exec.Command(python, "-c", "import socketio, websocket, requests").CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("PYTHON INTEROP TESTS NOT RUN: need %s with python-socketio "+
			"(apt-get install python3-socketio python3-websocket python3-requests): %v %s",
			python, err, bytes.TrimSpace(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("!!! " + msg)
	}
	return python
}

// pythonReport is one line the Python script printed.
type pythonReport struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// runPython runs a script of interop/python to its end and returns its
// reports by event name; it fails the test on an error the script reported.
func runPython(t *testing.T, args ...string) map[string]json.RawMessage {
	t.Helper()
	python := pythonPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), interopRun)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = "interop/python"
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	reports := map[string]json.RawMessage{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var r pythonReport
		if jerr := json.Unmarshal(sc.Bytes(), &r); jerr != nil {
			t.Errorf("bad line from python: %q", sc.Text())
			continue
		}
		reports[r.Event] = r.Data
	}
	if e, ok := reports["error"]; ok || err != nil {
		t.Fatalf("python: %v, reported error %s\nstdout:\n%s\nstderr:\n%s", err, e, out, stderr.String())
	}
	return reports
}

func TestInteropPythonClient(t *testing.T) {
	pythonPath(t)
	for _, mode := range []string{"polling", "websocket", "upgrade", "listener"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			answered := make(chan []any, 1)
			_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
				srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", "hi from Go") })
				srv.Of("/private").Use(func(s *socketio.Socket) error {
					var a struct{ Token string }
					if err := s.Handshake().BindAuth(&a); err != nil || a.Token != "secret" {
						return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 403}}
					}
					return nil
				})
				custom := srv.Of("/custom")
				custom.OnConnection(func(s *socketio.Socket) {
					_ = s.Emit("auth", s.Handshake().Auth)
					s.On("echo", func(e *socketio.Event) {
						v, err := e.Args.Values()
						if err != nil {
							t.Errorf("echo: %v", err)
							return
						}
						_ = s.Emit("echo-back", v...)
					})
					s.On("ack", func(e *socketio.Event) {
						v, _ := e.Args.Values()
						_ = e.Ack(append([]any{"acked"}, v...)...)
					})
					socketio.On(s, "ask-me", func(s *socketio.Socket, q string) {
						ctx, cancel := context.WithTimeout(context.Background(), interopWait)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "ask", q)
						if err != nil {
							t.Errorf("ask: %v", err)
							return
						}
						v, _ := a.Values()
						answered <- v
					})
					s.On("answered", func(e *socketio.Event) {
						_ = e.Ack(interopRecv(t, answered, "the client's answer")...)
					})
					socketio.On(s, "join", func(s *socketio.Socket, room string) {
						s.Join(room)
						_ = custom.To(room).Emit("room-msg", "to "+room, []byte{9})
					})
					s.On("bye", func(*socketio.Event) { s.Disconnect(false) })
				})
			})
			pyMode := mode
			if mode == "listener" {
				pyMode = "polling"
			}
			r := runPython(t, "client.py", url, pyMode)

			interopJSONEqual(t, "connected", r["connected"], map[string]string{"transport": interopTransport(mode)})
			interopJSONEqual(t, "welcome", r["welcome"], `"hi from Go"`)
			interopJSONEqual(t, "auth", r["auth"], `{"token":"py"}`)
			interopJSONEqual(t, "echo-back", r["echo-back"], []any{1, "two", map[string]any{"three": []any{3.5, nil, true}}, interopBin([]byte{0, 1, 0xff}), "é✓"})
			interopJSONEqual(t, "ack", r["ack"], []any{"acked", "a", interopBin([]byte{2})})
			interopJSONEqual(t, "ask", r["ask"], `"q1"`)
			interopJSONEqual(t, "asked", r["asked"], []any{"answer to q1", interopBin([]byte{3, 4})})
			interopJSONEqual(t, "room-msg", r["room-msg"], []any{"to room1", interopBin([]byte{9})})
			interopJSONEqual(t, "disconnect", r["disconnect"], `true`)
			interopJSONEqual(t, "transport", r["transport"], map[string]string{"transport": interopTransport(mode)})
			// The client gives up on the namespace (its message is its own),
			// after its connect_error handler got the middleware's refusal.
			var private string
			interopDecode(t, r["private"], &private)
			if private == "connected" {
				t.Error("connected to the private namespace")
			}
			interopJSONEqual(t, "connect_error", r["connect_error"], map[string]any{"message": "not authorized", "data": map[string]any{"code": 403}})
			if _, ok := r["done"]; !ok {
				t.Error("the script did not finish")
			}
		})
	}
}
