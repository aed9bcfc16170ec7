package idl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The JSON-RPC wire form of vAPI values (reference §10): a structure is
// {"STRUCTURE":{"<canonical name>":{…}}}, an optional value {"OPTIONAL":…}, a secret {"SECRET":…},
// binary {"BINARY":"<base64>"}, an error {"ERROR":{"<error struct>":{…}}}, and a map a list of
// {"STRUCTURE":{"map-entry":{"key":…,"value":…}}}. The plain form is the REST /api JSON of the same
// value. Plain values are what encoding/json decodes into with UseNumber: map[string]any, []any,
// string, json.Number, bool, nil.
const (
	wireStructure = "STRUCTURE"
	wireOptional  = "OPTIONAL"
	wireSecret    = "SECRET"
	wireBinary    = "BINARY"
	wireError     = "ERROR"
	mapEntry      = "map-entry"
	// operationInputName names the structure an invoke's inputs come in.
	operationInputName = "operation-input"
	dynamicStruct      = "dynamic-structure"
	// ErrorStructPrefix is the start of every standard error structure's name.
	ErrorStructPrefix = "com.vmware.vapi.std.errors."
)

// ValueError says which value, by path (e.g. spec.master_management_network.mode), does not fit
// its type, and why.
type ValueError struct {
	Path   string
	Reason string
}

func (e *ValueError) Error() string { return e.Path + ": " + e.Reason }

func bad(path, format string, args ...any) error {
	return &ValueError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Object is a JSON object whose members keep their order when encoded: structures go out with their
// fields in the IDL's order, as the vAPI runtime sends them.
type Object []Member

// Member is one member of an Object.
type Member struct {
	Name  string
	Value any
}

// MarshalJSON writes the members in order.
func (o Object) MarshalJSON() ([]byte, error) { return AppendJSON(nil, o) }

// AppendJSON appends the JSON of a codec value (Object, plain values) to b in one pass: nested
// Objects are not re-encoded and re-scanned at every level, as json.Marshal would do with their
// MarshalJSON.
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case Object:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.Name)
			b = append(b, ':')
			var err error
			if b, err = AppendJSON(b, m.Value); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendString(b, x), nil
	case json.Number:
		return append(b, x...), nil
	case json.RawMessage:
		// Already JSON (a request's id, an answer AppendTyped wrote): sent as it is.
		return append(b, x...), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	raw, _ := json.Marshal(s)
	return append(b, raw...)
}

func wrap(key string, v any) Object { return Object{{key, v}} }

// OperationInput is the JSON-RPC input of an invoke: {"STRUCTURE":{"operation-input":{…}}}.
func OperationInput(fields Object) Object {
	return wrap(wireStructure, wrap(operationInputName, fields))
}

// OperationInputFields returns the fields of an invoke's input, or false when it is not
// {"STRUCTURE":{"operation-input":{…}}}.
func OperationInputFields(input any) (map[string]any, bool) {
	inner, ok := unwrap(input, wireStructure)
	if !ok {
		return nil, false
	}
	named, ok := unwrap(inner, operationInputName)
	fields, isObj := named.(map[string]any)
	return fields, ok && isObj
}

// Plain is a Go value (structures, typed maps and slices, numbers) in plain form, through
// encoding/json, with numbers kept exact.
func Plain(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return PlainOfJSON(raw)
}

// PlainOfJSON decodes JSON into plain form, with numbers kept exact.
func PlainOfJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Declared is v, a plain value of type t, with only what t declares: a structure keeps the fields
// its metadata names, at every depth (through optional values, lists, sets and map values), and
// leaves out whatever else a server put beside them. Anything that is not what t says is left as
// it is.
func (m *Metadata) Declared(t *Type, v any) any {
	switch t.Kind {
	case KindOptional:
		if v == nil {
			return nil
		}
		return m.Declared(t.Elem, v)
	case KindList, KindSet:
		list, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = m.Declared(t.Elem, e)
		}
		return out
	case KindMap:
		obj, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			out[k] = m.Declared(t.Elem, e)
		}
		return out
	case KindStruct:
		obj, ok := v.(map[string]any)
		s, known := m.structs[t.Name]
		if !ok || !known {
			return v
		}
		out := make(map[string]any, len(s.Fields))
		for _, f := range s.Fields {
			fv, present := obj[f.Name]
			if !present {
				continue
			}
			if ft, err := m.Type(f.Type); err == nil {
				fv = m.Declared(ft, fv)
			}
			out[f.Name] = fv
		}
		return out
	}
	return v
}

