package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/client"
)

// A server that stops pinging: the client gives up after pingInterval +
// pingTimeout with "ping timeout".
func TestPingTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("sid") == "":
			_, _ = w.Write([]byte(`0{"sid":"s1","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}`))
		case r.Method == http.MethodPost:
			body := make([]byte, 100)
			n, _ := r.Body.Read(body)
			if strings.HasPrefix(string(body[:n]), "40") {
				_, _ = w.Write([]byte("ok"))
				return
			}
			_, _ = w.Write([]byte("ok"))
		default:
			if r.URL.Query().Get("t") != "" && r.Header.Get("X-Seen") == "" {
				// First poll: accept the namespace; later polls hang.
				w.Header().Set("X-Seen", "1")
			}
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	m, err := client.NewManager(srv.URL, &client.Options{Transports: []string{client.TransportPolling}, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opened := make(chan time.Time, 1)
	closed := make(chan string, 1)
	m.OnOpen(func() { opened <- time.Now() })
	m.OnClose(func(reason string, err error) { closed <- reason })
	m.Socket("/", nil)
	start := <-opened
	select {
	case r := <-closed:
		if r != client.ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
		if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
			t.Fatalf("closed after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ping timeout")
	}
}

// The handshake is refused: the error carries the server's message.
func TestHandshakeRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code":4,"message":"Forbidden"}`))
	}))
	defer srv.Close()
	for _, tr := range []string{client.TransportPolling, client.TransportWebSocket} {
		_, err := client.Connect(context.Background(), srv.URL, &client.Options{Transports: []string{tr}}, nil)
		var he *client.HandshakeError
		if !errors.As(err, &he) || he.Status != 403 || he.Message != "Forbidden" {
			t.Fatalf("%s: %v", tr, err)
		}
	}
}
