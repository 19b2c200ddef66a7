package clusterengine_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
	"github.com/socketio-go/socketio/clusterengine"
	"github.com/socketio-go/socketio/engineio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisClient returns a client of the test Redis, skipping (failing on CI)
// when there is none.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis is required on CI: %v", err)
		}
		t.Skipf("SKIPPED: no Redis on 127.0.0.1:6379 (%v)", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func uniquePrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "test-ce-" + hex.EncodeToString(b[:])
}

type node struct {
	id  string
	eng *clusterengine.Engine
	io  *socketio.Server
	hs  *httptest.Server

	stopped atomic.Bool
}

func (n *node) stop() {
	if !n.stopped.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.hs.CloseClientConnections()
	_ = n.io.Shutdown(ctx)
	n.hs.Close()
	_ = n.eng.Close()
}

// startNodes starts n servers sharing one cluster of engines; each answers
// "whoami" with its node id.
func startNodes(t *testing.T, rdb *redis.Client, n int, eopts engineio.Options) []*node {
	t.Helper()
	prefix := uniquePrefix()
	var nodes []*node
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("n%d", i+1)
		eng, err := clusterengine.New(context.Background(), rdb, &clusterengine.Options{
			Prefix: prefix, NodeID: id, LivenessInterval: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		o := eopts
		o.Cluster = eng
		io, err := socketio.NewServer(&socketio.Options{Engine: o})
		if err != nil {
			t.Fatal(err)
		}
		io.OnConnection(func(s *socketio.Socket) {
			socketio.OnWithAck(s, "whoami", func(s *socketio.Socket, _ int) string { return id })
		})
		nd := &node{id: id, eng: eng, io: io, hs: httptest.NewServer(io)}
		t.Cleanup(nd.stop)
		nodes = append(nodes, nd)
	}
	return nodes
}

// roundRobin is a load balancer without affinity: every request, WebSocket
// or not, goes to the next backend.
func roundRobin(t *testing.T, nodes []*node) *httptest.Server {
	var next atomic.Uint64
	return balancer(t, nodes, func(*http.Request) int { return int(next.Add(1) % uint64(len(nodes))) })
}

// balancer proxies each request to the backend pick chooses.
func balancer(t *testing.T, nodes []*node, pick func(*http.Request) int) *httptest.Server {
	proxies := make([]*httputil.ReverseProxy, len(nodes))
	for i, n := range nodes {
		u, _ := url.Parse(n.hs.URL)
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].ErrorLog = log.New(io.Discard, "", 0)
	}
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[pick(r)].ServeHTTP(w, r)
	}))
	t.Cleanup(func() { lb.CloseClientConnections(); lb.Close() })
	return lb
}

func TestRoundRobin(t *testing.T) {
	rdb := redisClient(t)
	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			nodes := startNodes(t, rdb, 3, engineio.Options{})
			lb := roundRobin(t, nodes)
			opts := &client.Options{DisableReconnection: true}
			switch mode {
			case "polling":
				opts.Transports = []string{client.TransportPolling}
			case "websocket":
				opts.Transports = []string{client.TransportWebSocket}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := client.Connect(ctx, lb.URL, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Manager().Close()
			owners := map[string]bool{}
			for i := 0; i < 12; i++ {
				ack, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "whoami", i)
				if err != nil {
					t.Fatalf("ack %d: %v", i, err)
				}
				var id string
				if err := ack.Decode(0, &id); err != nil {
					t.Fatal(err)
				}
				owners[id] = true
			}
			if len(owners) != 1 {
				t.Fatalf("one session answered from %v", owners)
			}
			if mode == "upgrade" {
				waitTransport(t, s, client.TransportWebSocket)
			}
			total := 0
			for _, n := range nodes {
				total += n.io.Engine().Count()
			}
			if total != 1 {
				t.Fatalf("%d sessions in the cluster, want 1", total)
			}
		})
	}
}

// A node that leaves closes the sessions it owned through the others: their
// clients see the session end at once, not after a ping timeout.
func TestOwnerGone(t *testing.T) {
	rdb := redisClient(t)
	for _, mode := range []string{"polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			nodes := startNodes(t, rdb, 2, engineio.Options{})
			// Handshakes go to n1, every other request (and the WebSocket) to n2.
			lb := balancer(t, nodes, func(r *http.Request) int {
				if r.URL.Query().Get("sid") == "" {
					return 0
				}
				return 1
			})
			opts := &client.Options{DisableReconnection: true}
			if mode == "polling" {
				opts.Transports = []string{client.TransportPolling}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := client.Connect(ctx, lb.URL, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Manager().Close()
			if mode == "upgrade" {
				waitTransport(t, s, client.TransportWebSocket)
			}
			ack, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "whoami", 0)
			var id string
			if err == nil {
				err = ack.Decode(0, &id)
			}
			if err != nil || id != "n1" {
				t.Fatalf("whoami: %q %v", id, err)
			}
			closed := make(chan string, 1)
			s.Manager().OnClose(func(reason string, err error) {
				select {
				case closed <- reason:
				default:
				}
			})
			// n1 leaves Redis as a crashed node would; the client only talks to n2.
			start := time.Now()
			_ = nodes[0].eng.Close()
			select {
			case reason := <-closed:
				t.Logf("closed after %v: %s", time.Since(start).Round(time.Millisecond), reason)
			case <-time.After(5 * time.Second):
				t.Fatal("the client did not see its session end")
			}
		})
	}
}

func waitTransport(t *testing.T, s *client.Socket, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Manager().Transport() != want {
		if time.Now().After(deadline) {
			t.Fatalf("transport %s, want %s", s.Manager().Transport(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNodeIDInSessionID(t *testing.T) {
	rdb := redisClient(t)
	eng, err := clusterengine.New(context.Background(), rdb, &clusterengine.Options{Prefix: uniquePrefix(), NodeID: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	id, err := eng.NewID()
	if err != nil {
		t.Fatal(err)
	}
	if owner, ok := clusterengine.OwnerOf(id); !ok || owner != "alpha" || !strings.HasPrefix(id, "alpha.") || len(id) != len("alpha.")+20 {
		t.Fatalf("id %q: owner %q %v", id, owner, ok)
	}
	if _, err := clusterengine.New(context.Background(), rdb, &clusterengine.Options{NodeID: "bad.id"}); err == nil {
		t.Fatal("a node id with a dot was accepted")
	}
	if _, err := engineio.NewServer(&engineio.Options{Cluster: eng, GenerateID: func(*http.Request) (string, error) { return "x", nil }}); err == nil {
		t.Fatal("GenerateID and Cluster together were accepted")
	}
}
