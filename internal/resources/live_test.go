package resources

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

const (
	opLive   = "com.wcpd.resources.clusters.get"
	opWhatIf = "com.wcpd.resources.clusters.what_if"
)

func gb(mb int64) string { return fmt.Sprintf("%.2f", float64(mb)/1024) }

func (h *harness) live(cluster string) LiveAnalysis {
	h.t.Helper()
	res, err := h.call(opLive, map[string]string{"cluster": cluster}, nil, nil)
	if err != nil {
		h.t.Fatalf("live analysis of %s: %v", cluster, err)
	}
	var a LiveAnalysis
	roundTrip(h.t, res, &a)
	return a
}

func child(t *testing.T, nodes []LiveNode, name string) LiveNode {
	t.Helper()
	for _, n := range nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %q among %d siblings", name, len(nodes))
	return LiveNode{}
}

// Seed 003's worked example, built in the inventory the way the clusters and namespaces families
// build a Supervisor: the live analysis reads it back and finds the seed's figures.
func TestLiveAnalysisOfSeed003Supervisor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nsPool := h.supervisorTree("frank-ns", "vmware-system-registry")
	a := h.live(clusterA)

	cl, err := h.inv.Cluster(h.ctx, clusterA)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cluster != clusterA || a.Supervisor != "supervisor-a" || a.NamespacesPool != nsPool.Reference().Value {
		t.Errorf("identity: cluster %s supervisor %s pool %s", a.Cluster, a.Supervisor, a.NamespacesPool)
	}
	// Capacity comes from the hosts: effective CPU and memory, and their core speed per vCPU.
	if a.Capacity.CPUMHz != cl.EffectiveCPUMHz || a.Capacity.MemoryMB != cl.EffectiveMemoryBytes>>20 ||
		a.Capacity.CPUMHzPerVCPU != int64(cl.Hosts[0].CPUMHz) {
		t.Errorf("capacity %+v, want the cluster's effective %d MHz, %d MB at %d MHz per vCPU",
			a.Capacity, cl.EffectiveCPUMHz, cl.EffectiveMemoryBytes>>20, cl.Hosts[0].CPUMHz)
	}
	if len(a.Children) != 1 {
		t.Fatalf("top level: %d nodes, want the Namespaces pool alone", len(a.Children))
	}
	pool := a.Children[0]
	if pool.ID != nsPool.Reference().Value || pool.MemoryEntitlementMB != seedCapacityMB || pool.MemoryBound != drs.BoundLimit {
		t.Errorf("Namespaces pool: id %s, %d MB (%s), want %s owning 126.14 GB by its limit",
			pool.ID, pool.MemoryEntitlementMB, pool.MemoryBound, nsPool.Reference().Value)
	}
	if len(pool.Children) != 5 {
		t.Fatalf("Namespaces holds %d nodes, want 3 VMs and 2 namespaces", len(pool.Children))
	}
	for i, vm := range pool.Children[:3] {
		if vm.Name != fmt.Sprintf("SupervisorControlPlaneVM (%d)", i+1) || vm.Type != drs.KindVM || vm.ID == "" {
			t.Errorf("child %d: %s %s %q", i, vm.Name, vm.Type, vm.ID)
		}
		if vm.MemoryShares != 245_760 || fmt.Sprintf("%.2f", vm.MemorySharePercent) != "23.08" {
			t.Errorf("%s: %d memory shares, %.2f%%; want 245,760 and 23.08%%", vm.Name, vm.MemoryShares, vm.MemorySharePercent)
		}
		if vm.MemoryEntitlementMB != 24*1024 || vm.MemoryBound != drs.BoundSize || vm.Size != (drs.Size{CPUCount: 4, MemoryMB: 24 * 1024}) {
			t.Errorf("%s: %d MB (%s), size %+v; want its 24 GB", vm.Name, vm.MemoryEntitlementMB, vm.MemoryBound, vm.Size)
		}
	}
	for _, ns := range pool.Children[3:] {
		if ns.Type != drs.KindResourcePool || ns.MemoryShares != 163_840 || fmt.Sprintf("%.2f", ns.MemorySharePercent) != "15.38" {
			t.Errorf("%s: %s, %d shares, %.2f%%; want a pool with 163,840 and 15.38%%", ns.Name, ns.Type, ns.MemoryShares, ns.MemorySharePercent)
		}
		if gb(ns.MemoryEntitlementMB) != "27.07" {
			t.Errorf("%s gets %s GB, want 27.07", ns.Name, gb(ns.MemoryEntitlementMB))
		}
	}
}

