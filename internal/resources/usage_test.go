package resources

import (
	"reflect"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

func TestClusterAndNamespaceUsageFollowTheInventory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a", "ns-b")
	b := h.builder()
	nsA, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := h.inv.Cluster(h.ctx, clusterA)
	if err != nil {
		t.Fatal(err)
	}
	mhz := int64(cl.Hosts[0].CPUMHz)

	u, err := h.f.ClusterUsage(h.ctx, clusterA)
	if err != nil {
		t.Fatal(err)
	}
	// Three powered-on 4 vCPU / 24 GB control-plane VMs; the embedded inventory reports no
	// consumption, so each counts its configured size.
	if u.CPUUsedMHz != 3*4*mhz || u.MemoryUsedMB != 3*24*1024 {
		t.Errorf("cluster uses %d MHz / %d MB, want %d / %d", u.CPUUsedMHz, u.MemoryUsedMB, 3*4*mhz, 3*24*1024)
	}
	if u.CPUCapacityMHz != cl.EffectiveCPUMHz || u.MemoryCapacityMB != cl.EffectiveMemoryBytes>>20 {
		t.Errorf("cluster capacity %d MHz / %d MB, want the effective %d / %d", u.CPUCapacityMHz, u.MemoryCapacityMB,
			cl.EffectiveCPUMHz, cl.EffectiveMemoryBytes>>20)
	}
	if u.StorageCapacityMB != 10*1024*1024 {
		t.Errorf("storage capacity %d MB, want SharedDatastore's 10 TiB", u.StorageCapacityMB)
	}
	// Each VM's files are committed storage, rounded up to whole MB per VM; the simulator's are a
	// few KB.
	if u.StorageUsedMB != 3 {
		t.Errorf("storage used %d MB, want 1 MB for each of the 3 VMs", u.StorageUsedMB)
	}

	empty, err := h.f.NamespaceUsage(h.ctx, clusterA, "ns-a")
	if err != nil {
		t.Fatal(err)
	}
	live := h.live(clusterA)
	entitled := child(t, live.Children[0].Children, "ns-a")
	if empty.CPUUsedMHz != 0 || empty.MemoryUsedMB != 0 || empty.CPUCapacityMHz != entitled.CPUEntitlementMHz ||
		empty.MemoryCapacityMB != entitled.MemoryEntitlementMB {
		t.Errorf("empty namespace: %+v; want nothing used and capacity = entitlement %d MHz / %d MB",
			empty, entitled.CPUEntitlementMHz, entitled.MemoryEntitlementMB)
	}

	// A pod and a VM in ns-a are what it uses; powering the VM off gives its share back.
	b.vm(nsA, "web-0", 1, 576, podGuestID, false)
	vm := b.vm(nsA, "db", 2, 4096, "otherGuest64", false)
	used, err := h.f.NamespaceUsage(h.ctx, clusterA, "ns-a")
	if err != nil {
		t.Fatal(err)
	}
	if used.CPUUsedMHz != 3*mhz || used.MemoryUsedMB != 576+4096 {
		t.Errorf("ns-a uses %d MHz / %d MB, want %d / %d", used.CPUUsedMHz, used.MemoryUsedMB, 3*mhz, 576+4096)
	}
	powerOff(t, h, vm)
	off, err := h.f.NamespaceUsage(h.ctx, clusterA, "ns-a")
	if err != nil {
		t.Fatal(err)
	}
	if off.CPUUsedMHz != mhz || off.MemoryUsedMB != 576 {
		t.Errorf("after powering db off ns-a uses %d MHz / %d MB, want %d / 576", off.CPUUsedMHz, off.MemoryUsedMB, mhz)
	}

	// A limit on the namespace's pool is its capacity.
	pool, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-b")
	if err != nil {
		t.Fatal(err)
	}
	spec := types.DefaultResourceConfigSpec()
	cpuLimit, memLimit := int64(7000), int64(8192)
	spec.CpuAllocation.Limit, spec.MemoryAllocation.Limit = &cpuLimit, &memLimit
	if err := pool.UpdateConfig(h.ctx, "", &spec); err != nil {
		t.Fatal(err)
	}
	limited, err := h.f.NamespaceUsage(h.ctx, clusterA, "ns-b")
	if err != nil {
		t.Fatal(err)
	}
	if limited.CPUCapacityMHz != 7000 || limited.MemoryCapacityMB != 8192 {
		t.Errorf("ns-b capacity %d MHz / %d MB, want its limits 7000 / 8192", limited.CPUCapacityMHz, limited.MemoryCapacityMB)
	}

	// A namespace whose pool is not there (yet) uses nothing; a Supervisor still being configured
	// has no Namespaces pool: nothing runs there either.
	if none, err := h.f.NamespaceUsage(h.ctx, clusterA, "not-yet"); err != nil || none != (platform.Usage{}) {
		t.Errorf("namespace without a pool: %+v, %v", none, err)
	}
	h.sups[clusterB] = platform.SupervisorState{Cluster: clusterB, ID: "supervisor-b", ConfigStatus: platform.StatusConfiguring}
	if none, err := h.f.NamespaceUsage(h.ctx, clusterB, "ns-a"); err != nil || none != (platform.Usage{}) {
		t.Errorf("Supervisor without a Namespaces pool: %+v, %v", none, err)
	}
	_, err = h.f.NamespaceUsage(h.ctx, clusterEdge, "ns-a")
	wantError(t, err, vapi.ErrorNotFound, "wcpd.resources.no_supervisor")
	_, err = h.f.ClusterUsage(h.ctx, "domain-c404")
	wantError(t, err, vapi.ErrorNotFound, "domain-c404")
	// A cluster without a Supervisor still has usage: nothing runs on it.
	edge, err := h.f.ClusterUsage(h.ctx, clusterEdge)
	if err != nil || edge.CPUUsedMHz != 0 || edge.CPUCapacityMHz == 0 {
		t.Errorf("Edge-Single usage %+v, %v", edge, err)
	}
}

