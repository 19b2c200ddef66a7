package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/clusterengine"
	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/redisadapter"
	"github.com/socketio-go/socketio/redisstreams"
)

// nodeEnv holds a node's configuration (JSON) in the environment of the
// process the launcher starts: the launcher and the nodes are one binary.
const nodeEnv = "SIO_CLUSTER_NODE"

// nodeConfig configures one Go node of the cluster.
type nodeConfig struct {
	ID     string `json:"id"`     // the node id, which starts its session ids
	Redis  string `json:"redis"`  // host:port of Redis
	Prefix string `json:"prefix"` // prefix of every Redis channel of this cluster
	Sticky bool   `json:"sticky"` // the balancer keeps a session on its node: no cluster engine
	// Streams selects the Redis streams adapter, with connection state
	// recovery on (a client recovers on any node); else the classic Redis adapter.
	Streams bool `json:"streams,omitempty"`
	// PingInterval and PingTimeout, when set, replace Engine.IO's 25 s and 20 s.
	PingInterval time.Duration `json:"pingInterval,omitempty"`
	PingTimeout  time.Duration `json:"pingTimeout,omitempty"`
}

// runNodeFromEnv runs a node and exits when the process was started as one.
func runNodeFromEnv() {
	raw := os.Getenv(nodeEnv)
	if raw == "" {
		return
	}
	var cfg nodeConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runNode(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "node %s: %v\n", cfg.ID, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runNode serves one node on a free loopback port, which it prints on
// stdout as "listening <host:port>", until ctx is done.
//
// The application: "whoami" is acknowledged with the node id, "broadcast"
// sends its argument to every client of the cluster as "news";
// GET /emit?seq=N (straight to a node) sends N to every client as "tick",
// GET /stats answers {"node":..., "clients":...}.
func runNode(ctx context.Context, cfg nodeConfig) error {
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	var (
		adapter  func(*socketio.Namespace) socketio.Adapter
		recovery *socketio.RecoveryOptions
		err      error
	)
	if cfg.Streams {
		adapter, err = redisstreams.New(rdb, &redisstreams.Options{StreamName: cfg.Prefix + "-stream",
			ChannelPrefix: cfg.Prefix, SessionKeyPrefix: cfg.Prefix + ":session:"})
		recovery = &socketio.RecoveryOptions{}
	} else {
		adapter, err = redisadapter.New(rdb, &redisadapter.Options{Key: cfg.Prefix})
	}
	if err != nil {
		return err
	}
	eopts := engineio.Options{PingInterval: cfg.PingInterval, PingTimeout: cfg.PingTimeout}
	var ce *clusterengine.Engine
	if cfg.Sticky {
		// The balancer routes on the node id at the start of the session id.
		eopts.GenerateID = func(*http.Request) (string, error) { return taggedID(cfg.ID) }
	} else {
		// Any node serves any session: requests for another node's sessions
		// are relayed to it through Redis.
		ce, err = clusterengine.New(ctx, rdb, &clusterengine.Options{Prefix: cfg.Prefix + "-eio", NodeID: cfg.ID})
		if err != nil {
			return err
		}
		defer ce.Close()
		eopts.Cluster = ce
	}
	io, err := socketio.NewServer(&socketio.Options{Engine: eopts, Adapter: adapter, ConnectionStateRecovery: recovery,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnWithAck(s, "whoami", func(s *socketio.Socket, _ json.RawMessage) string { return cfg.ID })
		socketio.On(s, "broadcast", func(s *socketio.Socket, v json.RawMessage) { _ = io.Emit("news", v) })
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/emit", func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.Atoi(r.URL.Query().Get("seq"))
		if err != nil {
			http.Error(w, "seq: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := io.Emit("tick", seq); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"node": cfg.ID, "clients": io.Engine().Count()})
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// taggedID returns "<node>.<20 random characters>", the session ids of
// clusterengine, for a sticky node.
func taggedID(node string) (string, error) {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return node + "." + base64.URLEncoding.EncodeToString(b[:]), nil
}
