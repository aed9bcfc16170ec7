package idl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/reference"
)

// TestGeneratedMetadataIsCurrent fails when zz_generated.go is not what the generator makes of the
// reference files: run `go generate ./internal/vapi/idl`.
func TestGeneratedMetadataIsCurrent(t *testing.T) {
	files, err := ReferenceFiles(".")
	if errors.Is(err, reference.ErrAbsent) {
		t.Skipf("the reference is absent (%v): nothing to compare with", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(files)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zz_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zz_generated.go is stale: run go generate ./internal/vapi/idl")
	}
}

func TestEveryTypeParses(t *testing.T) {
	m := Default()
	n := 0
	check := func(where, notation string) {
		t.Helper()
		n++
		if _, err := m.Type(notation); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}
	for _, s := range generatedStructs {
		for _, f := range s.Fields {
			check(s.Name+"."+f.Name, f.Type)
		}
	}
	for _, svc := range m.Services() {
		for _, op := range svc.Operations {
			check(svc.ID+"."+op.Name+" output", op.Output)
			for _, p := range op.Params {
				check(svc.ID+"."+op.Name+"("+p.Name+")", p.Type)
			}
			for variable, param := range op.PathVars {
				if !strings.Contains(op.URL, "{"+variable+"}") {
					t.Errorf("%s.%s: path variable %s (%s) is not in %s", svc.ID, op.Name, variable, param, op.URL)
				}
			}
		}
	}
	if _, ok := m.Operation("com.vmware.vcenter.namespace_management.clusters", "enable"); !ok || n < 1000 {
		t.Fatalf("the metadata looks empty: %d types, clusters.enable found %v", n, ok)
	}
}

// plainOf decodes JSON as the codec's plain form.
func plainOf(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func encodeJSON(t *testing.T, m *Metadata, notation string, plain string) string {
	t.Helper()
	typ, err := m.Type(notation)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.Encode(typ, plainOf(t, plain), "v")
	if err != nil {
		t.Fatalf("encoding %s as %s: %v", plain, notation, err)
	}
	out, _ := json.Marshal(enc)
	return string(out)
}

func TestEncodeWritesTheRuntimesForm(t *testing.T) {
	m := Default()
	for _, tc := range []struct{ notation, plain, want string }{
		// A structure under its canonical name (acronyms kept), fields in IDL order, unset optional ones
		// as OPTIONAL null.
		{"com.vmware.vcenter.namespace_management.IP_range", `{"count": 5, "address": "10.0.0.1"}`,
			`{"STRUCTURE":{"com.vmware.vcenter.namespace_management.IP_range":{"address":"10.0.0.1","count":5}}}`},
		{"com.vmware.vcenter.namespaces.access.create_spec", `{"role": "EDIT"}`,
			`{"STRUCTURE":{"com.vmware.vcenter.namespaces.access.create_spec":{"role":"EDIT","identity_provider":{"OPTIONAL":null}}}}`},
		{"Optional<List<string>>", `["a"]`, `{"OPTIONAL":["a"]}`},
		{"secret", `"pw"`, `{"SECRET":"pw"}`},
		{"Set<string>", `["a", "b", "a"]`, `["a","b"]`},
		{"Map<string,string>", `{"b": "2", "a": "1"}`,
			`[{"STRUCTURE":{"map-entry":{"key":"a","value":"1"}}},{"STRUCTURE":{"map-entry":{"key":"b","value":"2"}}}]`},
		{"double", `1.5`, `1.5E0`},
		{"double", `100`, `1.0E2`},
		{"double", `0`, `0.0E0`},
		{"void", `null`, `null`},
		// REST leaves an empty required list out; the runtime needs it.
		{"List<long>", `null`, `[]`},
		{"Optional<Exception>", `{"error_type": "NOT_FOUND", "messages": [{"id": "x", "default_message": "gone", "args": []}]}`,
			`{"OPTIONAL":{"ERROR":{"com.vmware.vapi.std.errors.not_found":{"messages":[{"STRUCTURE":{"com.vmware.vapi.std.localizable_message":{"id":"x","default_message":"gone","args":[],"params":{"OPTIONAL":null},"localized":{"OPTIONAL":null}}}}],"data":{"OPTIONAL":null},"error_type":{"OPTIONAL":"NOT_FOUND"}}}}}`},
		{"DynamicStructure", `{"numCPUs": 2, "nested": {"a": true}}`,
			`{"STRUCTURE":{"dynamic-structure":{"nested":{"STRUCTURE":{"dynamic-structure":{"a":true}}},"numCPUs":2}}}`},
	} {
		if got := encodeJSON(t, m, tc.notation, tc.plain); got != tc.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.notation, tc.plain, got, tc.want)
		}
	}
}

