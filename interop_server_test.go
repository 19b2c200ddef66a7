package socketio_test

// Interop tests: our server driven by the official socket.io-client (npm
// socket.io-client@4, see interop/node). Every scenario runs over polling
// only, WebSocket only, and polling upgraded to WebSocket. The Node side is
// interop/node/client.mjs; the harness is in interop_harness_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/engineio"
)

// TestInteropAuth: the handshake auth, query and socket id, as both sides see them.
func TestInteropAuth(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		type conn struct {
			id, sid, query string
			auth           json.RawMessage
		}
		conns := make(chan conn, 2)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				hs := s.Handshake()
				conns <- conn{id: s.ID(), sid: s.Conn().ID(), query: hs.Query.Get("q"), auth: hs.Auth}
				if err := s.Emit("hello", map[string]any{"id": s.ID(), "auth": hs.Auth}); err != nil {
					t.Errorf("Emit: %v", err)
				}
			})
		})
		n := startInteropNode(t, "auth", url, mode)

		for _, tc := range []struct{ client, auth, query string }{
			{"with-auth", `{"token":"secret-token","user":{"id":7,"roles":["a","b"]}}`, "v"},
			{"no-auth", `{}`, ""},
		} {
			c := interopRecv(t, conns, "a connection")
			interopJSONEqual(t, tc.client+": auth seen by the server", c.auth, tc.auth)
			if tc.auth == `{}` && string(c.auth) != `{}` {
				t.Errorf("%s: auth is %s, want {} exactly", tc.client, c.auth)
			}
			if c.query != tc.query {
				t.Errorf("%s: query q = %q, want %q", tc.client, c.query, tc.query)
			}
			if c.id == c.sid {
				t.Errorf("%s: the socket id is the Engine.IO session id", tc.client)
			}
			interopJSONEqual(t, tc.client+": connect", n.next("connect", tc.client),
				map[string]any{"id": c.id, "recovered": false, "nsp": "/"})
			interopJSONEqual(t, tc.client+": hello", n.next("hello", tc.client),
				fmt.Sprintf(`{"id":%q,"auth":%s}`, c.id, tc.auth))
		}
		n.expectTransport("with-auth", mode)
		n.finish()
	})
}

// TestInteropNamespaces: main, custom and dynamic (OfRegexp, OfFunc)
// namespaces multiplexed on one connection; unknown or refused names.
func TestInteropNamespaces(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		type conn struct{ nsp, id, sid string }
		conns := make(chan conn, 8)
		var dyn, fn *socketio.ParentNamespace
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			welcome := func(s *socketio.Socket) {
				conns <- conn{s.Namespace().Name(), s.ID(), s.Conn().ID()}
				_ = s.Emit("welcome", s.Namespace().Name())
			}
			srv.OnConnection(welcome)
			srv.Of("/custom").OnConnection(welcome)
			dyn = srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
			dyn.OnConnection(welcome)
			fn = srv.OfFunc(func(name string, auth json.RawMessage) bool {
				var a struct{ Allow bool }
				_ = json.Unmarshal(auth, &a)
				return strings.HasPrefix(name, "/func-") && a.Allow
			})
			fn.OnConnection(welcome)
		})
		n := startInteropNode(t, "namespaces", url, mode)

		seen := map[string]conn{}
		for range 4 {
			c := interopRecv(t, conns, "a namespace connection")
			seen[c.nsp] = c
		}
		sids := map[string]bool{}
		for _, name := range []string{"/", "/custom", "/dyn-42", "/func-a"} {
			c, ok := seen[name]
			if !ok {
				t.Fatalf("no connection to %s on the server (got %v)", name, seen)
			}
			sids[c.sid] = true
			interopJSONEqual(t, "connect "+name, n.next("connect", name), map[string]any{"id": c.id, "recovered": false, "nsp": name})
			interopJSONEqual(t, "welcome "+name, n.next("welcome", name), fmt.Sprintf("%q", name))
		}
		if len(sids) != 1 {
			t.Errorf("the namespaces used %d Engine.IO sessions, want 1 (multiplexing)", len(sids))
		}
		for _, name := range []string{"/func-b", "/unknown"} {
			interopJSONEqual(t, "connect_error "+name, n.next("connect_error", name), `{"message":"Invalid namespace","data":{"$undefined":true}}`)
		}
		if got := interopNames(dyn.Children()); !slices.Equal(got, []string{"/dyn-42"}) {
			t.Errorf("regexp parent children = %v", got)
		}
		if got := interopNames(fn.Children()); !slices.Equal(got, []string{"/func-a"}) {
			t.Errorf("func parent children = %v", got)
		}
		if err := dyn.Emit("parent-broadcast", "to every child"); err != nil {
			t.Fatal(err)
		}
		n.send("parent-broadcast-sent")
		interopJSONEqual(t, "parent broadcast", n.next("parent-broadcast", "/dyn-42"), `"to every child"`)
		n.expectTransport("/", mode)
		n.finish()
	})
}

