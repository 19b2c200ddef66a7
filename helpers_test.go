package socketio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestServer starts a Socket.IO server over httptest; both are shut down
// when the test ends.
func newTestServer(t *testing.T, opts *socketio.Options) (*socketio.Server, string) {
	t.Helper()
	srv, err := socketio.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs.URL
}

// pollClient speaks the raw protocol over HTTP long-polling.
type pollClient struct {
	t       *testing.T
	url     string
	sid     string
	http    *http.Client
	pending []string // packets received and not yet consumed
}

func newPollClient(t *testing.T, base string) *pollClient {
	t.Helper()
	c := &pollClient{t: t, url: base + "/socket.io/?EIO=4&transport=polling", http: &http.Client{Timeout: 5 * time.Second}}
	status, body := c.do(http.MethodGet, c.url, "")
	if status != 200 || !strings.HasPrefix(body, "0") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		t.Fatal(err)
	}
	c.sid = open.SID
	c.url += "&sid=" + open.SID
	t.Cleanup(func() { c.http.CloseIdleConnections() })
	return c
}

func (c *pollClient) do(method, url, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post sends raw engine.io packets joined by the record separator.
func (c *pollClient) post(packets ...string) int {
	c.t.Helper()
	status, _ := c.do(http.MethodPost, c.url, strings.Join(packets, "\x1e"))
	return status
}

// poll returns the packets of one GET (nil and the status when not 200).
func (c *pollClient) poll() ([]string, int) {
	c.t.Helper()
	status, body := c.do(http.MethodGet, c.url, "")
	if status != 200 {
		return nil, status
	}
	return strings.Split(body, "\x1e"), status
}

// next returns the next packet that is not a ping (answering pings).
func (c *pollClient) next() string {
	c.t.Helper()
	for {
		for len(c.pending) > 0 {
			p := c.pending[0]
			c.pending = c.pending[1:]
			if p == "2" {
				c.post("3")
				continue
			}
			return p
		}
		pkts, status := c.poll()
		if status != 200 {
			c.t.Fatalf("poll: status %d", status)
		}
		c.pending = append(c.pending, pkts...)
	}
}

// connect joins a namespace and returns the CONNECT reply.
func (c *pollClient) connect(nsp, auth string) string {
	c.t.Helper()
	p := "40"
	if nsp != "/" {
		p += nsp + ","
	}
	c.post(p + auth)
	return c.next()
}

// closed reports whether the session ended: the server answers a GET with
// the close packet, or refuses it.
func (c *pollClient) closed() bool {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		pkts, status := c.poll()
		if status == 400 {
			return true
		}
		for _, p := range pkts {
			if p == "1" {
				return true
			}
		}
	}
	return false
}

// waitFor waits for a value on ch.
func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}
