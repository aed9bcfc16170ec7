package resources

import (
	"maps"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
)

// TestNamespaceFiguresFollowChangesWithoutReadingTheCluster: after each kind of change to the
// inventory (VMs made, cloned, relocated, powered off and destroyed, a limit and a name set in place, pools
// made and destroyed inside a namespace, namespaces made and destroyed, one with a pool that moves
// up and becomes a namespace, work outside the Namespaces pool), the namespaces' figures are those
// a reading of the whole cluster gives, and they were brought up to date without reading the whole
// cluster again.
func TestNamespaceFiguresFollowChangesWithoutReadingTheCluster(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nsPool := h.supervisorTree("ns-0", "ns-1", "ns-2", "ns-3", "ns-4", "ns-5")
	b := h.builder()
	ns := func(name string) *object.ResourcePool {
		t.Helper()
		p, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := h.f.NamespaceConsumption(h.ctx, clusterA); err != nil {
		t.Fatal(err)
	}
	if n := h.f.fullReadings.Load(); n != 1 {
		t.Fatalf("the first figures came from %d readings of the cluster, want 1", n)
	}
	// matches compares the followed figures with those of a family that has never read the
	// cluster, and checks that they were followed, not read again.
	matches := func(step string, wantIn ...string) {
		t.Helper()
		followed, err := h.f.NamespaceConsumption(h.ctx, clusterA)
		if err != nil {
			t.Fatal(err)
		}
		fresh := New(&platform.Deps{Inventory: h.inv, Clock: clock.Real{}, Controllers: &controller.Group{},
			Families: &platform.Families{Supervisors: h.sups}})
		read, err := fresh.NamespaceConsumption(h.ctx, clusterA)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(followed.ByName, read.ByName) {
			t.Errorf("%s: followed figures\n%v\nwant those of a whole reading\n%v", step, followed.ByName, read.ByName)
		}
		if !maps.Equal(h.f.figures[clusterA].limits, fresh.figures[clusterA].limits) {
			t.Errorf("%s: followed limits %v, want %v", step, h.f.figures[clusterA].limits, fresh.figures[clusterA].limits)
		}
		for _, name := range wantIn {
			if _, ok := followed.ByName[name]; !ok {
				t.Errorf("%s: no figures for %s: %v", step, name, followed.ByName)
			}
		}
		if n := h.f.fullReadings.Load(); n != 1 {
			t.Errorf("%s: the cluster was read %d times, want once (at first)", step, n)
		}
	}

	vm := b.vm(ns("ns-1"), "web", 2, 2048, "otherGuest64", false)
	matches("a VM made in ns-1")

	spec := types.DefaultResourceConfigSpec()
	limit := int64(3000)
	spec.CpuAllocation.Limit = &limit
	if err := ns("ns-2").UpdateConfig(h.ctx, "", &spec); err != nil {
		t.Fatal(err)
	}
	matches("a limit set on ns-2 in place")

	if err := ns("ns-5").UpdateConfig(h.ctx, "ns-5-renamed", nil); err != nil {
		t.Fatal(err)
	}
	matches("ns-5 renamed in place", "ns-5-renamed")

	inner := b.pool(ns("ns-3"), "inner")
	b.vm(inner, "db", 4, 8192, "otherGuest64", false)
	matches("a pool and a VM made inside ns-3")

	h.done(inner.Destroy(h.ctx))
	matches("the pool inside ns-3 destroyed (its VM moves up to ns-3)")

	powerOff(t, h, vm)
	matches("the VM of ns-1 powered off")

	controlPlane, err := b.finder.VirtualMachine(h.ctx, "SupervisorControlPlaneVM (1)")
	if err != nil {
		t.Fatal(err)
	}
	powerOff(t, h, controlPlane)
	matches("a control plane VM (in no namespace) powered off")

	folders, err := b.finder.DefaultFolder(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	target := ns("ns-4").Reference()
	cloning, err := vm.Clone(h.ctx, folders, "web-copy", types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &target}, PowerOn: true})
	var cloned *types.TaskInfo
	if err == nil {
		cloned, err = cloning.WaitForResult(h.ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	matches("the VM of ns-1 cloned into ns-4")

	clone := object.NewVirtualMachine(vm.Client(), cloned.Result.(types.ManagedObjectReference))
	to := ns("ns-3").Reference()
	h.done(clone.Relocate(h.ctx, types.VirtualMachineRelocateSpec{Pool: &to}, types.VirtualMachineMovePriorityDefaultPriority))
	matches("the clone, running, relocated from ns-4 to ns-3")

	h.done(vm.Destroy(h.ctx))
	matches("the VM of ns-1 destroyed")

	h.done(ns("ns-0").Destroy(h.ctx))
	matches("ns-0 destroyed")

	b.vm(b.pool(ns("ns-2"), "kept"), "cache", 1, 2048, "otherGuest64", false)
	matches("a pool and a VM made inside ns-2")
	h.done(ns("ns-2").Destroy(h.ctx))
	matches("ns-2 destroyed with a pool inside (the pool moves up and is a namespace of its own)", "kept")

	b.vm(b.pool(nsPool, "ns-6"), "api", 1, 1024, podGuestID, false)
	matches("ns-6 made with a pod", "ns-6")

	elsewhere := b.pool(b.rootPool("Cluster-A"), "elsewhere")
	b.vm(elsewhere, "batch", 2, 4096, "otherGuest64", false)
	matches("a pool and a VM made outside the Namespaces pool")

	if n := h.f.followedReadings.Load(); n < 10 {
		t.Errorf("%d followed readings, want one per step", n)
	}
}
