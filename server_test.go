package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// echoServer answers "echo" with "echo-back" and the same arguments, and
// acknowledges "ack" with them.
func echoServer(t *testing.T, opts *socketio.Options) (*socketio.Server, string) {
	srv, url := newTestServer(t, opts)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			args := make([]any, e.Len())
			for i, r := range e.Raw() {
				args[i] = r
			}
			s.Emit("echo-back", args...)
		})
		s.On("ack", func(e *socketio.Event) {
			v, _ := e.Values()
			e.Ack(v...)
		})
	})
	return srv, url
}

func TestConnectReply(t *testing.T) {
	srv, url := newTestServer(t, nil)
	auth := make(chan json.RawMessage, 1)
	srv.OnConnection(func(s *socketio.Socket) { auth <- s.Handshake().Auth })

	c := newPollClient(t, url)
	reply := c.connect("/", "")
	var body map[string]any
	if !strings.HasPrefix(reply, "40") || json.Unmarshal([]byte(reply[2:]), &body) != nil {
		t.Fatalf("reply %q", reply)
	}
	if len(body) != 1 || body["sid"] == c.sid || body["sid"] == "" {
		t.Fatalf("CONNECT reply must carry only a fresh sid: %v (engine sid %s)", body, c.sid)
	}
	if got := string(waitFor(t, auth)); got != "{}" {
		t.Fatalf("auth without payload = %s, want {}", got)
	}

	c2 := newPollClient(t, url)
	c2.connect("/", `{"token":"abc"}`)
	if got := string(waitFor(t, auth)); got != `{"token":"abc"}` {
		t.Fatalf("auth = %s", got)
	}
}

