package engineio_test

import (
	"net/http/httptest"
	"testing"

	"github.com/socketio-go/socketio/engineio"
)

// A session closed while OnConnection runs still reports its close, once, to
// an OnClose handler set afterwards.
func TestOnCloseAfterClose(t *testing.T) {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *engineio.Session) {
		srv.Close() // closes this session before its handlers are set
		s.OnClose(func(reason string, _ error) { reasons <- reason })
		s.OnClose(func(reason string, _ error) { reasons <- "again: " + reason })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	res, err := hs.Client().Get(hs.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := <-reasons; got != engineio.ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
	select {
	case got := <-reasons:
		t.Fatalf("close reported twice: %q", got)
	default:
	}
}