func interopNames(nsps []*socketio.Namespace) []string {
	var out []string
	for _, n := range nsps {
		out = append(out, n.Name())
	}
	sort.Strings(out)
	return out
}

// TestInteropMiddleware: a middleware's refusal reaches connect_error with
// its message and data.
func TestInteropMiddleware(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		connected := make(chan string, 4)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.Of("/guarded").Use(func(*socketio.Socket) error {
				return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{
					"code": 401, "reasons": []any{"expired", map[string]any{"at": 123}},
				}}
			})
			srv.Of("/plain").Use(func(*socketio.Socket) error { return errors.New("plain failure") })
			srv.Use(func(s *socketio.Socket) error {
				var a struct{ Token string }
				if err := s.Handshake().BindAuth(&a); err != nil || a.Token != "ok" {
					return &socketio.ConnectError{Message: "bad token"}
				}
				s.SetData("checked by the middleware")
				return nil
			})
			srv.OnConnection(func(s *socketio.Socket) {
				connected <- s.ID()
				_ = s.Emit("welcome", s.Data())
			})
		})
		n := startInteropNode(t, "middleware", url, mode)

		interopJSONEqual(t, "guarded", n.next("connect_error", "guarded"),
			`{"message":"not authorized","data":{"code":401,"reasons":["expired",{"at":123}]},"hasData":true}`)
		interopJSONEqual(t, "plain", n.next("connect_error", "plain"),
			`{"message":"plain failure","data":{"$undefined":true},"hasData":false}`)
		interopJSONEqual(t, "bad-token", n.next("connect_error", "bad-token"),
			`{"message":"bad token","data":{"$undefined":true},"hasData":false}`)
		id := interopRecv(t, connected, "the accepted connection")
		interopJSONEqual(t, "ok", n.next("connect", "ok"), map[string]any{"id": id, "recovered": false, "nsp": "/"})
		interopJSONEqual(t, "welcome", n.next("welcome", "ok"), `"checked by the middleware"`)
		n.expectTransport("ok", mode)
		n.finish()
		select {
		case id := <-connected:
			t.Errorf("a refused socket (%s) reached the connection handlers", id)
		default:
		}
	})
}

// interopJSONValues are the values client.mjs sends in emit-json (jsonValues()).
const interopJSONValues = `["hello","",42,-7,3.14159,9007199254740991,1e21,true,false,null,
	{"nested":{"a":[1,"two",{"three":3}],"empty":{},"list":[]}},[1,[2,[3,[]]]],
	"unicode ✓ 日本語 émoji 😀 \u2028",
	"quote \" backslash \\ newline \n tab \t control \u0001 <html>&"]`

// TestInteropEmitJSON: events with every JSON type, both ways.
func TestInteropEmitJSON(t *testing.T) {
	type goInner struct {
		X int `json:"x"`
	}
	type goStruct struct {
		Name    string   `json:"name"`
		Tags    []string `json:"tags"`
		Inner   *goInner `json:"inner"`
		Skipped string   `json:"skipped,omitempty"`
		private int
	}
	fromGo := []any{
		"str", 1, 2.5, true, nil, map[string]any{"k": []any{1, "x", nil}}, []int{1, 2, 3},
		goStruct{Name: "n", Tags: []string{"a"}, Inner: &goInner{X: 1}, private: 1},
		"😀 ✓ \u2028 <&>", int64(1<<53 - 1), uint8(255), json.RawMessage(`{"raw":true}`), map[string]any{},
	}
	const fromGoJSON = `["str",1,2.5,true,null,{"k":[1,"x",null]},[1,2,3],{"name":"n","tags":["a"],"inner":{"x":1}},
		"😀 ✓ \u2028 <&>",9007199254740991,255,{"raw":true},{}]`
	interopEach(t, func(t *testing.T, mode string) {
		got := make(chan []any, 1)
		noArgs := make(chan int, 1)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("types", func(e *socketio.Event) {
					vals, err := e.Values()
					if err != nil {
						t.Errorf("Values: %v", err)
					}
					got <- vals
					_ = s.Emit("types-back", vals...)
					_ = s.Emit("from-go", fromGo...)
				})
				s.On("no-args", func(e *socketio.Event) {
					noArgs <- e.Len()
					_ = s.Emit("no-args")
				})
			})
		})
		n := startInteropNode(t, "emit-json", url, mode)

		interopJSONEqual(t, "values received by the server", interopMarshal(interopRecv(t, got, "the types event")), interopJSONValues)
		interopJSONEqual(t, "values echoed to the client", n.next("types-back", ""), interopJSONValues)
		interopJSONEqual(t, "values sent from Go", n.next("from-go", ""), fromGoJSON)
		if l := interopRecv(t, noArgs, "the no-args event"); l != 0 {
			t.Errorf("no-args event has %d arguments", l)
		}
		interopJSONEqual(t, "no-args", n.next("no-args", ""), `[]`)
		n.expectTransport("", mode)
		n.finish()
	})
}

