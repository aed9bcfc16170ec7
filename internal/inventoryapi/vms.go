package inventoryapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/vapi"
)

// PowerState is vcenter.vm.Power.State.
type PowerState string

// EnumValues lists the accepted values.
func (PowerState) EnumValues() []string { return enumValues("com.vmware.vcenter.vm.power.state") }

var powerStateOf = map[types.VirtualMachinePowerState]PowerState{
	types.VirtualMachinePowerStatePoweredOn: "POWERED_ON", types.VirtualMachinePowerStatePoweredOff: "POWERED_OFF",
	types.VirtualMachinePowerStateSuspended: "SUSPENDED",
}

// VMFilter is vcenter.VM.FilterSpec.
type VMFilter struct {
	VMs           []string     `json:"vms,omitempty"`
	Names         []string     `json:"names,omitempty"`
	Folders       []string     `json:"folders,omitempty"`
	Datacenters   []string     `json:"datacenters,omitempty"`
	Hosts         []string     `json:"hosts,omitempty"`
	Clusters      []string     `json:"clusters,omitempty"`
	ResourcePools []string     `json:"resource_pools,omitempty"`
	PowerStates   []PowerState `json:"power_states,omitempty"`
}

// VMSummary is vcenter.VM.Summary.
type VMSummary struct {
	VM         string     `json:"vm"`
	Name       string     `json:"name"`
	PowerState PowerState `json:"power_state"`
	CPUCount   *int64     `json:"cpu_count,omitempty"`
	MemoryMiB  *int64     `json:"memory_size_MiB,omitempty"`
}

// vmList answers the VMs (templates are not VMs here, as in vCenter's list).
func (f *Family) vmList(c *vapi.Call) (any, error) {
	var fl VMFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Folders)+len(fl.Datacenters)+len(fl.Clusters) > 0)
	if err != nil {
		return nil, err
	}
	var vms []mo.VirtualMachine
	props := []string{"name", "parent", "resourcePool", "runtime.host", "runtime.powerState", "config.template", "config.hardware.numCPU", "config.hardware.memoryMB"}
	if err := f.retrieve(c.Ctx, "VirtualMachine", props, &vms); err != nil {
		return nil, err
	}
	match := filter{ids: fl.VMs, names: fl.Names, folders: fl.Folders, datacenters: fl.Datacenters}
	out := []VMSummary{}
	for _, vm := range vms {
		if vm.Config != nil && vm.Config.Template {
			continue
		}
		var host, pool string
		if vm.Runtime.Host != nil {
			host = vm.Runtime.Host.Value
		}
		if vm.ResourcePool != nil {
			pool = vm.ResourcePool.Value
		}
		state := powerStateOf[vm.Runtime.PowerState]
		switch {
		case !match.admits(t, vm.Self.Value, vm.Name),
			len(fl.Hosts) > 0 && !slices.Contains(fl.Hosts, host),
			len(fl.Clusters) > 0 && !slices.Contains(fl.Clusters, t[host].parent),
			len(fl.ResourcePools) > 0 && !slices.Contains(fl.ResourcePools, pool),
			len(fl.PowerStates) > 0 && !slices.Contains(fl.PowerStates, state):
			continue
		}
		s := VMSummary{VM: vm.Self.Value, Name: vm.Name, PowerState: state}
		if vm.Config != nil {
			cpus, mem := int64(vm.Config.Hardware.NumCPU), int64(vm.Config.Hardware.MemoryMB)
			s.CPUCount, s.MemoryMiB = &cpus, &mem
		}
		out = append(out, s)
	}
	byID(out, func(s VMSummary) string { return s.VM })
	return limited("VMs", out)
}

// stoppedVM returns the VM of the call's path, NOT_FOUND when there is none and
// NOT_ALLOWED_IN_CURRENT_STATE while it is powered on (vCenter's answers for delete and unregister).
func (f *Family) stoppedVM(c *vapi.Call, doing string) (*object.VirtualMachine, error) {
	id := c.Path("vm")
	var vm mo.VirtualMachine
	if err := f.get(c.Ctx, "VirtualMachine", "VM", id, []string{"name", "runtime.powerState"}, &vm); err != nil {
		return nil, err
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		return nil, vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.vm.powered_on",
			"VM %s (%s) is %s; power it off before %s it.", id, vm.Name, powerStateOf[vm.Runtime.PowerState], doing)
	}
	return object.NewVirtualMachine(f.deps.Inventory.Client(), vm.Self), nil
}

func (f *Family) vmDelete(c *vapi.Call) (any, error) {
	vm, err := f.stoppedVM(c, "deleting")
	if err != nil {
		return nil, err
	}
	task, err := vm.Destroy(c.Ctx)
	if err == nil {
		err = task.Wait(c.Ctx)
	}
	return nil, err
}

