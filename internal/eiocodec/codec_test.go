package eiocodec_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/socketio-go/socketio/internal/eiocodec"
)

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want eiocodec.Packet
		err  bool
	}{
		{in: "0", want: eiocodec.Packet{Type: eiocodec.Open}},
		{in: `0{"sid":"x"}`, want: eiocodec.Packet{Type: eiocodec.Open, Data: []byte(`{"sid":"x"}`)}},
		{in: "1", want: eiocodec.Packet{Type: eiocodec.Close}},
		{in: "2", want: eiocodec.Packet{Type: eiocodec.Ping}},
		{in: "2probe", want: eiocodec.Packet{Type: eiocodec.Ping, Data: []byte("probe")}},
		{in: "3probe", want: eiocodec.Packet{Type: eiocodec.Pong, Data: []byte("probe")}},
		{in: "4", want: eiocodec.Packet{Type: eiocodec.Message}},
		{in: "4hello €", want: eiocodec.Packet{Type: eiocodec.Message, Data: []byte("hello €")}},
		{in: "44", want: eiocodec.Packet{Type: eiocodec.Message, Data: []byte("4")}},
		{in: "5", want: eiocodec.Packet{Type: eiocodec.Upgrade}},
		{in: "6", want: eiocodec.Packet{Type: eiocodec.Noop}},
		{in: "bAQID", want: eiocodec.Packet{Type: eiocodec.Message, Data: []byte{1, 2, 3}, Binary: true}},
		{in: "b/wA=", want: eiocodec.Packet{Type: eiocodec.Message, Data: []byte{0xff, 0}, Binary: true}},
		{in: "b", want: eiocodec.Packet{Type: eiocodec.Message, Data: []byte{}, Binary: true}},
		{in: "", err: true},
		{in: "7", err: true},
		{in: "9", err: true},
		{in: "/", err: true}, // '0'-1: must not wrap into a valid type
		{in: "abc", err: true},
		{in: "B", err: true},
		{in: "b!!!", err: true},
		{in: "bAQI", err: true},  // missing padding
		{in: "b_-8=", err: true}, // URL alphabet
		{in: "\x1e", err: true},
		{in: "\x00", err: true},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			p, err := eiocodec.DecodeText([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, eiocodec.ErrInvalidPacket) {
					t.Errorf("got %+v, %v; want ErrInvalidPacket", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Type != tc.want.Type || p.Binary != tc.want.Binary || !bytes.Equal(p.Data, tc.want.Data) {
				t.Errorf("got %+v, want %+v", p, tc.want)
			}
			if p.Binary && p.Data == nil {
				t.Error("binary Data is nil")
			}
		})
	}
}

func TestDecodeTextAliasesInput(t *testing.T) {
	in := []byte("4abc")
	p, _ := eiocodec.DecodeText(in)
	in[1] = 'X'
	if string(p.Data) != "Xbc" {
		t.Errorf("text Data does not alias the input: %q", p.Data)
	}
}

