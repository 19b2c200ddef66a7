package engineio_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

func TestWebSocketMessages(t *testing.T) {
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	rec := h.rec(sid)

	c.sendText("4hello")
	if m := rec.nextMsg(t); string(m.Data) != "hello" || m.Binary {
		t.Errorf("message %q binary=%v", m.Data, m.Binary)
	}
	if got := c.readText(); got != "4hello" {
		t.Errorf("echo %q", got)
	}
	c.sendBinary([]byte{0, 1, 0xff})
	if m := rec.nextMsg(t); !bytes.Equal(m.Data, []byte{0, 1, 0xff}) || !m.Binary {
		t.Errorf("message %q binary=%v", m.Data, m.Binary)
	}
	if op, p := c.read(); op != opBinary || !bytes.Equal(p, []byte{0, 1, 0xff}) {
		t.Errorf("binary echo: op %d %q", op, p)
	}
	// A WebSocket ping frame is answered with a pong frame, not taken for an
	// Engine.IO packet.
	c.write(frame(0x80|opPing, []byte("hb"), true))
	if b0, p, err := c.readFrame(); err != nil || b0&0x0f != opPong || string(p) != "hb" {
		t.Errorf("ping frame answer: %x %q %v", b0, p, err)
	}
	p := engineio.NewPreparedMessage(engineio.Message{Data: []byte("shared")})
	pb := engineio.NewPreparedMessage(engineio.Message{Data: []byte{9}, Binary: true})
	rec.sess.SendPrepared(p, pb)
	if got := c.readText(); got != "4shared" {
		t.Errorf("prepared %q", got)
	}
	if op, data := c.read(); op != opBinary || !bytes.Equal(data, []byte{9}) {
		t.Errorf("prepared binary: op %d %q", op, data)
	}
}

func TestWebSocketClientClose(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name  string
		close func(c *wsClient)
	}{
		{"close packet", func(c *wsClient) { c.sendText("1") }},
		{"close frame", func(c *wsClient) { c.write(frame(0x80|opClose, binary.BigEndian.AppendUint16(nil, 1000), true)) }},
		{"empty close frame", func(c *wsClient) { c.write(frame(0x80|opClose, nil, true)) }},
		{"going away", func(c *wsClient) { c.write(frame(0x80|opClose, binary.BigEndian.AppendUint16(nil, 1001), true)) }},
		{"TCP close", func(c *wsClient) { c.conn.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sid := h.wsHandshake()
			tc.close(c)
			if reason := h.rec(sid).waitClosed(t); reason != "transport close" {
				t.Errorf("reason %q", reason)
			}
		})
	}
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestWebSocketServerClose(t *testing.T) {
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	rec := h.rec(sid)
	rec.sess.Send(engineio.Message{Data: []byte("a")}, engineio.Message{Data: []byte("b")})
	rec.sess.Send(engineio.Message{Data: []byte{1}, Binary: true})
	rec.sess.Close()
	if got := c.readText(); got != "4a" {
		t.Errorf("first %q", got)
	}
	if got := c.readText(); got != "4b" {
		t.Errorf("second %q", got)
	}
	if op, p := c.read(); op != opBinary || !bytes.Equal(p, []byte{1}) {
		t.Errorf("third: op %d %q", op, p)
	}
	if op, p := c.read(); op != opClose || (len(p) >= 2 && binary.BigEndian.Uint16(p) != 1000) {
		t.Errorf("want a normal close frame, got op %d %q", op, p)
	}
	if reason := rec.waitClosed(t); reason != "forced close" {
		t.Errorf("reason %q", reason)
	}
}

func TestWebSocketMessageTooBig(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxHTTPBufferSize: 1000})
	healthy, _ := h.wsHandshake()
	c, sid := h.wsHandshake()
	c.sendText("4" + strings.Repeat("a", 999)) // at the limit
	if got := c.readText(); len(got) != 1000 {
		t.Errorf("echo of %d bytes", len(got))
	}
	c.sendText("4" + strings.Repeat("a", 1000))
	c.expectEnd()
	if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
		t.Errorf("reason %q", reason)
	}
	healthy.echoRoundTrip("still here")
}

