package clusterproto

import (
	"context"
	"sync"
	"time"

	socketio "github.com/socketio-go/socketio"
)

// Pending holds what a node awaits from the others: the answers to its
// requests (fetchSockets, serverSideEmit with acknowledgements) and the
// client counts and acknowledgements of its broadcasts. Every cluster
// adapter has one, whatever its messages look like. It is safe for
// concurrent use; its zero value is ready.
type Pending struct {
	mu       sync.Mutex
	requests map[string]*Request
	acks     map[string]*AckRequest
}

// Request is a request of this node awaiting answers: Expected of them,
// or, when Missing is not nil, one from each node in it. An answer adds to
// Sockets or Responses (see Pending.Answer).
type Request struct {
	Type      int
	Expected  int
	Missing   map[string]struct{}
	Sockets   []*socketio.RemoteSocket
	Responses []socketio.Args

	current int
	done    chan struct{}
}

// NewRequest returns a request of type typ awaiting expected answers, or
// one from each node in missing when it is not nil.
func NewRequest(typ, expected int, missing map[string]struct{}) *Request {
	return &Request{Type: typ, Expected: expected, Missing: missing, done: make(chan struct{})}
}

// AckRequest is a broadcast with acknowledgements awaiting the other
// nodes' client counts and acknowledgements.
type AckRequest struct {
	ClientCount func(int)
	Ack         func(socketio.Args)
	timer       *time.Timer
}

// Has reports whether the request id is still awaited.
func (p *Pending) Has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.requests[id]
	return ok
}

// Await registers req as id, calls publish, and waits until every answer
// came (nil), timeout passed (socketio.ErrTimeout) or ctx is done (its
// error). Afterwards req's Sockets and Responses hold what came; answers
// that come later are not added.
func (p *Pending) Await(ctx context.Context, id string, req *Request, timeout time.Duration, publish func()) error {
	p.mu.Lock()
	if p.requests == nil {
		p.requests = map[string]*Request{}
	}
	p.requests[id] = req
	p.mu.Unlock()
	publish()
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-req.done:
		return nil
	case <-t.C:
		err = socketio.ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-req.done:
		return nil
	default:
	}
	delete(p.requests, id)
	// Copy what came, as late answers must not race with the caller.
	req.Sockets = append([]*socketio.RemoteSocket(nil), req.Sockets...)
	req.Responses = append([]socketio.Args(nil), req.Responses...)
	return err
}

// Answer hands an answer from the node from to the request id, if it is
// awaited (and awaits from, when it names the nodes it awaits): add, called
// with the request locked, adds the answer's content and reports whether
// the answer fits the request. The request ends when it has every answer.
func (p *Pending) Answer(id, from string, add func(req *Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := p.requests[id]
	if req == nil {
		return
	}
	if req.Missing != nil {
		if _, ok := req.Missing[from]; !ok {
			return // not awaited, or already answered
		}
	}
	if !add(req) {
		return
	}
	req.current++
	if req.Missing != nil {
		delete(req.Missing, from)
	}
	p.completeLocked(id, req)
}

// completeLocked ends a request that has every answer it waits for.
func (p *Pending) completeLocked(id string, req *Request) {
	if (req.Missing != nil && len(req.Missing) == 0) || (req.Missing == nil && req.current >= req.Expected) {
		delete(p.requests, id)
		close(req.done)
	}
}

// NodeGone ends the wait for uid's answers: a node that left the cluster
// will not answer.
func (p *Pending) NodeGone(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, req := range p.requests {
		if req.Missing == nil {
			continue
		}
		if _, ok := req.Missing[uid]; ok {
			delete(req.Missing, uid)
			p.completeLocked(id, req)
		}
	}
}

// AddAck registers the broadcast id for wait, or AckCleanup when wait is
// not positive.
func (p *Pending) AddAck(id string, clientCount func(int), ack func(socketio.Args), wait time.Duration) {
	if wait <= 0 {
		wait = AckCleanup
	}
	ar := &AckRequest{ClientCount: clientCount, Ack: ack}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.acks == nil {
		p.acks = map[string]*AckRequest{}
	}
	p.acks[id] = ar
	ar.timer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		delete(p.acks, id)
		p.mu.Unlock()
	})
}

// AckFor returns the broadcast id's AckRequest, or nil when it is not
// awaited (any more).
func (p *Pending) AckFor(id string) *AckRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acks[id]
}

// Close stops waiting for the acknowledgements of broadcasts.
func (p *Pending) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, ar := range p.acks {
		ar.timer.Stop()
		delete(p.acks, id)
	}
}

// ServerSideEvent reads a server-side emit's packet, [event, args...].
func ServerSideEvent(packet []any) (event string, args socketio.Args, ok bool) {
	if len(packet) == 0 {
		return "", socketio.Args{}, false
	}
	if event, ok = packet[0].(string); !ok {
		return "", socketio.Args{}, false
	}
	args, err := ArgsOf(packet[1:])
	return event, args, err == nil
}

// OnceAck returns the acknowledgement function of a server-side emit from
// another node: its first call sends the first argument it is given (the
// answer has one, as in socket.io), later calls nothing.
func OnceAck(send func(arg any)) func(args ...any) {
	var once sync.Once
	return func(args ...any) {
		once.Do(func() {
			var arg any
			if list, err := ValuesOf(args); err == nil && len(list) > 0 {
				arg = list[0]
			}
			send(arg)
		})
	}
}
