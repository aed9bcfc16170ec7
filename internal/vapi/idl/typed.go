package idl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// unsafeString views b as a string without copying; b must not change while the string is used
// (the raw answers AppendTyped reads are not changed while it runs).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// AppendTyped appends to b the JSON-RPC form of raw, a value of type t in the REST form's JSON (what
// a handler answers), writing the typed bytes straight from raw's: the same bytes Encode and
// AppendJSON give for the decoded value, without building the decoded value or the typed one.
// Dynamic structures and errors, which need the whole value, take that path. path names the value
// in errors, as in Encode.
func (m *Metadata) AppendTyped(b []byte, t *Type, raw []byte, path string) ([]byte, error) {
	p := &typedPath{root: path}
	return m.appendTyped(b, t, raw, p)
}

// typedPath is where a value is, kept as parts and written out only for an error: building a
// path string for every field of every answer would cost more than typing it.
type typedPath struct {
	root  string
	parts []pathPart
	// fields and elems are scratch space for the members of the objects and lists being typed,
	// used as stacks: a nested value appends past its parent's and gives the space back.
	fields []rawField
	elems  [][]byte
}

type pathPart struct {
	field string // ".name", or "" for an index
	index int
}

func (p *typedPath) field(name string) { p.parts = append(p.parts, pathPart{field: name}) }
func (p *typedPath) index(i int)       { p.parts = append(p.parts, pathPart{index: i}) }
func (p *typedPath) pop()              { p.parts = p.parts[:len(p.parts)-1] }

func (p *typedPath) String() string {
	var b strings.Builder
	b.WriteString(p.root)
	for _, part := range p.parts {
		if part.field != "" {
			b.WriteString("." + part.field)
		} else {
			b.WriteString("[" + strconv.Itoa(part.index) + "]")
		}
	}
	return b.String()
}

