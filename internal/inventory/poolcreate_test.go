package inventory_test

import (
	"context"
	"testing"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
)

// TestCreateResourcePoolRefusesTakenNamesOnly: the inventory's own CreateResourcePool (names
// checked in an index) refuses a name taken under the same parent and only then, as names come
// and go: a pool made, destroyed, renamed in place (UpdateConfig); the same name under another
// parent is fine; a pool it makes is a complete pool (owner, parent, allocation) that govc sees.
func TestCreateResourcePoolRefusesTakenNamesOnly(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	ctx := context.Background()
	c := s.inv.Client()
	root, err := find.NewFinder(c).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	create := func(parent *object.ResourcePool, name string) (*object.ResourcePool, error) {
		return parent.Create(ctx, name, types.DefaultResourceConfigSpec())
	}
	mustCreate := func(parent *object.ResourcePool, name string) *object.ResourcePool {
		t.Helper()
		p, err := create(parent, name)
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return p
	}
	refused := func(parent *object.ResourcePool, name string) {
		t.Helper()
		if _, err := create(parent, name); !fault.Is(err, &types.DuplicateName{}) {
			t.Fatalf("creating %s again: %v, want DuplicateName", name, err)
		}
	}

	parent := mustCreate(root, "names")
	a := mustCreate(parent, "a")
	mustCreate(parent, "b")
	refused(parent, "a")
	refused(parent, "b")

	var got mo.ResourcePool
	if err := a.Properties(ctx, a.Reference(), []string{"name", "parent", "owner", "config"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "a" || *got.Parent != parent.Reference() || got.Owner.Type != "ClusterComputeResource" ||
		got.Config.CpuAllocation.Shares == nil || got.Config.CpuAllocation.Shares.Level != types.SharesLevelNormal {
		t.Fatalf("pool made: %+v", got)
	}
	s.mustGovc(t, "pool.info", "/Datacenter/host/Cluster-A/Resources/names/a")

	// Renamed in place: the old name is free, the new one taken.
	spec := types.DefaultResourceConfigSpec()
	if err := a.UpdateConfig(ctx, "a2", &spec); err != nil {
		t.Fatal(err)
	}
	refused(parent, "a2")
	mustCreate(parent, "a")

	// Destroyed: free again.
	b, err := find.NewFinder(c).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources/names/b")
	if err != nil {
		t.Fatal(err)
	}
	if task, err := b.Destroy(ctx); err != nil || task.Wait(ctx) != nil {
		t.Fatalf("destroying b: %v", err)
	}
	mustCreate(parent, "b")

	// The same name under another parent is fine.
	other := mustCreate(root, "names-other")
	mustCreate(other, "a")

	// An incomplete allocation is refused as the simulator refuses it.
	bad := types.DefaultResourceConfigSpec()
	bad.CpuAllocation.Limit = nil
	if _, err := parent.Create(ctx, "incomplete", bad); !fault.Is(err, &types.InvalidArgument{}) {
		t.Fatalf("creating with no CPU limit: %v, want InvalidArgument", err)
	}
}
