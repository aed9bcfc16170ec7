package idl

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestAppendTypedWritesWhatEncodeWrites: for every input and output type of every operation, with
// every field set (and again with the optional ones left out, and a set with a duplicate), the
// typed bytes AppendTyped writes from the REST form's JSON are those Encode and AppendJSON write
// from the decoded value.
func TestAppendTypedWritesWhatEncodeWrites(t *testing.T) {
	m := Default()
	n := 0
	check := func(where string, typ *Type, plain any) {
		t.Helper()
		raw, err := json.Marshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := m.Encode(typ, plainOf(t, string(raw)), where)
		if err != nil {
			t.Errorf("%s: encoding: %v", where, err)
			return
		}
		want, err := AppendJSON(nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.AppendTyped(nil, typ, raw, where)
		if err != nil {
			t.Errorf("%s: AppendTyped: %v", where, err)
			return
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", where, got, want)
		}
		n++
	}
	for _, svc := range m.Services() {
		for _, op := range svc.Operations {
			notations := []string{op.Output}
			for _, p := range op.Params {
				notations = append(notations, p.Type)
			}
			for _, notation := range notations {
				typ, err := m.Type(notation)
				if err != nil {
					t.Fatal(err)
				}
				check(svc.ID+"."+op.Name, typ, sample(t, m, typ, 0))
				if typ.Kind == KindStruct {
					check(svc.ID+"."+op.Name+" (required fields only)", typ, requiredOnly(t, m, typ))
				}
			}
		}
	}
	set, _ := m.Type("Set<string>")
	check("a set with a duplicate", set, []any{"a", "b", "a"})
	text, _ := m.Type("string")
	check("a string to escape", text, "<a & \"b\">\n\u00e9")
	double, _ := m.Type("double")
	check("a double", double, json.Number("-12.5e3"))
	if n < 500 {
		t.Fatalf("only %d values checked", n)
	}
}

// requiredOnly is a sample of a structure with its optional fields left out.
func requiredOnly(t *testing.T, m *Metadata, typ *Type) any {
	s, _ := m.Struct(typ.Name)
	out := map[string]any{}
	for _, f := range s.Fields {
		ft, err := m.Type(f.Type)
		if err != nil {
			t.Fatal(err)
		}
		if ft.Kind != KindOptional {
			out[f.Name] = sample(t, m, ft, 1)
		}
	}
	return out
}

// TestAppendTypedRefusesWhatEncodeRefuses: a value its type cannot carry is an error naming the
// same path as Encode's.
func TestAppendTypedRefusesWhatEncodeRefuses(t *testing.T) {
	m := Default()
	for _, tc := range []struct{ notation, raw, path string }{
		{"com.vmware.vcenter.namespace_management.IP_range", `{"address": "10.0.0.1"}`, "v.count"},
		{"long", `1.5`, "v"},
		{"long", `"7"`, "v"},
		{"string", `7`, "v"},
		{"boolean", `"yes"`, "v"},
		{"List<string>", `["a", 1]`, "v[1]"},
		{"List<string>", `{"a": 1}`, "v"},
		{"Map<string,long>", `{"a": "x"}`, "v.a"},
		{"com.vmware.vcenter.namespace_management.IP_range", `{"address": "10.0.0.1", "count": 2`, "v"},
	} {
		typ, err := m.Type(tc.notation)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.AppendTyped(nil, typ, []byte(tc.raw), "v")
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Path != tc.path {
			t.Errorf("%s %s: want an error at %s, got %v", tc.notation, tc.raw, tc.path, err)
		}
	}
}
