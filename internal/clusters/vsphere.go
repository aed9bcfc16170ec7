package clusters

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
)

// The control plane in the inventory, the way vCenter lays it out: a resource pool "Namespaces"
// under each cluster's root pool holding the control-plane VMs, which live in the VM folder
// Namespaces/<Supervisor name> of the datacenter.
const (
	poolName         = "Namespaces"
	controlPlaneVMs  = 3
	controlPlaneDisk = 32 // GiB per VM
)

// vmSize is what one control-plane VM gets for a size hint (ARCHITECTURE.md's figures; the same
// numbers answer cluster_size_info).
type vmSize struct {
	CPUs     int32
	MemoryMB int64
	DiskMB   int64
}

var sizes = map[SizingHint]vmSize{
	"TINY":   {CPUs: 2, MemoryMB: 8 * 1024, DiskMB: controlPlaneDisk * 1024},
	"SMALL":  {CPUs: 4, MemoryMB: 16 * 1024, DiskMB: controlPlaneDisk * 1024},
	"MEDIUM": {CPUs: 8, MemoryMB: 16 * 1024, DiskMB: controlPlaneDisk * 1024},
	"LARGE":  {CPUs: 16, MemoryMB: 32 * 1024, DiskMB: controlPlaneDisk * 1024},
}

func vmName(i int) string { return fmt.Sprintf("SupervisorControlPlaneVM (%d)", i) }

func ref(kind, id string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: kind, Value: id}
}

// findChildPool returns the child pool of parent called name.
func (f *Family) findChildPool(ctx context.Context, parent types.ManagedObjectReference, name string) (types.ManagedObjectReference, bool, error) {
	c := f.deps.Inventory.Client()
	var rp mo.ResourcePool
	if err := object.NewResourcePool(c, parent).Properties(ctx, parent, []string{"resourcePool"}, &rp); err != nil {
		return types.ManagedObjectReference{}, false, err
	}
	if len(rp.ResourcePool) == 0 {
		return types.ManagedObjectReference{}, false, nil
	}
	var children []mo.ResourcePool
	if err := retrieveProps(ctx, f, rp.ResourcePool, []string{"name"}, &children); err != nil {
		return types.ManagedObjectReference{}, false, err
	}
	for _, ch := range children {
		if ch.Name == name {
			return ch.Self, true, nil
		}
	}
	return types.ManagedObjectReference{}, false, nil
}

// namespacesPool returns the cluster's Namespaces pool, creating it when create is set.
func (f *Family) namespacesPool(ctx context.Context, cl inventory.Cluster, create bool) (types.ManagedObjectReference, bool, error) {
	root := ref("ResourcePool", cl.ResourcePool)
	pool, found, err := f.findChildPool(ctx, root, poolName)
	if err != nil || found || !create {
		return pool, found, err
	}
	// vCenter gives the Namespaces pool normal shares, no reservation and no limit, with
	// expandable reservations, so namespaces' pools can draw on the cluster.
	p, err := object.NewResourcePool(f.deps.Inventory.Client(), root).Create(ctx, poolName, types.DefaultResourceConfigSpec())
	if err != nil {
		return types.ManagedObjectReference{}, false, fmt.Errorf("creating the %s pool of %s: %w", poolName, cl.Name, err)
	}
	return p.Reference(), true, nil
}

// vmFolder returns the Supervisor's VM folder Namespaces/<name> in datacenter.
func (f *Family) vmFolder(ctx context.Context, datacenter, name string, create bool) (*object.Folder, bool, error) {
	return f.deps.Inventory.VMFolder(ctx, datacenter, create, inventory.NamespacesFolder, name)
}

// retrieveProps loads props of refs into dst (a pointer to a slice of mo types).
func retrieveProps(ctx context.Context, f *Family, refs []types.ManagedObjectReference, props []string, dst any) error {
	return property.DefaultCollector(f.deps.Inventory.Client()).Retrieve(ctx, refs, props, dst)
}

// controlPlaneVM is what the controller needs to know about one control-plane VM.
type controlPlaneVM struct {
	Ref      types.ManagedObjectReference
	Name     string
	PowerOn  bool
	CPUs     int32
	MemoryMB int64
	Host     string
	Pool     string
	Note     string
}

