package redisemitter_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/redistest"
	"github.com/socketio-go/socketio/redisadapter"
	"github.com/socketio-go/socketio/redisemitter"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/maintnotifications.(*poolHook).cleanupWorker"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal.(*process).start.func1"),
	)
}

// TestWireLikeNode: what the emitter publishes, byte for byte as
// @socket.io/redis-emitter 5 (notepack.io, JSON.stringify) does.
func TestWireLikeNode(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	ctx := context.Background()
	ps := c.PSubscribe(ctx, key+"*")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := redisemitter.New(c, &redisemitter.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	next := func() *redis.Message {
		t.Helper()
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// emitter.to("r1").except("x").compress(false).volatile.emit("event", Buffer.from([1]), 1.25)
	if err := e.To("r1").Except("x").Compress(false).Volatile().Emit(ctx, "event", []byte{1}, 1.25); err != nil {
		t.Fatal(err)
	}
	const node = "93a7656d697474657283a47479706502a46461746193a56576656e74c40101cb3ff4000000000000a36e7370a12f83a5726f6f6d7391a27231a5666c61677382a8636f6d7072657373c2a8766f6c6174696c65c3a665786365707491a178"
	if m := next(); m.Channel != key+"#/#r1#" || hex.EncodeToString([]byte(m.Payload)) != node {
		t.Errorf("emit: %s %x\nNode sends %s", m.Channel, m.Payload, node)
	}
	for _, c := range []struct {
		do      func() error
		channel string
		payload string
	}{
		{func() error { return e.Of("admin").To("a").SocketsJoin(ctx, "b") }, key + "-request#/admin#", `{"type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}`},
		{func() error { return e.Except("a").SocketsLeave(ctx, "b") }, key + "-request#/#", `{"type":3,"opts":{"rooms":[],"except":["a"]},"rooms":["b"]}`},
		{func() error { return e.DisconnectSockets(ctx, true) }, key + "-request#/#", `{"type":4,"opts":{"rooms":[],"except":[]},"close":true}`},
		{func() error { return e.ServerSideEmit(ctx, "hello", "w", []byte{7}) }, key + "-request#/#", `{"uid":"emitter","type":6,"data":["hello","w",{"type":"Buffer","data":[7]}]}`},
	} {
		if err := c.do(); err != nil {
			t.Fatal(err)
		}
		if m := next(); m.Channel != c.channel || m.Payload != c.payload {
			t.Errorf("published %s %s\nwant      %s %s", m.Channel, m.Payload, c.channel, c.payload)
		}
	}
	if err := e.Emit(ctx, "disconnect"); !errors.Is(err, redisemitter.ErrReservedEvent) {
		t.Errorf("reserved event: %v", err)
	}
}

// TestEmitterReachesCluster: an emitter reaches the clients of a Go node
// and of a Node node (both with the classic Redis adapter), and the
// servers themselves.
func TestEmitterReachesCluster(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	mk, err := redisadapter.New(c, &redisadapter.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	g := redistest.NewGoNode(t, "go", mk)
	js := redistest.NewNodeNode(t, "classic", key, "js")
	var mu sync.Mutex
	var goEvents []string
	g.Srv.Of("/").OnServerSideEmit(func(event string, args socketio.Args, _ func(...any)) {
		mu.Lock()
		goEvents = append(goEvents, fmt.Sprint(event, args.Len()))
		mu.Unlock()
	})
	redistest.Eventually(t, 5*time.Second, "two servers", func() bool { return g.ServerCount(t) == 2 })
	cl := redistest.StartClients(t, []redistest.ClientSpec{
		{Name: "ga", URL: g.URL(), Rooms: []string{"r1"}}, {Name: "gb", URL: g.URL(), Rooms: []string{"r2"}},
		{Name: "ja", URL: js.URL(), Rooms: []string{"r1"}}, {Name: "jb", URL: js.URL(), Rooms: []string{"r1", "r2"}},
	})
	ctx := context.Background()
	e, err := redisemitter.New(c, &redisemitter.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Emit(ctx, "all", []byte{1, 2}, 3.5))
	cl.ExpectExactly(t, "all", []string{"ga", "gb", "ja", "jb"})
	for _, name := range []string{"ga", "ja"} {
		if got := fmt.Sprint(cl.ArgsOf("all", name)); got != "[[map[$bin:0102] 3.5]]" {
			t.Errorf("%s got %s", name, got)
		}
	}
	must(e.To("r1").Emit(ctx, "r1"))
	cl.ExpectExactly(t, "r1", []string{"ga", "ja", "jb"})
	must(e.To("r1").Except("r2").Emit(ctx, "r1-not-r2"))
	cl.ExpectExactly(t, "r1-not-r2", []string{"ga", "ja"})
	must(e.In("r1", "r2").Volatile().Compress(false).Emit(ctx, "r1-or-r2"))
	cl.ExpectExactly(t, "r1-or-r2", []string{"ga", "gb", "ja", "jb"})

	must(e.To("r2").SocketsJoin(ctx, "joined"))
	time.Sleep(200 * time.Millisecond)
	must(e.To("joined").Emit(ctx, "to-joined"))
	cl.ExpectExactly(t, "to-joined", []string{"gb", "jb"})
	must(e.To("joined").Except("r1").SocketsLeave(ctx, "joined"))
	time.Sleep(200 * time.Millisecond)
	must(e.To("joined").Emit(ctx, "to-joined-again"))
	cl.ExpectExactly(t, "to-joined-again", []string{"jb"})

	must(e.ServerSideEmit(ctx, "record", "x", 1))
	redistest.Eventually(t, 5*time.Second, "the server-side event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		events, _ := js.Call(t, map[string]any{"cmd": "serverSideEvents"})["events"].([]any)
		return len(goEvents) == 1 && goEvents[0] == "record2" && fmt.Sprint(events) == "[[x 1]]"
	})

	must(e.To("r2").DisconnectSockets(ctx, true))
	redistest.Eventually(t, 5*time.Second, "r2 disconnected", func() bool {
		return redistest.Equal(cl.Disconnected(), []string{"gb", "jb"})
	})
}
