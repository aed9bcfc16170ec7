package inventoryapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// vcenter.VM's create, clone, relocate and instant_clone: each builds the vSphere spec from the
// vAPI one, checks what it names, and runs the vSphere task through govmomi, answering when the
// task has ended (the $task variants, which answer a task id, are not served: docs/inventory.md).

// maxVMName is the longest VM name vSphere takes.
const maxVMName = 80

// checkVMName refuses an empty or overlong name, naming field.
func checkVMName(field, name string) error {
	if name == "" || len([]rune(name)) > maxVMName {
		return vapi.InvalidArgument(field, name, fmt.Sprintf("a VM name has 1 to %d characters", maxVMName))
	}
	return nil
}

// nameTaken answers ALREADY_EXISTS, naming both, when an entity of folder is called name
// (vSphere's names are unique within a folder).
func (f *Family) nameTaken(ctx context.Context, folder types.ManagedObjectReference, name string) error {
	c := f.deps.Inventory.Client()
	ref, err := object.NewSearchIndex(c).FindChild(ctx, object.NewFolder(c, folder), name)
	if err == nil && ref != nil {
		err = vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.vm.name_taken", "Folder %s already holds %s named %q.", folder.Value, ref.Reference().Value, name)
	}
	return err
}

// taskRequested refuses the $task variants (?vmw-task=true): they answer a cis.TASK id, and wcpd
// serves no task service to follow one.
func taskRequested(c *vapi.Call) error {
	if v := c.Query("vmw-task"); v != "" && v != "false" {
		return vapi.Errorf(vapi.ErrorUnsupported, "wcpd.vm.task_variant",
			"%s$task (vmw-task=true) is not served: it answers a cis.TASK id and wcpd serves no task service to follow it; call %s without vmw-task, which answers when the work is done.",
			c.Op.ID(), c.Op.ID())
	}
	return nil
}

// vmTaskError says what a vSphere call or task that worked on a VM failed on: the vAPI error for
// the fault it ended with, naming field; any other failure is internal.
func vmTaskError(err error, field string) error {
	if err == nil {
		return nil
	}
	if ve := vapi.AsError(err); ve.Type != vapi.ErrorInternalServerError {
		return err
	}
	text := err.Error()
	switch {
	case fault.Is(err, &types.DuplicateName{}), fault.Is(err, &types.AlreadyExists{}):
		return vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.vm.exists", "vSphere refused %s: %s", field, text)
	case fault.Is(err, &types.ManagedObjectNotFound{}), fault.Is(err, &types.NotFound{}), fault.Is(err, &types.FileNotFound{}):
		return vapi.Errorf(vapi.ErrorNotFound, "wcpd.vm.not_found", "vSphere found no object or file that %s names: %s", field, text)
	case fault.Is(err, &types.InsufficientResourcesFault{}), fault.Is(err, &types.NoDiskSpace{}),
		fault.Is(err, &types.InsufficientMemoryResourcesFault{}), fault.Is(err, &types.InsufficientCpuResourcesFault{}):
		return vapi.Errorf(vapi.ErrorUnableToAllocate, "wcpd.vm.no_capacity", "vSphere has no room for %s: %s", field, text)
	case fault.Is(err, &types.InvalidArgument{}), fault.Is(err, &types.InvalidVmConfig{}), fault.Is(err, &types.InvalidDeviceSpec{}),
		fault.Is(err, &types.InvalidDatastorePath{}), fault.Is(err, &types.NotSupported{}), fault.Is(err, &types.InvalidPowerState{}),
		fault.Is(err, &types.InvalidState{}), fault.Is(err, &types.NicSettingMismatch{}), fault.Is(err, &types.CustomizationPending{}),
		fault.Is(err, &types.InvalidDatastore{}), fault.Is(err, &types.FileAlreadyExists{}):
		return vapi.InvalidArgument(field, "", text)
	}
	return err
}

// createdVM waits for a task that makes a VM and answers the VM's id.
func createdVM(ctx context.Context, t *object.Task, field string) (string, error) {
	res, err := t.WaitForResult(ctx)
	if err != nil {
		return "", vmTaskError(err, field)
	}
	ref, ok := res.Result.(types.ManagedObjectReference)
	if !ok {
		return "", fmt.Errorf("the task answered %T, not a VM", res.Result)
	}
	return ref.Value, nil
}

