package engineio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

func openKeys(open map[string]any) []string {
	keys := make([]string, 0, len(open))
	for k := range open {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestHandshakePolling(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "EIO=4&transport=polling", nil, nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("cookie set by default: %q", sc)
	}
	var open map[string]any
	if !strings.HasPrefix(r.body, "0") || json.Unmarshal([]byte(r.body[1:]), &open) != nil {
		t.Fatalf("body %q", r.body)
	}
	if got := strings.Join(openKeys(open), ","); got != "maxPayload,pingInterval,pingTimeout,sid,upgrades" {
		t.Errorf("open packet keys %s", got)
	}
	want := map[string]any{"upgrades": []any{"websocket"}, "pingInterval": 25000.0, "pingTimeout": 20000.0, "maxPayload": 1e6}
	for k, v := range want {
		if b1, _ := json.Marshal(open[k]); string(b1) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, b1, mustJSON(v))
		}
	}
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
	sid := open["sid"].(string)
	if s := h.srv.Session(sid); s == nil || s.ID() != sid || s.Transport() != "polling" {
		t.Errorf("Session(%q) = %v", sid, s)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHandshakeWebSocket(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxHTTPBufferSize: 5000})
	c := h.mustDialWS("EIO=4&transport=websocket")
	if sc := c.resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("cookie set by default: %q", sc)
	}
	op, p := c.read()
	if op != opText || p[0] != '0' {
		t.Fatalf("first message op %d %q", op, p)
	}
	var open map[string]any
	if err := json.Unmarshal(p[1:], &open); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(openKeys(open), ","); got != "maxPayload,pingInterval,pingTimeout,sid,upgrades" {
		t.Errorf("open packet keys %s", got)
	}
	if got := mustJSON(open["upgrades"]); got != "[]" {
		t.Errorf("upgrades %s, want []", got)
	}
	if open["pingInterval"] != 300.0 || open["pingTimeout"] != 200.0 || open["maxPayload"] != 5000.0 {
		t.Errorf("open packet %v", open)
	}
	sid := open["sid"].(string)
	if tr := h.rec(sid).sess.Transport(); tr != "websocket" {
		t.Errorf("Transport() = %q", tr)
	}
	c.echoRoundTrip("hi")
}

func TestHandshakeUpgradesList(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *engineio.Options
		want string
	}{
		{"default", nil, `["websocket"]`},
		{"DisableUpgrades", &engineio.Options{DisableUpgrades: true}, `[]`},
		{"polling only", &engineio.Options{Transports: []string{"polling"}}, `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			_, open := h.handshake()
			if got := mustJSON(open["upgrades"]); got != tc.want {
				t.Errorf("upgrades %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSessionIDs(t *testing.T) {
	h := newHarness(t, nil)
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`)
	seen := map[string]bool{}
	for range 50 {
		sid, _ := h.handshake()
		if !urlSafe.MatchString(sid) {
			t.Errorf("sid %q is not 20 URL-safe characters", sid)
		}
		if seen[sid] {
			t.Errorf("sid %q given twice", sid)
		}
		seen[sid] = true
	}
	_, wsSID := h.wsHandshake()
	if !urlSafe.MatchString(wsSID) || seen[wsSID] {
		t.Errorf("websocket sid %q", wsSID)
	}
	if h.srv.Count() != 51 {
		t.Errorf("Count() = %d, want 51", h.srv.Count())
	}
}

