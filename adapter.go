package socketio

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/parser"
)

// Adapter keeps the rooms of a namespace and delivers broadcasts. The
// default, InMemoryAdapter, serves one server process; cluster adapters
// (Redis) share broadcasts and rooms between servers, speaking the
// protocol of socket.io's adapters. Implementations must be safe for
// concurrent use.
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of a local socket.
	SocketRooms(id string) []string
	// Sockets returns the ids of the local sockets in any of rooms (all when rooms is empty).
	Sockets(rooms []string) []string

	// Broadcast sends p to the selected sockets.
	Broadcast(p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck sends p (which has an ack id) to the selected sockets;
	// clientCount is called once per server with the number of sockets
	// reached there, ack with each acknowledgement.
	BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, clientCount func(n int), ack func(Args)) error
	// FetchSockets returns the selected sockets, on every server.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]*RemoteSocket, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the selected sockets.
	DisconnectSockets(opts BroadcastOptions, close bool)

	// ServerSideEmit sends an event to the other servers.
	ServerSideEmit(event string, args []any) error
	// ServerSideEmitWithAck sends an event to the other servers and gathers their answers.
	ServerSideEmitWithAck(ctx context.Context, event string, args []any) ([]Args, error)
	// OnServerSideEmit sets the handler of events from other servers.
	OnServerSideEmit(fn func(event string, args Args, ack func(args ...any)))
	// ServerCount returns the number of servers in the cluster.
	ServerCount(ctx context.Context) (int, error)

	// PersistSession keeps a disconnected socket's session for recovery.
	PersistSession(s *PersistedSession)
	// RestoreSession returns the session of pid with the packets missed since
	// offset, or nil when it cannot be recovered.
	RestoreSession(pid, offset string) (*PersistedSession, error)

	// Close releases the adapter's resources.
	Close() error
}

// PersistedSession is the state of a disconnected socket kept for
// connection state recovery.
type PersistedSession struct {
	SID   string
	PID   string
	Rooms []string
	Data  any
	// MissedPackets are the event packets the socket missed, in order.
	MissedPackets []*parser.Packet
}

// InMemoryAdapter is the default Adapter: rooms and broadcasts within one
// server process, and, with connection state recovery on, the sessions and
// packets needed to recover. Cluster adapters embed it for local delivery.
type InMemoryAdapter struct {
	nsp *Namespace

	mu    sync.RWMutex
	rooms map[string]strSet // room -> socket ids
	sids  map[string]strSet // socket id -> rooms

	recovery *RecoveryOptions
	recMu    sync.Mutex
	sessions map[string]*storedSession
	packets  []storedPacket
	prefix   string
	counter  uint64
}

type storedSession struct {
	s              *PersistedSession
	disconnectedAt time.Time
}

type storedPacket struct {
	id        string
	opts      BroadcastOptions
	packet    *parser.Packet
	emittedAt time.Time
}

// NewInMemoryAdapter returns the in-memory adapter of nsp.
func NewInMemoryAdapter(nsp *Namespace) Adapter { return newInMemoryAdapter(nsp) }

func newInMemoryAdapter(nsp *Namespace) *InMemoryAdapter {
	a := &InMemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]strSet),
		sids:  make(map[string]strSet),
	}
	if rec := nsp.srv.opts.ConnectionStateRecovery; rec != nil {
		a.recovery = rec
		a.sessions = make(map[string]*storedSession)
		a.prefix = newID()[:6] + "-"
	}
	return a
}

// AddAll implements Adapter.
func (a *InMemoryAdapter) AddAll(id string, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	for _, r := range rooms {
		mine = mine.add(r)
		a.rooms[r] = a.rooms[r].add(id)
	}
	a.sids[id] = mine
}

// Del implements Adapter.
func (a *InMemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine, ok := a.sids[id]; ok {
		a.sids[id] = mine.del(room)
	}
	a.delFromRoomLocked(id, room)
}

