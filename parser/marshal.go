package parser

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// MarshalArgs encodes Go values as a JSON array, the payload of an EVENT or
// ACK packet. Values are written as encoding/json writes them (without
// HTML escaping), except that every []byte found anywhere (at the top
// level, in slices, arrays, maps, pointers, interfaces and exported struct
// fields, honouring json tags) becomes a placeholder
// {"_placeholder":true,"num":N} and is appended to attachments; a nil
// []byte is null. Types with their own MarshalJSON or MarshalText method
// are left to that method. json.RawMessage values pass through unchanged
// (they must be valid JSON).
//
// The attachments are the caller's slices, not copies: they must not be
// modified until the packet has been sent.
//
// Values whose type cannot hold a []byte are handed to encoding/json
// directly; only types with []byte or interface parts are walked.
func MarshalArgs(args []any) (data json.RawMessage, attachments [][]byte, err error) {
	return marshalArgs("", false, args)
}

// MarshalEvent is MarshalArgs with the event name written first, the
// payload of an EVENT packet: MarshalEvent("chat", args) equals
// MarshalArgs(append([]any{"chat"}, args...)) without building that slice.
func MarshalEvent(event string, args []any) (data json.RawMessage, attachments [][]byte, err error) {
	return marshalArgs(event, true, args)
}

type argsWriter struct {
	buf  bytes.Buffer
	enc  *json.Encoder // writes into buf
	atts [][]byte
}

var writerPool = sync.Pool{New: func() any {
	w := &argsWriter{}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false) // as JSON.stringify
	return w
}}

func marshalArgs(event string, hasEvent bool, args []any) (json.RawMessage, [][]byte, error) {
	w := writerPool.Get().(*argsWriter)
	defer w.release()
	if err := w.array(event, hasEvent, args); err != nil {
		return nil, nil, err
	}
	data := make(json.RawMessage, w.buf.Len())
	copy(data, w.buf.Bytes())
	atts := w.atts
	w.atts = nil
	return data, atts, nil
}

// array writes the payload array: the event name first when hasEvent,
// then args.
func (w *argsWriter) array(event string, hasEvent bool, args []any) error {
	w.buf.WriteByte('[')
	if hasEvent {
		if err := w.writeString(event); err != nil {
			return err
		}
	}
	for i, a := range args {
		if i > 0 || hasEvent {
			w.buf.WriteByte(',')
		}
		if err := w.any(a, 0); err != nil {
			return err
		}
	}
	w.buf.WriteByte(']')
	return nil
}

func (w *argsWriter) release() {
	w.buf.Reset()
	w.atts = nil
	if w.buf.Cap() <= 64<<10 { // let the rare huge buffer go
		writerPool.Put(w)
	}
}

// encode writes v with encoding/json.
func (w *argsWriter) encode(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
	return nil
}

func (w *argsWriter) writeString(s string) error {
	if !plainASCII(s) {
		return w.encode(s)
	}
	w.buf.WriteByte('"')
	w.buf.WriteString(s)
	w.buf.WriteByte('"')
	return nil
}

// plainASCII reports whether s is its own JSON string body: ASCII without
// quotes, backslashes or control characters.
func plainASCII(s string) bool {
	i := 0
	for ; i <= len(s)-8; i += 8 {
		if hasSpecialOrNonASCII8(stringWord(s, i)) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (w *argsWriter) placeholder(b []byte) {
	w.buf.WriteString(`{"_placeholder":true,"num":`)
	w.buf.Write(strconv.AppendInt(w.buf.AvailableBuffer(), int64(len(w.atts)), 10))
	w.buf.WriteByte('}')
	w.atts = append(w.atts, b)
}

func (w *argsWriter) any(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested too deeply (a cycle?)", ErrUnsupportedValue)
	}
	switch x := v.(type) {
	case nil:
		w.buf.WriteString("null")
		return nil
	case string:
		return w.writeString(x)
	case json.RawMessage:
		if x == nil {
			w.buf.WriteString("null")
			return nil
		}
		if err := scanAll(x); err != nil {
			return fmt.Errorf("%w: json.RawMessage: %v", ErrUnsupportedValue, err)
		}
		w.buf.Write(x)
		return nil
	case []byte:
		if x == nil {
			w.buf.WriteString("null")
		} else {
			w.placeholder(x)
		}
		return nil
	case bool:
		w.buf.Write(strconv.AppendBool(w.buf.AvailableBuffer(), x))
		return nil
	case int:
		w.buf.Write(strconv.AppendInt(w.buf.AvailableBuffer(), int64(x), 10))
		return nil
	case int64:
		w.buf.Write(strconv.AppendInt(w.buf.AvailableBuffer(), x, 10))
		return nil
	case []any: // the common generic shapes, without reflection
		if x == nil {
			w.buf.WriteString("null")
			return nil
		}
		w.buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			if err := w.any(e, depth+1); err != nil {
				return err
			}
		}
		w.buf.WriteByte(']')
		return nil
	case map[string]any:
		if x == nil {
			w.buf.WriteString("null")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			if err := w.writeString(k); err != nil {
				return err
			}
			w.buf.WriteByte(':')
			if err := w.any(x[k], depth+1); err != nil {
				return err
			}
		}
		w.buf.WriteByte('}')
		return nil
	}
	t := reflect.TypeOf(v)
	if !encodeTypes.mayHoldBinary(t) {
		return w.encode(v)
	}
	return w.value(reflect.ValueOf(v), depth)
}

