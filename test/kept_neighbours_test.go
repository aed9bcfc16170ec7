package test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/tags"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestKeptNeighbourReadsFollowTheirChanges: the storage policy list and the tagging and library
// lists are kept, on /api and on /rest (issue 16: they were read through PBM's SOAP calls and the
// simulator's /rest handler at every request), and still answer a change at the first read after
// it, whoever made it: govc through PBM, govmomi's clients on /rest, or /api. Each list is read
// before every change, so that the read after it would find a kept answer to send if the change
// had not dropped it.
func TestKeptNeighbourReadsFollowTheirChanges(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	ctx := context.Background()
	list := func(path string) []string {
		t.Helper()
		r := env.Do("GET", path, token, nil)
		if r.Status != 200 || !strings.HasPrefix(string(r.Body), "[") {
			t.Fatalf("GET %s: %d %s, want a JSON list", path, r.Status, r.Body)
		}
		var out []string
		r.JSON(t, &out)
		return out
	}
	// restList is list on /rest, which wraps the answer ({"value": [...]}).
	restList := func(path string) []string {
		t.Helper()
		r := env.Do("GET", path, token, nil)
		var out struct{ Value []string }
		if r.Status != 200 || json.Unmarshal(r.Body, &out) != nil {
			t.Fatalf("GET %s: %d %s, want a list in /rest's shape", path, r.Status, r.Body)
		}
		return out.Value
	}
	bothLists := func(api, rest string) []string {
		t.Helper()
		got, onREST := list(api), restList(rest)
		slices.Sort(got) // the simulator lists from a map, in no particular order
		slices.Sort(onREST)
		if !slices.Equal(got, onREST) {
			t.Fatalf("%s lists %v, %s lists %v", api, got, rest, onREST)
		}
		return got
	}
	policyNames := func() []string {
		t.Helper()
		var policies []struct{ Name string }
		env.Do("GET", "/api/vcenter/storage/policies", token, nil).JSON(t, &policies)
		var names []string
		for _, p := range policies {
			names = append(names, p.Name)
		}
		return names
	}

	// Storage policies, made and removed through PBM as govc does.
	if names := policyNames(); slices.Contains(names, "wcpd-kept") || !slices.Contains(names, "wcpd-gold") {
		t.Fatalf("policies before: %v", names)
	}
	env.AdminGovc("storage.policy.create", "-z", "wcpd-kept")
	if names := policyNames(); !slices.Contains(names, "wcpd-kept") {
		t.Fatalf("policies after govc made wcpd-kept: %v", names)
	}
	env.AdminGovc("storage.policy.rm", "wcpd-kept")
	if names := policyNames(); slices.Contains(names, "wcpd-kept") {
		t.Fatalf("policies after govc removed wcpd-kept: %v", names)
	}

	// Tag categories: an inventory without any lists none, as an empty list.
	categories := func() []string {
		return bothLists("/api/cis/tagging/category", "/rest/com/vmware/cis/tagging/category")
	}
	if got := categories(); len(got) != 0 {
		t.Fatalf("categories of a fresh inventory: %v", got)
	}
	tm := tags.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	category, err := tm.CreateCategory(ctx, &tags.Category{Name: "kept", Cardinality: "SINGLE", AssociableTypes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := categories(); !slices.Equal(got, []string{category}) {
		t.Fatalf("categories after govmomi made one: %v", got)
	}
	name := func() string {
		t.Helper()
		var c struct{ Name string }
		var onREST struct{ Value struct{ Name string } }
		env.Do("GET", "/api/cis/tagging/category/"+category, token, nil).JSON(t, &c)
		env.Do("GET", "/rest/com/vmware/cis/tagging/category/id:"+category, token, nil).JSON(t, &onREST)
		if c.Name != onREST.Value.Name {
			t.Fatalf("the category is %q on /api, %q on /rest", c.Name, onREST.Value.Name)
		}
		return c.Name
	}
	if got := name(); got != "kept" {
		t.Fatalf("category name %q, want kept", got)
	}
	if r := env.Do("PATCH", "/api/cis/tagging/category/"+category, token, map[string]any{"name": "renamed"}); r.Status != 204 {
		t.Fatalf("category update: %d %s", r.Status, r.Body)
	}
	if got := name(); got != "renamed" {
		t.Fatalf("category name after the update on /api %q, want renamed", got)
	}
	tagList := func() []string { return bothLists("/api/cis/tagging/tag", "/rest/com/vmware/cis/tagging/tag") }
	if got := tagList(); len(got) != 0 {
		t.Fatalf("tags of a fresh inventory: %v", got)
	}
	tag, err := tm.CreateTag(ctx, &tags.Tag{Name: "t1", CategoryID: category})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagList(); !slices.Equal(got, []string{tag}) {
		t.Fatalf("tags after govmomi made one: %v", got)
	}
	if err := tm.DeleteCategory(ctx, &tags.Category{ID: category}); err != nil {
		t.Fatal(err)
	}
	if got := categories(); len(got) != 0 {
		t.Fatalf("categories after govmomi removed the only one: %v", got)
	}
	expectError(t, env.Do("GET", "/api/cis/tagging/category/"+category, token, nil), 404, "NOT_FOUND")

	// Libraries, their items and their subscribers, made and removed with govmomi's library client
	// on /rest and on /api.
	libraryList := func() []string { return bothLists("/api/content/library", "/rest/com/vmware/content/library") }
	localList := func() []string {
		return bothLists("/api/content/local-library", "/rest/com/vmware/content/local-library")
	}
	libraries, local := libraryList(), localList()
	datastores := []struct{ Datastore string }{}
	env.Do("GET", "/api/vcenter/datastore", token, nil).JSON(t, &datastores)
	lm := library.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	lib, err := lm.CreateLibrary(ctx, library.Library{Name: "kept-lib", Type: "LOCAL",
		Storage: []library.StorageBacking{{DatastoreID: datastores[0].Datastore, Type: "DATASTORE"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := libraryList(); !slices.Contains(got, lib) || len(got) != len(libraries)+1 {
		t.Fatalf("libraries after govmomi made %s: %v (before: %v)", lib, got, libraries)
	}
	if got := localList(); !slices.Contains(got, lib) || len(got) != len(local)+1 {
		t.Fatalf("local libraries after govmomi made %s: %v (before: %v)", lib, got, local)
	}
	itemList := func() []string {
		return bothLists("/api/content/library/item?library_id="+lib, "/rest/com/vmware/content/library/item?library_id="+lib)
	}
	if got := itemList(); len(got) != 0 {
		t.Fatalf("items of the new library: %v", got)
	}
	item, err := lm.CreateLibraryItem(ctx, library.Item{Name: "img", Type: "ovf", LibraryID: lib})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemList(); !slices.Equal(got, []string{item}) {
		t.Fatalf("items after govmomi made %s: %v", item, got)
	}
	subscribers := func() []string {
		t.Helper()
		return fieldOnBothProtocols(t, env, token, "/api/content/library/"+lib+"/subscriptions",
			"/rest/com/vmware/content/library/subscriptions?library="+lib, "subscription")
	}
	if got := subscribers(); len(got) != 0 {
		t.Fatalf("subscriptions of the new library: %v", got)
	}
	var subscription string
	r := env.Do("POST", "/api/content/library/"+lib+"/subscriptions", token, map[string]any{"subscribed_library": map[string]any{
		"target": "USE_EXISTING", "subscribed_library": libraryVMImages, "location": "LOCAL"}})
	if r.Status != 201 || json.Unmarshal(r.Body, &subscription) != nil {
		t.Fatalf("subscription create: %d %s", r.Status, r.Body)
	}
	if got := subscribers(); !slices.Equal(got, []string{subscription}) {
		t.Fatalf("subscriptions after one was made on /api: %v, want %s", got, subscription)
	}
	if r := env.Do("DELETE", "/api/content/library/"+lib+"/subscriptions/"+subscription, token, nil); r.Status != 204 {
		t.Fatalf("subscription delete: %d %s", r.Status, r.Body)
	}
	if got := subscribers(); len(got) != 0 {
		t.Fatalf("subscriptions after the only one was removed on /api: %v", got)
	}
	if err := lm.DeleteLibrary(ctx, &library.Library{ID: lib}); err != nil {
		t.Fatal(err)
	}
	if got := libraryList(); slices.Contains(got, lib) {
		t.Fatalf("libraries after govmomi removed %s: %v", lib, got)
	}
}

// fieldOnBothProtocols reads a list of objects on /api and the same list on /rest, which wraps it
// ({"value": [...]}), and returns the field of each; the two must agree.
func fieldOnBothProtocols(t *testing.T, env *servertest.Env, token, apiPath, restPath, field string) []string {
	t.Helper()
	var onAPI []map[string]any
	var onREST struct{ Value []map[string]any }
	env.Do("GET", apiPath, token, nil).JSON(t, &onAPI)
	env.Do("GET", restPath, token, nil).JSON(t, &onREST)
	values := func(objects []map[string]any) (out []string) {
		for _, o := range objects {
			v, _ := o[field].(string)
			out = append(out, v)
		}
		return out
	}
	got, onRESTValues := values(onAPI), values(onREST.Value)
	if !slices.Equal(got, onRESTValues) {
		t.Fatalf("%s of %s: %v, of %s: %v", field, apiPath, got, restPath, onRESTValues)
	}
	return got
}
