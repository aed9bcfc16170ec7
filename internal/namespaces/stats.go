package namespaces

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/platform"
)

// statsOf reports what each namespace uses. With the resources family present its resource model
// answers; otherwise the figures come from what runs in each namespace's resource pool (and the
// pools below it) in the inventory:
//
//   - cpu_used: per powered-on VM, the CPU usage vSphere reports for it, or, where it reports none
//     (the embedded simulator measures nothing), its vCPUs at its host's core speed;
//   - memory_used: per powered-on VM, the guest memory usage vSphere reports, or its configured
//     memory;
//   - storage_used: per VM, powered on or not, the datastore space it holds: what its files take
//     plus what its thin disks may still grow into (vSphere's committed and uncommitted storage),
//     which is what a storage quota counts a volume against.
func (f *Family) statsOf(ctx context.Context, recs []*record) (map[string]Stats, error) {
	out := make(map[string]Stats, len(recs))
	if res := f.deps.Families.Resources; res != nil {
		// A get asks for one namespace: its own pool is read, not its whole cluster (lists go
		// through listStats).
		for _, r := range recs {
			u, err := res.NamespaceUsage(ctx, r.Cluster, r.Name)
			if err != nil {
				return nil, fmt.Errorf("usage of namespace %s: %w", r.Name, err)
			}
			out[r.Name] = statsFrom(u)
		}
		return out, nil
	}
	byParent := map[string][]string{}
	for _, r := range recs {
		out[r.Name] = Stats{}
		if sup, ok := f.supervisorOf(r.Cluster); ok && sup.NamespacesPool != "" {
			byParent[sup.NamespacesPool] = append(byParent[sup.NamespacesPool], r.Name)
		}
	}
	for parent, names := range byParent {
		if err := f.poolStats(ctx, parent, names, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listStats is statsOf for a list, in the records' order, from the figures of their clusters.
func listStats(recs []*record, figures func(cluster string) platform.NamespaceFigures) []Stats {
	out := make([]Stats, len(recs))
	for i, r := range recs {
		out[i] = statsFrom(figures(r.Cluster).ByName[r.Name])
	}
	return out
}

func statsFrom(u platform.Usage) Stats {
	return Stats{CPUUsed: u.CPUUsedMHz, MemoryUsed: u.MemoryUsedMB, StorageUsed: u.StorageUsedMB}
}

// poolStats adds up what runs under the pools of the named namespaces below parent.
func (f *Family) poolStats(ctx context.Context, parent string, names []string, out map[string]Stats) error {
	c := f.deps.Inventory.Client()
	v, err := view.NewManager(c).CreateContainerView(ctx, poolRef(parent), []string{"ResourcePool", "VirtualMachine"}, true)
	if err != nil {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return nil // the Namespaces pool is not there (yet): nothing runs
		}
		return fmt.Errorf("viewing resource pool %s: %w", parent, err)
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()

	var pools []mo.ResourcePool
	if err := v.Retrieve(ctx, []string{"ResourcePool"}, []string{"name", "parent"}, &pools); err != nil {
		return fmt.Errorf("reading the pools under %s: %w", parent, err)
	}
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	// owner maps every pool below parent to the namespace whose pool it is or lies under.
	parentOf := map[string]string{}
	nameOf := map[string]string{}
	for _, p := range pools {
		nameOf[p.Self.Value] = p.Name
		if p.Parent != nil {
			parentOf[p.Self.Value] = p.Parent.Value
		}
	}
	owner := func(pool string) string {
		for seen := 0; pool != "" && seen < len(pools)+1; seen++ {
			if parentOf[pool] == parent {
				if wanted[nameOf[pool]] {
					return nameOf[pool]
				}
				return ""
			}
			pool = parentOf[pool]
		}
		return ""
	}

	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"resourcePool", "summary"}, &vms); err != nil {
		return fmt.Errorf("reading the VMs under %s: %w", parent, err)
	}
	mhz, err := hostCoreMHz(ctx, f, vms)
	if err != nil {
		return err
	}
	for _, vm := range vms {
		if vm.ResourcePool == nil {
			continue
		}
		ns := owner(vm.ResourcePool.Value)
		if ns == "" {
			continue
		}
		s := out[ns]
		sum := vm.Summary
		if sum.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			if used := int64(sum.QuickStats.OverallCpuUsage); used > 0 {
				s.CPUUsed += used
			} else if sum.Runtime.Host != nil {
				s.CPUUsed += int64(sum.Config.NumCpu) * mhz[sum.Runtime.Host.Value]
			}
			if used := int64(sum.QuickStats.GuestMemoryUsage); used > 0 {
				s.MemoryUsed += used
			} else {
				s.MemoryUsed += int64(sum.Config.MemorySizeMB)
			}
		}
		if sum.Storage != nil {
			s.StorageUsed += (sum.Storage.Committed + sum.Storage.Uncommitted) / (1 << 20)
		}
		out[ns] = s
	}
	return nil
}

// hostCoreMHz reads the core speed of the hosts the VMs run on.
func hostCoreMHz(ctx context.Context, f *Family, vms []mo.VirtualMachine) (map[string]int64, error) {
	seen := map[types.ManagedObjectReference]bool{}
	var refs []types.ManagedObjectReference
	for _, vm := range vms {
		if h := vm.Summary.Runtime.Host; h != nil && !seen[*h] {
			seen[*h] = true
			refs = append(refs, *h)
		}
	}
	out := map[string]int64{}
	if len(refs) == 0 {
		return out, nil
	}
	var hosts []mo.HostSystem
	if err := property.DefaultCollector(f.deps.Inventory.Client()).Retrieve(ctx, refs, []string{"summary"}, &hosts); err != nil {
		return nil, fmt.Errorf("reading hosts: %w", err)
	}
	for _, h := range hosts {
		if h.Summary.Hardware != nil {
			out[h.Self.Value] = int64(h.Summary.Hardware.CpuMhz)
		}
	}
	return out, nil
}
