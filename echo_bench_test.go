package socketio_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	socketio "github.com/socketio-go/socketio"
)

// BenchmarkEcho is one WebSocket client sending an event and waiting for
// the server's echo, one at a time (scenario 1 of BENCHMARKS.md in
// miniature), with handlers on the reader (the default) and on the socket's
// goroutine. The client allocates nothing per round trip, so allocs/op are
// the server's.
func BenchmarkEcho(b *testing.B) {
	b.Run("inline", func(b *testing.B) { benchmarkEcho(b, 0) })
	b.Run("handler-goroutine", func(b *testing.B) { benchmarkEcho(b, -1) })
}

func benchmarkEcho(b *testing.B, inlineTimeout time.Duration) {
	srv, err := socketio.NewServer(&socketio.Options{InlineHandlerTimeout: inlineTimeout})
	if err != nil {
		b.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			var v string
			if err := e.Args.Decode(0, &v); err == nil {
				_ = s.Emit("echo", v)
			}
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	c := dialCounter(b, strings.TrimPrefix(hs.URL, "http://"))
	defer c.nc.Close()
	// The open packet and the CONNECT answer.
	var buf [512]byte
	readFrame := func() int {
		if _, err := io.ReadFull(c.br, buf[:2]); err != nil {
			b.Fatal(err)
		}
		n := int(buf[1] & 0x7f)
		if n >= 126 {
			b.Fatal("unexpected long frame")
		}
		if _, err := io.ReadFull(c.br, buf[:n]); err != nil {
			b.Fatal(err)
		}
		return n
	}
	readFrame()
	readFrame()
	payload := `42["echo","` + strings.Repeat("x", 32) + `"]`
	frame := append([]byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...) // zero mask key
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		if n := readFrame(); n != len(payload) {
			b.Fatalf("reply of %d bytes: %q", n, buf[:n])
		}
	}
}
