package main

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socketio-go/socketio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for the handlers' goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newServer(t *testing.T) (*httptest.Server, chan []any) {
	t.Helper()
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Of("/admin") // declared before its middleware, so that it exists
	got := make(chan []any, 10)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			vals, _ := e.Values()
			_ = e.Ack(vals...)
		})
		s.On("record", func(e *socketio.Event) {
			vals, _ := e.Values()
			got <- vals
		})
		s.On("silent", func(e *socketio.Event) {})
		s.On("hello", func(e *socketio.Event) {
			_ = srv.Emit("greeting", "hi", map[string]int{"n": 1}, []byte{1, 2})
		})
	})
	srv.Of("/admin").Use(func(s *socketio.Socket) error {
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]int{"code": 42}}
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return hs, got
}

func runSio(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEmitAck(t *testing.T) {
	hs, _ := newServer(t)
	for _, tr := range []string{"polling", "websocket", "polling,websocket"} {
		code, out, errs := runSio(t, "emit", "--ack", "--transports", tr, hs.URL, "echo", `{"a":[1,true,null]}`, "-2.5", `"x"`)
		if code != 0 || out != `[{"a":[1,true,null]},-2.5,"x"]`+"\n" {
			t.Fatalf("%s: code %d out %q err %q", tr, code, out, errs)
		}
	}
}

func TestEmitNoAck(t *testing.T) {
	hs, got := newServer(t)
	code, out, errs := runSio(t, "emit", hs.URL, "record", "1", `"two"`)
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	select {
	case v := <-got:
		if len(v) != 2 || v[0] != float64(1) || v[1] != "two" {
			t.Fatalf("server got %v", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server got nothing")
	}
}

func TestEmitErrors(t *testing.T) {
	hs, _ := newServer(t)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"refused", []string{"emit", closed, "echo"}, 1, "sio: cannot connect to " + closed + ": connection refused"},
		{"namespace", []string{"emit", hs.URL + "/admin", "echo"}, 1, `sio: the server refused the connection to namespace /admin: not authorized {"code":42}`},
		{"unknown namespace", []string{"emit", "-n", "/nope", hs.URL, "echo"}, 1, "sio: the server refused the connection to namespace /nope: Invalid namespace"},
		{"ack timeout", []string{"emit", "--ack", "--timeout", "300ms", hs.URL, "silent"}, 1, `sio: no acknowledgement for "silent" within 300ms`},
		{"bad json", []string{"emit", hs.URL, "echo", "{oops"}, 2, "sio: argument 1 is not valid JSON: {oops"},
		{"bad auth", []string{"emit", "--auth", "[1]", hs.URL, "echo"}, 2, "sio: --auth is not a JSON object: [1]"},
		{"usage", []string{"emit", hs.URL}, 2, "sio: emit takes a URL and an EVENT"},
		{"unknown command", []string{"shout"}, 2, `sio: unknown command "shout"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runSio(t, tc.args...)
			first, _, _ := strings.Cut(errs, "\n")
			if code != tc.code || out != "" || first != tc.err {
				t.Fatalf("code %d out %q err %q", code, out, errs)
			}
		})
	}
}

func TestListen(t *testing.T) {
	hs, _ := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"listen", "-H", "X-Test: 1", hs.URL}, &out, &errb) }()
	waitFor(t, &errb, "sio: connected to /")
	if code, _, errs := runSio(t, "emit", hs.URL, "hello"); code != 0 {
		t.Fatalf("emit: %s", errs)
	}
	waitFor(t, &out, `{"event":"greeting","args":["hi",{"n":1},"AQI="]}`)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestListenReconnects(t *testing.T) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener = l
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"listen", "--transports", "polling", "http://" + addr}, &out, &errb) }()
	waitFor(t, &errb, "sio: connected to /")
	hs.CloseClientConnections()
	hs.Close()
	waitFor(t, &errb, "sio: disconnected (transport")
	waitFor(t, &errb, "sio: reconnecting (attempt 1)")
	// Back on the same address.
	var l2 net.Listener
	for i := 0; i < 50; i++ {
		if l2, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewUnstartedServer(srv)
	hs2.Listener = l2
	hs2.Start()
	defer hs2.Close()
	waitFor(t, &errb, "sio: reconnected after")
	cancel()
	<-done
}

func TestListenRefused(t *testing.T) {
	hs, _ := newServer(t)
	code, _, errs := runSio(t, "listen", hs.URL+"/admin")
	if code != 1 || !strings.Contains(errs, "sio: the server refused the connection to namespace /admin: not authorized") {
		t.Fatalf("code %d err %q", code, errs)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	code, _, errs = runSio(t, "listen", "--reconnection-attempts", "1", "--transports", "websocket", closed)
	if code != 1 || !strings.Contains(errs, "connection refused; retrying") || !strings.Contains(errs, "sio: giving up after 1 reconnection attempts") {
		t.Fatalf("code %d err %q", code, errs)
	}
}

func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", s, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
