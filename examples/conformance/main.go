// Command conformance serves the endpoints that the official Engine.IO v4 and
// Socket.IO v5 conformance suites (in the socketio/socket.io repository,
// docs/*/v*-test-suite) expect, on the address given by -addr.
//
// /engine.io/ is an echo server: every message a client sends comes back.
// /socket.io/ serves the namespaces "/" and "/custom": on connection each
// emits "auth" with the handshake's auth payload, answers "message" with
// "message-back" and the same arguments, and acknowledges
// "message-with-ack" with the same arguments.
//
// With -listener (or CONFORMANCE_LISTENER=1 in the environment, for scripts
// that pass only -addr), long-polling is answered by the servers' own loops
// (engineio.Server.Listener, socketio.Server.Listener) in front of net/http.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	listener := flag.Bool("listener", os.Getenv("CONFORMANCE_LISTENER") == "1", "answer long-polling with the servers' Listeners")
	flag.Parse()

	eio, err := engineio.NewServer(&engineio.Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		CORS:              &engineio.CORSOptions{Origins: []string{"*"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	eio.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) { _ = s.Send(m) })
	})

	sio, err := socketio.NewServer(&socketio.Options{
		ConnectTimeout: time.Second,
		Engine: engineio.Options{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			CORS:         &engineio.CORSOptions{Origins: []string{"*"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"/", "/custom"} {
		sio.Of(name).OnConnection(onConnection)
	}

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		_ = eio.Shutdown(shutdownCtx)
		_ = sio.Shutdown(shutdownCtx)
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *listener {
		// Each loop hands the other's requests on: to the next, then to srv.
		ln = sio.Listener(eio.Listener(ln))
	}
	log.Printf("conformance server listening on http://%s (polling listeners: %v)", *addr, *listener)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func onConnection(s *socketio.Socket) {
	_ = s.Emit("auth", s.Handshake().Auth)
	s.On("message", func(e *socketio.Event) {
		args, err := echoArgs(e.Args)
		if err == nil {
			_ = s.Emit("message-back", args...)
		}
	})
	s.On("message-with-ack", func(e *socketio.Event) {
		args, err := echoArgs(e.Args)
		if err == nil {
			_ = e.Ack(args...)
		}
	})
}

// echoArgs returns the arguments as they came: raw JSON, or decoded values
// when binary attachments must be sent again.
func echoArgs(a socketio.Args) ([]any, error) {
	if len(a.Attachments()) > 0 {
		return a.Values()
	}
	out := make([]any, a.Len())
	for i, r := range a.Raw() {
		out[i] = r
	}
	return out, nil
}
