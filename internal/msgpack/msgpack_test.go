package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func str16Hex(s string) string { return hex.EncodeToString([]byte(s)) }

// The expected bytes were produced by notepack.io 3.0.1's encode.
var notepackCases = []struct {
	name string
	v    any
	hex  string
}{
	{"nil", nil, "c0"},
	{"true", true, "c3"},
	{"false", false, "c2"},
	{"fixint", int64(127), "7f"},
	{"uint8", int64(128), "cc80"},
	{"uint8max", int64(255), "ccff"},
	{"uint16", int64(256), "cd0100"},
	{"uint16max", int64(65535), "cdffff"},
	{"uint32", int64(65536), "ce00010000"},
	{"uint32max", int64(4294967295), "ceffffffff"},
	{"uint64", int64(4294967296), "cf0000000100000000"},
	{"safe", int64(9007199254740991), "cf001fffffffffffff"},
	{"negfix", int64(-32), "e0"},
	{"int8", int64(-33), "d0df"},
	{"int8min", int64(-128), "d080"},
	{"int16", int64(-129), "d1ff7f"},
	{"int32", int64(-32769), "d2ffff7fff"},
	{"int64", int64(-2147483649), "d3ffffffff7fffffff"},
	{"float", 1.5, "cb3ff8000000000000"},
	{"negfloat", -0.1, "cbbfb999999999999a"},
	{"str0", "", "a0"},
	{"fixstr", "héllo", "a668c3a96c6c6f"},
	{"str8", strings.Repeat("a", 32), "d920" + str16Hex(strings.Repeat("a", 32))},
	{"str16", strings.Repeat("b", 256), "da0100" + str16Hex(strings.Repeat("b", 256))},
	{"bin", []byte{1, 2, 3}, "c403010203"},
	{"bin16", bytes.Repeat([]byte{7}, 256), "c50100" + strings.Repeat("07", 256)},
	{"arr", []any{int64(1), "a", []any{int64(2), []any{int64(3)}}}, "9301a16192029103"},
	{"arr16", make16(), "dc0010" + strings.Repeat("00", 16)},
	{"map", Map{{"b", int64(1)}, {"a", Map{{"c", []any{true}}}}}, "82a16201a16181a16391c3"},
	{"map16", map16(), "de0010a36b303000a36b303101a36b303202a36b303303a36b303404a36b303505a36b303606a36b303707a36b303808a36b303909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ea36b31350f"},
	{"date", time.UnixMilli(1700000000000).UTC(), "d6ff6553f100"},
	{"datems", time.UnixMilli(1700000000123).UTC(), "d7ff1d5353006553f100"},
	{"packet", []any{"uid123", Map{{"type", int64(2)}, {"data", []any{"event", Map{{"x", []byte{255}}}, 1.25}}, {"nsp", "/"}},
		Map{{"rooms", []any{"r1"}}, {"except", []any{}}, {"flags", Map{}}}},
		"93a675696431323383a47479706502a46461746193a56576656e7481a178c401ffcb3ff4000000000000a36e7370a12f83a5726f6f6d7391a27231a665786365707490a5666c61677380"},
}

func make16() []any {
	out := make([]any, 16)
	for i := range out {
		out[i] = int64(0)
	}
	return out
}

func map16() Map {
	m := Map{}
	for i := 0; i < 16; i++ {
		m = append(m, KV{fmt.Sprintf("k%02d", i), int64(i)})
	}
	return m
}

func TestNotepackCompatibility(t *testing.T) {
	for _, c := range notepackCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Encode(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != c.hex {
				t.Errorf("Encode = %s, notepack.io = %s", h, c.hex)
			}
			raw, _ := hex.DecodeString(c.hex)
			v, err := Decode(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, c.v) {
				t.Errorf("Decode = %#v, want %#v", v, c.v)
			}
		})
	}
}

func TestEncodeJavaScriptNumbers(t *testing.T) {
	for _, c := range []struct {
		v   any
		hex string
	}{
		{3.0, "03"},                  // an integral float is an integer
		{math.Copysign(0, -1), "00"}, // -0 as 0
		{-1.0, "ff"},                 // negative fixint
		{uint64(math.MaxUint64), "cfffffffffffffffff"},
		{int(300), "cd012c"},
		{float32(0.5), "cb3fe0000000000000"},
		{Undefined{}, "c0"},                                    // notepack writes undefined as nil
		{Map{{"a", Undefined{}}, {"b", int64(1)}}, "81a16201"}, // and drops it from objects
		{[]any{Undefined{}}, "91c0"},
		{map[string]any{"b": 2, "a": 1}, "82a16101a16202"},
		{[]string{"x"}, "91a178"},
	} {
		got, err := Encode(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if h := hex.EncodeToString(got); h != c.hex {
			t.Errorf("Encode(%#v) = %s, want %s", c.v, h, c.hex)
		}
	}
	if _, err := Encode(struct{}{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Encode(struct{}{}) err = %v", err)
	}
}

func TestDecodeVariants(t *testing.T) {
	for _, c := range []struct {
		name string
		hex  string
		want any
	}{
		{"old undefined", "d40000", Undefined{}},
		{"undefined in map", "81a161d40000", Map{{"a", Undefined{}}}},
		{"float32", "ca3fc00000", 1.5},
		{"uint above int64", "cfffffffffffffffff", uint64(math.MaxUint64)},
		{"int64", "d3ffffffffffffffff", int64(-1)},
		{"bin32", "c60000000101", []byte{1}},
		{"array32", "dd0000000101", []any{int64(1)}},
		{"map32", "df0000000101c0", Map{{"1", nil}}}, // a number key, as JavaScript reads it
		{"str32", "db0000000161", "a"},
		{"ext", "d50a0102", Ext{Type: 10, Data: []byte{1, 2}}},
		{"ext8 arraybuffer", "c7020001ff", []byte{1, 255}},
		{"old date", "d70000000000000003e8", time.UnixMilli(1000).UTC()},
		{"timestamp96", "c70cff000000000000000000000001", time.Unix(1, 0).UTC()},
		{"invalid utf8", "a1ff", "\uFFFD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := hex.DecodeString(c.hex)
			v, err := Decode(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, c.want) {
				t.Errorf("Decode = %#v, want %#v", v, c.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, 100)
	deep = append(deep, 0xc0)
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"truncated str", []byte{0xa3, 'a'}, ErrTruncated},
		{"huge array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{"huge map", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0}, ErrTruncated},
		{"huge bin", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{"reserved", []byte{0xc1}, ErrInvalid},
		{"trailing", []byte{0xc0, 0xc0}, ErrTrailing},
		{"too deep", deep, ErrTooDeep},
		{"bad key", []byte{0x81, 0xc3, 0xc0}, ErrInvalid},
		{"too large", bytes.Repeat([]byte{0xc0}, 201), ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in, &Limits{MaxSize: 200})
			if !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range notepackCases {
		raw, _ := hex.DecodeString(c.hex)
		f.Add(raw)
	}
	f.Add([]byte{0xd4, 0x00, 0x00})
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b, &Limits{MaxSize: 1 << 16})
		if err != nil {
			return
		}
		// What decodes encodes, and decodes again to the same value (up to
		// the normalisations of JavaScript: undefined and dates).
		enc, err := Encode(v)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", v, err)
		}
		v2, err := Decode(enc, nil)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		enc2, err := Encode(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable: %x then %x (%v)", enc, enc2, err)
		}
	})
}