// listControlPlaneVMs reads the VMs in the Supervisor's folder.
func (f *Family) listControlPlaneVMs(ctx context.Context, folder *object.Folder) ([]controlPlaneVM, error) {
	c := f.deps.Inventory.Client()
	v, err := view.NewManager(c).CreateContainerView(ctx, folder.Reference(), []string{"VirtualMachine"}, false)
	if err != nil {
		return nil, err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime.powerState", "runtime.host", "config.hardware.numCPU", "config.hardware.memoryMB", "config.annotation", "resourcePool"}, &vms); err != nil {
		return nil, err
	}
	out := make([]controlPlaneVM, 0, len(vms))
	for _, vm := range vms {
		cp := controlPlaneVM{Ref: vm.Self, Name: vm.Name, PowerOn: vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn}
		if vm.Config != nil {
			cp.CPUs, cp.MemoryMB, cp.Note = vm.Config.Hardware.NumCPU, int64(vm.Config.Hardware.MemoryMB), vm.Config.Annotation
		}
		if vm.Runtime.Host != nil {
			cp.Host = vm.Runtime.Host.Value
		}
		if vm.ResourcePool != nil {
			cp.Pool = vm.ResourcePool.Value
		}
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ensureControlPlane makes the inventory hold what a Supervisor at this point of its life has: the
// Namespaces pool in every cluster it spans, and (if deploy) its control-plane VMs in the pools,
// sized by its size hint, powered on when powerOn is set and annotated with its Kubernetes version.
// It returns the primary cluster's pool id. Everything is looked up by name, so it is idempotent and
// re-creates what a restart lost.
func (f *Family) ensureControlPlane(ctx context.Context, s *supervisor, deploy, powerOn bool) (string, error) {
	clusters := make([]inventory.Cluster, 0, len(s.Clusters))
	pools := make([]types.ManagedObjectReference, 0, len(s.Clusters))
	for _, id := range s.Clusters {
		cl, err := f.deps.Inventory.Cluster(ctx, id)
		if err != nil {
			return "", err
		}
		pool, _, err := f.namespacesPool(ctx, cl, true)
		if err != nil {
			return "", err
		}
		clusters = append(clusters, cl)
		pools = append(pools, pool)
	}
	primaryPool := pools[0].Value
	if !deploy {
		return primaryPool, nil
	}
	folder, _, err := f.vmFolder(ctx, clusters[0].Datacenter, s.Name, true)
	if err != nil {
		return "", err
	}
	existing, err := f.listControlPlaneVMs(ctx, folder)
	if err != nil {
		return "", err
	}
	byName := map[string]controlPlaneVM{}
	for _, vm := range existing {
		byName[vm.Name] = vm
	}
	size := sizes[s.Spec.SizeHint]
	c := f.deps.Inventory.Client()
	for i := 1; i <= controlPlaneVMs; i++ {
		name := vmName(i)
		ci := (i - 1) % len(clusters)
		note := fmt.Sprintf("Supervisor %s control plane node %d. Kubernetes %s.", s.Name, i, s.Version)
		vm, ok := byName[name]
		if !ok {
			created, err := f.createControlPlaneVM(ctx, s, folder, clusters[ci], pools[ci], (i-1)/len(clusters), name, note, size)
			if err != nil {
				return "", err
			}
			vm = created
		} else if vm.CPUs != size.CPUs || vm.MemoryMB != size.MemoryMB || vm.Note != note {
			// A new size hint (set/update) or a finished upgrade: bring the VM in line.
			task, err := object.NewVirtualMachine(c, vm.Ref).Reconfigure(ctx, types.VirtualMachineConfigSpec{
				NumCPUs: size.CPUs, NumCoresPerSocket: &size.CPUs, MemoryMB: size.MemoryMB, Annotation: note})
			if err == nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				return "", fmt.Errorf("resizing %s: %w", name, err)
			}
		}
		if powerOn && !vm.PowerOn {
			task, err := object.NewVirtualMachine(c, vm.Ref).PowerOn(ctx)
			if err == nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				return "", fmt.Errorf("powering on %s: %w", name, err)
			}
		}
	}
	return primaryPool, nil
}