func decodeAll(body string) ([]eiocodec.Packet, error) {
	var out []eiocodec.Packet
	err := eiocodec.DecodePayload([]byte(body), func(p eiocodec.Packet) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func TestDecodePayload(t *testing.T) {
	msg := func(s string) eiocodec.Packet { return eiocodec.Packet{Type: eiocodec.Message, Data: []byte(s)} }
	for _, tc := range []struct {
		in   string
		want []eiocodec.Packet
		// n packets are delivered before the error, if err.
		err bool
	}{
		{in: "4hello", want: []eiocodec.Packet{msg("hello")}},
		{in: "4a\x1e4b\x1e4c", want: []eiocodec.Packet{msg("a"), msg("b"), msg("c")}},
		{in: "2\x1ebAQID\x1e6", want: []eiocodec.Packet{{Type: eiocodec.Ping}, {Type: eiocodec.Message, Data: []byte{1, 2, 3}, Binary: true}, {Type: eiocodec.Noop}}},
		{in: "4\x1e4", want: []eiocodec.Packet{msg(""), msg("")}},
		{in: "", err: true},
		{in: "\x1e", err: true},
		{in: "4a\x1e", want: []eiocodec.Packet{msg("a")}, err: true},
		{in: "\x1e4a", err: true},
		{in: "4a\x1e\x1e4b", want: []eiocodec.Packet{msg("a")}, err: true},
		{in: "4a\x1e9\x1e4b", want: []eiocodec.Packet{msg("a")}, err: true},
		{in: "4a\x1eb%%", want: []eiocodec.Packet{msg("a")}, err: true},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := decodeAll(tc.in)
			if tc.err != errors.Is(err, eiocodec.ErrInvalidPacket) || (!tc.err && err != nil) {
				t.Errorf("error %v, want error: %v", err, tc.err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d packets, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i].Type != tc.want[i].Type || got[i].Binary != tc.want[i].Binary || !bytes.Equal(got[i].Data, tc.want[i].Data) {
					t.Errorf("packet %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestDecodePayloadStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := eiocodec.DecodePayload([]byte("4a\x1e1\x1e4b\x1ezzz"), func(p eiocodec.Packet) error {
		n++
		if p.Type == eiocodec.Close {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("err %v after %d packets", err, n)
	}
}

func TestAppendText(t *testing.T) {
	for _, tc := range []struct {
		typ    eiocodec.Type
		data   []byte
		binary bool
		want   string
	}{
		{eiocodec.Open, []byte(`{"sid":"a"}`), false, `0{"sid":"a"}`},
		{eiocodec.Close, nil, false, "1"},
		{eiocodec.Ping, nil, false, "2"},
		{eiocodec.Pong, []byte("probe"), false, "3probe"},
		{eiocodec.Message, []byte("héllo"), false, "4héllo"},
		{eiocodec.Message, nil, false, "4"},
		{eiocodec.Noop, nil, false, "6"},
		{eiocodec.Message, []byte{1, 2, 3}, true, "bAQID"},
		{eiocodec.Message, []byte{0xff, 0}, true, "b/wA="},
		{eiocodec.Message, []byte{}, true, "b"},
	} {
		got := eiocodec.AppendText([]byte("prefix:"), tc.typ, tc.data, tc.binary)
		if string(got) != "prefix:"+tc.want {
			t.Errorf("AppendText(%v, %q, %v) = %q, want %q", tc.typ, tc.data, tc.binary, got, "prefix:"+tc.want)
		}
		if n := eiocodec.TextLen(tc.data, tc.binary); n != len(tc.want) {
			t.Errorf("TextLen(%q, %v) = %d, want %d", tc.data, tc.binary, n, len(tc.want))
		}
		// Round trip.
		p, err := eiocodec.DecodeText(got[len("prefix:"):])
		if err != nil || p.Type != tc.typ || p.Binary != tc.binary || !bytes.Equal(p.Data, tc.data) {
			t.Errorf("round trip of %q: %+v, %v", tc.want, p, err)
		}
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop", "unknown"}
	for i, w := range want {
		if got := eiocodec.Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
	}
}

// encodePayload re-encodes packets as a polling payload.
func encodePayload(ps []eiocodec.Packet) []byte {
	var out []byte
	for i, p := range ps {
		if i > 0 {
			out = append(out, eiocodec.Separator)
		}
		out = eiocodec.AppendText(out, p.Type, p.Data, p.Binary)
	}
	return out
}

func samePackets(a, b []eiocodec.Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1e4b", "2\x1ebAQID\x1e6", "", "\x1e", "4a\x1e", "b", "b=", "bAQI", "0{}", "2probe\x1e5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := append([]byte(nil), body...)
		var ps []eiocodec.Packet
		err := eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
			if p.Type > eiocodec.Noop || (p.Binary && p.Type != eiocodec.Message) {
				t.Fatalf("invalid packet %+v", p)
			}
			// Copy: text Data aliases body.
			p.Data = append([]byte(nil), p.Data...)
			ps = append(ps, p)
			return nil
		})
		if !bytes.Equal(body, orig) {
			t.Fatal("DecodePayload modified its input")
		}
		if err != nil {
			if !errors.Is(err, eiocodec.ErrInvalidPacket) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(ps) == 0 {
			t.Fatal("a valid payload with no packet")
		}
		again := encodePayload(ps)
		var ps2 []eiocodec.Packet
		if err := eiocodec.DecodePayload(again, func(p eiocodec.Packet) error {
			ps2 = append(ps2, p)
			return nil
		}); err != nil {
			t.Fatalf("re-encoded payload %q does not decode: %v", again, err)
		}
		if !samePackets(ps, ps2) {
			t.Fatalf("round trip changed the packets: %+v -> %q -> %+v", ps, again, ps2)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"0", "4hello", "bAQID", "b", "", "7", "/", "b!!", "2probe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := eiocodec.DecodeText(in)
		if err != nil {
			if !errors.Is(err, eiocodec.ErrInvalidPacket) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(in) == 0 || p.Type > eiocodec.Noop || (p.Binary && p.Type != eiocodec.Message) {
			t.Fatalf("invalid packet %+v from %q", p, in)
		}
		out := eiocodec.AppendText(nil, p.Type, p.Data, p.Binary)
		if len(out) != eiocodec.TextLen(p.Data, p.Binary) {
			t.Fatalf("TextLen %d, AppendText wrote %d", eiocodec.TextLen(p.Data, p.Binary), len(out))
		}
		p2, err := eiocodec.DecodeText(out)
		if err != nil || p2.Type != p.Type || p2.Binary != p.Binary || !bytes.Equal(p2.Data, p.Data) {
			t.Fatalf("round trip: %+v -> %q -> %+v, %v", p, out, p2, err)
		}
		if !p.Binary && !bytes.Equal(out, in) {
			t.Fatalf("text packet %q re-encoded as %q", in, out)
		}
	})
}
