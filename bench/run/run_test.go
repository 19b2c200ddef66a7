package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickBench runs the whole harness in quick mode (BENCH_QUICK=1) as a
// smoke test: every server starts, every scenario completes and the report
// is written. There is no assertion on the figures. It needs the Node
// packages (npm ci --prefix bench/node, done by make bench and make test):
// without them it is skipped, except under CI, where it fails.
func TestQuickBench(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "node", "node_modules", "socket.io")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("bench/node/node_modules is missing under CI: run npm ci --prefix bench/node")
		}
		t.Skip("bench/node/node_modules is missing (npm ci --prefix bench/node)")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	cmd := exec.Command("go", "run", "./bench/run")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "BENCH_QUICK=1", "BENCH_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Targets", "1. Ping-pong echo", "3. Broadcast fan-out", "4. Idle WebSocket connections", "8. Cross-node broadcast", "Cross-node broadcast: ratio Go/Node", "efficiency.svg", "| of it in the kernel |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "efficiency.svg")); err != nil {
		t.Error(err)
	}
}