// Every setting of pools and VMs that the model uses is read from the inventory.
func TestLiveReadsSharesReservationsLimitsPodsAndPowerState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nsPool := h.supervisorTree("ns-a")
	b := h.builder()
	nsA, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	// A HIGH pool with a CPU limit and a fixed memory reservation.
	b.pool(nsPool, "ns-high", func(s *types.ResourceConfigSpec) {
		s.CpuAllocation.Shares = &types.SharesInfo{Level: types.SharesLevelHigh}
		s.MemoryAllocation.Shares = &types.SharesInfo{Level: types.SharesLevelHigh}
		cpuLimit, memRes, fixed := int64(5000), int64(2048), false
		s.CpuAllocation.Limit = &cpuLimit
		s.MemoryAllocation.Reservation = &memRes
		s.MemoryAllocation.ExpandableReservation = &fixed
	})
	// A vSphere Pod, a VM with different CPU and memory share levels and a reservation, and a
	// powered-off VM.
	b.vm(nsA, "cassandra-0", 1, 1088, podGuestID, false)
	b.vm(nsA, "db", 2, 4096, "otherGuest64", false, func(s *types.VirtualMachineConfigSpec) {
		res := int64(1024)
		s.CpuAllocation = &types.ResourceAllocationInfo{Shares: &types.SharesInfo{Level: types.SharesLevelHigh}}
		s.MemoryAllocation = &types.ResourceAllocationInfo{Shares: &types.SharesInfo{Level: types.SharesLevelLow}, Reservation: &res}
	})
	b.vm(nsA, "stopped", 8, 32768, "otherGuest64", true)

	a := h.live(clusterA)
	pool := a.Children[0]
	high := child(t, pool.Children, "ns-high")
	if high.CPUShares != 8000 || high.MemoryShares != 327_680 {
		t.Errorf("HIGH pool: %d / %d shares, want 8000 / 327,680", high.CPUShares, high.MemoryShares)
	}
	if high.CPUEntitlementMHz != 5000 || high.CPUBound != drs.BoundLimit {
		t.Errorf("HIGH pool: %d MHz (%s), want its 5000 MHz limit", high.CPUEntitlementMHz, high.CPUBound)
	}
	if high.MemoryReservedMB != 2048 {
		t.Errorf("HIGH pool holds %d MB of reservation, want its 2048", high.MemoryReservedMB)
	}
	// Its own settings travel with the result, for a reader to draw beside the entitlement.
	if l, r := high.Limit, high.Reservation; l == nil || l.CPUMHz == nil || *l.CPUMHz != 5000 || l.MemoryMB != nil ||
		r == nil || r.MemoryMB == nil || *r.MemoryMB != 2048 {
		t.Errorf("HIGH pool's settings: limit %+v, reservation %+v; want a 5000 MHz CPU limit alone and a 2048 MB memory reservation", l, r)
	}

	ns := child(t, pool.Children, "ns-a")
	pod := child(t, ns.Children, "cassandra-0")
	if pod.Type != drs.KindPod || pod.Size != (drs.Size{CPUCount: 1, MemoryMB: 1088}) || pod.MemoryEntitlementMB != 1088 {
		t.Errorf("pod: %s size %+v gets %d MB; want a POD of 1 vCPU / 1088 MB getting all of it", pod.Type, pod.Size, pod.MemoryEntitlementMB)
	}
	db := child(t, ns.Children, "db")
	// HIGH CPU for 2 vCPUs, LOW memory for 4096 MB: the model takes them as custom values.
	if db.CPUShares != 4000 || db.MemoryShares != 5*4096 {
		t.Errorf("db: %d / %d shares, want 4000 (HIGH, 2 vCPU) / 20480 (LOW, 4 GB)", db.CPUShares, db.MemoryShares)
	}
	if db.MemoryReservedMB != 1024 {
		t.Errorf("db holds %d MB of reservation, want 1024", db.MemoryReservedMB)
	}
	// The namespace's expandable pool holds what its VM reserved, and so does Namespaces.
	if ns.MemoryReservedMB != 1024 || pool.MemoryReservedMB != 1024+2048 || a.MemoryReservedMB != 1024+2048 {
		t.Errorf("held reservations: ns-a %d, Namespaces %d, cluster %d; want 1024, 3072, 3072",
			ns.MemoryReservedMB, pool.MemoryReservedMB, a.MemoryReservedMB)
	}
	stopped := child(t, ns.Children, "stopped")
	if stopped.CPUEntitlementMHz != 0 || stopped.MemoryEntitlementMB != 0 || stopped.MemoryBound != drs.BoundDemand {
		t.Errorf("powered-off VM gets %d MHz / %d MB (%s), want nothing: it demands nothing",
			stopped.CPUEntitlementMHz, stopped.MemoryEntitlementMB, stopped.MemoryBound)
	}
	if stopped.MemoryShares != 10*32768 {
		t.Errorf("powered-off VM keeps its shares: %d, want %d", stopped.MemoryShares, 10*32768)
	}
}

func TestLiveErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.call(opLive, map[string]string{"cluster": "domain-c404"}, nil, nil)
	wantError(t, err, vapi.ErrorNotFound, "domain-c404", `"wcpd.not_found"`)

	_, err = h.call(opLive, map[string]string{"cluster": clusterEdge}, nil, nil)
	wantError(t, err, vapi.ErrorNotFound, "wcpd.resources.no_supervisor", clusterEdge)

	// A Supervisor still being configured has no Namespaces pool yet.
	h.sups[clusterB] = platform.SupervisorState{Cluster: clusterB, ID: "supervisor-b", ConfigStatus: platform.StatusConfiguring}
	_, err = h.call(opLive, map[string]string{"cluster": clusterB}, nil, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "wcpd.resources.supervisor_configuring", "CONFIGURING")

	// A pool id that is not in the cluster.
	h.sups[clusterB] = platform.SupervisorState{Cluster: clusterB, ID: "supervisor-b", ConfigStatus: platform.StatusRunning, NamespacesPool: "resgroup-404"}
	_, err = h.call(opLive, map[string]string{"cluster": clusterB}, nil, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "resgroup-404")
}

// TestLiveFollowsEveryInventoryChange: the live analysis keeps the tree it read while the
// inventory does not change, and reads it again after any change — a pool's shares changed, a VM
// added, a VM powered off — so an answer never shows the inventory as it was before a change its
// caller was told is done.
func TestLiveFollowsEveryInventoryChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a", "ns-b")
	b := h.builder()
	nsA, err := b.finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	before := h.live(clusterA)
	if again := h.live(clusterA); !reflect.DeepEqual(again, before) {
		t.Fatalf("two analyses of an unchanged inventory differ")
	}
	shareOf := func(a LiveAnalysis, ns string) float64 {
		return child(t, a.Children[0].Children, ns).MemorySharePercent
	}

	high := types.ResourceConfigSpec{CpuAllocation: types.ResourceAllocationInfo{Shares: &types.SharesInfo{Level: types.SharesLevelHigh}},
		MemoryAllocation: types.ResourceAllocationInfo{Shares: &types.SharesInfo{Level: types.SharesLevelHigh}}}
	if err := nsA.UpdateConfig(h.ctx, "", &high); err != nil {
		t.Fatal(err)
	}
	after := h.live(clusterA)
	if shareOf(after, "ns-a") <= shareOf(before, "ns-a") {
		t.Errorf("ns-a's share after HIGH: %.2f %%, before %.2f %%", shareOf(after, "ns-a"), shareOf(before, "ns-a"))
	}

	vm := b.vm(nsA, "web", 2, 2048, "otherGuest64", false)
	withVM := h.live(clusterA)
	web := child(t, child(t, withVM.Children[0].Children, "ns-a").Children, "web")
	if web.MemoryEntitlementMB == 0 {
		t.Fatalf("the new VM is entitled to nothing: %+v", web)
	}
	task, err := vm.PowerOff(h.ctx)
	if err == nil {
		err = task.Wait(h.ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	off := child(t, child(t, h.live(clusterA).Children[0].Children, "ns-a").Children, "web")
	if off.MemoryEntitlementMB != 0 {
		t.Errorf("a powered-off VM is still entitled to %d MB", off.MemoryEntitlementMB)
	}
}
