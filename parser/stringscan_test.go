package parser

import (
	"encoding/binary"
	"math/bits"
	"math/rand"
	"testing"
	"unicode/utf8"
)

// The byte-at-a-time loops that the 8-byte scans replaced: the fast code
// must agree with them on every input.

func refScanString(b []byte, i int) (end int, escaped bool, err error) {
	for i++; i < len(b); {
		c := b[i]
		if c == '"' {
			return i + 1, escaped, nil
		}
		if c < 0x20 {
			return 0, false, errSyntax
		}
		if c != '\\' {
			i++
			continue
		}
		escaped = true
		if i+1 >= len(b) {
			return 0, false, errSyntax
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+5 >= len(b) {
				return 0, false, errSyntax
			}
			for _, h := range b[i+2 : i+6] {
				if !isHex(h) {
					return 0, false, errSyntax
				}
			}
			i += 6
		default:
			return 0, false, errSyntax
		}
	}
	return 0, false, errSyntax
}

func refPlainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

func refWriteString(w *argsWriter, s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return w.encode(s)
		}
	}
	w.buf.WriteString(`"` + s + `"`)
	return nil
}

// refSpecial is the byte test of specialBytes8.
func refSpecial(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }

// writeBoth runs writeString and refWriteString on s and fails if their
// output or errors differ.
func writeBoth(t testing.TB, s string) {
	t.Helper()
	w := writerPool.Get().(*argsWriter)
	defer w.release()
	w.buf.Reset()
	err := w.writeString(s)
	got := string(w.buf.Bytes())
	w.buf.Reset()
	refErr := refWriteString(w, s)
	want := string(w.buf.Bytes())
	if got != want || (err == nil) != (refErr == nil) {
		t.Errorf("writeString(%q) = %q, %v; want %q, %v", s, got, err, want, refErr)
	}
}

// checkAll compares the three fast scans with their references on the
// string content (without quotes), placed after prefix and followed by
// suffix for scanString.
func checkAll(t testing.TB, content []byte) {
	t.Helper()
	for _, prefix := range []string{"", "[", "1234567,"} {
		for _, suffix := range []string{"", `"`, `",2]`, `"` + "\x00", "a\"bcdefghij\""} {
			b := append(append([]byte(prefix+`"`), content...), suffix...)
			i := len(prefix)
			end, esc, err := scanString(b, i)
			wEnd, wEsc, wErr := refScanString(b, i)
			if end != wEnd || esc != wEsc || (err == nil) != (wErr == nil) {
				t.Errorf("scanString(%q, %d) = %d, %v, %v; want %d, %v, %v", b, i, end, esc, err, wEnd, wEsc, wErr)
			}
			end, esc, nonASCII, err := scanStringASCII(b, i)
			wNonASCII := false
			if wErr == nil {
				for _, c := range b[i:wEnd] {
					wNonASCII = wNonASCII || c >= 0x80
				}
			}
			if end != wEnd || esc != wEsc || (err == nil) != (wErr == nil) || (err == nil && nonASCII != wNonASCII) {
				t.Errorf("scanStringASCII(%q, %d) = %d, %v, %v, %v; want %d, %v, %v, %v", b, i, end, esc, nonASCII, err, wEnd, wEsc, wNonASCII, wErr)
			}
		}
	}
	raw := append(append([]byte(`"`), content...), '"')
	s, ok := plainString(raw)
	ws, wok := refPlainString(raw)
	if s != ws || ok != wok {
		t.Errorf("plainString(%q) = %q, %v; want %q, %v", raw, s, ok, ws, wok)
	}
	// content itself as a token: often unquoted, sometimes "".
	s, ok = plainString(content)
	ws, wok = refPlainString(content)
	if s != ws || ok != wok {
		t.Errorf("plainString(%q) = %q, %v; want %q, %v", content, s, ok, ws, wok)
	}
	writeBoth(t, string(content))
}

// Bytes worth putting at every position: the special ones, their
// neighbours, and values that make the bit tricks borrow or carry.
var edgeBytes = []byte{
	0x00, 0x01, 0x08, 0x0a, 0x1f, 0x20, 0x21, '"', 0x23, 0x2f, 0x5b, '\\', 0x5d, 'u', 'n',
	0x7e, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xa2, 0xbf, 0xc0, 0xc3, 0xdc, 0xdd, 0xe2, 0xed, 0xf0, 0xfe, 0xff,
}

