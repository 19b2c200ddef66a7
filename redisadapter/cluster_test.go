package redisadapter_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisadapter"
)

func classic(t *testing.T, c *redis.Client, key string, o *redisadapter.Options) func(*socketio.Namespace) socketio.Adapter {
	t.Helper()
	var opts redisadapter.Options
	if o != nil {
		opts = *o
	}
	opts.Key = key
	mk, err := redisadapter.New(c, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// runScenario checks, from each node in turn, that every cluster operation
// reaches exactly the right clients on every node. nodes[i] hosts the
// clients named <nodes[i].Name()>a (rooms r1) and <nodes[i].Name()>b (for
// the last node, r1 and r2; else r2).
func runScenario(t *testing.T, nodes []node) {
	var specs []clientSpec
	var all, r1, r2, notR1 []string
	for i, n := range nodes {
		a, b := n.Name()+"a", n.Name()+"b"
		bRooms := []string{"r2"}
		if i == len(nodes)-1 {
			bRooms = []string{"r1", "r2"}
		}
		specs = append(specs, clientSpec{Name: a, URL: n.URL(), Rooms: []string{"r1"}}, clientSpec{Name: b, URL: n.URL(), Rooms: bRooms})
		all = append(all, a, b)
		r1 = append(r1, a)
		r2 = append(r2, b)
		if i == len(nodes)-1 {
			r1 = append(r1, b)
		} else {
			notR1 = append(notR1, b)
		}
	}
	sort.Strings(all)
	eventually(t, 10*time.Second, "every node counting the cluster", func() bool {
		for _, n := range nodes {
			if n.ServerCount(t) != len(nodes) {
				return false
			}
		}
		return true
	})
	cl := startClients(t, specs)

	// The rooms of each client; the r2 clients join one more room per node.
	rooms := map[string][]string{}
	for _, s := range specs {
		rooms[s.Name] = s.Rooms
	}
	expected := func(filter []string) []string {
		var out []string
		for _, s := range specs {
			if filter == nil || contains(filter, s.Name) {
				out = append(out, socketString(s.Name, "", rooms[s.Name]))
			}
		}
		sort.Strings(out)
		return out
	}

	for i, n := range nodes {
		from := n.Name()
		t.Run("from "+from, func(t *testing.T) {
			wantSockets := expected(nil)
			wantR2 := expected(r2)
			n.Emit(t, cmdOptions{}, "all-"+from, float64(i), []byte{1, 2, 255})
			cl.expectExactly(t, "all-"+from, all)
			for _, c := range all {
				args := cl.argsOf("all-"+from, c)
				if got := fmt.Sprint(args); got != fmt.Sprintf("[[%d map[$bin:0102ff]]]", i) {
					t.Errorf("%s got %s", c, got)
				}
			}

			n.Emit(t, cmdOptions{Rooms: []string{"r1"}}, "r1-"+from)
			cl.expectExactly(t, "r1-"+from, r1)
			n.Emit(t, cmdOptions{Rooms: []string{"r1"}, Except: []string{"r2"}}, "r1-except-r2-"+from)
			cl.expectExactly(t, "r1-except-r2-"+from, minus(r1, r2))
			n.Emit(t, cmdOptions{Except: []string{"r1"}}, "except-r1-"+from)
			cl.expectExactly(t, "except-r1-"+from, notR1)

			if got := n.FetchSockets(t, cmdOptions{}); !equal(got, wantSockets) {
				t.Errorf("fetchSockets = %v, want %v", got, wantSockets)
			}
			if got := n.FetchSockets(t, cmdOptions{Rooms: []string{"r2"}}); !equal(got, wantR2) {
				t.Errorf("fetchSockets(r2) = %v, want %v", got, wantR2)
			}

			var pongs []string
			for _, m := range nodes {
				if m != n {
					pongs = append(pongs, "pong-"+m.Name())
				}
			}
			sort.Strings(pongs)
			if got := n.ServerSideEmitWithAck(t, "ping"); !equal(got, pongs) {
				t.Errorf("serverSideEmitWithAck = %v, want %v", got, pongs)
			}

			if got := n.EmitWithAck(t, cmdOptions{}, "ack-"+from); !equal(got, all) {
				t.Errorf("emitWithAck answers = %v, want %v", got, all)
			}
			if got := n.EmitWithAck(t, cmdOptions{Rooms: []string{"r2"}}, "ack-r2-"+from); !equal(got, sorted(r2)) {
				t.Errorf("emitWithAck(r2) answers = %v, want %v", got, sorted(r2))
			}

			room := "joined-" + from
			n.SocketsJoin(t, cmdOptions{Rooms: []string{"r2"}}, room)
			time.Sleep(200 * time.Millisecond) // the join travels through Redis
			n.Emit(t, cmdOptions{Rooms: []string{room}}, "to-"+room)
			cl.expectExactly(t, "to-"+room, r2)
			for _, c := range r2 {
				rooms[c] = append(append([]string(nil), rooms[c]...), room)
			}
		})
	}

	last := nodes[0]
	last.DisconnectSockets(t, cmdOptions{Rooms: []string{"r2"}}, true)
	eventually(t, 5*time.Second, "r2 disconnected", func() bool { return equal(cl.disconnected(), sorted(r2)) })
	time.Sleep(150 * time.Millisecond)
	if got := cl.disconnected(); !equal(got, sorted(r2)) {
		t.Errorf("disconnected %v, want %v", got, sorted(r2))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestGoCluster: two Go nodes on one Redis, official clients on both.
func TestGoCluster(t *testing.T) {
	c := newRedis(t)
	key := uniqueKey(t)
	nodeDir(t)
	runScenario(t, []node{
		newGoNode(t, "go1", classic(t, c, key, nil)),
		newGoNode(t, "go2", classic(t, c, key, &redisadapter.Options{PublishOnSpecificResponseChannel: true})),
	})
}

// TestMixedCluster: two Go nodes and one Node node (socket.io with
// @socket.io/redis-adapter) on one Redis, official clients on every node.
func TestMixedCluster(t *testing.T) {
	c := newRedis(t)
	key := uniqueKey(t)
	js := newNodeNode(t, "classic", key, "js")
	runScenario(t, []node{
		newGoNode(t, "go1", classic(t, c, key, nil)),
		newGoNode(t, "go2", classic(t, c, key, &redisadapter.Options{PublishOnSpecificResponseChannel: true})),
		js,
	})
}

func sharded(t *testing.T, c *redis.Client, key string) func(*socketio.Namespace) socketio.Adapter {
	t.Helper()
	mk, err := redisadapter.NewSharded(c, &redisadapter.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// TestMixedShardedCluster: the same with the sharded mode of
// @socket.io/redis-adapter (SPUBLISH/SSUBSCRIBE, Redis 7).
func TestMixedShardedCluster(t *testing.T) {
	c := newRedis(t)
	if v, err := c.Do(context.Background(), "COMMAND", "INFO", "SPUBLISH").Slice(); err != nil || len(v) == 0 || v[0] == nil {
		skipOrFail(t, "this Redis server has no SPUBLISH (Redis 7 needed)")
	}
	key := uniqueKey(t)
	js := newNodeNode(t, "sharded", key, "js")
	runScenario(t, []node{
		newGoNode(t, "go1", sharded(t, c, key)),
		newGoNode(t, "go2", sharded(t, c, key)),
		js,
	})
}
