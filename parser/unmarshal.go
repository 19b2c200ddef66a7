package parser

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SplitArray splits a packet's JSON array (such as an event's name and
// arguments) into its raw elements without decoding them. The elements
// share data's memory. An error wrapping ErrInvalidPayload reports that data
// is not one valid JSON array.
func SplitArray(data json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, 4)
	err := eachElement(data, func(e []byte) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return out, nil
}

// Unmarshal decodes one raw argument into v, as json.Unmarshal does, and
// puts the attachments back where their placeholders
// {"_placeholder":true,"num":N} are: into []byte targets (also nested in
// structs, maps, slices and pointers), and into interface{} targets as
// []byte values. A placeholder whose num is not the index of an attachment
// is an error wrapping ErrIllegalAttachments; one met by any other target
// type is a *json.UnmarshalTypeError. Types with their own UnmarshalJSON
// method (json.RawMessage included) get the placeholder's JSON.
//
// With no attachments it is json.Unmarshal. The []byte values put in v are
// the attachments themselves, not copies.
func Unmarshal(raw json.RawMessage, attachments [][]byte, v any) error {
	if sp, ok := v.(*string); ok {
		// The commonest argument: a string without escapes is its own
		// value, so encoding/json's validating scan and unquoting (most of
		// the server's CPU for a 1 kB argument) can be skipped.
		if s, ok := plainString(raw); ok {
			*sp = s
			return nil
		}
	}
	if len(attachments) == 0 {
		return json.Unmarshal(raw, v)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !decodeTypes.mayHoldBinary(rv.Type().Elem()) {
		return json.Unmarshal(raw, v)
	}
	// One pass validates and finds every placeholder, so that the decoding
	// pass below never scans a value twice.
	w := walker{b: raw, check: true, n: len(attachments), found: map[int]placeholderSpan{}}
	start := skipSpace(raw, 0)
	end, perr, err := w.value(start, 0)
	if err == nil && skipSpace(raw, end) != len(raw) {
		err = errSyntax
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	if perr != nil {
		return fmt.Errorf("%w: %v", ErrIllegalAttachments, perr)
	}
	d := argDecoder{b: raw, atts: attachments, ph: w.found}
	_, err = d.decode(start, rv.Elem())
	return err
}

// argDecoder decodes validated JSON by recursive descent; each decode
// returns the offset after the value it consumed.
type argDecoder struct {
	b    []byte
	atts [][]byte
	ph   map[int]placeholderSpan
}

func (d *argDecoder) skip(i int) int {
	w := walker{b: d.b}
	end, _, _ := w.value(i, 0)
	return end
}

// delegate hands the value at i to encoding/json.
func (d *argDecoder) delegate(i int, v reflect.Value) (int, error) {
	end := d.skip(i)
	return end, json.Unmarshal(d.b[i:end], v.Addr().Interface())
}

func (d *argDecoder) decode(i int, v reflect.Value) (int, error) {
	b := d.b
	t := v.Type()
	if !decodeTypes.mayHoldBinary(t) {
		return d.delegate(i, v)
	}
	if s, ok := d.ph[i]; ok {
		return s.end, setAttachment(v, d.atts[s.num])
	}
	if b[i] == 'n' {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return i + 4, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.decode(i, v.Elem())
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return d.delegate(i, v)
		}
		if e := v.Elem(); !v.IsNil() && e.Kind() == reflect.Pointer && !e.IsNil() {
			return d.decode(i, e.Elem()) // like encoding/json: fill what it points to
		}
		x, end, err := d.generic(i)
		if err != nil {
			return end, err
		}
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
		return end, nil
	case reflect.Slice:
		if b[i] != '[' {
			return d.delegate(i, v)
		}
		s := reflect.MakeSlice(t, 0, 0)
		end, err := d.elements(i, func(j int) (int, error) {
			s = reflect.Append(s, reflect.Zero(t.Elem()))
			return d.decode(j, s.Index(s.Len()-1))
		})
		v.Set(s)
		return end, err
	case reflect.Array:
		if b[i] != '[' {
			return d.delegate(i, v)
		}
		n := 0
		end, err := d.elements(i, func(j int) (int, error) {
			n++
			if n > v.Len() {
				return d.skip(j), nil
			}
			return d.decode(j, v.Index(n-1))
		})
		for ; n < v.Len(); n++ {
			v.Index(n).SetZero()
		}
		return end, err
	case reflect.Map:
		if b[i] != '{' {
			return d.delegate(i, v)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		return d.members(i, func(key []byte, escaped bool, j int) (int, error) {
			k, err := mapKey(t.Key(), keyString(key, escaped))
			if err != nil {
				return j, err
			}
			e := reflect.New(t.Elem()).Elem()
			end, err := d.decode(j, e)
			if err == nil {
				v.SetMapIndex(k, e)
			}
			return end, err
		})
	case reflect.Struct:
		if b[i] != '{' {
			return d.delegate(i, v)
		}
		fs := cachedFields(t)
		return d.members(i, func(key []byte, escaped bool, j int) (int, error) {
			f := fs.lookup(key, escaped)
			if f == nil {
				return d.skip(j), nil
			}
			fv, ok := fieldToSet(v, f.index)
			if !ok {
				return d.skip(j), nil
			}
			if f.quoted {
				return d.quoted(j, fv)
			}
			return d.decode(j, fv)
		})
	}
	return d.delegate(i, v)
}

// quoted decodes a field with the ",string" option: JSON inside a string.
func (d *argDecoder) quoted(i int, v reflect.Value) (int, error) {
	end := d.skip(i)
	if d.b[i] == 'n' {
		return end, nil
	}
	s, ok := "", d.b[i] == '"'
	if ok {
		s, ok = unquote(d.b[i:end])
	}
	if !ok {
		return end, &json.UnmarshalTypeError{Value: "non-string", Type: v.Type()}
	}
	return end, json.Unmarshal([]byte(s), v.Addr().Interface())
}

// generic decodes the value at i as encoding/json does into an interface{},
// with attachments as []byte.
func (d *argDecoder) generic(i int) (any, int, error) {
	b := d.b
	switch b[i] {
	case '{':
		if s, ok := d.ph[i]; ok {
			return d.atts[s.num], s.end, nil
		}
		m := map[string]any{}
		end, err := d.members(i, func(key []byte, escaped bool, j int) (int, error) {
			x, end, err := d.generic(j)
			m[keyString(key, escaped)] = x
			return end, err
		})
		return m, end, err
	case '[':
		s := []any{}
		end, err := d.elements(i, func(j int) (int, error) {
			x, end, err := d.generic(j)
			s = append(s, x)
			return end, err
		})
		return s, end, err
	case '"':
		end, escaped, _ := scanString(b, i)
		return keyString(b[i:end], escaped), end, nil
	case 't':
		return true, i + 4, nil
	case 'f':
		return false, i + 5, nil
	case 'n':
		return nil, i + 4, nil
	}
	end, _ := scanNumber(b, i)
	f, err := strconv.ParseFloat(string(b[i:end]), 64)
	if err != nil {
		return nil, end, &json.UnmarshalTypeError{Value: "number " + string(b[i:end]), Type: reflect.TypeFor[float64]()}
	}
	return f, end, nil
}

// elements calls fn with the offset of every element of the array at i.
func (d *argDecoder) elements(i int, fn func(j int) (int, error)) (int, error) {
	b := d.b
	i = skipSpace(b, i+1)
	if b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := fn(i)
		if err != nil {
			return end, err
		}
		i = skipSpace(b, end)
		if b[i] == ']' {
			return i + 1, nil
		}
		i = skipSpace(b, i+1)
	}
}

// members calls fn with the key token and value offset of every member of
// the object at i.
func (d *argDecoder) members(i int, fn func(key []byte, escaped bool, j int) (int, error)) (int, error) {
	b := d.b
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		keyEnd, escaped, _ := scanString(b, i)
		j := skipSpace(b, skipSpace(b, keyEnd)+1)
		end, err := fn(b[i:keyEnd], escaped, j)
		if err != nil {
			return end, err
		}
		i = skipSpace(b, end)
		if b[i] == '}' {
			return i + 1, nil
		}
		i = skipSpace(b, i+1)
	}
}

