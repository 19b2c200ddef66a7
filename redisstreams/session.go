package redisstreams

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// Connection state recovery, as in the Node adapter: a disconnected
// socket's session is kept in Redis ("<SessionKeyPrefix><pid>", base64
// msgpack {sid, pid, rooms, data}, expiring after MaxDisconnectionDuration),
// and the packets it missed are read back from the stream, from the offset
// the client gives (the id of the last entry it got), on whichever node it
// comes back to.

// restoreCalls caps the XRANGE calls of one restoration (the Node adapter
// makes at most 100), restoreCount the entries of each.
const (
	restoreCalls = 100
	restoreCount = 1000
)

// ErrInvalidOffset is returned by RestoreSession for an offset that is not
// a stream entry id.
var ErrInvalidOffset = errors.New("redisstreams: invalid offset")

// PersistSession implements socketio.Adapter: the session goes to Redis,
// where any node can restore it.
func (a *Adapter) PersistSession(s *socketio.PersistedSession) {
	if a.recovery == nil {
		return
	}
	raw, err := encodeSession(session{sid: s.SID, pid: s.PID, rooms: s.Rooms, data: clusterproto.ValueOf(s.Data)})
	if err != nil {
		a.opts.Logger.Debug("redisstreams: cannot encode session", "err", err)
		return
	}
	key := a.opts.SessionKeyPrefix + s.PID
	ttl := a.recovery.MaxDisconnectionDuration
	if !a.c.healthy.Load() {
		a.c.enqueue(&job{key: key, payload: []byte(raw), ttl: ttl})
		return
	}
	// Written before the disconnection completes, so that the client can
	// recover at once on another node.
	ctx, cancel := context.WithTimeout(context.Background(), min(a.opts.RequestsTimeout, writeTimeout))
	defer cancel()
	if err := a.c.client.Set(ctx, key, raw, ttl).Err(); err != nil {
		a.opts.Logger.Debug("redisstreams: cannot persist session", "err", err)
	}
}

// RestoreSession implements socketio.Adapter: the session of pid (taken
// from Redis: it is restored once) with the packets of the stream after
// offset that the socket's rooms select. It returns nil when the session or
// the offset is gone.
func (a *Adapter) RestoreSession(pid, offset string) (*socketio.PersistedSession, error) {
	if a.recovery == nil {
		return nil, nil
	}
	if !offsetPattern.MatchString(offset) {
		return nil, ErrInvalidOffset
	}
	next, err := nextOffset(offset)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.RequestsTimeout)
	defer cancel()
	key := a.opts.SessionKeyPrefix + pid
	var get *redis.StringCmd
	// GET then DEL in MULTI, as the Node adapter does (GETDEL needs Redis 6.2).
	_, err = a.c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstreams: restore session: %w", err)
	}
	raw, err := get.Result()
	if err != nil {
		return nil, nil // no session
	}
	at, err := a.c.client.XRange(ctx, a.stream, offset, offset).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstreams: restore session: %w", err)
	}
	if len(at) == 0 {
		return nil, nil // the offset left the stream: too late
	}
	s, err := decodeSession(raw, a.opts.MaxMessageSize)
	if err != nil {
		return nil, fmt.Errorf("redisstreams: restore session: %w", err)
	}
	if s.pid != pid {
		return nil, nil
	}
	out := &socketio.PersistedSession{SID: s.sid, PID: s.pid, Rooms: s.rooms, Data: clusterproto.Plain(s.data)}
	for i := 0; i < restoreCalls; i++ {
		entries, err := a.c.client.XRangeN(ctx, a.stream, next, "+", restoreCount).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstreams: restore session: %w", err)
		}
		for _, e := range entries {
			if p := a.missedPacket(e, s.rooms); p != nil {
				out.MissedPackets = append(out.MissedPackets, p)
			}
		}
		if len(entries) < restoreCount {
			break
		}
		if next, err = nextOffset(entries[len(entries)-1].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// missedPacket returns the packet of a broadcast entry that a socket in
// rooms should get, with the entry id appended as its offset, or nil.
func (a *Adapter) missedPacket(e redis.XMessage, rooms []string) *parser.Packet {
	if nsp, _ := e.Values["nsp"].(string); nsp != a.nsp.Name() {
		return nil
	}
	if typ, _ := e.Values["type"].(string); typ != "3" {
		return nil
	}
	m, err := decodeEntry(e.Values, a.opts.MaxMessageSize)
	if err != nil {
		return nil
	}
	if _, withAck := m.data.Get("requestId"); withAck {
		return nil
	}
	o, _ := m.data.Get("opts")
	opts := clusterproto.DecodeOptions(o)
	// Volatile packets are not recovered (the Node adapter 0.3 recovers
	// them, although it gives them no offset when they are sent).
	if opts.Flags.Volatile || !includes(rooms, opts) {
		return nil
	}
	pv, _ := m.data.Get("packet")
	pm, ok := pv.(msgpack.Map)
	if !ok {
		return nil
	}
	data, ok := clusterproto.GetArray(pm, "data")
	if !ok {
		return nil
	}
	withOffset := make(msgpack.Map, 0, len(pm))
	for _, kv := range pm {
		if kv.Key == "data" {
			kv.Value = append(append([]any(nil), data...), e.ID)
		}
		withOffset = append(withOffset, kv)
	}
	p, err := clusterproto.DecodePacket(withOffset, a.nsp.Name())
	if err != nil {
		return nil
	}
	return p
}

// includes reports whether a socket in rooms is selected by opts (as
// socket.io's shouldIncludePacket).
func includes(rooms []string, opts socketio.BroadcastOptions) bool {
	in := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, x := range opts.Except {
			if r == x {
				return false
			}
		}
		for _, x := range opts.Rooms {
			if r == x {
				in = true
			}
		}
	}
	return in
}