// TestInteropEmitBinary: binary arguments, nested in objects and arrays, both ways.
func TestInteropEmitBinary(t *testing.T) {
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	type file struct {
		Name   string `json:"name"`
		Data   []byte `json:"data"`
		Nested struct {
			List []any `json:"list"`
		} `json:"nested"`
	}
	type goBlob struct {
		Blob  []byte   `json:"blob"`
		Parts [][]byte `json:"parts"`
		Nil   []byte   `json:"nil"`
		Empty []byte   `json:"empty"`
	}
	interopEach(t, func(t *testing.T, mode string) {
		type received struct {
			top, ab, big []byte
			f            file
			err          error
		}
		got := make(chan received, 1)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("bin", func(e *socketio.Event) {
					var r received
					r.err = e.Bind(&r.top, &r.f, &r.ab, &r.big)
					got <- r
					_ = s.Emit("bin-back", r.top, map[string]any{
						"name": r.f.Name, "data": r.f.Data, "nested": map[string]any{"list": r.f.Nested.List},
					}, goBlob{Blob: []byte("from go"), Parts: [][]byte{{1}, {2, 2}}, Empty: []byte{}}, r.big)
				})
			})
		})
		n := startInteropNode(t, "emit-binary", url, mode)

		r := interopRecv(t, got, "the bin event")
		if r.err != nil {
			t.Fatalf("Bind: %v", r.err)
		}
		if !bytes.Equal(r.top, []byte{0, 1, 2, 255}) || !bytes.Equal(r.ab, []byte{1, 2, 3}) || !bytes.Equal(r.big, big) {
			t.Errorf("top-level binaries: %v, %v, %d bytes (equal: %v)", r.top, r.ab, len(r.big), bytes.Equal(r.big, big))
		}
		if r.f.Name != "file.bin" || string(r.f.Data) != "hello binary" {
			t.Errorf("nested binary: %+v", r.f)
		}
		if l := r.f.Nested.List; len(l) != 3 || !bytes.Equal(interopBytes(l[0]), []byte{9, 8, 7}) || l[1] != "text" || l[2] != 5.0 {
			t.Errorf("binary in a nested list: %#v", l)
		}
		interopJSONEqual(t, "binaries echoed to the client", n.next("bin-back", ""), []any{
			interopBin([]byte{0, 1, 2, 255}),
			map[string]any{"name": "file.bin", "data": interopBin([]byte("hello binary")),
				"nested": map[string]any{"list": []any{interopBin([]byte{9, 8, 7}), "text", 5}}},
			map[string]any{"blob": interopBin([]byte("from go")), "parts": []any{interopBin([]byte{1}), interopBin([]byte{2, 2})},
				"nil": nil, "empty": interopBin([]byte{})},
			interopBin(big),
		})
		n.expectTransport("", mode)
		n.finish()
	})
}

func interopBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}