// TestGetOvertakingUpgrade is the official suite's "should ignore HTTP
// requests with same sid after upgrade": the client sends the upgrade packet
// on the WebSocket, then a GET at once. Whichever the server reads first, the
// GET is answered as one after the upgrade, with 400.
func TestGetOvertakingUpgrade(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 5; i++ {
		sid, _ := h.handshake()
		c := h.probe(sid, h.pendingGet(sid))
		get := h.getAsync(context.Background(), sid)
		time.Sleep(time.Duration(i) * 10 * time.Millisecond) // the GET first, in most rounds
		c.sendText("5")
		if r := waitResp(t, get); r.status != 400 || r.body != errorBody(3, "Bad request") {
			t.Errorf("round %d: GET racing the upgrade packet: %d %q", i, r.status, r.body)
		}
		c.echoRoundTrip("upgraded")
	}
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, nil)
	sid, open := h.handshake()
	if mustJSON(open["upgrades"]) != `["websocket"]` {
		t.Fatalf("upgrades %v", open["upgrades"])
	}
	rec := h.rec(sid)
	// The pending GET is released with a noop once the probe succeeded...
	c := h.probe(sid, h.pendingGet(sid))
	// ...and so is a GET sent during the upgrade, once it has waited a
	// little for an upgrade packet that it might have overtaken.
	start := time.Now()
	if r := h.get(sid); r.status != 200 || r.body != "6" {
		t.Errorf("GET during upgrade: %d %q", r.status, r.body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("GET during upgrade took %v", d)
	}
	if tr := rec.sess.Transport(); tr != "polling" {
		t.Errorf("Transport() before upgrade = %q", tr)
	}
	c.sendText("5")
	select {
	case tr := <-rec.upgraded:
		if tr != "websocket" {
			t.Errorf("OnUpgrade(%q)", tr)
		}
	case <-time.After(waitTimeout):
		t.Fatal("OnUpgrade not called")
	}
	if tr := rec.sess.Transport(); tr != "websocket" {
		t.Errorf("Transport() = %q", tr)
	}
	c.echoRoundTrip("over websocket")

	// Polling requests with the sid are refused now.
	if r := h.get(sid); r.status != 400 || r.body != errorBody(3, "Bad request") {
		t.Errorf("GET after upgrade: %d %q", r.status, r.body)
	}
	if r := h.post(sid, "4x"); r.status != 400 || r.body != errorBody(3, "Bad request") {
		t.Errorf("POST after upgrade: %d %q", r.status, r.body)
	}
	// A second WebSocket opens and is closed at once; the first carries on.
	c2 := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
	if !c2.expectEnd() {
		t.Error("second websocket: no close frame")
	}
	c.echoRoundTrip("still upgraded")
	if rec.isClosed() {
		t.Fatalf("session closed: %s", rec.reason)
	}
	if len(rec.msgs) != 2 {
		t.Errorf("%d messages delivered, want 2", len(rec.msgs))
	}
}

func TestUpgradeDeliversQueuedMessagesOnce(t *testing.T) {
	h := newHarness(t, nil, harnessConfig{noEcho: true})
	sid, _ := h.handshake()
	sess := h.rec(sid).sess
	var got []string
	collect := func(payload string) {
		for _, p := range strings.Split(payload, "\x1e") {
			if p != "6" && p != "" {
				got = append(got, p)
			}
		}
	}
	sess.Send(engineio.Message{Data: []byte("m1")})
	c := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	sess.Send(engineio.Message{Data: []byte("m2")})
	// A GET during the upgrade may carry what is queued.
	collect(h.get(sid).body)
	sess.Send(engineio.Message{Data: []byte("m3")})
	sess.Send(engineio.Message{Data: []byte("m4")}, engineio.Message{Data: []byte("m5")})
	c.sendText("5")
	<-h.rec(sid).upgraded
	for i := 6; i <= 8; i++ {
		sess.Send(engineio.Message{Data: []byte{'m', byte('0' + i)}})
	}
	for len(got) < 8 {
		collect(c.readText())
	}
	if strings.Join(got, ",") != "4m1,4m2,4m3,4m4,4m5,4m6,4m7,4m8" {
		t.Errorf("delivered %q", got)
	}
}

