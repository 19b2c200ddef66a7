package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBrowser runs e2e/chat.mjs: Debian's chromium, driven by playwright-core,
// opens the chat in two browser contexts against this package's server and
// checks messages, typing and join/leave notices, the online count and
// history. Screenshots go to $ARTIFACTS_DIR (default: artifacts/ at the
// repository root).
//
// Needs /usr/bin/chromium (or $CHROMIUM), node, and "npm ci" in examples/chat
// and examples/chat/e2e ("make test" does it). Without them the test is
// skipped, except under CI, where it fails.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, nodeErr := exec.LookPath("node")
	for _, need := range []struct {
		missing bool
		what    string
	}{
		{nodeErr != nil, "node is not on PATH"},
		{!exists(chromium), chromium + " is missing (apt-get install -y chromium)"},
		{!exists(clientScript), clientScript + " is missing (npm ci --prefix examples/chat)"},
		{!exists("e2e/node_modules/playwright-core"), "e2e/node_modules/playwright-core is missing (npm ci --prefix examples/chat/e2e)"},
	} {
		if !need.missing {
			continue
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test cannot run under CI: %s", need.what)
		}
		t.Skipf("SKIPPING THE BROWSER TEST: %s", need.what)
	}

	artifacts := os.Getenv("ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = filepath.Join("..", "..", "artifacts")
	}
	artifacts, err := filepath.Abs(artifacts)
	if err != nil {
		t.Fatal(err)
	}

	a, err := newApp(clientScript, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// A free port on 127.0.0.1, served as main.go serves it: through the
	// Socket.IO server's Listener.
	ts := httptest.NewUnstartedServer(a)
	ts.Listener = a.sio.Listener(ts.Listener)
	ts.Start()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.sio.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "chat.mjs"), ts.URL+"/", artifacts)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if ctx.Err() != nil {
		t.Fatalf("browser test timed out: %v", ctx.Err())
	}
	if err != nil {
		t.Fatalf("browser test failed: %v (failure screenshots, if any, in %s)", err, artifacts)
	}
	shot := filepath.Join(artifacts, "chat-alice.png")
	if !exists(shot) {
		t.Fatalf("no screenshot at %s", shot)
	}
	t.Logf("screenshot: %s", shot)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
