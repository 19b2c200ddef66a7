package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

// splitMessages reads a fuzz input as Engine.IO messages separated by 0x1e;
// the first byte of each tells whether it is binary (odd) or text.
func splitMessages(data []byte) []msg {
	var out []msg
	for _, part := range bytes.Split(data, []byte{0x1e}) {
		if len(part) == 0 {
			continue
		}
		out = append(out, msg{data: string(part[1:]), binary: part[0]&1 == 1})
	}
	return out
}

func joinMessages(msgs ...msg) []byte {
	var b []byte
	for i, m := range msgs {
		if i > 0 {
			b = append(b, 0x1e)
		}
		if m.binary {
			b = append(b, 'b')
		} else {
			b = append(b, 't')
		}
		b = append(b, m.data...)
	}
	return b
}

func FuzzDecoder(f *testing.F) {
	for _, tc := range codecCases {
		f.Add(joinMessages(tc.wire...))
	}
	for _, s := range []string{
		`0`, `0/admin,{"token":"x"}`, `2["a",1]`, `3/a,12[]`, `4"x"`, `1/a,`, `999`, `5`, `51-`, `50-["a"]`,
		`51-["x",{"_placeholder":true,"num":"splice"}]`, `2["connect"]`, `2[{"toString":"foo"}]`, `442["some","data"`,
		`52-/a,9["a",{"_placeholder":true,"num":1,"x":{"_placeholder":true,"num":0}},{"n":{"_placeholder":true,"num":0}}]`,
	} {
		f.Add(joinMessages(text(s), bin("x"), bin("yz"), text(`2["after"]`)))
	}
	pr := parser.NewJSONParser(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := pr.NewDecoder()
		for _, m := range splitMessages(data) {
			p, err := d.Add([]byte(m.data), m.binary)
			if err != nil {
				d.Reset()
				continue
			}
			if p == nil {
				continue
			}
			checkPacket(t, p)
			checkArgs(t, p)
			msgs, err := pr.NewEncoder().Encode(p)
			if err != nil {
				t.Fatalf("decoded %s but cannot encode it: %v", dump(p), err)
			}
			d2 := pr.NewDecoder()
			var q *parser.Packet
			for i, m := range msgs {
				q, err = d2.Add(m, i > 0)
				if err != nil {
					t.Fatalf("re-encoded %s as %q, which does not decode: %v", dump(p), msgs, err)
				}
				if (q != nil) != (i == len(msgs)-1) {
					t.Fatalf("re-encoded %s as %q: packet done after message %d", dump(p), msgs, i)
				}
			}
			if !samePacket(p, q) {
				t.Fatalf("round trip changed the packet:\n %s\n %s", dump(p), dump(q))
			}
		}
	})
}

// checkArgs checks that the elements the decoder recorded while validating
// (Packet.Args) are the ones NewArgs finds.
func checkArgs(t *testing.T, p *parser.Packet) {
	t.Helper()
	got, err := p.Args()
	want, werr := parser.NewArgs(p.Data, p.Attachments)
	if (err != nil) != (werr != nil) {
		t.Fatalf("%s: Args error %v, NewArgs error %v", dump(p), err, werr)
	}
	if !reflect.DeepEqual(got.Raw(), want.Raw()) && (got.Len() != 0 || want.Len() != 0) {
		t.Fatalf("%s: Args %q, NewArgs %q", dump(p), got.Raw(), want.Raw())
	}
	if !reflect.DeepEqual(got.Attachments(), want.Attachments()) {
		t.Fatalf("%s: Args attachments differ from NewArgs'", dump(p))
	}
	// Strings known plain from the decoder decode as Unmarshal decodes them.
	for i := 0; i < got.Len() && err == nil; i++ {
		var a, b string
		aerr, berr := got.Decode(i, &a), want.Decode(i, &b)
		if (aerr != nil) != (berr != nil) || a != b {
			t.Fatalf("%s: argument %d: %q (%v) from Args, %q (%v) from NewArgs", dump(p), i, a, aerr, b, berr)
		}
		if from := got.From(1); i >= 1 {
			var c string
			if cerr := from.Decode(i-1, &c); (cerr != nil) != (berr != nil) || c != b {
				t.Fatalf("%s: From(1).Decode(%d): %q (%v), want %q (%v)", dump(p), i-1, c, cerr, b, berr)
			}
		}
	}
}

func checkPacket(t *testing.T, p *parser.Packet) {
	t.Helper()
	if p.Type > parser.BinaryAck || p.Namespace == "" || p.Namespace[0] != '/' || p.ID > parser.MaxAckID || (!p.HasID && p.ID != 0) {
		t.Fatalf("bad packet %s", dump(p))
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("invalid JSON accepted: %s", dump(p))
	}
	binary := p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck
	if binary != (len(p.Attachments) > 0) {
		t.Fatalf("attachments do not match the type: %s", dump(p))
	}
	if p.Data != nil && (p.Type == parser.Event || p.Type == parser.BinaryEvent) {
		args, err := parser.SplitArray(p.Data)
		if err != nil || len(args) == 0 {
			t.Fatalf("event %s: %q %v", dump(p), args, err)
		}
		if binary {
			for _, a := range args {
				var x any
				if err := parser.Unmarshal(a, p.Attachments, &x); err != nil {
					// Numbers beyond float64 are valid JSON that encoding/json refuses.
					var typeErr *json.UnmarshalTypeError
					if !errors.As(err, &typeErr) {
						t.Fatalf("argument %s of %s: %v", a, dump(p), err)
					}
				}
			}
		}
	}
}

func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `["a",1,{"b":[null,true,false]}]`, ` [ 1 , 2 ] `, `[1,]`, `[`, `{}`, `"x"`, `[1e5,-0.5,"\u00e9\n"]`, "[\"\xff\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parser.SplitArray(data)
		if string(bytes.Trim(data, " \t\r\n")) == "null" { // encoding/json takes null for a nil slice
			if err == nil {
				t.Fatal("null accepted")
			}
			return
		}
		var want []json.RawMessage
		stdErr := json.Unmarshal(data, &want)
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("SplitArray(%q): error %v, encoding/json: %v", data, err, stdErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("SplitArray(%q) = %q, encoding/json: %q", data, got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("SplitArray(%q) = %q, encoding/json: %q", data, got, want)
			}
		}
	})
}
