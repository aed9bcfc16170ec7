package inventory_test

import (
	"cmp"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
)

// TestReadPoolTreeIsWhatTheCollectorReads: the in-process read of a cluster's pool tree gives,
// pool for pool and VM for VM, what the property collector gives for the same properties through
// SOAP, after changes made through govc (a nested pool with limits and high shares, VMs of their
// own size, one powered off).
func TestReadPoolTreeIsWhatTheCollectorReads(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	ctx := context.Background()
	s.mustGovc(t, "pool.create", "-cpu.limit", "3000", "-mem.shares", "high", "/Datacenter/host/Cluster-A/Resources/tree-a")
	s.mustGovc(t, "pool.create", "/Datacenter/host/Cluster-A/Resources/tree-a/tree-b")
	s.mustGovc(t, "vm.create", "-ds", "SharedDatastore", "-net", "DPG-Workload", "-on=false", "-c", "3", "-m", "1536", "-pool", "/Datacenter/host/Cluster-A/Resources/tree-a/tree-b", "tree-vm-off")
	s.mustGovc(t, "vm.create", "-ds", "SharedDatastore", "-net", "DPG-Workload", "-c", "2", "-m", "1024", "-pool", "/Datacenter/host/Cluster-A/Resources/tree-a", "tree-vm-on")

	clusters, err := s.inv.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := clusters[0].ResourcePool
	got, err := s.inv.ReadPoolTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}

	c := s.inv.Client()
	rootRef := types.ManagedObjectReference{Type: "ResourcePool", Value: root}
	v, err := view.NewManager(c).CreateContainerView(ctx, rootRef, []string{"ResourcePool", "VirtualMachine"}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = v.Destroy(ctx) }()
	var pools []mo.ResourcePool
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"ResourcePool"}, []string{"name", "parent", "config.cpuAllocation",
		"config.memoryAllocation", "config.scaleDescendantsShares"}, &pools); err != nil {
		t.Fatal(err)
	}
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "resourcePool", "config.hardware.numCPU",
		"config.hardware.memoryMB", "config.cpuAllocation", "config.memoryAllocation", "config.guestId",
		"runtime.powerState", "runtime.host", "summary.quickStats.overallCpuUsage", "summary.quickStats.hostMemoryUsage",
		"summary.storage.committed", "summary.storage.uncommitted"}, &vms); err != nil {
		t.Fatal(err)
	}
	if len(got.Pools) < 2 || len(got.VMs) < 2 {
		t.Fatalf("read %d pools and %d VMs below %s; want at least the two of each made above", len(got.Pools), len(got.VMs), root)
	}
	var wantPools []inventory.TreePool
	for i := range pools {
		wantPools = append(wantPools, inventory.TreePoolOf(&pools[i]))
	}
	var wantVMs []inventory.TreeVM
	for i := range vms {
		wantVMs = append(wantVMs, inventory.TreeVMOf(&vms[i]))
	}
	slices.SortFunc(wantPools, func(a, b inventory.TreePool) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(got.Pools, func(a, b inventory.TreePool) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(wantVMs, func(a, b inventory.TreeVM) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(got.VMs, func(a, b inventory.TreeVM) int { return cmp.Compare(a.ID, b.ID) })
	if !reflect.DeepEqual(got.Pools, wantPools) {
		t.Errorf("pools read in process:\n%+v\nthrough the property collector:\n%+v", got.Pools, wantPools)
	}
	if !reflect.DeepEqual(got.VMs, wantVMs) {
		t.Errorf("VMs read in process:\n%+v\nthrough the property collector:\n%+v", got.VMs, wantVMs)
	}
	// What the changes above set is there.
	for _, p := range got.Pools {
		if p.Name == "tree-a" && (p.CPU.Limit != 3000 || p.Memory.Shares.Level != types.SharesLevelHigh) {
			t.Errorf("tree-a read as %+v", p)
		}
	}
	for _, vm := range got.VMs {
		if vm.Name == "tree-vm-off" && (vm.NumCPU != 3 || vm.MemoryMB != 1536 || vm.PowerState != types.VirtualMachinePowerStatePoweredOff) {
			t.Errorf("tree-vm-off read as %+v", vm)
		}
	}

	if _, err := s.inv.ReadPoolTree(ctx, "resgroup-999999"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("a pool that is not there: %v, want ErrNotFound", err)
	}
}