func (a *InMemoryAdapter) delFromRoomLocked(id, room string) {
	if members, ok := a.rooms[room]; ok {
		members = members.del(id)
		if members.len() == 0 {
			delete(a.rooms, room)
		} else {
			a.rooms[room] = members
		}
	}
}

// DelAll implements Adapter.
func (a *InMemoryAdapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	for _, r := range mine.few {
		a.delFromRoomLocked(id, r)
	}
	for r := range mine.many {
		a.delFromRoomLocked(id, r)
	}
	delete(a.sids, id)
}

// SocketRooms implements Adapter.
func (a *InMemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.sids[id]
	out := make([]string, 0, mine.len())
	out = append(out, mine.few...)
	for r := range mine.many {
		out = append(out, r)
	}
	return out
}

// Rooms returns every room of the namespace with its number of local sockets.
func (a *InMemoryAdapter) Rooms() map[string]int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make(map[string]int, len(a.rooms))
	for r, m := range a.rooms {
		out[r] = m.len()
	}
	return out
}

// Sockets implements Adapter.
func (a *InMemoryAdapter) Sockets(rooms []string) []string {
	targets := a.targets(BroadcastOptions{Rooms: rooms})
	out := make([]string, len(*targets))
	for i, s := range *targets {
		out[i] = s.id
	}
	putTargets(targets)
	return out
}

var targetPool = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

func putTargets(t *[]*Socket) {
	clear(*t)
	*t = (*t)[:0]
	targetPool.Put(t)
}

// targets returns the local sockets selected by opts (from a pool: give it
// back with putTargets).
func (a *InMemoryAdapter) targets(opts BroadcastOptions) *[]*Socket {
	out := targetPool.Get().(*[]*Socket)
	a.mu.RLock()
	var except map[string]struct{}
	if len(opts.Except) > 0 {
		except = make(map[string]struct{})
		for _, r := range opts.Except {
			members := a.rooms[r]
			for _, id := range members.few {
				except[id] = struct{}{}
			}
			for id := range members.many {
				except[id] = struct{}{}
			}
		}
	}
	nsp := a.nsp
	nsp.mu.RLock()
	if len(opts.Rooms) == 0 {
		for id, s := range nsp.sockets {
			if _, no := except[id]; !no {
				*out = append(*out, s)
			}
		}
	} else {
		var seen map[string]struct{}
		if len(opts.Rooms) > 1 {
			seen = make(map[string]struct{})
		}
		visit := func(id string) {
			if _, no := except[id]; no {
				return
			}
			if seen != nil {
				if _, dup := seen[id]; dup {
					return
				}
				seen[id] = struct{}{}
			}
			if s := nsp.sockets[id]; s != nil {
				*out = append(*out, s)
			}
		}
		for _, r := range opts.Rooms {
			members := a.rooms[r]
			for _, id := range members.few {
				visit(id)
			}
			for id := range members.many {
				visit(id)
			}
		}
	}
	nsp.mu.RUnlock()
	a.mu.RUnlock()
	return out
}

// prepare encodes p once for every recipient.
func (a *InMemoryAdapter) prepare(p *parser.Packet, f Flags) ([]*engineio.PreparedMessage, error) {
	msgs, err := a.nsp.srv.opts.Parser.NewEncoder().Encode(p)
	if err != nil {
		return nil, err
	}
	out := make([]*engineio.PreparedMessage, len(msgs))
	for i, m := range msgs {
		out[i] = engineio.NewPreparedMessage(engineio.Message{Data: m, Binary: i > 0, NoCompress: f.noCompress()})
	}
	return out, nil
}

// Broadcast implements Adapter. The packet is encoded once; every recipient
// gets the same prepared frames.
func (a *InMemoryAdapter) Broadcast(p *parser.Packet, opts BroadcastOptions) error {
	if a.recovery != nil && p.Type == parser.Event && !p.HasID && !opts.Flags.Volatile {
		p = a.store(p, opts)
	}
	return a.deliver(p, opts)
}

