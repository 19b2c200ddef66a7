package parser_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

// EncodeEvent must give exactly what MarshalEvent followed by Encode gives.
func TestEncodeEventMatchesEncode(t *testing.T) {
	plain := parser.NewJSONParser(nil).NewEncoder()
	enc, ok := plain.(parser.EventEncoder)
	if !ok {
		t.Fatal("the JSON parser's encoder does not implement EventEncoder")
	}
	type pt struct {
		A string `json:"a"`
		B []byte `json:"b"`
	}
	cases := []struct {
		name  string
		nsp   string
		id    uint64
		hasID bool
		event string
		args  []any
	}{
		{"plain", "/", 0, false, "echo", []any{"hello"}},
		{"no args", "/", 0, false, "ping", nil},
		{"namespace", "/admin", 0, false, "x", []any{1, 2.5, true, nil}},
		{"ack id", "/", 42, true, "ask", []any{map[string]int{"n": 1}}},
		{"namespace and id", "/a", parser.MaxAckID, true, "ask", []any{"q"}},
		{"escapes", "", 0, false, "quo\"te", []any{"line\nbreak", "é"}},
		{"binary", "/", 0, false, "file", []any{[]byte{1, 2, 3}}},
		{"binary nested with id", "/b", 7, true, "files", []any{pt{A: "x", B: []byte{9}}, []byte{}, "tail"}},
		// The one-pass path (strings without escapes, bools, nil, ints).
		{"simple kinds", "/ns", 3, true, "ev", []any{"", "exactly8", "longer than eight bytes, plain", int(-1 << 63), 0, int(1<<63 - 1), false, nil, true}},
		{"simple but for the name", "/", 0, false, "événement", []any{"x", 1}},
		{"simple but for one string", "/", 0, false, "ev", []any{"x", "tab\there", 1}},
		{"simple but for a float", "/", 0, false, "ev", []any{"x", 1.5}},
		{"a string of 8 with a quote last", "/", 0, false, "ev", []any{`1234567"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, atts, err := parser.MarshalEvent(c.event, c.args)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Encode(&parser.Packet{Type: parser.Event, Namespace: c.nsp, ID: c.id, HasID: c.hasID, Data: data, Attachments: atts})
			if err != nil {
				t.Fatal(err)
			}
			text, gotAtts, err := enc.EncodeEvent(c.nsp, c.id, c.hasID, c.event, c.args)
			if err != nil {
				t.Fatal(err)
			}
			sameMessages(t, text, gotAtts, want)

			// The same arguments as an ACK.
			data, atts, err = parser.MarshalArgs(c.args)
			if err != nil {
				t.Fatal(err)
			}
			want, err = plain.Encode(&parser.Packet{Type: parser.Ack, Namespace: c.nsp, ID: c.id, HasID: true, Data: data, Attachments: atts})
			if err != nil {
				t.Fatal(err)
			}
			text, gotAtts, err = enc.EncodeAck(c.nsp, c.id, c.args)
			if err != nil {
				t.Fatal(err)
			}
			sameMessages(t, text, gotAtts, want)
		})
	}
}

func sameMessages(t *testing.T, text []byte, atts [][]byte, want [][]byte) {
	t.Helper()
	if !bytes.Equal(text, want[0]) {
		t.Errorf("text %q, want %q", text, want[0])
	}
	if len(atts) != len(want)-1 {
		t.Fatalf("%d attachments, want %d", len(atts), len(want)-1)
	}
	for i, a := range atts {
		if !bytes.Equal(a, want[i+1]) {
			t.Errorf("attachment %d: %v, want %v", i, a, want[i+1])
		}
	}
}

func TestEncodeEventRejects(t *testing.T) {
	enc := parser.NewJSONParser(nil).NewEncoder().(parser.EventEncoder)
	for name, f := range map[string]func() error{
		"bad namespace":   func() error { _, _, err := enc.EncodeEvent("admin", 0, false, "x", nil); return err },
		"comma namespace": func() error { _, _, err := enc.EncodeEvent("/a,b", 0, false, "x", nil); return err },
		"ack id too large": func() error {
			_, _, err := enc.EncodeEvent("/", parser.MaxAckID+1, true, "x", nil)
			return err
		},
		"ack with ack id too large": func() error {
			_, _, err := enc.EncodeAck("/", parser.MaxAckID+1, nil)
			return err
		},
	} {
		if err := f(); !errors.Is(err, parser.ErrInvalidPacket) {
			t.Errorf("%s: %v, want ErrInvalidPacket", name, err)
		}
	}
	if _, _, err := enc.EncodeEvent("/", 0, false, "x", []any{make(chan int)}); err == nil {
		t.Error("a channel argument was encoded")
	}
}

// FuzzEncodeEvent: the one-pass path for simple arguments must give what
// MarshalEvent and Encode give.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("echo", "hello", 42, true, uint64(0), false)
	f.Add("a\"b", "é\n", -1, false, uint64(7), true)
	plain := parser.NewJSONParser(nil).NewEncoder()
	enc := plain.(parser.EventEncoder)
	f.Fuzz(func(t *testing.T, event, s string, n int, b bool, id uint64, hasID bool) {
		id %= parser.MaxAckID + 1
		args := []any{s, n, b, nil, s}
		text, atts, err := enc.EncodeEvent("/fz", id, hasID, event, args)
		data, watts, werr := parser.MarshalEvent(event, args)
		if (err != nil) != (werr != nil) {
			t.Fatalf("EncodeEvent error %v, MarshalEvent error %v", err, werr)
		}
		if err != nil {
			return
		}
		want, err := plain.Encode(&parser.Packet{Type: parser.Event, Namespace: "/fz", ID: id, HasID: hasID, Data: data, Attachments: watts})
		if err != nil {
			t.Fatal(err)
		}
		sameMessages(t, text, atts, want)
	})
}
