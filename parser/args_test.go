package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socketio-go/socketio/parser"
)

func stdJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

type Inner struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type Embedded struct {
	E  string
	In Inner `json:"in"`
}

type embeddedLower struct{ Low string }

type withAny struct {
	Name    string            `json:"name"`
	Any     any               `json:"any"`
	Skip    any               `json:"-"`
	Empty   any               `json:"empty,omitempty"`
	Zero    Inner             `json:"zero,omitzero"`
	Num     int               `json:"num,string"`
	Str     string            `json:"str,string"`
	PNum    *int              `json:",string"`
	Map     map[string]any    `json:"map"`
	IntMap  map[int]any       `json:"intMap"`
	List    []any             `json:"list"`
	Arr     [2]any            `json:"arr"`
	When    time.Time         `json:"when"`
	IP      net.IP            `json:"ip"`
	Raw     json.RawMessage   `json:"raw"`
	Nested  *withAny          `json:"nested,omitempty"`
	private any               //nolint:unused // must be ignored
	Tagged  map[string]string `json:"tagged"`
	Embedded
	*embeddedLower
}

func TestMarshalArgsLikeEncodingJSON(t *testing.T) {
	n := 7
	values := []any{
		nil, true, false, 0, -12, int64(math.MaxInt64), 3.25, 1e21, float32(0.1), "", "hello",
		"<html> & \"quotes\" \\ \n\t\x01 é 日本 \u2028", "\xff invalid utf8",
		map[string]string{"b": "2", "a": "1"},
		map[int]string{2: "b", 10: "a"},
		[]int{1, 2, 3}, []string(nil), [3]int{1, 2, 3}, [2]byte{1, 2},
		Inner{A: "x"}, &Inner{A: "y", B: 2}, Embedded{E: "e"},
		time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), net.IPv4(1, 2, 3, 4),
		json.RawMessage(`{"pre":"formatted"}`), json.Number("12.50"),
		[]any{"a", 1.5, nil, map[string]any{"z": 1, "a": []any{true}}},
		map[string]any{"x": map[string]any{"y": []any{1, "2"}}, "a": nil},
		withAny{
			Name: "n", Any: map[string]any{"k": []any{1, "v"}}, Num: 5, Str: "s", PNum: &n,
			Map: map[string]any{"b": 1, "a": 2}, IntMap: map[int]any{3: "c", -1: "d"},
			List: []any{Inner{A: "in list"}, nil}, Arr: [2]any{1, "two"},
			When: time.Unix(0, 0).UTC(), IP: net.IPv6loopback, Raw: json.RawMessage(`[1, 2]`),
			Nested: &withAny{Name: "child", Any: 1.5}, private: 1, Tagged: map[string]string{"t": "v"},
			Embedded: Embedded{E: "emb", In: Inner{A: "ia"}}, embeddedLower: &embeddedLower{Low: "low"},
		},
		withAny{},
		&withAny{Any: &withAny{}},
	}
	for _, v := range values {
		want := "[" + stdJSON(t, v) + "]"
		data, atts, err := parser.MarshalArgs([]any{v})
		if err != nil {
			t.Errorf("%#v: %v", v, err)
			continue
		}
		if string(data) != want {
			t.Errorf("MarshalArgs(%#v)\n got  %s\n want %s", v, data, want)
		}
		if atts != nil {
			t.Errorf("%#v: attachments %v", v, atts)
		}
	}
}

type Blob []byte

type fileMsg struct {
	Name  string            `json:"name"`
	File  []byte            `json:"file"`
	Opt   []byte            `json:"opt,omitempty"`
	Nil   []byte            `json:"nil"`
	Blob  Blob              `json:"blob"`
	Files [][]byte          `json:"files"`
	ByKey map[string][]byte `json:"byKey"`
	Ptr   *[]byte           `json:"ptr"`
	Arr   [2][]byte         `json:"arr"`
	Any   any               `json:"any"`
	Raw   json.RawMessage   `json:"raw"`
	skip  []byte
	Embedded
	*fileEmbedded
}