func TestGenerateID(t *testing.T) {
	n := 0
	h := newHarness(t, &engineio.Options{GenerateID: func(r *http.Request) (string, error) {
		n++
		if r.URL.Query().Get("fail") != "" {
			return "", errors.New("no id for you")
		}
		if r.URL.Query().Get("empty") != "" {
			return "", nil
		}
		return "custom-" + string(rune('a'+n)), nil
	}})
	sid, _ := h.handshake()
	if sid != "custom-b" {
		t.Errorf("sid %q, want custom-b", sid)
	}
	h.echoRoundTrip(sid)
	for _, q := range []string{"fail=1", "empty=1"} {
		r := h.do("GET", "EIO=4&transport=polling&"+q, nil, nil)
		if r.status != 400 || r.body != errorBody(3, "Bad request") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestCookie(t *testing.T) {
	h := newHarness(t, &engineio.Options{Cookie: &engineio.CookieOptions{}})
	r := h.do("GET", "EIO=4&transport=polling", nil, nil)
	var open struct{ SID string }
	json.Unmarshal([]byte(strings.TrimPrefix(r.body, "0")), &open)
	if got, want := r.header.Values("Set-Cookie"), []string{"io=" + open.SID + "; Path=/; HttpOnly; SameSite=Lax"}; open.SID == "" || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("polling Set-Cookie %q, want %q", got, want)
	}

	c := h.mustDialWS("EIO=4&transport=websocket")
	_, p := c.read()
	json.Unmarshal(p[1:], &open)
	if got, want := c.resp.Header.Values("Set-Cookie"), []string{"io=" + open.SID + "; Path=/; HttpOnly; SameSite=Lax"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("websocket Set-Cookie %q, want %q", got, want)
	}

	h2 := newHarness(t, &engineio.Options{Cookie: &engineio.CookieOptions{Name: "sess", Path: "/x", NoHTTPOnly: true, SameSite: http.SameSiteStrictMode, Secure: true}})
	r = h2.do("GET", "EIO=4&transport=polling", nil, nil)
	json.Unmarshal([]byte(strings.TrimPrefix(r.body, "0")), &open)
	if got, want := r.header.Get("Set-Cookie"), "sess="+open.SID+"; Path=/x; Secure; SameSite=Strict"; got != want {
		t.Errorf("custom cookie %q, want %q", got, want)
	}
}

func TestHandshakeResponseHoldsOnlyOpenPacket(t *testing.T) {
	h := newHarness(t, nil, harnessConfig{onConn: func(s *engineio.Session) {
		s.Send(engineio.Message{Data: []byte("welcome")}, engineio.Message{Data: []byte{1, 2}, Binary: true})
	}})
	r := h.do("GET", "EIO=4&transport=polling", nil, nil)
	if !strings.HasPrefix(r.body, "0{") || strings.ContainsRune(r.body, '\x1e') {
		t.Fatalf("handshake body %q", r.body)
	}
	var open struct{ SID string }
	json.Unmarshal([]byte(r.body[1:]), &open)
	if got := h.get(open.SID); got.status != 200 || got.body != "4welcome\x1ebAQI=" {
		t.Errorf("first GET %d %q", got.status, got.body)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts engineio.Options
	}{
		{"wildcard with credentials", engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"https://a.example", "*"}, Credentials: true}}},
		{"relative path", engineio.Options{Path: "engine.io"}},
		{"negative interval", engineio.Options{PingInterval: -time.Second}},
		{"no transports", engineio.Options{Transports: []string{}}},
		{"unknown transport", engineio.Options{Transports: []string{"flashsocket"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if srv, err := engineio.NewServer(&tc.opts); err == nil {
				srv.Close()
				t.Error("NewServer accepted the options")
			}
		})
	}
	srv, err := engineio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	o := srv.Options()
	if o.Path != "/engine.io/" || o.PingInterval != 25*time.Second || o.PingTimeout != 20*time.Second ||
		o.UpgradeTimeout != 10*time.Second || o.MaxHTTPBufferSize != 1e6 || o.CORS != nil || o.Cookie != nil {
		t.Errorf("defaults %+v", o)
	}
}

func TestCustomPath(t *testing.T) {
	h := newHarness(t, &engineio.Options{Path: "/rt"})
	sid, _ := h.handshake()
	h.echoRoundTrip(sid)
	resp, err := h.hs.Client().Get(h.hs.URL + "/other/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("other path: %d", resp.StatusCode)
	}
}

func TestSessionAccessors(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "EIO=4&transport=polling&token=abc", nil, map[string]string{"X-Test": "yes"})
	var open struct{ SID string }
	json.Unmarshal([]byte(strings.TrimPrefix(r.body, "0")), &open)
	s := h.rec(open.SID).sess
	if req := s.Request(); req.URL.Query().Get("token") != "abc" || req.Header.Get("X-Test") != "yes" {
		t.Errorf("Request() = %v", req)
	}
	req := s.Request()
	if req.Method != "GET" || req.Proto != "HTTP/1.1" || req.ProtoMajor != 1 || req.ProtoMinor != 1 ||
		!strings.HasPrefix(req.RequestURI, "/engine.io/?") || !strings.Contains(req.RequestURI, "token=abc") ||
		!strings.HasPrefix(req.Host, "127.0.0.1:") || req.RemoteAddr != s.RemoteAddr() || req.TLS != nil {
		t.Errorf("Request(): %s %s %s (%d.%d) host %s from %s", req.Method, req.RequestURI, req.Proto,
			req.ProtoMajor, req.ProtoMinor, req.Host, req.RemoteAddr)
	}
	if req.Body != http.NoBody || req.Context() != context.Background() {
		t.Error("Request() keeps the original's body or context")
	}
	if addr := s.RemoteAddr(); !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("RemoteAddr() = %q", addr)
	}
	if s.Writable() {
		t.Error("Writable() with no GET pending")
	}
	pending := h.pendingGet(open.SID)
	if !s.Writable() {
		t.Error("Writable() false with a GET pending")
	}
	s.Send(engineio.Message{Data: []byte("x")})
	if r := waitResp(t, pending); r.body != "4x" {
		t.Errorf("GET %q", r.body)
	}
	s.Close()
	if s.Writable() {
		t.Error("Writable() on a closing session")
	}
}