// TestInteropAcks: acknowledgements both ways, with and without timeouts,
// including timeouts that fire on either side.
func TestInteropAcks(t *testing.T) {
	type typedIn struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	type typedOut struct {
		Greeting string `json:"greeting"`
		Double   int    `json:"double"`
	}
	type result struct {
		name    string
		args    socketio.Args
		err     error
		elapsed time.Duration
	}
	interopEach(t, func(t *testing.T, mode string) {
		never := make(chan bool, 2)
		results := make(chan result, 8)
		var wg sync.WaitGroup
		t.Cleanup(wg.Wait)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("sum", func(e *socketio.Event) {
					var a, b float64
					if err := e.Bind(&a, &b); err != nil {
						t.Errorf("sum: %v", err)
					}
					_ = e.Ack(a + b)
				})
				socketio.OnWithAck(s, "typed", func(_ *socketio.Socket, in typedIn) typedOut {
					return typedOut{Greeting: "hi " + in.Name, Double: in.N * 2}
				})
				s.On("bin-ack", func(e *socketio.Event) {
					var b []byte
					if err := e.Decode(0, &b); err != nil {
						t.Errorf("bin-ack: %v", err)
					}
					_ = e.Ack(append(b, 7), map[string]any{"echo": b})
				})
				s.On("never", func(e *socketio.Event) { never <- e.WantsAck() })
				s.On("start-server-acks", func(*socketio.Event) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ask := func(name string, ctx context.Context, em interface {
							EmitWithAck(context.Context, string, ...any) (socketio.Args, error)
						}, event string, args ...any) {
							start := time.Now()
							a, err := em.EmitWithAck(ctx, event, args...)
							results <- result{name, a, err, time.Since(start)}
						}
						bg := context.Background()
						ask("timeout", bg, s.Timeout(interopWait), "ask", "q1")
						ctx, cancel := context.WithTimeout(bg, interopWait)
						ask("ctx", ctx, s, "ask", "q2")
						cancel()
						ask("bin", bg, s.Timeout(interopWait), "ask-bin")
						ask("fires", bg, s.Timeout(100*time.Millisecond), "ignore", 1)
						ctx, cancel = context.WithTimeout(bg, 100*time.Millisecond)
						ask("ctx-fires", ctx, s, "ignore", 2)
						cancel()
						_ = s.Emit("server-acks-done")
					}()
				})
			})
		})
		n := startInteropNode(t, "acks", url, mode)

		// Client to server.
		interopJSONEqual(t, "sum", n.next("sum", ""), `3`)
		interopJSONEqual(t, "typed", n.next("typed", ""), `{"greeting":"hi x","double":4}`)
		interopJSONEqual(t, "sum with timeout", n.next("sum-timeout", ""), `{"err":null,"r":7}`)
		interopJSONEqual(t, "binary ack", n.next("bin-ack", ""), []any{interopBin([]byte{4, 5, 6, 7}), map[string]any{"echo": interopBin([]byte{4, 5, 6})}})
		interopJSONEqual(t, "client timeout (callback)", n.next("never", ""), `{"err":"operation has timed out"}`)
		var never2 struct {
			Err string
		}
		interopDecode(t, n.next("never-2", ""), &never2)
		if never2.Err != "operation has timed out" {
			t.Errorf("client timeout (emitWithAck): %q", never2.Err)
		}
		for range 2 {
			if !interopRecv(t, never, "the never events") {
				t.Error("the server did not see the client's ack request")
			}
		}

		// Server to client.
		want := map[string]string{
			"timeout": `["answer",{"q":"q1"}]`,
			"ctx":     `["answer",{"q":"q2"}]`,
		}
		for range 5 {
			r := interopRecv(t, results, "a server EmitWithAck")
			switch r.name {
			case "timeout", "ctx":
				if r.err != nil {
					t.Errorf("%s: %v", r.name, r.err)
					continue
				}
				vals, _ := r.args.Values()
				interopJSONEqual(t, r.name, interopMarshal(vals), want[r.name])
			case "bin":
				var b []byte
				var nested struct{ Nested []byte }
				if r.err != nil || r.args.Bind(&b, &nested) != nil || !bytes.Equal(b, []byte{1, 2, 3}) || string(nested.Nested) != "ack" {
					t.Errorf("binary ack from the client: %v %v %+v", r.err, b, nested)
				}
			case "fires", "ctx-fires":
				if !errors.Is(r.err, socketio.ErrTimeout) {
					t.Errorf("%s: err = %v, want ErrTimeout", r.name, r.err)
				}
				if r.elapsed < 90*time.Millisecond || r.elapsed > 5*time.Second {
					t.Errorf("%s: timed out after %v, want about 100ms", r.name, r.elapsed)
				}
			}
		}
		interopJSONEqual(t, "ignored events seen by the client", interopMarshal([]json.RawMessage{n.next("ignored", ""), n.next("ignored", "")}), `[1,2]`)
		n.expectTransport("", mode)
		n.finish()
	})
}

// interopNamed collects the sockets of named clients (auth {name} or {role}).
type interopNamed struct {
	mu    sync.Mutex
	socks map[string]*socketio.Socket
	ch    chan string
}

func newInteropNamed() *interopNamed {
	return &interopNamed{socks: map[string]*socketio.Socket{}, ch: make(chan string, 16)}
}

func (c *interopNamed) add(s *socketio.Socket) {
	name := interopAuthName(s)
	c.mu.Lock()
	c.socks[name] = s
	c.mu.Unlock()
	c.ch <- name
}

// wait waits for n connections and returns the sockets by name.
func (c *interopNamed) wait(t *testing.T, n int) map[string]*socketio.Socket {
	t.Helper()
	for range n {
		interopRecv(t, c.ch, "a client connection")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.socks)
}