// createControlPlaneVM creates one control-plane VM (powered off) on the nth usable host of cl,
// with a 32 GiB disk on a datastore every host of the cluster mounts and a NIC on the management
// network when that is a distributed port group.
func (f *Family) createControlPlaneVM(ctx context.Context, s *supervisor, folder *object.Folder, cl inventory.Cluster,
	pool types.ManagedObjectReference, nth int, name, note string, size vmSize) (controlPlaneVM, error) {
	c := f.deps.Inventory.Client()
	var hosts []inventory.Host
	for _, h := range cl.Hosts {
		if h.Connected && !h.MaintenanceMode {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return controlPlaneVM{}, fmt.Errorf("cluster %s has no usable host for %s", cl.Name, name)
	}
	host := hosts[nth%len(hosts)]
	ds, err := f.sharedDatastore(ctx, cl)
	if err != nil {
		return controlPlaneVM{}, err
	}
	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return controlPlaneVM{}, err
	}
	devices = append(devices, scsi)
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), ref("Datastore", ds.ID), "")
	disk.CapacityInKB = size.DiskMB * 1024
	devices = append(devices, disk)
	if pg := s.Spec.MasterManagementNetwork.Network; strings.HasPrefix(pg, "dvportgroup-") {
		backing, err := object.NewDistributedVirtualPortgroup(c, ref("DistributedVirtualPortgroup", pg)).EthernetCardBackingInfo(ctx)
		if err == nil {
			if nic, err := devices.CreateEthernetCard("vmxnet3", backing); err == nil {
				devices = append(devices, nic)
			}
		}
	}
	changes, err := devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	if err != nil {
		return controlPlaneVM{}, err
	}
	for _, ch := range changes {
		if spec := ch.GetVirtualDeviceConfigSpec(); spec != nil {
			if _, isDisk := spec.Device.(*types.VirtualDisk); isDisk {
				spec.FileOperation = types.VirtualDeviceConfigSpecFileOperationCreate
			}
		}
	}
	spec := types.VirtualMachineConfigSpec{
		Name:              name,
		GuestId:           string(types.VirtualMachineGuestOsIdentifierVmwarePhoton64Guest),
		NumCPUs:           size.CPUs,
		NumCoresPerSocket: &size.CPUs,
		MemoryMB:          size.MemoryMB,
		Annotation:        note,
		Files:             &types.VirtualMachineFileInfo{VmPathName: "[" + ds.Name + "]"},
		DeviceChange:      changes,
	}
	hostRef := object.NewHostSystem(c, ref("HostSystem", host.ID))
	task, err := folder.CreateVM(ctx, spec, object.NewResourcePool(c, pool), hostRef)
	if err != nil {
		return controlPlaneVM{}, fmt.Errorf("creating %s: %w", name, err)
	}
	res, err := task.WaitForResult(ctx)
	if err != nil {
		return controlPlaneVM{}, fmt.Errorf("creating %s: %w", name, err)
	}
	vmRef, ok := res.Result.(types.ManagedObjectReference)
	if !ok {
		return controlPlaneVM{}, fmt.Errorf("creating %s: unexpected task result %T", name, res.Result)
	}
	return controlPlaneVM{Ref: vmRef, Name: name, CPUs: size.CPUs, MemoryMB: size.MemoryMB, Host: host.ID, Pool: pool.Value, Note: note}, nil
}

// sharedDatastore picks the accessible datastore mounted on every host of cl with the most free
// space.
func (f *Family) sharedDatastore(ctx context.Context, cl inventory.Cluster) (inventory.Datastore, error) {
	dss, err := f.deps.Inventory.Datastores(ctx)
	if err != nil {
		return inventory.Datastore{}, err
	}
	var best *inventory.Datastore
	for i := range dss {
		ds := &dss[i]
		if ds.Accessible && mountedOnAll(ds, cl) && (best == nil || ds.FreeBytes > best.FreeBytes) {
			best = ds
		}
	}
	if best == nil {
		return inventory.Datastore{}, fmt.Errorf("no datastore is mounted on every host of cluster %s", cl.Name)
	}
	return *best, nil
}

func mountedOnAll(ds *inventory.Datastore, cl inventory.Cluster) bool {
	if len(cl.Hosts) == 0 {
		return false
	}
	for _, h := range cl.Hosts {
		found := false
		for _, m := range ds.Hosts {
			if m == h.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// removeControlPlaneVMs powers off and deletes the Supervisor's control-plane VMs and its folder.
func (f *Family) removeControlPlaneVMs(ctx context.Context, s *supervisor) error {
	cl, err := f.deps.Inventory.Cluster(ctx, s.Cluster)
	if err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return nil
		}
		return err
	}
	folder, found, err := f.vmFolder(ctx, cl.Datacenter, s.Name, false)
	if err != nil || !found {
		return err
	}
	vms, err := f.listControlPlaneVMs(ctx, folder)
	if err != nil {
		return err
	}
	c := f.deps.Inventory.Client()
	for _, vm := range vms {
		o := object.NewVirtualMachine(c, vm.Ref)
		if vm.PowerOn {
			if task, err := o.PowerOff(ctx); err == nil {
				if err := task.Wait(ctx); err != nil {
					return fmt.Errorf("powering off %s: %w", vm.Name, err)
				}
			} else {
				return err
			}
		}
		task, err := o.Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return fmt.Errorf("deleting %s: %w", vm.Name, err)
		}
	}
	task, err := folder.Destroy(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	return err
}

// removePools deletes the Namespaces pool of every cluster the Supervisor spans.
func (f *Family) removePools(ctx context.Context, s *supervisor) error {
	c := f.deps.Inventory.Client()
	for _, id := range s.Clusters {
		cl, err := f.deps.Inventory.Cluster(ctx, id)
		if err != nil {
			if errors.Is(err, inventory.ErrNotFound) {
				continue
			}
			return err
		}
		pool, found, err := f.namespacesPool(ctx, cl, false)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		task, err := object.NewResourcePool(c, pool).Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return fmt.Errorf("deleting the %s pool of %s: %w", poolName, cl.Name, err)
		}
	}
	return nil
}
