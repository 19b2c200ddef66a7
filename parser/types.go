package parser

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"
)

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// implementsAny reports whether t or *t implements one of the interfaces.
func implementsAny(t reflect.Type, ifaces ...reflect.Type) bool {
	pt := t
	if t.Kind() != reflect.Pointer {
		pt = reflect.PointerTo(t)
	}
	for _, it := range ifaces {
		if t.Implements(it) || pt.Implements(it) {
			return true
		}
	}
	return false
}

func marshalOpaque(t reflect.Type) bool {
	return implementsAny(t, marshalerType, textMarshalerType)
}

func unmarshalOpaque(t reflect.Type) bool {
	return implementsAny(t, unmarshalerType, textUnmarshalerType)
}

// isByteSlice reports whether encoding/json would write t as base64: a
// slice of bytes whose element type has no marshaler. Such values are
// binary attachments here.
func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	pe := reflect.PointerTo(t.Elem())
	return !pe.Implements(marshalerType) && !pe.Implements(textMarshalerType)
}

// binaryCache remembers, per type, whether a value of that type can hold a
// []byte (or an interface, which may hold anything). Types for which it is
// false are handed to encoding/json whole, without a walk of their value.
type binaryCache struct {
	opaque func(reflect.Type) bool // types encoding/json handles by their own methods
	m      sync.Map                // reflect.Type -> bool
}

var (
	encodeTypes = binaryCache{opaque: marshalOpaque}
	decodeTypes = binaryCache{opaque: unmarshalOpaque}
)

func (c *binaryCache) mayHoldBinary(t reflect.Type) bool {
	if v, ok := c.m.Load(t); ok {
		return v.(bool)
	}
	// Only the top-level answer is cached: an answer found while a
	// recursive type is half explored may be wrong.
	r := c.search(t, map[reflect.Type]bool{})
	c.m.Store(t, r)
	return r
}

func (c *binaryCache) search(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if v, ok := c.m.Load(t); ok {
		return v.(bool)
	}
	if c.opaque(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		return isByteSlice(t) || c.search(t.Elem(), seen)
	case reflect.Array, reflect.Pointer, reflect.Map:
		return c.search(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range cachedFields(t).list {
			if c.search(f.typ, seen) {
				return true
			}
		}
	}
	return false
}

// field is one JSON member of a struct, as encoding/json sees it.
type field struct {
	name      string
	nameJSON  []byte // "name": ready to write
	index     []int
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool // the ",string" option on a scalar
}

type structFields struct {
	list   []field
	byName map[string]int
}

var fieldCache sync.Map // reflect.Type -> *structFields

func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

// typeFields follows encoding/json's rules: exported fields and the fields
// of embedded structs, named by their json tag; among fields of the same
// name the shallowest wins, then a tagged one; a tie hides them all.
func typeFields(t reflect.Type) *structFields {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var fields []field
	current := []queued{}
	next := []queued{{typ: t}}
	count := map[reflect.Type]int{}
	nextCount := map[reflect.Type]int{}
	visited := map[reflect.Type]bool{}

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := 0; i < q.typ.NumField(); i++ {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := make([]int, len(q.index)+1)
				copy(index, q.index)
				index[len(q.index)] = i

				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{
						name:      name,
						index:     index,
						typ:       sf.Type,
						tagged:    name != "",
						omitEmpty: hasOption(opts, "omitempty"),
						omitZero:  hasOption(opts, "omitzero"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.String,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64:
							f.quoted = true
						}
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// The same struct embedded twice at one depth: its
						// fields conflict with themselves and vanish.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index})
				}
			}
		}
	}

	sort.SliceStable(fields, func(i, j int) bool {
		a, b := fields[i], fields[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		if a.tagged != b.tagged {
			return a.tagged
		}
		return indexLess(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	fields = out
	sort.Slice(fields, func(i, j int) bool { return indexLess(fields[i].index, fields[j].index) })

	sf := &structFields{list: fields, byName: make(map[string]int, len(fields))}
	for i := range fields {
		f := &fields[i]
		key, _ := json.Marshal(f.name)
		f.nameJSON = append(key, ':')
		sf.byName[f.name] = i
	}
	return sf
}

func indexLess(a, b []int) bool {
	for k, x := range a {
		if k >= len(b) {
			return false
		}
		if x != b[k] {
			return x < b[k]
		}
	}
	return len(a) < len(b)
}

func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// validTagName mirrors encoding/json: letters, digits and some punctuation.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
