package inventory

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVAPISessionIsRenewedWhenTheSimulatorForgetsIt deletes the internal
// session behind the proxy's back; the next request must still succeed.
func TestVAPISessionIsRenewedWhenTheSimulatorForgetsIt(t *testing.T) {
	t.Parallel()
	inv := startInventory(t)

	old, err := inv.vapi.currentSession()
	if err != nil {
		t.Fatal(err)
	}
	logout := httptest.NewRequest(http.MethodDelete, "/rest/com/vmware/cis/session", nil)
	logout.Header.Set(vapiSessionHeader, old)
	inv.vapi.sim.ServeHTTP(httptest.NewRecorder(), logout)

	// The simulator now rejects the old session...
	probe := httptest.NewRequest(http.MethodGet, "/rest/com/vmware/content/library", nil)
	probe.Header.Set(vapiSessionHeader, old)
	rec := httptest.NewRecorder()
	inv.vapi.sim.ServeHTTP(rec, probe)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("simulator still accepts the deleted session: %d", rec.Code)
	}

	// ...and the proxy notices, logs in again and answers.
	for _, body := range []string{"", `{"spec":{"name":"wcpd-vm-images"}}`} {
		method, path := http.MethodGet, "/rest/com/vmware/content/library"
		if body != "" {
			method, path = http.MethodPost, "/rest/com/vmware/content/library?~action=find"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		rec = httptest.NewRecorder()
		inv.VAPIHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01") {
			t.Errorf("%s %s after the session was deleted: %d %s", method, path, rec.Code, rec.Body)
		}
		if body == "" {
			// Delete the renewed session too, so the POST has to replay its body.
			current, _ := inv.vapi.currentSession()
			if current == old {
				t.Fatal("session was not renewed")
			}
			logout := httptest.NewRequest(http.MethodDelete, "/rest/com/vmware/cis/session", nil)
			logout.Header.Set(vapiSessionHeader, current)
			inv.vapi.sim.ServeHTTP(httptest.NewRecorder(), logout)
		}
	}
}