func TestUpgradeTimeout(t *testing.T) {
	h := newHarness(t, &engineio.Options{UpgradeTimeout: 100 * time.Millisecond})
	sid, _ := h.handshake()
	rec := h.rec(sid)
	c := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	start := time.Now()
	c.expectEnd() // never sent "5": the server drops the WebSocket
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v", d)
	}
	waitFor(t, "probe abandoned", func() bool { return !engineio.Upgrading(rec.sess) })
	if rec.isClosed() {
		t.Fatalf("session closed: %s", rec.reason)
	}
	if tr := rec.sess.Transport(); tr != "polling" {
		t.Errorf("Transport() = %q", tr)
	}
	h.echoRoundTrip(sid)
	// (A retried upgrade is tested in TestUpgradeBadProbe, with a timeout
	// that a loaded machine cannot hit.)
}

func TestUpgradeBadProbe(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name string
		send func(c *wsClient)
	}{
		{"wrong probe", func(c *wsClient) { c.sendText("2notprobe") }},
		{"message before probe", func(c *wsClient) { c.sendText("4hi") }},
		{"upgrade then junk", func(c *wsClient) { c.write([]byte("junk\r\n\r\n")) }},
		{"TCP close", func(c *wsClient) { c.conn.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid, _ := h.handshake()
			c := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
			tc.send(c)
			if tc.name != "TCP close" {
				c.expectEnd()
			}
			rec := h.rec(sid)
			waitFor(t, "probe connection gone", func() bool { return !engineio.Upgrading(rec.sess) })
			h.echoRoundTrip(sid)
			if rec.isClosed() {
				t.Errorf("session closed: %s", rec.reason)
			}
			// The upgrade can be retried.
			h.upgrade(sid).echoRoundTrip("ok")
		})
	}
}

func TestUpgradeDuringServerClose(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	rec := h.rec(sid)
	c := h.mustDialWS("EIO=4&transport=websocket&sid=" + sid)
	c.sendText("2probe")
	c.readText()
	rec.sess.Close()
	c.expectEnd()
	if r := h.get(sid); r.body != "1" {
		t.Errorf("GET: %q", r.body)
	}
	if reason := rec.waitClosed(t); reason != "forced close" {
		t.Errorf("reason %q", reason)
	}
}

func TestUpgradeDisabled(t *testing.T) {
	h := newHarness(t, &engineio.Options{DisableUpgrades: true})
	sid, _ := h.handshake()
	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if c.resp.StatusCode != 400 {
		t.Errorf("status %d", c.resp.StatusCode)
	}
	h.echoRoundTrip(sid)
}

func TestHeartbeatPolling(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 500 * time.Millisecond
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: timeout})

	t.Run("pongs keep it alive", func(t *testing.T) {
		start := time.Now()
		sid, _ := h.handshake()
		pings := 0
		for time.Since(start) < 2*(interval+timeout) {
			r := h.get(sid)
			if r.body != "2" {
				t.Fatalf("GET %d %q after %d pings", r.status, r.body, pings)
			}
			pings++
			if r := h.post(sid, "3"); r.status != 200 {
				t.Fatalf("pong: %d", r.status)
			}
		}
		if pings < 3 {
			t.Errorf("%d pings", pings)
		}
		if rec := h.rec(sid); rec.isClosed() {
			t.Fatalf("closed: %s", rec.reason)
		}
		h.echoRoundTrip(sid)
	})

	t.Run("no pong", func(t *testing.T) {
		start := time.Now()
		sid, _ := h.handshake()
		reason := h.rec(sid).waitClosed(t)
		if reason != "ping timeout" {
			t.Errorf("reason %q", reason)
		}
		if d := time.Since(start); d < interval+timeout {
			t.Errorf("closed after %v, before pingInterval+pingTimeout", d)
		}
		// The ping was queued although no GET came; the close follows it.
		if r := h.get(sid); r.status != 400 {
			t.Errorf("GET after timeout: %d %q", r.status, r.body)
		}
	})

	t.Run("pending GET gets ping", func(t *testing.T) {
		sid, _ := h.handshake()
		start := time.Now()
		r := waitResp(t, h.getAsync(context.Background(), sid))
		if r.body != "2" || time.Since(start) > waitTimeout/2 {
			t.Errorf("GET %q", r.body)
		}
		h.post(sid, "3")
	})

	t.Run("ping from client", func(t *testing.T) {
		sid, _ := h.handshake()
		h.post(sid, "2")
		if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
			t.Errorf("reason %q", reason)
		}
	})
}