func TestUnknownNamespace(t *testing.T) {
	_, url := newTestServer(t, nil)
	c := newPollClient(t, url)
	if got := c.connect("/nope", ""); got != `44/nope,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", got)
	}
	// The connection stays usable.
	if got := c.connect("/", ""); !strings.HasPrefix(got, "40{") {
		t.Fatalf("got %q", got)
	}
}

func TestMiddlewareRefusal(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		s.Handshake().BindAuth(&auth)
		if auth.Token != "ok" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
		}
		return nil
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error { return errors.New("admins only") })

	c := newPollClient(t, url)
	if got := c.connect("/", `{"token":"bad"}`); got != `44{"message":"not authorized","data":{"code":42}}` {
		t.Fatalf("got %q", got)
	}
	if got := c.connect("/admin", ""); got != `44/admin,{"message":"admins only"}` {
		t.Fatalf("got %q", got)
	}
	if got := c.connect("/", `{"token":"ok"}`); !strings.HasPrefix(got, "40{") {
		t.Fatalf("got %q", got)
	}
}

func TestDynamicNamespaces(t *testing.T) {
	srv, url := newTestServer(t, &socketio.Options{CleanupEmptyChildNamespaces: true})
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	joined := make(chan string, 2)
	parent.OnConnection(func(s *socketio.Socket) { joined <- s.Namespace().Name() })
	srv.OfFunc(func(name string, auth json.RawMessage) bool { return name == "/fn" && string(auth) == `{"ok":true}` })

	c := newPollClient(t, url)
	if got := c.connect("/room-12", ""); !strings.HasPrefix(got, "40/room-12,{") {
		t.Fatalf("got %q", got)
	}
	if got := waitFor(t, joined); got != "/room-12" {
		t.Fatalf("joined %q", got)
	}
	if got := c.connect("/room-x", ""); !strings.HasPrefix(got, "44/room-x,") {
		t.Fatalf("got %q", got)
	}
	if got := c.connect("/fn", `{"ok":false}`); !strings.HasPrefix(got, "44/fn,") {
		t.Fatalf("got %q", got)
	}
	if got := c.connect("/fn", `{"ok":true}`); !strings.HasPrefix(got, "40/fn,") {
		t.Fatalf("got %q", got)
	}
	if n := len(parent.Children()); n != 1 {
		t.Fatalf("children = %d", n)
	}
	// Leaving the child removes it (CleanupEmptyChildNamespaces).
	c.post("41/room-12,")
	deadline := time.Now().Add(3 * time.Second)
	for len(parent.Children()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(parent.Children()); n != 0 {
		t.Fatalf("children after leaving = %d", n)
	}
}

func TestEchoAndAcks(t *testing.T) {
	_, url := echoServer(t, nil)
	c := newPollClient(t, url)
	c.connect("/", "")
	c.post(`42["echo",1,"2",{"3":[true,null,1.5e3]},"ünïcødé 🎉"]`)
	if got := c.next(); got != `42["echo-back",1,"2",{"3":[true,null,1.5e3]},"ünïcødé 🎉"]` {
		t.Fatalf("got %q", got)
	}
	c.post(`4212["ack","x",2]`)
	if got := c.next(); got != `4312["x",2]` {
		t.Fatalf("got %q", got)
	}
	// Binary: attachments come back as attachments.
	c.post(`451-7["ack",{"file":{"_placeholder":true,"num":0}}]`, "bAQID")
	if got := c.next(); got != `461-7[{"file":{"_placeholder":true,"num":0}}]` {
		t.Fatalf("got %q", got)
	}
	if got := c.next(); got != "bAQID" {
		t.Fatalf("attachment %q", got)
	}
}

func TestServerEmitWithAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	result := make(chan error, 2)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("go", func(e *socketio.Event) {
			args, err := s.Timeout(2*time.Second).EmitWithAck(context.Background(), "question", 41)
			var n int
			if err == nil {
				err = args.Decode(0, &n)
			}
			if err == nil && n != 42 {
				err = errors.New("wrong answer")
			}
			result <- err
			_, err = s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "ignored")
			result <- err
		})
	})
	c := newPollClient(t, url)
	c.connect("/", "")
	c.post(`42["go"]`)
	q := c.next()
	var id int
	if _, err := fmtSscanf(q, `42%d["question",41]`, &id); err != nil {
		t.Fatalf("question %q: %v", q, err)
	}
	c.post("43" + itoa(id) + "[42]")
	if err := waitFor(t, result); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, result); !errors.Is(err, socketio.ErrTimeout) {
		t.Fatalf("unanswered ack: %v", err)
	}
}

func TestRoomsAndBroadcast(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *socketio.Socket, 3)
	srv.OnConnection(func(s *socketio.Socket) { socks <- s })
	a, b, c := newPollClient(t, url), newPollClient(t, url), newPollClient(t, url)
	a.connect("/", "")
	sa := waitFor(t, socks)
	b.connect("/", "")
	sb := waitFor(t, socks)
	c.connect("/", "")
	sc := waitFor(t, socks)
	sa.Join("red", "blue")
	sb.Join("red")
	sc.Join("green")

	if err := srv.To("red").Except("blue").Emit("hi", "red-not-blue"); err != nil {
		t.Fatal(err)
	}
	if got := b.next(); got != `42["hi","red-not-blue"]` {
		t.Fatalf("b got %q", got)
	}
	sa.Broadcast().Emit("from-a")
	if got := b.next(); got != `42["from-a"]` {
		t.Fatalf("b got %q", got)
	}
	if got := c.next(); got != `42["from-a"]` {
		t.Fatalf("c got %q", got)
	}
	srv.To("red", "green").Emit("multi")
	for _, cl := range []*pollClient{a, b, c} {
		if got := cl.next(); got != `42["multi"]` {
			t.Fatalf("got %q", got)
		}
	}
	rooms := sa.Rooms()
	if len(rooms) != 3 {
		t.Fatalf("rooms of a: %v", rooms)
	}
	remote, err := srv.Of("/").In("red").FetchSockets(context.Background())
	if err != nil || len(remote) != 2 {
		t.Fatalf("fetch: %v %d", err, len(remote))
	}
	srv.Of("/").In("green").SocketsJoin("red")
	if remote, _ := srv.Of("/").In("red").FetchSockets(context.Background()); len(remote) != 3 {
		t.Fatalf("after SocketsJoin: %d", len(remote))
	}
	_ = sc
}

func TestBroadcastWithAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	n := 0
	connected := make(chan struct{}, 3)
	srv.OnConnection(func(*socketio.Socket) { connected <- struct{}{} })
	clients := []*pollClient{newPollClient(t, url), newPollClient(t, url), newPollClient(t, url)}
	for _, c := range clients {
		c.connect("/", "")
		waitFor(t, connected)
		n++
	}
	done := make(chan []socketio.Args, 1)
	go func() {
		res, err := srv.Of("/").Timeout(3*time.Second).EmitWithAck(context.Background(), "count")
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for i, c := range clients {
		p := c.next()
		var id int
		if _, err := fmtSscanf(p, `42%d["count"]`, &id); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		c.post("43" + itoa(id) + "[" + itoa(i) + "]")
	}
	if res := waitFor(t, done); len(res) != n {
		t.Fatalf("%d answers, want %d", len(res), n)
	}
}

func TestDisconnectReasons(t *testing.T) {
	srv, url := newTestServer(t, &socketio.Options{ConnectTimeout: 200 * time.Millisecond})
	reasons := make(chan string, 4)
	socks := make(chan *socketio.Socket, 4)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(r string) { reasons <- r })
		socks <- s
	})

	c := newPollClient(t, url)
	c.connect("/", "")
	c.post("41")
	if got := waitFor(t, reasons); got != socketio.ReasonClientNamespaceDisconnect {
		t.Fatalf("got %q", got)
	}

	c2 := newPollClient(t, url)
	c2.connect("/", "")
	waitFor(t, socks)
	s := waitFor(t, socks)
	s.Disconnect(false)
	if got := c2.next(); got != "41" {
		t.Fatalf("client got %q", got)
	}
	if got := waitFor(t, reasons); got != socketio.ReasonServerNamespaceDisconnect {
		t.Fatalf("got %q", got)
	}

	c3 := newPollClient(t, url)
	c3.connect("/", "")
	waitFor(t, socks)
	c3.post("1")
	if got := waitFor(t, reasons); got != socketio.ReasonTransportClose {
		t.Fatalf("got %q", got)
	}

	// No CONNECT within ConnectTimeout: the connection closes.
	c4 := newPollClient(t, url)
	if !c4.closed() {
		t.Fatal("connection without namespace not closed")
	}
}

func TestReservedEmit(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan error, 1)
	srv.OnConnection(func(s *socketio.Socket) { got <- s.Emit("disconnect") })
	c := newPollClient(t, url)
	c.connect("/", "")
	if err := waitFor(t, got); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Fatalf("got %v", err)
	}
	if err := srv.Emit("connect"); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Fatalf("got %v", err)
	}
}

func TestHandlersRunInOrder(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan int, 100)
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "n", func(s *socketio.Socket, n int) {
			if n%10 == 0 {
				time.Sleep(time.Millisecond) // a slow handler does not reorder the next ones
			}
			got <- n
		})
	})
	c := newPollClient(t, url)
	c.connect("/", "")
	var pkts []string
	for i := 0; i < 100; i++ {
		pkts = append(pkts, `42["n",`+itoa(i)+`]`)
	}
	c.post(pkts[:50]...)
	c.post(pkts[50:]...)
	for i := 0; i < 100; i++ {
		if n := waitFor(t, got); n != i {
			t.Fatalf("handler %d ran as #%d", n, i)
		}
	}
}

func TestTypedAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	type sum struct{ A, B int }
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.OnWithAck(s, "sum", func(s *socketio.Socket, in sum) int { return in.A + in.B })
	})
	c := newPollClient(t, url)
	c.connect("/", "")
	c.post(`423["sum",{"A":2,"B":40}]`)
	if got := c.next(); got != `433[42]` {
		t.Fatalf("got %q", got)
	}
}

func TestHandlerPanicClosesOnlyThatClient(t *testing.T) {
	_, url := newTestServer(t, nil)
	srv, url := echoServer(t, nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("boom", func(*socketio.Event) { panic("handler bug") })
	})
	bad, good := newPollClient(t, url), newPollClient(t, url)
	bad.connect("/", "")
	good.connect("/", "")
	bad.post(`42["boom"]`)
	if !bad.closed() {
		t.Fatal("panicking client not closed")
	}
	good.post(`42["echo","still here"]`)
	if got := good.next(); got != `42["echo-back","still here"]` {
		t.Fatalf("got %q", got)
	}
}

func TestCompressFlag(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) { socks <- s })
	c := newPollClient(t, url)
	c.connect("/", "")
	s := waitFor(t, socks)
	big := strings.Repeat("squeeze me ", 200)

	encoding := func() string {
		req, _ := http.NewRequest(http.MethodGet, c.url, nil)
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: no transparent decompression
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.Header.Get("Content-Encoding")
	}
	s.Compress(false).Emit("big", big)
	if got := encoding(); got != "" {
		t.Fatalf("Compress(false) emit sent with Content-Encoding %q", got)
	}
	srv.Of("/").Compress(false).Emit("big", big)
	if got := encoding(); got != "" {
		t.Fatalf("Compress(false) broadcast sent with Content-Encoding %q", got)
	}
	srv.Emit("big", big)
	if got := encoding(); got != "gzip" {
		t.Fatalf("default broadcast sent with Content-Encoding %q", got)
	}
}

func TestMiddlewareJoins(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Use(func(s *socketio.Socket) error {
		s.Join("vip")
		var auth struct{ OK bool }
		s.Handshake().BindAuth(&auth)
		if !auth.OK {
			return errors.New("no")
		}
		return nil
	})
	refused := newPollClient(t, url)
	if got := refused.connect("/", `{"OK":false}`); !strings.HasPrefix(got, "44") {
		t.Fatalf("got %q", got)
	}
	if ids := srv.Of("/").Adapter().Sockets([]string{"vip"}); len(ids) != 0 {
		t.Fatalf("a refused socket stayed in its room: %v", ids)
	}
	ok := newPollClient(t, url)
	ok.connect("/", `{"OK":true}`)
	srv.To("vip").Emit("welcome")
	if got := ok.next(); got != `42["welcome"]` {
		t.Fatalf("got %q", got)
	}
}

func TestBroadcastAckTimeoutForgets(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) { socks <- s })
	c := newPollClient(t, url)
	c.connect("/", "")
	s := waitFor(t, socks)
	for i := 0; i < 3; i++ {
		if _, err := srv.Of("/").Timeout(20*time.Millisecond).EmitWithAck(context.Background(), "silent"); !errors.Is(err, socketio.ErrTimeout) {
			t.Fatalf("got %v", err)
		}
	}
	if n := socketio.PendingAcks(s); n != 0 {
		t.Fatalf("%d acknowledgements still pending after the timeouts", n)
	}
}

func TestServerSideEmitSingleServer(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	if err := srv.Of("/").ServerSideEmit("hello", 1); err != nil {
		t.Fatal(err)
	}
	answers, err := srv.Of("/").ServerSideEmitWithAck(context.Background(), "hello", 1)
	if err != nil || len(answers) != 0 {
		t.Fatalf("single server: %v answers, err %v", len(answers), err)
	}
}

// Event names reach their handlers however the client escapes them, and a
// raw name that only looks like a handled one does not.
func TestEventNameMatching(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *socketio.Socket) {
		for _, name := range []string{"chat", `we"ird`, `back\slash`, "a\nb", "é", `q\"q`, `q"q`} {
			name := name
			s.On(name, func(e *socketio.Event) {
				if e.Name != name {
					t.Errorf("handler of %q got event %q", name, e.Name)
				}
				_ = s.Emit("got", name)
			})
		}
	})
	c := newPollClient(t, url)
	c.connect("/", "")
	for _, tc := range []struct{ packet, want string }{
		{`42["chat"]`, `42["got","chat"]`},
		{`42["\u0063hat"]`, `42["got","chat"]`},
		{`42["we\"ird"]`, `42["got","we\"ird"]`},
		{`42["back\\slash"]`, `42["got","back\\slash"]`},
		{`42["a\nb"]`, `42["got","a\nb"]`},
		{`42["\u00e9"]`, `42["got","é"]`},
		{`42["é"]`, `42["got","é"]`},
		// The token's content is the bytes of the listener name q\"q, but
		// its value is q"q.
		{`42["q\"q"]`, `42["got","q\"q"]`},
		{`42["q\\\"q"]`, `42["got","q\\\"q"]`},
	} {
		c.post(tc.packet)
		if got := c.next(); got != tc.want {
			t.Fatalf("%s: got %q, want %q", tc.packet, got, tc.want)
		}
	}
	// `"a\nb"` as raw bytes `a\nb` must not match the handler of the
	// four-character name a, backslash, n, b (there is none; the event is
	// dropped) and the next event still arrives.
	c.post(`42["a\\nb"]`, `42["chat"]`)
	if got := c.next(); got != `42["got","chat"]` {
		t.Fatalf("got %q", got)
	}
}

// A namespace's middlewares run beside the client's reader, as Node runs
// them asynchronously: while one waits, the client's other namespaces go on
// (over polling, its POST is answered at once instead of holding the
// client's next POST off). A second CONNECT to the namespace meanwhile is
// a protocol violation.
func TestSlowMiddlewareOtherNamespacesGoOn(t *testing.T) {
	srv, url := newTestServer(t, nil)
	release, hold := make(chan struct{}), make(chan struct{})
	var releaseOnce, holdOnce sync.Once
	// Before the server's shutdown, whatever happened (a middleware that
	// holds the reader would keep it waiting).
	t.Cleanup(func() {
		releaseOnce.Do(func() { close(release) })
		holdOnce.Do(func() { close(hold) })
	})
	entered := make(chan struct{}, 4)
	srv.Of("/slow").Use(func(*socketio.Socket) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ping", func(*socketio.Event) { _ = s.Emit("pong") })
	})

	c := newPollClient(t, url)
	if got := c.connect("/", ""); !strings.HasPrefix(got, "40{") {
		t.Fatalf("got %q", got)
	}
	if status := c.post("40/slow,"); status != 200 {
		t.Fatalf("POST with the CONNECT: %d", status)
	}
	waitFor(t, entered)
	if status := c.post(`42["ping"]`); status != 200 {
		t.Fatalf("POST while the middleware waits: %d", status)
	}
	if got := c.next(); got != `42["pong"]` {
		t.Fatalf("got %q while the middleware waits", got)
	}
	releaseOnce.Do(func() { close(release) })
	if got := c.next(); !strings.HasPrefix(got, `40/slow,{"sid":`) {
		t.Fatalf("got %q", got)
	}

	// A second CONNECT while the first waits closes the connection.
	srv.Of("/held").Use(func(*socketio.Socket) error { entered <- struct{}{}; <-hold; return nil })
	c2 := newPollClient(t, url)
	c2.post("40/held,")
	waitFor(t, entered)
	c2.post("40/held,")
	if !c2.closed() {
		t.Error("a second CONNECT while connecting left the connection open")
	}
}

// An event the client sends as soon as its CONNECT reply arrives, over
// WebSocket, finds the socket registered although the middleware ran
// beside the reader: the reply and the registration are made in order
// with the reader's packets.
func TestEventRightAfterAsyncConnect(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/mw").Use(func(*socketio.Socket) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	// The client's answer to the reply has time to arrive before the
	// socket is registered: the reader must wait for the registration.
	socketio.SetAfterConnectReplyHook(func() { time.Sleep(5 * time.Millisecond) })
	t.Cleanup(func() { socketio.SetAfterConnectReplyHook(nil) })
	got := make(chan string, 1)
	srv.Of("/mw").OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "hello", func(_ *socketio.Socket, v string) { got <- v })
	})
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m, err := client.NewManager(url, &client.Options{Transports: []string{client.TransportWebSocket}, DisableAutoConnect: true})
		if err != nil {
			t.Fatal(err)
		}
		s := m.Socket("/mw", nil)
		// Sent the moment the client learns it is connected.
		s.OnConnect(func() { _ = s.Emit("hello", fmt.Sprint(i)) })
		s.Connect()
		select {
		case v := <-got:
			if v != fmt.Sprint(i) {
				t.Fatalf("got %q, want %d", v, i)
			}
		case <-ctx.Done():
			t.Fatalf("round %d: the event did not arrive (connected: %v)", i, s.Connected())
		}
		cancel()
		_ = m.Close()
	}
}

// A client cannot start middlewares without bound: past maxConnecting
// CONNECTs awaiting theirs (dynamic namespaces behind a slow middleware),
// its connection is closed.
func TestTooManyConnectsAtOnce(t *testing.T) {
	srv, url := newTestServer(t, nil)
	hold := make(chan struct{})
	var holdOnce sync.Once
	t.Cleanup(func() { holdOnce.Do(func() { close(hold) }) })
	entered := make(chan struct{}, 64)
	srv.OfRegexp(regexp.MustCompile(`^/n-\d+$`)).Use(func(*socketio.Socket) error {
		entered <- struct{}{}
		<-hold
		return nil
	})
	c := newPollClient(t, url)
	var pkts []string
	for i := 0; i < 16; i++ {
		pkts = append(pkts, fmt.Sprintf("40/n-%d,", i))
	}
	c.post(pkts...)
	for i := 0; i < 16; i++ {
		waitFor(t, entered) // 16 at once are allowed
	}
	c.post("40/n-16,")
	if !c.closed() {
		t.Error("a 17th CONNECT at once left the connection open")
	}
	holdOnce.Do(func() { close(hold) })
}
