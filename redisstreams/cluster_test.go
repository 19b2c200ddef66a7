package redisstreams_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/redistest"
	"github.com/socketio-go/socketio/redisstreams"
)

// cleanupKeys deletes the stream and the session keys of one test (never
// anything else: the Redis server is shared).
func cleanupKeys(c redis.UniversalClient, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	keys, _ := c.Keys(ctx, key+":session:*").Result()
	_ = c.Del(ctx, append(keys, key)...).Err()
}

// TestMixedCluster: two Go nodes and one Node node (socket.io with
// @socket.io/redis-streams-adapter) on one Redis, official clients on
// every node; every cluster operation, started on each node in turn,
// reaches exactly the right clients.
func TestMixedCluster(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	js := redistest.NewNodeNode(t, "streams", key, "js")
	redistest.RunScenario(t, []redistest.Node{
		redistest.NewGoNode(t, "go1", streams(t, c, key, nil)),
		redistest.NewGoNode(t, "go2", streams(t, c, key, nil)),
		js,
	})
}

// TestGoClusterHeartbeats: the same between Go nodes counting each other
// by heartbeats (Options.Heartbeats).
func TestGoClusterHeartbeats(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	redistest.NodeDir(t)
	hb := &redisstreams.Options{Heartbeats: true, HeartbeatInterval: 200 * time.Millisecond, HeartbeatTimeout: time.Second}
	redistest.RunScenario(t, []redistest.Node{
		redistest.NewGoNode(t, "go1", streams(t, c, key, hb)),
		redistest.NewGoNode(t, "go2", streams(t, c, key, hb)),
	})
}

// TestDeadNode: a node that stops sending heartbeats leaves the others'
// server count after HeartbeatTimeout; one that closes leaves it at once.
func TestDeadNode(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	hb := &redisstreams.Options{Heartbeats: true, HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond}
	a := redistest.NewGoNode(t, "a", streams(t, c, key, hb))
	b := redistest.NewGoNode(t, "b", streams(t, c, key, hb))
	h := redistest.NewGoNode(t, "hung", streams(t, c, key, hb))
	redistest.Eventually(t, 5*time.Second, "three servers", func() bool {
		return a.ServerCount(t) == 3 && b.ServerCount(t) == 3 && h.ServerCount(t) == 3
	})
	// Stable: heartbeats keep every node in.
	time.Sleep(time.Second)
	if n, m := a.ServerCount(t), b.ServerCount(t); n != 3 || m != 3 {
		t.Fatalf("server counts %d and %d, want 3", n, m)
	}

	redisstreams.Hang(h.Srv.Of("/").Adapter().(*redisstreams.Adapter))
	hung := time.Now()
	redistest.Eventually(t, 3*time.Second, "the hung node to be dropped", func() bool {
		return a.ServerCount(t) == 2 && b.ServerCount(t) == 2
	})
	if d := time.Since(hung); d < 400*time.Millisecond {
		t.Errorf("the hung node was dropped after %v, before the timeout", d)
	}
	// A request does not wait for it.
	start := time.Now()
	if got := a.ServerSideEmitWithAck(t, "ping"); !redistest.Equal(got, []string{"pong-b"}) {
		t.Errorf("serverSideEmitWithAck = %v", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("serverSideEmitWithAck took %v", d)
	}

	// A node that closes says so.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.Srv.Shutdown(ctx)
	redistest.Eventually(t, 300*time.Millisecond, "the closed node to be dropped", func() bool { return a.ServerCount(t) == 1 })
}

// TestRedisOutage: Redis goes away and comes back; the nodes report it,
// keep delivering locally, and deliver across nodes again on their own.
func TestRedisOutage(t *testing.T) {
	srv := redistest.StartOwnRedis(t)
	key := redistest.UniqueKey(t)
	var states []redisstreams.State
	var mu = make(chan struct{}, 1)
	opts := &redisstreams.Options{OnStateChange: func(s redisstreams.State) {
		mu <- struct{}{}
		states = append(states, s)
		<-mu
	}}
	a := redistest.NewGoNode(t, "a", streams(t, redistest.NewRedisAt(t, srv.Addr()), key, opts))
	b := redistest.NewGoNode(t, "b", streams(t, redistest.NewRedisAt(t, srv.Addr()), key, nil))
	got := make(chan string, 100)
	b.Srv.Of("/").OnServerSideEmit(func(event string, _ socketio.Args, _ func(...any)) { got <- event })
	redistest.Eventually(t, 5*time.Second, "two servers", func() bool { return a.ServerCount(t) == 2 })
	healthy := func() bool { return a.Srv.Of("/").Adapter().(*redisstreams.Adapter).Healthy() }
	redistest.Eventually(t, 5*time.Second, "healthy", healthy)
	_ = a.Srv.Of("/").ServerSideEmit("before")
	expectEvent(t, got, "before")
	goroutines0, heap0 := usage()

	srv.Stop()
	redistest.Eventually(t, 10*time.Second, "the outage to be seen", func() bool { return !healthy() })
	// Local work goes on, without waiting for Redis.
	start := time.Now()
	for i := 0; i < 100; i++ {
		if err := a.Srv.Of("/").Emit("during"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 broadcasts took %v during the outage", d)
	}

	srv.Start()
	redistest.Eventually(t, 10*time.Second, "healthy again", healthy)
	redistest.Eventually(t, 5*time.Second, "delivery across nodes again", func() bool {
		_ = a.Srv.Of("/").ServerSideEmit("after")
		select {
		case ev := <-got:
			return ev == "after"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	// The outage left nothing behind.
	redistest.Eventually(t, 10*time.Second, "goroutines back to the baseline", func() bool {
		g, _ := usage()
		return g <= goroutines0
	})
	if _, heap := usage(); heap > heap0+8<<20 {
		t.Errorf("heap in use grew from %d to %d bytes over the outage", heap0, heap)
	}
	mu <- struct{}{}
	defer func() { <-mu }()
	if len(states) < 3 || !states[0].Healthy || states[1].Healthy || states[1].Err == nil || !states[len(states)-1].Healthy {
		t.Errorf("state changes = %+v, want up, down (with its error), ..., up", states)
	}
}

// usage returns the number of goroutines and the heap in use after a GC.
func usage() (int, uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapInuse
}

func expectEvent(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case ev := <-ch:
		if ev != want {
			t.Fatalf("got %q, want %q", ev, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %q", want)
	}
}
