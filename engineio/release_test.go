package engineio_test

import (
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

// A message callback on the WebSocket reader may hand the reading over and
// then wait for a later message of the same client.
func TestReleaseReader(t *testing.T) {
	type call struct {
		data       string
		fromReader bool
		released   bool
	}
	calls := make(chan call, 10)
	second := make(chan struct{})
	h := newHarness(t, nil, harnessConfig{noEcho: true, onConn: func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) {
			c := call{data: string(m.Data), fromReader: m.FromReader}
			switch c.data {
			case "wait":
				c.released = s.ReleaseReader()
				if s.ReleaseReader() {
					t.Error("a second ReleaseReader released again")
				}
				calls <- c
				select {
				case <-second: // read by the next reader while this one waits
				case <-time.After(5 * time.Second):
					t.Error("the next message was not read while the callback waited")
				}
				_ = s.Send(engineio.Message{Data: []byte("waited")})
				return
			case "then":
				c.released = s.ReleaseReader()
				calls <- c
				close(second)
				return
			}
			calls <- c
		})
	}})

	ws, _ := h.wsHandshake()
	ws.sendText("4wait")
	ws.sendText("4then")
	for _, want := range []call{{"wait", true, true}, {"then", true, true}} {
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no call %q", want.data)
		}
	}
	if got := ws.readText(); got != "4waited" {
		t.Fatalf("read %q", got)
	}
	ws.sendText("4after")
	if got := <-calls; got != (call{"after", true, false}) {
		t.Fatalf("got %+v", got)
	}

	// Over polling, callbacks run on the POST's goroutine: nothing to release.
	sid, _ := h.handshake()
	if r := h.post(sid, "4wait"); r.status != 200 {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	if got := <-calls; got.fromReader || got.released || !strings.HasPrefix(got.data, "wait") {
		t.Fatalf("polling: %+v", got)
	}
}

// ReleaseReaderWhenHandedOn waits for the callback's HandedOn: until then
// the next message is not read.
func TestReleaseReaderWhenHandedOn(t *testing.T) {
	got := make(chan string, 10)
	asked, handOn, finish := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var sess *engineio.Session
	h := newHarness(t, nil, harnessConfig{noEcho: true, onConn: func(s *engineio.Session) {
		sess = s
		s.OnMessage(func(m engineio.Message) {
			got <- string(m.Data)
			if string(m.Data) != "first" {
				return
			}
			<-asked // another goroutine asked for a release meanwhile
			<-handOn
			s.HandedOn()
			<-finish
		})
	}})
	ws, _ := h.wsHandshake()
	ws.sendText("4first")
	ws.sendText("4second")
	if v := <-got; v != "first" {
		t.Fatalf("got %q", v)
	}
	sess.ReleaseReaderWhenHandedOn()
	close(asked)
	select {
	case v := <-got:
		t.Fatalf("%q read before the first message was handed on", v)
	case <-time.After(100 * time.Millisecond):
	}
	close(handOn)
	select {
	case v := <-got:
		if v != "second" {
			t.Fatalf("got %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reading was not handed over after HandedOn")
	}
	close(finish)
}
