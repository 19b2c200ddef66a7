package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// exampleServer starts a server that answers "hello" and greets newcomers.
func exampleServer() (*httptest.Server, func()) {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", "glad you came")
		socketio.OnWithAck(s, "hello", func(s *socketio.Socket, name string) string {
			return "hello, " + name
		})
	})
	hs := httptest.NewServer(srv)
	return hs, func() { hs.Close(); _ = srv.Close() }
}

// Connect to a server, send an event and wait for its acknowledgement.
func ExampleConnect() {
	hs, stop := exampleServer()
	defer stop()

	ctx := context.Background()
	s, err := client.Connect(ctx, hs.URL, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Manager().Close()

	ack, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "hello", "gopher")
	if err != nil {
		log.Fatal(err)
	}
	var reply string
	if err := ack.Decode(0, &reply); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply)
	// Output: hello, gopher
}

// Typed handlers decode the first argument of an event.
func ExampleOn() {
	hs, stop := exampleServer()
	defer stop()

	m, err := client.NewManager(hs.URL, &client.Options{DisableAutoConnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", nil)
	got := make(chan string, 1)
	client.On(s, "welcome", func(msg string) { got <- msg })
	s.Connect()
	fmt.Println(<-got)
	// Output: glad you came
}

// A Manager multiplexes namespaces on one connection and reconnects.
func ExampleNewManager() {
	hs, stop := exampleServer()
	defer stop()

	m, err := client.NewManager(hs.URL, &client.Options{
		Transports:           []string{client.TransportWebSocket},
		ReconnectionAttempts: 5,
		ReconnectionDelay:    500 * time.Millisecond,
		// Sockets connect when told to (Socket.Connect), once their
		// handlers are in place: otherwise a fast connection could come
		// before OnConnect below.
		DisableAutoConnect: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.OnReconnect(func(attempt int) { log.Printf("reconnected after %d attempts", attempt) })

	connected := make(chan struct{})
	s := m.Socket("/", &client.SocketOptions{
		AuthFunc: func(ctx context.Context) (any, error) {
			return map[string]string{"token": "fresh token"}, nil // called on every (re)connection
		},
	})
	s.OnConnect(func() { close(connected) })
	s.Connect()
	<-connected
	fmt.Println("connected:", s.Connected())
	// Output: connected: true
}