func TestHeartbeatWebSocket(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 500 * time.Millisecond
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: timeout})

	t.Run("pongs keep it alive", func(t *testing.T) {
		start := time.Now()
		c, sid := h.wsHandshake()
		pings := 0
		for time.Since(start) < 2*(interval+timeout) {
			if got := c.readText(); got != "2" {
				t.Fatalf("got %q after %d pings", got, pings)
			}
			pings++
			c.sendText("3")
		}
		if rec := h.rec(sid); rec.isClosed() {
			t.Fatalf("closed: %s", rec.reason)
		}
		c.sendText("4x")
		for {
			got := c.readText()
			if got == "2" {
				c.sendText("3")
				continue
			}
			if got != "4x" {
				t.Errorf("echo %q", got)
			}
			break
		}
	})

	t.Run("no pong", func(t *testing.T) {
		start := time.Now()
		c, sid := h.wsHandshake()
		if got := c.readText(); got != "2" {
			t.Errorf("got %q", got)
		}
		if reason := h.rec(sid).waitClosed(t); reason != "ping timeout" {
			t.Errorf("reason %q", reason)
		}
		if d := time.Since(start); d < interval+timeout {
			t.Errorf("closed after %v", d)
		}
		c.expectEnd()
	})

	t.Run("ping from client", func(t *testing.T) {
		c, sid := h.wsHandshake()
		c.sendText("2")
		if reason := h.rec(sid).waitClosed(t); reason != "transport error" {
			t.Errorf("reason %q", reason)
		}
		c.expectEnd()
	})
}

func TestSlowConsumer(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxBufferedBytes: 64 << 10, WriteTimeout: 200 * time.Millisecond})
	healthy, _ := h.wsHandshake()
	pollHealthy, _ := h.handshake()
	_, sid := h.wsHandshake() // never reads
	rec := h.rec(sid)
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	deadline := time.Now().Add(waitTimeout)
	var err error
	sent := 0
	for err == nil && time.Now().Before(deadline) {
		err = rec.sess.Send(engineio.Message{Data: chunk})
		sent++
		if err == nil && sent%64 == 0 {
			time.Sleep(time.Millisecond) // let the writer run
		}
	}
	if !errors.Is(err, engineio.ErrSlowConsumer) && !errors.Is(err, engineio.ErrClosed) {
		t.Fatalf("Send kept succeeding (%d sends): %v", sent, err)
	}
	if reason := rec.waitClosed(t); reason != "transport error" {
		t.Errorf("reason %q", reason)
	}
	healthy.echoRoundTrip("fine")
	h.echoRoundTrip(pollHealthy)

	// Polling: the queue cap holds while no GET drains it.
	sid2, _ := h.handshake()
	rec2 := h.rec(sid2)
	err = nil
	for i := 0; i < 10 && err == nil; i++ {
		err = rec2.sess.Send(engineio.Message{Data: chunk})
	}
	if !errors.Is(err, engineio.ErrSlowConsumer) {
		t.Errorf("polling Send: %v", err)
	}
	if reason := rec2.waitClosed(t); reason != "transport error" {
		t.Errorf("polling reason %q", reason)
	}
}

func TestGoroutinesEnd(t *testing.T) {
	h := newHarness(t, nil)
	for range 5 {
		sid, _ := h.handshake()
		h.upgrade(sid).sendText("1")
		h.rec(sid).waitClosed(t)
		c, wsSID := h.wsHandshake()
		c.sendText("1")
		h.rec(wsSID).waitClosed(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
