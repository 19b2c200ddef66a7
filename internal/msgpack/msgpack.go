// Package msgpack encodes and decodes MessagePack the way notepack.io (the
// codec of socket.io's Redis adapters) does: integers in their smallest
// width, byte slices as bin, JavaScript's undefined accepted in both of its
// encodings, maps with string keys in their order, timestamps as time.Time.
//
// Decoded values are nil, Undefined, bool, int64, uint64 (above
// math.MaxInt64 only), float64, string, []byte, time.Time, []any, Map, and
// Ext. Decode treats its input as untrusted: lengths are checked against the
// bytes left, nesting is capped, and any error is returned, never a panic.
package msgpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"
	"unicode/utf8"
)

// Undefined is JavaScript's undefined. notepack.io writes it as nil, and
// older versions as the fixext 1 of type 0 that Decode still turns into it.
type Undefined struct{}

// KV is one entry of a Map.
type KV struct {
	Key   string
	Value any
}

// Map is a MessagePack map with string keys, in the order of the wire.
type Map []KV

// Get returns the value of key and whether it is there.
func (m Map) Get(key string) (any, bool) {
	for _, kv := range m {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Ext is an extension value of an application-defined type (notepack.io
// decodes it into [type, data]).
type Ext struct {
	Type int8
	Data []byte
}

// Errors of Decode.
var (
	ErrTruncated    = errors.New("msgpack: unexpected end of data")
	ErrTrailing     = errors.New("msgpack: trailing bytes")
	ErrInvalid      = errors.New("msgpack: invalid data")
	ErrTooDeep      = errors.New("msgpack: nesting too deep")
	ErrTooLarge     = errors.New("msgpack: value too large")
	ErrUnsupported  = errors.New("msgpack: unsupported value")
	errNonStringKey = fmt.Errorf("%w: map key is not a string", ErrInvalid)
)

// Limits bound what Decode accepts. Zero fields take the defaults.
type Limits struct {
	// MaxDepth caps the nesting of arrays and maps. Default 64.
	MaxDepth int
	// MaxSize caps the input, in bytes. Default 16 MiB.
	MaxSize int
}

// Default limits.
const (
	DefaultMaxDepth = 64
	DefaultMaxSize  = 16 << 20
)

// Decode decodes exactly one value from b (the result may share memory with
// b: copy b first if you reuse it). A nil *Limits means the defaults.
func Decode(b []byte, lim *Limits) (any, error) {
	d := decoder{buf: b, maxDepth: DefaultMaxDepth}
	maxSize := DefaultMaxSize
	if lim != nil {
		if lim.MaxDepth > 0 {
			d.maxDepth = lim.MaxDepth
		}
		if lim.MaxSize > 0 {
			maxSize = lim.MaxSize
		}
	}
	if len(b) > maxSize {
		return nil, ErrTooLarge
	}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("%w: %d", ErrTrailing, len(b)-d.off)
	}
	return v, nil
}

type decoder struct {
	buf      []byte
	off      int
	maxDepth int
}

func (d *decoder) next(n int) ([]byte, error) {
	if n < 0 || n > len(d.buf)-d.off {
		return nil, ErrTruncated
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) uint(n int) (uint64, error) {
	b, err := d.next(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	default:
		return binary.BigEndian.Uint64(b), nil
	}
}

func (d *decoder) length(n int) (int, error) {
	u, err := d.uint(n)
	if err != nil {
		return 0, err
	}
	if u > uint64(len(d.buf)-d.off) {
		// Every element takes at least one byte, so a length beyond the
		// bytes left is a lie: refuse it before allocating anything.
		return 0, ErrTruncated
	}
	return int(u), nil
}

func (d *decoder) value(depth int) (any, error) {
	b, err := d.next(1)
	if err != nil {
		return nil, err
	}
	c := b[0]
	switch {
	case c < 0x80:
		return int64(c), nil
	case c < 0x90:
		return d.mapOf(int(c&0x0f), depth)
	case c < 0xa0:
		return d.array(int(c&0x0f), depth)
	case c < 0xc0:
		return d.str(int(c & 0x1f))
	case c >= 0xe0:
		return int64(int8(c)), nil
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.length(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.next(n)
	case 0xc7, 0xc8, 0xc9:
		n, err := d.length(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(n)
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case 0xd0:
		u, err := d.uint(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err := d.uint(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err := d.uint(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err := d.uint(8)
		return int64(u), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.length(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc, 0xdd:
		n, err := d.length(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.array(n, depth)
	case 0xde, 0xdf:
		n, err := d.length(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(n, depth)
	}
	return nil, fmt.Errorf("%w: type byte 0x%02x", ErrInvalid, c)
}

func (d *decoder) str(n int) (any, error) {
	b, err := d.next(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(b) {
		// Node's Buffer.toString would substitute U+FFFD; so do we.
		return string([]rune(string(b))), nil
	}
	return string(b), nil
}

func (d *decoder) array(n, depth int) (any, error) {
	if depth >= d.maxDepth {
		return nil, ErrTooDeep
	}
	if n > len(d.buf)-d.off {
		return nil, ErrTruncated
	}
	out := make([]any, n)
	for i := range out {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (d *decoder) mapOf(n, depth int) (any, error) {
	if depth >= d.maxDepth {
		return nil, ErrTooDeep
	}
	if 2*n > len(d.buf)-d.off {
		return nil, ErrTruncated
	}
	out := make(Map, 0, n)
	for i := 0; i < n; i++ {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		var key string
		switch k := k.(type) {
		case string:
			key = k
		case int64:
			// JavaScript turns number keys into strings.
			key = fmt.Sprint(k)
		default:
			return nil, errNonStringKey
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, KV{key, v})
	}
	return out, nil
}

func (d *decoder) ext(n int) (any, error) {
	tb, err := d.next(1)
	if err != nil {
		return nil, err
	}
	typ := int8(tb[0])
	data, err := d.next(n)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == 0 && n == 1:
		return Undefined{}, nil // notepack's old encoding of undefined
	case typ == 0 && n == 8:
		// notepack's old encoding of a Date: milliseconds, as two 32-bit halves.
		ms := int64(int32(binary.BigEndian.Uint32(data)))<<32 | int64(binary.BigEndian.Uint32(data[4:]))
		return time.UnixMilli(ms).UTC(), nil
	case typ == 0:
		return data, nil // notepack's old encoding of an ArrayBuffer
	case typ == -1 && n == 4:
		return time.Unix(int64(binary.BigEndian.Uint32(data)), 0).UTC(), nil
	case typ == -1 && n == 8:
		hi := binary.BigEndian.Uint32(data)
		lo := binary.BigEndian.Uint32(data[4:])
		sec := int64(hi&3)<<32 | int64(lo)
		return time.Unix(sec, int64(hi>>2)).UTC(), nil
	case typ == -1 && n == 12:
		ns := binary.BigEndian.Uint32(data)
		sec := int64(binary.BigEndian.Uint64(data[4:]))
		return time.Unix(sec, int64(ns)).UTC(), nil
	}
	return Ext{Type: typ, Data: data}, nil
}

// Encode encodes v as notepack.io would encode the JavaScript value it
// stands for. It accepts what Decode returns plus the other integer and
// float types, []string, map[string]any (keys sorted) and pointers to
// these; a float with an integral value is written as an integer, as
// JavaScript numbers are.
func Encode(v any) ([]byte, error) { return Append(nil, v) }

// Append appends the encoding of v to b.
func Append(b []byte, v any) ([]byte, error) { return appendValue(b, v, 0) }

const maxEncodeDepth = 1000

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return b, ErrTooDeep
	}
	switch v := v.(type) {
	case nil, Undefined:
		return append(b, 0xc0), nil
	case bool:
		if v {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int:
		return AppendInt(b, int64(v)), nil
	case int8:
		return AppendInt(b, int64(v)), nil
	case int16:
		return AppendInt(b, int64(v)), nil
	case int32:
		return AppendInt(b, int64(v)), nil
	case int64:
		return AppendInt(b, v), nil
	case uint:
		return AppendUint(b, uint64(v)), nil
	case uint8:
		return AppendUint(b, uint64(v)), nil
	case uint16:
		return AppendUint(b, uint64(v)), nil
	case uint32:
		return AppendUint(b, uint64(v)), nil
	case uint64:
		return AppendUint(b, v), nil
	case float32:
		return AppendFloat(b, float64(v)), nil
	case float64:
		return AppendFloat(b, v), nil
	case string:
		return AppendString(b, v), nil
	case []byte:
		return AppendBinary(b, v), nil
	case time.Time:
		return appendTime(b, v), nil
	case Ext:
		return appendExt(b, v), nil
	case []any:
		b = AppendArrayHeader(b, len(v))
		var err error
		for _, e := range v {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case []string:
		b = AppendArrayHeader(b, len(v))
		for _, e := range v {
			b = AppendString(b, e)
		}
		return b, nil
	case Map:
		n := 0
		for _, kv := range v {
			if _, u := kv.Value.(Undefined); !u {
				n++
			}
		}
		b = AppendMapHeader(b, n)
		var err error
		for _, kv := range v {
			if _, u := kv.Value.(Undefined); u {
				continue // JavaScript drops undefined properties
			}
			b = AppendString(b, kv.Key)
			if b, err = appendValue(b, kv.Value, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make(Map, len(keys))
		for i, k := range keys {
			m[i] = KV{k, v[k]}
		}
		return appendValue(b, m, depth)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return append(b, 0xc0), nil
		}
		return appendValue(b, rv.Elem().Interface(), depth+1)
	}
	return b, fmt.Errorf("%w: %T", ErrUnsupported, v)
}

// AppendInt appends an integer in its smallest encoding (notepack.io uses
// the unsigned formats for non-negative numbers).
func AppendInt(b []byte, i int64) []byte {
	if i >= 0 {
		return AppendUint(b, uint64(i))
	}
	switch {
	case i >= -32:
		return append(b, byte(i))
	case i >= math.MinInt8:
		return append(b, 0xd0, byte(i))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(i))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(i))
}

// AppendUint appends an unsigned integer in its smallest encoding.
func AppendUint(b []byte, u uint64) []byte {
	switch {
	case u < 0x80:
		return append(b, byte(u))
	case u <= math.MaxUint8:
		return append(b, 0xcc, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
}

// AppendFloat appends a number as JavaScript's notepack.io does: as an
// integer when it has an integral value, else as a float 64.
func AppendFloat(b []byte, f float64) []byte {
	if f == math.Trunc(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<63 {
		if f == 0 && math.Signbit(f) {
			return AppendUint(b, 0) // notepack writes -0 as 0
		}
		if f >= 0 {
			return AppendUint(b, uint64(f))
		}
		return AppendInt(b, int64(f))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
}

// AppendString appends a string.
func AppendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// AppendBinary appends a byte slice as bin.
func AppendBinary(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, p...)
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// AppendMapHeader appends the header of a map of n entries.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// appendTime writes a timestamp with millisecond precision, as a
// JavaScript Date is.
func appendTime(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	s := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		s--
	}
	ns := uint32((ms - s*1000) * 1e6)
	switch {
	case s >= 0 && ns == 0 && s <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xd6, 0xff), uint32(s))
	case s >= 0 && s < 1<<34:
		return binary.BigEndian.AppendUint64(append(b, 0xd7, 0xff), uint64(ns)<<34|uint64(s))
	}
	b = binary.BigEndian.AppendUint32(append(b, 0xc7, 12, 0xff), ns)
	return binary.BigEndian.AppendUint64(b, uint64(s))
}

func appendExt(b []byte, e Ext) []byte {
	n := len(e.Data)
	switch n {
	case 1, 2, 4, 8, 16:
		var c byte
		for c = 0xd4; 1<<(c-0xd4) != n; c++ {
		}
		b = append(b, c)
	default:
		switch {
		case n <= math.MaxUint8:
			b = append(b, 0xc7, byte(n))
		case n <= math.MaxUint16:
			b = binary.BigEndian.AppendUint16(append(b, 0xc8), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xc9), uint32(n))
		}
	}
	b = append(b, byte(e.Type))
	return append(b, e.Data...)
}
