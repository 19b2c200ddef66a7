package parser_test

import (
	"encoding/json"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

const chatPacket = `2["chat",{"user":"a","text":"hello"}]`

type chatMsg struct {
	User string `json:"user"`
	Text string `json:"text"`
}

func BenchmarkEncode(b *testing.B) {
	enc := parser.NewJSONParser(nil).NewEncoder()
	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["chat",{"user":"a","text":"hello"}]`)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := enc.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBinary(b *testing.B) {
	enc := parser.NewJSONParser(nil).NewEncoder()
	p := &parser.Packet{Type: parser.Event, Namespace: "/files", ID: 12, HasID: true,
		Data: json.RawMessage(`["file",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{make([]byte, 1024)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := enc.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	dec := parser.NewJSONParser(nil).NewDecoder()
	msg := []byte(chatPacket)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; i < b.N; i++ {
		if p, err := dec.Add(msg, false); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeNamespaceAck(b *testing.B) {
	dec := parser.NewJSONParser(nil).NewDecoder()
	msg := []byte(`2/chat,42["chat",{"user":"a","text":"hello"}]`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if p, err := dec.Add(msg, false); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	dec := parser.NewJSONParser(nil).NewDecoder()
	header := []byte(`51-["file",{"name":"a.png","data":{"_placeholder":true,"num":0}}]`)
	att := make([]byte, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := dec.Add(header, false); err != nil {
			b.Fatal(err)
		}
		if p, err := dec.Add(att, true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalEventStruct(b *testing.B) {
	args := []any{chatMsg{User: "a", Text: "hello"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := parser.MarshalEvent("chat", args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalArgsMap(b *testing.B) {
	args := []any{"chat", map[string]any{"user": "a", "text": "hello"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := parser.MarshalArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalArgsBinary(b *testing.B) {
	type file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	args := []any{"file", file{Name: "a.png", Data: make([]byte, 1024)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := parser.MarshalArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := json.RawMessage(`["chat",{"user":"a","text":"hello"}]`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parser.SplitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalBinary(b *testing.B) {
	type file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	raw := json.RawMessage(`{"name":"a.png","data":{"_placeholder":true,"num":0}}`)
	atts := [][]byte{make([]byte, 1024)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var f file
		if err := parser.Unmarshal(raw, atts, &f); err != nil {
			b.Fatal(err)
		}
	}
}
