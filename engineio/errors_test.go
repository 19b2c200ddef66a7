package engineio_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/socketio-go/socketio/engineio"
)

func TestErrorCodes(t *testing.T) {
	var mu sync.Mutex
	var refusals []string
	h := newHarness(t, &engineio.Options{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("X-Deny") != "" {
			return errors.New(r.Header.Get("X-Deny"))
		}
		return nil
	}})
	h.srv.OnConnectionError(func(r *http.Request, code engineio.ErrorCode, message string) {
		mu.Lock()
		refusals = append(refusals, message)
		mu.Unlock()
	})
	sid, _ := h.handshake()

	for _, tc := range []struct {
		name, method, query string
		hdr                 map[string]string
		status, code        int
		message             string
	}{
		{"unknown transport", "GET", "EIO=4&transport=flash", nil, 400, 0, "Transport unknown"},
		{"transport __proto__", "GET", "EIO=4&transport=__proto__", nil, 400, 0, "Transport unknown"},
		{"transport constructor", "GET", "EIO=4&transport=constructor", nil, 400, 0, "Transport unknown"},
		{"transport hasOwnProperty", "GET", "EIO=4&transport=hasOwnProperty", nil, 400, 0, "Transport unknown"},
		{"empty transport", "GET", "EIO=4&transport=", nil, 400, 0, "Transport unknown"},
		{"no transport", "GET", "EIO=4", nil, 400, 0, "Transport unknown"},
		{"transport checked first", "POST", "transport=nope&sid=unknown", nil, 400, 0, "Transport unknown"},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=unknown", nil, 400, 1, "Session ID unknown"},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=unknown", nil, 400, 1, "Session ID unknown"},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"transport mismatch", "GET", "EIO=4&transport=websocket&sid=" + sid, nil, 400, 3, "Bad request"},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, 3, "Bad request"},
		{"websocket with Upgrade h2c", "GET", "EIO=4&transport=websocket", map[string]string{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}, 400, 3, "Bad request"},
		{"forbidden", "GET", "EIO=4&transport=polling", map[string]string{"X-Deny": "go away"}, 403, 4, "go away"},
		{"no EIO", "GET", "transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO=3", "GET", "EIO=3&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO=4 then 3", "GET", "EIO=4&EIO=3&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"polling then websocket", "GET", "EIO=4&transport=polling&transport=websocket", nil, 400, 3, "Bad request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.query, nil, tc.hdr)
			if r.status != tc.status || r.body != errorBody(tc.code, tc.message) {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tc.status, errorBody(tc.code, tc.message))
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	mu.Lock()
	if len(refusals) != 20 || refusals[14] != "go away" {
		t.Errorf("OnConnectionError saw %d refusals: %q", len(refusals), refusals)
	}
	mu.Unlock()
	// None of this hurt the session.
	h.echoRoundTrip(sid)
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestRepeatedQueryValuesLastWins(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "EIO=3&EIO=4&transport=websocket&transport=polling", nil, nil)
	if r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Fatalf("handshake %d %q", r.status, r.body)
	}
	sid, _ := h.handshake()
	// The sid taken is the last one too.
	r = h.do("POST", "EIO=4&transport=polling&sid=unknown&sid="+sid, strings.NewReader("4x"), nil)
	if r.status != 200 || r.body != "ok" {
		t.Errorf("POST with repeated sid: %d %q", r.status, r.body)
	}
	r = h.do("GET", "EIO=4&transport=polling&sid="+sid+"&sid=unknown", nil, nil)
	if r.status != 400 || r.body != errorBody(1, "Session ID unknown") {
		t.Errorf("GET with repeated sid: %d %q", r.status, r.body)
	}
}

func TestOtherMethodOnSession(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	r := h.do("PUT", "EIO=4&transport=polling&sid="+sid, strings.NewReader("4x"), nil)
	if r.status != 500 {
		t.Errorf("PUT on a session: %d %q", r.status, r.body)
	}
	h.echoRoundTrip(sid)
}

