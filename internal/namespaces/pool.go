package namespaces

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Shares a namespace's pool gets: normal priority, where a resource pool counts as a 4 vCPU /
// 16 GiB VM (1,000 CPU shares per vCPU, 10 memory shares per MiB; docs/resource-model.md).
const (
	normalPoolCPUShares    = 4000
	normalPoolMemoryShares = 163840
)

// errParentGone says the Supervisor's Namespaces pool is not (or no longer) in the inventory.
var errParentGone = errors.New("the Supervisor's Namespaces resource pool is not in the inventory")

func poolRef(id string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ResourcePool", Value: id}
}

// poolAllocation is the allocation a namespace's pool should have: the quota's CPU (MHz) and
// memory (MiB) limits, unlimited when not set, normal shares, no reservation of its own and an
// expandable reservation, so the pods and VMs inside draw on the cluster.
func poolAllocation(q *ResourceQuota) types.ResourceConfigSpec {
	cpu, mem := int64(-1), int64(-1)
	if q != nil && q.CPULimit != nil {
		cpu = *q.CPULimit
	}
	if q != nil && q.MemoryLimit != nil {
		mem = *q.MemoryLimit
	}
	alloc := func(limit int64, shares int32) types.ResourceAllocationInfo {
		return types.ResourceAllocationInfo{
			Reservation:           types.NewInt64(0),
			ExpandableReservation: types.NewBool(true),
			Limit:                 types.NewInt64(limit),
			Shares:                &types.SharesInfo{Level: types.SharesLevelNormal, Shares: shares},
		}
	}
	return types.ResourceConfigSpec{
		CpuAllocation:    alloc(cpu, normalPoolCPUShares),
		MemoryAllocation: alloc(mem, normalPoolMemoryShares),
	}
}

// allocationDiffers reports whether a pool's allocation is not the wanted one in what wcpd sets.
func allocationDiffers(have, want types.ResourceAllocationInfo) bool {
	limit := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	res := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	level := types.SharesLevel("")
	if have.Shares != nil {
		level = have.Shares.Level
	}
	return limit(have.Limit) != limit(want.Limit) || res(have.Reservation) != res(want.Reservation) ||
		level != want.Shares.Level
}

// findChildPool finds the pool named name directly under parent; nil when there is none. The
// search index looks the name up in the inventory, so the cost does not grow with the number of
// namespaces (reading every child's configuration would, and every namespace's reconcile asks).
func findChildPool(ctx context.Context, c *vim25.Client, parent, name string) (*mo.ResourcePool, error) {
	ref, err := object.NewSearchIndex(c).FindChild(ctx, poolRef(parent), name)
	switch {
	case fault.Is(err, &types.ManagedObjectNotFound{}):
		return nil, errParentGone
	case err != nil:
		return nil, fmt.Errorf("looking for pool %s under %s: %w", name, parent, err)
	case ref == nil || ref.Reference().Type != "ResourcePool":
		return nil, nil // none, or a VM of that name
	}
	var p mo.ResourcePool
	if err := property.DefaultCollector(c).RetrieveOne(ctx, ref.Reference(), []string{"name", "config"}, &p); err != nil {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return nil, nil // removed since it was found
		}
		return nil, fmt.Errorf("reading resource pool %s under %s: %w", name, parent, err)
	}
	return &p, nil
}

// ensurePool makes the namespace's pool exist under parent with the quota's limits and returns its
// MoRef id. An existing pool of that name is the namespace's (one made before a crash, or found
// again after a restart) and is brought to the wanted allocation.
func ensurePool(ctx context.Context, c *vim25.Client, parent, name string, q *ResourceQuota) (string, error) {
	want := poolAllocation(q)
	existing, err := findChildPool(ctx, c, parent, name)
	if err != nil {
		return "", err
	}
	if existing == nil {
		p, err := object.NewResourcePool(c, poolRef(parent)).Create(ctx, name, want)
		if err != nil {
			return "", fmt.Errorf("creating resource pool %s under %s: %w", name, parent, err)
		}
		return p.Reference().Value, nil
	}
	have := existing.Config
	if allocationDiffers(have.CpuAllocation, want.CpuAllocation) || allocationDiffers(have.MemoryAllocation, want.MemoryAllocation) {
		p := object.NewResourcePool(c, existing.Self)
		if err := p.UpdateConfig(ctx, "", &want); err != nil {
			return "", fmt.Errorf("reconfiguring resource pool %s (%s): %w", name, existing.Self.Value, err)
		}
	}
	return existing.Self.Value, nil
}

// removePool destroys the namespace's pool under parent, if it is there. Only that pool goes.
func removePool(ctx context.Context, c *vim25.Client, parent, name string) error {
	existing, err := findChildPool(ctx, c, parent, name)
	if errors.Is(err, errParentGone) || (err == nil && existing == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	task, err := object.NewResourcePool(c, existing.Self).Destroy(ctx)
	if err != nil {
		return fmt.Errorf("removing resource pool %s (%s): %w", name, existing.Self.Value, err)
	}
	if err := task.Wait(ctx); err != nil {
		return fmt.Errorf("removing resource pool %s (%s): %w", name, existing.Self.Value, err)
	}
	return nil
}
