package resources

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The figures of platform.Resources follow what was just created, powered on or reconfigured:
// they are read from the inventory, and kept only until the inventory changes (figures.go).
// Reading a whole cluster is proportional to the number of objects in it, so NamespaceUsage, which
// other families ask for one namespace (a get), reads only the namespace's own pool and what runs
// in it unless the list's reading of the cluster is at hand; NamespaceConsumption, which a list
// asks, reads the whole cluster's tree once, for the used figures and the limits. The one figure
// that needs the whole cluster, the entitlement a namespace without a limit is given under
// contention, comes from the cluster's latest analysis (the sampler makes one every
// SampleInterval, and so does every live analysis and what-if); a namespace that analysis did not
// see gets a new one.

// ClusterUsage is what a cluster's workloads use and what the cluster has: CPU and memory used by
// its powered-on VMs and pods (see vmUsage) against its effective capacity, and the storage its
// VMs hold against the capacity of the datastores it mounts. An unknown cluster is a NOT_FOUND
// vAPI error; a cluster needs no Supervisor.
func (f *Family) ClusterUsage(ctx context.Context, cluster string) (platform.Usage, error) {
	inv := f.deps.Inventory
	generation := inv.Generation()
	f.mu.Lock()
	kept, ok := f.clusterUsages[cluster]
	f.mu.Unlock()
	if ok && kept.generation == generation {
		return kept.usage, nil
	}
	cl, err := inv.Cluster(ctx, cluster)
	if errors.Is(err, inventory.ErrNotFound) {
		return platform.Usage{}, vapi.NotFound("Cluster", cluster)
	}
	if err != nil {
		return platform.Usage{}, fmt.Errorf("reading cluster %s: %w", cluster, err)
	}
	capacity := clusterCapacity(cl)
	u := platform.Usage{CPUCapacityMHz: capacity.CPUMHz, MemoryCapacityMB: capacity.MemoryMB}
	if cl.ResourcePool != "" {
		hostMHz := map[string]int64{}
		for _, h := range cl.Hosts {
			hostMHz[h.ID] = int64(h.CPUMHz)
		}
		if u.CPUUsedMHz, u.MemoryUsedMB, u.StorageUsedMB, err = f.usedUnder(ctx, poolRef(cl.ResourcePool), hostMHz); err != nil {
			return platform.Usage{}, err
		}
	}
	if u.StorageCapacityMB, err = f.storageCapacityMB(ctx, cluster); err != nil {
		return platform.Usage{}, err
	}
	f.mu.Lock()
	f.clusterUsages[cluster] = keptUsage{generation: generation, usage: u}
	f.mu.Unlock()
	return u, nil
}

// NamespaceUsage is what a namespace's pool uses and may use: CPU and memory used by the
// powered-on VMs and pods in it (see vmUsage), against its limit when it has one and otherwise
// what the model entitles it to when everything in the cluster wants everything; the storage its
// VMs hold, against the capacity of the cluster's datastores (the namespace's storage limits
// belong to the namespaces family). A namespace whose pool does not exist (yet) uses nothing and
// has no capacity. An unknown cluster, or one without a Supervisor, is a NOT_FOUND vAPI error.
func (f *Family) NamespaceUsage(ctx context.Context, cluster, namespace string) (platform.Usage, error) {
	sup, err := f.supervisorOf(ctx, cluster)
	if err != nil || sup.NamespacesPool == "" {
		return platform.Usage{}, err
	}
	var u platform.Usage
	var cpuLimit, memLimit int64
	if fig, ok := f.currentFigures(cluster, sup.NamespacesPool); ok {
		// The list's reading of the cluster is at hand: what the namespace uses and its limits.
		limit, found := fig.limits[namespace]
		if !found {
			return platform.Usage{}, nil // no pool: nothing runs
		}
		u, cpuLimit, memLimit = fig.figures.ByName[namespace], limit[0], limit[1]
	} else {
		c := f.deps.Inventory.Client()
		ref, err := object.NewSearchIndex(c).FindChild(ctx, poolRef(sup.NamespacesPool), namespace)
		switch {
		case fault.Is(err, &types.ManagedObjectNotFound{}):
			return platform.Usage{}, nil // the Namespaces pool is gone: nothing runs
		case err != nil:
			return platform.Usage{}, fmt.Errorf("finding the pool of namespace %s: %w", namespace, err)
		case ref == nil || ref.Reference().Type != "ResourcePool":
			return platform.Usage{}, nil
		}
		// One in-process read gives the pool's limits and what runs in it.
		t, err := f.deps.Inventory.ReadPoolTree(ctx, ref.Reference().Value)
		if errors.Is(err, inventory.ErrNotFound) {
			return platform.Usage{}, nil // removed meanwhile: nothing runs
		}
		if err != nil {
			return platform.Usage{}, fmt.Errorf("reading the pool of namespace %s: %w", namespace, err)
		}
		if u.CPUUsedMHz, u.MemoryUsedMB, u.StorageUsedMB, err = f.usedIn(ctx, t, nil); err != nil {
			return platform.Usage{}, err
		}
		cpuLimit, memLimit = limitOf(&t.Root.CPU.Limit), limitOf(&t.Root.Memory.Limit)
	}
	if u.StorageCapacityMB, err = f.storageCapacityMB(ctx, cluster); err != nil {
		return platform.Usage{}, err
	}
	u.CPUCapacityMHz, u.MemoryCapacityMB = cpuLimit, memLimit
	if cpuLimit < 0 || memLimit < 0 {
		ent, err := f.entitlement(ctx, cluster, namespace)
		if err != nil {
			return platform.Usage{}, err
		}
		if cpuLimit < 0 {
			u.CPUCapacityMHz = ent[0]
		}
		if memLimit < 0 {
			u.MemoryCapacityMB = ent[1]
		}
	}
	return u, nil
}

