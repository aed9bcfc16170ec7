package drs_test

import (
	"testing"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/vapi"
)

// FuzzResourceTree: a resource tree as the analyze API and `wcpd analyze` read it (the strict
// decoder, then the model's checks) never panics the model, whatever the JSON.
func FuzzResourceTree(f *testing.F) {
	for _, s := range []string{
		`{"capacity": {"cpu_mhz": 10000, "memory_mb": 65536}, "children": [{"name": "ns", "type": "pool", "children": [{"name": "vm", "type": "vm", "cpu": 2, "memory_mb": 4096}]}]}`,
		`{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [null]}`,
		`{"capacity": {"cpu_mhz": -1, "memory_mb": 0}, "children": [{"type": "pod", "containers": [{"requests": {"cpu": "500m", "memory": "1Gi"}}]}]}`,
		`{"capacity": {}, "children": [{"type": "pool", "shares": {"level": "custom", "cpu": -5}}]}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req drs.Request
		if err := vapi.DecodeJSON(data, "spec", &req); err != nil {
			return
		}
		_, _ = drs.Analyze(req)
	})
}