func (f *Family) vmCreate(c *vapi.Call) (any, error) {
	var spec VMCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	guestID := guestIDOf(spec.GuestOS)
	if guestID == "" {
		return nil, vapi.InvalidArgument("spec.guest_OS", spec.GuestOS, "vSphere has no guest id for it")
	}
	// vCenter requires the folder, the datastore and where the VM runs.
	var missing vapi.FieldErrors
	p := spec.Placement
	if p == nil {
		p = &VMPlacementSpec{}
		missing.Missing("spec.placement")
	} else {
		if p.Folder == nil {
			missing.Missing("spec.placement.folder")
		}
		if p.Datastore == nil {
			missing.Missing("spec.placement.datastore")
		}
		if p.ResourcePool == nil && p.Cluster == nil && p.Host == nil {
			missing.Missing("spec.placement.resource_pool")
		}
	}
	if err := missing.Err(); err != nil {
		return nil, err
	}
	place, err := f.resolvePlacement(c.Ctx, p.spec(), "spec.placement")
	if err != nil {
		return nil, err
	}
	name := "Virtual Machine"
	if spec.Name != nil {
		name = *spec.Name
		if err := checkVMName("spec.name", name); err != nil {
			return nil, err
		}
	} else if name, err = f.freeName(c.Ctx, *place.folder, name); err != nil {
		return nil, err
	}
	config := types.VirtualMachineConfigSpec{Name: name, GuestId: guestID, Files: &types.VirtualMachineFileInfo{VmPathName: "[" + place.dsName + "]"}}
	if v := spec.HardwareVersion; v != nil {
		config.Version = "vmx-" + strings.TrimPrefix(string(*v), "VMX_")
	}
	b := newVMDeviceBuilder(f, c.Ctx)
	applyCPUMemory(&config, spec.CPU, spec.Memory, &b.errs)
	boot := applyBoot(&config, spec.Boot, &b.errs)
	b.vmName, b.dsName, b.dsRef = name, place.dsName, place.datastore
	if sp := spec.StoragePolicy; sp != nil && b.policyExists(sp.Policy, "spec.storage_policy.policy") {
		config.VmProfile = []types.BaseVirtualMachineProfileSpec{&types.VirtualMachineDefinedProfileSpec{ProfileId: sp.Policy}}
	}
	for i, s := range spec.SCSIAdapters {
		b.addSCSIAdapter(s, fmt.Sprintf("spec.scsi_adapters[%d]", i))
	}
	for i, s := range spec.SATAAdapters {
		b.addSATAAdapter(s, fmt.Sprintf("spec.sata_adapters[%d]", i))
	}
	for i, s := range spec.NVMeAdapters {
		b.addNVMeAdapter(s, fmt.Sprintf("spec.nvme_adapters[%d]", i))
	}
	for i, s := range spec.Disks {
		b.addDisk(s, fmt.Sprintf("spec.disks[%d]", i))
	}
	for i, s := range spec.NICs {
		b.addNIC(s, fmt.Sprintf("spec.nics[%d]", i))
	}
	for i, s := range spec.CDROMs {
		b.addCdrom(s, fmt.Sprintf("spec.cdroms[%d]", i))
	}
	for i, s := range spec.Floppies {
		b.addFloppy(s, fmt.Sprintf("spec.floppies[%d]", i))
	}
	for i, s := range spec.ParallelPorts {
		b.addParallel(s, fmt.Sprintf("spec.parallel_ports[%d]", i))
	}
	for i, s := range spec.SerialPorts {
		b.addSerial(s, fmt.Sprintf("spec.serial_ports[%d]", i))
	}
	have := map[BootDeviceType]int{"DISK": len(spec.Disks), "ETHERNET": len(spec.NICs), "CDROM": len(spec.CDROMs), "FLOPPY": len(spec.Floppies)}
	for i, d := range spec.BootDevices {
		if have[d.Type] == 0 {
			b.errs.Add(fmt.Sprintf("spec.boot_devices[%d].type", i), d.Type, "the VM has no such device to boot from")
		}
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	if config.DeviceChange, err = b.changes(); err != nil {
		return nil, err
	}
	for _, ch := range config.DeviceChange {
		if ds := ch.GetVirtualDeviceConfigSpec(); config.VmProfile != nil && b.creates[ds.Device] && ds.Profile == nil {
			ds.Profile = config.VmProfile // the VM's policy for its disks that name none
		}
	}
	// vSphere refuses a clone's taken name itself; the embedded inventory's CreateVM does not, so
	// the check and the making are one step for wcpd's creates.
	f.names.Lock()
	err = f.nameTaken(c.Ctx, *place.folder, name)
	var id string
	if err == nil {
		var t *object.Task
		if t, err = place.folderObject(f).CreateVM(c.Ctx, config, place.poolObject(f), place.hostObject(f)); err == nil {
			id, err = createdVM(c.Ctx, t, "spec")
		}
	}
	f.names.Unlock()
	if err != nil {
		return nil, vmTaskError(err, "spec")
	}
	if len(spec.BootDevices) > 0 {
		if err := f.setBootOrder(c.Ctx, id, boot, spec.BootDevices); err != nil {
			f.discard(id)
			return nil, err
		}
	}
	return id, nil
}

// freeName is base, or base with the first free " (n)" after it, in folder.
func (f *Family) freeName(ctx context.Context, folder types.ManagedObjectReference, base string) (string, error) {
	c := f.deps.Inventory.Client()
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s (%d)", base, i)
		}
		ref, err := object.NewSearchIndex(c).FindChild(ctx, object.NewFolder(c, folder), name)
		if err != nil || ref == nil {
			return name, err
		}
	}
}

