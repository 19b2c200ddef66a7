package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// harness is a server implementing the test contract: the Node server in
// interop/node-server/server.mjs, or newGoServer below.
type harness interface {
	URL() string
	// Restart stops the server and starts it again on the same address.
	Restart(t *testing.T)
}

// lacker is a harness whose server cannot play some of the suite's cases:
// Lacks returns why for those, "" for the others.
type lacker interface {
	Lacks(name string) string
}

// expecter is a harness whose server words some answers its own way:
// Expect returns its wording of what is named key, or "" for socket.io's.
type expecter interface {
	Expect(key string) string
}

// expected returns h's wording of key, or def (socket.io's).
func expected(h harness, key, def string) string {
	if e, ok := h.(expecter); ok {
		if v := e.Expect(key); v != "" {
			return v
		}
	}
	return def
}

// transportModes are the three ways the suite connects.
var transportModes = []struct {
	name string
	opts client.Options
}{
	{"polling", client.Options{Transports: []string{client.TransportPolling}}},
	{"websocket", client.Options{Transports: []string{client.TransportWebSocket}}},
	{"upgrade", client.Options{}},
}

// runSuite runs every behaviour against h, in each transport mode.
func runSuite(t *testing.T, h harness) {
	for _, mode := range transportModes {
		t.Run(mode.name, func(t *testing.T) {
			base := mode.opts
			base.ReconnectionDelay = 100 * time.Millisecond
			base.ReconnectionDelayMax = 400 * time.Millisecond
			for _, tc := range suiteCases {
				t.Run(tc.name, func(t *testing.T) {
					if l, ok := h.(lacker); ok {
						if why := l.Lacks(tc.name); why != "" {
							t.Skip("not played by this server: " + why)
						}
					}
					tc.fn(t, h, base, mode.name)
				})
			}
		})
	}
	t.Run("restart", func(t *testing.T) {
		if l, ok := h.(lacker); ok {
			if why := l.Lacks("restart"); why != "" {
				t.Skip("not played by this server: " + why)
			}
		}
		testRestart(t, h)
	})
}

var suiteCases = []struct {
	name string
	fn   func(t *testing.T, h harness, o client.Options, mode string)
}{
	{"auth", testAuth},
	{"namespaces", testNamespaces},
	{"middleware", testMiddleware},
	{"types", testTypes},
	{"acks", testAcks},
	{"volatile-and-buffer", testBufferAndVolatile},
	{"retries", testRetries},
	{"recovery", testRecovery},
	{"reconnect-failed", testReconnectFailed},
	{"order", testOrder},
	{"server-disconnect", testServerDisconnect},
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, h harness, nsp string, o client.Options, so *client.SocketOptions) *client.Socket {
	t.Helper()
	s, err := client.Connect(ctxT(t, 10*time.Second), h.URL()+nsp, &o, so)
	if err != nil {
		t.Fatalf("connect %s: %v", nsp, err)
	}
	t.Cleanup(func() { _ = s.Manager().Close() })
	return s
}

type whoami struct {
	Auth      map[string]any `json:"auth"`
	SID       string         `json:"sid"`
	Transport string         `json:"transport"`
	Nsp       string         `json:"nsp"`
}

