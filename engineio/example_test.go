package engineio_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/socketio-go/socketio/engineio"
)

// body returns a response's body.
func body(resp *http.Response, err error) string {
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// An echo server, and a client speaking the polling transport by hand.
func Example() {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) {
			_ = s.Send(m) // echo
		})
	})
	hs := httptest.NewServer(srv) // in a program: http.Handle("/engine.io/", srv)
	defer hs.Close()
	defer srv.Close()

	url := hs.URL + "/engine.io/?EIO=4&transport=polling"

	// The handshake: an open packet ("0") with the session id.
	open := body(hs.Client().Get(url))
	sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	fmt.Println(strings.Replace(open, sid, "<sid>", 1))

	// Two messages ("4"), the second binary ("b" + base64), in one POST.
	fmt.Println(body(hs.Client().Post(url+"&sid="+sid, "text/plain", strings.NewReader("4hello\x1ebAQID"))))
	// The echo comes back on the next GET.
	fmt.Printf("%q\n", body(hs.Client().Get(url+"&sid="+sid)))
	// Output:
	// 0{"sid":"<sid>","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
	// ok
	// "4hello\x1ebAQID"
}

func ExampleServer_OnConnection() {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		// Set the handlers here: no message is delivered before this returns.
		log.Printf("session %s opened over %s", s.ID(), s.Transport())
		s.OnMessage(func(m engineio.Message) {
			if m.Binary {
				_ = s.Send(engineio.Message{Data: []byte(fmt.Sprintf("got %d bytes", len(m.Data)))})
				return
			}
			_ = s.Send(engineio.Message{Data: []byte("got " + string(m.Data))})
		})
		s.OnUpgrade(func(transport string) { log.Printf("session %s upgraded to %s", s.ID(), transport) })
		s.OnClose(func(reason string, cause error) {
			log.Printf("session %s closed: %s (%v)", s.ID(), reason, cause)
		})
	})
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	// log.Fatal(http.ListenAndServe(":3000", mux))
}

// A session that answers one message with several: Queue leaves them to
// the session's writer, which sends them together (on a WebSocket, in one
// write; over polling, in the same response, as always).
func ExampleSession_Queue() {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) {
			for i := 1; i <= 3; i++ {
				_ = s.Queue(engineio.Message{Data: []byte(fmt.Sprintf("%s %d", m.Data, i))})
			}
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	url := hs.URL + "/engine.io/?EIO=4&transport=polling"
	get := func(resp *http.Response, err error) string {
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	open := get(hs.Client().Get(url))
	sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	get(hs.Client().Post(url+"&sid="+sid, "text/plain", strings.NewReader("4count")))
	fmt.Printf("%q\n", get(hs.Client().Get(url+"&sid="+sid)))
	// Output:
	// "4count 1\x1e4count 2\x1e4count 3"
}

// The server's Listener in front of an http.Server: plain long-polling
// requests are answered by the server's own loop, everything else (here
// /status, and whatever follows it on that connection) by the http.Server.
func ExampleServer_Listener() {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(m engineio.Message) { _ = s.Send(m) })
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv) // WebSocket upgrades and anything handed over
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d sessions", srv.Count())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	defer hs.Close()
	defer srv.Close()

	base := "http://" + ln.Addr().String()
	url := base + "/engine.io/?EIO=4&transport=polling"
	open := body(http.Get(url))
	sid := open[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	fmt.Println(body(http.Post(url+"&sid="+sid, "text/plain", strings.NewReader("4hi"))))
	fmt.Println(body(http.Get(url + "&sid=" + sid)))
	fmt.Println(body(http.Get(base + "/status")))
	// Output:
	// ok
	// 4hi
	// 1 sessions
}
