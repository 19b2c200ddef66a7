package redisstreams_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/redistest"
)

// recoveringClient is recover.mjs: one official client that loses its
// transport and comes back on another node.
type recoveringClient struct {
	t      *testing.T
	p      *redistest.Proc
	events []string // "event:args" in arrival order
}

func (c *recoveringClient) do(cmd map[string]any, until func(m map[string]any) bool) map[string]any {
	c.t.Helper()
	c.p.Send(cmd)
	return c.wait(fmt.Sprint(cmd["cmd"]), until)
}

// wait reads lines, recording events, until one satisfies until.
func (c *recoveringClient) wait(what string, until func(m map[string]any) bool) map[string]any {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-c.p.Lines():
			if !ok {
				c.t.Fatalf("recover.mjs exited during %s", what)
			}
			if e, ok := m["error"]; ok {
				c.t.Fatalf("%s: client error: %v", what, e)
			}
			if ev, ok := m["event"].(string); ok {
				c.events = append(c.events, ev+":"+fmt.Sprint(m["args"]))
			}
			if until(m) {
				return m
			}
		case <-timeout:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain records the events that arrive within d.
func (c *recoveringClient) drain(d time.Duration) {
	deadline := time.After(d)
	for {
		select {
		case m := <-c.p.Lines():
			if ev, ok := m["event"].(string); ok {
				c.events = append(c.events, ev+":"+fmt.Sprint(m["args"]))
			}
		case <-deadline:
			return
		}
	}
}

func has(key string) func(map[string]any) bool {
	return func(m map[string]any) bool { _, ok := m[key]; return ok }
}

var streamID = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// names returns the event names of "event:args" entries, checking that
// each event carries a stream entry id as its last argument (its offset).
func names(t *testing.T, events []string) []string {
	var out []string
	for _, e := range events {
		name, args, _ := strings.Cut(e, ":")
		fields := strings.Fields(strings.Trim(args, "[]"))
		if len(fields) == 0 || !streamID.MatchString(fields[len(fields)-1]) {
			t.Errorf("event %s has no stream offset", e)
		}
		out = append(out, name)
	}
	return out
}

// TestRecoveryAcrossNodes: a client of one node loses its transport and
// reconnects to another node (Go or Node, in every combination); it is
// recovered (same id, rooms and data) and gets exactly the broadcasts it
// missed, once each, in order, whichever node sent them.
func TestRecoveryAcrossNodes(t *testing.T) {
	c := redistest.NewRedis(t)
	key := redistest.UniqueKey(t)
	recovery := func(name string) *redistest.GoNode {
		return redistest.NewGoNodeWith(t, name, &socketio.Options{
			Adapter:                 streams(t, c, key, nil),
			ConnectionStateRecovery: &socketio.RecoveryOptions{},
		})
	}
	go1, go2 := recovery("go1"), recovery("go2")
	js := redistest.NewNodeNode(t, "streams", key, "js", `{"recovery":true}`)
	nodes := []redistest.Node{go1, go2, js}
	redistest.Eventually(t, 10*time.Second, "three servers", func() bool {
		for _, n := range nodes {
			if n.ServerCount(t) != 3 {
				return false
			}
		}
		return true
	})

	for i, pair := range [][2]redistest.Node{{go1, go2}, {go1, js}, {js, go1}, {go2, go2}} {
		from, to := pair[0], pair[1]
		t.Run(from.Name()+" to "+to.Name(), func(t *testing.T) {
			cl := &recoveringClient{t: t, p: redistest.StartProc(t, "recover.mjs", "c")}
			m := cl.do(map[string]any{"cmd": "connect", "url": from.URL()}, has("connected"))
			id, pid := m["connected"], fmt.Sprint(m["pid"])
			if m["recovered"] != false || pid == "" || pid == "<nil>" {
				t.Fatalf("first connection: %v", m)
			}
			cl.do(map[string]any{"cmd": "join", "room": "r"}, has("done"))
			p := fmt.Sprint(i)
			from.Emit(t, redistest.CmdOptions{}, "seen"+p)
			cl.wait("seen", func(m map[string]any) bool { return m["event"] == "seen"+p })

			cl.do(map[string]any{"cmd": "drop"}, has("disconnect"))
			redistest.Eventually(t, 5*time.Second, "the session in Redis", func() bool {
				n, _ := c.Exists(context.Background(), key+":session:"+pid).Result()
				return n == 1
			})
			// Missed: to everyone, to the client's room, with binary; not
			// missed: to another room, to everyone but the client's room.
			var want []string
			for j, n := range nodes {
				ev := fmt.Sprintf("m%s-%d", p, j)
				n.Emit(t, redistest.CmdOptions{}, ev+"-all", float64(j))
				n.Emit(t, redistest.CmdOptions{Rooms: []string{"r"}}, ev+"-r", []byte{byte(j)})
				n.Emit(t, redistest.CmdOptions{Rooms: []string{"other"}}, ev+"-other")
				n.Emit(t, redistest.CmdOptions{Except: []string{"r"}}, ev+"-except")
				want = append(want, ev+"-all", ev+"-r")
				// The Node node writes to the stream after answering.
				time.Sleep(50 * time.Millisecond)
			}

			cl.events = nil
			m = cl.do(map[string]any{"cmd": "moveTo", "url": to.URL()}, has("connected"))
			if m["recovered"] != true || m["connected"] != id {
				t.Fatalf("reconnection to %s: %v, want recovered with id %v", to.Name(), m, id)
			}
			cl.drain(500 * time.Millisecond)
			if got := names(t, cl.events); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("missed packets:\n got %v\nwant %v", got, want)
			}
			if len(cl.events) > 1 && !strings.Contains(cl.events[1], "$bin") {
				t.Errorf("binary lost: %s", cl.events[1])
			}

			// The socket is back in its room, on its new node.
			cl.events = nil
			from.Emit(t, redistest.CmdOptions{Rooms: []string{"r"}}, "after"+p)
			cl.wait("after", func(m map[string]any) bool { return m["event"] == "after"+p })
			cl.drain(200 * time.Millisecond)
			if got := names(t, cl.events); strings.Join(got, " ") != "after"+p {
				t.Errorf("after the recovery: %v", got)
			}
		})
	}
}