// discard removes a VM that create made but could not finish.
func (f *Family) discard(id string) {
	vm := object.NewVirtualMachine(f.deps.Inventory.Client(), types.ManagedObjectReference{Type: "VirtualMachine", Value: id})
	if t, err := vm.Destroy(context.Background()); err == nil {
		_ = t.Wait(context.Background())
	}
}

func applyCPUMemory(config *types.VirtualMachineConfigSpec, cpu *CPUUpdateSpec, mem *MemoryUpdateSpec, errs *vapi.FieldErrors) {
	if cpu != nil {
		if n := cpu.Count; n != nil {
			if *n < 1 || *n > 768 {
				errs.Add("spec.cpu.count", *n, "a VM has 1 to 768 virtual CPUs")
			}
			config.NumCPUs = int32(*n)
		}
		if n := cpu.CoresPerSocket; n != nil {
			count := int64(max(config.NumCPUs, 1))
			if *n < 1 || count%*n != 0 {
				errs.Add("spec.cpu.cores_per_socket", *n, fmt.Sprintf("must divide the CPU count %d", count))
			}
			config.NumCoresPerSocket = new(int32(*n))
		}
		config.CpuHotAddEnabled, config.CpuHotRemoveEnabled = cpu.HotAddEnabled, cpu.HotRemoveEnabled
	}
	if mem != nil {
		if n := mem.SizeMiB; n != nil {
			if *n < 4 {
				errs.Add("spec.memory.size_MiB", *n, "a VM has at least 4 MiB")
			}
			config.MemoryMB = *n
		}
		config.MemoryHotAddEnabled = mem.HotAddEnabled
	}
}

// applyBoot sets firmware and boot options; the boot options are answered for the boot order,
// which is set once the devices have keys.
func applyBoot(config *types.VirtualMachineConfigSpec, boot *BootCreateSpec, errs *vapi.FieldErrors) *types.VirtualMachineBootOptions {
	opts := &types.VirtualMachineBootOptions{}
	if boot == nil {
		return opts
	}
	efi := boot.Type != nil && *boot.Type == "EFI"
	if boot.Type != nil {
		config.Firmware = strings.ToLower(string(*boot.Type))
	}
	if !efi {
		if boot.EFILegacyBoot != nil {
			errs.Add("spec.boot.efi_legacy_boot", *boot.EFILegacyBoot, "only allowed when type is EFI")
		}
		if boot.NetworkProtocol != nil {
			errs.Add("spec.boot.network_protocol", *boot.NetworkProtocol, "only allowed when type is EFI")
		}
	}
	if boot.EFILegacyBoot != nil && efi {
		config.ExtraConfig = append(config.ExtraConfig, &types.OptionValue{Key: efiLegacyBootKey, Value: strings.ToUpper(strconv.FormatBool(*boot.EFILegacyBoot))})
	}
	if boot.NetworkProtocol != nil && efi {
		opts.NetworkBootProtocol = strings.ToLower(string(*boot.NetworkProtocol))
	}
	if n := boot.Delay; n != nil {
		if *n < 0 {
			errs.Add("spec.boot.delay", *n, "must not be negative")
		}
		opts.BootDelay = *n
	}
	if n := boot.RetryDelay; n != nil {
		if *n < 0 {
			errs.Add("spec.boot.retry_delay", *n, "must not be negative")
		}
		opts.BootRetryDelay = *n
	}
	opts.BootRetryEnabled, opts.EnterBIOSSetup = boot.Retry, boot.EnterSetupMode
	config.BootOptions = opts
	return opts
}