// Encode turns a plain value of type t into its JSON-RPC form. A required structure field that the
// plain value lacks is an error, except lists, sets and maps, which are empty then (REST leaves empty
// ones out); fields the metadata does not know are left out; sets lose duplicates.
func (m *Metadata) Encode(t *Type, v any, path string) (any, error) {
	if t.Kind == KindOptional {
		if v == nil {
			return wrap(wireOptional, nil), nil
		}
		inner, err := m.Encode(t.Elem, v, path)
		if err != nil {
			return nil, err
		}
		return wrap(wireOptional, inner), nil
	}
	if v == nil {
		switch t.Kind {
		case KindVoid:
			return nil, nil
		case KindList, KindSet, KindMap:
			return []any{}, nil
		}
		return nil, bad(path, "a value is required")
	}
	switch t.Kind {
	case KindVoid:
		return nil, nil
	case KindString, KindID, KindEnum, KindURI, KindDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a string, got %s", describe(v))
		}
		return s, nil
	case KindLong:
		return longValue(v, path)
	case KindDouble:
		f, err := doubleValue(v, path)
		if err != nil {
			return nil, err
		}
		return json.Number(CanonicalDouble(f)), nil
	case KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad(path, "expected true or false, got %s", describe(v))
		}
		return b, nil
	case KindSecret:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a string, got %s", describe(v))
		}
		return wrap(wireSecret, s), nil
	case KindBinary:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected base64 text, got %s", describe(v))
		}
		return wrap(wireBinary, s), nil
	case KindList, KindSet:
		list, ok := v.([]any)
		if !ok {
			return nil, bad(path, "expected a list, got %s", describe(v))
		}
		out := make([]any, 0, len(list))
		seen := map[string]bool{}
		for i, e := range list {
			if t.Kind == KindSet {
				key, _ := json.Marshal(e)
				if seen[string(key)] {
					continue
				}
				seen[string(key)] = true
			}
			enc, err := m.Encode(t.Elem, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, enc)
		}
		return out, nil
	case KindMap:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(path, "expected an object (a map), got %s", describe(v))
		}
		out := make([]any, 0, len(obj))
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			key, err := m.Encode(t.Key, k, path+"."+k)
			if err != nil {
				return nil, err
			}
			val, err := m.Encode(t.Elem, obj[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			out = append(out, wrap(wireStructure, wrap(mapEntry, Object{{"key", key}, {"value", val}})))
		}
		return out, nil
	case KindStruct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(path, "expected an object (%s), got %s", t.Name, describe(v))
		}
		s := m.structs[t.Name]
		fields := make(Object, 0, len(s.Fields))
		for _, f := range s.Fields {
			ft, err := m.Type(f.Type)
			if err != nil {
				return nil, err
			}
			enc, err := m.Encode(ft, obj[f.Name], path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			fields = append(fields, Member{f.Name, enc})
		}
		return wrap(wireStructure, wrap(t.Name, fields)), nil
	case KindDynamic:
		return encodeUntyped(v), nil
	case KindException:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, bad(path, "expected an error object, got %s", describe(v))
		}
		return m.EncodeError(obj)
	}
	return nil, bad(path, "cannot encode a value of kind %d", t.Kind)
}

// longValue is v as a vAPI long: a JSON integer within 64 bits.
func longValue(v any, path string) (json.Number, error) {
	n, ok := v.(json.Number)
	if !ok {
		return "", bad(path, "expected an integer, got %s", describe(v))
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		return "", bad(path, "expected an integer, got %s", n)
	}
	return n, nil
}

// doubleValue is v as a vAPI double: any JSON number.
func doubleValue(v any, path string) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, bad(path, "expected a number, got %s", describe(v))
	}
	f, err := n.Float64()
	if err != nil {
		return 0, bad(path, "expected a number, got %s", n)
	}
	return f, nil
}

// EncodeError turns a plain vAPI error ({"error_type", "messages", "data"}) into its JSON-RPC form:
// the error structure's name is chosen from error_type, e.g. NOT_FOUND → …std.errors.not_found.
func (m *Metadata) EncodeError(obj map[string]any) (any, error) {
	errType, _ := obj["error_type"].(string)
	if errType == "" {
		errType = "ERROR"
	}
	msgType, err := m.Type("List<com.vmware.vapi.std.localizable_message>")
	if err != nil {
		return nil, err
	}
	msgs := obj["messages"]
	if msgs == nil {
		msgs = []any{}
	}
	encMsgs, err := m.Encode(msgType, msgs, "messages")
	if err != nil {
		return nil, err
	}
	var data any = wrap(wireOptional, nil)
	if d, ok := obj["data"]; ok && d != nil {
		data = wrap(wireOptional, encodeUntyped(d))
	}
	body := Object{{"messages", encMsgs}, {"data", data}, {"error_type", wrap(wireOptional, errType)}}
	return wrap(wireError, wrap(ErrorStructPrefix+strings.ToLower(errType), body)), nil
}