// TestInteropRooms: Join/Leave, To, Except, Socket.Broadcast, Volatile.
func TestInteropRooms(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		named := newInteropNamed()
		var nsp *socketio.Namespace
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			nsp = srv.Of("/")
			srv.OnConnection(func(s *socketio.Socket) {
				switch interopAuthName(s) {
				case "A":
					s.Join("r1")
				case "B":
					s.Join("r1", "r2")
				case "C":
					s.Join("r2")
				}
				s.On("volatile-please", func(e *socketio.Event) {
					var n int
					_ = e.Decode(0, &n)
					if n%2 == 0 {
						_ = s.Volatile().Emit("vol", n)
					} else {
						_ = nsp.To(s.ID()).Volatile().Emit("vol", n)
					}
				})
				named.add(s)
			})
		})
		n := startInteropNode(t, "rooms", url, mode)
		socks := named.wait(t, 3)
		a, b, c := socks["A"], socks["B"], socks["C"]
		for name, s := range socks {
			interopJSONEqual(t, "connect "+name, n.next("connect", name), map[string]any{"id": s.ID(), "recovered": false, "nsp": "/"})
		}
		if got, want := interopSorted(b.Rooms()), interopSorted([]string{b.ID(), "r1", "r2"}); !slices.Equal(got, want) {
			t.Errorf("B's rooms = %v, want %v", got, want)
		}
		interopMust(t, nsp.To("r1").Emit("msg", "to-r1"))
		interopMust(t, nsp.To("r1", "r2").Emit("msg", "to-r1-r2"))
		interopMust(t, nsp.Except("r2").Emit("msg", "except-r2"))
		interopMust(t, nsp.To("r2").Except("r1").Emit("msg", "r2-except-r1"))
		interopMust(t, a.Broadcast().Emit("msg", "broadcast-from-A"))
		interopMust(t, a.To("r1").Emit("msg", "A-to-r1"))
		interopMust(t, a.Except("r2").Emit("msg", "A-except-r2"))
		b.Leave("r1")
		interopMust(t, nsp.To("r1").Emit("msg", "to-r1-after-leave"))
		interopMust(t, nsp.In(c.ID()).Emit("msg", "to-C-by-id"))
		interopMust(t, nsp.Emit("end"))

		interopJSONEqual(t, "A's messages", n.next("messages", "A"), `["to-r1","to-r1-r2","except-r2","to-r1-after-leave"]`)
		interopJSONEqual(t, "B's messages", n.next("messages", "B"), `["to-r1","to-r1-r2","broadcast-from-A","A-to-r1"]`)
		interopJSONEqual(t, "C's messages", n.next("messages", "C"), `["to-r1-r2","r2-except-r1","broadcast-from-A","to-C-by-id"]`)

		var vol struct {
			Received []int
			Tries    int
		}
		interopDecode(t, n.next("volatile", "A"), &vol)
		if len(vol.Received) == 0 || len(vol.Received) > vol.Tries {
			t.Errorf("volatile events to an idle client: %+v", vol)
		}
		if vol.Tries > 1 {
			t.Logf("volatile: %d tries before one was delivered", vol.Tries)
		}
		n.expectTransport("A", mode)
		n.finish()
	})
}

func interopSorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func interopMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestInteropBroadcastAck: a broadcast gathering the acknowledgements of several clients.
func TestInteropBroadcastAck(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		named := newInteropNamed()
		var nsp *socketio.Namespace
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			nsp = srv.Of("/")
			srv.OnConnection(func(s *socketio.Socket) {
				if interopAuthName(s) != "C" {
					s.Join("ab")
				}
				named.add(s)
			})
		})
		n := startInteropNode(t, "broadcast-ack", url, mode)
		socks := named.wait(t, 3)
		for name := range socks {
			n.next("connect", name)
		}
		from := func(what string, answers []socketio.Args, q string) []string {
			var out []string
			for _, a := range answers {
				var r struct{ From, Q string }
				if err := a.Decode(0, &r); err != nil || r.Q != q {
					t.Errorf("%s: answer %v (%v)", what, a.Raw(), err)
				}
				out = append(out, r.From)
			}
			sort.Strings(out)
			return out
		}
		bg := context.Background()
		check := func(what string, answers []socketio.Args, err, wantErr error, q string, want ...string) {
			t.Helper()
			if !errors.Is(err, wantErr) {
				t.Errorf("%s: err = %v, want %v", what, err, wantErr)
			}
			if got := from(what, answers, q); !slices.Equal(got, want) {
				t.Errorf("%s: answers from %v, want %v", what, got, want)
			}
		}
		answers, err := nsp.Timeout(interopWait).EmitWithAck(bg, "poll", "q1")
		check("everyone", answers, err, nil, "q1", "A", "B", "C")
		start := time.Now()
		answers, err = nsp.Timeout(300*time.Millisecond).EmitWithAck(bg, "poll-partial", "q2")
		check("a silent client", answers, err, socketio.ErrTimeout, "q2", "A", "B")
		if d := time.Since(start); d < 290*time.Millisecond {
			t.Errorf("timed out after %v", d)
		}
		answers, err = nsp.To("ab").Timeout(interopWait).EmitWithAck(bg, "poll", "q3")
		check("a room", answers, err, nil, "q3", "A", "B")
		answers, err = socks["A"].Broadcast().Timeout(interopWait).EmitWithAck(bg, "poll", "q4")
		check("Socket.Broadcast", answers, err, nil, "q4", "B", "C")
		ctx, cancel := context.WithTimeout(bg, interopWait)
		answers, err = nsp.Local().EmitWithAck(ctx, "poll", "q5")
		cancel()
		check("a context deadline", answers, err, nil, "q5", "A", "B", "C")
		interopMust(t, nsp.Emit("finish"))
		n.expectTransport("A", mode)
		n.finish()
	})
}