// setBootOrder sets a new VM's boot order, once its devices have their keys: DISK boots from its
// disks in order, ETHERNET from its first NIC, CDROM and FLOPPY from the first of their kind.
func (f *Family) setBootOrder(ctx context.Context, id string, opts *types.VirtualMachineBootOptions, order []BootDeviceCreateSpec) error {
	vm := object.NewVirtualMachine(f.deps.Inventory.Client(), types.ManagedObjectReference{Type: "VirtualMachine", Value: id})
	devices, err := vm.Device(ctx)
	if err != nil {
		return err
	}
	opts.BootOrder = nil
	for _, e := range order {
		switch e.Type {
		case "DISK":
			for _, d := range devices.SelectByType((*types.VirtualDisk)(nil)) {
				opts.BootOrder = append(opts.BootOrder, &types.VirtualMachineBootOptionsBootableDiskDevice{DeviceKey: d.GetVirtualDevice().Key})
			}
		case "ETHERNET":
			if nics := devices.SelectByType((*types.VirtualEthernetCard)(nil)); len(nics) > 0 {
				opts.BootOrder = append(opts.BootOrder, &types.VirtualMachineBootOptionsBootableEthernetDevice{DeviceKey: nics[0].GetVirtualDevice().Key})
			}
		case "CDROM":
			opts.BootOrder = append(opts.BootOrder, &types.VirtualMachineBootOptionsBootableCdromDevice{})
		case "FLOPPY":
			opts.BootOrder = append(opts.BootOrder, &types.VirtualMachineBootOptionsBootableFloppyDevice{})
		}
	}
	t, err := vm.Reconfigure(ctx, types.VirtualMachineConfigSpec{BootOptions: opts})
	if err == nil {
		err = t.Wait(ctx)
	}
	return vmTaskError(err, "spec.boot_devices")
}

// sourceVM reads the VM an operation works from (or on), NOT_FOUND naming it when there is none.
func (f *Family) sourceVM(ctx context.Context, id string) (mo.VirtualMachine, error) {
	var vm mo.VirtualMachine
	props := []string{"name", "parent", "resourcePool", "runtime.host", "runtime.powerState", "config.template", "config.hardware.device"}
	err := f.get(ctx, "VirtualMachine", "VM", id, props, &vm)
	if err == nil && vm.Config == nil {
		err = vapi.Errorf(vapi.ErrorResourceInaccessible, "wcpd.vm.inaccessible", "The configuration of VM %s (%s) cannot be read.", id, vm.Name)
	}
	return vm, err
}

// diskLocators checks a map of disk keys of vm to datastores and answers vSphere's disk locators;
// field names the map.
func (f *Family) diskLocators(ctx context.Context, vm mo.VirtualMachine, disks map[string]DiskPlacement, field string) ([]types.VirtualMachineRelocateSpecDiskLocator, error) {
	var out []types.VirtualMachineRelocateSpecDiskLocator
	devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
	for _, key := range sortedKeys(disks) {
		d, err := diskOf(devices, key, field)
		if err != nil {
			return nil, err
		}
		ds := disks[key].Datastore
		if ds == nil {
			continue // the disk stays with the VM
		}
		var store mo.Datastore
		if err := f.get(ctx, "Datastore", "Datastore", *ds, []string{"name"}, &store); err != nil {
			return nil, err
		}
		out = append(out, types.VirtualMachineRelocateSpecDiskLocator{DiskId: d.Key, Datastore: store.Self})
	}
	return out, nil
}

