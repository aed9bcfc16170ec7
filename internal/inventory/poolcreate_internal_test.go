package inventory

import (
	"context"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/types"
)

// TestCreateResourcePoolIsServedByTheCreator: a pool created through SOAP goes through wcpd's
// creator, which indexes the parent's children (the simulator's own method would not), and the
// index counts the new pool.
func TestCreateResourcePoolIsServedByTheCreator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inv := startInventory(t)
	root, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		if _, err := root.Create(ctx, name, types.DefaultResourceConfigSpec()); err != nil {
			t.Fatal(err)
		}
	}
	inv.poolNames.mu.Lock()
	idx := inv.poolNames.byParent[root.Reference()]
	inv.poolNames.mu.Unlock()
	if idx == nil {
		t.Fatal("the creator did not index the parent: CreateResourcePool was not served by it")
	}
	if _, ok := idx.byName["two"]; !ok || idx.count != len(idx.byName) {
		t.Fatalf("index of the parent: %+v, want both pools and a count that matches", idx)
	}
}