type fileEmbedded struct {
	Deep []byte `json:"deep"`
}

func ph(n int) string { return `{"_placeholder":true,"num":` + string(rune('0'+n)) + `}` }

func TestMarshalArgsBinary(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	p := b("p")
	cases := []struct {
		name string
		args []any
		want string
		atts []string
	}{
		{"top level", []any{"a", b("abc")}, `["a",` + ph(0) + `]`, []string{"abc"}},
		{"empty is attachment, nil is null", []any{b(""), []byte(nil)}, `[` + ph(0) + `,null]`, []string{""}},
		{"nested", []any{"a", map[string]any{"b": []any{"c", b("abc")}}}, `["a",{"b":["c",` + ph(0) + `]}]`, []string{"abc"}},
		{"several", []any{b("1"), []any{b("2"), map[string][]byte{"y": b("4"), "x": b("3")}}},
			`[` + ph(0) + `,[` + ph(1) + `,{"x":` + ph(2) + `,"y":` + ph(3) + `}]]`, []string{"1", "2", "3", "4"}},
		{"named byte slice", []any{Blob("x")}, `[` + ph(0) + `]`, []string{"x"}},
		{"pointer", []any{&p}, `[` + ph(0) + `]`, []string{"p"}},
		{"raw passes", []any{json.RawMessage(` {"a": 1} `), b("x")}, `[ {"a": 1} ,` + ph(0) + `]`, []string{"x"}},
		{"struct", []any{fileMsg{
			Name: "f", File: b("file"), Blob: Blob("blob"), Files: [][]byte{b("f0"), b("f1")},
			ByKey: map[string][]byte{"k": b("k")}, Ptr: &p, Arr: [2][]byte{b("a0"), nil},
			Any: []any{b("any")}, Raw: json.RawMessage(`{"x":1}`), skip: b("skip"),
			Embedded: Embedded{E: "e"}, fileEmbedded: &fileEmbedded{Deep: b("deep")},
		}},
			`[{"name":"f","file":` + ph(0) + `,"nil":null,"blob":` + ph(1) + `,"files":[` + ph(2) + `,` + ph(3) +
				`],"byKey":{"k":` + ph(4) + `},"ptr":` + ph(5) + `,"arr":[` + ph(6) + `,null],"any":[` + ph(7) +
				`],"raw":{"x":1},"E":"e","in":{"a":""},"deep":` + ph(8) + `}]`,
			[]string{"file", "blob", "f0", "f1", "k", "p", "a0", "any", "deep"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, atts, err := parser.MarshalArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Errorf("got  %s\nwant %s", data, tc.want)
			}
			var got []string
			for _, a := range atts {
				got = append(got, string(a))
			}
			if !reflect.DeepEqual(got, tc.atts) {
				t.Errorf("attachments %q, want %q", got, tc.atts)
			}
		})
	}
}