// TestDeclaredKeepsOnlyTheReferencesFields: a server's own fields beside a structure's are left
// out at every depth; what the type does not describe is left as it is.
func TestDeclaredKeepsOnlyTheReferencesFields(t *testing.T) {
	m := Default()
	for _, tc := range []struct{ notation, plain, want string }{
		{"com.vmware.vcenter.namespace_management.IP_range", `{"count": 5, "address": "10.0.0.1", "Internal": {"x": 1}}`,
			`{"address":"10.0.0.1","count":5}`},
		{"Optional<List<com.vmware.vcenter.namespace_management.IP_range>>", `[{"address": "a", "own": true}, {"count": 2}]`,
			`[{"address":"a"},{"count":2}]`},
		{"Map<string,com.vmware.vcenter.namespace_management.IP_range>", `{"k": {"address": "a", "own": 1}}`,
			`{"k":{"address":"a"}}`},
		{"Optional<com.vmware.vcenter.namespace_management.IP_range>", `null`, `null`},
		{"DynamicStructure", `{"any": 1}`, `{"any":1}`},
		{"List<string>", `["a & b"]`, `["a & b"]`},
	} {
		plain, err := PlainOfJSON([]byte(tc.plain))
		if err != nil {
			t.Fatal(err)
		}
		typ, err := m.Type(tc.notation)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.Declared(typ, plain)); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.notation, tc.plain, got, tc.want)
		}
	}
}

func TestEncodeRefusesWhatTheTypeCannotCarry(t *testing.T) {
	m := Default()
	for _, tc := range []struct{ notation, plain, path string }{
		{"com.vmware.vcenter.namespace_management.IP_range", `{"address": "10.0.0.1"}`, "v.count"},
		{"long", `1.5`, "v"},
		{"string", `7`, "v"},
		{"List<string>", `["a", 1]`, "v[1]"},
	} {
		typ, _ := m.Type(tc.notation)
		_, err := m.Encode(typ, plainOf(t, tc.plain), "v")
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Path != tc.path {
			t.Errorf("%s %s: want an error at %s, got %v", tc.notation, tc.plain, tc.path, err)
		}
	}
}

func TestDecodeStrictAsTheOfficialClient(t *testing.T) {
	m := Default()
	for _, tc := range []struct {
		name, notation, wire string
		strictErr            string // "" when strict decoding accepts it
		lenientOK            bool
	}{
		{"BareOptional", "Optional<string>", `"x"`, "must be wrapped", true},
		{"WrappedOptional", "Optional<string>", `{"OPTIONAL":"x"}`, "", true},
		{"MissingRequired", "com.vmware.vcenter.namespace_management.IP_range", `{"STRUCTURE":{"x":{"address":"a"}}}`, "v.count: a value is required", false},
		{"MissingOptionalField", "com.vmware.vcenter.namespaces.access.create_spec", `{"STRUCTURE":{"x":{"role":"EDIT"}}}`, "", true},
		{"SetWithDuplicates", "Set<string>", `["a","a"]`, "twice", true},
		{"NotRFC3339", "DateTime", `"yesterday"`, "RFC 3339", false},
		{"BareSecret", "secret", `"pw"`, "", true},
		{"MapAsStructure", "Map<string,string>", `{"STRUCTURE":{"m":{"a":"1"}}}`, "", true},
		{"MapEntryBroken", "Map<string,string>", `[{"key":"a","value":"1"}]`, "map entry", false},
		{"IntegerAsDouble", "double", `2`, "", true},
		{"BareStructure", "com.vmware.vcenter.namespaces.access.create_spec", `{"role":"EDIT"}`, "expected a structure", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, err := m.Type(tc.notation)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Decode(typ, plainOf(t, tc.wire), "v", true)
			if tc.strictErr == "" && err != nil {
				t.Fatalf("strict: %v", err)
			}
			if tc.strictErr != "" && (err == nil || !strings.Contains(err.Error(), tc.strictErr)) {
				t.Fatalf("strict: want an error saying %q, got %v", tc.strictErr, err)
			}
			if _, err := m.Decode(typ, plainOf(t, tc.wire), "v", false); (err == nil) != tc.lenientOK {
				t.Fatalf("lenient: %v", err)
			}
		})
	}
}