// supervisorOf is the Supervisor on cluster; an unknown cluster, or one without a Supervisor, is
// NOT_FOUND.
func (f *Family) supervisorOf(ctx context.Context, cluster string) (platform.SupervisorState, error) {
	if sups := f.deps.Families.Supervisors; sups != nil {
		if sup, ok := sups.Supervisor(cluster); ok && sup.Cluster == cluster {
			return sup, nil
		}
	}
	if _, err := f.deps.Inventory.Cluster(ctx, cluster); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return platform.SupervisorState{}, vapi.NotFound("Cluster", cluster)
		}
		return platform.SupervisorState{}, fmt.Errorf("reading cluster %s: %w", cluster, err)
	}
	return platform.SupervisorState{}, noSupervisor(cluster)
}

func noSupervisor(cluster string) error {
	return vapi.NewError(vapi.ErrorNotFound, "wcpd.resources.no_supervisor",
		fmt.Sprintf("Cluster %s has no Supervisor: the live analysis covers a Supervisor's Namespaces pool. "+
			"Enable one on it, or ask POST /api/wcpd/resources/analyze about any tree.", cluster), cluster)
}

func poolRef(id string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ResourcePool", Value: id}
}

// usedUnder sums what the VMs and pods anywhere below pool use (see vmUsage). hostMHz gives the
// hosts' core speed; when nil, the hosts the VMs run on are read.
func (f *Family) usedUnder(ctx context.Context, pool types.ManagedObjectReference, hostMHz map[string]int64) (cpu, mem, storage int64, err error) {
	t, err := f.deps.Inventory.ReadPoolTree(ctx, pool.Value)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reading the VMs in %s: %w", pool.Value, err)
	}
	return f.usedIn(ctx, t, hostMHz)
}

// usedIn is usedUnder for a tree already read.
func (f *Family) usedIn(ctx context.Context, t *inventory.PoolTree, hostMHz map[string]int64) (cpu, mem, storage int64, err error) {
	vms := t.VMs
	if hostMHz == nil {
		if hostMHz, err = f.hostSpeeds(ctx, vms); err != nil {
			return 0, 0, 0, err
		}
	}
	for _, vm := range vms {
		c, m, s := vmUsage(vm, hostMHz)
		cpu, mem, storage = cpu+c, mem+m, storage+s
	}
	return cpu, mem, storage, nil
}

// hostSpeeds reads the core speed of the hosts the VMs run on.
func (f *Family) hostSpeeds(ctx context.Context, vms []inventory.TreeVM) (map[string]int64, error) {
	seen := map[string]bool{}
	var refs []types.ManagedObjectReference
	for _, vm := range vms {
		if h := vm.Host; h != "" && !seen[h] {
			seen[h] = true
			refs = append(refs, types.ManagedObjectReference{Type: "HostSystem", Value: h})
		}
	}
	out := map[string]int64{}
	if len(refs) == 0 {
		return out, nil
	}
	var hosts []mo.HostSystem
	if err := property.DefaultCollector(f.deps.Inventory.Client()).Retrieve(ctx, refs, []string{"summary.hardware"}, &hosts); err != nil {
		return nil, fmt.Errorf("reading hosts: %w", err)
	}
	for _, h := range hosts {
		if hw := h.Summary.Hardware; hw != nil {
			out[h.Self.Value] = int64(hw.CpuMhz)
		}
	}
	return out, nil
}

