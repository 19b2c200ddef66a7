package clusterproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// The wire values are the trees of internal/msgpack: nil, msgpack.Undefined,
// bool, int64, uint64, float64, string, []byte, time.Time, []any,
// msgpack.Map and msgpack.Ext. JSON messages decode into the same trees, so
// one code path validates what comes from Redis whatever its encoding.

var ErrMalformed = errors.New("clusterproto: malformed message")

// MaxJSONDepth caps the nesting of JSON read from Redis, as msgpack's
// DefaultMaxDepth does for msgpack.
const MaxJSONDepth = msgpack.DefaultMaxDepth

// DecodeMessage decodes a message from Redis: JSON when it starts with "{"
// (as the Node adapters check), else msgpack.
func DecodeMessage(b []byte, maxSize int) (any, error) {
	if len(b) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes", msgpack.ErrTooLarge, len(b))
	}
	if len(b) > 0 && b[0] == '{' {
		return FromJSON(b, nil, MaxJSONDepth)
	}
	return msgpack.Decode(b, &msgpack.Limits{MaxSize: maxSize})
}

// FromJSON turns JSON into a value tree; with attachments, socket.io's
// placeholders {"_placeholder":true,"num":N} become the []byte they stand for.
func FromJSON(data []byte, attachments [][]byte, maxDepth int) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, attachments, 0, maxDepth)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return v, nil
}

func jsonValue(dec *json.Decoder, atts [][]byte, depth, maxDepth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, msgpack.ErrTooDeep
		}
		if t == '[' {
			arr := []any{}
			for dec.More() {
				v, err := jsonValue(dec, atts, depth+1, maxDepth)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		m := msgpack.Map{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			k, _ := kt.(string)
			v, err := jsonValue(dec, atts, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			m = append(m, msgpack.KV{Key: k, Value: v})
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if atts != nil {
			if b, ok := placeholder(m, atts); ok {
				return b, nil
			}
		}
		return m, nil
	case json.Number:
		return number(t), nil
	default:
		return t, nil // nil, bool, string
	}
}

func placeholder(m msgpack.Map, atts [][]byte) ([]byte, bool) {
	if len(m) != 2 {
		return nil, false
	}
	ph, _ := m.Get("_placeholder")
	if ph != true {
		return nil, false
	}
	n, ok := m.Get("num")
	if !ok {
		return nil, false
	}
	i, ok := ToInt(n)
	if !ok || i < 0 || i >= int64(len(atts)) {
		return nil, false
	}
	return atts[i], true
}

func number(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return u
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return math.Inf(1) // out of range, as JavaScript reads it
	}
	return f
}

// ToJSON turns a value tree into JSON, each []byte becoming a placeholder
// whose bytes are appended to *atts (the form of socket.io packets). Values
// JSON cannot hold are written as JSON.stringify writes them.
func ToJSON(buf *bytes.Buffer, v any, atts *[][]byte) {
	switch v := v.(type) {
	case nil, msgpack.Undefined:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		buf.WriteString(strconv.FormatUint(v, 10))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			buf.WriteString("null")
			return
		}
		b, _ := json.Marshal(v)
		buf.Write(b)
	case string:
		writeJSONString(buf, v)
	case []byte:
		if atts == nil {
			buf.WriteString("null") // never reached: binary travels as msgpack
			return
		}
		buf.WriteString(`{"_placeholder":true,"num":`)
		buf.WriteString(strconv.Itoa(len(*atts)))
		buf.WriteByte('}')
		*atts = append(*atts, v)
	case time.Time:
		writeJSONString(buf, v.UTC().Format("2006-01-02T15:04:05.000Z"))
	case msgpack.Ext:
		ToJSON(buf, []any{int64(v.Type), v.Data}, atts)
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			ToJSON(buf, e, atts)
		}
		buf.WriteByte(']')
	case msgpack.Map:
		buf.WriteByte('{')
		first := true
		for _, kv := range v {
			if _, u := kv.Value.(msgpack.Undefined); u {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeJSONString(buf, kv.Key)
			buf.WriteByte(':')
			ToJSON(buf, kv.Value, atts)
		}
		buf.WriteByte('}')
	default:
		buf.WriteString("null")
	}
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // the newline of Encode
}

// HasBinary reports whether a tree holds a []byte (then it must travel as
// msgpack, as the Node adapters do).
func HasBinary(v any) bool {
	switch v := v.(type) {
	case []byte, msgpack.Ext:
		return true
	case []any:
		for _, e := range v {
			if HasBinary(e) {
				return true
			}
		}
	case msgpack.Map:
		for _, kv := range v {
			if HasBinary(kv.Value) {
				return true
			}
		}
	}
	return false
}

// EncodeMessage encodes a request or response as the Node adapters do: JSON,
// or msgpack when it holds binary (or when forced).
func EncodeMessage(m msgpack.Map, forceMsgpack bool) ([]byte, error) {
	if forceMsgpack || HasBinary(m) {
		return msgpack.Encode(m)
	}
	var buf bytes.Buffer
	ToJSON(&buf, m, nil)
	return buf.Bytes(), nil
}