// diskOf finds the disk whose key is key, INVALID_ARGUMENT naming field when there is none.
func diskOf(devices object.VirtualDeviceList, key, field string) (*types.VirtualDisk, error) {
	n, err := strconv.Atoi(key)
	if err == nil {
		if d, ok := devices.FindByKey(int32(n)).(*types.VirtualDisk); ok {
			return d, nil
		}
	}
	return nil, vapi.InvalidArgument(field, key, "the VM has no disk with this key")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortIDs(keys)
	return keys
}

func sortIDs(keys []string) { byID(keys, func(s string) string { return s }) }

// vmClone clones a VM or template. Placement defaults to the source's folder, pool, host and
// datastore, as vCenter's does.
func (f *Family) vmClone(c *vapi.Call) (any, error) {
	if err := taskRequested(c); err != nil {
		return nil, err
	}
	var spec VMCloneSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if err := checkVMName("spec.name", spec.Name); err != nil {
		return nil, err
	}
	src, err := f.sourceVM(c.Ctx, spec.Source)
	if err != nil {
		return nil, err
	}
	place, err := f.resolvePlacement(c.Ctx, spec.Placement.spec(), "spec.placement")
	if err != nil {
		return nil, err
	}
	if err := f.keepPool(c.Ctx, &place, src.ResourcePool); err != nil {
		return nil, err
	}
	folder := src.Parent
	if place.folder != nil {
		folder = place.folder
	}
	loc := types.VirtualMachineRelocateSpec{Pool: place.pool, Host: place.host, Datastore: place.datastore}
	if loc.Pool == nil && src.ResourcePool == nil && src.Runtime.Host != nil {
		// A template has no pool: its clone goes to its host's root pool.
		var h mo.HostSystem
		if err := f.get(c.Ctx, "HostSystem", "Host", src.Runtime.Host.Value, []string{"parent"}, &h); err != nil {
			return nil, err
		}
		var cr mo.ComputeResource
		if err := f.get(c.Ctx, h.Parent.Type, "Compute resource", h.Parent.Value, []string{"resourcePool"}, &cr); err != nil {
			return nil, err
		}
		loc.Pool = cr.ResourcePool
	}
	if loc.Disk, err = f.diskLocators(c.Ctx, src, spec.DisksToUpdate, "spec.disks_to_update"); err != nil {
		return nil, err
	}
	cs := types.VirtualMachineCloneSpec{Location: loc, PowerOn: spec.PowerOn != nil && *spec.PowerOn}
	devices := object.VirtualDeviceList(src.Config.Hardware.Device)
	for _, key := range spec.DisksToRemove {
		d, err := diskOf(devices, key, "spec.disks_to_remove")
		if err != nil {
			return nil, err
		}
		if _, both := spec.DisksToUpdate[key]; both {
			return nil, vapi.InvalidArgument("spec.disks_to_update", key, "the disk is also in disks_to_remove")
		}
		if cs.Config == nil {
			cs.Config = &types.VirtualMachineConfigSpec{}
		}
		cs.Config.DeviceChange = append(cs.Config.DeviceChange, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: d})
	}
	if g := spec.GuestCustomizationSpec; g != nil && g.Name != nil {
		item, err := object.NewCustomizationSpecManager(f.deps.Inventory.Client()).GetCustomizationSpec(c.Ctx, *g.Name)
		if fault.Is(err, &types.NotFound{}) {
			return nil, vapi.NotFound("Guest customization specification", *g.Name)
		}
		if err != nil {
			return nil, err
		}
		cs.Customization = &item.Spec
	}
	if err := f.nameTaken(c.Ctx, *folder, spec.Name); err != nil {
		return nil, err
	}
	cl := f.deps.Inventory.Client()
	t, err := object.NewVirtualMachine(cl, src.Self).Clone(c.Ctx, object.NewFolder(cl, *folder), spec.Name, cs)
	if err != nil {
		return nil, vmTaskError(err, "spec")
	}
	return createdVM(c.Ctx, t, "spec")
}

