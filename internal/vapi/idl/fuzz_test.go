package idl

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecode: whatever JSON a client sends as an operation's input, or a server as its answer, the
// codec answers a value or an error naming a path, never a panic. The first byte picks the operation.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"STRUCTURE":{"operation-input":{"spec":{"STRUCTURE":{"x":{"role":"EDIT","identity_provider":{"OPTIONAL":null}}}}}}}`,
		`{"STRUCTURE":{"operation-input":{"specs":[{"STRUCTURE":{"map-entry":{"key":"domain-c8","value":{"STRUCTURE":{"x":{"desired_version":"v1"}}}}}}]}}}`,
		`{"OPTIONAL":{"ERROR":{"com.vmware.vapi.std.errors.not_found":{"messages":[null]}}}}`,
		`[{"STRUCTURE":null},{"SECRET":7},{"BINARY":"!!"},{"OPTIONAL":[1.5E0]}]`,
		`{"STRUCTURE":{"dynamic-structure":{"a":{"STRUCTURE":{"dynamic-structure":{}}}}}}`,
	} {
		for _, op := range []byte{0, 37, 101, 200} {
			f.Add(append([]byte{op}, s...))
		}
	}
	m := Default()
	var ops []*Operation
	for _, svc := range m.Services() {
		for i := range svc.Operations {
			ops = append(ops, &svc.Operations[i])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		op := ops[int(data[0])%len(ops)]
		dec := json.NewDecoder(strings.NewReader(string(data[1:])))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		fields, _ := v.(map[string]any)
		if inner, ok := fields["STRUCTURE"].(map[string]any); ok {
			fields, _ = inner["operation-input"].(map[string]any)
		}
		for _, p := range op.Params {
			typ, err := m.Type(p.Type)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := m.Decode(typ, fields[p.Name], p.Name, false)
			if err == nil {
				// What the server took, typed again, is a value of the type.
				if _, err := m.Encode(typ, plain, p.Name); err != nil && typ.Kind != KindDynamic {
					t.Fatalf("%s: decoded %v but cannot encode it back: %v", p.Name, plain, err)
				}
			}
		}
		out, err := m.Type(op.Output)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = m.Decode(out, v, "output", true)
		_, _ = m.Encode(out, DecodeUntyped(v), "output")
	})
}

// FuzzAppendTyped: for any JSON answer, typing it straight from its bytes (AppendTyped) and typing
// its decoded value (Encode, AppendJSON) agree: the same bytes, or both refuse it. The first byte
// picks the operation whose output type is used.
func FuzzAppendTyped(f *testing.F) {
	for _, s := range []string{
		`[{"namespace":"ns-1","cluster":"domain-c9","config_status":"RUNNING","stats":{"cpu_used":0,"memory_used":0,"storage_used":0}}]`,
		`{"a": 1, "b": [1, 2.5, "x"], "c": null}`,
		`["a", "\u0061", "b", "a"]`,
		`{"count": 3, "address": "10.0.0.1"}`,
		`"text <with> & \"escapes\""`,
		`12345678901234567890`,
	} {
		for _, op := range []byte{0, 37, 101, 200} {
			f.Add(append([]byte{op}, s...))
		}
	}
	m := Default()
	var outputs []*Type
	for _, svc := range m.Services() {
		for _, op := range svc.Operations {
			if t, err := m.Type(op.Output); err == nil {
				outputs = append(outputs, t)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || !json.Valid(data[1:]) {
			return
		}
		typ, raw := outputs[int(data[0])%len(outputs)], data[1:]
		plain, err := PlainOfJSON(raw)
		if err != nil {
			return
		}
		var want []byte
		enc, encErr := m.Encode(typ, plain, "output")
		if encErr == nil {
			want, encErr = AppendJSON(nil, enc)
		}
		got, typedErr := m.AppendTyped(nil, typ, raw, "output")
		switch {
		case (encErr == nil) != (typedErr == nil):
			t.Fatalf("%s: Encode: %v; AppendTyped: %v", raw, encErr, typedErr)
		case encErr == nil && string(got) != string(want):
			t.Fatalf("%s:\n AppendTyped %s\n Encode      %s", raw, got, want)
		}
	})
}
