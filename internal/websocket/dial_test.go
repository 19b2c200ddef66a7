package websocket

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func TestDialEcho(t *testing.T) {
	s := newTestServer(t, nil, echo)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, wsURL(s.Server), &DialOptions{Header: http.Header{"X-Hello": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.StatusCode != 101 || resp.Header.Get("X-Test") != "yes" {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	for _, size := range []int{0, 1, 125, 126, 1000, 70000} {
		msg := bytes.Repeat([]byte{'a'}, size)
		if err := c.WriteMessage(Binary, msg); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage()
		if err != nil || typ != Binary || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: %v %v %d bytes", size, err, typ, len(got))
		}
	}
	// Prepared messages are re-encoded masked on a client connection.
	if err := c.WritePrepared(NewPreparedMessage(Text, []byte("prepared"))); err != nil {
		t.Fatal(err)
	}
	_ = c.Flush()
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "prepared" {
		t.Fatalf("prepared: %q %v", got, err)
	}
	if err := c.Close(StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if err := s.serverErr(t); !errors.As(err, &ce) || ce.Code != StatusNormalClosure {
		t.Fatalf("server saw %v", err)
	}
}

func TestDialServerClose(t *testing.T) {
	s := newTestServer(t, nil, func(c *Conn) error {
		_ = c.WriteMessage(Text, []byte("hi"))
		return c.Close(StatusGoingAway, "later")
	})
	c, _, err := Dial(context.Background(), wsURL(s.Server), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hi" {
		t.Fatalf("%q %v", msg, err)
	}
	var ce *CloseError
	if _, _, err := c.ReadMessage(); !errors.As(err, &ce) || ce.Code != StatusGoingAway || ce.Reason != "later" {
		t.Fatalf("got %v", err)
	}
	s.serverErr(t)
}

func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusForbidden)
	}))
	defer srv.Close()
	_, resp, err := Dial(context.Background(), wsURL(srv), nil)
	if !errors.Is(err, ErrBadHandshake) || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("err %v resp %v", err, resp)
	}
	if _, _, err := Dial(context.Background(), "ftp://x", nil); err == nil {
		t.Fatal("ftp accepted")
	}
}

func TestDialContextCancel(t *testing.T) {
	// A server that accepts TCP but never answers the handshake.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Dial(ctx, wsURL(srv), nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestDialTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, nil, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = echo(c)
	}))
	defer srv.Close()
	u := "wss" + strings.TrimPrefix(srv.URL, "https")
	// Not trusted by default: the certificate is verified.
	if _, _, err := Dial(context.Background(), u, nil); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	c, _, err := Dial(context.Background(), u, &DialOptions{TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.WriteMessage(Text, []byte("secure"))
	_ = c.Flush()
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "secure" {
		t.Fatalf("%q %v", msg, err)
	}
	_ = c.Close(StatusNormalClosure, "")
}

// A server that masks its frames breaks the protocol.
func TestDialMaskedServerFrame(t *testing.T) {
	s := newTestServer(t, nil, func(c *Conn) error {
		c.wmu.Lock()
		c.wbuf = appendMaskedFrame(nil, opText, false, []byte("x"))
		_ = c.flushLocked()
		c.wmu.Unlock()
		_, _, err := c.ReadMessage()
		return err
	})
	c, _, err := Dial(context.Background(), wsURL(s.Server), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var ce *CloseError
	if _, _, err := c.ReadMessage(); !errors.As(err, &ce) || ce.Code != StatusProtocolError {
		t.Fatalf("got %v", err)
	}
	s.serverErr(t)
}

// FuzzDialReadMessage feeds arbitrary bytes as the server's side of a client
// connection: a hostile server must not make the client panic or hang.
func FuzzDialReadMessage(f *testing.F) {
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0x01, 0x02, 'h', 'e', 0x80, 0x01, 'y'})
	f.Add([]byte{0x89, 0x00, 0x88, 0x02, 0x03, 0xe8})
	f.Add(appendMaskedFrame(nil, opText, false, []byte("masked")))
	f.Add([]byte{0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		mc := &memConn{r: bytes.NewReader(data), discard: true}
		c := newConn(mc, nil, Options{MaxMessageSize: 1 << 16}, false)
		c.client = true
		for i := 0; i <= len(data); i++ {
			if _, msg, err := c.ReadMessage(); err != nil {
				return
			} else if len(msg) > 1<<16 {
				t.Fatalf("message of %d bytes exceeds the limit", len(msg))
			}
		}
		t.Fatal("ReadMessage did not stop at the end of the input")
	})
}
