package inventoryapi

import (
	"net/http"
	"testing"
)

// TestKeptLegacyReads: the API keeps a /rest GET of the inventory's vAPI services exactly when it
// is one of the reads the gateway keeps on /api, in the form /rest clients send it.
func TestKeptLegacyReads(t *testing.T) {
	for path, kept := range map[string]bool{
		"/rest/com/vmware/cis/tagging/category":                                                 true,
		"/rest/com/vmware/cis/tagging/category/id:urn:vmomi:InventoryServiceCategory:c1:GLOBAL": true,
		"/rest/com/vmware/cis/tagging/tag":                                                      true,
		"/rest/com/vmware/cis/tagging/tag/id:urn:vmomi:InventoryServiceTag:t1:GLOBAL":           true,
		"/rest/com/vmware/content/library":                                                      true,
		"/rest/com/vmware/content/local-library":                                                true,
		"/rest/com/vmware/content/subscribed-library":                                           true,
		"/rest/com/vmware/content/library/item":                                                 true, // ?library_id=…
		"/rest/com/vmware/content/library/subscriptions":                                        true, // ?library=…
		// A library's and an item's reads show files the simulator fills in on its own.
		"/rest/com/vmware/content/library/id:lib1":               false,
		"/rest/com/vmware/content/local-library/id:lib1":         false,
		"/rest/com/vmware/content/library/item/id:item1":         false,
		"/rest/com/vmware/content/library/item/file":             false,
		"/rest/com/vmware/content/library/subscriptions/id:lib1": false,
		"/rest/com/vmware/cis/tagging/tag/id:t1/more":            false,
		"/rest/com/vmware/cis/tagging/tag-association":           false,
		"/rest/com/vmware/cis/tagging/categoryx":                 false,
	} {
		if got := KeptLegacyRead(path); got != kept {
			t.Errorf("KeptLegacyRead(%s) = %v, want %v", path, got, kept)
		}
	}
	// Every other read the gateway sends as a GET is not kept, and every kept one is.
	for _, g := range gatewayOperations() {
		if crud[g.op.Name] != http.MethodGet || g.boundByAction() {
			continue // sent as a POST with an action
		}
		path := g.legacyPath("")
		if _, named := g.pathObject(); named {
			path = g.legacyPath("some-id")
		}
		if id := g.service + "." + g.op.Name; KeptLegacyRead(path) != keptGatewayReads[id] {
			t.Errorf("%s, sent as GET %s: kept on /rest %v, on /api %v", id, path, KeptLegacyRead(path), keptGatewayReads[id])
		}
	}
}