// Accessors of untrusted trees: a wrong type reads as absent.

func ToInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return 0, false
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	}
	return 0, false
}

func GetInt(m msgpack.Map, key string) (int64, bool) {
	v, _ := m.Get(key)
	return ToInt(v)
}

func GetString(m msgpack.Map, key string) (string, bool) {
	v, _ := m.Get(key)
	s, ok := v.(string)
	return s, ok
}

func GetMap(m msgpack.Map, key string) (msgpack.Map, bool) {
	v, _ := m.Get(key)
	mm, ok := v.(msgpack.Map)
	return mm, ok
}

func GetArray(m msgpack.Map, key string) ([]any, bool) {
	v, _ := m.Get(key)
	a, ok := v.([]any)
	return a, ok
}

// RoomList reads a list of rooms (JavaScript allows numbers as room names).
func RoomList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, r := range arr {
		switch r := r.(type) {
		case string:
			out = append(out, r)
		case int64:
			out = append(out, strconv.FormatInt(r, 10))
		case float64:
			out = append(out, strconv.FormatFloat(r, 'g', -1, 64))
		}
	}
	return out
}

func StringList(s []string) []any {
	out := make([]any, len(s))
	for i, r := range s {
		out[i] = r
	}
	return out
}

// EncodeOptions writes BroadcastOptions as socket.io's adapters do:
// {rooms, except, flags}.
func EncodeOptions(opts socketio.BroadcastOptions, withFlags bool) msgpack.Map {
	m := msgpack.Map{
		{Key: "rooms", Value: StringList(Dedup(opts.Rooms))},
		{Key: "except", Value: StringList(Dedup(opts.Except))},
	}
	if withFlags {
		m = append(m, msgpack.KV{Key: "flags", Value: EncodeFlags(opts.Flags)})
	}
	return m
}

