package namespaces

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
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
func allocationDiffers(have inventory.Allocation, want types.ResourceAllocationInfo) bool {
	return have.Limit != *want.Limit || have.Reservation != *want.Reservation || have.Shares.Level != want.Shares.Level
}

// findChildPool finds the pool named name directly under parent; nil when there is none. The
// search index looks the name up in the inventory, so the cost does not grow with the number of
// namespaces (reading every child's configuration would, and every namespace's reconcile asks).
func findChildPool(ctx context.Context, inv *inventory.Inventory, parent, name string) (*inventory.TreePool, error) {
	ref, err := object.NewSearchIndex(inv.Client()).FindChild(ctx, poolRef(parent), name)
	switch {
	case fault.Is(err, &types.ManagedObjectNotFound{}):
		return nil, errParentGone
	case err != nil:
		return nil, fmt.Errorf("looking for pool %s under %s: %w", name, parent, err)
	case ref == nil || ref.Reference().Type != "ResourcePool":
		return nil, nil // none, or a VM of that name
	}
	found, ok := inv.ReadPool(ref.Reference().Value)
	if !ok {
		return nil, nil // removed since it was found
	}
	return &found, nil
}

// knownChildPool reads the pool whose id is known, in process; nil when there is no such id, or
// when that pool is no longer name directly under parent (removed, and the id given again).
func knownChildPool(inv *inventory.Inventory, parent, name, known string) *inventory.TreePool {
	if known == "" {
		return nil
	}
	p, ok := inv.ReadPool(known)
	if !ok || p.Name != name || p.Parent != parent {
		return nil
	}
	return &p
}

// ensurePool makes the namespace's pool exist under parent with the quota's limits and returns its
// MoRef id. An existing pool of that name is the namespace's (one made before a crash, or found
// again after a restart) and is brought to the wanted allocation.
//
// known is the pool the namespace's status names ("" when it has never had one). It spares the
// search of parent's children, which costs what their number does: a namespace that never had a
// pool has it created straight away (looked up only when one of that name is there after all), one
// that had is read by its id in process. A burst of creations then costs one call per namespace,
// and a restart with thousands of namespaces none.
func ensurePool(ctx context.Context, inv *inventory.Inventory, parent, name string, q *ResourceQuota, known string) (string, error) {
	c := inv.Client()
	want := poolAllocation(q)
	if known == "" {
		id, taken, err := createPool(ctx, c, parent, name, want)
		if !taken {
			return id, err
		}
		// Made before a crash that came before the namespace's status said so: look it up.
	}
	existing := knownChildPool(inv, parent, name, known)
	if existing == nil {
		var err error
		if existing, err = findChildPool(ctx, inv, parent, name); err != nil {
			return "", err
		}
	}
	if existing == nil {
		id, _, err := createPool(ctx, c, parent, name, want)
		return id, err
	}
	if allocationDiffers(existing.CPU, want.CpuAllocation) || allocationDiffers(existing.Memory, want.MemoryAllocation) {
		if err := object.NewResourcePool(c, poolRef(existing.ID)).UpdateConfig(ctx, "", &want); err != nil {
			return "", fmt.Errorf("reconfiguring resource pool %s (%s): %w", name, existing.ID, err)
		}
	}
	return existing.ID, nil
}

// createPool creates the pool name under parent and returns its MoRef id; taken reports that the
// name is already taken there (with the error that says so). A parent that is gone is errParentGone.
func createPool(ctx context.Context, c *vim25.Client, parent, name string, want types.ResourceConfigSpec) (id string, taken bool, err error) {
	p, err := object.NewResourcePool(c, poolRef(parent)).Create(ctx, name, want)
	switch {
	case err == nil:
		return p.Reference().Value, false, nil
	case fault.Is(err, &types.ManagedObjectNotFound{}):
		return "", false, errParentGone
	}
	return "", fault.Is(err, &types.DuplicateName{}), fmt.Errorf("creating resource pool %s under %s: %w", name, parent, err)
}

// removePool destroys the namespace's pool under parent, if it is there. Only that pool goes.
func removePool(ctx context.Context, inv *inventory.Inventory, parent, name string) error {
	c := inv.Client()
	existing, err := findChildPool(ctx, inv, parent, name)
	if errors.Is(err, errParentGone) || (err == nil && existing == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	task, err := object.NewResourcePool(c, poolRef(existing.ID)).Destroy(ctx)
	if err != nil {
		return fmt.Errorf("removing resource pool %s (%s): %w", name, existing.ID, err)
	}
	if err := task.Wait(ctx); err != nil {
		return fmt.Errorf("removing resource pool %s (%s): %w", name, existing.ID, err)
	}
	return nil
}
