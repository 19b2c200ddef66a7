package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/client"
)

// serve starts srv on a test HTTP server; stop shuts both down.
func serve(srv *socketio.Server) (url string, stop func()) {
	hs := httptest.NewServer(srv)
	return hs.URL, func() {
		_ = srv.Shutdown(context.Background())
		hs.Close()
	}
}

// A chat server: every message goes to everyone else; "sum" is answered
// through its acknowledgement.
func Example() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "chat", func(s *socketio.Socket, msg string) {
			_ = s.Broadcast().Emit("chat", msg)
		})
		socketio.OnWithAck(s, "sum", func(s *socketio.Socket, xs []int) int {
			total := 0
			for _, x := range xs {
				total += x
			}
			return total
		})
	})
	url, stop := serve(srv)
	defer stop()

	ctx := context.Background()
	alice, err := client.Connect(ctx, url, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Manager().Close()
	bob, err := client.Connect(ctx, url, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Manager().Close()

	heard := make(chan string, 1)
	client.On(bob, "chat", func(msg string) { heard <- msg })
	_ = alice.Emit("chat", "hi bob")
	fmt.Println("bob heard:", <-heard)

	ack, err := alice.Timeout(5*time.Second).EmitWithAck(ctx, "sum", []int{1, 2, 3})
	if err != nil {
		log.Fatal(err)
	}
	var total int
	_ = ack.Decode(0, &total)
	fmt.Println("sum:", total)
	// Output:
	// bob heard: hi bob
	// sum: 6
}

// A namespace middleware refuses connections; the client gets the error's
// message and data.
func ExampleNamespace_Use() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		_ = s.Handshake().BindAuth(&auth)
		if auth.Token != "secret" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]string{"hint": "log in"}}
		}
		return nil
	})
	url, stop := serve(srv)
	defer stop()

	opts := &client.Options{DisableReconnection: true}
	_, err = client.Connect(context.Background(), url+"/admin", opts, &client.SocketOptions{Auth: map[string]string{"token": "guess"}})
	var ce *client.ConnectError
	if errors.As(err, &ce) {
		fmt.Println("refused:", ce.Message, string(ce.Data))
	}
	s, err := client.Connect(context.Background(), url+"/admin", opts, &client.SocketOptions{Auth: map[string]string{"token": "secret"}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Manager().Close()
	fmt.Println("connected:", s.Connected())
	// Output:
	// refused: not authorized {"hint":"log in"}
	// connected: true
}

// Rooms: a broadcast reaches the sockets that joined the room.
func ExampleSocket_Join() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.OnWithAck(s, "join", func(s *socketio.Socket, room string) bool {
			s.Join(room)
			return true
		})
	})
	url, stop := serve(srv)
	defer stop()

	ctx := context.Background()
	fan, err := client.Connect(ctx, url, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer fan.Manager().Close()
	got := make(chan string, 1)
	client.On(fan, "score", func(score string) { got <- score })
	if _, err := fan.Timeout(5*time.Second).EmitWithAck(ctx, "join", "match-42"); err != nil {
		log.Fatal(err)
	}

	_ = srv.To("match-42").Emit("score", "2-1")
	_ = srv.To("match-7").Emit("score", "0-0") // nobody in that room
	fmt.Println(<-got)
	// Output: 2-1
}

// The server asks a client and waits for its acknowledgement.
func ExampleSocket_EmitWithAck() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	answer := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		args, err := s.Timeout(5*time.Second).EmitWithAck(context.Background(), "name?")
		if err != nil {
			answer <- err.Error()
			return
		}
		var name string
		_ = args.Decode(0, &name)
		answer <- name
	})
	url, stop := serve(srv)
	defer stop()

	m, err := client.NewManager(url, &client.Options{DisableAutoConnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", nil)
	s.On("name?", func(e *client.Event) { _ = e.Ack("gopher") }) // before connecting
	s.Connect()
	fmt.Println(<-answer)
	// Output: gopher
}

// Dynamic namespaces: one handler serves every namespace matching a pattern.
func ExampleServer_OfRegexp() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	workspaces := srv.OfRegexp(regexp.MustCompile(`^/workspace-\d+$`))
	workspaces.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("hello", "welcome to "+s.Namespace().Name())
	})
	url, stop := serve(srv)
	defer stop()

	m, err := client.NewManager(url, &client.Options{DisableAutoConnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/workspace-7", nil)
	got := make(chan string, 1)
	client.On(s, "hello", func(msg string) { got <- msg })
	s.Connect()
	fmt.Println(<-got)
	// Output: welcome to /workspace-7
}

// Long-polling answered by the server's own loop: the http.Server serves the
// listener returned by Listener, and gets only the connections whose
// requests are something else (here a WebSocket upgrade, and /health).
func ExampleServer_Listener() {
	srv, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.OnWithAck(s, "upper", func(s *socketio.Socket, v string) string {
			return strings.ToUpper(v)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv) // upgrades, preflights, anything handed over
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	defer hs.Close()
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	ctx := context.Background()
	for _, transports := range [][]string{{"polling"}, {"polling", "websocket"}} {
		s, err := client.Connect(ctx, url, &client.Options{Transports: transports}, nil)
		if err != nil {
			log.Fatal(err)
		}
		ack, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "upper", "gopher")
		if err != nil {
			log.Fatal(err)
		}
		v, _ := ack.DecodeString(0)
		fmt.Println(transports, v)
		s.Manager().Close()
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(b))
	// Output:
	// [polling] GOPHER
	// [polling websocket] GOPHER
	// fine
}