func TestK8sCompliantName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"wcpd-gold":                   "wcpd-gold",
		"vSAN Default Storage Policy": "vsan-default-storage-policy",
		"-Gold (Tier 1)-":             "0-gold-tier-1-0",
		"x.y":                         "x.y",
	} {
		if got := k8sCompliantName(in); got != want {
			t.Errorf("k8sCompliantName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVAPIReadPostsChangeNothing sends every POST of vapiReadPosts through the proxy to objects
// that exist: each must answer what it reads, leave the simulator's vAPI state as it was and not
// move the generation, so the answers kept from that state stay. The same action sent where the
// simulator creates (the tag collection) must still move it.
func TestVAPIReadPostsChangeNothing(t *testing.T) {
	t.Parallel()
	inv := startInventory(t)

	send := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		inv.VAPIHandler().ServeHTTP(rec, req)
		return rec
	}
	value := func(path, body string) string {
		t.Helper()
		rec := send(path, body)
		var v struct{ Value json.RawMessage }
		if rec.Code != http.StatusOK || rec.Body.Len() > 0 && json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		var id string
		_ = json.Unmarshal(v.Value, &id)
		return id
	}
	const item = "2c124d15-f76e-51e1-be93-1bb0da79ddad" // the default library's first image
	const vm = `{"id":"vm-42","type":"VirtualMachine"}`
	var files struct{ Value []struct{ Name string } }
	rec := httptest.NewRecorder()
	inv.VAPIHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rest/com/vmware/content/library/item/file?library_item_id="+item, nil))
	if json.Unmarshal(rec.Body.Bytes(), &files) != nil || len(files.Value) == 0 {
		t.Fatalf("the files of the default library's first image: %d %s", rec.Code, rec.Body)
	}
	itemFile := files.Value[0].Name
	category := value("/rest/com/vmware/cis/tagging/category",
		`{"create_spec":{"name":"zone","description":"","cardinality":"MULTIPLE","associable_types":[]}}`)
	tag := value("/rest/com/vmware/cis/tagging/tag", `{"create_spec":{"name":"gold","description":"","category_id":"`+category+`"}}`)
	value("/rest/com/vmware/cis/tagging/tag-association/id:"+tag+"?~action=attach", `{"object_id":`+vm+`}`)
	upload := value("/rest/com/vmware/content/library/item/update-session", `{"create_spec":{"library_item_id":"`+item+`"}}`)
	value(updateSessionFilePrefix+upload+"?~action=add", `{"file_spec":{"name":"notes.txt","source_type":"PUSH"}}`)
	download := value("/rest/com/vmware/content/library/item/download-session", `{"create_spec":{"library_item_id":"`+item+`"}}`)
	const downloadFile = "/rest/com/vmware/content/library/item/downloadsession/file/id:"
	value(downloadFile+download+"?~action=prepare", `{"file_name":"notes.txt"}`)
	const publisher, subscriber = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01", "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02"
	const subscriptions = "/rest/com/vmware/content/library/subscriptions/id:"
	subscription := value(subscriptions+publisher+"?~action=create", `{"spec":{"subscribed_library":{"subscribed_library":"`+subscriber+`","target":"USE_EXISTING"}}}`)

	reads := []struct{ path, body, shows string }{
		{"/rest/com/vmware/cis/tagging/tag/id:" + category + "?~action=list-tags-for-category", `{}`, tag},
		{"/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags", `{"object_id":` + vm + `}`, tag},
		{"/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-objects-on-tags", `{"tag_ids":["` + tag + `"]}`, "vm-42"},
		{"/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects", `{"object_ids":[` + vm + `]}`, tag},
		{"/rest/com/vmware/cis/tagging/tag-association/id:" + tag + "?~action=list-attached-objects", `{}`, "vm-42"},
		{"/rest/com/vmware/content/library?~action=find", `{"spec":{"name":"wcpd-vm-images"}}`, "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"},
		{"/rest/com/vmware/content/library/item?~action=find", `{"spec":{"library_id":"8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"}}`, item},
		{"/rest/com/vmware/content/library/item/file/id:" + item + "?~action=get", `{"name":"` + itemFile + `"}`, itemFile},
		{"/rest/com/vmware/content/library/item/storage/id:" + item + "?~action=get", `{"file_name":"` + itemFile + `"}`, itemFile},
		{updateSessionFilePrefix + upload + "?~action=get", `{"file_name":"notes.txt"}`, "WAITING_FOR_TRANSFER"},
		{updateSessionFilePrefix + upload + "?~action=validate", `{}`, `"has_errors"`},
		{downloadFile + download + "?~action=get", `{"file_name":"notes.txt"}`, "PREPARED"},
		{"/rest/com/vmware/vcenter/ovf/library-item/id:" + item + "?~action=filter", `{}`, `"name"`},
		{subscriptions + publisher + "?~action=get", `{"subscription":"` + subscription + `"}`, subscriber},
	}
	covered := map[string]bool{}
	for _, read := range reads {
		before, err := inv.vapi.state()
		if err != nil {
			t.Fatal(err)
		}
		generation := inv.VAPIGeneration()
		rec := send(read.path, read.body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), read.shows) {
			t.Errorf("POST %s: %d %s; want 200 showing %s", read.path, rec.Code, rec.Body, read.shows)
		}
		after, err := inv.vapi.state()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(before, after, bytes.Equal) {
			t.Errorf("POST %s changed the simulator's vAPI state: it is not a read", read.path)
		}
		if g := inv.VAPIGeneration(); g != generation {
			t.Errorf("POST %s moved the generation from %d to %d: what was kept is made again", read.path, generation, g)
		}
		sent := httptest.NewRequest(http.MethodPost, read.path, nil).URL
		if action := sent.Query().Get("~action"); PostOnlyReads(sent.Path, action) {
			covered[readPostPath(sent.Path)+"?"+action] = true
		} else {
			t.Errorf("POST %s is not counted as a read", read.path)
		}
	}
	for path, actions := range vapiReadPosts {
		for _, action := range actions {
			if !covered[path+"?"+action] {
				t.Errorf("%s with ~action=%s is counted as a read but not checked here", path, action)
			}
		}
	}

	generation := inv.VAPIGeneration()
	value("/rest/com/vmware/cis/tagging/tag?~action=list-attached-tags", `{"create_spec":{"name":"silver","description":"","category_id":"`+category+`"}}`)
	if inv.VAPIGeneration() == generation {
		t.Error("a POST to the tag collection made a tag, whatever its action, without moving the generation")
	}
}