func Dedup(s []string) []string {
	if len(s) < 2 {
		return s
	}
	seen := make(map[string]struct{}, len(s))
	out := make([]string, 0, len(s))
	for _, r := range s {
		if _, ok := seen[r]; !ok {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	return out
}

func EncodeFlags(f socketio.Flags) msgpack.Map {
	m := msgpack.Map{}
	if f.Volatile {
		m = append(m, msgpack.KV{Key: "volatile", Value: true})
	}
	if f.Compress != nil {
		m = append(m, msgpack.KV{Key: "compress", Value: *f.Compress})
	}
	if f.Local {
		m = append(m, msgpack.KV{Key: "local", Value: true})
	}
	if f.Timeout > 0 {
		m = append(m, msgpack.KV{Key: "timeout", Value: f.Timeout.Milliseconds()})
	}
	return m
}

func DecodeOptions(v any) socketio.BroadcastOptions {
	m, _ := v.(msgpack.Map)
	var opts socketio.BroadcastOptions
	if r, ok := m.Get("rooms"); ok {
		opts.Rooms = RoomList(r)
	}
	if e, ok := m.Get("except"); ok {
		opts.Except = RoomList(e)
	}
	if f, ok := GetMap(m, "flags"); ok {
		if v, _ := f.Get("volatile"); v == true {
			opts.Flags.Volatile = true
		}
		if v, ok := f.Get("compress"); ok {
			if b, ok := v.(bool); ok {
				opts.Flags.Compress = &b
			}
		}
		if ms, ok := GetInt(f, "timeout"); ok && ms > 0 {
			opts.Flags.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	return opts
}

// EncodePacket writes an event packet as socket.io's adapters publish it:
// {type: 2, data: [event, ...args], nsp}, binary values as bin.
func EncodePacket(p *parser.Packet) (msgpack.Map, error) {
	data, err := FromJSON(p.Data, p.Attachments, 1000)
	if err != nil {
		return nil, err
	}
	return msgpack.Map{
		{Key: "type", Value: int64(parser.Event)},
		{Key: "data", Value: data},
		{Key: "nsp", Value: p.Namespace},
	}, nil
}

// DecodePacket reads an event packet from another server. Only events (with
// or without binary) are accepted: nothing else is ever broadcast.
func DecodePacket(v any, nsp string) (*parser.Packet, error) {
	m, ok := v.(msgpack.Map)
	if !ok {
		return nil, ErrMalformed
	}
	typ, _ := GetInt(m, "type")
	if typ != int64(parser.Event) && typ != int64(parser.BinaryEvent) {
		return nil, fmt.Errorf("%w: packet type %d", ErrMalformed, typ)
	}
	name := "/"
	if n, ok := m.Get("nsp"); ok && n != nil {
		if name, ok = n.(string); !ok {
			return nil, ErrMalformed
		}
	}
	if name != nsp {
		return nil, fmt.Errorf("%w: namespace %q", ErrMalformed, name)
	}
	data, ok := GetArray(m, "data")
	if !ok || len(data) == 0 {
		return nil, ErrMalformed
	}
	if _, ok := data[0].(string); !ok {
		return nil, fmt.Errorf("%w: event name", ErrMalformed)
	}
	var buf bytes.Buffer
	var atts [][]byte
	ToJSON(&buf, data, &atts)
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: buf.Bytes(), Attachments: atts}, nil
}

// ArgsOf turns a list of values into socketio.Args.
func ArgsOf(values []any) (socketio.Args, error) {
	var buf bytes.Buffer
	var atts [][]byte
	ToJSON(&buf, values, &atts)
	return socketio.NewArgs(buf.Bytes(), atts)
}

// ValuesOf turns Go arguments into a list of values, binary kept as []byte.
func ValuesOf(args []any) ([]any, error) {
	data, atts, err := parser.MarshalArgs(args)
	if err != nil {
		return nil, err
	}
	v, err := FromJSON(data, atts, 1000)
	if err != nil {
		return nil, err
	}
	list, _ := v.([]any)
	return list, nil
}

// FirstArg returns the first argument of an acknowledgement as a value (the
// adapters forward only the first one, as socket.io does).
func FirstArg(a socketio.Args) any {
	if a.Len() == 0 {
		return nil
	}
	v, err := FromJSON(a.Raw()[0], a.Attachments(), 1000)
	if err != nil {
		return nil
	}
	return v
}

// Plain turns a tree into the values encoding/json gives for interface{}
// (map[string]any, []any, float64, string, bool, nil), binary kept as []byte.
func Plain(v any) any {
	switch v := v.(type) {
	case msgpack.Undefined:
		return nil
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05.000Z")
	case msgpack.Ext:
		return []any{float64(v.Type), v.Data}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Plain(e)
		}
		return out
	case msgpack.Map:
		out := make(map[string]any, len(v))
		for _, kv := range v {
			out[kv.Key] = Plain(kv.Value)
		}
		return out
	}
	return v
}

// EncodeHandshake writes a handshake as socket.io's socket.handshake looks
// in JSON.
func EncodeHandshake(h *socketio.Handshake) msgpack.Map {
	if h == nil {
		return msgpack.Map{}
	}
	headers := msgpack.Map{}
	for k, vs := range h.Headers {
		headers = append(headers, msgpack.KV{Key: strings.ToLower(k), Value: strings.Join(vs, ", ")})
	}
	query := msgpack.Map{}
	for k, vs := range h.Query {
		if len(vs) == 1 {
			query = append(query, msgpack.KV{Key: k, Value: vs[0]})
		} else {
			query = append(query, msgpack.KV{Key: k, Value: StringList(vs)})
		}
	}
	var auth any = msgpack.Map{}
	if len(h.Auth) > 0 {
		if v, err := FromJSON(h.Auth, nil, MaxJSONDepth); err == nil {
			auth = v
		}
	}
	return msgpack.Map{
		{Key: "headers", Value: headers},
		{Key: "time", Value: h.Time},
		{Key: "address", Value: h.Address},
		{Key: "xdomain", Value: h.XDomain},
		{Key: "secure", Value: h.Secure},
		{Key: "issued", Value: h.Issued},
		{Key: "url", Value: h.URL},
		{Key: "query", Value: query},
		{Key: "auth", Value: auth},
	}
}

func DecodeHandshake(v any) *socketio.Handshake {
	m, _ := v.(msgpack.Map)
	h := &socketio.Handshake{Headers: http.Header{}, Query: url.Values{}}
	if hm, ok := GetMap(m, "headers"); ok {
		for _, kv := range hm {
			switch val := kv.Value.(type) {
			case string:
				h.Headers.Add(kv.Key, val)
			case []any:
				for _, s := range RoomList(val) {
					h.Headers.Add(kv.Key, s)
				}
			}
		}
	}
	h.Time, _ = GetString(m, "time")
	h.Address, _ = GetString(m, "address")
	if b, _ := m.Get("xdomain"); b == true {
		h.XDomain = true
	}
	if b, _ := m.Get("secure"); b == true {
		h.Secure = true
	}
	h.Issued, _ = GetInt(m, "issued")
	h.URL, _ = GetString(m, "url")
	if qm, ok := GetMap(m, "query"); ok {
		for _, kv := range qm {
			switch val := kv.Value.(type) {
			case string:
				h.Query.Add(kv.Key, val)
			case []any:
				for _, s := range RoomList(val) {
					h.Query.Add(kv.Key, s)
				}
			}
		}
	}
	if a, ok := m.Get("auth"); ok {
		var buf bytes.Buffer
		var atts [][]byte
		ToJSON(&buf, a, &atts)
		h.Auth = buf.Bytes()
	} else {
		h.Auth = json.RawMessage("{}")
	}
	return h
}

// ValueOf turns any Go value (a socket's data) into a tree, through JSON.
func ValueOf(v any) any {
	if v == nil {
		return nil
	}
	list, err := ValuesOf([]any{v})
	if err != nil || len(list) != 1 {
		return nil
	}
	return list[0]
}
