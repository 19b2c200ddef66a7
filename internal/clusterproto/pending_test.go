package clusterproto

import (
	"context"
	"errors"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// answer answers the request id from each node in from, one after the
// other.
func answer(p *Pending, id string, from ...string) {
	for _, f := range from {
		p.Answer(id, f, func(r *Request) bool {
			r.Responses = append(r.Responses, socketio.Args{})
			return true
		})
	}
}

func TestPendingExpected(t *testing.T) {
	var p Pending
	req := NewRequest(1, 2, nil)
	publish := func() {
		go func() {
			// An answer that does not fit the request does not count.
			p.Answer("a", "", func(*Request) bool { return false })
			p.Answer("b", "", func(*Request) bool { t.Error("answer to another request"); return true })
			answer(&p, "a", "", "")
		}()
	}
	if err := p.Await(context.Background(), "a", req, 5*time.Second, publish); err != nil {
		t.Fatal(err)
	}
	if len(req.Responses) != 2 || p.Has("a") {
		t.Errorf("%d responses, still awaited: %v", len(req.Responses), p.Has("a"))
	}
}

func TestPendingMissing(t *testing.T) {
	var p Pending
	req := NewRequest(1, 0, map[string]struct{}{"n1": {}, "n2": {}, "n3": {}})
	// n1 twice and a stranger count once; n3 leaves the cluster.
	publish := func() {
		go func() {
			answer(&p, "a", "n1", "n1", "stranger", "n2")
			p.NodeGone("n3")
		}()
	}
	if err := p.Await(context.Background(), "a", req, 5*time.Second, publish); err != nil {
		t.Fatal(err)
	}
	if len(req.Responses) != 2 {
		t.Errorf("%d responses, want 2", len(req.Responses))
	}
}

func TestPendingTimeoutAndCancel(t *testing.T) {
	var p Pending
	req := NewRequest(1, 3, nil)
	start := time.Now()
	err := p.Await(context.Background(), "a", req, 100*time.Millisecond, func() { answer(&p, "a", "") })
	if !errors.Is(err, socketio.ErrTimeout) || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	// Late answers go nowhere.
	p.Answer("a", "", func(*Request) bool { t.Error("answer after the timeout"); return true })
	if len(req.Responses) != 1 || p.Has("a") {
		t.Errorf("%d responses, still awaited: %v", len(req.Responses), p.Has("a"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	err = p.Await(ctx, "b", NewRequest(1, 1, nil), 5*time.Second, cancel)
	if !errors.Is(err, context.Canceled) || p.Has("b") {
		t.Errorf("err %v, still awaited: %v", err, p.Has("b"))
	}
}

func TestPendingAcks(t *testing.T) {
	var p Pending
	counts := 0
	p.AddAck("x", func(n int) { counts += n }, func(socketio.Args) {}, 50*time.Millisecond)
	p.AddAck("y", func(int) {}, func(socketio.Args) {}, 0) // AckCleanup
	if ar := p.AckFor("x"); ar == nil {
		t.Fatal("x not awaited")
	} else {
		ar.ClientCount(2)
	}
	if counts != 2 {
		t.Errorf("client count %d", counts)
	}
	time.Sleep(150 * time.Millisecond)
	if p.AckFor("x") != nil {
		t.Error("x still awaited after its wait")
	}
	if p.AckFor("y") == nil {
		t.Error("y gone before AckCleanup")
	}
	p.Close()
	if p.AckFor("y") != nil {
		t.Error("y awaited after Close")
	}
}

func TestServerSideEventAndOnceAck(t *testing.T) {
	if _, _, ok := ServerSideEvent(nil); ok {
		t.Error("empty packet read")
	}
	if _, _, ok := ServerSideEvent([]any{int64(1)}); ok {
		t.Error("packet without an event name read")
	}
	event, args, ok := ServerSideEvent([]any{"e", "a", int64(2)})
	if !ok || event != "e" || args.Len() != 2 {
		t.Fatalf("%q %d %v", event, args.Len(), ok)
	}
	var sent []any
	ack := OnceAck(func(arg any) { sent = append(sent, arg) })
	ack("first", "dropped")
	ack("second")
	if len(sent) != 1 || sent[0] != "first" {
		t.Errorf("sent %v", sent)
	}
	OnceAck(func(arg any) { sent = append(sent, arg) })()
	if len(sent) != 2 || sent[1] != nil {
		t.Errorf("no argument: sent %v", sent)
	}
}