func TestMarshalEvent(t *testing.T) {
	data, atts, err := parser.MarshalEvent("chat", []any{map[string]string{"user": "a"}, []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `["chat",{"user":"a"},` + ph(0) + `]`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
	if len(atts) != 1 {
		t.Errorf("attachments %v", atts)
	}
	data, _, _ = parser.MarshalEvent("\"odd\" <name>", nil)
	if want := `["\"odd\" <name>"]`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
}

func TestMarshalArgsErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	cases := []struct {
		name string
		v    any
		want error
	}{
		{"cycle", cyclic, parser.ErrUnsupportedValue},
		{"invalid raw", json.RawMessage(`{`), parser.ErrUnsupportedValue},
		{"bad map key", map[[2]int]any{{1, 2}: 1}, parser.ErrUnsupportedValue},
		{"func", func() {}, nil},
		{"func in any", []any{func() {}}, nil},
		{"nan", math.NaN(), nil},
	}
	for _, tc := range cases {
		_, _, err := parser.MarshalArgs([]any{tc.v})
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSplitArray(t *testing.T) {
	got, err := parser.SplitArray(json.RawMessage(` [ "a" , 1,{"x":[1,2]},[], null ,"]"] `))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"a"`, `1`, `{"x":[1,2]}`, `[]`, `null`, `"]"`}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("element %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := parser.SplitArray(json.RawMessage(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("empty array: %q, %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `"a"`, `[`, `[1,]`, `[1 2]`, `[1]x`, `[1][2]`, `[,]`, `[01]`} {
		if _, err := parser.SplitArray(json.RawMessage(bad)); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Errorf("SplitArray(%q): got %v", bad, err)
		}
	}
}

type upload struct {
	Name  string            `json:"name"`
	File  []byte            `json:"file"`
	Files [][]byte          `json:"files"`
	ByKey map[string][]byte `json:"byKey"`
	Ptr   *[]byte           `json:"ptr"`
	Arr   [2][]byte         `json:"arr"`
	Meta  any               `json:"meta"`
	Raw   json.RawMessage   `json:"raw"`
	Blob  Blob              `json:"blob"`
	Count int               `json:"count,string"`
	Inner
	*fileEmbedded
}

func TestUnmarshal(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one"), []byte("two")}
	p := func(n int) string { return ph(n) }

	var b []byte
	if err := parser.Unmarshal(json.RawMessage(p(1)), atts, &b); err != nil || string(b) != "one" {
		t.Errorf("[]byte: %q, %v", b, err)
	}

	var x any
	raw := `{"a":[1,"s",` + p(0) + `,{"b":` + p(2) + `}],"n":null,"t":true}`
	if err := parser.Unmarshal(json.RawMessage(raw), atts, &x); err != nil {
		t.Fatal(err)
	}
	wantX := map[string]any{"a": []any{1.0, "s", []byte("zero"), map[string]any{"b": []byte("two")}}, "n": nil, "t": true}
	if !reflect.DeepEqual(x, wantX) {
		t.Errorf("any: got %#v", x)
	}

	var u upload
	raw = `{"name":"n","FILE":` + p(0) + `,"files":[` + p(1) + `,` + p(2) + `],"byKey":{"k":` + p(0) + `},"ptr":` + p(1) +
		`,"arr":[` + p(2) + `],"meta":{"m":` + p(0) + `},"raw":` + p(1) + `,"blob":` + p(2) + `,"count":"42","a":"inner","deep":` + p(0) + `,"unknown":` + p(1) + `}`
	if err := parser.Unmarshal(json.RawMessage(raw), atts, &u); err != nil {
		t.Fatal(err)
	}
	one := []byte("one")
	want := upload{Name: "n", File: atts[0], Files: [][]byte{atts[1], atts[2]}, ByKey: map[string][]byte{"k": atts[0]}, Ptr: &one,
		Arr: [2][]byte{atts[2], nil}, Meta: map[string]any{"m": atts[0]}, Raw: json.RawMessage(p(1)), Blob: Blob("two"), Count: 42,
		Inner: Inner{A: "inner"}} // the unexported embedded pointer cannot be set, as with encoding/json
	if !reflect.DeepEqual(u, want) {
		t.Errorf("struct:\n got  %+v\n want %+v", u, want)
	}

	// Without attachments, or with no placeholder, it is json.Unmarshal.
	for _, raw := range []string{
		`{"name":"n","file":"YWJj","meta":{"x":[1,2]},"raw":[1],"count":"3","a":"b"}`,
		`{"name":null,"file":null,"files":null,"meta":null,"ptr":null}`,
		`{"files":[null,"YQ=="],"arr":["YQ==","Yg==","Yw=="],"byKey":{"a":"YQ=="}}`,
	} {
		var got, want upload
		if err := parser.Unmarshal(json.RawMessage(raw), atts, &got); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", raw, got, want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	atts := [][]byte{[]byte("zero")}
	var s string
	var typeErr *json.UnmarshalTypeError
	if err := parser.Unmarshal(json.RawMessage(ph(0)), atts, &s); !errors.As(err, &typeErr) {
		t.Errorf("string target: %v", err)
	}
	var x any
	for _, raw := range []string{
		`{"_placeholder":true,"num":1}`, `[{"_placeholder":true,"num":-1}]`, `{"_placeholder":true,"num":"0"}`,
		`{"_placeholder":true}`, `{"a":{"_placeholder":true,"num":0.5}}`,
	} {
		if err := parser.Unmarshal(json.RawMessage(raw), atts, &x); !errors.Is(err, parser.ErrIllegalAttachments) {
			t.Errorf("%s: got %v", raw, err)
		}
	}
	if err := parser.Unmarshal(json.RawMessage(`[1,`), atts, &x); !errors.Is(err, parser.ErrInvalidPayload) {
		t.Errorf("bad JSON: got %v", err)
	}
	if err := parser.Unmarshal(json.RawMessage(`1`), atts, x); err == nil {
		t.Error("non-pointer target accepted")
	}
	var m map[int][]byte
	if err := parser.Unmarshal(json.RawMessage(`{"x":`+ph(0)+`}`), atts, &m); !errors.As(err, &typeErr) {
		t.Errorf("bad map key: %v", err)
	}
}

func TestArgsRoundTrip(t *testing.T) {
	in := fileMsg{Name: "n", File: []byte("f"), Any: map[string]any{"deep": []any{[]byte("d")}}, Files: [][]byte{{1}, {2}}}
	data, atts, err := parser.MarshalEvent("upload", []any{in, []byte("second")})
	if err != nil {
		t.Fatal(err)
	}
	pr := parser.NewJSONParser(nil)
	msgs, err := pr.NewEncoder().Encode(&parser.Packet{Type: parser.Event, Namespace: "/files", Data: data, Attachments: atts})
	if err != nil {
		t.Fatal(err)
	}
	dec := pr.NewDecoder()
	var p *parser.Packet
	for i, m := range msgs {
		if p, err = dec.Add(m, i > 0); err != nil {
			t.Fatal(err)
		}
	}
	if p == nil || p.Type != parser.BinaryEvent || len(p.Attachments) != 5 {
		t.Fatalf("got %s", dump(p))
	}
	args, err := parser.SplitArray(p.Data)
	if err != nil || len(args) != 3 {
		t.Fatalf("%q, %v", args, err)
	}
	var name string
	var out fileMsg
	var second any
	if err := parser.Unmarshal(args[0], p.Attachments, &name); err != nil || name != "upload" {
		t.Fatalf("%q, %v", name, err)
	}
	if err := parser.Unmarshal(args[1], p.Attachments, &out); err != nil {
		t.Fatal(err)
	}
	if err := parser.Unmarshal(args[2], p.Attachments, &second); err != nil {
		t.Fatal(err)
	}
	want := in
	want.Ptr = nil
	if !reflect.DeepEqual(out.File, want.File) || !reflect.DeepEqual(out.Files, want.Files) ||
		!reflect.DeepEqual(out.Any, map[string]any{"deep": []any{[]byte("d")}}) {
		t.Errorf("got %+v", out)
	}
	if !bytes.Equal(second.([]byte), []byte("second")) {
		t.Errorf("second = %v", second)
	}
}

func TestMarshalConcurrent(t *testing.T) {
	type msg struct {
		A []byte
		B any
		C map[string][]any
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				var data json.RawMessage
				var atts [][]byte
				data, atts, err = parser.MarshalArgs([]any{msg{A: []byte{1}, B: []byte{2}, C: map[string][]any{"x": {[]byte{3}}}}})
				if err == nil {
					var out msg
					err = parser.Unmarshal(data[1:len(data)-1], atts, &out)
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// Packet.Args reuses the elements the decoder found, for the Data they were
// found in only.
func TestPacketArgsReusesSplit(t *testing.T) {
	p, err := parser.NewJSONParser(nil).NewDecoder().Add([]byte(`2["a", {"b":[1,2]} ,3,4,"e"]`), false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"a"`, `{"b":[1,2]}`, `3`, `4`, `"e"`}
	if a.Len() != len(want) {
		t.Fatalf("%d elements, want %d", a.Len(), len(want))
	}
	for i, w := range want {
		if string(a.Raw()[i]) != w {
			t.Errorf("element %d: %s, want %s", i, a.Raw()[i], w)
		}
	}
	if &a.Raw()[0][0] != &p.Data[1] {
		t.Error("the element does not share the packet's memory")
	}
	p.Data = json.RawMessage(`["x"]`) // replaced: split again
	if a, err = p.Args(); err != nil || a.Len() != 1 || string(a.Raw()[0]) != `"x"` {
		t.Fatalf("after replacing Data: %q, %v", a.Raw(), err)
	}
	p.Data = json.RawMessage(`["x"`)
	if _, err := p.Args(); !errors.Is(err, parser.ErrInvalidPayload) {
		t.Fatalf("bad replaced Data: %v", err)
	}
	// A packet not from a decoder.
	q := &parser.Packet{Type: parser.Event, Data: json.RawMessage(`["y",1]`)}
	if a, err = q.Args(); err != nil || a.Len() != 2 {
		t.Fatalf("built packet: %q, %v", a.Raw(), err)
	}
}

// Strings the decoder found plain decode without another scan, and exactly
// as Unmarshal decodes them; the others still go through Unmarshal.
func TestPacketArgsPlainStrings(t *testing.T) {
	msg := "2[\"ev\",\"plain\",\"esc\\\"aped\",\"caf\u00e9\",\"bad \xf1 utf-8\",7,\"last\"]"
	p, err := parser.NewJSONParser(nil).NewDecoder().Add([]byte(msg), false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ev", "plain", `esc"aped`, "café", "bad \ufffd utf-8", "", "last"}
	for _, args := range []struct {
		name  string
		a     parser.Args
		first int
	}{{"Args", a, 0}, {"From(2)", a.From(2), 2}} {
		for i := args.first; i < len(want); i++ {
			var s string
			err := args.a.Decode(i-args.first, &s)
			if i == 5 { // the number
				if err == nil {
					t.Errorf("%s: a number decoded into a string: %q", args.name, s)
				}
				continue
			}
			if err != nil || s != want[i] {
				t.Errorf("%s: argument %d: %q, %v; want %q", args.name, i, s, err, want[i])
			}
			// DecodeString and DecodeAs[string] agree with Decode.
			if s2, err := args.a.DecodeString(i - args.first); err != nil || s2 != want[i] {
				t.Errorf("%s: DecodeString(%d): %q, %v; want %q", args.name, i, s2, err, want[i])
			}
			if s3, err := parser.DecodeAs[string](args.a, i-args.first); err != nil || s3 != want[i] {
				t.Errorf("%s: DecodeAs[string](%d): %q, %v; want %q", args.name, i, s3, err, want[i])
			}
		}
	}
	if s, err := a.DecodeString(5); err == nil {
		t.Errorf("DecodeString of a number: %q, no error", s)
	}
	for _, i := range []int{-1, len(want)} {
		if _, err := a.DecodeString(i); err == nil {
			t.Errorf("DecodeString(%d) of %d arguments: no error", i, len(want))
		}
	}
	// DecodeAs of other types decodes as Decode does.
	if n, err := parser.DecodeAs[int](a, 5); err != nil || n != 7 {
		t.Errorf("DecodeAs[int](5): %d, %v", n, err)
	}
	if _, err := parser.DecodeAs[int](a, 1); err == nil {
		t.Error("DecodeAs[int] of a string: no error")
	}
	if v, err := parser.DecodeAs[any](a, 5); err != nil || v != float64(7) {
		t.Errorf("DecodeAs[any](5): %v, %v", v, err)
	}
}
