package inventoryapi

import (
	"net/http"
	"testing"
)

// TestKeptLegacyReads: the API keeps a /rest GET of the inventory's vAPI services exactly when it
// is one of the reads the gateway keeps on /api, in the form /rest clients send it, and by the same
// version.
func TestKeptLegacyReads(t *testing.T) {
	for path, want := range map[string]keptBy{
		"/rest/com/vmware/cis/tagging/category":                                                 keptByCount,
		"/rest/com/vmware/cis/tagging/category/id:urn:vmomi:InventoryServiceCategory:c1:GLOBAL": keptByCount,
		"/rest/com/vmware/cis/tagging/tag":                                                      keptByCount,
		"/rest/com/vmware/cis/tagging/tag/id:urn:vmomi:InventoryServiceTag:t1:GLOBAL":           keptByCount,
		"/rest/com/vmware/content/library":                                                      keptByCount,
		"/rest/com/vmware/content/local-library":                                                keptByCount,
		"/rest/com/vmware/content/subscribed-library":                                           keptByCount,
		"/rest/com/vmware/content/library/item":                                                 keptByCount, // ?library_id=…
		"/rest/com/vmware/content/library/subscriptions":                                        keptByCount, // ?library=…
		// What shows an item's files, which the simulator writes on its own while it fetches one.
		"/rest/com/vmware/content/library/id:lib1":         keptWithFiles,
		"/rest/com/vmware/content/local-library/id:lib1":   keptWithFiles,
		"/rest/com/vmware/content/library/item/id:item1":   keptWithFiles,
		"/rest/com/vmware/content/library/item/file":       keptWithFiles, // ?library_item_id=…
		"/rest/com/vmware/content/library/item/storage":    keptWithFiles, // ?library_item_id=…
		"/rest/com/vmware/content/library/item/file/id:i1": notKeptByGateway,
		// Sessions, which expire and end with the clock, and what no read is.
		"/rest/com/vmware/content/library/item/updatesession/id:s1":        notKeptByGateway,
		"/rest/com/vmware/content/library/item/download-session":           notKeptByGateway,
		"/rest/com/vmware/content/library/subscriptions/id:lib1":           notKeptByGateway,
		"/rest/com/vmware/cis/tagging/tag/id:t1/more":                      notKeptByGateway,
		"/rest/com/vmware/cis/tagging/tag-association":                     notKeptByGateway,
		"/rest/com/vmware/cis/tagging/categoryx":                           notKeptByGateway,
		"/rest/com/vmware/content/library/item/updatesession/file/id:s1/x": notKeptByGateway,
	} {
		if got := keptLegacyRead(path); got != want {
			t.Errorf("keptLegacyRead(%s) = %v, want %v", path, got, want)
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
		if id := g.service + "." + g.op.Name; keptLegacyRead(path) != keptGatewayReads[id] {
			t.Errorf("%s, sent as GET %s: kept on /rest by %v, on /api by %v", id, path, keptLegacyRead(path), keptGatewayReads[id])
		}
	}
}