// TestRoundTripThroughTheWire: what Encode writes, strict Decode reads back as the same plain value.
func TestRoundTripThroughTheWire(t *testing.T) {
	m := Default()
	plain := `{"display_name": "Okta", "issuer_URL": "https://example.com", "client_ID": "c", "client_secret": "s",
		"additional_authorize_parameters": {"b": "2", "a": "1"}, "additional_scopes": ["email"]}`
	typ, err := m.Type("com.vmware.vcenter.namespace_management.supervisors.identity.providers.create_spec")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.Encode(typ, plainOf(t, plain), "spec")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(enc)
	back, err := m.Decode(typ, plainOf(t, string(raw)), "spec", true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(back)
	want, _ := json.Marshal(plainOf(t, plain))
	if string(got) != string(want) {
		t.Fatalf("round trip:\n got %s\nwant %s\nwire %s", got, want, raw)
	}
}

// sample makes a plain value of t with every field set, for the round trips below.
func sample(t *testing.T, m *Metadata, typ *Type, depth int) any {
	t.Helper()
	switch typ.Kind {
	case KindVoid:
		return nil
	case KindString, KindID:
		return "s"
	case KindURI:
		return "https://example.com/x"
	case KindDateTime:
		return "2026-12-05T16:00:00.000Z"
	case KindLong:
		return json.Number("7")
	case KindDouble:
		return json.Number("1.5")
	case KindBoolean:
		return true
	case KindSecret:
		return "secret"
	case KindBinary:
		return "AAEC"
	case KindEnum:
		e, _ := m.Enum(typ.Name)
		return e.Values[0]
	case KindOptional:
		if depth > 8 {
			return nil
		}
		return sample(t, m, typ.Elem, depth+1)
	case KindList, KindSet:
		return []any{sample(t, m, typ.Elem, depth+1)}
	case KindMap:
		return map[string]any{"k": sample(t, m, typ.Elem, depth+1)}
	case KindDynamic:
		return map[string]any{"a": "b"}
	case KindException:
		return map[string]any{"error_type": "NOT_FOUND", "messages": []any{map[string]any{"id": "i", "default_message": "d", "args": []any{}}}}
	case KindStruct:
		s, _ := m.Struct(typ.Name)
		out := map[string]any{}
		for _, f := range s.Fields {
			ft, err := m.Type(f.Type)
			if err != nil {
				t.Fatal(err)
			}
			if v := sample(t, m, ft, depth+1); v != nil {
				out[f.Name] = v
			}
		}
		return out
	}
	t.Fatalf("no sample for kind %d", typ.Kind)
	return nil
}

// TestEveryOperationRoundTrips: every input and the output of every operation of the metadata,
// with every field set, is typed for the wire and read back strictly as the same value.
func TestEveryOperationRoundTrips(t *testing.T) {
	m := Default()
	n := 0
	check := func(where, notation string) {
		t.Helper()
		typ, err := m.Type(notation)
		if err != nil {
			t.Fatal(err)
		}
		plain := sample(t, m, typ, 0)
		enc, err := m.Encode(typ, plain, where)
		if err != nil {
			t.Errorf("%s: encoding: %v", where, err)
			return
		}
		wire, err := AppendJSON(nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := m.Decode(typ, plainOf(t, string(wire)), where, true)
		if err != nil {
			t.Errorf("%s: decoding %s: %v", where, wire, err)
			return
		}
		got, _ := json.Marshal(back)
		want, _ := json.Marshal(plain)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", where, got, want)
		}
		n++
	}
	for _, svc := range m.Services() {
		for _, op := range svc.Operations {
			for _, p := range op.Params {
				check(svc.ID+"."+op.Name+"("+p.Name+")", p.Type)
			}
			check(svc.ID+"."+op.Name+" output", op.Output)
		}
	}
	if n < 500 {
		t.Fatalf("only %d inputs and outputs checked", n)
	}
}
