package inventory

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// govmomi's simulator does not implement VirtualMachine.InstantClone_Task; the inventory adds it.
// The simulator dispatches a call to the object its This names, and a session's calls always
// reach the simulator's own VM object, so the method hook (countChanges) hands the call to an
// instantCloner instead, kept in the caller's session registry, which has no listeners: the VM
// stays the simulator's, untouched. The cloner finds the VM by the request's own This.
//
// An instant clone is the simulator's clone, powered on, of a running VM, on the same host: in the
// location's folder (the source's by default), pool and datastore, with its device changes (NIC
// backings, connection state), BIOS UUID and extra configuration. Memory and disk state are not
// modelled, so nothing is shared with the source.

// instantClonerRef names the session's instantCloner.
var instantClonerRef = types.ManagedObjectReference{Type: "WcpdInstantCloner", Value: "instant-cloner"}

// addedMethods sends the VM methods the inventory adds to the simulator to their handler in the
// caller's session.
func addedMethods(ctx *simulator.Context, method *simulator.Method) {
	if method.Name != "InstantClone_Task" || ctx.Session == nil {
		return
	}
	handler := &instantCloner{Self: instantClonerRef}
	if _, isVM := ctx.Map.Get(method.This).(*simulator.VirtualMachine); !isVM {
		return
	}
	if ctx.Session.Registry.Get(handler.Reference()) == nil {
		ctx.Session.Put(handler)
	}
	method.This = handler.Reference()
}

// instantCloner serves InstantClone_Task for the VM its request names.
type instantCloner struct {
	Self types.ManagedObjectReference
}

// Reference is the cloner's own reference.
func (c *instantCloner) Reference() types.ManagedObjectReference { return c.Self }

// InstantCloneTask serves InstantClone_Task.
func (c *instantCloner) InstantCloneTask(ctx *simulator.Context, req *types.InstantClone_Task) soap.HasFault {
	vm, ok := ctx.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		return &methods.InstantClone_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.This})}
	}
	task := simulator.CreateTask(vm, "instantClone", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if state := vm.Runtime.PowerState; state != types.VirtualMachinePowerStatePoweredOn {
			return nil, &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: state}
		}
		if req.Spec.Name == "" {
			return nil, &types.InvalidArgument{InvalidProperty: "spec.name"}
		}
		folder := vm.Parent
		if req.Spec.Location.Folder != nil {
			folder = req.Spec.Location.Folder
		}
		location := req.Spec.Location
		location.Host = vm.Runtime.Host // an instant clone runs where its source runs
		clone := &types.CloneVM_Task{
			This: vm.Self, Folder: *folder, Name: req.Spec.Name,
			Spec: types.VirtualMachineCloneSpec{
				Location: location, PowerOn: true,
				Config: &types.VirtualMachineConfigSpec{Uuid: req.Spec.BiosUuid, ExtraConfig: req.Spec.Config},
			},
		}
		res, ok := vm.CloneVMTask(ctx, clone).(*methods.CloneVM_TaskBody)
		if !ok || res.Res == nil {
			return nil, &types.RuntimeFault{}
		}
		return awaitTask(ctx, res.Res.Returnval)
	})
	return &methods.InstantClone_TaskBody{Res: &types.InstantClone_TaskResponse{Returnval: task.Run(ctx)}}
}

// awaitTask waits for the simulator's task ref to end and answers its result or its fault.
func awaitTask(ctx *simulator.Context, ref types.ManagedObjectReference) (types.AnyType, types.BaseMethodFault) {
	t, ok := ctx.Map.Get(ref).(*simulator.Task)
	if !ok {
		return nil, &types.RuntimeFault{}
	}
	t.Wait()
	if t.Info.Error != nil {
		return nil, t.Info.Error.Fault
	}
	return t.Info.Result, nil
}
