package vapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Enum is implemented by string types whose values are a closed set. The decoder refuses other values
// and names the field, the value and the allowed ones.
type Enum interface {
	EnumValues() []string
}

// Validator is implemented by input types that check themselves after decoding; path is where the
// value sits in the request (e.g. "spec.resource_spec"). Failures are added to errs.
type Validator interface {
	Validate(path string, errs *FieldErrors)
}

// DecodeJSON decodes data into dst (a pointer) the way every vAPI input is decoded: JSON names from
// the struct tags, unknown fields refused, fields without omitempty required, enum values checked,
// integers exact, and every failure named by its path below root.
func DecodeJSON(data []byte, root string, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return malformed(root, err)
	}
	if dec.More() {
		return NewError(ErrorInvalidArgument, "wcpd.invalid_argument.json", "The request body holds more than one JSON value.")
	}
	return decodeValue(raw, root, dst)
}

func decodeValue(raw any, root string, dst any) error {
	var errs FieldErrors
	assign(raw, root, reflect.ValueOf(dst).Elem(), &errs)
	if errs.Len() == 0 {
		if v, ok := dst.(Validator); ok {
			v.Validate(root, &errs)
		}
	}
	return errs.Err()
}

func malformed(root string, err error) *Error {
	msg := err.Error()
	if se, ok := err.(*json.SyntaxError); ok {
		msg = fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if root == "" {
		return NewError(ErrorInvalidArgument, "wcpd.invalid_argument.json_body",
			fmt.Sprintf("The request body is not well-formed JSON: %s.", msg), msg)
	}
	return NewError(ErrorInvalidArgument, "wcpd.invalid_argument.json",
		fmt.Sprintf("The value of %s is not well-formed JSON: %s.", root, msg), root, msg)
}

type fieldInfo struct {
	index    []int
	name     string
	aliases  []string
	required bool
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo

// fieldsOf lists the JSON fields of a struct type, flattening embedded structs. A field is required
// unless it is a pointer or its tag says omitempty; `vapi:"alias=name"` adds an accepted input name.
func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for _, inner := range fieldsOf(sf.Type) {
				inner.index = append([]int{i}, inner.index...)
				out = append(out, inner)
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fi := fieldInfo{index: []int{i}, name: name,
			required: sf.Type.Kind() != reflect.Pointer && !strings.Contains(opts, "omitempty")}
		for _, part := range strings.Split(sf.Tag.Get("vapi"), ",") {
			if a, ok := strings.CutPrefix(part, "alias="); ok {
				fi.aliases = append(fi.aliases, a)
			}
		}
		out = append(out, fi)
	}
	fieldCache.Store(t, out)
	return out
}

var (
	timeType        = reflect.TypeOf(time.Time{})
	rawMessageType  = reflect.TypeOf(json.RawMessage{})
	unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	enumType        = reflect.TypeOf((*Enum)(nil)).Elem()
)

func jsonKind(raw any) string {
	switch raw.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "unknown"
}

func assign(raw any, path string, v reflect.Value, errs *FieldErrors) {
	if raw == nil {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	t := v.Type()
	if t == rawMessageType {
		b, _ := json.Marshal(raw)
		v.SetBytes(b)
		return
	}
	if t.Kind() != reflect.Pointer && t != timeType && reflect.PointerTo(t).Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(enumType) {
		b, _ := json.Marshal(raw)
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			errs.Add(path, string(b), err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		assign(raw, path, nv.Elem(), errs)
		v.Set(nv)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			errs.Add(path, raw, "cannot be decoded")
			return
		}
		v.Set(reflect.ValueOf(plain(raw)))
	case reflect.Struct:
		if t == timeType {
			s, ok := raw.(string)
			if !ok {
				errs.Add(path, raw, "expected a date-time string, got "+jsonKind(raw))
				return
			}
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				errs.Add(path, s, "expected a date-time such as 2026-01-02T15:04:05.000Z")
				return
			}
			v.Set(reflect.ValueOf(tm))
			return
		}
		obj, ok := raw.(map[string]any)
		if !ok {
			errs.Add(path, compact(raw), "expected an object, got "+jsonKind(raw))
			return
		}
		fields := fieldsOf(t)
		seen := map[string]bool{}
		for _, f := range fields {
			val, present, key := lookup(obj, f)
			if present {
				seen[key] = true
			}
			if !present || val == nil {
				if f.required {
					errs.Missing(join(path, f.name))
				}
				continue
			}
			assign(val, join(path, f.name), v.FieldByIndex(f.index), errs)
		}
		for k := range obj {
			if !seen[k] {
				errs.Add(join(path, k), compact(obj[k]), "no such field")
			}
		}
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			errs.Add(path, compact(raw), "expected an array, got "+jsonKind(raw))
			return
		}
		if t.Elem().Kind() == reflect.Uint8 {
			errs.Add(path, compact(raw), "expected a base64 string")
			return
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, e := range arr {
			if e == nil {
				// A null element would become a zero or nil member the handlers never expect.
				errs.Add(fmt.Sprintf("%s[%d]", path, i), "null", "a list may not hold null")
				continue
			}
			assign(e, fmt.Sprintf("%s[%d]", path, i), s.Index(i), errs)
		}
		v.Set(s)
	case reflect.Map:
		obj, ok := raw.(map[string]any)
		if !ok {
			errs.Add(path, compact(raw), "expected an object, got "+jsonKind(raw))
			return
		}
		if t.Key().Kind() != reflect.String {
			errs.Add(path, compact(raw), "cannot be decoded")
			return
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for k, e := range obj {
			kv := reflect.New(t.Key()).Elem()
			kv.SetString(k)
			if en, ok := kv.Interface().(Enum); ok && !member(en.EnumValues(), k) {
				errs.Add(path, k, "key must be one of "+strings.Join(en.EnumValues(), ", "))
				continue
			}
			ev := reflect.New(t.Elem()).Elem()
			assign(e, path+"["+strconv.Quote(k)+"]", ev, errs)
			m.SetMapIndex(kv, ev)
		}
		v.Set(m)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			errs.Add(path, compact(raw), "expected a string, got "+jsonKind(raw))
			return
		}
		if en, ok := v.Interface().(Enum); ok && !member(en.EnumValues(), s) {
			errs.Add(path, s, "must be one of "+strings.Join(en.EnumValues(), ", "))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			errs.Add(path, compact(raw), "expected a boolean, got "+jsonKind(raw))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			errs.Add(path, compact(raw), "expected an integer, got "+jsonKind(raw))
			return
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || v.OverflowInt(i) {
			errs.Add(path, n.String(), "expected an integer in range")
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := raw.(json.Number)
		if !ok {
			errs.Add(path, compact(raw), "expected a non-negative integer, got "+jsonKind(raw))
			return
		}
		i, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil || v.OverflowUint(i) {
			errs.Add(path, n.String(), "expected a non-negative integer in range")
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			errs.Add(path, compact(raw), "expected a number, got "+jsonKind(raw))
			return
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || v.OverflowFloat(f) {
			errs.Add(path, n.String(), "expected a number in range")
			return
		}
		v.SetFloat(f)
	default:
		errs.Add(path, compact(raw), "cannot be decoded")
	}
}

// lookup finds a field by its name or an alias, returning which key matched.
func lookup(obj map[string]any, f fieldInfo) (any, bool, string) {
	if v, ok := obj[f.name]; ok {
		return v, true, f.name
	}
	for _, a := range f.aliases {
		if v, ok := obj[a]; ok {
			return v, true, a
		}
	}
	return nil, false, ""
}

func member(values []string, s string) bool {
	for _, v := range values {
		if v == s {
			return true
		}
	}
	return false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// plain converts json.Number leaves back to float64 or int64 for untyped destinations.
func plain(raw any) any {
	switch x := raw.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = plain(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plain(x[k])
		}
	}
	return raw
}

// compact renders a raw value for an error message, shortened so messages stay readable.
func compact(raw any) string {
	if s, ok := raw.(string); ok {
		return s
	}
	b, _ := json.Marshal(raw)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// NullElement returns the path (below root) of the first null element of an array anywhere in the
// decoded JSON value v, or "" when there is none. Decoders other than DecodeJSON (govmomi's, for a
// config spec) would turn such an element into a nil member.
func NullElement(v any, root string) string {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", root, i)
			if e == nil {
				return p
			}
			if q := NullElement(e, p); q != "" {
				return q
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if q := NullElement(x[k], join(root, k)); q != "" {
				return q
			}
		}
	}
	return ""
}
