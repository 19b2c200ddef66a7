package redistest

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// OwnRedis is a redis-server of this test only, on a free loopback port
// (the shared one must never be restarted).
type OwnRedis struct {
	t    *testing.T
	bin  string
	port string
	cmd  *exec.Cmd
}

// StartOwnRedis runs a redis-server of this test only, on a free loopback
// port, stopped when the test ends.
func StartOwnRedis(t *testing.T) *OwnRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		SkipOrFail(t, "redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	r := &OwnRedis{t: t, bin: bin, port: port}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Addr is the server's address.
func (r *OwnRedis) Addr() string { return "127.0.0.1:" + r.port }

// Start starts (or restarts) the server.
func (r *OwnRedis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	Eventually(r.t, 5*time.Second, "redis-server up", func() bool {
		c, err := net.DialTimeout("tcp", r.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Stop kills the server (by PID).
func (r *OwnRedis) Stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill() // by PID
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}
