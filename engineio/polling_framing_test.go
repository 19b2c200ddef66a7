package engineio_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/socketio-go/socketio/engineio"
)

// Polling responses carry a Content-Length, as Node's do, whether the server
// sets it (large payloads) or net/http does (small ones, see autoLengthMax);
// compressed ones are left to net/http.
func TestPollingResponseFraming(t *testing.T) {
	h := newHarness(t, nil, harnessConfig{noEcho: true})
	sid, _ := h.handshake()
	rec := h.rec(sid)

	do := func(method, body, acceptEncoding string) (*http.Response, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		var rd io.Reader
		if method == http.MethodPost {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, h.url+"EIO=4&transport=polling&sid="+sid, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := h.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	checkLength := func(what string, resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != 200 || len(resp.TransferEncoding) > 0 || resp.ContentLength != int64(len(body)) ||
			resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s: status %d, Transfer-Encoding %v, Content-Length %q for %d bytes", what,
				resp.StatusCode, resp.TransferEncoding, resp.Header.Get("Content-Length"), len(body))
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", what, resp.Header.Get("Cache-Control"))
		}
	}

	resp, body := do(http.MethodPost, "4x", "identity")
	checkLength("POST", resp, body)
	if body != "ok" || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("POST: %q, Content-Type %q", body, resp.Header.Get("Content-Type"))
	}
	rec.nextMsg(t)

	for _, size := range []int{1, 1023, 1024, 1025, 2047, 2048, 2049, 5000, 70000} {
		_ = rec.sess.Send(engineio.Message{Data: []byte(strings.Repeat("a", size-1))}) // "4" + data
		resp, body := do(http.MethodGet, "", "identity")
		checkLength("GET of "+strconv.Itoa(size)+" bytes", resp, body)
		if len(body) != size || resp.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
			t.Errorf("GET: %d bytes, Content-Type %q; want %d", len(body), resp.Header.Get("Content-Type"), size)
		}
	}

	// Compressed (the framing is net/http's, as before).
	_ = rec.sess.Send(engineio.Message{Data: []byte(strings.Repeat("a", 5000))})
	if resp, _ = do(http.MethodGet, "", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("compressed GET: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}