// TestInteropFetchSockets: FetchSockets and RemoteSocket's operations.
func TestInteropFetchSockets(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		named := newInteropNamed()
		reasons := make(chan string, 2)
		var nsp *socketio.Namespace
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			nsp = srv.Of("/")
			srv.OnConnection(func(s *socketio.Socket) {
				s.SetData(map[string]any{"name": interopAuthName(s)})
				if interopAuthName(s) == "A" {
					s.Join("vip")
				}
				s.OnDisconnect(func(reason string) { reasons <- interopAuthName(s) + ": " + reason })
				named.add(s)
			})
		})
		n := startInteropNode(t, "fetch-sockets", url, mode)
		socks := named.wait(t, 2)
		ids := map[string]string{}
		for name := range socks {
			var c struct{ ID string }
			interopDecode(t, n.next("connect", name), &c)
			ids[name] = c.ID
		}
		ctx, cancel := context.WithTimeout(context.Background(), interopWait)
		defer cancel()

		all, err := nsp.FetchSockets(ctx)
		interopMust(t, err)
		if len(all) != 2 {
			t.Fatalf("FetchSockets: %d sockets", len(all))
		}
		byName := map[string]*socketio.RemoteSocket{}
		for _, r := range all {
			name, _ := r.Data.(map[string]any)["name"].(string)
			byName[name] = r
			if r.ID != ids[name] {
				t.Errorf("%s: remote socket id %s, client's id %s", name, r.ID, ids[name])
			}
			interopJSONEqual(t, name+": handshake auth", r.Handshake.Auth, map[string]string{"name": name})
		}
		if got := interopSorted(byName["A"].Rooms); !slices.Equal(got, interopSorted([]string{ids["A"], "vip"})) {
			t.Errorf("A's rooms: %v", got)
		}
		vip, err := nsp.In("vip").FetchSockets(ctx)
		interopMust(t, err)
		if len(vip) != 1 || vip[0].ID != ids["A"] {
			t.Fatalf("In(vip).FetchSockets: %v", vip)
		}
		interopMust(t, vip[0].Emit("remote", "hello A"))
		byName["B"].Join("joined-remotely")
		interopMust(t, nsp.To("joined-remotely").Emit("remote", "to the room B joined"))
		in, err := nsp.In("joined-remotely").FetchSockets(ctx)
		interopMust(t, err)
		if len(in) != 1 || in[0].ID != ids["B"] {
			t.Errorf("In(joined-remotely).FetchSockets: %v", in)
		}
		byName["B"].Leave("joined-remotely")
		interopMust(t, nsp.To("joined-remotely").Emit("remote", "after leaving"))
		vip[0].Disconnect(false)
		interopJSONEqual(t, "A's disconnect", n.next("disconnect", "A"), `"io server disconnect"`)
		if r := interopRecv(t, reasons, "A's disconnection"); r != "A: server namespace disconnect" {
			t.Errorf("server side: %s", r)
		}
		left, err := nsp.FetchSockets(ctx)
		interopMust(t, err)
		if len(left) != 1 || left[0].ID != ids["B"] {
			t.Errorf("FetchSockets after A left: %v", left)
		}
		interopMust(t, nsp.Emit("finish"))
		interopJSONEqual(t, "A's remote events", n.next("remote", "A"), `["hello A"]`)
		interopJSONEqual(t, "B's remote events", n.next("remote", "B"), `["to the room B joined"]`)
		n.expectTransport("B", mode)
		n.finish()
	})
}

// TestInteropDisconnectSockets: DisconnectSockets in a room, then everywhere.
func TestInteropDisconnectSockets(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		named := newInteropNamed()
		reasons := make(chan string, 3)
		srv, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				if interopAuthName(s) != "C" {
					s.Join("kick")
				}
				s.OnDisconnect(func(reason string) { reasons <- interopAuthName(s) + ": " + reason })
				named.add(s)
			})
		})
		n := startInteropNode(t, "disconnect-sockets", url, mode)
		named.wait(t, 3)
		for _, name := range []string{"A", "B", "C"} {
			n.next("connect", name)
		}
		srv.In("kick").DisconnectSockets(false)
		got := []string{interopRecv(t, reasons, "a disconnection"), interopRecv(t, reasons, "a disconnection")}
		if sort.Strings(got); !slices.Equal(got, []string{"A: server namespace disconnect", "B: server namespace disconnect"}) {
			t.Errorf("server side: %v", got)
		}
		interopJSONEqual(t, "A", n.next("disconnect", "A"), `"io server disconnect"`)
		interopJSONEqual(t, "B", n.next("disconnect", "B"), `"io server disconnect"`)
		interopMust(t, srv.Emit("still-here", "yes"))
		interopJSONEqual(t, "C", n.next("still-here", "C"), `"yes"`)
		srv.Of("/").DisconnectSockets(true)
		if r := interopRecv(t, reasons, "C's disconnection"); r != "C: server namespace disconnect" {
			t.Errorf("server side: %s", r)
		}
		interopJSONEqual(t, "C", n.next("disconnect", "C"), `"io server disconnect"`)
		n.finish()
		if s := srv.Of("/").Sockets(); len(s) != 0 {
			t.Errorf("%d sockets left", len(s))
		}
	})
}

