package redisadapter

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/msgpack"
	"github.com/socketio-go/socketio/parser"
)

// A broadcast published by @socket.io/redis-adapter 8.3 (notepack.io):
// io.to("r1").emit("event", {x: Buffer.from([255])}, 1.25).
const nodeBroadcast = "93a675696431323383a47479706502a46461746193a56576656e7481a178c401ffcb3ff4000000000000a36e7370a12f83a5726f6f6d7391a27231a665786365707490a5666c61677380"

func TestDecodeNodeBroadcast(t *testing.T) {
	raw, _ := hex.DecodeString(nodeBroadcast)
	v, err := decodeMessage(raw, DefaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	arr := v.([]any)
	p, err := decodePacket(arr[1], "/")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Data) != `["event",{"x":{"_placeholder":true,"num":0}},1.25]` || len(p.Attachments) != 1 || p.Attachments[0][0] != 255 {
		t.Errorf("packet = %s %v", p.Data, p.Attachments)
	}
	opts := decodeOptions(arr[2])
	if len(opts.Rooms) != 1 || opts.Rooms[0] != "r1" || len(opts.Except) != 0 {
		t.Errorf("opts = %+v", opts)
	}
	if _, err := decodePacket(arr[1], "/admin"); err == nil {
		t.Error("a packet of another namespace was accepted")
	}
}

func TestEncodePacketLikeNode(t *testing.T) {
	data, atts, err := parser.MarshalEvent("event", []any{map[string]any{"x": []byte{255}}, 1.25})
	if err != nil {
		t.Fatal(err)
	}
	pm, err := encodePacket(&parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: data, Attachments: atts})
	if err != nil {
		t.Fatal(err)
	}
	b, err := msgpack.Encode([]any{"uid123", pm, encodeOptions(socketio.BroadcastOptions{Rooms: []string{"r1"}}, true)})
	if err != nil {
		t.Fatal(err)
	}
	if h := hex.EncodeToString(b); h != nodeBroadcast {
		t.Errorf("encoded %s\nNode sends %s", h, nodeBroadcast)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
	}{
		{"not a map", []any{}},
		{"connect packet", msgpack.Map{{Key: "type", Value: int64(0)}, {Key: "data", Value: []any{"x"}}}},
		{"no data", msgpack.Map{{Key: "type", Value: int64(2)}}},
		{"empty data", msgpack.Map{{Key: "type", Value: int64(2)}, {Key: "data", Value: []any{}}}},
		{"numeric event", msgpack.Map{{Key: "type", Value: int64(2)}, {Key: "data", Value: []any{int64(1)}}}},
		{"bad nsp", msgpack.Map{{Key: "type", Value: int64(2)}, {Key: "data", Value: []any{"x"}}, {Key: "nsp", Value: int64(1)}}},
	} {
		if _, err := decodePacket(c.v, "/"); !errors.Is(err, errMalformed) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	if _, err := decodeMessage(make([]byte, 11), 10); !errors.Is(err, msgpack.ErrTooLarge) {
		t.Errorf("oversized message: err = %v", err)
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	h := &socketio.Handshake{
		Headers: map[string][]string{"User-Agent": {"x"}}, Time: "t", Address: "1.2.3.4",
		Issued: 42, URL: "/socket.io/?EIO=4", Query: map[string][]string{"EIO": {"4"}},
		Auth: json.RawMessage(`{"name":"a"}`),
	}
	got := decodeHandshake(encodeHandshake(h))
	if got.Headers.Get("user-agent") != "x" || got.Address != "1.2.3.4" || got.Issued != 42 ||
		got.Query.Get("EIO") != "4" || string(got.Auth) != `{"name":"a"}` {
		t.Errorf("handshake = %+v", got)
	}
}

// FuzzDecodeMessage feeds what a hostile Redis could publish to every
// decoder of the adapter: none may panic.
func FuzzDecodeMessage(f *testing.F) {
	raw, _ := hex.DecodeString(nodeBroadcast)
	f.Add(raw)
	f.Add([]byte(`{"uid":"abc","type":5,"requestId":"x","opts":{"rooms":["a",1],"except":[]}}`))
	f.Add([]byte(`{"requestId":"x","sockets":[{"id":"a","handshake":{"headers":{"a":["b"]}},"rooms":["r"],"data":{"n":1e400}}]}`))
	f.Add([]byte(`{"type":6,"data":["ev",{"_placeholder":true,"num":0}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeMessage(b, 1<<16)
		if err != nil {
			return
		}
		if arr, ok := v.([]any); ok && len(arr) == 3 {
			if p, err := decodePacket(arr[1], "/"); err == nil {
				if _, err := socketio.NewArgs(p.Data, p.Attachments); err != nil {
					t.Fatalf("decoded packet data is not a JSON array: %s", p.Data)
				}
			}
			decodeOptions(arr[2])
		}
		if m, ok := v.(msgpack.Map); ok {
			pv, _ := m.Get("packet")
			_, _ = decodePacket(pv, "/")
			o, _ := m.Get("opts")
			decodeOptions(o)
			if list, ok := getArray(m, "sockets"); ok {
				for _, s := range list {
					decodeRemoteSocket(nil, s)
				}
			}
			if data, ok := getArray(m, "data"); ok {
				if _, err := argsOf(data); err != nil {
					t.Fatalf("argsOf: %v", err)
				}
			}
		}
	})
}
