package inventory

import (
	"slices"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi's simulator relocates a VM (RelocateVM_Task) by changing the VM's pool, host and
// datastores, but leaves the lists of the pools, hosts and datastores as they were: the pool, host
// and datastores it left still list the VM and the ones it moved to do not (it removes each
// destination's own reference from that destination's list, which is never there). What reads
// those lists then sees the VM in two places or none: a pool's VMs in govc, the namespace figures
// a change is followed into (resources), a host's VMs. The inventory serves RelocateVM_Task by
// running the simulator's relocation and then moving the VM between the lists; a restart rebuilds
// the lists from the VMs anyway (linkChildren).

// vmRelocatorRef names the session's vmRelocator (addedMethods).
var vmRelocatorRef = types.ManagedObjectReference{Type: "WcpdVMRelocator", Value: "vm-relocator"}

// vmRelocator serves RelocateVM_Task for the VM its request names.
type vmRelocator struct {
	Self types.ManagedObjectReference
}

// Reference is the relocator's own reference.
func (r *vmRelocator) Reference() types.ManagedObjectReference { return r.Self }

// RelocateVMTask serves RelocateVM_Task.
func (r *vmRelocator) RelocateVMTask(ctx *simulator.Context, req *types.RelocateVM_Task) soap.HasFault {
	vm, ok := ctx.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		return &methods.RelocateVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.This})}
	}
	task := simulator.CreateTask(vm, "relocateVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		before := placementOf(vm)
		res, ok := vm.RelocateVMTask(ctx, req).(*methods.RelocateVM_TaskBody)
		if !ok || res.Res == nil {
			return nil, &types.RuntimeFault{}
		}
		if _, fault := awaitTask(ctx, res.Res.Returnval); fault != nil {
			return nil, fault
		}
		after := placementOf(vm)
		for _, left := range before.except(after) {
			moveInList(ctx, left, vm.Self, false)
		}
		for _, joined := range after.except(before) {
			moveInList(ctx, joined, vm.Self, true)
		}
		return nil, nil
	})
	return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: task.Run(ctx)}}
}

// placement is what lists a VM: its pool, host and datastores.
type placement []types.ManagedObjectReference

func placementOf(vm *simulator.VirtualMachine) placement {
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
