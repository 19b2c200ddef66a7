// Command cluster runs three Go Socket.IO nodes behind nginx, with one command:
//
//	go run ./examples/cluster            # round-robin: any node serves any session
//	go run ./examples/cluster -sticky    # sticky sessions: a session stays on its node
//	go run ./examples/cluster -streams   # the Redis streams adapter, with connection state recovery
//
// It needs Redis on 127.0.0.1:6379 (the nodes share broadcasts through the
// classic Redis adapter, or the streams adapter with -streams) and nginx (Debian: apt-get install nginx-light). nginx runs
// as a child of this process, with a generated configuration in a temporary
// directory, on loopback only; Ctrl-C stops nginx and the nodes.
//
// Without -sticky, nginx sends every request to the next node, and the nodes
// relay requests for each other's sessions through Redis (package
// clusterengine), so long-polling works without sticky sessions. With
// -sticky, nginx routes a request to the node whose id starts its session id.
//
// Try it with the sio command-line client:
//
//	go run ./cmd/sio listen http://127.0.0.1:3000
//	go run ./cmd/sio emit --ack http://127.0.0.1:3000 whoami 0
//	go run ./cmd/sio emit http://127.0.0.1:3000 broadcast '"hello"'
//
// or a node directly: curl "http://<node>/emit?seq=1" (addresses printed at start).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	runNodeFromEnv() // a node, started by the launcher below

	var cfg clusterConfig
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:3000", "where nginx listens (loopback)")
	flag.IntVar(&cfg.Nodes, "nodes", 3, "number of Go nodes")
	flag.BoolVar(&cfg.Sticky, "sticky", false, "sticky sessions (else round-robin, with the cluster engine)")
	flag.BoolVar(&cfg.Streams, "streams", false, "the Redis streams adapter with connection state recovery (else the classic Redis adapter)")
	flag.StringVar(&cfg.Redis, "redis", "127.0.0.1:6379", "Redis address")
	flag.StringVar(&cfg.Prefix, "prefix", "sio-cluster-example", "prefix of the cluster's Redis channels")
	flag.Parse()
	cfg.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := startCluster(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
	defer c.Stop()
	mode := "round-robin (no sticky sessions)"
	if cfg.Sticky {
		mode = "sticky sessions"
	}
	fmt.Printf("nginx on %s, %s\n", c.URL, mode)
	for _, n := range c.Nodes {
		fmt.Printf("  node %s on http://%s (pid %d)\n", n.ID, n.Addr, n.PID())
	}
	fmt.Printf("try: go run ./cmd/sio listen %s\n     go run ./cmd/sio emit --ack %s whoami 0\n", c.URL, c.URL)
	select {
	case <-ctx.Done():
	case <-c.Done():
		fmt.Fprintln(os.Stderr, "nginx exited")
	}
}
