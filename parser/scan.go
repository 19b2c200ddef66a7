package parser

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// A small JSON scanner: it validates and finds the ends of values without
// decoding them, so that packets can be checked and split in one pass with
// no allocation.

// maxDepth is the deepest nesting accepted, the same limit as encoding/json.
const maxDepth = 10000

var (
	errSyntax = errors.New("invalid JSON")
	errDepth  = errors.New("JSON nested too deeply")
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Strings are scanned 8 bytes at a time, as a little-endian uint64 word, with
// the classic bit tricks: for a word v, (v - 0x0101…01*n) &^ v & 0x8080…80
// flags the bytes of v below n (for n <= 0x80), and v ^ 0x0101…01*c turns the
// bytes equal to c into zeros, which are the bytes below 1. A byte only
// borrows from the next one up when it is itself flagged, so the lowest
// flag is always right; the flags above it may be wrong.
const (
	lsb8 = 0x0101010101010101 // the low bit of every byte
	msb8 = 0x8080808080808080 // the high bit of every byte
)

// specialBytes8 returns 0 when none of the 8 bytes of w needs attention in
// a JSON string: a quote, a backslash or a control character (below 0x20).
// Otherwise its lowest set bit is the high bit of the first such byte,
// taking w as little-endian (bits above that one are meaningless).
func specialBytes8(w uint64) uint64 {
	q := w ^ (lsb8 * '"')
	bs := w ^ (lsb8 * '\\')
	return ((q-lsb8)&^q | (bs-lsb8)&^bs | (w-lsb8*0x20)&^w) & msb8
}

// hasSpecial8 reports whether one of the 8 bytes of w is a quote, a
// backslash or a control character.
func hasSpecial8(w uint64) bool { return specialBytes8(w) != 0 }

// hasSpecialOrNonASCII8 reports whether one of the 8 bytes of w is a quote,
// a backslash, a control character or not ASCII (0x80 or above).
func hasSpecialOrNonASCII8(w uint64) bool { return (specialBytes8(w)|w)&msb8 != 0 }

// stringWord returns s[i:i+8] as a little-endian word (the compiler makes
// one load of it where unaligned loads are allowed).
func stringWord(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// scanString scans the string starting at b[i] == '"'. It returns the index
// after the closing quote and whether the string holds escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	end, escaped, _, err = scanStringASCII(b, i)
	return end, escaped, err
}

// scanStringASCII is scanString that also reports whether a byte of the
// string is not ASCII.
func scanStringASCII(b []byte, i int) (end int, escaped, nonASCII bool, err error) {
	var high uint64 // the bytes passed over, ORed: bit 7 tells of non-ASCII
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, high&msb8 != 0, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, false, false, errSyntax
				}
				i += 6
			default:
				return 0, false, false, errSyntax
			}
		case c < 0x20:
			return 0, false, false, errSyntax
		default:
			// A plain byte: skip the plain ones after it 8 at a time, up
			// to the first byte that needs a look (escapes one after the
			// other never get here). Fewer than 8 bytes before the end
			// of b are left to the byte loop.
			high |= uint64(c)
			i++
			for i <= len(b)-8 {
				w := binary.LittleEndian.Uint64(b[i:])
				if m := specialBytes8(w); m != 0 {
					n := bits.TrailingZeros64(m) >> 3 // plain bytes before the special one
					high |= w & (1<<(8*n) - 1)
					i += n
					break
				}
				high |= w
				i += 8
			}
		}
	}
	return 0, false, false, errSyntax
}

// scanNumber scans the number starting at b[i].
func scanNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return 0, errSyntax
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errSyntax
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errSyntax
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// walker scans JSON values. With check set it also verifies every
// attachment placeholder the way the reference reconstructs them: an object
// whose (last) "_placeholder" member is true must have a "num" that is the
// index of one of n attachments; its other members are not looked at.
type walker struct {
	b     []byte
	check bool
	n     int
	found map[int]placeholderSpan // if not nil, receives the good placeholders by offset
	// elems, if not nil, receives the elements of the outermost array;
	// bit k of plain is set when element k (k < 64) is a string without
	// escapes or non-ASCII bytes.
	elems []json.RawMessage
	plain uint64
}

type placeholderSpan struct{ end, num int }

// value scans the value starting at w.b[i] (not at a space). perr reports a
// bad placeholder, err bad JSON; they are kept apart because a bad
// placeholder nested inside a good one does not count.
func (w *walker) value(i, depth int) (end int, perr, err error) {
	b := w.b
	if i >= len(b) {
		return 0, nil, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err = scanString(b, i)
		return end, nil, err
	case c == '{':
		return w.object(i, depth+1)
	case c == '[':
		return w.array(i, depth+1)
	case c == '-' || isDigit(c):
		end, err = scanNumber(b, i)
		return end, nil, err
	case c == 't':
		end, err = scanLiteral(b, i, "true")
	case c == 'f':
		end, err = scanLiteral(b, i, "false")
	case c == 'n':
		end, err = scanLiteral(b, i, "null")
	default:
		err = errSyntax
	}
	return end, nil, err
}

