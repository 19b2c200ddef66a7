package socketio

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/socketio-go/socketio/parser"
)

// Flags modify how a packet is sent.
type Flags struct {
	// Volatile drops the packet for clients not ready to receive it.
	Volatile bool
	// Compress, when set, overrides whether the packet may be compressed.
	Compress *bool
	// Local keeps a broadcast on this server (with a cluster adapter).
	Local bool
	// Timeout bounds the wait for acknowledgements.
	Timeout time.Duration
}

func (f Flags) noCompress() bool { return f.Compress != nil && !*f.Compress }

// BroadcastOptions select the sockets of a broadcast: those in any of Rooms
// (every socket when Rooms is empty) and in none of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// BroadcastOperator is an immutable selection of sockets to act on: every
// method that narrows it returns a new operator. It is safe for concurrent use.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  Flags
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = append([]string(nil), b.rooms...)
	c.except = append([]string(nil), b.except...)
	return &c
}

// To adds rooms to the selection.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets of rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Local keeps the broadcast on this server.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.flags.Local = true
	return c
}

// Volatile makes the events droppable for clients not ready to receive them.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.flags.Volatile = true
	return c
}

// Compress sets whether the events may be compressed.
func (b *BroadcastOperator) Compress(compress bool) *BroadcastOperator {
	c := b.clone()
	c.flags.Compress = &compress
	return c
}

// Timeout bounds the wait of EmitWithAck.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.flags.Timeout = d
	return c
}

func (b *BroadcastOperator) options() BroadcastOptions {
	return BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

func (b *BroadcastOperator) packet(event string, args []any) (*parser.Packet, error) {
	if isReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args)
	if err != nil {
		return nil, err
	}
	return &parser.Packet{Type: parser.Event, Namespace: b.nsp.name, Data: data, Attachments: atts}, nil
}

// Emit sends an event to the selected sockets. The packet is encoded once.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := b.packet(event, args)
	if err != nil {
		return err
	}
	return b.nsp.adapter.Broadcast(p, b.options())
}

// EmitWithAck sends an event to the selected sockets and gathers their
// acknowledgements. It returns when every client has answered, or with
// ErrTimeout (and the answers so far) when the Timeout or ctx's deadline
// passes first.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	p, err := b.packet(event, args)
	if err != nil {
		return nil, err
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	}
	servers, err := b.nsp.adapter.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	id := b.nsp.ackID.Add(1) - 1
	p.ID, p.HasID = id, true

	var (
		mu        sync.Mutex
		responses []Args
		expected  int
		answered  int
		done      = make(chan struct{})
		finished  bool
	)
	check := func() {
		if !finished && answered >= servers && len(responses) >= expected {
			finished = true
			close(done)
		}
	}
	err = b.nsp.adapter.BroadcastWithAck(p, b.options(),
		func(n int) {
			mu.Lock()
			expected += n
			answered++
			check()
			mu.Unlock()
		},
		func(a Args) {
			mu.Lock()
			responses = append(responses, a)
			check()
			mu.Unlock()
		})
	if err != nil {
		return nil, err
	}
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return responses, nil
	case <-ctx.Done():
		// The sockets that did not answer forget the ack, or their ack
		// maps would grow with every timed-out broadcast.
		b.nsp.forgetAck(id)
		mu.Lock()
		defer mu.Unlock()
		finished = true
		out := append([]Args(nil), responses...)
		if ctx.Err() == context.DeadlineExceeded {
			return out, ErrTimeout
		}
		return out, ctx.Err()
	}
}

// FetchSockets returns the selected sockets, on every server.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return b.nsp.adapter.FetchSockets(ctx, b.options())
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) {
	b.nsp.adapter.AddSockets(b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) {
	b.nsp.adapter.DelSockets(b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets; with close, their
// connections close too.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	b.nsp.adapter.DisconnectSockets(b.options(), close)
}

// RemoteSocket is a socket found by FetchSockets, possibly on another server.
// Its methods act through the adapter.
type RemoteSocket struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	Data      any

	nsp *Namespace
}

// NewRemoteSocket describes a socket of namespace nsp (for adapters).
func NewRemoteSocket(nsp *Namespace, id string, hs *Handshake, rooms []string, data any) *RemoteSocket {
	return &RemoteSocket{ID: id, Handshake: hs, Rooms: rooms, Data: data, nsp: nsp}
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.nsp.To(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.nsp.To(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket.
func (r *RemoteSocket) Disconnect(close bool) { r.nsp.To(r.ID).DisconnectSockets(close) }
