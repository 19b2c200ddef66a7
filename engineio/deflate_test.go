package engineio_test

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/socketio-go/socketio/engineio"
)

// PerMessageDeflate: negotiated only when enabled and offered; large
// messages are deflated, NoCompress ones are not, and compressed client
// messages are inflated.
func TestPerMessageDeflate(t *testing.T) {
	big := strings.Repeat("deflate me please ", 200)
	inflate := func(p []byte) string {
		b, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff}))))
		if err != nil && err != io.ErrUnexpectedEOF {
			t.Fatal(err)
		}
		return string(b)
	}

	h := newHarness(t, &engineio.Options{PerMessageDeflate: true})
	c := h.mustDialWS("EIO=4&transport=websocket", "Sec-WebSocket-Extensions: permessage-deflate")
	if got := c.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, "permessage-deflate") {
		t.Fatalf("extension not negotiated: %q", got)
	}
	op, p := c.read()
	if op != opText || !strings.HasPrefix(string(p), "0{") {
		t.Fatalf("open packet %q", p)
	}
	var open struct{ SID string }
	if err := json.Unmarshal(p[1:], &open); err != nil {
		t.Fatal(err)
	}
	sess := h.rec(open.SID).sess
	sess.Send(engineio.Message{Data: []byte(big)})
	sess.Send(engineio.Message{Data: []byte(big), NoCompress: true})
	b0, payload, err := c.readFrame()
	if err != nil || b0&0x40 == 0 {
		t.Fatalf("large message not deflated (b0 %x, err %v)", b0, err)
	}
	if got := inflate(payload); got != "4"+big {
		t.Fatalf("inflated %d bytes, want %d", len(got), len(big)+1)
	}
	b0, payload, err = c.readFrame()
	if err != nil || b0&0x40 != 0 || string(payload) != "4"+big {
		t.Fatalf("NoCompress message: b0 %x err %v", b0, err)
	}

	// Off (the default): not negotiated even when offered.
	h2 := newHarness(t, nil)
	c2 := h2.mustDialWS("EIO=4&transport=websocket", "Sec-WebSocket-Extensions: permessage-deflate")
	if got := c2.resp.Header.Get("Sec-WebSocket-Extensions"); got != "" {
		t.Fatalf("negotiated while off: %q", got)
	}
	if c2.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatal("handshake failed")
	}
}
