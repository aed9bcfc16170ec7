package inventory

import (
	"slices"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi's simulator relocates a VM (RelocateVM_Task) by changing the VM's pool, host and
// datastores, but leaves the lists of the pools, hosts and datastores as they were: the pool, host
// and datastores it left still list the VM and the ones it moved to do not (it removes each
// destination's own reference from that destination's list, which is never there). What reads
// those lists then sees the VM in two places or none: a pool's VMs in govc, the namespace figures
// a change is followed into (resources), a host's VMs.
//
// The relocation stays the simulator's, with its one task. vmPlacements notes where the VM is as
// the call starts (methodCalled), and moves the VM between the lists when the relocation changes
// it, before its task ends: the registry tells its handlers of a change once it is made, so where
// the VM was must be known before. A restart rebuilds the lists from the VMs anyway
// (linkChildren).

// vmPlacements is the registry handler that mends the lists when the simulator relocates a VM.
type vmPlacements struct {
	mu sync.Mutex
	// was holds where each VM being relocated was, and where it is once relocated (another
	// relocation of it may be waiting for its lock).
	was map[types.ManagedObjectReference]placement
}

// Reference names the handler in the registry's handler table.
func (p *vmPlacements) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdVMPlacements", Value: "vms"}
}

// methodCalled is told of every SOAP method as it starts (countChanges): for a relocation, it notes
// where the VM is. It takes the VM's lock to read it, which waits for a relocation of the VM in
// progress (its task holds the lock until it ends).
func (p *vmPlacements) methodCalled(ctx *simulator.Context, method *simulator.Method) {
	if method.Name != "RelocateVM_Task" {
		return
	}
	vm, ok := ctx.Map.Get(method.This).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var now placement
	ctx.WithLock(vm, func() { now = placementOf(&vm.VirtualMachine) })
	p.mu.Lock()
	p.was[vm.Self] = now
	p.mu.Unlock()
}

func (p *vmPlacements) PutObject(*simulator.Context, mo.Reference) {}

// UpdateObject moves a VM being relocated between the lists once its pool, host or datastores
// changed.
func (p *vmPlacements) UpdateObject(ctx *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok || !slices.ContainsFunc(changes, movesVM) {
		return
	}
	after := placementOf(vm)
	p.mu.Lock()
	before, relocating := p.was[vm.Self]
	if relocating {
		p.was[vm.Self] = after
	}
	p.mu.Unlock()
	if !relocating {
		return
	}
	for _, left := range before.except(after) {
		moveInList(ctx, left, vm.Self, false)
	}
	for _, joined := range after.except(before) {
		moveInList(ctx, joined, vm.Self, true)
	}
}

// RemoveObject forgets a removed VM.
func (p *vmPlacements) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if ref.Type == "VirtualMachine" {
		p.mu.Lock()
		delete(p.was, ref)
		p.mu.Unlock()
	}
}

// movesVM reports whether a change of a VM's property changes what lists it.
func movesVM(c types.PropertyChange) bool {
	return c.Name == "resourcePool" || c.Name == "runtime.host" || c.Name == "datastore"
}

// placement is what lists a VM: its pool, host and datastores.
type placement []types.ManagedObjectReference

func placementOf(vm *mo.VirtualMachine) placement {
	var p placement
	if vm.ResourcePool != nil {
		p = append(p, *vm.ResourcePool)
	}
	if vm.Runtime.Host != nil {
		p = append(p, *vm.Runtime.Host)
	}
	return append(p, vm.Datastore...)
}

// except is what p has and other does not.
func (p placement) except(other placement) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, ref := range p {
		if !slices.Contains(other, ref) {
			out = append(out, ref)
		}
	}
	return out
}

// moveInList adds vm to the VM list of the object ref names, or removes it from there.
func moveInList(ctx *simulator.Context, ref, vm types.ManagedObjectReference, add bool) {
	obj := ctx.Map.Get(ref)
	if obj == nil {
		return
	}
	v, ok := managedObject(obj)
	if !ok {
		return
	}
	list := vmList(v.Addr().Interface())
	if list == nil {
		return
	}
	if add {
		ctx.Map.AddReference(ctx, obj, list, vm)
	} else {
		ctx.Map.RemoveReference(ctx, obj, list, vm)
	}
}
