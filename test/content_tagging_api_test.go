package test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vapi/tags"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestTaggingAndLibrariesOnAPI: tagging and content library, which the embedded inventory serves on
// /rest, answer on /api in the reference's form and over JSON-RPC, on the same data as /rest and
// govmomi's clients.
func TestTaggingAndLibrariesOnAPI(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	ctx := context.Background()

	// A category and a tag made on /api (the body is the create_spec itself).
	r := env.Do("POST", "/api/cis/tagging/category", token, map[string]any{
		"name": "tier", "description": "application tier", "cardinality": "SINGLE", "associable_types": []string{"VirtualMachine"}})
	var category string
	if r.Status != 201 || json.Unmarshal(r.Body, &category) != nil || !strings.HasPrefix(category, "urn:vmomi:InventoryServiceCategory:") {
		t.Fatalf("category create: %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/cis/tagging/tag", token, map[string]any{"name": "web", "description": "web tier", "category_id": category})
	var tag string
	if r.Status != 201 || json.Unmarshal(r.Body, &tag) != nil {
		t.Fatalf("tag create: %d %s", r.Status, r.Body)
	}
	var got map[string]any
	env.Do("GET", "/api/cis/tagging/category/"+category, token, nil).JSON(t, &got)
	if got["name"] != "tier" || got["cardinality"] != "SINGLE" {
		t.Fatalf("category get: %v", got)
	}
	var ids []string
	env.Do("GET", "/api/cis/tagging/tag", token, nil).JSON(t, &ids)
	if !slices.Contains(ids, tag) {
		t.Fatalf("tag list %v lacks %s", ids, tag)
	}
	var forCategory []string
	env.Do("POST", "/api/cis/tagging/tag?action=list-tags-for-category", token, map[string]any{"category_id": category}).JSON(t, &forCategory)
	if !slices.Equal(forCategory, []string{tag}) {
		t.Fatalf("tags of the category: %v", forCategory)
	}

	// What the inventory accepts without carrying it out answers UNSUPPORTED, and makes nothing: the
	// simulator took the used categories' list for a category to create.
	var before []string
	env.Do("GET", "/api/cis/tagging/category", token, nil).JSON(t, &before)
	expectError(t, env.Do("POST", "/api/cis/tagging/category?action=list-used-categories", token, map[string]any{"used_by_entity": "domain-c9"}),
		400, "UNSUPPORTED", "com.vmware.cis.tagging.category.list_used_categories")
	expectError(t, env.Do("POST", "/api/cis/tagging/tag-association/"+tag+"?action=detach-tag-from-multiple-objects", token,
		map[string]any{"object_ids": []any{map[string]any{"type": "ClusterComputeResource", "id": "domain-c9"}}}),
		400, "UNSUPPORTED", "detach_tag_from_multiple_objects")
	var after []string
	if env.Do("GET", "/api/cis/tagging/category", token, nil).JSON(t, &after); len(after) != len(before) {
		t.Fatalf("categories %v after the refused list, %v before", after, before)
	}

	// govmomi's tags client (on /rest) sees the same tag.
	m := tags.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	if tg, err := m.GetTag(ctx, tag); err != nil || tg.Name != "web" {
		t.Fatalf("govmomi GetTag: %+v %v", tg, err)
	}

	// Over JSON-RPC, typed.
	rpc := env.JSONRPC()
	rpc.UseSession(token)
	out, err := rpc.Invoke(ctx, "com.vmware.cis.tagging.tag", "get", map[string]any{"tag_id": tag})
	if err != nil || out.(map[string]any)["category_id"] != category {
		t.Fatalf("tag get over JSON-RPC: %v %v", out, err)
	}

	// Content libraries: the default inventory's library, on /api and JSON-RPC.
	var libs []string
	env.Do("GET", "/api/content/library", token, nil).JSON(t, &libs)
	if !slices.Contains(libs, libraryVMImages) {
		t.Fatalf("libraries %v lack %s", libs, libraryVMImages)
	}
	env.Do("GET", "/api/content/library/"+libraryVMImages, token, nil).JSON(t, &got)
	if got["name"] != "wcpd-vm-images" || got["storage_backings"] == nil {
		t.Fatalf("library get: %v", got)
	}
	// Only the reference's fields: the inventory keeps a library's items, subscribers and
	// templates in fields of its own beside them.
	for _, own := range []string{"Item", "Subs", "VMTX", "state_info"} {
		if _, ok := got[own]; ok {
			t.Fatalf("library get answers %s, which content.library_model does not have: %v", own, got)
		}
	}
	var items []string
	env.Do("GET", "/api/content/library/item?library_id="+libraryVMImages, token, nil).JSON(t, &items)
	if len(items) == 0 {
		t.Fatalf("the library's items: %v", items)
	}
	var itemModel map[string]any
	env.Do("GET", "/api/content/library/item/"+items[0], token, nil).JSON(t, &itemModel)
	if itemModel["library_id"] != libraryVMImages || itemModel["File"] != nil || itemModel["Template"] != nil {
		t.Fatalf("item get: %v, want content.library.item_model's fields only", itemModel)
	}
	// An item's changes, which the simulator has no service for: UNSUPPORTED, not that the item
	// is missing.
	expectError(t, env.Do("GET", "/api/content/library/item/"+items[0]+"/changes", token, nil),
		400, "UNSUPPORTED", "com.vmware.content.library.item.changes.list")
	item, err := rpc.Invoke(ctx, "com.vmware.content.library.item", "get", map[string]any{"library_item_id": items[0]})
	if err != nil || item.(map[string]any)["library_id"] != libraryVMImages {
		t.Fatalf("item get over JSON-RPC: %v %v", item, err)
	}

	// An item's files and their storage: each list and the get of one file by its name share a
	// path, the name's query parameter telling them apart.
	var itemFiles []struct{ Name string }
	if env.Do("GET", "/api/content/library/item/"+items[0]+"/file", token, nil).JSON(t, &itemFiles); len(itemFiles) == 0 || itemFiles[0].Name == "" {
		t.Fatalf("the files of %s: %+v", items[0], itemFiles)
	}
	fileName := itemFiles[0].Name
	var oneFile struct{ Name string }
	if env.Do("GET", "/api/content/library/item/"+items[0]+"/file?name="+fileName, token, nil).JSON(t, &oneFile); oneFile.Name != fileName {
		t.Fatalf("the file %s of %s: %+v", fileName, items[0], oneFile)
	}
	expectError(t, env.Do("GET", "/api/content/library/item/"+items[0]+"/file?name=nope.ovf", token, nil), 404, "NOT_FOUND")
	var storage []struct {
		Name           string
		StorageBacking struct{ Type string } `json:"storage_backing"`
	}
	if env.Do("GET", "/api/content/library/item/"+items[0]+"/storage", token, nil).JSON(t, &storage); len(storage) != len(itemFiles) {
		t.Fatalf("the storage of %s's %d files: %+v", items[0], len(itemFiles), storage)
	}
	if env.Do("GET", "/api/content/library/item/"+items[0]+"/storage?file_name="+fileName, token, nil).JSON(t, &storage); len(storage) != 1 || storage[0].Name != fileName {
		t.Fatalf("the storage of %s's file %s: %+v", items[0], fileName, storage)
	}
	out, err = rpc.Invoke(ctx, "com.vmware.content.library.item.file", "get", map[string]any{"library_item_id": items[0], "name": fileName})
	if err != nil || out.(map[string]any)["name"] != fileName {
		t.Fatalf("file get over JSON-RPC: %v %v", out, err)
	}

	// An update session's file, named on /api by the session and the file name: add, get, remove.
	r = env.Do("POST", "/api/content/library/item/update-session", token, map[string]any{"library_item_id": items[0]})
	var session string
	if r.Status != 201 || json.Unmarshal(r.Body, &session) != nil {
		t.Fatalf("update session: %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/content/library/item/update-session/"+session+"/file", token,
		map[string]any{"name": "notes.txt", "source_type": "PUSH", "size": 5})
	var added struct {
		UploadEndpoint struct{ URI string } `json:"upload_endpoint"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &added) != nil {
		t.Fatalf("file add: %d %s", r.Status, r.Body)
	}
	// The file goes to wcpd, where the client sent the request: not to the inventory's own
	// listener, nor to a made-up host.
	if uri := added.UploadEndpoint.URI; !strings.HasPrefix(uri, env.URL+"/rest/com/vmware/cis/data/") {
		t.Fatalf("upload endpoint %q, want one under %s", uri, env.URL)
	}
	env.Do("GET", "/api/content/library/item/update-session/"+session+"/file/notes.txt", token, nil).JSON(t, &got)
	if got["name"] != "notes.txt" || got["source_type"] != "PUSH" {
		t.Fatalf("file get: %v", got)
	}
	// A list names its session in the /api path, and /rest takes it in the query string.
	var files []struct{ Name string }
	if env.Do("GET", "/api/content/library/item/update-session/"+session+"/file", token, nil).JSON(t, &files); len(files) != 1 || files[0].Name != "notes.txt" {
		t.Fatalf("the update session's files: %+v", files)
	}
	if r := env.Do("DELETE", "/api/content/library/item/update-session/"+session+"/file/notes.txt", token, nil); r.Status != 204 {
		t.Fatalf("file remove: %d %s", r.Status, r.Body)
	}
	expectError(t, env.Do("GET", "/api/content/library/item/update-session/"+session+"/file/notes.txt", token, nil), 404, "NOT_FOUND")

	// A download session's files, listed the same way.
	r = env.Do("POST", "/api/content/library/item/download-session", token, map[string]any{"library_item_id": items[0]})
	var download string
	if r.Status != 201 || json.Unmarshal(r.Body, &download) != nil {
		t.Fatalf("download session: %d %s", r.Status, r.Body)
	}
	files = nil
	if env.Do("GET", "/api/content/library/item/download-session/"+download+"/file", token, nil).JSON(t, &files); len(files) != len(itemFiles) {
		t.Fatalf("the download session of %s lists %+v, want its %d files", items[0], files, len(itemFiles))
	}
	var downloadFile struct{ Name, Status string }
	env.Do("GET", "/api/content/library/item/download-session/"+download+"/file?file_name="+fileName, token, nil).JSON(t, &downloadFile)
	if downloadFile.Name != fileName || downloadFile.Status != "UNPREPARED" {
		t.Fatalf("the download session's file %s: %+v", fileName, downloadFile)
	}

	// Errors come back typed, naming what is missing.
	expectError(t, env.Do("GET", "/api/content/library/no-such-library/subscriptions", token, nil), 404, "NOT_FOUND", "no-such-library")
	expectError(t, env.Do("GET", "/api/cis/tagging/tag/urn:vmomi:InventoryServiceTag:nope:GLOBAL", token, nil), 404, "NOT_FOUND", "nope")
	expectError(t, env.Do("POST", "/api/cis/tagging/category", token, map[string]any{
		"name": "tier", "description": "again", "cardinality": "SINGLE", "associable_types": []string{}}), 400, "ALREADY_EXISTS")
	if r := env.Do("DELETE", "/api/cis/tagging/tag/"+tag, token, nil); r.Status != 204 {
		t.Fatalf("tag delete: %d %s", r.Status, r.Body)
	}
}
