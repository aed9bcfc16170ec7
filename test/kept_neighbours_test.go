package test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/tags"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestKeptNeighbourReadsFollowTheirChanges: the storage policy list and the gateway's tagging and
// library lists are kept (issue 16: they were read through PBM's SOAP calls and the simulator's
// /rest handler at every request), and still answer a change at the first read after it, whoever
// made it: govc through PBM, govmomi's clients on /rest, or /api. Each list is read before every
// change, so that the read after it would find a kept answer to send if the change had not
// dropped it.
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
	if got := list("/api/cis/tagging/category"); len(got) != 0 {
		t.Fatalf("categories of a fresh inventory: %v", got)
	}
	tm := tags.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	category, err := tm.CreateCategory(ctx, &tags.Category{Name: "kept", Cardinality: "SINGLE", AssociableTypes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := list("/api/cis/tagging/category"); !slices.Equal(got, []string{category}) {
		t.Fatalf("categories after govmomi made one: %v", got)
	}
	name := func() string {
		t.Helper()
		var c struct{ Name string }
		env.Do("GET", "/api/cis/tagging/category/"+category, token, nil).JSON(t, &c)
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
	tag, err := tm.CreateTag(ctx, &tags.Tag{Name: "t1", CategoryID: category})
	if err != nil {
		t.Fatal(err)
	}
	if got := list("/api/cis/tagging/tag"); !slices.Equal(got, []string{tag}) {
		t.Fatalf("tags after govmomi made one: %v", got)
	}
	if err := tm.DeleteCategory(ctx, &tags.Category{ID: category}); err != nil {
		t.Fatal(err)
	}
	if got := list("/api/cis/tagging/category"); len(got) != 0 {
		t.Fatalf("categories after govmomi removed the only one: %v", got)
	}
	expectError(t, env.Do("GET", "/api/cis/tagging/category/"+category, token, nil), 404, "NOT_FOUND")

	// Libraries and their items, made and removed with govmomi's library client on /rest.
	libraries, local := list("/api/content/library"), list("/api/content/local-library")
	datastores := []struct{ Datastore string }{}
	env.Do("GET", "/api/vcenter/datastore", token, nil).JSON(t, &datastores)
	lm := library.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	lib, err := lm.CreateLibrary(ctx, library.Library{Name: "kept-lib", Type: "LOCAL",
		Storage: []library.StorageBacking{{DatastoreID: datastores[0].Datastore, Type: "DATASTORE"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := list("/api/content/library"); !slices.Contains(got, lib) || len(got) != len(libraries)+1 {
		t.Fatalf("libraries after govmomi made %s: %v (before: %v)", lib, got, libraries)
	}
	if got := list("/api/content/local-library"); !slices.Contains(got, lib) || len(got) != len(local)+1 {
		t.Fatalf("local libraries after govmomi made %s: %v (before: %v)", lib, got, local)
	}
	if got := list("/api/content/library/item?library_id=" + lib); len(got) != 0 {
		t.Fatalf("items of the new library: %v", got)
	}
	item, err := lm.CreateLibraryItem(ctx, library.Item{Name: "img", Type: "ovf", LibraryID: lib})
	if err != nil {
		t.Fatal(err)
	}
	if got := list("/api/content/library/item?library_id=" + lib); !slices.Equal(got, []string{item}) {
		t.Fatalf("items after govmomi made %s: %v", item, got)
	}
	if err := lm.DeleteLibrary(ctx, &library.Library{ID: lib}); err != nil {
		t.Fatal(err)
	}
	if got := list("/api/content/library"); slices.Contains(got, lib) {
		t.Fatalf("libraries after govmomi removed %s: %v", lib, got)
	}
}
