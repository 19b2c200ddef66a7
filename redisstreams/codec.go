package redisstreams

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
)

var errMalformed = clusterproto.ErrMalformed

// message is a ClusterAdapter message {uid, nsp, type, data}.
type message struct {
	uid  string
	nsp  string
	typ  int64
	data msgpack.Map // nil when absent
}

// ephemeral reports whether a message travels over pub/sub rather than in
// the stream, as in the Node adapter 0.3: broadcasts with an
// acknowledgement, server-side emits and fetchSockets requests (answers
// always do).
func ephemeral(typ int, data msgpack.Map) bool {
	switch typ {
	case clusterproto.MsgServerSideEmit, clusterproto.MsgFetchSockets:
		return true
	case clusterproto.MsgBroadcast:
		_, withAck := data.Get("requestId")
		return withAck
	}
	return false
}

// mayContainBinary lists the types whose data the Node adapter writes as
// base64 msgpack when it holds binary.
func mayContainBinary(typ int) bool {
	switch typ {
	case clusterproto.MsgBroadcast, clusterproto.MsgFetchSocketsResponse, clusterproto.MsgServerSideEmit,
		clusterproto.MsgServerSideEmitResponse, clusterproto.MsgBroadcastAck:
		return true
	}
	return false
}

// encodeEntry returns the fields of a stream entry as the Node adapter
// writes them: uid, nsp, type (decimal), and data, as JSON, or base64
// msgpack when it holds binary.
func encodeEntry(uid, nsp string, typ int, data msgpack.Map) ([]any, error) {
	values := []any{"uid", uid, "nsp", nsp, "type", strconv.Itoa(typ)}
	if data == nil {
		return values, nil
	}
	if mayContainBinary(typ) && clusterproto.HasBinary(data) {
		b, err := msgpack.Encode(data)
		if err != nil {
			return nil, err
		}
		return append(values, "data", base64.StdEncoding.EncodeToString(b)), nil
	}
	var buf bytes.Buffer
	clusterproto.ToJSON(&buf, data, nil)
	return append(values, "data", buf.String()), nil
}

// decodeEntry reads the fields of a stream entry (untrusted).
func decodeEntry(values map[string]any, maxSize int) (message, error) {
	var m message
	str := func(k string) string { s, _ := values[k].(string); return s }
	m.uid, m.nsp = str("uid"), str("nsp")
	if m.nsp == "" {
		return m, fmt.Errorf("%w: no namespace", errMalformed)
	}
	typ, err := strconv.ParseInt(str("type"), 10, 32)
	if err != nil {
		return m, fmt.Errorf("%w: type %q", errMalformed, str("type"))
	}
	m.typ = typ
	raw := str("data")
	if raw == "" {
		return m, nil
	}
	if len(raw) > maxSize {
		return m, fmt.Errorf("%w: %d bytes", msgpack.ErrTooLarge, len(raw))
	}
	var v any
	if raw[0] == '{' {
		v, err = clusterproto.FromJSON([]byte(raw), nil, clusterproto.MaxJSONDepth)
	} else {
		var b []byte
		if b, err = base64.StdEncoding.DecodeString(raw); err == nil {
			v, err = msgpack.Decode(b, &msgpack.Limits{MaxSize: maxSize})
		}
	}
	if err != nil {
		return m, fmt.Errorf("%w: data: %v", errMalformed, err)
	}
	data, ok := v.(msgpack.Map)
	if !ok {
		return m, fmt.Errorf("%w: data is not an object", errMalformed)
	}
	m.data = data
	return m, nil
}

// encodePubSub encodes a message sent over pub/sub: the whole message as
// msgpack, as the Node adapter does.
func encodePubSub(uid, nsp string, typ int, data msgpack.Map) ([]byte, error) {
	m := msgpack.Map{{Key: "type", Value: int64(typ)}}
	if data != nil {
		m = append(m, msgpack.KV{Key: "data", Value: data})
	}
	m = append(m, msgpack.KV{Key: "uid", Value: uid}, msgpack.KV{Key: "nsp", Value: nsp})
	return msgpack.Encode(m)
}

// decodePubSub reads a message received over pub/sub (untrusted).
func decodePubSub(b []byte, maxSize int) (message, error) {
	var m message
	if len(b) > maxSize {
		return m, fmt.Errorf("%w: %d bytes", msgpack.ErrTooLarge, len(b))
	}
	v, err := msgpack.Decode(b, &msgpack.Limits{MaxSize: maxSize})
	if err != nil {
		return m, err
	}
	mm, ok := v.(msgpack.Map)
	if !ok {
		return m, fmt.Errorf("%w: not an object", errMalformed)
	}
	m.uid, _ = clusterproto.GetString(mm, "uid")
	m.nsp, _ = clusterproto.GetString(mm, "nsp")
	typ, ok := clusterproto.GetInt(mm, "type")
	if !ok || m.nsp == "" {
		return m, fmt.Errorf("%w: no type or namespace", errMalformed)
	}
	m.typ = typ
	if d, ok := mm.Get("data"); ok && d != nil {
		if m.data, ok = d.(msgpack.Map); !ok {
			return m, fmt.Errorf("%w: data is not an object", errMalformed)
		}
	}
	return m, nil
}

// session is what socket.io persists for connection state recovery:
// {sid, pid, rooms, data}, stored as base64 msgpack.
type session struct {
	sid, pid string
	rooms    []string
	data     any // a tree
}

func encodeSession(s session) (string, error) {
	b, err := msgpack.Encode(msgpack.Map{
		{Key: "sid", Value: s.sid},
		{Key: "pid", Value: s.pid},
		{Key: "rooms", Value: clusterproto.StringList(s.rooms)},
		{Key: "data", Value: s.data},
	})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func decodeSession(raw string, maxSize int) (session, error) {
	var s session
	if len(raw) > maxSize {
		return s, msgpack.ErrTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return s, fmt.Errorf("%w: session: %v", errMalformed, err)
	}
	v, err := msgpack.Decode(b, &msgpack.Limits{MaxSize: maxSize})
	if err != nil {
		return s, err
	}
	m, ok := v.(msgpack.Map)
	if !ok {
		return s, fmt.Errorf("%w: session is not an object", errMalformed)
	}
	s.sid, _ = clusterproto.GetString(m, "sid")
	s.pid, _ = clusterproto.GetString(m, "pid")
	if s.sid == "" || s.pid == "" {
		return s, fmt.Errorf("%w: session without sid or pid", errMalformed)
	}
	rooms, _ := m.Get("rooms")
	s.rooms = clusterproto.RoomList(rooms)
	s.data, _ = m.Get("data")
	return s, nil
}

// offsetPattern is the form of a stream entry id, the only offsets accepted.
var offsetPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// nextOffset returns the id just after offset (exclusive ranges need Redis
// 6.2; the Node adapter does the same).
func nextOffset(offset string) (string, error) {
	ts, seq, _ := strings.Cut(offset, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || n == ^uint64(0) {
		return "", errors.New("redisstreams: invalid offset")
	}
	return ts + "-" + strconv.FormatUint(n+1, 10), nil
}

// streamName is the stream of a namespace: with several streams, Java's
// String.hashCode of the name (UTF-16 units, 32-bit) modulo the count, as
// the Node adapter computes it (possibly negative).
func streamName(nsp string, o *Options) string {
	if o.StreamCount <= 1 {
		return o.StreamName
	}
	var h int32
	for _, u := range utf16.Encode([]rune(nsp)) {
		h = h*31 + int32(u)
	}
	return o.StreamName + "-" + strconv.Itoa(int(h)%o.StreamCount)
}
