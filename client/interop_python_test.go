package client_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInteropPython runs the suite against python-socketio's server
// (Debian's python3-socketio 5.7, interop/python/server.py), but for
// connection state recovery, which it does not have.
func TestInteropPython(t *testing.T) {
	runSuite(t, newPythonServer(t))
}

// newPythonServer runs interop/python/server.py with Debian's python3.
func newPythonServer(t *testing.T) *serverProc {
	t.Helper()
	const python = "/usr/bin/python3" // the packages are Debian's, for its interpreter
	dir, _ := filepath.Abs("../interop/python")
	if out, err := exec.Command(python, "-c", "import socketio, eventlet").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s with python-socketio and eventlet missing "+
			"(apt-get install python3-socketio python3-eventlet): %v %s", python, err, bytes.TrimSpace(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING THE PYTHON INTEROP SUITE: " + msg)
	}
	p := &serverProc{
		what: "python server", dir: dir, argv: []string{python, "server.py"},
		lacks: map[string]string{"recovery": "python-socketio 5.7 has no connection state recovery"},
		// Its refusal of a namespace it does not serve.
		expect: map[string]string{"invalid namespace": "Unable to connect"},
	}
	p.start(t, "0")
	t.Cleanup(p.stop)
	return p
}
