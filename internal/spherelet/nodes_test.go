package spherelet

import (
	"testing"

	"github.com/wcpd/wcpd/internal/inventory"
)

// TestNodeNamesAreValid: a node is named after its host, in the form Kubernetes takes; a host name
// that cannot be made into one gives the host's MoRef id.
func TestNodeNamesAreValid(t *testing.T) {
	for host, want := range map[string]string{
		"esx-01.wcpd.local": "esx-01.wcpd.local",
		"ESX_01.Lab":        "esx-01.lab",
		"host 7":            "host-7",
		"..":                "host-9",
		"a..b":              "host-9",
	} {
		if got := NodeName(inventory.Host{ID: "host-9", Name: host}); got != want {
			t.Errorf("host %q: node %q, want %q", host, got, want)
		}
	}
}
