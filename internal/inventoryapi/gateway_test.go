package inventoryapi

import (
	"net/http"
	"testing"
)

// TestKeptLegacyReads: the API keeps a /rest GET of the inventory's vAPI services exactly when it
// is one of the reads the gateway keeps on /api, in the form /rest clients send it, and by the same
// version.
func TestKeptLegacyReads(t *testing.T) {
	const get, post = http.MethodGet, http.MethodPost
	type read struct{ method, path, action string }
	for r, want := range map[read]keptBy{
		{get, "/rest/com/vmware/cis/tagging/category", ""}:                                                 keptByCount,
		{get, "/rest/com/vmware/cis/tagging/category/id:urn:vmomi:InventoryServiceCategory:c1:GLOBAL", ""}: keptByCount,
		{get, "/rest/com/vmware/cis/tagging/tag", ""}:                                                      keptByCount,
		{get, "/rest/com/vmware/cis/tagging/tag/id:urn:vmomi:InventoryServiceTag:t1:GLOBAL", ""}:           keptByCount,
		{get, "/rest/com/vmware/content/library", ""}:                                                      keptByCount,
		{get, "/rest/com/vmware/content/local-library", ""}:                                                keptByCount,
		{get, "/rest/com/vmware/content/subscribed-library", ""}:                                           keptByCount,
		{get, "/rest/com/vmware/content/library/item", ""}:                                                 keptByCount, // ?library_id=…
		{get, "/rest/com/vmware/content/library/subscriptions", ""}:                                        keptByCount, // ?library=…
		// A GET is dispatched by its path, whatever its query says.
		{get, "/rest/com/vmware/cis/tagging/tag", "list-tags-for-category"}: keptByCount,
		// The reads that take a body, sent as a POST with an action.
		{post, "/rest/com/vmware/cis/tagging/tag/id:c1", "list-tags-for-category"}:              keptByCount,
		{post, "/rest/com/vmware/cis/tagging/tag-association", "list-attached-tags"}:            keptByCount,
		{post, "/rest/com/vmware/cis/tagging/tag-association", "list-attached-tags-on-objects"}: keptByCount,
		{post, "/rest/com/vmware/cis/tagging/tag-association", "list-attached-objects-on-tags"}: keptByCount,
		{post, "/rest/com/vmware/cis/tagging/tag-association/id:t1", "list-attached-objects"}:   keptByCount,
		{post, "/rest/com/vmware/content/library", "find"}:                                      keptByCount,
		{post, "/rest/com/vmware/content/library/item", "find"}:                                 keptByCount,
		{post, "/rest/com/vmware/content/library/subscriptions/id:lib1", "get"}:                 keptByCount,
		// What shows an item's files, which the simulator writes on its own while it fetches one.
		{get, "/rest/com/vmware/content/library/id:lib1", ""}:                keptWithFiles,
		{get, "/rest/com/vmware/content/local-library/id:lib1", ""}:          keptWithFiles,
		{get, "/rest/com/vmware/content/library/item/id:item1", ""}:          keptWithFiles,
		{get, "/rest/com/vmware/content/library/item/file", ""}:              keptWithFiles, // ?library_item_id=…
		{get, "/rest/com/vmware/content/library/item/storage", ""}:           keptWithFiles, // ?library_item_id=…
		{post, "/rest/com/vmware/content/library/item/file/id:i1", "get"}:    keptWithFiles, // {"name": …}
		{post, "/rest/com/vmware/content/library/item/storage/id:i1", "get"}: keptWithFiles, // {"file_name": …}
		{get, "/rest/com/vmware/content/library/item/file/id:i1", ""}:        notKeptByGateway,
		// Sessions, which expire and end with the clock, and what no read is.
		{get, "/rest/com/vmware/content/library/item/updatesession/id:s1", ""}:          notKeptByGateway,
		{get, "/rest/com/vmware/content/library/item/download-session", ""}:             notKeptByGateway,
		{post, "/rest/com/vmware/content/library/item/updatesession/file/id:s1", "get"}: notKeptByGateway,
		{get, "/rest/com/vmware/content/library/subscriptions/id:lib1", ""}:             notKeptByGateway,
		{get, "/rest/com/vmware/cis/tagging/tag/id:t1/more", ""}:                        notKeptByGateway,
		{get, "/rest/com/vmware/cis/tagging/tag-association", ""}:                       notKeptByGateway,
		{get, "/rest/com/vmware/cis/tagging/categoryx", ""}:                             notKeptByGateway,
		{get, "/rest/com/vmware/content/library/item/updatesession/file/id:s1/x", ""}:   notKeptByGateway,
		// A read's action sent where it writes, or on another form, and the writes themselves.
		{post, "/rest/com/vmware/cis/tagging/tag", "list-tags-for-category"}:               notKeptByGateway,
		{post, "/rest/com/vmware/cis/tagging/tag-association/id:t1", "list-attached-tags"}: notKeptByGateway,
		{post, "/rest/com/vmware/cis/tagging/tag-association/id:t1", "attach"}:             notKeptByGateway,
		{post, "/rest/com/vmware/content/library", ""}:                                     notKeptByGateway,
		{post, "/rest/com/vmware/cis/tagging/category", ""}:                                notKeptByGateway,
		{"PATCH", "/rest/com/vmware/cis/tagging/category/id:c1", ""}:                       notKeptByGateway,
		{"DELETE", "/rest/com/vmware/cis/tagging/tag/id:t1", ""}:                           notKeptByGateway,
	} {
		if got := keptLegacyRead(r.method, r.path, r.action); got != want {
			t.Errorf("keptLegacyRead(%s %s ~action=%s) = %v, want %v", r.method, r.path, r.action, got, want)
		}
	}
	// Every other read the gateway sends is not kept on /rest, and every kept one is, in the form
	// transcode sends it.
	for _, g := range gatewayOperations() {
		id := g.service + "." + g.op.Name
		method, path, action := crud[g.op.Name], g.legacyPath(""), ""
		named := false
		if _, named = g.pathObject(); g.boundByAction() {
			method, action, named = http.MethodPost, g.legacyAction(), named || g.namedByFirstParam()
		}
		if method != http.MethodGet && keptGatewayReads[id] == notKeptByGateway {
			continue // a write, or a read that is not kept
		}
		if named {
			path = g.legacyPath("some-id")
		}
		if got := keptLegacyRead(method, path, action); got != keptGatewayReads[id] {
			t.Errorf("%s, sent as %s %s ~action=%s: kept on /rest by %v, on /api by %v", id, method, path, action, got, keptGatewayReads[id])
		}
	}
}