func (w *walker) array(i, depth int) (end int, perr, err error) {
	if depth > maxDepth {
		return 0, nil, errDepth
	}
	b := w.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil, nil
	}
	for {
		var pe error
		start := i
		if depth == 1 && w.elems != nil {
			if i < len(b) && b[i] == '"' {
				var escaped, nonASCII bool
				i, escaped, nonASCII, err = scanStringASCII(b, i)
				if k := len(w.elems); !escaped && !nonASCII && k < 64 {
					w.plain |= 1 << k
				}
			} else {
				i, pe, err = w.value(i, depth)
			}
			if err != nil {
				return 0, nil, err
			}
			w.elems = append(w.elems, b[start:i:i])
		} else if i, pe, err = w.value(i, depth); err != nil {
			return 0, nil, err
		}
		if perr == nil {
			perr = pe
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, nil, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, perr, nil
		default:
			return 0, nil, errSyntax
		}
	}
}

func (w *walker) object(i, depth int) (end int, perr, err error) {
	if depth > maxDepth {
		return 0, nil, errDepth
	}
	b := w.b
	start := i
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil, nil
	}
	placeholder := false
	var num []byte
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, nil, errSyntax
		}
		keyStart := i
		keyEnd, escaped, err := scanString(b, i)
		if err != nil {
			return 0, nil, err
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, nil, errSyntax
		}
		i = skipSpace(b, i+1)
		valStart := i
		var pe error
		i, pe, err = w.value(i, depth)
		if err != nil {
			return 0, nil, err
		}
		if perr == nil {
			perr = pe
		}
		if w.check {
			// Later members win, as with JSON.parse.
			switch key := b[keyStart:keyEnd]; {
			case keyIs(key, escaped, "_placeholder"):
				placeholder = string(b[valStart:i]) == "true"
			case keyIs(key, escaped, "num"):
				num = b[valStart:i]
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, nil, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if placeholder {
				idx, ok := attachmentIndex(num, w.n)
				if !ok {
					return i + 1, errBadPlaceholder, nil
				}
				if w.found != nil {
					w.found[start] = placeholderSpan{end: i + 1, num: idx}
				}
				return i + 1, nil, nil
			}
			return i + 1, perr, nil
		default:
			return 0, nil, errSyntax
		}
	}
}

var errBadPlaceholder = errors.New("placeholder num is not the index of an attachment")

// keyIs reports whether the JSON string token key (quotes included) is name.
func keyIs(key []byte, escaped bool, name string) bool {
	if !escaped {
		return string(key[1:len(key)-1]) == name
	}
	s, ok := unquote(key)
	return ok && s == name
}

// unquote decodes a valid JSON string token.
func unquote(tok []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}

// attachmentIndex reads a placeholder's num: a JSON number (not a string)
// with an integer value in [0, n). The reference accepts any number in that
// range and indexes its array with it, so 1.0 and 1e0 are fine but 0.5 is not.
func attachmentIndex(num []byte, n int) (int, bool) {
	if len(num) == 0 || !(num[0] == '-' || isDigit(num[0])) {
		return 0, false
	}
	if len(num) <= 9 {
		v, ok := 0, true
		for _, c := range num {
			if !isDigit(c) {
				ok = false
				break
			}
			v = v*10 + int(c-'0')
		}
		if ok {
			return v, v < n
		}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

// scanAll validates that b is exactly one JSON value, with optional spaces around it.
func scanAll(b []byte) error {
	w := walker{b: b}
	end, _, err := w.value(skipSpace(b, 0), 0)
	if err != nil {
		return err
	}
	if skipSpace(b, end) != len(b) {
		return errSyntax
	}
	return nil
}

// eachElement calls fn with every element of the JSON array b (spaces
// trimmed), validating b. A nil fn just validates.
func eachElement(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errNotArray
	}
	w := walker{b: b}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			end, _, err := w.value(i, 1)
			if err != nil {
				return err
			}
			if fn != nil {
				if err := fn(b[i:end:end]); err != nil {
					return err
				}
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return errSyntax
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}

var (
	errNotArray  = errors.New("not a JSON array")
	errNotObject = errors.New("not a JSON object")
)

// eachMember calls fn with the key token (quotes included) and the value of
// every member of the JSON object b, validating b.
func eachMember(b []byte, fn func(key []byte, escaped bool, val []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	w := walker{b: b}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return errSyntax
			}
			keyEnd, escaped, err := scanString(b, i)
			if err != nil {
				return err
			}
			key := b[i:keyEnd]
			i = skipSpace(b, keyEnd)
			if i >= len(b) || b[i] != ':' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
			end, _, err := w.value(i, 1)
			if err != nil {
				return err
			}
			if err := fn(key, escaped, b[i:end:end]); err != nil {
				return err
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return errSyntax
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}