func (w *argsWriter) value(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested too deeply (a cycle?)", ErrUnsupportedValue)
	}
	t := v.Type()
	if !encodeTypes.mayHoldBinary(t) {
		return w.delegate(v)
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			w.buf.WriteString("null")
			return nil
		}
		return w.any(v.Interface(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			w.buf.WriteString("null")
			return nil
		}
		return w.value(v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			w.buf.WriteString("null")
			return nil
		}
		if isByteSlice(t) {
			w.placeholder(v.Bytes())
			return nil
		}
		return w.elements(v, depth)
	case reflect.Array:
		return w.elements(v, depth)
	case reflect.Map:
		return w.mapValue(v, depth)
	case reflect.Struct:
		return w.structValue(v, depth)
	}
	return w.delegate(v)
}

// delegate writes v with encoding/json, keeping pointer-receiver
// marshalers working for addressable values as encoding/json does.
func (w *argsWriter) delegate(v reflect.Value) error {
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		if pt := reflect.PointerTo(v.Type()); pt.Implements(marshalerType) || pt.Implements(textMarshalerType) {
			v = v.Addr()
		}
	}
	if !v.CanInterface() {
		return fmt.Errorf("%w: unexported value of type %v", ErrUnsupportedValue, v.Type())
	}
	return w.encode(v.Interface())
}

func (w *argsWriter) elements(v reflect.Value, depth int) error {
	w.buf.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		if err := w.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	w.buf.WriteByte(']')
	return nil
}

func (w *argsWriter) mapValue(v reflect.Value, depth int) error {
	if v.IsNil() {
		w.buf.WriteString("null")
		return nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKeyString(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	w.buf.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		if err := w.writeString(e.key); err != nil {
			return err
		}
		w.buf.WriteByte(':')
		if err := w.value(e.val, depth+1); err != nil {
			return err
		}
	}
	w.buf.WriteByte('}')
	return nil
}

// mapKeyString names a map key as encoding/json does.
func mapKeyString(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.CanInterface() {
		if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
			if k.Kind() == reflect.Pointer && k.IsNil() {
				return "", nil
			}
			b, err := tm.MarshalText()
			return string(b), err
		}
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("%w: map key type %v", ErrUnsupportedValue, k.Type())
}

func (w *argsWriter) structValue(v reflect.Value, depth int) error {
	w.buf.WriteByte('{')
	first := true
	fields := cachedFields(v.Type()).list
	for i := range fields {
		f := &fields[i]
		fv, ok := fieldToRead(v, f.index)
		if !ok || (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && isZeroValue(fv)) {
			continue
		}
		if !first {
			w.buf.WriteByte(',')
		}
		first = false
		w.buf.Write(f.nameJSON)
		var err error
		if f.quoted {
			err = w.quoted(fv)
		} else {
			err = w.value(fv, depth+1)
		}
		if err != nil {
			return err
		}
	}
	w.buf.WriteByte('}')
	return nil
}

// quoted writes a scalar with the ",string" option: its JSON in a string.
func (w *argsWriter) quoted(v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			w.buf.WriteString("null")
			return nil
		}
		v = v.Elem()
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	return w.encode(string(b))
}

// fieldToRead follows index through embedded structs; a nil embedded
// pointer hides the field.
func fieldToRead(v reflect.Value, index []int) (reflect.Value, bool) {
	for k, i := range index {
		if k > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// isZeroValue implements the "omitzero" option: an IsZero method if the
// type has one, else the zero value.
func isZeroValue(v reflect.Value) bool {
	t := v.Type()
	switch {
	case t.Implements(isZeroerType):
		if (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && v.IsNil() {
			return true
		}
		return v.Interface().(isZeroer).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType) && v.CanAddr():
		return v.Addr().Interface().(isZeroer).IsZero()
	}
	return v.IsZero()
}
