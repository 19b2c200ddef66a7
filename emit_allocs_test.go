package socketio_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
	"github.com/socketio-go/socketio/parser"
)

// With the JSON parser, Emit's variadic arguments stay on the caller's
// stack (the server calls parser.JSONEncoder without an interface): an emit
// to one socket allocates the encoded message and nothing else.
func TestEmitAllocatesOnlyTheMessage(t *testing.T) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) { connected <- s })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	c := dialCounter(t, strings.TrimPrefix(hs.URL, "http://"))
	defer c.nc.Close()
	go c.run()
	var s *socketio.Socket
	select {
	case s = <-connected:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	var v any = "payload" // boxed here, not in the measured calls
	const runs = 100
	allocs := testing.AllocsPerRun(runs, func() {
		if err := s.Emit("msg", v, 42); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Emit allocated %.1f objects per call, want 1 (the message)", allocs)
	}
	// The open packet, the CONNECT answer and every emit (AllocsPerRun
	// makes one call more than runs) reach the client.
	deadline := time.Now().Add(5 * time.Second)
	for c.frames.Load() < runs+3 {
		if time.Now().After(deadline) {
			t.Fatalf("client got %d frames, want %d", c.frames.Load(), runs+3)
		}
		time.Sleep(time.Millisecond)
	}
}

// eventEncoderParser is the JSON parser behind an encoder of another type
// that has the one-buffer EventEncoder, counting its calls.
type eventEncoderParser struct {
	parser.Parser
	calls *atomic.Int64
}

func (p eventEncoderParser) NewEncoder() parser.Encoder {
	return countingEncoder{calls: p.calls}
}

type countingEncoder struct {
	parser.JSONEncoder
	calls *atomic.Int64
}

func (e countingEncoder) EncodeEvent(nsp string, id uint64, hasID bool, event string, args []any) ([]byte, [][]byte, error) {
	e.calls.Add(1)
	text, atts, err := e.JSONEncoder.EncodeEvent(nsp, id, hasID, event, args)
	args[0] = "scribbled" // the encoder's own copy: the caller's slice is left alone
	return text, atts, err
}

func (e countingEncoder) EncodeAck(nsp string, id uint64, args []any) ([]byte, [][]byte, error) {
	e.calls.Add(1)
	return e.JSONEncoder.EncodeAck(nsp, id, args)
}

// plainParser is the JSON parser behind an encoder with Encode only: the
// server builds a Packet for each emit and ack.
type plainParser struct{ parser.Parser }

func (p plainParser) NewEncoder() parser.Encoder { return plainEncoder{} }

type plainEncoder struct{}

func (plainEncoder) Encode(p *parser.Packet) ([][]byte, error) {
	return parser.JSONEncoder{}.Encode(p)
}

// Emits and acks with parsers other than the JSON one: through their
// EventEncoder (which gets a copy of the arguments) or through Packets.
func TestEmitWithOtherEncoders(t *testing.T) {
	var calls atomic.Int64
	for _, tc := range []struct {
		name      string
		p         parser.Parser
		wantCalls bool
	}{
		{"EventEncoder", eventEncoderParser{parser.NewJSONParser(nil), &calls}, true},
		{"Encode only", plainParser{parser.NewJSONParser(nil)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			srv, url := newTestServer(t, &socketio.Options{Parser: tc.p})
			mine := []any{"x", 1}
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("ping", func(e *socketio.Event) {
					_ = s.Emit("pong", mine...)
					_ = e.Ack("ok")
				})
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := client.Connect(ctx, url, &client.Options{Transports: []string{client.TransportWebSocket}, DisableReconnection: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Manager().Close()
			pong := make(chan client.Args, 1)
			c.On("pong", func(e *client.Event) { pong <- e.Args })
			ack, err := c.EmitWithAck(ctx, "ping")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := ack.DecodeString(0); err != nil || got != "ok" {
				t.Fatalf("ack %q, %v; want ok", got, err)
			}
			select {
			case a := <-pong:
				var s string
				var n int
				if err := a.Decode(0, &s); err != nil || s != "x" {
					t.Fatalf("pong's first argument %q (%v), want x", s, err)
				}
				if err := a.Decode(1, &n); err != nil || n != 1 {
					t.Fatalf("pong's second argument %d (%v), want 1", n, err)
				}
			case <-ctx.Done():
				t.Fatal("no pong")
			}
			if mine[0] != "x" {
				t.Fatalf("the emitter's arguments changed: %v", mine)
			}
			if got := calls.Load(); tc.wantCalls && got != 2 {
				t.Fatalf("EventEncoder called %d times, want 2 (the emit and the ack)", got)
			}
		})
	}
}