// encodeUntyped encodes a value with no type to go by (inside a DynamicStructure): objects become
// dynamic structures, everything else stays as it is.
func encodeUntyped(v any) any {
	switch x := v.(type) {
	case map[string]any:
		fields := make(Object, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			fields = append(fields, Member{k, encodeUntyped(x[k])})
		}
		return wrap(wireStructure, wrap(dynamicStruct, fields))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = encodeUntyped(e)
		}
		return out
	}
	return v
}

// CanonicalDouble writes f as the vAPI runtime does: one digit before the point, at least one after
// it, and a plain exponent (1.5E0, 1.0E2, 0.0E0).
func CanonicalDouble(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "0.0E0"
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.5E+00, 1E+02
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// Decode turns a JSON-RPC value of type t into its plain form. Strict decoding applies the rules the
// official client applies to answers (reference §10): a present optional value must be wrapped, a
// required value must be there, sets have no duplicates, enumeration values are strings, dates are
// RFC 3339 and URIs parse. Lenient decoding, for what clients send, also takes bare optional values
// and secrets; a structure's fields the metadata does not know are kept, for the REST decoder to
// name.
func (m *Metadata) Decode(t *Type, v any, path string, strict bool) (any, error) {
	if t.Kind == KindOptional {
		if obj, ok := v.(map[string]any); ok && len(obj) == 1 {
			if inner, ok := obj[wireOptional]; ok {
				if inner == nil {
					return nil, nil
				}
				return m.Decode(t.Elem, inner, path, strict)
			}
		}
		if strict {
			return nil, bad(path, "an optional value must be wrapped as {\"OPTIONAL\": …}, got %s", describe(v))
		}
		if v == nil {
			return nil, nil
		}
		return m.Decode(t.Elem, v, path, strict)
	}
	if v == nil {
		if t.Kind == KindVoid {
			return nil, nil
		}
		return nil, bad(path, "a value is required")
	}
	switch t.Kind {
	case KindVoid:
		return nil, bad(path, "expected no value, got %s", describe(v))
	case KindString, KindID, KindEnum:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a string, got %s", describe(v))
		}
		return s, nil
	case KindURI:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a URI, got %s", describe(v))
		}
		if strict {
			if _, err := url.Parse(s); err != nil {
				return nil, bad(path, "%q is not a URI", s)
			}
		}
		return s, nil
	case KindDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a date and time, got %s", describe(v))
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, bad(path, "%q is not an RFC 3339 date and time", s)
		}
		return s, nil
	case KindLong:
		return longValue(v, path)
	case KindDouble:
		f, err := doubleValue(v, path)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad(path, "expected true or false, got %s", describe(v))
		}
		return b, nil
	case KindSecret:
		if inner, ok := unwrap(v, wireSecret); ok {
			v = inner
		}
		s, ok := v.(string)
		if !ok {
			return nil, bad(path, "expected a secret, {\"SECRET\": \"…\"}, got %s", describe(v))
		}
		return s, nil
	case KindBinary:
		inner, ok := unwrap(v, wireBinary)
		s, isString := inner.(string)
		if !ok || !isString {
			return nil, bad(path, "expected {\"BINARY\": \"<base64>\"}, got %s", describe(v))
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, bad(path, "the BINARY value is not base64")
		}
		return s, nil
	case KindList, KindSet:
		list, ok := v.([]any)
		if !ok {
			return nil, bad(path, "expected a list, got %s", describe(v))
		}
		out := make([]any, 0, len(list))
		seen := map[string]bool{}
		for i, e := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			dec, err := m.Decode(t.Elem, e, p, strict)
			if err != nil {
				return nil, err
			}
			if t.Kind == KindSet && strict {
				key, _ := json.Marshal(dec)
				if seen[string(key)] {
					return nil, bad(p, "a set holds %s twice", key)
				}
				seen[string(key)] = true
			}
			out = append(out, dec)
		}
		return out, nil
	case KindMap:
		return m.decodeMap(t, v, path, strict)
	case KindStruct:
		fields, err := structFields(v, path)
		if bare, isObj := v.(map[string]any); err != nil && isObj && !strict {
			if _, wrapped := bare[wireStructure]; !wrapped {
				fields, err = bare, nil // a hand-written client's plain object
			}
		}
		if err != nil {
			return nil, err
		}
		s := m.structs[t.Name]
		out := make(map[string]any, len(fields))
		for _, f := range s.Fields {
			raw, present := fields[f.Name]
			ft, err := m.Type(f.Type)
			if err != nil {
				return nil, err
			}
			if !present {
				if ft.Kind == KindOptional {
					continue
				}
				return nil, bad(path+"."+f.Name, "a value is required")
			}
			dec, err := m.Decode(ft, raw, path+"."+f.Name, strict)
			if err != nil {
				return nil, err
			}
			if dec != nil {
				out[f.Name] = dec
			}
		}
		if !strict {
			for k, raw := range fields {
				if _, known := out[k]; !known && !s.has(k) {
					out[k] = DecodeUntyped(raw)
				}
			}
		}
		return out, nil
	case KindDynamic:
		if _, err := structFields(v, path); err != nil {
			return nil, err
		}
		return DecodeUntyped(v), nil
	case KindException:
		inner, ok := unwrap(v, wireError)
		if !ok {
			return nil, bad(path, "expected {\"ERROR\": …}, got %s", describe(v))
		}
		return m.DecodeError(inner, path, strict)
	}
	return nil, bad(path, "cannot decode a value of kind %d", t.Kind)
}