func TestWebSocketRefusals(t *testing.T) {
	h := newHarness(t, &engineio.Options{AllowRequest: func(r *http.Request) error {
		if r.URL.Query().Get("sid") != "" || r.URL.Query().Get("deny") != "" {
			return errors.New("no websockets")
		}
		return nil
	}})
	sid, _ := h.handshake()

	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"unknown transport", "EIO=4&transport=flash", 400},
		{"unknown sid", "EIO=4&transport=websocket&sid=nope", 400},
		{"EIO=3", "EIO=3&transport=websocket", 400},
		{"websocket handshake as polling", "EIO=4&transport=polling", 400},
		{"handshake refused", "EIO=4&transport=websocket&deny=1", 403},
		{"upgrade refused", "EIO=4&transport=websocket&sid=" + sid, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dialWS(tc.query)
			if c.resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", c.resp.StatusCode, tc.status)
			}
		})
	}
	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	body := make([]byte, 100)
	n, _ := c.resp.Body.Read(body)
	if string(body[:n]) != "no websockets" {
		t.Errorf("refused upgrade body %q", body[:n])
	}
	// The polling session carries on.
	h.echoRoundTrip(sid)
	if tr := h.rec(sid).sess.Transport(); tr != "polling" {
		t.Errorf("Transport() = %q", tr)
	}
}

func TestCORS(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		h := newHarness(t, nil)
		r := h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://a.example"})
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("header %s set", k)
			}
		}
		r = h.do("OPTIONS", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "POST"})
		if r.status == 204 || r.header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight answered with CORS off: %d %v", r.status, r.header)
		}
	})

	t.Run("allow list", func(t *testing.T) {
		h := newHarness(t, &engineio.Options{CORS: &engineio.CORSOptions{
			Origins:     []string{"https://a.example"},
			AllowOrigin: func(o string) bool { return o == "https://dyn.example" },
			Credentials: true,
		}})
		for _, origin := range []string{"https://a.example", "https://dyn.example"} {
			r := h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": origin})
			if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != origin ||
				r.header.Get("Vary") != "Origin" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("%s: %d %v", origin, r.status, r.header)
			}
		}
		r := h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://evil.example"})
		if _, ok := r.header["Access-Control-Allow-Origin"]; ok || r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("refused origin got CORS headers: %v", r.header)
		}
		if r.header.Get("Vary") != "Origin" {
			t.Errorf("refused origin: Vary %q", r.header.Get("Vary"))
		}
		// Error responses carry the headers too, so a page can read the code.
		r = h.do("GET", "EIO=4&transport=nope", nil, map[string]string{"Origin": "https://a.example"})
		if r.status != 400 || r.header.Get("Access-Control-Allow-Origin") != "https://a.example" {
			t.Errorf("error response: %d %v", r.status, r.header)
		}
	})

	t.Run("wildcard", func(t *testing.T) {
		h := newHarness(t, &engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"*"}, ExposedHeaders: []string{"X-A", "X-B"}}})
		r := h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://any.example"})
		if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Credentials") != "" ||
			r.header.Get("Access-Control-Expose-Headers") != "X-A,X-B" {
			t.Errorf("headers %v", r.header)
		}
	})

	t.Run("preflight", func(t *testing.T) {
		h := newHarness(t, &engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"https://a.example"}, MaxAge: 600e9}})
		r := h.do("OPTIONS", "EIO=4&transport=polling", nil, map[string]string{
			"Origin": "https://a.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
		if r.status != 204 || r.body != "" {
			t.Fatalf("preflight %d %q", r.status, r.body)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  "https://a.example",
			"Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
			"Access-Control-Allow-Headers": "content-type",
			"Access-Control-Max-Age":       "600",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if h.srv.Count() != 0 {
			t.Errorf("preflight opened a session")
		}

		h2 := newHarness(t, &engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"*"}, Methods: []string{"GET", "POST"}, AllowedHeaders: []string{"X-Token"}}})
		r = h2.do("OPTIONS", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://b.example", "Access-Control-Request-Method": "POST"})
		if r.status != 204 || r.header.Get("Access-Control-Allow-Methods") != "GET,POST" || r.header.Get("Access-Control-Allow-Headers") != "X-Token" {
			t.Errorf("custom preflight %d %v", r.status, r.header)
		}
	})

	t.Run("wildcard with credentials refused", func(t *testing.T) {
		_, err := engineio.NewServer(&engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"*"}, Credentials: true}})
		if err == nil {
			t.Fatal("NewServer accepted * with credentials")
		}
	})
}