func (f *Family) vmUnregister(c *vapi.Call) (any, error) {
	vm, err := f.stoppedVM(c, "unregistering")
	if err != nil {
		return nil, err
	}
	return nil, vm.Unregister(c.Ctx)
}

// RegisterSpec is vcenter.VM.RegisterSpec.
type RegisterSpec struct {
	Datastore     *string                `json:"datastore"`
	Path          *string                `json:"path"`
	DatastorePath *string                `json:"datastore_path"`
	Name          *string                `json:"name"`
	Placement     *RegisterPlacementSpec `json:"placement"`
}

// RegisterPlacementSpec is vcenter.VM.RegisterPlacementSpec.
type RegisterPlacementSpec struct {
	Folder       *string `json:"folder"`
	ResourcePool *string `json:"resource_pool"`
	Host         *string `json:"host"`
	Cluster      *string `json:"cluster"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// vmRegister adds the VM whose configuration file the spec names to the inventory: in the
// placement's folder (the datacenter's VM folder by default) and resource pool (the placement's
// cluster's or host's root pool, else the first cluster's).
func (f *Family) vmRegister(c *vapi.Call) (any, error) {
	var spec RegisterSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	file := deref(spec.DatastorePath)
	if file == "" {
		var ds mo.Datastore
		if spec.Datastore == nil || spec.Path == nil {
			return nil, vapi.InvalidArgument("spec.datastore_path", "", "give datastore_path, or datastore and path")
		}
		if err := f.get(c.Ctx, "Datastore", "Datastore", *spec.Datastore, []string{"name"}, &ds); err != nil {
			return nil, err
		}
		file = fmt.Sprintf("[%s] %s", ds.Name, strings.TrimPrefix(*spec.Path, "/"))
	} else if spec.Datastore != nil || spec.Path != nil {
		return nil, vapi.InvalidArgument("spec.datastore_path", file, "give datastore_path or datastore and path, not both")
	}
	p := placementSpec{}
	if pl := spec.Placement; pl != nil {
		p = placementSpec{Folder: pl.Folder, ResourcePool: pl.ResourcePool, Host: pl.Host, Cluster: pl.Cluster}
	}
	place, err := f.resolvePlacement(c.Ctx, p, "spec.placement")
	if err != nil {
		return nil, err
	}
	folder := place.folderObject(f)
	if folder == nil {
		dc, err := find.NewFinder(f.deps.Inventory.Client()).DefaultDatacenter(c.Ctx)
		if err != nil {
			return nil, err
		}
		folders, err := dc.Folders(c.Ctx)
		if err != nil {
			return nil, err
		}
		folder = folders.VmFolder
	}
	if place.pool == nil {
		clusters, err := f.deps.Inventory.Clusters(c.Ctx)
		if err != nil || len(clusters) == 0 {
			return nil, vapi.InvalidArgument("spec.placement.resource_pool", "", "name a resource pool, cluster or host to place the VM in")
		}
		place.pool = &types.ManagedObjectReference{Type: "ResourcePool", Value: clusters[0].ResourcePool}
	}
	task, err := folder.RegisterVM(c.Ctx, file, deref(spec.Name), false, place.poolObject(f), place.hostObject(f))
	if err != nil {
		return nil, registerError(err, file)
	}
	res, err := task.WaitForResult(c.Ctx)
	if err != nil {
		return nil, registerError(err, file)
	}
	ref, ok := res.Result.(types.ManagedObjectReference)
	if !ok {
		return nil, fmt.Errorf("registering %s answered %T", file, res.Result)
	}
	return ref.Value, nil
}

// registerError says what about the file was wrong, by the fault the task ended with; the rest is
// an internal error.
func registerError(err error, file string) error {
	switch {
	case fault.Is(err, &types.NotFound{}), fault.Is(err, &types.FileNotFound{}), fault.Is(err, &types.ManagedObjectNotFound{}):
		return vapi.Errorf(vapi.ErrorNotFound, "wcpd.vm.register.not_found", "No VM configuration file %s, or no such placement.", file)
	case fault.Is(err, &types.AlreadyExists{}), fault.Is(err, &types.DuplicateName{}):
		return vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.vm.register.exists", "A VM of that name, or from %s, is already registered.", file)
	case fault.Is(err, &types.InvalidArgument{}), fault.Is(err, &types.InvalidDatastore{}), fault.Is(err, &types.InvalidDatastorePath{}):
		return vapi.InvalidArgument("spec.datastore_path", file, err.Error())
	}
	return err
}