// DecodeError turns the inside of an {"ERROR": …} value into the plain vAPI error.
func (m *Metadata) DecodeError(v any, path string, strict bool) (map[string]any, error) {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, bad(path, "expected {\"<error structure>\": {…}}, got %s", describe(v))
	}
	for name, body := range obj {
		fields, ok := body.(map[string]any)
		if !ok {
			return nil, bad(path, "expected the fields of %s, got %s", name, describe(body))
		}
		msgType, err := m.Type("List<com.vmware.vapi.std.localizable_message>")
		if err != nil {
			return nil, err
		}
		msgs, err := m.Decode(msgType, fields["messages"], path+".messages", strict)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"messages": msgs}
		errType := strings.ToUpper(strings.TrimPrefix(name, ErrorStructPrefix))
		if et, ok := unwrap(fields["error_type"], wireOptional); ok && et != nil {
			errType, _ = et.(string)
		}
		out["error_type"] = errType
		if d, ok := unwrap(fields["data"], wireOptional); ok && d != nil {
			out["data"] = DecodeUntyped(d)
		}
		return out, nil
	}
	return nil, nil // unreachable: obj has one member
}

func (m *Metadata) decodeMap(t *Type, v any, path string, strict bool) (any, error) {
	out := map[string]any{}
	put := func(key, val any, p string) error {
		k, err := m.Decode(t.Key, key, p, strict)
		if err != nil {
			return err
		}
		ks, ok := k.(string)
		if !ok {
			return bad(p, "a map key must be a string, got %s", describe(k))
		}
		dv, err := m.Decode(t.Elem, val, path+"."+ks, strict)
		if err != nil {
			return err
		}
		if _, dup := out[ks]; dup {
			return bad(path, "the map holds the key %q twice", ks)
		}
		out[ks] = dv
		return nil
	}
	switch x := v.(type) {
	case []any: // [{"STRUCTURE":{"map-entry":{"key":…,"value":…}}}, …]
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			entry, ok := unwrap(e, wireStructure)
			if ok {
				entry, ok = unwrap(entry, mapEntry)
			}
			kv, isObj := entry.(map[string]any)
			if !ok || !isObj {
				return nil, bad(p, "expected a map entry {\"STRUCTURE\":{\"map-entry\":{\"key\":…,\"value\":…}}}, got %s", describe(e))
			}
			if err := put(kv["key"], kv["value"], p+".key"); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any: // {"STRUCTURE":{"<name>":{key: value, …}}}
		fields, err := structFields(x, path)
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			if err := put(k, fields[k], path+"."+k); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, bad(path, "expected a map (a list of map entries), got %s", describe(v))
}

func (s *Struct) has(field string) bool {
	for _, f := range s.Fields {
		if f.Name == field {
			return true
		}
	}
	return false
}

// structFields returns the fields of {"STRUCTURE":{"<name>":{…}}}; the name is not checked, as the
// official client does not check it either.
func structFields(v any, path string) (map[string]any, error) {
	inner, ok := unwrap(v, wireStructure)
	if ok {
		if named, isObj := inner.(map[string]any); isObj && len(named) == 1 {
			for _, fields := range named {
				if f, isObj := fields.(map[string]any); isObj {
					return f, nil
				}
			}
		}
	}
	return nil, bad(path, "expected a structure {\"STRUCTURE\":{\"<name>\":{…}}}, got %s", describe(v))
}

// DecodeUntyped strips the wrappers from a value with no type to go by: structures become objects
// and optional values, secrets and binary values their contents.
func DecodeUntyped(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				switch k {
				case wireOptional, wireSecret, wireBinary:
					if inner == nil {
						return nil
					}
					return DecodeUntyped(inner)
				case wireStructure:
					if named, ok := inner.(map[string]any); ok && len(named) == 1 {
						for _, fields := range named {
							return DecodeUntyped(fields)
						}
					}
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = DecodeUntyped(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = DecodeUntyped(e)
		}
		return out
	}
	return v
}

// unwrap returns the value of {key: value}.
func unwrap(v any, key string) (any, bool) {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, false
	}
	inner, ok := obj[key]
	return inner, ok
}

// describe names a plain value's JSON kind for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				return fmt.Sprintf("an object with %q", k)
			}
		}
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
