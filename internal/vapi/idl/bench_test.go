package idl

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkEncodeNamespaceList types a list of 100 namespace summaries, as the JSON-RPC endpoint
// answers namespaces.instances.list.
func BenchmarkEncodeNamespaceList(b *testing.B) {
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, fmt.Sprintf(`{"namespace":"ns-%03d","cluster":"domain-c9","config_status":"RUNNING","description":"benchmark namespace","stats":{"cpu_used":0,"memory_used":0,"storage_used":0},"self_service_namespace":false}`, i))
	}
	plain := "[" + strings.Join(items, ",") + "]"
	m := Default()
	op, _ := m.Operation("com.vmware.vcenter.namespaces.instances", "list")
	typ, err := m.Type(op.Output)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(strings.NewReader(plain))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			b.Fatal(err)
		}
		enc, err := m.Encode(typ, v, "output")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := AppendJSON(nil, enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendTypedNamespaceList types the same list straight from its JSON (AppendTyped), as
// the JSON-RPC endpoint does.
func BenchmarkAppendTypedNamespaceList(b *testing.B) {
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, fmt.Sprintf(`{"namespace":"ns-%03d","cluster":"domain-c9","config_status":"RUNNING","description":"benchmark namespace","stats":{"cpu_used":0,"memory_used":0,"storage_used":0},"self_service_namespace":false}`, i))
	}
	plain := []byte("[" + strings.Join(items, ",") + "]")
	m := Default()
	op, _ := m.Operation("com.vmware.vcenter.namespaces.instances", "list")
	typ, err := m.Type(op.Output)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 64<<10)
	for b.Loop() {
		if buf, err = m.AppendTyped(buf[:0], typ, plain, "output"); err != nil {
			b.Fatal(err)
		}
	}
}
