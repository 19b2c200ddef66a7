package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestValidateNickname(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"alice", "alice", nil},
		{"  bob  ", "bob", nil},
		{"Zoë_1.x-y", "Zoë_1.x-y", nil},
		{"", "", errNicknameEmpty},
		{"   ", "", errNicknameEmpty},
		{"no spaces", "", errNicknameInvalid},
		{"<script>", "", errNicknameInvalid},
		{strings.Repeat("a", 20), strings.Repeat("a", 20), nil},
		{strings.Repeat("a", 21), "", errNicknameLong},
	}
	for _, tt := range tests {
		got, err := validateNickname(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("validateNickname(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestNormalizeRoom(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"general", "general", true},
		{"#Go", "go", true},
		{" rust-lang ", "rust-lang", true},
		{"", "", false},
		{"#", "", false},
		{"two words", "", false},
		{"-dash-first", "", false},
		{strings.Repeat("r", 25), "", false},
	}
	for _, tt := range tests {
		got, err := normalizeRoom(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("normalizeRoom(%q) = %q, %v; want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNicknamesAreUniqueIgnoringCase(t *testing.T) {
	c := newChat()
	if err := c.addUser("s1", "Alice"); err != nil {
		t.Fatal(err)
	}
	if !c.nicknameTaken("alice") {
		t.Error("alice not taken after Alice joined")
	}
	if err := c.addUser("s2", "ALICE"); err != errNicknameTaken {
		t.Errorf("second Alice: err = %v, want %v", err, errNicknameTaken)
	}
	c.removeUser("s1")
	if err := c.addUser("s2", "alice"); err != nil {
		t.Errorf("alice after Alice left: %v", err)
	}
}

func TestHistoryIsKeptPerRoom(t *testing.T) {
	c := newChat()
	for _, id := range []string{"a", "b"} {
		if err := c.addUser(id, "user-"+id); err != nil {
			t.Fatal(err)
		}
	}
	mustJoin(t, c, "a", "general")
	mustJoin(t, c, "b", "#go")
	for i := range historySize + 5 {
		if _, err := c.post("a", fmt.Sprintf("general %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.post("b", "hello go"); err != nil {
		t.Fatal(err)
	}

	// A late joiner gets the last historySize messages, oldest first.
	if err := c.addUser("late", "late"); err != nil {
		t.Fatal(err)
	}
	res := mustJoin(t, c, "late", "general")
	h := res.reply.History
	if len(h) != historySize {
		t.Fatalf("history of #general: %d messages, want %d", len(h), historySize)
	}
	if h[0].Text != "general 5" || h[len(h)-1].Text != fmt.Sprintf("general %d", historySize+4) {
		t.Errorf("history of #general runs %q..%q", h[0].Text, h[len(h)-1].Text)
	}
	if got := res.reply.Members; strings.Join(got, ",") != "late,user-a" {
		t.Errorf("members of #general = %v", got)
	}

	res = mustJoin(t, c, "late", "go")
	if res.left != "general" || !res.moved {
		t.Errorf("switching rooms: left %q, moved %v", res.left, res.moved)
	}
	if h := res.reply.History; len(h) != 1 || h[0].Text != "hello go" || h[0].From != "user-b" || h[0].Room != "go" {
		t.Errorf("history of #go = %+v", h)
	}
	if res := mustJoin(t, c, "late", "go"); res.moved {
		t.Error("joining the current room again counts as a move")
	}
}

func TestPostAndRooms(t *testing.T) {
	c := newChat()
	c.now = func() time.Time { return time.UnixMilli(1700000000000) }
	if err := c.addUser("a", "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.post("a", "hi"); err != errNotInRoom {
		t.Errorf("post before join: %v, want %v", err, errNotInRoom)
	}
	res := mustJoin(t, c, "a", "#New-Room")
	if !res.created || res.reply.Room != "new-room" {
		t.Errorf("join #New-Room: created %v, room %q", res.created, res.reply.Room)
	}
	for _, tt := range []struct {
		text string
		err  error
	}{
		{"  ", errMessageEmpty},
		{strings.Repeat("x", maxMessageLen+1), errMessageLong},
		{strings.Repeat("é", maxMessageLen), nil},
	} {
		if _, err := c.post("a", tt.text); err != tt.err {
			t.Errorf("post(%d chars): %v, want %v", len([]rune(tt.text)), err, tt.err)
		}
	}
	m, err := c.post("a", " hello ")
	if err != nil || m.Text != "hello" || m.TS != 1700000000000 || m.From != "ann" {
		t.Errorf("post = %+v, %v", m, err)
	}
	want := []RoomInfo{{"general", 0}, {"random", 0}, {"go", 0}, {"new-room", 1}}
	if got := c.roomList(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("roomList = %v, want %v", got, want)
	}
	for i := len(c.rooms); i < maxRooms; i++ {
		mustJoin(t, c, "a", fmt.Sprintf("room%d", i))
	}
	if _, err := c.join("a", "one-too-many"); err != errTooManyRooms {
		t.Errorf("room %d: %v, want %v", maxRooms+1, err, errTooManyRooms)
	}
}

func mustJoin(t *testing.T, c *chat, id, room string) joinResult {
	t.Helper()
	res, err := c.join(id, room)
	if err != nil {
		t.Fatalf("%s joins %s: %v", id, room, err)
	}
	return res
}

// TestServer drives the chat over the raw Engine.IO polling transport, as a
// browser without WebSocket would: handshake auth, acks, broadcasts.
func TestServer(t *testing.T) {
	ts := startServer(t)

	bad := dialPolling(t, ts.URL, `{"nickname":"bad name"}`)
	if p := bad.waitFor("44"); !strings.Contains(p, errNicknameInvalid.Error()) {
		t.Errorf("connect with a bad nickname: %s", p)
	}

	ann := dialPolling(t, ts.URL, `{"nickname":"ann"}`)
	ann.waitFor("40")
	if p := ann.waitFor(`42["welcome"`); !strings.Contains(p, `"nickname":"ann"`) {
		t.Errorf("welcome = %s", p)
	}
	ann.send(`421["join","go"]`)
	var reply []JoinReply
	ann.decode(ann.waitFor("431"), &reply)
	if len(reply) != 1 || reply[0].Room != "go" || len(reply[0].History) != 0 {
		t.Fatalf("join reply = %+v", reply)
	}
	ann.send(`422["message","first!"]`)
	var sent []SendReply
	ann.decode(ann.waitFor("432"), &sent)
	if len(sent) != 1 || sent[0].ID == 0 || sent[0].Error != "" {
		t.Fatalf("message ack = %+v", sent)
	}

	dup := dialPolling(t, ts.URL, `{"nickname":"ANN"}`)
	if p := dup.waitFor("44"); !strings.Contains(p, errNicknameTaken.Error()) {
		t.Errorf("connect with a taken nickname: %s", p)
	}

	bo := dialPolling(t, ts.URL, `{"nickname":"bo"}`)
	bo.waitFor("40")
	bo.send(`421["join","#go"]`)
	bo.decode(bo.waitFor("431"), &reply)
	if len(reply) != 1 || len(reply[0].History) != 1 || reply[0].History[0].Text != "first!" {
		t.Fatalf("late joiner's history = %+v", reply)
	}
	if p := ann.waitFor(`42["notice"`); !strings.Contains(p, `"kind":"joined","nickname":"bo"`) {
		t.Errorf("notice = %s", p)
	}
	// Typing notices are volatile: poll while bo types, until one lands.
	for !ann.has(`42["typing"`) {
		ann.pollUntil(func() { bo.send(`42["typing",true]`) })
	}
	if p := ann.waitFor(`42["typing"`); p != `42["typing",{"nickname":"bo","typing":true}]` {
		t.Errorf("typing = %s", p)
	}
	bo.send(`422["message","hi ann"]`)
	if p := ann.waitFor(`42["message"`); !strings.Contains(p, `"from":"bo","text":"hi ann"`) {
		t.Errorf("message = %s", p)
	}
	bo.close()
	if p := ann.waitFor(`42["notice"`); !strings.Contains(p, `"kind":"left","nickname":"bo"`) {
		t.Errorf("notice = %s", p)
	}
	if p := ann.waitFor(`42["online"`); p != `42["online",1]` {
		t.Errorf("online = %s", p)
	}
}

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	a, err := newApp("testdata/missing.js", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.sio.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts
}

// pollingClient speaks Engine.IO v4 long-polling, one request at a time.
type pollingClient struct {
	t       *testing.T
	url     string
	pending []string // messages received, not yet read
}

func dialPolling(t *testing.T, base, auth string) *pollingClient {
	t.Helper()
	c := &pollingClient{t: t, url: base + "/socket.io/?EIO=4&transport=polling"}
	open := c.request(http.MethodGet, "")
	var hs struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil {
		t.Fatalf("handshake: %q", open)
	}
	c.url += "&sid=" + hs.SID
	c.send("40" + auth)
	return c
}

func (c *pollingClient) request(method, body string) string {
	c.t.Helper()
	payload, err := c.tryRequest(method, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return payload
}

func (c *pollingClient) tryRequest(method, body string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d: %s", method, res.StatusCode, b)
	}
	return string(b), err
}

// send sends one Engine.IO message: "4" and a Socket.IO packet.
func (c *pollingClient) send(packet string) {
	c.t.Helper()
	c.request(http.MethodPost, packet)
}

// close ends the session as a closing browser tab does.
func (c *pollingClient) close() {
	c.t.Helper()
	c.request(http.MethodPost, "1")
}

// waitFor returns the next message carrying a Socket.IO packet ("4...")
// that starts with prefix, skipping others and answering pings.
func (c *pollingClient) waitFor(prefix string) string {
	c.t.Helper()
	for {
		for len(c.pending) > 0 {
			p := c.pending[0]
			c.pending = c.pending[1:]
			if strings.HasPrefix(p, prefix) {
				return p
			}
		}
		c.receive(c.request(http.MethodGet, ""))
	}
}

func (c *pollingClient) receive(payload string) {
	c.t.Helper()
	for _, m := range strings.Split(payload, "\x1e") {
		switch {
		case m == "2":
			c.request(http.MethodPost, "3")
		case strings.HasPrefix(m, "4"):
			c.pending = append(c.pending, m)
		}
	}
}

// has reports whether a message starting with prefix was received and not yet read.
func (c *pollingClient) has(prefix string) bool {
	for _, p := range c.pending {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// pollUntil keeps a poll request waiting while it calls fn every 50 ms,
// until the poll returns: volatile packets reach a polling client only
// while its poll waits.
func (c *pollingClient) pollUntil(fn func()) {
	c.t.Helper()
	type result struct {
		payload string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		p, err := c.tryRequest(http.MethodGet, "")
		done <- result{p, err}
	}()
	for {
		fn()
		select {
		case r := <-done:
			if r.err != nil {
				c.t.Fatal(r.err)
			}
			c.receive(r.payload)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// decode decodes the arguments of an ack packet such as 431[...].
func (c *pollingClient) decode(packet string, v any) {
	c.t.Helper()
	i := strings.IndexByte(packet, '[')
	if i < 0 || json.Unmarshal([]byte(packet[i:]), v) != nil {
		c.t.Fatalf("cannot decode %q into %T", packet, v)
	}
}