// storageCapacityMB is the capacity of the datastores the cluster mounts.
func (f *Family) storageCapacityMB(ctx context.Context, cluster string) (int64, error) {
	pc := property.DefaultCollector(f.deps.Inventory.Client())
	var cl mo.ClusterComputeResource
	ref := types.ManagedObjectReference{Type: "ClusterComputeResource", Value: cluster}
	if err := pc.RetrieveOne(ctx, ref, []string{"datastore"}, &cl); err != nil {
		return 0, fmt.Errorf("reading the datastores of %s: %w", cluster, err)
	}
	if len(cl.Datastore) == 0 {
		return 0, nil
	}
	var stores []mo.Datastore
	if err := pc.Retrieve(ctx, cl.Datastore, []string{"summary.capacity"}, &stores); err != nil {
		return 0, fmt.Errorf("reading the datastores of %s: %w", cluster, err)
	}
	var total int64
	for _, ds := range stores {
		total += ds.Summary.Capacity / mib
	}
	return total, nil
}

// entitlement is what the cluster's latest analysis gives namespace (CPU MHz, memory MB); if it
// did not see the namespace, the cluster is analysed again.
func (f *Family) entitlement(ctx context.Context, cluster, namespace string) ([2]int64, error) {
	f.mu.Lock()
	ent, ok := f.entitlements[cluster][namespace]
	f.mu.Unlock()
	if ok {
		return ent, nil
	}
	s, err := f.readSupervisor(ctx, cluster)
	if err != nil {
		return [2]int64{}, err
	}
	a, err := s.analyseFigures(s.roots)
	if err != nil {
		return [2]int64{}, fmt.Errorf("analysing cluster %s: %w", cluster, err)
	}
	f.remember(s, a)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entitlements[cluster][namespace], nil
}

// remember keeps what an analysis of a Supervisor's cluster gives each namespace.
func (f *Family) remember(s *snapshot, a *analysis) {
	if s.namespaces == nil {
		return
	}
	byNamespace := map[string][2]int64{}
	for _, ns := range s.namespaces.kids {
		if r := a.byNode[ns]; r != nil && r.Type == drs.KindResourcePool {
			byNamespace[ns.node.Name] = [2]int64{r.CPUEntitlementMHz, r.MemoryEntitlementMB}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entitlements[s.cluster.ID] = byNamespace
}

// clusterUsage and namespaceUsage are the figures of a snapshot already read, for the sampler.
func clusterUsage(s *snapshot, storageCapacity int64) platform.Usage {
	cpu, mem, storage := consumed(s.roots)
	return platform.Usage{
		CPUUsedMHz: cpu, CPUCapacityMHz: s.capacity.CPUMHz,
		MemoryUsedMB: mem, MemoryCapacityMB: s.capacity.MemoryMB,
		StorageUsedMB: storage, StorageCapacityMB: storageCapacity,
	}
}

func namespaceUsage(pool *liveNode, r *LiveNode, storageCapacity int64) platform.Usage {
	cpu, mem, storage := consumed(pool.kids)
	u := platform.Usage{CPUUsedMHz: cpu, MemoryUsedMB: mem, StorageUsedMB: storage, StorageCapacityMB: storageCapacity}
	u.CPUCapacityMHz, u.MemoryCapacityMB = r.CPUEntitlementMHz, r.MemoryEntitlementMB
	limit := poolLimits(pool)
	if limit[0] >= 0 {
		u.CPUCapacityMHz = limit[0]
	}
	if limit[1] >= 0 {
		u.MemoryCapacityMB = limit[1]
	}
	return u
}

// poolLimits is a pool's CPU (MHz) and memory (MB) limits as the model holds them, -1 for none.
func poolLimits(pool *liveNode) [2]int64 {
	out := [2]int64{-1, -1}
	if l := pool.node.Limit; l != nil {
		if l.CPUMHz != nil {
			out[0] = *l.CPUMHz
		}
		if l.MemoryMB != nil {
			out[1] = *l.MemoryMB
		}
	}
	return out
}

// consumed sums what the VMs and pods under nodes use, and the storage they hold.
func consumed(nodes []*liveNode) (cpu, mem, storage int64) {
	for _, n := range nodes {
		cpu += n.usedCPUMHz
		mem += n.usedMemoryMB
		storage += n.storageMB
		c, m, s := consumed(n.kids)
		cpu, mem, storage = cpu+c, mem+m, storage+s
	}
	return cpu, mem, storage
}

// Interface check: the family is what platform.Families.Resources offers.
var _ platform.Resources = (*Family)(nil)