// BroadcastWithOffset is Broadcast for a cluster adapter that keeps the
// packets in a log of its own (a Redis stream): with connection state
// recovery on, offset, the packet's id in that log, is appended to an
// event's arguments as socket.io's ClusterAdapter does, instead of an
// offset of this adapter; the packet is not kept in memory. An empty offset
// (the log could not be written) appends nothing.
func (a *InMemoryAdapter) BroadcastWithOffset(p *parser.Packet, opts BroadcastOptions, offset string) error {
	if a.recovery != nil && offset != "" && p.Type == parser.Event && !p.HasID && !opts.Flags.Volatile {
		q := *p
		q.Data = appendArg(p.Data, offset)
		p = &q
	}
	return a.deliver(p, opts)
}

// deliver writes p to the local sockets selected by opts.
func (a *InMemoryAdapter) deliver(p *parser.Packet, opts BroadcastOptions) error {
	pms, err := a.prepare(p, opts.Flags)
	if err != nil {
		return err
	}
	targets := a.targets(opts)
	for _, s := range *targets {
		s.notifyOutgoing(p)
		s.client.writePrepared(pms, opts.Flags.Volatile)
	}
	putTargets(targets)
	return nil
}

// BroadcastWithAck implements Adapter.
func (a *InMemoryAdapter) BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, clientCount func(int), ack func(Args)) error {
	pms, err := a.prepare(p, opts.Flags)
	if err != nil {
		return err
	}
	targets := a.targets(opts)
	n := len(*targets)
	for _, s := range *targets {
		s.registerAck(p.ID, ack)
		s.notifyOutgoing(p)
		s.client.writePrepared(pms, opts.Flags.Volatile)
	}
	putTargets(targets)
	clientCount(n)
	return nil
}

// FetchSockets implements Adapter (local sockets only).
func (a *InMemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]*RemoteSocket, error) {
	targets := a.targets(opts)
	out := make([]*RemoteSocket, 0, len(*targets))
	for _, s := range *targets {
		out = append(out, NewRemoteSocket(a.nsp, s.id, s.Handshake(), s.Rooms(), s.Data()))
	}
	putTargets(targets)
	return out, nil
}

func (a *InMemoryAdapter) each(opts BroadcastOptions, fn func(*Socket)) {
	targets := a.targets(opts)
	list := append([]*Socket(nil), (*targets)...)
	putTargets(targets)
	for _, s := range list {
		fn(s)
	}
}

// AddSockets implements Adapter.
func (a *InMemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	a.each(opts, func(s *Socket) { s.Join(rooms...) })
}

// DelSockets implements Adapter.
func (a *InMemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	a.each(opts, func(s *Socket) { s.Leave(rooms...) })
}

// DisconnectSockets implements Adapter.
func (a *InMemoryAdapter) DisconnectSockets(opts BroadcastOptions, close bool) {
	a.each(opts, func(s *Socket) { s.Disconnect(close) })
}

// ServerSideEmit implements Adapter: with one server there is no one to tell.
func (a *InMemoryAdapter) ServerSideEmit(string, []any) error { return nil }

// ServerSideEmitWithAck implements Adapter: no other server answers.
func (a *InMemoryAdapter) ServerSideEmitWithAck(context.Context, string, []any) ([]Args, error) {
	return nil, nil
}

// OnServerSideEmit implements Adapter: no other server sends anything.
func (a *InMemoryAdapter) OnServerSideEmit(func(string, Args, func(...any))) {}

