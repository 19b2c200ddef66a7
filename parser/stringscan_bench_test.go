package parser

import (
	"strings"
	"testing"
)

// benchText returns n bytes of plain ASCII text: no quote, backslash or
// control character, the commonest kind of string argument.
func benchText(n int) string {
	const words = "the quick brown fox jumps over the lazy dog, 0123456789! "
	return strings.Repeat(words, n/len(words)+1)[:n]
}

var benchSizes = []struct {
	name string
	n    int
}{{"32B", 32}, {"1kB", 1024}}

// BenchmarkDecodeEventString decodes an EVENT packet with one string
// argument: the decoder validates the payload (scanString) and splits it on
// the way (Packet.Args), and Decode takes the string through the fast path
// (plainString).
func BenchmarkDecodeEventString(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			msg := []byte(`2["chat","` + benchText(sz.n) + `"]`)
			dec := NewJSONParser(nil).NewDecoder()
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for i := 0; i < b.N; i++ {
				p, err := dec.Add(msg, false)
				if err != nil || p == nil {
					b.Fatal(err)
				}
				a, err := p.Args()
				if err != nil {
					b.Fatal(err)
				}
				var s string
				if err := a.Decode(1, &s); err != nil || len(s) != sz.n {
					b.Fatal(err, len(s))
				}
			}
		})
	}
}

// BenchmarkEncodeEventString encodes an event with one string argument:
// MarshalEvent (writeString), then Encode.
func BenchmarkEncodeEventString(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			args := []any{benchText(sz.n)}
			enc := NewJSONParser(nil).NewEncoder()
			b.ReportAllocs()
			b.SetBytes(int64(sz.n))
			for i := 0; i < b.N; i++ {
				data, _, err := MarshalEvent("chat", args)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := enc.Encode(&Packet{Type: Event, Namespace: "/", Data: data}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeEventStringOneBuffer is BenchmarkEncodeEventString with
// EventEncoder.EncodeEvent, as the server encodes its emits.
func BenchmarkEncodeEventStringOneBuffer(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			args := []any{benchText(sz.n)}
			enc := NewJSONParser(nil).NewEncoder().(EventEncoder)
			b.ReportAllocs()
			b.SetBytes(int64(sz.n))
			for i := 0; i < b.N; i++ {
				if _, _, err := enc.EncodeEvent("/", 0, false, "chat", args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var (
	sinkInt  int
	sinkBool bool
	sinkStr  string
)

// The three scanning functions alone.
func BenchmarkScanString(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			tok := []byte(`"` + benchText(sz.n) + `"`)
			b.SetBytes(int64(len(tok)))
			for i := 0; i < b.N; i++ {
				end, esc, err := scanString(tok, 0)
				if err != nil {
					b.Fatal(err)
				}
				sinkInt, sinkBool = end, esc
			}
		})
	}
	// The worst cases for skipping words: escapes everywhere, and some
	// every few bytes (JSON text inside a string).
	for _, c := range []struct{ name, unit string }{{"escapes", `\n`}, {"quoted-json", `{\"k\":1},`}} {
		b.Run("1kB-"+c.name, func(b *testing.B) {
			tok := []byte(`"` + strings.Repeat(c.unit, 1024/len(c.unit)) + `"`)
			b.SetBytes(int64(len(tok)))
			for i := 0; i < b.N; i++ {
				end, esc, err := scanString(tok, 0)
				if err != nil {
					b.Fatal(err)
				}
				sinkInt, sinkBool = end, esc
			}
		})
	}
}

func BenchmarkPlainString(b *testing.B) {
	for _, sz := range benchSizes {
		for _, kind := range []string{"ascii", "utf8"} {
			b.Run(sz.name+"/"+kind, func(b *testing.B) {
				text := benchText(sz.n)
				if kind == "utf8" {
					text = "é" + text[2:]
				}
				tok := []byte(`"` + text + `"`)
				b.SetBytes(int64(len(tok)))
				for i := 0; i < b.N; i++ {
					s, ok := plainString(tok)
					if !ok {
						b.Fatal("not plain")
					}
					sinkStr = s
				}
			})
		}
	}
}

func BenchmarkWriteString(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s := benchText(sz.n)
			w := writerPool.Get().(*argsWriter)
			defer w.release()
			b.SetBytes(int64(len(s)))
			for i := 0; i < b.N; i++ {
				w.buf.Reset()
				if err := w.writeString(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