func powerOff(t *testing.T, h *harness, vm *object.VirtualMachine) {
	t.Helper()
	h.done(vm.PowerOff(h.ctx))
}

// TestNamespaceConsumptionIsNamespaceUsageForAllAndFollowsTheInventory: the figures a list asks for are
// those of NamespaceUsage, namespace by namespace; asking again without a change reuses them, and
// every change made through the inventory (a VM created, powered off, a pool's limit set in place)
// shows in the very next answer.
func TestNamespaceConsumptionIsNamespaceUsageForAllAndFollowsTheInventory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a", "ns-b")
	b := h.builder()
	nsA, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	var last uint64                           // the reading of the previous step's figures
	var consumption map[string]platform.Usage // that reading's figures
	matches := func(step string) map[string]platform.Usage {
		t.Helper()
		// Each namespace alone first: the inventory changed since the last reading, so each is
		// read on its own.
		alone := map[string]platform.Usage{}
		for _, ns := range []string{"ns-a", "ns-b"} {
			one, err := h.f.NamespaceUsage(h.ctx, clusterA, ns)
			if err != nil {
				t.Fatal(err)
			}
			alone[ns] = one
		}
		figures, err := h.f.NamespaceConsumption(h.ctx, clusterA)
		if err != nil {
			t.Fatal(err)
		}
		if figures.Read == 0 || figures.Read == last {
			t.Errorf("%s: reading %d, the previous one was %d; want a new reading", step, figures.Read, last)
		}
		last, consumption = figures.Read, figures.ByName
		if len(consumption) != 2 {
			t.Fatalf("%s: figures of %d namespaces, want ns-a and ns-b: %+v", step, len(consumption), consumption)
		}
		for _, ns := range []string{"ns-a", "ns-b"} {
			used, one := consumption[ns], alone[ns]
			if used.CPUUsedMHz != one.CPUUsedMHz || used.MemoryUsedMB != one.MemoryUsedMB || used.StorageUsedMB != one.StorageUsedMB ||
				used.CPUCapacityMHz != 0 || used.MemoryCapacityMB != 0 || used.StorageCapacityMB != 0 {
				t.Errorf("%s: %s in the list's figures %+v, alone %+v; want the same used figures and no capacities", step, ns, used, one)
			}
			// With the list's reading at hand, a namespace's usage comes from it, and is the same.
			again, err := h.f.NamespaceUsage(h.ctx, clusterA, ns)
			if err != nil {
				t.Fatal(err)
			}
			if again != one {
				t.Errorf("%s: %s with the list's reading at hand %+v, alone %+v", step, ns, again, one)
			}
		}
		return alone
	}

	first := matches("at first")
	if first["ns-a"].CPUCapacityMHz <= 0 || first["ns-a"].CPUUsedMHz != 0 {
		t.Fatalf("empty ns-a: %+v; want nothing used and its entitlement as capacity", first["ns-a"])
	}
	if again, err := h.f.NamespaceConsumption(h.ctx, clusterA); err != nil || again.Read != last || !reflect.DeepEqual(again.ByName, consumption) {
		t.Errorf("asked again without a change: reading %d (%v), want the kept reading %d", again.Read, err, last)
	}

	vm := b.vm(nsA, "db", 2, 4096, "otherGuest64", false)
	if got := matches("after a VM was created")["ns-a"]; got.MemoryUsedMB != 4096 {
		t.Fatalf("ns-a after db was created: %+v, want 4096 MB used", got)
	}
	powerOff(t, h, vm)
	if got := matches("after the VM was powered off")["ns-a"]; got.MemoryUsedMB != 0 || got.StorageUsedMB == 0 {
		t.Fatalf("ns-a after db was powered off: %+v, want no memory used and its storage kept", got)
	}

	// UpdateConfig changes the pool in place without announcing a property change.
	pool, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-b")
	if err != nil {
		t.Fatal(err)
	}
	spec := types.DefaultResourceConfigSpec()
	cpuLimit := int64(7000)
	spec.CpuAllocation.Limit = &cpuLimit
	if err := pool.UpdateConfig(h.ctx, "", &spec); err != nil {
		t.Fatal(err)
	}
	if got := matches("after a limit was set")["ns-b"]; got.CPUCapacityMHz != 7000 {
		t.Fatalf("ns-b after its limit was set: %+v, want 7000 MHz capacity", got)
	}

	// A Supervisor without a Namespaces pool has no figures; a cluster without one is NOT_FOUND.
	h.sups[clusterB] = platform.SupervisorState{Cluster: clusterB, ID: "supervisor-b", ConfigStatus: platform.StatusConfiguring}
	if none, err := h.f.NamespaceConsumption(h.ctx, clusterB); err != nil || len(none.ByName) != 0 || none.Read != 0 {
		t.Errorf("Supervisor without a Namespaces pool: %+v, %v", none, err)
	}
	_, err = h.f.NamespaceConsumption(h.ctx, clusterEdge)
	wantError(t, err, vapi.ErrorNotFound, "wcpd.resources.no_supervisor")
}