// ServerCount implements Adapter.
func (a *InMemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// Close implements Adapter.
func (a *InMemoryAdapter) Close() error { return nil }

// store gives an event packet its offset (appended to its arguments, as
// socket.io does) and keeps it for recovery.
func (a *InMemoryAdapter) store(p *parser.Packet, opts BroadcastOptions) *parser.Packet {
	a.recMu.Lock()
	defer a.recMu.Unlock()
	a.counter++
	id := a.prefix + strconv.FormatUint(a.counter, 36)
	q := *p
	q.Data = appendArg(p.Data, id)
	opts.Rooms = append([]string(nil), opts.Rooms...)
	opts.Except = append([]string(nil), opts.Except...)
	now := time.Now()
	a.expireLocked(now)
	a.packets = append(a.packets, storedPacket{id: id, opts: opts, packet: &q, emittedAt: now})
	return &q
}

// appendArg adds a string as the last element of a JSON array.
func appendArg(data []byte, s string) []byte {
	end := len(data) - 1
	for end > 0 && data[end] != ']' {
		end--
	}
	out := make([]byte, 0, end+len(s)+4)
	out = append(out, data[:end]...)
	if end > 1 {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, s)
	return append(out, ']')
}

func (a *InMemoryAdapter) expireLocked(now time.Time) {
	threshold := now.Add(-a.recovery.MaxDisconnectionDuration)
	i := 0
	for i < len(a.packets) && a.packets[i].emittedAt.Before(threshold) {
		i++
	}
	if i > 0 {
		clear(a.packets[:i])
		a.packets = a.packets[i:]
	}
	for pid, s := range a.sessions {
		if s.disconnectedAt.Before(threshold) {
			delete(a.sessions, pid)
		}
	}
}

// PersistSession implements Adapter.
func (a *InMemoryAdapter) PersistSession(s *PersistedSession) {
	if a.recovery == nil {
		return
	}
	a.recMu.Lock()
	defer a.recMu.Unlock()
	now := time.Now()
	a.expireLocked(now)
	a.sessions[s.PID] = &storedSession{s: s, disconnectedAt: now}
}

// RestoreSession implements Adapter. A session is restored once.
func (a *InMemoryAdapter) RestoreSession(pid, offset string) (*PersistedSession, error) {
	if a.recovery == nil {
		return nil, nil
	}
	a.recMu.Lock()
	defer a.recMu.Unlock()
	a.expireLocked(time.Now())
	st := a.sessions[pid]
	if st == nil {
		return nil, nil
	}
	index := -1
	for i := len(a.packets) - 1; i >= 0; i-- {
		if a.packets[i].id == offset {
			index = i
			break
		}
	}
	if index < 0 {
		return nil, nil
	}
	delete(a.sessions, pid)
	out := *st.s
	out.MissedPackets = nil
	for _, sp := range a.packets[index+1:] {
		if includes(st.s.Rooms, sp.opts) {
			out.MissedPackets = append(out.MissedPackets, sp.packet)
		}
	}
	return &out, nil
}

func includes(rooms []string, opts BroadcastOptions) bool {
	in := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, x := range opts.Except {
			if r == x {
				return false
			}
		}
		if !in {
			for _, x := range opts.Rooms {
				if r == x {
					in = true
				}
			}
		}
	}
	return in
}

// strSet is a set of strings kept as a slice while small and as a map
// beyond: most sockets are in one or two rooms and most rooms (the one named
// after each socket) hold one socket, and a one-element slice costs 16 bytes
// where the smallest map costs about 200. The zero value is empty; add and
// del return the updated set.
type strSet struct {
	few  []string
	many map[string]struct{}
}

const strSetSliceMax = 8

func (s strSet) len() int {
	if s.many != nil {
		return len(s.many)
	}
	return len(s.few)
}

func (s strSet) add(v string) strSet {
	if s.many != nil {
		s.many[v] = struct{}{}
		return s
	}
	for _, x := range s.few {
		if x == v {
			return s
		}
	}
	if len(s.few) < strSetSliceMax {
		s.few = append(s.few, v)
		return s
	}
	m := make(map[string]struct{}, len(s.few)+1)
	for _, x := range s.few {
		m[x] = struct{}{}
	}
	m[v] = struct{}{}
	return strSet{many: m}
}

func (s strSet) del(v string) strSet {
	if s.many != nil {
		delete(s.many, v)
		return s
	}
	for i, x := range s.few {
		if x == v {
			last := len(s.few) - 1
			s.few[i] = s.few[last]
			s.few[last] = ""
			s.few = s.few[:last]
			break
		}
	}
	return s
}