func filler(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func TestStringScanSpecialAtEachPosition(t *testing.T) {
	for n := 0; n <= 20; n++ {
		checkAll(t, filler(n))
		for p := 0; p < n; p++ {
			for _, c := range edgeBytes {
				b := filler(n)
				b[p] = c
				checkAll(t, b)
				// And a second edge byte further on.
				for q := p + 1; q < n && q <= p+9; q += 3 {
					b[q] = '"'
					checkAll(t, b)
					b[q] = 0x80
					checkAll(t, b)
					b[q] = 'a'
				}
			}
		}
	}
}

func TestStringScanSequencesAtEachPosition(t *testing.T) {
	seqs := []string{
		// escapes, good and bad
		`\n`, `\"`, `\\`, `\/`, `\u00e9`, `\uD83D\uDE00`, `\x`, `\u12`, `\u12g4`, `\`, `\u`, `\\"`,
		// UTF-8, good and bad
		"é", "€", "😀", "\u2028", "\xff", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80",
		// control characters
		"\t", "\n", "\x00", "\x1f", "\x7f",
	}
	for _, seq := range seqs {
		for n := 0; n <= 20; n++ {
			for p := 0; p <= n; p++ {
				b := filler(n)
				b = append(b[:p:p], append([]byte(seq), b[p:]...)...)
				checkAll(t, b)
			}
		}
	}
}

func TestStringScanLong(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{31, 32, 33, 64, 1000, 1024, 1031} {
		for k := 0; k < 200; k++ {
			b := filler(n)
			for j := r.Intn(3); j > 0; j-- {
				b[r.Intn(n)] = edgeBytes[r.Intn(len(edgeBytes))]
			}
			checkAll(t, b)
		}
	}
}

// specialBytes8 must flag exactly the words holding a special byte, with
// its lowest flag on the first one; hasSpecialOrNonASCII8 must also flag
// bytes from 0x80.
func checkWord(t *testing.T, w uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w)
	first, nonASCII := -1, false
	for k, c := range b {
		if refSpecial(c) && first < 0 {
			first = k
		}
		nonASCII = nonASCII || c >= 0x80
	}
	m := specialBytes8(w)
	if got := bits.TrailingZeros64(m) >> 3; (m == 0) != (first < 0) || (first >= 0 && got != first) {
		t.Fatalf("specialBytes8(% x) = %#x: first special at %d, want %d", b, m, got, first)
	}
	if hasSpecial8(w) != (first >= 0) {
		t.Fatalf("hasSpecial8(% x) = %v", b, hasSpecial8(w))
	}
	if hasSpecialOrNonASCII8(w) != (first >= 0 || nonASCII) {
		t.Fatalf("hasSpecialOrNonASCII8(% x) = %v", b, hasSpecialOrNonASCII8(w))
	}
	if got := stringWord(string(b[:]), 0); got != w {
		t.Fatalf("stringWord(% x) = %#x", b, got)
	}
}

func TestSpecialBytes8(t *testing.T) {
	base := binary.LittleEndian.Uint64([]byte("abcdefgh"))
	// Every pair of byte values at every pair of positions.
	for p := 0; p < 8; p++ {
		for q := p; q < 8; q++ {
			for x := 0; x < 256; x++ {
				for y := 0; y < 256; y++ {
					w := base&^(0xff<<(8*p)|0xff<<(8*q)) | uint64(x)<<(8*p) | uint64(y)<<(8*q)
					checkWord(t, w)
				}
			}
		}
	}
	// Words made of edge bytes only, where borrows can chain.
	r := rand.New(rand.NewSource(2))
	for k := 0; k < 200000; k++ {
		var b [8]byte
		for i := range b {
			b[i] = edgeBytes[r.Intn(len(edgeBytes))]
		}
		checkWord(t, binary.LittleEndian.Uint64(b[:]))
		checkWord(t, r.Uint64())
	}
}

// FuzzStringScan compares the fast scans with their references.
func FuzzStringScan(f *testing.F) {
	for _, s := range []string{"", "abc", `a"b`, `a\nb`, `\u00e9xyz`, "é€😀 long enough to use words", "\xed\xa0\x80", "tab\there", "0123456789abcdef\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		checkAll(t, content)
	})
}
