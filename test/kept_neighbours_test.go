package test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25/types"

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

// TestKeptTagAssociationsFollowEveryAttachment: the tagging and library reads that take a body,
// which /api and /rest bind as a POST with an action (what is attached to what, a category's tags,
// a library's find), are kept too, on /api, /rest and JSON-RPC alike, each body with its own
// answer; and each answers a change at the first read after it, whoever made it: govmomi's tags
// client on /rest, /api, or a VM's reconfiguration through the SOAP side, which attaches tags
// through the simulator without any request to its vAPI services.
func TestKeptTagAssociationsFollowEveryAttachment(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	ctx := context.Background()
	tm := tags.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	rpc := env.JSONRPC()
	rpc.UseSession(token)

	category, err := tm.CreateCategory(ctx, &tags.Category{Name: "kept-zone", Cardinality: "MULTIPLE", AssociableTypes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	tag := func(name string) string {
		t.Helper()
		id, err := tm.CreateTag(ctx, &tags.Tag{Name: name, CategoryID: category})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	gold, silver := tag("gold"), tag("silver")
	var folders []struct{ Folder string }
	var hosts []struct{ Host string }
	var datastores []struct{ Datastore string }
	env.Do("GET", "/api/vcenter/folder?type=VIRTUAL_MACHINE", token, nil).JSON(t, &folders)
	env.Do("GET", "/api/vcenter/host", token, nil).JSON(t, &hosts)
	env.Do("GET", "/api/vcenter/datastore", token, nil).JSON(t, &datastores)
	vim := cfVimLogin(t, env)
	newVM := func(name string) *object.VirtualMachine {
		t.Helper()
		r := env.Do("POST", "/api/vcenter/vm", token, map[string]any{"spec": map[string]any{"guest_OS": "OTHER_LINUX_64", "name": name,
			"placement": map[string]any{"folder": folders[0].Folder, "host": hosts[0].Host, "datastore": datastores[0].Datastore}}})
		var id string
		if r.Status != 201 || json.Unmarshal(r.Body, &id) != nil {
			t.Fatalf("creating VM %s: %d %s", name, r.Status, r.Body)
		}
		return object.NewVirtualMachine(vim, types.ManagedObjectReference{Type: "VirtualMachine", Value: id})
	}
	vm, other := newVM("kept-tagged"), newVM("kept-other")
	objectID := func(vm *object.VirtualMachine) map[string]any {
		return map[string]any{"type": "VirtualMachine", "id": vm.Reference().Value}
	}

	// sorted answers the same ids, sorted: the simulator lists from maps, in no particular order.
	sorted := func(ids []string) []string { slices.Sort(ids); return slices.Compact(ids) }
	// onAll reads one list on /api (POST path with body), through govmomi's client on /rest and
	// over JSON-RPC (inputs, or body when nil); all three must agree.
	onAll := func(what, path string, body any, inputs map[string]any, rest func() ([]string, error), rpcOp string) []string {
		t.Helper()
		// ids are the ids a list holds: strings, or dynamic ids ({"type": …, "id": …}).
		ids := func(list []any) (out []string) {
			for _, v := range list {
				if m, ok := v.(map[string]any); ok {
					v = m["id"]
				}
				out = append(out, v.(string))
			}
			return out
		}
		var answer []any
		if r := env.Do("POST", path, token, body); r.Status != 200 {
			t.Fatalf("%s on /api: %d %s", what, r.Status, r.Body)
		} else {
			r.JSON(t, &answer)
		}
		onAPI := ids(answer)
		onREST, err := rest()
		if err != nil {
			t.Fatalf("%s through govmomi on /rest: %v", what, err)
		}
		if inputs == nil {
			inputs = body.(map[string]any)
		}
		dot := strings.LastIndex(rpcOp, ".") // the service, then the operation
		out, err := rpc.Invoke(ctx, rpcOp[:dot], rpcOp[dot+1:], inputs)
		if err != nil {
			t.Fatalf("%s over JSON-RPC: %v", what, err)
		}
		onRPC := ids(out.([]any))
		if a, b, c := sorted(onAPI), sorted(onREST), sorted(onRPC); !slices.Equal(a, b) || !slices.Equal(a, c) {
			t.Fatalf("%s: %v on /api, %v on /rest, %v over JSON-RPC", what, a, b, c)
		}
		return sorted(onAPI)
	}
	attachedTo := func(vm *object.VirtualMachine) []string {
		t.Helper()
		return onAll("the tags of "+vm.Reference().Value, "/api/cis/tagging/tag-association?action=list-attached-tags",
			map[string]any{"object_id": objectID(vm)}, nil,
			func() ([]string, error) { return tm.ListAttachedTags(ctx, vm.Reference()) },
			"com.vmware.cis.tagging.tag_association.list_attached_tags")
	}
	objectsOf := func(tag string) []string {
		t.Helper()
		return onAll("the objects of "+tag, "/api/cis/tagging/tag-association/"+tag+"?action=list-attached-objects",
			map[string]any{}, map[string]any{"tag_id": tag},
			func() ([]string, error) {
				refs, err := tm.ListAttachedObjects(ctx, tag)
				var ids []string
				for _, r := range refs {
					ids = append(ids, r.Reference().Value)
				}
				return ids, err
			},
			"com.vmware.cis.tagging.tag_association.list_attached_objects")
	}
	tagsOf := func() []string {
		t.Helper()
		return onAll("the category's tags", "/api/cis/tagging/tag?action=list-tags-for-category",
			map[string]any{"category_id": category}, nil,
			func() ([]string, error) { return tm.ListTagsForCategory(ctx, category) },
			"com.vmware.cis.tagging.tag.list_tags_for_category")
	}
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, sorted(want)) {
			t.Fatalf("%s: %v, want %v", what, got, sorted(want))
		}
	}
	reconfigure := func(op types.ArrayUpdateOperation, tag string) {
		t.Helper()
		task, err := vm.Reconfigure(ctx, types.VirtualMachineConfigSpec{TagSpecs: []types.TagSpec{{
			ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: op}, Id: types.TagId{Uuid: tag}}}})
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			t.Fatalf("reconfiguring %s to %s %s: %v", vm.Reference().Value, op, tag, err)
		}
	}
	// Each read comes twice before a change, so that the one after the change would find a kept
	// answer to send were it not dropped.
	twice := func(read func() []string) []string { read(); return read() }

	want("nothing attached", twice(func() []string { return attachedTo(vm) }))
	want("gold's objects", twice(func() []string { return objectsOf(gold) }))
	want("the category's tags", twice(tagsOf), gold, silver)
	if err := tm.AttachTag(ctx, gold, vm.Reference()); err != nil { // on /rest
		t.Fatal(err)
	}
	want("after govmomi attached gold", twice(func() []string { return attachedTo(vm) }), gold)
	want("the other VM's tags, a body of its own", twice(func() []string { return attachedTo(other) }))
	want("gold's objects", twice(func() []string { return objectsOf(gold) }), vm.Reference().Value)
	if r := env.Do("POST", "/api/cis/tagging/tag-association/"+silver+"?action=attach", token,
		map[string]any{"object_id": objectID(vm)}); r.Status != 204 {
		t.Fatalf("attach on /api: %d %s", r.Status, r.Body)
	}
	want("after /api attached silver", twice(func() []string { return attachedTo(vm) }), gold, silver)
	reconfigure(types.ArrayUpdateOperationRemove, gold)
	want("after the VM's reconfiguration took gold off", twice(func() []string { return attachedTo(vm) }), silver)
	want("gold's objects after it", twice(func() []string { return objectsOf(gold) }))
	reconfigure(types.ArrayUpdateOperationAdd, gold)
	want("after the VM's reconfiguration put gold back", attachedTo(vm), gold, silver)
	bronze := tag("bronze")
	want("the category's tags after govmomi made bronze", twice(tagsOf), gold, silver, bronze)
	if err := tm.DetachTag(ctx, silver, vm.Reference()); err != nil {
		t.Fatal(err)
	}
	want("after govmomi detached silver", attachedTo(vm), gold)

	// A library's find, by name: none, then the one govmomi makes.
	lm := library.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	byName := func() []string {
		t.Helper()
		return onAll("the libraries named kept-find", "/api/content/library?action=find",
			map[string]any{"name": "kept-find"}, map[string]any{"spec": map[string]any{"name": "kept-find"}},
			func() ([]string, error) { return lm.FindLibrary(ctx, library.Find{Name: "kept-find"}) },
			"com.vmware.content.library.find")
	}
	want("libraries named kept-find", twice(byName))
	lib, err := lm.CreateLibrary(ctx, library.Library{Name: "kept-find", Type: "LOCAL",
		Storage: []library.StorageBacking{{DatastoreID: datastores[0].Datastore, Type: "DATASTORE"}}})
	if err != nil {
		t.Fatal(err)
	}
	want("libraries named kept-find after govmomi made one", byName(), lib)
}
