package inventory

import (
	"context"
	"fmt"
	"slices"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// PoolTree is what the resource model reads of a resource pool tree: every resource pool and VM
// below a root pool, with only the properties the model uses. It is read from the embedded
// inventory in process: through the property collector a tree of 10,000 pools costs over a second
// (the simulator copies each object through XML, and the client decodes it again); in process it
// is a copy of a few fields per object, into values that hold no pointers.
type PoolTree struct {
	Root  TreePool   // the root pool itself
	Pools []TreePool // the pools below the root
	VMs   []TreeVM   // the VMs below the root
}

// TreePool is a resource pool as PoolTree reads it.
type TreePool struct {
	ID, Name, Parent string // MoRef values; Parent is "" for a pool without one
	CPU, Memory      Allocation
	// ScaleDescendantsShares is the config's scaleDescendantsShares.
	ScaleDescendantsShares string
}

// TreeVM is a VM as PoolTree reads it.
type TreeVM struct {
	ID, Name, Pool string // Pool is the MoRef value of its resource pool, "" for none
	// Configured says the VM has a configuration; a VM being created has none yet, and the
	// fields below it come from there.
	Configured       bool
	NumCPU, MemoryMB int32
	CPU, Memory      Allocation
	GuestID          string
	PowerState       types.VirtualMachinePowerState
	Host             string // the host it runs on, "" for none
	// OverallCPUUsage (MHz) and HostMemoryUsage (MB) are its quick stats.
	OverallCPUUsage, HostMemoryUsage int32
	// StorageBytes is what its storage summary says it holds, committed and uncommitted.
	StorageBytes int64
}

// Allocation is a CPU or memory allocation with vSphere's meaning of unset fields applied: no
// reservation is 0, no limit is -1 (unlimited), an unset expandable reservation is expandable,
// unset shares are the NORMAL level.
type Allocation struct {
	Reservation, Limit int64
	Expandable         bool
	Shares             types.SharesInfo
}

// AllocationOf reads a vSphere allocation as Allocation; nil is an allocation with nothing set.
func AllocationOf(a *types.ResourceAllocationInfo) Allocation {
	out := Allocation{Limit: -1, Expandable: true, Shares: types.SharesInfo{Level: types.SharesLevelNormal}}
	if a == nil {
		return out
	}
	if a.Reservation != nil {
		out.Reservation = *a.Reservation
	}
	if a.Limit != nil {
		out.Limit = *a.Limit
	}
	if a.ExpandableReservation != nil {
		out.Expandable = *a.ExpandableReservation
	}
	if a.Shares != nil {
		out.Shares = *a.Shares
	}
	return out
}

// TreePoolOf is what PoolTree keeps of a pool.
func TreePoolOf(p *mo.ResourcePool) TreePool {
	out := TreePool{ID: p.Self.Value, Name: p.Name,
		CPU: AllocationOf(&p.Config.CpuAllocation), Memory: AllocationOf(&p.Config.MemoryAllocation),
		ScaleDescendantsShares: p.Config.ScaleDescendantsShares}
	if p.Parent != nil {
		out.Parent = p.Parent.Value
	}
	return out
}

// TreeVMOf is what PoolTree keeps of a VM.
func TreeVMOf(vm *mo.VirtualMachine) TreeVM {
	out := TreeVM{ID: vm.Self.Value, Name: vm.Name, PowerState: vm.Runtime.PowerState,
		OverallCPUUsage: vm.Summary.QuickStats.OverallCpuUsage, HostMemoryUsage: vm.Summary.QuickStats.HostMemoryUsage,
		CPU: AllocationOf(nil), Memory: AllocationOf(nil)}
	if vm.ResourcePool != nil {
		out.Pool = vm.ResourcePool.Value
	}
	if vm.Runtime.Host != nil {
		out.Host = vm.Runtime.Host.Value
	}
	if st := vm.Summary.Storage; st != nil {
		out.StorageBytes = st.Committed + st.Uncommitted
	}
	if c := vm.Config; c != nil {
		out.Configured = true
		out.NumCPU, out.MemoryMB, out.GuestID = c.Hardware.NumCPU, c.Hardware.MemoryMB, c.GuestId
		out.CPU, out.Memory = AllocationOf(c.CpuAllocation), AllocationOf(c.MemoryAllocation)
	}
	return out
}

// ReadPoolTree reads the pools and VMs below the resource pool root (a MoRef value), in the order
// a recursive container view over them lists them. A root that is not a resource pool in the
// inventory wraps ErrNotFound.
func (inv *Inventory) ReadPoolTree(ctx context.Context, root string) (*PoolTree, error) {
	m := inv.svc.Context.Map
	// A context of its own: the simulator's object locks are reentrant per context, so two
	// readers sharing one would not exclude each other's writers. Objects are locked by their
	// reference, which spares the simulator looking their reference up by reflection.
	lock := &simulator.Context{Context: ctx, Map: m}
	rootRef := types.ManagedObjectReference{Type: "ResourcePool", Value: root}
	rootObj, ok := m.Get(rootRef).(*simulator.ResourcePool)
	if !ok {
		return nil, fmt.Errorf("resource pool %s: %w", root, ErrNotFound)
	}
	// Sized as the last read of the same root found it: at 10,000 pools the slices' growth was a
	// good part of what a read allocated.
	t := &PoolTree{}
	if last, ok := inv.treeSizes.Load(root); ok {
		size := last.([2]int)
		t.Pools, t.VMs = make([]TreePool, 0, size[0]), make([]TreeVM, 0, size[1])
	}
	var kids []types.ManagedObjectReference
	m.WithLock(lock, rootRef, func() {
		t.Root = TreePoolOf(&rootObj.ResourcePool)
		kids = childrenOf(&rootObj.ResourcePool)
	})
	// Depth first, children in list order, as the simulator's container view walks them.
	var walk func(refs []types.ManagedObjectReference)
	walk = func(refs []types.ManagedObjectReference) {
		for _, ref := range refs {
			var below []types.ManagedObjectReference
			switch obj := m.Get(ref).(type) {
			case *simulator.ResourcePool:
				m.WithLock(lock, ref, func() {
					t.Pools = append(t.Pools, TreePoolOf(&obj.ResourcePool))
					below = childrenOf(&obj.ResourcePool)
				})
			case *simulator.VirtualApp:
				// Walked through but not listed, as a view over pools and VMs does.
				m.WithLock(lock, ref, func() { below = childrenOf(&obj.VirtualApp.ResourcePool) })
			case *simulator.VirtualMachine:
				m.WithLock(lock, ref, func() { t.VMs = append(t.VMs, TreeVMOf(&obj.VirtualMachine)) })
			}
			walk(below)
		}
	}
	walk(kids)
	inv.treeSizes.Store(root, [2]int{len(t.Pools), len(t.VMs)})
	return t, ctx.Err()
}

func childrenOf(p *mo.ResourcePool) []types.ManagedObjectReference {
	if len(p.Vm) == 0 {
		return slices.Clone(p.ResourcePool)
	}
	return append(slices.Clone(p.ResourcePool), p.Vm...)
}

// ReadPool reads the resource pool id in process, as PoolTree reads pools; false when the
// inventory has no resource pool of that id. A controller checking a pool it knows by id (every
// namespace's, after a restart) spares a SOAP round trip.
func (inv *Inventory) ReadPool(id string) (TreePool, bool) {
	var out TreePool
	ok := inv.withPool(id, func(p *mo.ResourcePool) { out = TreePoolOf(p) })
	return out, ok
}

// withPool runs read on the resource pool id under its lock; false when there is no such pool.
func (inv *Inventory) withPool(id string, read func(*mo.ResourcePool)) bool {
	m := inv.svc.Context.Map
	ref := types.ManagedObjectReference{Type: "ResourcePool", Value: id}
	obj, ok := m.Get(ref).(*simulator.ResourcePool)
	if ok {
		m.WithLock(&simulator.Context{Context: context.Background(), Map: m}, ref, func() { read(&obj.ResourcePool) })
	}
	return ok
}

// PoolChildren reads the children of the resource pool id in process: its pools (and vApps), then
// its VMs; false when the inventory has no resource pool of that id.
func (inv *Inventory) PoolChildren(id string) ([]types.ManagedObjectReference, bool) {
	var out []types.ManagedObjectReference
	ok := inv.withPool(id, func(p *mo.ResourcePool) { out = childrenOf(p) })
	return out, ok
}

// ChildOnPath reports which child of the resource pool ancestor holds the pool or VM ref as the
// inventory has it now: ref itself when it is a child of ancestor, else the child whose subtree
// holds it. False when ref no longer exists or is not below ancestor.
func (inv *Inventory) ChildOnPath(ref types.ManagedObjectReference, ancestor string) (types.ManagedObjectReference, bool) {
	m := inv.svc.Context.Map
	lock := &simulator.Context{Context: context.Background(), Map: m}
	cur := ref
	for range maxPoolDepth {
		var parent *types.ManagedObjectReference
		switch obj := m.Get(cur).(type) {
		case *simulator.ResourcePool:
			m.WithLock(lock, cur, func() { parent = obj.Parent })
		case *simulator.VirtualApp:
			m.WithLock(lock, cur, func() { parent = obj.Parent })
		case *simulator.VirtualMachine:
			m.WithLock(lock, cur, func() { parent = obj.ResourcePool })
		default:
			return types.ManagedObjectReference{}, false
		}
		if parent == nil {
			return types.ManagedObjectReference{}, false
		}
		if parent.Type == "ResourcePool" && parent.Value == ancestor {
			return cur, true
		}
		cur = *parent
	}
	return types.ManagedObjectReference{}, false
}

// maxPoolDepth bounds the walk up a pool tree (vSphere allows 8 levels of pools below a cluster's).
const maxPoolDepth = 16