// vmRelocate moves a VM to the placement's folder, pool, host and datastore, and each disk the
// spec names to its datastore. Moving a running VM also needs Resource.HotMigrate, as in vSphere.
func (f *Family) vmRelocate(c *vapi.Call) (any, error) {
	if err := taskRequested(c); err != nil {
		return nil, err
	}
	var spec VMRelocateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	vm, err := f.sourceVM(c.Ctx, c.Path("vm"))
	if err != nil {
		return nil, err
	}
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && !f.deps.Identity.HasPrivilege(c.Principal, auth.ResourceHotMigrate) {
		return nil, vapi.NewError(vapi.ErrorUnauthorized, "wcpd.unauthorized",
			"User "+c.Principal.String()+" does not have the privilege "+string(auth.ResourceHotMigrate)+" needed to relocate the running VM "+vm.Self.Value+".",
			c.Principal.String(), string(auth.ResourceHotMigrate), c.Op.ID())
	}
	place, err := f.resolvePlacement(c.Ctx, spec.Placement.spec(), "spec.placement")
	if err != nil {
		return nil, err
	}
	if err := f.keepPool(c.Ctx, &place, vm.ResourcePool); err != nil {
		return nil, err
	}
	rs := types.VirtualMachineRelocateSpec{Folder: place.folder, Pool: place.pool, Host: place.host, Datastore: place.datastore}
	if rs.Disk, err = f.diskLocators(c.Ctx, vm, spec.Disks, "spec.disks"); err != nil {
		return nil, err
	}
	t, err := object.NewVirtualMachine(f.deps.Inventory.Client(), vm.Self).Relocate(c.Ctx, rs, types.VirtualMachineMovePriorityDefaultPriority)
	if err == nil {
		err = t.Wait(c.Ctx)
	}
	return nil, vmTaskError(err, "spec")
}

// vmInstantClone makes a running copy of a running VM on its host (InstantClone_Task), with the
// NIC, serial and parallel port changes and the BIOS UUID the spec gives.
func (f *Family) vmInstantClone(c *vapi.Call) (any, error) {
	var spec VMInstantCloneSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if err := checkVMName("spec.name", spec.Name); err != nil {
		return nil, err
	}
	if u := spec.BIOSUUID; u != nil {
		if _, err := uuid.Parse(*u); err != nil || len(*u) != 36 {
			return nil, vapi.InvalidArgument("spec.bios_uuid", *u, `expected a UUID such as "12345678-abcd-1234-cdef-123456789abc"`)
		}
	}
	src, err := f.sourceVM(c.Ctx, spec.Source)
	if err != nil {
		return nil, err
	}
	// The reference declares no NOT_ALLOWED_IN_CURRENT_STATE for instant_clone: a source that does
	// not run is an unusable argument.
	if src.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return nil, vapi.InvalidArgument("spec.source", spec.Source,
			fmt.Sprintf("VM %s is %s; an instant clone is made from a running VM", src.Name, powerStateOf[src.Runtime.PowerState]))
	}
	var p placementSpec
	if pl := spec.Placement; pl != nil {
		p = placementSpec{Folder: pl.Folder, ResourcePool: pl.ResourcePool, Datastore: pl.Datastore}
	}
	place, err := f.resolvePlacement(c.Ctx, p, "spec.placement")
	if err != nil {
		return nil, err
	}
	if place.pool != nil && src.Runtime.Host != nil {
		// The clone runs on the source's host: the pool must be of that host's compute resource.
		var h mo.HostSystem
		var pool mo.ResourcePool
		if err := f.get(c.Ctx, "HostSystem", "Host", src.Runtime.Host.Value, []string{"parent"}, &h); err != nil {
			return nil, err
		}
		if err := f.get(c.Ctx, "ResourcePool", "Resource pool", place.pool.Value, []string{"owner"}, &pool); err != nil {
			return nil, err
		}
		if h.Parent == nil || pool.Owner != *h.Parent {
			return nil, vapi.InvalidArgument("spec.placement.resource_pool", place.pool.Value,
				"an instant clone runs on the source's host "+src.Runtime.Host.Value+", which the pool does not belong to")
		}
	}
	folder := src.Parent
	if place.folder != nil {
		folder = place.folder
	}
	loc := types.VirtualMachineRelocateSpec{Folder: folder, Pool: place.pool, Datastore: place.datastore}
	if loc.DeviceChange, err = f.instantCloneEdits(c.Ctx, src, spec); err != nil {
		return nil, err
	}
	ic := types.VirtualMachineInstantCloneSpec{Name: spec.Name, Location: loc}
	if spec.BIOSUUID != nil {
		ic.BiosUuid = *spec.BIOSUUID
	}
	if err := f.nameTaken(c.Ctx, *folder, spec.Name); err != nil {
		return nil, err
	}
	t, err := object.NewVirtualMachine(f.deps.Inventory.Client(), src.Self).InstantClone(c.Ctx, ic)
	if err != nil {
		return nil, vmTaskError(err, "spec")
	}
	return createdVM(c.Ctx, t, "spec")
}

