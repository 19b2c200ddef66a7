package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

// msg is one Engine.IO message fed to a decoder.
type msg struct {
	data   string
	binary bool
}

func text(s string) msg { return msg{data: s} }
func bin(s string) msg  { return msg{data: s, binary: true} }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// feed gives msgs to d and returns the packet completed by the last one,
// or the first error.
func feed(t *testing.T, d parser.Decoder, msgs ...msg) (*parser.Packet, error) {
	t.Helper()
	return feedCheck(t, true, d, msgs...)
}

func feedCheck(t *testing.T, strict bool, d parser.Decoder, msgs ...msg) (*parser.Packet, error) {
	t.Helper()
	var p *parser.Packet
	for i, m := range msgs {
		var err error
		p, err = d.Add([]byte(m.data), m.binary)
		if err != nil {
			return nil, err
		}
		if strict && p != nil && i != len(msgs)-1 {
			t.Fatalf("packet complete after message %d of %d: %+v", i+1, len(msgs), p)
		}
	}
	return p, nil
}

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := parser.Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
	}
}

// The wire examples of docs/socket.io-protocol/v5-current.md, and the
// packets of socket.io-parser's tests.
var codecCases = []struct {
	name   string
	packet parser.Packet
	wire   []msg
}{
	{"connect main", parser.Packet{Type: parser.Connect, Namespace: "/"}, []msg{text("0")}},
	{"connect custom", parser.Packet{Type: parser.Connect, Namespace: "/admin", Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)},
		[]msg{text(`0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{"connect with auth", parser.Packet{Type: parser.Connect, Namespace: "/woot", Data: raw(`{"token":"123"}`)},
		[]msg{text(`0/woot,{"token":"123"}`)}},
	{"connect error object", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)},
		[]msg{text(`4{"message":"Not authorized"}`)}},
	{"connect error string", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`"Unauthorized"`)},
		[]msg{text(`4"Unauthorized"`)}},
	{"connect error custom", parser.Packet{Type: parser.ConnectError, Namespace: "/name", Data: raw(`{"message":"Invalid namespace"}`)},
		[]msg{text(`4/name,{"message":"Invalid namespace"}`)}},
	{"event", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["foo"]`)}, []msg{text(`2["foo"]`)}},
	{"event args", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",1,{}]`)}, []msg{text(`2["a",1,{}]`)}},
	{"event number name", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[1,"a",{}]`)}, []msg{text(`2[1,"a",{}]`)}},
	{"event custom", parser.Packet{Type: parser.Event, Namespace: "/admin", Data: raw(`["bar"]`)}, []msg{text(`2/admin,["bar"]`)}},
	{"event with ack", parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)},
		[]msg{text(`212["foo"]`)}},
	{"event with ack custom", parser.Packet{Type: parser.Event, Namespace: "/test", ID: 1, HasID: true, Data: raw(`["a",1,{}]`)},
		[]msg{text(`2/test,1["a",1,{}]`)}},
	{"event ack id 0", parser.Packet{Type: parser.Event, Namespace: "/", ID: 0, HasID: true, Data: raw(`["a"]`)},
		[]msg{text(`20["a"]`)}},
	{"event max ack id", parser.Packet{Type: parser.Event, Namespace: "/", ID: parser.MaxAckID, HasID: true, Data: raw(`["a"]`)},
		[]msg{text(`29007199254740991["a"]`)}},
	{"ack", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 123, HasID: true, Data: raw(`["a",1,{}]`)},
		[]msg{text(`3123["a",1,{}]`)}},
	{"ack custom", parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)},
		[]msg{text(`3/admin,13["bar"]`)}},
	{"ack empty", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true, Data: raw(`[]`)},
		[]msg{text(`312[]`)}},
	{"disconnect main", parser.Packet{Type: parser.Disconnect, Namespace: "/"}, []msg{text("1")}},
	{"disconnect custom", parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}, []msg{text("1/admin,")}},
	{"binary event", parser.Packet{Type: parser.BinaryEvent, Namespace: "/",
		Data: raw(`["baz",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		[]msg{text(`51-["baz",{"_placeholder":true,"num":0}]`), bin("\x01\x02\x03\x04")}},
	{"binary event two attachments", parser.Packet{Type: parser.BinaryEvent, Namespace: "/admin",
		Data: raw(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1, 2}, {3, 4}}},
		[]msg{text(`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), bin("\x01\x02"), bin("\x03\x04")}},
	{"binary event with ack", parser.Packet{Type: parser.BinaryEvent, Namespace: "/cool", ID: 23, HasID: true,
		Data: raw(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("abc")}},
		[]msg{text(`51-/cool,23["a",{"_placeholder":true,"num":0}]`), bin("abc")}},
	{"binary event nested", parser.Packet{Type: parser.BinaryEvent, Namespace: "/cool", ID: 23, HasID: true,
		Data: raw(`["a",{"b":["c",{"_placeholder":true,"num":0}]}]`), Attachments: [][]byte{[]byte("abc")}},
		[]msg{text(`51-/cool,23["a",{"b":["c",{"_placeholder":true,"num":0}]}]`), bin("abc")}},
	{"binary event deep", parser.Packet{Type: parser.BinaryEvent, Namespace: "/deep", ID: 999, HasID: true,
		Data:        raw(`["a",{"a":"hi","b":{"why":{"_placeholder":true,"num":0}},"c":{"a":"bye","b":{"a":{"_placeholder":true,"num":1}}}}]`),
		Attachments: [][]byte{make([]byte, 3), make([]byte, 6)}},
		[]msg{text(`52-/deep,999["a",{"a":"hi","b":{"why":{"_placeholder":true,"num":0}},"c":{"a":"bye","b":{"a":{"_placeholder":true,"num":1}}}}]`),
			bin("\x00\x00\x00"), bin("\x00\x00\x00\x00\x00\x00")}},
	{"binary event reused attachment", parser.Packet{Type: parser.BinaryEvent, Namespace: "/",
		Data: raw(`["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{}, {9}}},
		[]msg{text(`52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}]`), bin(""), bin("\x09")}},
	{"binary ack", parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 15, HasID: true,
		Data: raw(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		[]msg{text(`61-15["bar",{"_placeholder":true,"num":0}]`), bin("\x01\x02\x03\x04")}},
	{"binary ack custom", parser.Packet{Type: parser.BinaryAck, Namespace: "/back", ID: 127, HasID: true,
		Data: raw(`["a",{"_placeholder":true,"num":0},{}]`), Attachments: [][]byte{[]byte("xxx")}},
		[]msg{text(`61-/back,127["a",{"_placeholder":true,"num":0},{}]`), bin("xxx")}},
}

func TestEncode(t *testing.T) {
	enc := parser.NewJSONParser(nil).NewEncoder()
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enc.Encode(&tc.packet)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.wire) {
				t.Fatalf("got %d messages, want %d", len(got), len(tc.wire))
			}
			for i, m := range tc.wire {
				if string(got[i]) != m.data {
					t.Errorf("message %d = %q, want %q", i, got[i], m.data)
				}
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := feed(t, parser.NewJSONParser(nil).NewDecoder(), tc.wire...)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				t.Fatal("no packet")
			}
			if !samePacket(p, &tc.packet) {
				t.Errorf("got  %s\nwant %s", dump(p), dump(&tc.packet))
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	pr := parser.NewJSONParser(nil)
	enc, dec := pr.NewEncoder(), pr.NewDecoder() // one decoder for all: its state must stay clean
	for _, tc := range codecCases {
		msgs, err := enc.Encode(&tc.packet)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var p *parser.Packet
		for i, m := range msgs {
			if p, err = dec.Add(m, i > 0); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if p == nil || !samePacket(p, &tc.packet) {
			t.Errorf("%s: got %s, want %s", tc.name, dump(p), dump(&tc.packet))
		}
	}
}

// samePacket compares the exported fields of two packets (a decoded packet
// also keeps where its Data's elements are, for Packet.Args).
func samePacket(a, b *parser.Packet) bool {
	exported := func(p *parser.Packet) parser.Packet {
		return parser.Packet{Type: p.Type, Namespace: p.Namespace, ID: p.ID, HasID: p.HasID, Data: p.Data, Attachments: p.Attachments}
	}
	return reflect.DeepEqual(exported(a), exported(b))
}

func dump(p *parser.Packet) string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(p.Type.String() + " " + p.Namespace)
	if p.HasID {
		b.WriteString(" id=" + strconv.FormatUint(p.ID, 10))
	}
	b.WriteString(" data=" + string(p.Data))
	for _, a := range p.Attachments {
		b.WriteString(" att=" + string(a))
	}
	return b.String()
}

// Packets the reference decoder accepts although they look odd.
func TestDecodeLenient(t *testing.T) {
	cases := []struct {
		name string
		msgs []msg
		want parser.Packet
	}{
		{"namespace without comma", []msg{text("0/custom")}, parser.Packet{Type: parser.Connect, Namespace: "/custom"}},
		{"namespace with comma and no payload", []msg{text("0/custom,")}, parser.Packet{Type: parser.Connect, Namespace: "/custom"}},
		{"slash namespace", []msg{text(`2/,["a"]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)}},
		{"event without payload", []msg{text("2")}, parser.Packet{Type: parser.Event, Namespace: "/"}},
		{"ack without payload", []msg{text("31")}, parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1, HasID: true}},
		{"connect error without payload", []msg{text("4")}, parser.Packet{Type: parser.ConnectError, Namespace: "/"}},
		{"leading zeros in ack id", []msg{text(`2007["a"]`)}, parser.Packet{Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["a"]`)}},
		{"trailing space", []msg{text(`2["a"] `)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"] `)}},
		{"spaces inside", []msg{text(`2[ "a" , 1 ]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[ "a" , 1 ]`)}},
		{"negative number event", []msg{text(`2[-1.5e3]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[-1.5e3]`)}},
		{"reserved name as argument", []msg{text(`2["x","connect"]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["x","connect"]`)}},
		{"reserved name case differs", []msg{text(`2["Connect"]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["Connect"]`)}},
		{"ack with anything", []msg{text(`3[null]`)}, parser.Packet{Type: parser.Ack, Namespace: "/", Data: raw(`[null]`)}},
		{"namespace with odd characters", []msg{text(`2/a[1]{"x"},["a"]`)}, parser.Packet{Type: parser.Event, Namespace: `/a[1]{"x"}`, Data: raw(`["a"]`)}},
		{"binary without payload", []msg{text("51-"), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Attachments: [][]byte{[]byte("x")}}},
		{"binary zero attachments is plain", []msg{text(`50-["a"]`)}, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)}},
		{"binary ack zero attachments is plain", []msg{text(`60-1[]`)}, parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1, HasID: true, Data: raw(`[]`)}},
		{"leading zeros in count", []msg{text(`501-["a",{"_placeholder":true,"num":0}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("x")}}},
		{"placeholder num as float", []msg{text(`51-["a",{"_placeholder":true,"num":0.0},{"_placeholder":true,"num":0e5}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0.0},{"_placeholder":true,"num":0e5}]`), Attachments: [][]byte{[]byte("x")}}},
		{"placeholder false is no placeholder", []msg{text(`51-["a",{"_placeholder":false,"num":"x"},{"_placeholder":true,"num":0}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":false,"num":"x"},{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("x")}}},
		{"placeholder string true is no placeholder", []msg{text(`51-["a",{"_placeholder":"true","num":7},{"_placeholder":true,"num":0}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":"true","num":7},{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("x")}}},
		{"bad placeholder inside a placeholder", []msg{text(`51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`), Attachments: [][]byte{[]byte("x")}}},
		{"duplicate keys, last wins", []msg{text(`51-["a",{"_placeholder":true,"num":5,"num":0}]`), bin("x")},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":5,"num":0}]`), Attachments: [][]byte{[]byte("x")}}},
		{"placeholder in a text packet is data", []msg{text(`2["a",{"_placeholder":true,"num":99}]`)},
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":99}]`)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := feed(t, parser.NewJSONParser(nil).NewDecoder(), tc.msgs...)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil || !samePacket(p, &tc.want) {
				t.Errorf("got %s, want %s", dump(p), dump(&tc.want))
			}
		})
	}
}

var (
	errPacket   = parser.ErrInvalidPacket
	errPayload  = parser.ErrInvalidPayload
	errIllegal  = parser.ErrIllegalAttachments
	errTooMany  = parser.ErrTooManyAttachments
	errNoHeader = parser.ErrUnexpectedBinary
	errNoBinary = parser.ErrUnexpectedText
)

func TestDecodeInvalid(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	cases := []struct {
		name string
		msgs []msg
		want error
	}{
		// socket.io-parser test/parser.js "throw an error upon parsing error"
		{"unterminated", []msg{text(`442["some","data"`)}, errPayload},
		{"connect string", []msg{text(`0/admin,"invalid"`)}, errPayload},
		{"connect array", []msg{text("0[]")}, errPayload},
		{"disconnect payload", []msg{text("1/admin,{}")}, errPayload},
		{"event bad string", []msg{text(`2/admin,"invalid`)}, errPayload},
		{"event object", []msg{text("2/admin,{}")}, errPayload},
		{"event object name", []msg{text(`2[{"toString":"foo"}]`)}, errPayload},
		{"event bool name", []msg{text(`2[true,"foo"]`)}, errPayload},
		{"event null name", []msg{text(`2[null,"bar"]`)}, errPayload},
		{"reserved connect", []msg{text(`2["connect"]`)}, errPayload},
		{"reserved disconnect", []msg{text(`2["disconnect","123"]`)}, errPayload},
		{"count missing", []msg{text("5")}, errIllegal},
		{"count without dash", []msg{text("51")}, errIllegal},
		{"count not a number", []msg{text("5a-")}, errIllegal},
		{"count fraction", []msg{text("51.23-")}, errIllegal},
		{"unknown type 9", []msg{text("999")}, errPacket},
		// test/buffer.js
		{"num string", []msg{text(`51-["hello",{"_placeholder":true,"num":"splice"}]`), bin("world")}, errIllegal},
		{"num out of bounds", []msg{text(`51-["hello",{"_placeholder":true,"num":1}]`), bin("world")}, errIllegal},
		{"binary without header", []msg{bin("world")}, errNoHeader},
		{"text while reconstructing", []msg{text(`51-["hello",{"_placeholder":true,"num":0}]`), text(`2["hello"]`)}, errNoBinary},
		// the official v5 test suite (without the Engine.IO "4")
		{"suite unknown type", []msg{text("abc")}, errPacket},
		{"suite object event", []msg{text("2{}")}, errPayload},
		{"suite bad ack id", []msg{text(`2abc["message-with-ack",1,"2",{"3":[false]}]`)}, errPayload},
		// the remaining reserved names
		{"reserved connect_error", []msg{text(`2["connect_error"]`)}, errPayload},
		{"reserved disconnecting", []msg{text(`2["disconnecting"]`)}, errPayload},
		{"reserved newListener", []msg{text(`2["newListener"]`)}, errPayload},
		{"reserved removeListener", []msg{text(`2["removeListener"]`)}, errPayload},
		{"reserved escaped", []msg{text(`2["conn\u0065ct"]`)}, errPayload},
		{"reserved in binary", []msg{text(`51-["disconnect",{"_placeholder":true,"num":0}]`)}, errPayload},
		{"reserved with namespace and id", []msg{text(`2/a,1["connect"]`)}, errPayload},
		// more headers
		{"empty", []msg{text("")}, errPacket},
		{"type 7", []msg{text("7")}, errPacket},
		{"type space", []msg{text(" ")}, errPacket},
		{"type letter", []msg{text("a")}, errPacket},
		{"connect junk", []msg{text("0abc")}, errPayload},
		{"connect error junk", []msg{text("4abc")}, errPayload},
		{"disconnect junk", []msg{text("1abc")}, errPayload},
		{"count negative", []msg{text("5-1-[]")}, errIllegal},
		{"count empty", []msg{text("5-[]")}, errIllegal},
		{"count space", []msg{text("5 1-[]")}, errIllegal},
		{"count too many", []msg{text(`511-["a"]`)}, errTooMany},
		{"count huge", []msg{text("5" + strings.Repeat("9", 100) + "-[]")}, errTooMany},
		{"ack id beyond 2^53-1", []msg{text(`29007199254740992["a"]`)}, errPacket},
		{"ack id huge", []msg{text("2" + strings.Repeat("9", 1000) + `["a"]`)}, errPacket},
		{"ack id uint64 overflow", []msg{text(`218446744073709551617["a"]`)}, errPacket},
		{"space before payload", []msg{text(`2 ["a"]`)}, errPayload},
		{"space before connect payload", []msg{text(`0 {}`)}, errPayload},
		// payloads
		{"event empty", []msg{text("2[]")}, errPayload},
		{"event unterminated", []msg{text("2[1")}, errPayload},
		{"event trailing comma", []msg{text(`2["a",]`)}, errPayload},
		{"event trailing junk", []msg{text(`2["a"]x`)}, errPayload},
		{"event two values", []msg{text(`2["a"]["b"]`)}, errPayload},
		{"event nested array name", []msg{text(`2[["a"]]`)}, errPayload},
		{"event string", []msg{text(`2"a"`)}, errPayload},
		{"event bad escape", []msg{text(`2["\x"]`)}, errPayload},
		{"event control char", []msg{text("2[\"a\x01\"]")}, errPayload},
		{"event bad number", []msg{text(`2[01]`)}, errPayload},
		{"event bad literal", []msg{text(`2["a",tru]`)}, errPayload},
		{"event too deep", []msg{text(`2["a",` + deep + `]`)}, errPayload},
		{"ack object", []msg{text(`3{}`)}, errPayload},
		{"ack string", []msg{text(`31"a"`)}, errPayload},
		{"connect null", []msg{text("0null")}, errPayload},
		{"connect error null", []msg{text("4null")}, errPayload},
		{"connect error false", []msg{text("4false")}, errPayload},
		{"connect error array", []msg{text("4[]")}, errPayload},
		{"connect unterminated", []msg{text(`0{"a":1`)}, errPayload},
		// placeholders
		{"num -1", []msg{text(`51-["x",{"_placeholder":true,"num":-1}]`), bin("a")}, errIllegal},
		{"num 1.5", []msg{text(`52-["x",{"_placeholder":true,"num":1.5}]`), bin("a"), bin("b")}, errIllegal},
		{"num 99", []msg{text(`51-["x",{"_placeholder":true,"num":99}]`), bin("a")}, errIllegal},
		{`num "0"`, []msg{text(`51-["x",{"_placeholder":true,"num":"0"}]`), bin("a")}, errIllegal},
		{"num missing", []msg{text(`51-["x",{"_placeholder":true}]`), bin("a")}, errIllegal},
		{"num null", []msg{text(`51-["x",{"_placeholder":true,"num":null}]`), bin("a")}, errIllegal},
		{"num object", []msg{text(`51-["x",{"_placeholder":true,"num":{}}]`), bin("a")}, errIllegal},
		{"num huge", []msg{text(`51-["x",{"_placeholder":true,"num":1e400}]`), bin("a")}, errIllegal},
		{"num escaped key", []msg{text(`51-["x",{"\u005fplaceholder":true,"n\u0075m":3}]`), bin("a")}, errIllegal},
		{"num nested", []msg{text(`51-["x",{"a":[{"b":{"_placeholder":true,"num":1}}]}]`), bin("a")}, errIllegal},
		{"placeholder with zero attachments", []msg{text(`50-["x",{"_placeholder":true,"num":0}]`)}, errIllegal},
		{"ack bad num", []msg{text(`61-1[{"_placeholder":true,"num":2}]`), bin("a")}, errIllegal},
		// sequences
		{"binary after complete packet", []msg{text(`51-["a",{"_placeholder":true,"num":0}]`), bin("x"), bin("y")}, errNoHeader},
		{"binary after text packet", []msg{text(`2["a"]`), bin("y")}, errNoHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := feedCheck(t, false, parser.NewJSONParser(nil).NewDecoder(), tc.msgs...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "parser: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestMaxAttachments(t *testing.T) {
	three := `53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`
	d := parser.NewJSONParser(&parser.Options{MaxAttachments: 2}).NewDecoder()
	if _, err := d.Add([]byte(three), false); !errors.Is(err, errTooMany) {
		t.Fatalf("got %v, want %v", err, errTooMany)
	}
	d = parser.NewJSONParser(&parser.Options{MaxAttachments: 3}).NewDecoder()
	if _, err := feed(t, d, text(three), bin("a"), bin("b"), bin("c")); err != nil {
		t.Fatal(err)
	}
	d = parser.NewJSONParser(&parser.Options{MaxAttachments: -1}).NewDecoder()
	if _, err := d.Add([]byte(`51-["a"]`), false); !errors.Is(err, errTooMany) {
		t.Fatalf("negative MaxAttachments: got %v, want %v", err, errTooMany)
	}
	d = parser.NewJSONParser(nil).NewDecoder()
	if _, err := feed(t, d, text(`510-["a"]`), bin("0"), bin("1"), bin("2"), bin("3"), bin("4"), bin("5"), bin("6"), bin("7"), bin("8"), bin("9")); err != nil {
		t.Fatalf("10 attachments by default: %v", err)
	}
	if _, err := d.Add([]byte(`511-["a"]`), false); !errors.Is(err, errTooMany) {
		t.Fatalf("11 attachments by default: got %v, want %v", err, errTooMany)
	}
}

// socket.io-parser "should resume decoding after calling destroy()".
func TestDecoderReset(t *testing.T) {
	d := parser.NewJSONParser(nil).NewDecoder()
	if p, err := d.Add([]byte(`51-["hello"]`), false); p != nil || err != nil {
		t.Fatalf("got %v, %v", p, err)
	}
	d.Reset()
	p, err := d.Add([]byte(`2["hello"]`), false)
	if err != nil || p == nil || string(p.Data) != `["hello"]` {
		t.Fatalf("got %v, %v", p, err)
	}
	// The decoder is clean after an error too, although callers drop it.
	if _, err := d.Add([]byte(`51-["a",{"_placeholder":true,"num":0}]`), false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add([]byte(`2["a"]`), false); !errors.Is(err, errNoBinary) {
		t.Fatalf("got %v", err)
	}
	if p, err := d.Add([]byte(`2["a"]`), false); err != nil || p == nil {
		t.Fatalf("got %v, %v", p, err)
	}
}

func TestEncodeNormalizesBinaryType(t *testing.T) {
	enc := parser.NewJSONParser(nil).NewEncoder()
	cases := []struct {
		p    parser.Packet
		want string
	}{
		{parser.Packet{Type: parser.Event, Data: raw(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}, `51-["a",{"_placeholder":true,"num":0}]`},
		{parser.Packet{Type: parser.Ack, ID: 3, HasID: true, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}, `61-3[{"_placeholder":true,"num":0}]`},
		{parser.Packet{Type: parser.BinaryEvent, Data: raw(`["a"]`)}, `2["a"]`},
		{parser.Packet{Type: parser.BinaryAck, ID: 3, HasID: true, Data: raw(`[]`)}, `33[]`},
		{parser.Packet{Type: parser.Connect, Data: raw(`null`)}, `0`},
		{parser.Packet{Type: parser.Connect, Namespace: ""}, `0`},
	}
	for _, tc := range cases {
		msgs, err := enc.Encode(&tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if string(msgs[0]) != tc.want {
			t.Errorf("got %q, want %q", msgs[0], tc.want)
		}
		if len(msgs) != 1+len(tc.p.Attachments) {
			t.Errorf("got %d messages", len(msgs))
		}
	}
}

func TestEncodeInvalid(t *testing.T) {
	enc := parser.NewJSONParser(nil).NewEncoder()
	cases := []struct {
		name string
		p    parser.Packet
	}{
		{"unknown type", parser.Packet{Type: 7}},
		{"namespace without slash", parser.Packet{Type: parser.Event, Namespace: "admin", Data: raw(`["a"]`)}},
		{"namespace with comma", parser.Packet{Type: parser.Event, Namespace: "/a,b", Data: raw(`["a"]`)}},
		{"disconnect with payload", parser.Packet{Type: parser.Disconnect, Data: raw(`{}`)}},
		{"connect with attachments", parser.Packet{Type: parser.Connect, Attachments: [][]byte{{1}}}},
		{"connect with array", parser.Packet{Type: parser.Connect, Data: raw(`[]`)}},
		{"event with object", parser.Packet{Type: parser.Event, Data: raw(`{}`)}},
		{"event with leading space", parser.Packet{Type: parser.Event, Data: raw(` ["a"]`)}},
		{"connect error with number", parser.Packet{Type: parser.ConnectError, Data: raw(`1`)}},
		{"ack id too large", parser.Packet{Type: parser.Ack, ID: parser.MaxAckID + 1, HasID: true, Data: raw(`[]`)}},
	}
	for _, tc := range cases {
		if _, err := enc.Encode(&tc.p); !errors.Is(err, errPacket) {
			t.Errorf("%s: got %v, want %v", tc.name, err, errPacket)
		}
	}
}

func TestEncodeDoesNotModifyPacket(t *testing.T) {
	p := parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}
	before := p
	if _, err := parser.NewJSONParser(nil).NewEncoder().Encode(&p); err != nil {
		t.Fatal(err)
	}
	if !samePacket(&p, &before) || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatal("packet modified")
	}
}