// keyString decodes a valid JSON string token.
func keyString(tok []byte, escaped bool) string {
	if !escaped {
		return string(tok[1 : len(tok)-1])
	}
	s, _ := unquote(tok)
	return s
}

// lookup finds the field for an object key: an exact match first, then a
// case-insensitive one, as encoding/json does.
func (fs *structFields) lookup(key []byte, escaped bool) *field {
	var name string
	if escaped {
		name = keyString(key, true)
	} else if i, ok := fs.byName[string(key[1:len(key)-1])]; ok {
		return &fs.list[i]
	} else {
		name = string(key[1 : len(key)-1])
	}
	if i, ok := fs.byName[name]; ok {
		return &fs.list[i]
	}
	for i := range fs.list {
		if strings.EqualFold(fs.list[i].name, name) {
			return &fs.list[i]
		}
	}
	return nil
}

// fieldToSet follows index, allocating nil embedded pointers on the way.
func fieldToSet(v reflect.Value, index []int) (reflect.Value, bool) {
	for k, i := range index {
		if k > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() { // pointer to an unexported embedded struct
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// setAttachment stores an attachment in a []byte or interface{} target.
func setAttachment(v reflect.Value, att []byte) error {
	t := v.Type()
	switch {
	case isByteSlice(t):
		v.SetBytes(att)
		return nil
	case t.Kind() == reflect.Interface && t.NumMethod() == 0:
		v.Set(reflect.ValueOf(att))
		return nil
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return setAttachment(v.Elem(), att)
	}
	return &json.UnmarshalTypeError{Value: "binary attachment", Type: t}
}

// mapKey converts an object key for a map, as encoding/json does.
func mapKey(kt reflect.Type, s string) (reflect.Value, error) {
	if reflect.PointerTo(kt).Implements(textUnmarshalerType) {
		k := reflect.New(kt)
		if err := k.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return reflect.Value{}, err
		}
		return k.Elem(), nil
	}
	k := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		k.SetString(s)
		return k, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil && !k.OverflowInt(n) {
			k.SetInt(n)
			return k, nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, 64)
		if err == nil && !k.OverflowUint(n) {
			k.SetUint(n)
			return k, nil
		}
	}
	return reflect.Value{}, &json.UnmarshalTypeError{Value: "object key " + strconv.Quote(s), Type: kt}
}

// plainString returns the value of a JSON string token that holds no escape,
// no control character and only valid UTF-8: exactly the strings that
// encoding/json would decode to their bytes unchanged.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	// One pass looks for the bytes that are never plain, 8 at a time, and
	// gathers the high bits: only a string with a byte past ASCII needs
	// utf8.Valid.
	var high uint64
	i := 0
	for ; i <= len(in)-8; i += 8 {
		w := binary.LittleEndian.Uint64(in[i:])
		if hasSpecial8(w) {
			return "", false
		}
		high |= w
	}
	for ; i < len(in); i++ {
		c := in[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
		high |= uint64(c)
	}
	if high&msb8 != 0 && !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}