func (m *Metadata) appendTyped(b []byte, t *Type, raw []byte, p *typedPath) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	isNull := len(raw) == 0 || string(raw) == "null"
	if t.Kind == KindOptional {
		b = append(b, `{"`+wireOptional+`":`...)
		if isNull {
			return append(b, "null}"...), nil
		}
		b, err := m.appendTyped(b, t.Elem, raw, p)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	if isNull {
		switch t.Kind {
		case KindVoid:
			return append(b, "null"...), nil
		case KindList, KindSet, KindMap:
			return append(b, "[]"...), nil
		}
		return nil, bad(p.String(), "a value is required")
	}
	switch t.Kind {
	case KindVoid:
		return append(b, "null"...), nil
	case KindString, KindID, KindEnum, KindURI, KindDateTime:
		return appendRawString(b, raw, p, "expected a string, got %s")
	case KindLong:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return nil, bad(p.String(), "expected an integer, got %s", describeRaw(raw))
		}
		if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
			return nil, bad(p.String(), "expected an integer, got %s", raw)
		}
		return append(b, raw...), nil
	case KindDouble:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return nil, bad(p.String(), "expected a number, got %s", describeRaw(raw))
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, bad(p.String(), "expected a number, got %s", raw)
		}
		return append(b, CanonicalDouble(f)...), nil
	case KindBoolean:
		if s := string(raw); s != "true" && s != "false" {
			return nil, bad(p.String(), "expected true or false, got %s", describeRaw(raw))
		}
		return append(b, raw...), nil
	case KindSecret, KindBinary:
		key, what := wireSecret, "expected a string, got %s"
		if t.Kind == KindBinary {
			key, what = wireBinary, "expected base64 text, got %s"
		}
		b = append(b, `{"`+key+`":`...)
		b, err := appendRawString(b, raw, p, what)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	case KindList, KindSet:
		if raw[0] != '[' {
			return nil, bad(p.String(), "expected a list, got %s", describeRaw(raw))
		}
		start := len(p.elems)
		var err error
		if p.elems, err = arrayElements(raw, p.elems); err != nil {
			return nil, bad(p.String(), "%v", err)
		}
		elems := p.elems[start:]
		b = append(b, '[')
		var seen map[string]bool
		if t.Kind == KindSet {
			seen = map[string]bool{}
		}
		n := 0
		for i, e := range elems {
			if seen != nil {
				key := setKey(e)
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			p.index(i)
			if b, err = m.appendTyped(b, t.Elem, e, p); err != nil {
				return nil, err
			}
			p.pop()
		}
		p.elems = p.elems[:start] // an error leaves the scratch space as it is: typing stops there
		return append(b, ']'), nil
	case KindMap:
		if raw[0] != '{' {
			return nil, bad(p.String(), "expected an object (a map), got %s", describeRaw(raw))
		}
		start := len(p.fields)
		var err error
		if p.fields, err = objectFields(raw, p.fields); err != nil {
			return nil, bad(p.String(), "%v", err)
		}
		fields := p.fields[start:]
		slices.SortFunc(fields, func(a, b rawField) int { return strings.Compare(a.name, b.name) })
		b = append(b, '[')
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"`+wireStructure+`":{"`+mapEntry+`":{"key":`...)
			p.field(f.name)
			if b, err = m.appendTyped(b, t.Key, f.key, p); err != nil {
				return nil, err
			}
			b = append(b, `,"value":`...)
			if b, err = m.appendTyped(b, t.Elem, f.value, p); err != nil {
				return nil, err
			}
			p.pop()
			b = append(b, "}}}"...)
		}
		p.fields = p.fields[:start]
		return append(b, ']'), nil
	case KindStruct:
		if raw[0] != '{' {
			return nil, bad(p.String(), "expected an object (%s), got %s", t.Name, describeRaw(raw))
		}
		start := len(p.fields)
		var err error
		if p.fields, err = objectFields(raw, p.fields); err != nil {
			return nil, bad(p.String(), "%v", err)
		}
		fields := p.fields[start:]
		s := m.structs[t.Name]
		types, err := m.structFieldTypes(s)
		if err != nil {
			return nil, err
		}
		b = append(b, `{"`+wireStructure+`":`...)
		b = appendString(append(b, '{'), t.Name)
		b = append(b, ":{"...)
		for i, f := range s.Fields {
			ft := types[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.Name)
			b = append(b, ':')
			var value []byte
			for _, rf := range fields {
				if rf.name == f.Name {
					value = rf.value // the last of duplicate keys, as a decoder keeps it
				}
			}
			p.field(f.Name)
			if b, err = m.appendTyped(b, ft, value, p); err != nil {
				return nil, err
			}
			p.pop()
		}
		p.fields = p.fields[:start]
		return append(b, "}}}"...), nil
	}
	// Dynamic structures and errors: through the decoded value.
	v, err := PlainOfJSON(raw)
	if err != nil {
		return nil, bad(p.String(), "%v", err)
	}
	enc, err := m.Encode(t, v, p.String())
	if err != nil {
		return nil, err
	}
	return AppendJSON(b, enc)
}

// appendRawString appends the JSON string token raw, re-escaped as AppendJSON escapes strings so
// that both ways give the same bytes.
func appendRawString(b, raw []byte, p *typedPath, what string) ([]byte, error) {
	if raw[0] != '"' {
		return nil, bad(p.String(), what, describeRaw(raw))
	}
	if bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
		// No escapes: the text is the string. AppendJSON escapes the same characters
		// encoding/json does; a token without any of them is already in that form.
		plain := true
		for _, c := range raw[1 : len(raw)-1] {
			if c < 0x20 || c == '<' || c == '>' || c == '&' || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			return append(b, raw...), nil
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, bad(p.String(), what, describeRaw(raw))
	}
	return appendString(b, s), nil
}

// describeRaw names a raw JSON value's kind for an error, as describe names a decoded one.
func describeRaw(raw []byte) string {
	v, err := PlainOfJSON(raw)
	if err != nil {
		return "malformed JSON"
	}
	return describe(v)
}

// rawField is one member of a raw JSON object: its name, its name's JSON token, its value.
type rawField struct {
	name       string
	key, value []byte
}

// objectFields appends a raw JSON object's members to out, in order.
func objectFields(raw []byte, out []rawField) ([]rawField, error) {
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == '}' {
		return out, nil
	}
	for i < len(raw) {
		end, err := valueEnd(raw, i)
		if err != nil || raw[i] != '"' {
			return nil, fmt.Errorf("malformed object member at byte %d", i)
		}
		keyToken := raw[i:end]
		name := unsafeString(raw[i+1 : end-1])
		if bytes.IndexByte(keyToken, '\\') >= 0 {
			if name, err = unescapeKey(keyToken); err != nil {
				return nil, err
			}
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, fmt.Errorf("expected ':' at byte %d", i)
		}
		i = skipSpace(raw, i+1)
		if end, err = valueEnd(raw, i); err != nil {
			return nil, err
		}
		out = append(out, rawField{name: name, key: keyToken, value: raw[i:end]})
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		if i < len(raw) && raw[i] == '}' {
			return out, nil
		}
		return nil, fmt.Errorf("expected ',' or '}' at byte %d", i)
	}
	return nil, fmt.Errorf("unterminated object")
}

// setKey is what tells a set's elements apart, as Encode tells them: their canonical JSON. An
// element without escapes or spaces (what encoding/json writes for strings, numbers and the like)
// is its own key; others are decoded and encoded again.
func setKey(e []byte) string {
	if bytes.IndexAny(e, "\\ \t\n\r{[") < 0 {
		return string(e)
	}
	v, err := PlainOfJSON(e)
	if err != nil {
		return string(e)
	}
	key, _ := json.Marshal(v)
	return string(key)
}

// unescapeKey is the text of a JSON string token that has escapes.
func unescapeKey(token []byte) (string, error) {
	var s string
	err := json.Unmarshal(token, &s)
	return s, err
}

// arrayElements appends a raw JSON array's elements to out.
func arrayElements(raw []byte, out [][]byte) ([][]byte, error) {
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for i < len(raw) {
		end, err := valueEnd(raw, i)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[i:end])
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		if i < len(raw) && raw[i] == ']' {
			return out, nil
		}
		return nil, fmt.Errorf("expected ',' or ']' at byte %d", i)
	}
	return nil, fmt.Errorf("unterminated list")
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// valueEnd is the index just past the JSON value that starts at raw[i]. It finds the value's
// extent; the value's own validity is checked where it is used.
func valueEnd(raw []byte, i int) (int, error) {
	if i >= len(raw) {
		return 0, fmt.Errorf("a value is missing at byte %d", i)
	}
	switch raw[i] {
	case '"':
		for j := i + 1; j < len(raw); j++ {
			switch raw[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, fmt.Errorf("unterminated string at byte %d", i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				end, err := valueEnd(raw, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unterminated value at byte %d", i)
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' && raw[j] != ' ' && raw[j] != '\n' && raw[j] != '\t' && raw[j] != '\r' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("a value is missing at byte %d", i)
	}
	return j, nil
}
