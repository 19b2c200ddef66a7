package redisstreams

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/socketio-go/socketio/internal/clusterproto"
	"github.com/socketio-go/socketio/internal/msgpack"
)

// Written by @socket.io/redis-streams-adapter 0.3 (@msgpack/msgpack 2.8):
// the data field of io.to("r1").emit("event", Buffer.from([255]), 1.25),
// which holds binary, hence base64 msgpack.
const nodeBinaryData = "gqZwYWNrZXSDpHR5cGUCpGRhdGGTpWV2ZW50xAH/yz/0AAAAAAAAo25zcKEvpG9wdHODpXJvb21zkaJyMaZleGNlcHSQpWZsYWdzgA=="

// The same without binary: JSON.
const nodeJSONData = `{"packet":{"type":2,"data":["event",{"x":1},1.25],"nsp":"/"},"opts":{"rooms":["r1"],"except":[],"flags":{}}}`

// A server-side emit with an acknowledgement, as published (pub/sub).
const nodePubSub = "84a47479706509a46461746182a9726571756573744964a3616263a67061636b657492a470696e6701a3756964b030313233343536373839616263646566a36e7370a12f"

// A session as socket.io persists it: {sid, pid, rooms, data}.
const nodeSession = "hKNzaWSiczGjcGlkonAxpXJvb21zkqJzMaFypGRhdGGBpG5hbWWhYQ=="

func TestDecodeNodeEntry(t *testing.T) {
	for _, data := range []string{nodeBinaryData, nodeJSONData} {
		m, err := decodeEntry(map[string]any{"uid": "u", "nsp": "/", "type": "3", "data": data}, DefaultMaxMessageSize)
		if err != nil {
			t.Fatal(err)
		}
		pv, _ := m.data.Get("packet")
		p, err := clusterproto.DecodePacket(pv, "/")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := m.data.Get("opts")
		opts := clusterproto.DecodeOptions(o)
		if m.typ != 3 || len(opts.Rooms) != 1 || opts.Rooms[0] != "r1" {
			t.Errorf("message %+v, options %+v", m, opts)
		}
		if data == nodeBinaryData && (string(p.Data) != `["event",{"_placeholder":true,"num":0},1.25]` || p.Attachments[0][0] != 255) {
			t.Errorf("packet %s %v", p.Data, p.Attachments)
		}
	}
}

func TestEncodeEntryLikeNode(t *testing.T) {
	m, _ := decodeEntry(map[string]any{"uid": "u", "nsp": "/", "type": "3", "data": nodeBinaryData}, DefaultMaxMessageSize)
	values, err := encodeEntry("u", "/", 3, m.data)
	if err != nil {
		t.Fatal(err)
	}
	if values[7] != nodeBinaryData {
		t.Errorf("data = %v\nNode writes %s", values[7], nodeBinaryData)
	}
	m, _ = decodeEntry(map[string]any{"uid": "u", "nsp": "/", "type": "3", "data": nodeJSONData}, DefaultMaxMessageSize)
	values, _ = encodeEntry("u", "/", 3, m.data)
	if values[7] != nodeJSONData || values[5] != "3" {
		t.Errorf("data = %v\nNode writes %s", values, nodeJSONData)
	}
}