// TestInteropDisconnectReasons: "io server disconnect" (Disconnect, with or
// without closing), "transport close" (the server closes the connection),
// "io client disconnect", and the reasons the server sees for them.
func TestInteropDisconnectReasons(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		named := newInteropNamed()
		reasons := make(chan string, 4)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("disconnect-me", func(*socketio.Event) { s.Disconnect(false) })
				s.On("disconnect-me-close", func(*socketio.Event) { s.Disconnect(true) })
				s.On("close-conn", func(*socketio.Event) { _ = s.Conn().Close() })
				s.OnDisconnect(func(reason string) { reasons <- interopAuthName(s) + ": " + reason })
				named.add(s)
			})
		})
		n := startInteropNode(t, "disconnect-reasons", url, mode)
		named.wait(t, 4)
		for role, want := range map[string]string{
			"server-disconnect": "io server disconnect",
			"server-close":      "io server disconnect",
			"conn-close":        "transport close",
			"client-disconnect": "io client disconnect",
		} {
			interopJSONEqual(t, role, n.next("disconnect", role), fmt.Sprintf("%q", want))
		}
		var got []string
		for range 4 {
			got = append(got, interopRecv(t, reasons, "a disconnection"))
		}
		sort.Strings(got)
		want := []string{
			"client-disconnect: client namespace disconnect",
			"conn-close: forced close",
			"server-close: server namespace disconnect",
			"server-disconnect: server namespace disconnect",
		}
		if !slices.Equal(got, want) {
			t.Errorf("server side:\n got %q\nwant %q", got, want)
		}
		n.finish()
	})
}

// TestInteropShutdown: the server shuts down under a connected client
// ("transport close" for the client, "server shutting down" for the server).
func TestInteropShutdown(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		ready := make(chan *socketio.Socket, 1)
		reasons := make(chan string, 1)
		srv, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("ready", func(*socketio.Event) { ready <- s })
				s.OnDisconnect(func(reason string) { reasons <- reason })
			})
		})
		n := startInteropNode(t, "await-disconnect", url, mode)
		if mode == "upgrade" {
			n.expectTransport("", mode)
		}
		sock := interopRecv(t, ready, "the client")
		if interopTransport(mode) == "polling" {
			waitInteropPoll(t, sock)
		}
		ctx, cancel := context.WithTimeout(context.Background(), interopWait)
		defer cancel()
		interopMust(t, srv.Shutdown(ctx))
		if r := interopRecv(t, reasons, "the disconnection"); r != socketio.ReasonServerShuttingDown {
			t.Errorf("server side: %q", r)
		}
		interopJSONEqual(t, "client side", n.next("disconnect", ""), `"transport close"`)
		n.finish()
	})
}

// TestInteropPingTimeout: the network stops delivering (a frozen proxy);
// both ends give up with "ping timeout".
func TestInteropPingTimeout(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		ready := make(chan struct{}, 1)
		reasons := make(chan string, 1)
		opts := &socketio.Options{Engine: engineio.Options{PingInterval: 500 * time.Millisecond, PingTimeout: 500 * time.Millisecond}}
		_, url := startInteropServer(t, opts, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("ready", func(*socketio.Event) { ready <- struct{}{} })
				s.OnDisconnect(func(reason string) { reasons <- reason })
			})
		})
		proxy := startInteropFreezeProxy(t, strings.TrimPrefix(url, "http://"))
		n := startInteropNode(t, "await-disconnect", proxy.url(), mode)
		if mode == "upgrade" {
			n.expectTransport("", mode)
		}
		interopRecv(t, ready, "the client")
		proxy.freeze()
		start := time.Now()
		interopJSONEqual(t, "client side", n.next("disconnect", ""), `"ping timeout"`)
		if r := interopRecv(t, reasons, "the disconnection"); r != socketio.ReasonPingTimeout {
			t.Errorf("server side: %q", r)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("ping timeout after %v, want about 1s", d)
		}
		n.finish()
	})
}

