package redisadapter_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/redistest"
	"github.com/socketio-go/socketio/redisadapter"
)

// TestRedisRestart restarts Redis under steady traffic between two Go
// nodes: neither crashes, both report the outage, and delivery resumes on
// its own within a few seconds.
func TestRedisRestart(t *testing.T) {
	srv := redistest.StartOwnRedis(t)
	key := uniqueKey(t)

	var mu sync.Mutex
	var states []redisadapter.State
	opts := &redisadapter.Options{OnStateChange: func(s redisadapter.State) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	}}
	a := newGoNode(t, "a", classic(t, newRedisAt(t, srv.Addr()), key, opts))
	b := newGoNode(t, "b", classic(t, newRedisAt(t, srv.Addr()), key, nil))
	var ticks atomic.Int64
	b.Srv.Of("/").OnServerSideEmit(func(event string, _ socketio.Args, _ func(...any)) {
		if event == "tick" {
			ticks.Add(1)
		}
	})
	eventually(t, 5*time.Second, "two servers", func() bool { return a.ServerCount(t) == 2 })
	health := func() bool { return a.Srv.Of("/").Adapter().(*redisadapter.Adapter).Healthy() }
	goroutines0, heap0 := usage()

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				_ = a.Srv.Of("/").ServerSideEmit("tick")
			}
		}
	}()
	stopTraffic := sync.OnceFunc(func() { close(stop); <-done })
	defer stopTraffic()

	eventually(t, 5*time.Second, "ticks before the restart", func() bool { return ticks.Load() > 5 })
	srv.Stop()
	eventually(t, 10*time.Second, "the outage to be seen", func() bool { return !health() })
	time.Sleep(300 * time.Millisecond)
	// Local delivery goes on while Redis is down.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err := a.Srv.Of("/").Local().FetchSockets(ctx)
	cancel()
	if err != nil {
		t.Errorf("local fetchSockets during the outage: %v", err)
	}
	srv.Start()
	restarted := time.Now()
	before := ticks.Load()
	eventually(t, 10*time.Second, "ticks after the restart", func() bool { return ticks.Load() > before+5 })
	t.Logf("delivery resumed %v after the restart", time.Since(restarted).Round(10*time.Millisecond))
	if d := time.Since(restarted); d > 5*time.Second {
		t.Errorf("delivery resumed only after %v", d)
	}
	eventually(t, 5*time.Second, "healthy again", health)

	// The outage left nothing behind: goroutines and memory go back to
	// their level before it.
	stopTraffic()
	eventually(t, 10*time.Second, "goroutines back to the baseline", func() bool {
		g, _ := usage()
		return g <= goroutines0
	})
	if _, heap := usage(); heap > heap0+8<<20 {
		t.Errorf("heap in use grew from %d to %d bytes over the outage", heap0, heap)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 2 || states[len(states)-1].Healthy != true {
		t.Errorf("state changes = %+v, want a loss then a recovery", states)
	}
	for _, s := range states {
		if !s.Healthy && s.Err == nil {
			t.Errorf("an unhealthy state without its error: %+v", s)
		}
	}
}

// usage returns the number of goroutines and the heap in use after a GC.
func usage() (int, uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapInuse
}