func TestPubSubLikeNode(t *testing.T) {
	raw, _ := hex.DecodeString(nodePubSub)
	m, err := decodePubSub(raw, DefaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if m.uid != "0123456789abcdef" || m.nsp != "/" || m.typ != 9 {
		t.Errorf("message %+v", m)
	}
	b, err := encodePubSub(m.uid, m.nsp, int(m.typ), m.data)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != nodePubSub {
		t.Errorf("encoded %x\nNode sends %s", b, nodePubSub)
	}
	if !ephemeral(int(m.typ), m.data) || ephemeral(3, msgpack.Map{}) || !ephemeral(3, msgpack.Map{{Key: "requestId", Value: "x"}}) {
		t.Error("ephemeral")
	}
}

func TestSessionLikeNode(t *testing.T) {
	s, err := decodeSession(nodeSession, DefaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if s.sid != "s1" || s.pid != "p1" || len(s.rooms) != 2 || s.rooms[1] != "r" {
		t.Errorf("session %+v", s)
	}
	raw, err := encodeSession(s)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nodeSession {
		t.Errorf("encoded %s\nNode writes %s", raw, nodeSession)
	}
}

func TestStreamName(t *testing.T) {
	o := &Options{StreamName: "s", StreamCount: 3}
	// As the Node adapter computes them (a negative hash gives "s--1").
	for nsp, want := range map[string]string{
		"/admin": "s-1", "/orders": "s-2", "/zzzzzzzz": "s--1", "/namespace-1": "s-0",
		"/😀x": "s-0", "/négatif-ü": "s-0",
	} {
		if got := streamName(nsp, o); got != want {
			t.Errorf("streamName(%q) = %s, want %s", nsp, got, want)
		}
	}
	if got := streamName("/admin", &Options{StreamName: "s", StreamCount: 1}); got != "s" {
		t.Errorf("one stream: %s", got)
	}
}

func TestOffsets(t *testing.T) {
	for offset, ok := range map[string]bool{"1-0": true, "1700000000000-12": true, "": false, "1": false, "a-1": false, "1-1-1": false, "-1-0": false} {
		if offsetPattern.MatchString(offset) != ok {
			t.Errorf("offset %q accepted: %v", offset, !ok)
		}
	}
	if n, _ := nextOffset("5-9"); n != "5-10" {
		t.Errorf("nextOffset = %s", n)
	}
	if _, err := nextOffset("5-18446744073709551615"); err == nil {
		t.Error("overflow accepted")
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"no nsp":       {"uid": "u", "type": "3"},
		"bad type":     {"uid": "u", "nsp": "/", "type": "x"},
		"huge type":    {"uid": "u", "nsp": "/", "type": "99999999999"},
		"bad base64":   {"uid": "u", "nsp": "/", "type": "3", "data": "!!"},
		"not a map":    {"uid": "u", "nsp": "/", "type": "3", "data": base64.StdEncoding.EncodeToString([]byte{0x91, 0x01})},
		"bad JSON":     {"uid": "u", "nsp": "/", "type": "3", "data": "{"},
		"too large":    {"uid": "u", "nsp": "/", "type": "3", "data": "{" + string(make([]byte, 100)) + "}"},
		"not a string": {"uid": "u", "nsp": "/", "type": 3},
	} {
		if _, err := decodeEntry(values, 64); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeEntry feeds what a hostile Redis could hold to the decoders of
// stream entries, pub/sub messages and sessions, and to what reads their
// contents: none may panic.
func FuzzDecodeEntry(f *testing.F) {
	bin, _ := base64.StdEncoding.DecodeString(nodeBinaryData)
	ps, _ := hex.DecodeString(nodePubSub)
	f.Add("3", nodeJSONData, bin)
	f.Add("8", `{"requestId":"x","sockets":[{"id":"a","handshake":{"headers":{"a":["b"]}},"rooms":["r"],"data":{"n":1e400}}]}`, ps)
	f.Add("9", `{"packet":["ev",{"_placeholder":true,"num":0}],"requestId":"r"}`, []byte{0x80})
	f.Add("4", `{"opts":{"rooms":[1,"a"],"except":null},"rooms":["x"]}`, []byte{})
	f.Fuzz(func(t *testing.T, typ, data string, raw []byte) {
		for _, d := range []string{data, base64.StdEncoding.EncodeToString(raw)} {
			m, err := decodeEntry(map[string]any{"uid": "u", "nsp": "/", "type": typ, "data": d}, 1<<16)
			if err == nil {
				exercise(t, m)
			}
		}
		if m, err := decodePubSub(raw, 1<<16); err == nil {
			exercise(t, m)
		}
		if s, err := decodeSession(base64.StdEncoding.EncodeToString(raw), 1<<16); err == nil {
			clusterproto.Plain(s.data)
		}
	})
}

func exercise(t *testing.T, m message) {
	pv, _ := m.data.Get("packet")
	_, _ = clusterproto.DecodePacket(pv, "/")
	o, _ := m.data.Get("opts")
	clusterproto.DecodeOptions(o)
	if list, ok := clusterproto.GetArray(m.data, "sockets"); ok {
		for _, s := range list {
			clusterproto.DecodeRemoteSocket(nil, s)
		}
	}
	if list, ok := clusterproto.GetArray(m.data, "packet"); ok {
		if _, err := clusterproto.ArgsOf(list); err != nil {
			t.Fatalf("ArgsOf: %v", err)
		}
	}
	_ = ephemeral(int(m.typ), m.data)
}