// TestInteropRecovery: connection state recovery after the transport is cut
// by the server or by the client; the client gets exactly the missed events.
func TestInteropRecovery(t *testing.T) {
	for _, tc := range []struct {
		cut          string
		serverReason string
		clientReason string
	}{
		{"server", engineio.ReasonForcedClose, "transport close"},
		{"client", engineio.ReasonTransportClose, "forced close"},
	} {
		t.Run(tc.cut+"-cut", func(t *testing.T) {
			interopEach(t, func(t *testing.T, mode string) {
				conns := make(chan *socketio.Socket, 2)
				reasons := make(chan string, 2)
				opts := &socketio.Options{ConnectionStateRecovery: &socketio.RecoveryOptions{}}
				srv, url := startInteropServer(t, opts, func(srv *socketio.Server) {
					srv.OnConnection(func(s *socketio.Socket) {
						if !s.Recovered() {
							s.Join("r")
							s.SetData("kept")
							// The client needs an offset (from an event) to recover.
							_ = s.Emit("missed", "before-cut")
						}
						s.On("cut-me", func(*socketio.Event) { _ = s.Conn().Close() })
						s.OnDisconnect(func(reason string) { reasons <- reason })
						conns <- s
					})
				})
				n := startInteropNode(t, "recovery-"+tc.cut+"-cut", url, mode)
				first := interopRecv(t, conns, "the first connection")
				interopJSONEqual(t, "first connect", n.next("connect", "first"), map[string]any{"id": first.ID(), "recovered": false, "nsp": "/"})
				if mode == "upgrade" {
					n.expectTransport("", mode)
				}
				if r := interopRecv(t, reasons, "the cut"); r != tc.serverReason {
					t.Errorf("server side: %q, want %q", r, tc.serverReason)
				}
				interopJSONEqual(t, "client side", n.next("disconnect", ""), fmt.Sprintf("%q", tc.clientReason))

				// Meanwhile, the server broadcasts.
				interopMust(t, srv.Emit("missed", "m1"))
				interopMust(t, srv.Emit("missed", "m2"))
				interopMust(t, srv.To("r").Emit("missed", "to-room-r"))
				interopMust(t, srv.To("other").Emit("missed", "to-another-room"))
				interopMust(t, srv.Except("r").Emit("missed", "except-r"))
				interopMust(t, srv.Emit("missed", "binary", []byte{1, 2, 3}))
				interopMust(t, srv.Emit("missed", "m3"))
				n.send("reconnect")

				second := interopRecv(t, conns, "the reconnection")
				if !second.Recovered() || second.ID() != first.ID() || second.Data() != "kept" {
					t.Errorf("recovered socket: recovered=%v id=%s (was %s) data=%v", second.Recovered(), second.ID(), first.ID(), second.Data())
				}
				if got := interopSorted(second.Rooms()); !slices.Equal(got, interopSorted([]string{first.ID(), "r"})) {
					t.Errorf("recovered rooms: %v", got)
				}
				interopJSONEqual(t, "second connect", n.next("connect", "second"), map[string]any{"id": first.ID(), "recovered": true})
				interopMust(t, second.Emit("missed", "after"))

				var events [][]any
				interopDecode(t, n.next("events", ""), &events)
				var labels []string
				offsets := map[string]bool{}
				for _, ev := range events {
					label, _ := ev[0].(string)
					labels = append(labels, label)
					offset, ok := ev[len(ev)-1].(string)
					if !ok || offsets[offset] {
						t.Errorf("event %v: no offset, or a repeated one", ev)
					}
					offsets[offset] = true
					if label == "binary" {
						interopJSONEqual(t, "binary missed event", interopMarshal(ev[1]), interopBin([]byte{1, 2, 3}))
					}
				}
				if want := []string{"before-cut", "m1", "m2", "to-room-r", "binary", "m3", "after"}; !slices.Equal(labels, want) {
					t.Errorf("events after the reconnection: %q, want %q", labels, want)
				}
				n.finish()
			})
		})
	}
}

// TestInteropOrder: 1000 messages each way at the same time arrive in order.
func TestInteropOrder(t *testing.T) {
	interopEach(t, func(t *testing.T, mode string) {
		type view struct {
			Count   int  `json:"count"`
			InOrder bool `json:"inOrder"`
		}
		var wg sync.WaitGroup
		t.Cleanup(wg.Wait)
		_, url := startInteropServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				var v view // used on the socket's handler goroutine only
				v.InOrder = true
				s.On("seq", func(e *socketio.Event) {
					var i int
					if err := e.Decode(0, &i); err != nil || i != v.Count {
						v.InOrder = false
					}
					v.Count++
				})
				s.On("seq-done", func(e *socketio.Event) { _ = e.Ack(v) })
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 1000 {
						if err := s.Emit("seq", i); err != nil {
							t.Errorf("Emit %d: %v", i, err)
							return
						}
					}
				}()
			})
		})
		n := startInteropNode(t, "order", url, mode)
		interopJSONEqual(t, "client side", n.next("received", ""), `{"count":1000,"inOrder":true}`)
		interopJSONEqual(t, "server side", n.next("server-view", ""), `{"count":1000,"inOrder":true}`)
		n.expectTransport("", mode)
		n.finish()
	})
}