func ask(t *testing.T, s *client.Socket) whoami {
	t.Helper()
	a, err := s.EmitWithAck(ctxT(t, 5*time.Second), "whoami")
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	var w whoami
	if err := a.Decode(0, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func getLog(t *testing.T, s *client.Socket, key string) []any {
	t.Helper()
	a, err := s.EmitWithAck(ctxT(t, 5*time.Second), "getlog", key)
	if err != nil {
		t.Fatalf("getlog: %v", err)
	}
	var out []any
	if err := a.Decode(0, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func uniqueKey(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
}

func testAuth(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, &client.SocketOptions{Auth: map[string]any{"token": "abc"}})
	if w := ask(t, s); w.Auth["token"] != "abc" {
		t.Fatalf("auth value: %+v", w)
	}
	var calls atomic.Int32
	s2 := connect(t, h, "/", o, &client.SocketOptions{AuthFunc: func(ctx context.Context) (any, error) {
		n := calls.Add(1)
		return map[string]any{"call": n}, nil
	}})
	if w := ask(t, s2); w.Auth["call"] != float64(1) {
		t.Fatalf("auth func: %+v", w)
	}
	// Called again on reconnection.
	reconnected := make(chan struct{}, 1)
	s2.OnConnect(func() { reconnected <- struct{}{} })
	_ = s2.Emit("cut", "auth")
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnection")
	}
	if calls.Load() != 2 {
		t.Fatalf("auth func called %d times", calls.Load())
	}
}

func testNamespaces(t *testing.T, h harness, o client.Options, mode string) {
	var dials atomic.Int32
	d := &net.Dialer{}
	o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	m, err := client.NewManager(h.URL(), &o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	root := m.Socket("/", nil)
	admin := m.Socket("/admin", &client.SocketOptions{Auth: map[string]string{"token": "secret"}})
	other := m.Socket("/other", nil)
	for _, s := range []*client.Socket{root, admin, other} {
		waitConnected(t, s)
	}
	w1, w2, w3 := ask(t, root), ask(t, admin), ask(t, other)
	if w1.SID == "" || w1.SID != w2.SID || w2.SID != w3.SID {
		t.Fatalf("not one Engine.IO connection: %q %q %q", w1.SID, w2.SID, w3.SID)
	}
	if w2.Nsp != "/admin" || w3.Nsp != "/other" {
		t.Fatalf("namespaces %q %q", w2.Nsp, w3.Nsp)
	}
	if mode == "websocket" && dials.Load() != 1 {
		t.Fatalf("%d TCP connections for one WebSocket", dials.Load())
	}
	if mode == "upgrade" {
		waitUpgraded(t, m)
		if w := ask(t, other); w.SID != w1.SID || w.Transport != "websocket" {
			t.Fatalf("after upgrade: %+v", w)
		}
	}
}

func waitConnected(t *testing.T, s *client.Socket) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Connected() {
		if time.Now().After(deadline) {
			t.Fatalf("%s not connected", s.Namespace())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testMiddleware(t *testing.T, h harness, o client.Options, mode string) {
	_, err := client.Connect(ctxT(t, 10*time.Second), h.URL()+"/admin", &o, &client.SocketOptions{Auth: map[string]string{"token": "wrong"}})
	var ce *client.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" {
		t.Fatalf("got %v", err)
	}
	var data struct {
		Code int    `json:"code"`
		Hint string `json:"hint"`
	}
	if err := json.Unmarshal(ce.Data, &data); err != nil || data.Code != 42 || data.Hint != "send a token" {
		t.Fatalf("data %s: %v", ce.Data, err)
	}
	_, err = client.Connect(ctxT(t, 10*time.Second), h.URL()+"/nowhere", &o, nil)
	if !errors.As(err, &ce) || ce.Message != expected(h, "invalid namespace", "Invalid namespace") {
		t.Fatalf("unknown namespace: %v", err)
	}
}

type nested struct {
	Name  string            `json:"name"`
	Blob  []byte            `json:"blob"`
	Inner map[string][]byte `json:"inner"`
	List  []any             `json:"list"`
}

func testTypes(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, nil)
	args := []any{nil, true, false, 0, -1.5, 1e300, "", "héllo \u2028 \"q\"", []any{}, map[string]any{},
		[]any{1, "a", []any{nil}}, map[string]any{"a": map[string]any{"b": []any{1, 2}}}}
	a, err := s.EmitWithAck(ctxT(t, 5*time.Second), "echo", args...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Values()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(args)
	gotJSON, _ := json.Marshal(got)
	if !bytes.Equal(want, gotJSON) {
		t.Fatalf("echo:\n got %s\nwant %s", gotJSON, want)
	}
	// Nested binary, both ways: the ack and a server-emitted event.
	in := nested{Name: "n", Blob: []byte{0, 1, 2, 255}, Inner: map[string][]byte{"x": {9, 8}}, List: []any{[]byte("deep"), 3}}
	a, err = s.EmitWithAck(ctxT(t, 5*time.Second), "echo", in, []byte{})
	if err != nil {
		t.Fatal(err)
	}
	var out nested
	var empty []byte
	if err := a.Bind(&out, &empty); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Blob, in.Blob) || !bytes.Equal(out.Inner["x"], in.Inner["x"]) || len(a.Attachments()) != 4 {
		t.Fatalf("binary ack: %+v (%d attachments)", out, len(a.Attachments()))
	}
	if deep, ok := out.List[0].([]byte); !ok || string(deep) != "deep" {
		t.Fatalf("deep binary: %#v", out.List[0])
	}
	ev := make(chan *client.Event, 1)
	s.On("echo-event", func(e *client.Event) { ev <- e })
	if err := s.Emit("echo-event", in); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ev:
		var out nested
		if err := e.Decode(0, &out); err != nil || !bytes.Equal(out.Blob, in.Blob) {
			t.Fatalf("binary event: %+v %v", out, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no binary event")
	}
}

func testAcks(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, nil)
	// Server to client, with the client's answer (typed helper).
	client.OnWithAck(s, "question", func(q string) string { return "answer to " + q })
	a, err := s.Timeout(5*time.Second).EmitWithAck(ctxT(t, 5*time.Second), "ask", "life")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		OK  string `json:"ok"`
		Err string `json:"err"`
	}
	if err := a.Decode(0, &r); err != nil || r.OK != "answer to life" {
		t.Fatalf("server ack: %+v %v (%s)", r, err, a.Raw())
	}
	// A client that does not answer: the server's timeout fires.
	s.Off("question")
	s.On("question", func(e *client.Event) {})
	a, err = s.EmitWithAck(ctxT(t, 10*time.Second), "ask", "silence")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Decode(0, &r); err != nil || r.Err != "operation has timed out" {
		t.Fatalf("server timeout: %+v %v", r, err)
	}
	// Client timeout that fires.
	start := time.Now()
	_, err = s.Timeout(200*time.Millisecond).EmitWithAck(context.Background(), "noack")
	if !errors.Is(err, client.ErrTimeout) || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	// With a context deadline instead.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "noack"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx: %v", err)
	}
	// Without timeout, answered.
	if a, err := s.EmitWithAck(context.Background(), "echo", 7); err != nil || a.Len() != 1 {
		t.Fatalf("plain ack: %v", err)
	}
}

// cutAndWait asks the server to close the connection and waits for the
// client to notice.
func cutAndWait(t *testing.T, s *client.Socket, key string) {
	t.Helper()
	disc := make(chan string, 1)
	off := s.OnDisconnect(func(reason string, err error) {
		select {
		case disc <- reason:
		default:
		}
	})
	defer off()
	if err := s.Emit("cut", key); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-disc:
		if r != client.ReasonTransportClose && r != client.ReasonTransportError {
			t.Fatalf("disconnect reason %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not disconnected")
	}
}

func testBufferAndVolatile(t *testing.T, h harness, o client.Options, mode string) {
	o.ReconnectionDelay, o.ReconnectionDelayMax = 300*time.Millisecond, 300*time.Millisecond
	s := connect(t, h, "/", o, nil)
	if mode == "upgrade" {
		// A volatile packet is dropped while the upgrade is in progress.
		waitUpgraded(t, s.Manager())
	}
	key := uniqueKey(t)
	_ = s.Emit("log", key, 1)
	_ = s.Volatile().Emit("log", key, "v-connected")
	cutAndWait(t, s, key)
	for i := 2; i <= 5; i++ {
		_ = s.Emit("log", key, i)
		_ = s.Volatile().Emit("log", key, "v-lost")
	}
	waitConnected(t, s)
	_ = s.Emit("log", key, 6)
	deadline := time.Now().Add(5 * time.Second)
	var got []any
	for time.Now().Before(deadline) {
		got = getLog(t, s, key)
		if len(got) >= 7 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := []any{float64(1), "v-connected", float64(2), float64(3), float64(4), float64(5), float64(6)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("log %v, want %v", got, want)
	}
}

func testRetries(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, &client.SocketOptions{Retries: 3, AckTimeout: 300 * time.Millisecond})
	key := uniqueKey(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for n := 0; n < 6; n++ {
		wg.Add(1)
		// Emits are queued in call order; EmitWithAck waits in its own goroutine.
		ready := make(chan struct{})
		go func() {
			defer wg.Done()
			close(ready)
			_, err := s.EmitWithAck(context.Background(), "retry", key, n)
			errs <- err
		}()
		<-ready
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := getLog(t, s, key)
	want := []any{0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("server received %v, want %v", got, want)
	}
}

func testRecovery(t *testing.T, h harness, o client.Options, mode string) {
	o.ReconnectionDelay, o.ReconnectionDelayMax = 500*time.Millisecond, 500*time.Millisecond
	s := connect(t, h, "/", o, nil)
	key := uniqueKey(t)
	missed := make(chan int, 10)
	s.On("missed", func(e *client.Event) {
		var k string
		var n int
		if err := e.Bind(&k, &n); err == nil && k == key {
			missed <- n
		}
	})
	// An event with an offset first, so that the client has one to send back.
	if _, err := s.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
		t.Fatal(err)
	}
	echoed := make(chan struct{}, 1)
	s.Once("echo-event", func(*client.Event) { echoed <- struct{}{} })
	_ = s.Emit("echo-event", "x")
	<-echoed
	id := s.ID()
	ctx := s.Context()
	cutAndWait(t, s, key)
	if ctx.Err() == nil {
		t.Fatal("Context not cancelled on disconnect")
	}
	waitConnected(t, s)
	if !s.Recovered() || s.ID() != id {
		t.Fatalf("not recovered: %v, id %q -> %q", s.Recovered(), id, s.ID())
	}
	for want := 1; want <= 2; want++ {
		select {
		case n := <-missed:
			if n != want {
				t.Fatalf("missed packet %d, want %d", n, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("missed packet %d not received", want)
		}
	}
}

func testReconnectFailed(t *testing.T, h harness, o client.Options, mode string) {
	// A port where nothing listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	o.ReconnectionAttempts = 3
	o.DisableAutoConnect = true
	o.ReconnectionDelay, o.ReconnectionDelayMax = 20*time.Millisecond, 50*time.Millisecond
	m, err := client.NewManager("http://"+addr, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var attempts []int
	var mu sync.Mutex
	m.OnReconnectAttempt(func(n int) { mu.Lock(); attempts = append(attempts, n); mu.Unlock() })
	failed := make(chan struct{})
	m.OnReconnectFailed(func() { close(failed) })
	connErrs := make(chan error, 10)
	s := m.Socket("/", nil)
	s.OnConnectError(func(err error) { connErrs <- err })
	s.Connect()
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect_failed")
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(attempts, []int{1, 2, 3}) {
		t.Fatalf("attempts %v", attempts)
	}
	if len(connErrs) != 4 {
		t.Fatalf("%d connect errors, want 4", len(connErrs))
	}
}

func testOrder(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, nil)
	key := uniqueKey(t)
	const n = 1000
	for i := 0; i < n; i++ {
		if err := s.Emit("log", key, i); err != nil {
			t.Fatal(err)
		}
	}
	got := getLog(t, s, key)
	if len(got) != n {
		t.Fatalf("server got %d messages", len(got))
	}
	for i, v := range got {
		if v != float64(i) {
			t.Fatalf("message %d is %v", i, v)
		}
	}
	seq := make(chan int, n)
	s.On("seq", func(e *client.Event) {
		var i int
		_ = e.Decode(0, &i)
		seq <- i
	})
	_ = s.Emit("many", n)
	for i := 0; i < n; i++ {
		select {
		case got := <-seq:
			if got != i {
				t.Fatalf("received %d, want %d", got, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stopped at %d", i)
		}
	}
}

func testServerDisconnect(t *testing.T, h harness, o client.Options, mode string) {
	s := connect(t, h, "/", o, nil)
	reason := make(chan string, 1)
	s.OnDisconnect(func(r string, err error) { reason <- r })
	_ = s.Emit("disconnect-me")
	select {
	case r := <-reason:
		if r != client.ReasonIOServerDisconnect {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not disconnected")
	}
	if s.Active() {
		t.Fatal("still active after a server disconnect")
	}
	// The client side: Disconnect gives "io client disconnect".
	s2 := connect(t, h, "/", o, nil)
	s2.OnDisconnect(func(r string, err error) { reason <- r })
	s2.Disconnect()
	if r := <-reason; r != client.ReasonIOClientDisconnect {
		t.Fatalf("reason %q", r)
	}
}

func testRestart(t *testing.T, h harness) {
	o := client.Options{ReconnectionDelay: 100 * time.Millisecond, ReconnectionDelayMax: 400 * time.Millisecond, RandomizationFactor: 0.5}
	s := connect(t, h, "/", o, nil)
	m := s.Manager()
	var mu sync.Mutex
	var times []time.Time
	var closedAt time.Time
	m.OnClose(func(string, error) { mu.Lock(); closedAt = time.Now(); mu.Unlock() })
	m.OnReconnectAttempt(func(int) { mu.Lock(); times = append(times, time.Now()); mu.Unlock() })
	reconnected := make(chan int, 1)
	m.OnReconnect(func(n int) { reconnected <- n })
	h.Restart(t)
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		t.Fatal("no reconnection after the restart")
	}
	waitConnected(t, s)
	if _, err := s.EmitWithAck(ctxT(t, 5*time.Second), "echo", 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	prev := closedAt
	for i, at := range times {
		gap := at.Sub(prev)
		// Each delay is within [delay*(1-factor), delayMax], plus the
		// time an attempt takes (a refused connection: quick) and slack.
		if gap < 40*time.Millisecond || gap > 400*time.Millisecond+time.Second {
			t.Errorf("attempt %d came %v after the previous one", i+1, gap)
		}
		prev = at
	}
}

// newGoServer is the test contract implemented with this module's server.
type goServer struct {
	addr string
	srv  *socketio.Server
	hs   *http.Server
	mu   sync.Mutex
	logs map[string][]any
	seen map[string]int
}

func newGoServer(t *testing.T) *goServer {
	g := &goServer{logs: map[string][]any{}, seen: map[string]int{}}
	g.start(t, "127.0.0.1:0")
	t.Cleanup(func() { g.stop() })
	return g
}

func (g *goServer) URL() string { return "http://" + g.addr }

func (g *goServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.srv.Shutdown(ctx)
	_ = g.hs.Close()
}

func (g *goServer) Restart(t *testing.T) {
	g.stop()
	time.Sleep(300 * time.Millisecond) // the client tries (and fails) meanwhile
	g.start(t, g.addr)
}

func (g *goServer) start(t *testing.T, addr string) {
	srv, err := socketio.NewServer(&socketio.Options{
		Engine:                  engineOptions(),
		ConnectionStateRecovery: &socketio.RecoveryOptions{MaxDisconnectionDuration: 30 * time.Second, SkipMiddlewares: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	for i := 0; ; i++ {
		l, err = net.Listen("tcp", addr)
		if err == nil || i > 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	g.addr, g.srv = l.Addr().String(), srv
	g.hs = &http.Server{Handler: srv}
	go g.hs.Serve(l)

	common := func(s *socketio.Socket) {
		s.On("whoami", func(e *socketio.Event) {
			var auth any
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			_ = e.Ack(map[string]any{"auth": auth, "sid": s.Conn().ID(), "transport": s.Conn().Transport(), "nsp": s.Namespace().Name()})
		})
	}
	srv.OnConnection(func(s *socketio.Socket) {
		common(s)
		s.On("echo", func(e *socketio.Event) {
			vals, err := e.Values()
			if err == nil {
				_ = e.Ack(vals...)
			}
		})
		s.On("echo-event", func(e *socketio.Event) {
			vals, _ := e.Values()
			_ = s.Emit("echo-event", vals...)
		})
		s.On("ask", func(e *socketio.Event) {
			var q any
			_ = e.Decode(0, &q)
			a, err := s.Timeout(2*time.Second).EmitWithAck(context.Background(), "question", q)
			if err != nil {
				_ = e.Ack(map[string]any{"err": "operation has timed out"})
				return
			}
			var first any // socket.io's emitWithAck resolves with the first argument
			_ = a.Decode(0, &first)
			_ = e.Ack(map[string]any{"ok": first})
		})
		s.On("log", func(e *socketio.Event) {
			var key string
			var v any
			_ = e.Bind(&key, &v)
			g.mu.Lock()
			g.logs[key] = append(g.logs[key], v)
			g.mu.Unlock()
		})
		s.On("getlog", func(e *socketio.Event) {
			var key string
			_ = e.Decode(0, &key)
			g.mu.Lock()
			l := append([]any{}, g.logs[key]...)
			g.mu.Unlock()
			_ = e.Ack(l)
		})
		s.On("retry", func(e *socketio.Event) {
			var key string
			var n int
			_ = e.Bind(&key, &n)
			g.mu.Lock()
			g.logs[key] = append(g.logs[key], n)
			k := fmt.Sprint(key, ":", n)
			g.seen[k]++
			first := g.seen[k] == 1
			g.mu.Unlock()
			if first && n%2 == 0 {
				return
			}
			_ = e.Ack(n)
		})
		s.On("many", func(e *socketio.Event) {
			var n int
			_ = e.Decode(0, &n)
			for i := 0; i < n; i++ {
				_ = s.Emit("seq", i)
			}
		})
		s.On("cut", func(e *socketio.Event) {
			var key string
			_ = e.Decode(0, &key)
			_ = s.Conn().Close()
			time.AfterFunc(50*time.Millisecond, func() {
				_ = srv.Emit("missed", key, 1)
				_ = srv.Emit("missed", key, 2)
			})
		})
		s.On("disconnect-me", func(e *socketio.Event) { s.Disconnect(false) })
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if s.Handshake().BindAuth(&auth) == nil && auth.Token == "secret" {
			return nil
		}
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42, "hint": "send a token"}}
	})
	admin.OnConnection(common)
	srv.Of("/other").OnConnection(common)
}

func waitUpgraded(t *testing.T, m *client.Manager) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for m.Transport() != client.TransportWebSocket && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m.Transport() != client.TransportWebSocket {
		t.Fatalf("not upgraded: %s", m.Transport())
	}
	time.Sleep(50 * time.Millisecond) // the upgrade packet is on its way
}