// instantCloneEdits are the device edits of an instant clone: the NICs, serial and parallel
// ports to update, and every NIC disconnected when the spec says so.
func (f *Family) instantCloneEdits(ctx context.Context, src mo.VirtualMachine, spec VMInstantCloneSpec) ([]types.BaseVirtualDeviceConfigSpec, error) {
	b := newVMDeviceBuilder(f, ctx)
	devices := object.VirtualDeviceList(src.Config.Hardware.Device)
	edited := map[int32]types.BaseVirtualDevice{}
	find := func(key, field string, want func(types.BaseVirtualDevice) bool, kind string) types.BaseVirtualDevice {
		n, err := strconv.Atoi(key)
		if err == nil {
			if d := devices.FindByKey(int32(n)); d != nil && want(d) {
				edited[int32(n)] = d
				return d
			}
		}
		b.errs.Add(field, key, "the source VM has no "+kind+" with this key")
		return nil
	}
	for _, key := range sortedKeys(spec.NICsToUpdate) {
		field := fmt.Sprintf("spec.nics_to_update[%q]", key)
		d := find(key, field, func(d types.BaseVirtualDevice) bool { _, ok := d.(types.BaseVirtualEthernetCard); return ok }, "NIC")
		if d == nil {
			continue
		}
		u := spec.NICsToUpdate[key]
		if _, vmxnet3 := d.(*types.VirtualVmxnet3); u.UptCompatibilityEnabled != nil && !vmxnet3 {
			b.errs.Add(field+".upt_compatibility_enabled", *u.UptCompatibilityEnabled, "only allowed for a VMXNET3 NIC")
		}
		b.applyEthernet(d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard(), u, field, true)
	}
	if spec.DisconnectAllNICs != nil && *spec.DisconnectAllNICs {
		for _, d := range devices.SelectByType((*types.VirtualEthernetCard)(nil)) {
			v := d.GetVirtualDevice()
			if v.Connectable == nil {
				v.Connectable = &types.VirtualDeviceConnectInfo{}
			}
			v.Connectable.Connected, v.Connectable.StartConnected = false, false
			edited[v.Key] = d
		}
	}
	for _, key := range sortedKeys(spec.ParallelPortsToUpdate) {
		field := fmt.Sprintf("spec.parallel_ports_to_update[%q]", key)
		d := find(key, field, func(d types.BaseVirtualDevice) bool { _, ok := d.(*types.VirtualParallelPort); return ok }, "parallel port")
		if d == nil {
			continue
		}
		u := spec.ParallelPortsToUpdate[key]
		if u.Backing != nil {
			d.GetVirtualDevice().Backing = b.parallelBacking(*u.Backing, field+".backing")
		}
		b.connectable(d.GetVirtualDevice(), u.StartConnected, u.AllowGuestControl)
	}
	for _, key := range sortedKeys(spec.SerialPortsToUpdate) {
		field := fmt.Sprintf("spec.serial_ports_to_update[%q]", key)
		d := find(key, field, func(d types.BaseVirtualDevice) bool { _, ok := d.(*types.VirtualSerialPort); return ok }, "serial port")
		if d == nil {
			continue
		}
		u := spec.SerialPortsToUpdate[key]
		if u.Backing != nil {
			d.GetVirtualDevice().Backing = b.serialBacking(*u.Backing, field+".backing")
		}
		if u.YieldOnPoll != nil {
			d.(*types.VirtualSerialPort).YieldOnPoll = *u.YieldOnPoll
		}
		b.connectable(d.GetVirtualDevice(), u.StartConnected, u.AllowGuestControl)
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	var out []types.BaseVirtualDeviceConfigSpec
	for _, d := range devices {
		if _, ok := edited[d.GetVirtualDevice().Key]; ok {
			out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: d})
		}
	}
	return out, nil
}
