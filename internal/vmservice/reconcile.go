package vmservice

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/vcenter"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	vmopv1cloudinit "github.com/vmware-tanzu/vm-operator/api/v1alpha5/cloudinit"
	vmopv1common "github.com/vmware-tanzu/vm-operator/api/v1alpha5/common"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vmclasses"
	"github.com/wcpd/wcpd/internal/vmop"
)

// Conditions, as VM Operator names them.
const (
	condClass   = "VirtualMachineClassReady"
	condImage   = "VirtualMachineImageReady"
	condStorage = "VirtualMachineStorageReady"
	condCreated = "VirtualMachineCreated"
	condNetwork = "VirtualMachineNetworkReady"
)

// waitForInput is how often a VirtualMachine that names something missing (a class, an image) is
// looked at again: those objects are not followed here.
const waitForInput = 5 * time.Second

// reconcile moves one VirtualMachine toward its spec.
func (c *Controller) reconcile(ctx context.Context, cluster string, cl client.Client, namespace, name string) (controller.Result, error) {
	var vm vmopv1.VirtualMachine
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &vm); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, err
	}
	if vm.DeletionTimestamp != nil {
		if !controllerutil.ContainsFinalizer(&vm, Finalizer) {
			return controller.Result{}, nil
		}
		if err := c.deleteVM(ctx, cluster, &vm); err != nil {
			return controller.Result{}, err
		}
		controllerutil.RemoveFinalizer(&vm, Finalizer)
		return controller.Result{}, client.IgnoreNotFound(cl.Update(ctx, &vm))
	}
	if controllerutil.AddFinalizer(&vm, Finalizer) {
		return controller.Result{}, cl.Update(ctx, &vm) // its update event brings the key back
	}
	before := vm.Status.DeepCopy()
	retry, err := c.realise(ctx, cluster, cl, &vm)
	if err == nil && vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn && primaryIP(&vm) == "" {
		defer c.lockCluster(cluster)() // held until the address is in the status
		if err = c.assignVMAddress(cluster, &vm); err != nil {
			setCondition(&vm, condNetwork, false, "NoAddress", err.Error())
		} else {
			setCondition(&vm, condNetwork, true, "True", "")
		}
	}
	if !equality.Semantic.DeepEqual(before, &vm.Status) {
		if uerr := cl.Status().Update(ctx, &vm); uerr != nil {
			return controller.Result{}, errors.Join(err, uerr)
		}
	}
	return controller.Result{RequeueAfter: retry}, err
}

// setCondition records a condition, keeping its transition time while its status holds.
func setCondition(vm *vmopv1.VirtualMachine, typ string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&vm.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
		Message: message, ObservedGeneration: vm.Generation})
}

// realise makes the VM exist as the VirtualMachine says, or says in its conditions why it cannot.
// It returns when to look again when waiting on something it does not follow.
func (c *Controller) realise(ctx context.Context, cluster string, cl client.Client, vm *vmopv1.VirtualMachine) (time.Duration, error) {
	var class vmopv1.VirtualMachineClass
	err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Spec.ClassName}, &class)
	switch {
	case vm.Spec.ClassName == "" || apierrors.IsNotFound(err):
		setCondition(vm, condClass, false, "NotFound", fmt.Sprintf("spec.className: VM class %q is not available in namespace %s; the administrator associates classes with the namespace.", vm.Spec.ClassName, vm.Namespace))
		return waitForInput, nil
	case err != nil:
		return 0, err
	}
	setCondition(vm, condClass, true, "True", "")
	vm.Status.Class = &vmopv1common.LocalObjectRef{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachineClass", Name: class.Name}

	itemID, imageProblem, err := c.imageItem(ctx, cl, vm)
	if err != nil {
		return 0, err
	}
	if imageProblem != "" {
		setCondition(vm, condImage, false, "NotFound", imageProblem)
		return waitForInput, nil
	}
	setCondition(vm, condImage, true, "True", "")

	if problem := c.storageProblem(ctx, vm); problem != "" {
		setCondition(vm, condStorage, false, "NotFound", problem)
		return waitForInput, nil
	}
	setCondition(vm, condStorage, true, "True", "")

	ref, found, err := c.findVM(ctx, cluster, vm)
	if err != nil {
		return 0, err
	}
	if !found {
		if gone := vm.Status.UniqueID; gone != "" {
			c.warn(ctx, cl, vm, "VMRecreated", fmt.Sprintf("VM %s was removed outside VM Service; making it again", gone))
			c.disown(types.ManagedObjectReference{Type: "VirtualMachine", Value: gone})
		}
		if ref, err = c.createVM(ctx, cluster, cl, vm, &class, itemID); err != nil {
			setCondition(vm, condCreated, false, "Error", err.Error())
			return 0, err
		}
	}
	setCondition(vm, condCreated, true, "True", "")
	if err := c.correct(ctx, cl, ref, vm, &class); err != nil {
		return 0, err
	}
	if err := c.power(ctx, ref, &vm.Spec); err != nil {
		return 0, err
	}
	if err := c.restartIfAsked(ctx, ref, vm); err != nil {
		return 0, err
	}
	return 0, c.observe(ctx, cluster, ref, vm)
}

// imageItem finds the content library item of the VirtualMachine's image.
func (c *Controller) imageItem(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine) (item, problem string, err error) {
	kind, name := "VirtualMachineImage", vm.Spec.ImageName
	if vm.Spec.Image != nil {
		kind, name = vm.Spec.Image.Kind, vm.Spec.Image.Name
	}
	var obj client.Object = &vmopv1.VirtualMachineImage{}
	key := client.ObjectKey{Namespace: vm.Namespace, Name: name}
	if kind == "ClusterVirtualMachineImage" {
		obj, key.Namespace = &vmopv1.ClusterVirtualMachineImage{}, ""
	}
	if name == "" {
		return "", "spec.image: the VirtualMachine names no image.", nil
	}
	if err := cl.Get(ctx, key, obj); apierrors.IsNotFound(err) {
		return "", fmt.Sprintf("spec.image: %s %q is not available in namespace %s; the administrator associates content libraries with the namespace.", kind, name, vm.Namespace), nil
	} else if err != nil {
		return "", "", err
	}
	item = obj.GetAnnotations()[vmop.LibraryItemAnnotation]
	if item == "" {
		return "", fmt.Sprintf("spec.image: %s %q does not come from a content library item wcpd knows.", kind, name), nil
	}
	return item, "", nil
}

// storageProblem says why the VirtualMachine's storage class cannot be used in its namespace.
func (c *Controller) storageProblem(ctx context.Context, vm *vmopv1.VirtualMachine) string {
	if vm.Spec.StorageClass == "" {
		return ""
	}
	rz, ok := c.fams.Namespaces.Realisation(vm.Namespace)
	if !ok {
		return "the namespace is not a vSphere Namespace"
	}
	classes, err := c.inv.StorageClassNames(ctx)
	if err != nil {
		return "" // the inventory cannot say now; the reconcile after admission looks again
	}
	for _, s := range rz.Storage {
		if classes[s.Policy] == vm.Spec.StorageClass {
			return ""
		}
	}
	return fmt.Sprintf("spec.storageClass: storage class %q is not one of namespace %s; the administrator adds storage policies to the namespace.", vm.Spec.StorageClass, vm.Namespace)
}

// namespaceFolderPath is the namespace's VM folder Namespaces/<namespace>, or one below it
// (Namespaces/<namespace>/<sub>…).
func (c *Controller) namespaceFolderPath(ctx context.Context, cluster, namespace string, create bool, sub ...string) (*object.Folder, bool, error) {
	cl, err := c.inv.Cluster(ctx, cluster)
	if err != nil {
		return nil, false, err
	}
	return c.inv.VMFolder(ctx, cl.Datacenter, create, append([]string{inventory.NamespacesFolder, namespace}, sub...)...)
}

// namespacePool is the namespace's resource pool under its Supervisor's Namespaces pool.
func (c *Controller) namespacePool(ctx context.Context, cluster, namespace string) (types.ManagedObjectReference, error) {
	sup, ok := c.fams.Supervisors.Supervisor(cluster)
	if !ok || sup.NamespacesPool == "" {
		return types.ManagedObjectReference{}, errors.New("the Supervisor has no Namespaces resource pool yet")
	}
	ref, found, err := c.inv.ChildPool(ctx, sup.NamespacesPool, namespace)
	if err == nil && !found {
		err = fmt.Errorf("namespace %s has no resource pool yet", namespace)
	}
	return ref, err
}

// findVM finds the VirtualMachine's VM: by the id it reported, else by name in the namespace's
// folder (one made before a crash, before its status was written).
func (c *Controller) findVM(ctx context.Context, cluster string, vm *vmopv1.VirtualMachine) (types.ManagedObjectReference, bool, error) {
	vc := c.inv.Client()
	if id := vm.Status.UniqueID; id != "" {
		exists, err := c.inv.VMExists(ctx, id)
		if err != nil || exists {
			return types.ManagedObjectReference{Type: "VirtualMachine", Value: id}, exists, err
		}
	}
	folder, found, err := c.namespaceFolderPath(ctx, cluster, vm.Namespace, false)
	if err != nil || !found {
		return types.ManagedObjectReference{}, false, err
	}
	child, err := object.NewSearchIndex(vc).FindChild(ctx, folder, vm.Name)
	if err != nil || child == nil || child.Reference().Type != "VirtualMachine" {
		return types.ManagedObjectReference{}, false, err
	}
	return child.Reference(), true, nil
}

// createVM deploys the image's library item into the namespace's pool and folder, then gives it
// the class's hardware, the class's configSpec (device additions and extraConfig) and the
// VirtualMachine's bootstrap data.
func (c *Controller) createVM(ctx context.Context, cluster string, cl client.Client, vm *vmopv1.VirtualMachine, class *vmopv1.VirtualMachineClass, itemID string) (types.ManagedObjectReference, error) {
	var none types.ManagedObjectReference
	vc := c.inv.Client()
	poolRef, err := c.namespacePool(ctx, cluster, vm.Namespace)
	if err != nil {
		return none, err
	}
	folder, _, err := c.namespaceFolderPath(ctx, cluster, vm.Namespace, true)
	if err != nil {
		return none, err
	}
	// A VM of a resource policy goes into the policy's pool and folder.
	if r := vm.Spec.Reserved; r != nil && r.ResourcePolicyName != "" {
		var p vmopv1.VirtualMachineSetResourcePolicy
		if err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: r.ResourcePolicyName}, &p); err != nil {
			return none, fmt.Errorf("spec.reserved.resourcePolicyName: %w", err)
		}
		if len(p.Status.ResourcePools) > 0 {
			poolRef = types.ManagedObjectReference{Type: "ResourcePool", Value: p.Status.ResourcePools[0].ChildResourcePoolMoID}
		} else if p.Spec.ResourcePool.Name != "" {
			return none, fmt.Errorf("resource policy %s has no pool yet", p.Name)
		}
		if p.Spec.Folder != "" {
			if folder, _, err = c.namespaceFolderPath(ctx, cluster, vm.Namespace, true, p.Spec.Folder); err != nil {
				return none, err
			}
		}
	}
	deployed, err := vcenter.NewManager(c.inv.RESTClient()).DeployLibraryItem(ctx, itemID, vcenter.Deploy{
		DeploymentSpec: vcenter.DeploymentSpec{Name: vm.Name, AcceptAllEULA: true},
		Target:         vcenter.Target{ResourcePoolID: poolRef.Value, FolderID: folder.Reference().Value},
	})
	if err != nil {
		return none, fmt.Errorf("deploying library item %s: %w", itemID, err)
	}
	ref := deployed.Reference()
	spec, err := configSpec(class)
	if err != nil {
		return ref, err
	}
	extra, err := bootstrapExtraConfig(ctx, cl, vm)
	if err != nil {
		return ref, err
	}
	spec.ExtraConfig = append(spec.ExtraConfig, extra...)
	if spec.VAppConfig, err = bootstrapVAppConfig(ctx, cl, vm); err != nil {
		return ref, err
	}
	// The class is named on the VM, so that the VM class lists it in vms and stays while it is used.
	spec.ExtraConfig = append(spec.ExtraConfig, &types.OptionValue{Key: vmclasses.ExtraConfigKey, Value: class.Name})
	task, err := object.NewVirtualMachine(vc, ref).Reconfigure(ctx, spec)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		return ref, fmt.Errorf("configuring %s from class %s: %w", vm.Name, class.Name, err)
	}
	if err := c.customize(ctx, cl, ref, vm); err != nil {
		return ref, err
	}
	c.log.Info("VM Service VM created", "namespace", vm.Namespace, "name", vm.Name, "vm", ref.Value, "class", class.Name)
	return ref, nil
}

// configSpec is what a class gives a VM: its CPUs and memory, then its configSpec's device
// additions (other operations are refused when the class is made) and extraConfig.
func configSpec(class *vmopv1.VirtualMachineClass) (types.VirtualMachineConfigSpec, error) {
	spec := types.VirtualMachineConfigSpec{
		NumCPUs:  int32(class.Spec.Hardware.Cpus),
		MemoryMB: class.Spec.Hardware.Memory.Value() >> 20,
	}
	// A class's reservations (a guaranteed class reserves all of its CPU and memory) are the VM's
	// own, at the resource model's speed of a vCPU.
	if cpu := class.Spec.Policies.Resources.Requests.Cpu; !cpu.IsZero() {
		mhz := cpu.MilliValue() * drs.DefaultCPUMHzPerVCPU / 1000
		spec.CpuAllocation = &types.ResourceAllocationInfo{Reservation: &mhz}
	}
	if mem := class.Spec.Policies.Resources.Requests.Memory; !mem.IsZero() {
		mb := mem.Value() >> 20
		spec.MemoryAllocation = &types.ResourceAllocationInfo{Reservation: &mb}
	}
	if len(class.Spec.ConfigSpec) == 0 {
		return spec, nil
	}
	fromClass, err := inventory.DecodeConfigSpec(class.Spec.ConfigSpec)
	if err != nil {
		return spec, fmt.Errorf("VM class %s: spec.configSpec: %w", class.Name, err)
	}
	for _, ch := range fromClass.DeviceChange {
		if d := ch.GetVirtualDeviceConfigSpec(); d != nil && d.Operation == types.VirtualDeviceConfigSpecOperationAdd && d.Device != nil {
			spec.DeviceChange = append(spec.DeviceChange, ch)
		}
	}
	spec.ExtraConfig = slices.Clone(fromClass.ExtraConfig)
	return spec, nil
}

// bootstrapExtraConfig passes cloud-init user data the way VM Operator does for its CloudInit
// bootstrap provider: base64 in guestinfo.userdata; a raw document from a Secret, or one rendered
// from the inline cloudConfig (cloudconfig.go).
func bootstrapExtraConfig(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine) ([]types.BaseOptionValue, error) {
	b := vm.Spec.Bootstrap
	if b == nil || b.CloudInit == nil {
		return nil, nil
	}
	var data []byte
	switch ci := b.CloudInit; {
	case ci.RawCloudConfig != nil:
		sel := ci.RawCloudConfig
		raw, err := secretValue(ctx, cl, vm.Namespace, "spec.bootstrap.cloudInit.rawCloudConfig", sel.Name, sel.Key)
		if err != nil {
			return nil, err
		}
		data = []byte(raw)
	case ci.CloudConfig != nil || len(ci.SSHAuthorizedKeys) > 0:
		cc := ci.CloudConfig
		if cc == nil {
			cc = &vmopv1cloudinit.CloudConfig{}
		}
		var err error
		if data, err = cloudConfigUserData(ctx, cl, vm, cc, ci.SSHAuthorizedKeys); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	return []types.BaseOptionValue{
		&types.OptionValue{Key: "guestinfo.userdata", Value: base64.StdEncoding.EncodeToString(data)},
		&types.OptionValue{Key: "guestinfo.userdata.encoding", Value: "base64"},
	}, nil
}

// bootstrapVAppConfig passes spec.bootstrap.vAppConfig as vApp properties read through the
// guestinfo OVF environment, the way VM Operator's vAppConfig bootstrap provider does: each of
// properties (a value, or a Secret's key), or every key of the Secret rawProperties names.
func bootstrapVAppConfig(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine) (types.BaseVmConfigSpec, error) {
	b := vm.Spec.Bootstrap
	if b == nil || b.VAppConfig == nil {
		return nil, nil
	}
	values := map[string]string{}
	if name := b.VAppConfig.RawProperties; name != "" {
		var s corev1.Secret
		if err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: name}, &s); err != nil {
			return nil, fmt.Errorf("spec.bootstrap.vAppConfig.rawProperties: Secret %s: %w", name, err)
		}
		for k, v := range s.Data {
			values[k] = string(v)
		}
	}
	for i, p := range b.VAppConfig.Properties {
		if p.Value.Value == nil && p.Value.From == nil {
			continue
		}
		v, err := valueOrSecret(ctx, cl, vm.Namespace, fmt.Sprintf("spec.bootstrap.vAppConfig.properties[%d].value", i), p.Value)
		if err != nil {
			return nil, err
		}
		values[p.Key] = v
	}
	keys := slices.Sorted(maps.Keys(values))
	spec := &types.VmConfigSpec{OvfEnvironmentTransport: []string{"com.vmware.guestInfo"}}
	for i, k := range keys {
		spec.Property = append(spec.Property, types.VAppPropertySpec{
			ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd},
			Info:            &types.VAppPropertyInfo{Key: int32(i), Id: k, Value: values[k], Type: "string", UserConfigurable: types.NewBool(true)},
		})
	}
	return spec, nil
}

// power brings the VM to the power state asked for (PoweredOn when none is), in the modes asked
// for (power.go).
func (c *Controller) power(ctx context.Context, ref types.ManagedObjectReference, spec *vmopv1.VirtualMachineSpec) error {
	vmObj := object.NewVirtualMachine(c.inv.Client(), ref)
	state, err := vmObj.PowerState(ctx)
	if err != nil {
		return err
	}
	switch want := spec.PowerState; {
	case (want == "" || want == vmopv1.VirtualMachinePowerStateOn) && state != types.VirtualMachinePowerStatePoweredOn:
		return runTask(ctx)(vmObj.PowerOn(ctx))
	case want == vmopv1.VirtualMachinePowerStateOff && state != types.VirtualMachinePowerStatePoweredOff:
		if state == types.VirtualMachinePowerStateSuspended {
			return runTask(ctx)(vmObj.PowerOff(ctx)) // a suspended guest cannot be asked
		}
		return powerOff(ctx, vmObj, spec.PowerOffMode)
	case want == vmopv1.VirtualMachinePowerStateSuspended && state == types.VirtualMachinePowerStatePoweredOn:
		return suspend(ctx, vmObj, spec.SuspendMode)
	}
	return nil
}

// observe reports the VM in the VirtualMachine's status.
func (c *Controller) observe(ctx context.Context, cluster string, ref types.ManagedObjectReference, vm *vmopv1.VirtualMachine) error {
	var m mo.VirtualMachine
	if err := property.DefaultCollector(c.inv.Client()).RetrieveOne(ctx, ref, []string{"config.uuid", "config.instanceUuid", "runtime"}, &m); err != nil {
		return err
	}
	c.own(ref, cluster, vm.Namespace, vm.Name)
	st := &vm.Status
	st.UniqueID = ref.Value
	if m.Config != nil {
		st.BiosUUID, st.InstanceUUID = m.Config.Uuid, m.Config.InstanceUuid
	}
	switch m.Runtime.PowerState {
	case types.VirtualMachinePowerStatePoweredOn:
		st.PowerState = vmopv1.VirtualMachinePowerStateOn
	case types.VirtualMachinePowerStateSuspended:
		st.PowerState = vmopv1.VirtualMachinePowerStateSuspended
	default:
		st.PowerState = vmopv1.VirtualMachinePowerStateOff
	}
	st.NodeName = ""
	if h := m.Runtime.Host; h != nil {
		var host mo.HostSystem
		if err := property.DefaultCollector(c.inv.Client()).RetrieveOne(ctx, *h, []string{"name"}, &host); err == nil {
			st.NodeName = host.Name
		}
	}
	st.Zone = cluster
	return nil
}

// deleteVM powers off and destroys the VirtualMachine's VM, if it has one.
func (c *Controller) deleteVM(ctx context.Context, cluster string, vm *vmopv1.VirtualMachine) error {
	ref, found, err := c.findVM(ctx, cluster, vm)
	if err != nil || !found {
		return err
	}
	vmObj := object.NewVirtualMachine(c.inv.Client(), ref)
	if state, err := vmObj.PowerState(ctx); err == nil && state != types.VirtualMachinePowerStatePoweredOff {
		if task, err := vmObj.PowerOff(ctx); err == nil {
			_ = task.Wait(ctx)
		}
	}
	task, err := vmObj.Destroy(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil && !fault.Is(err, &types.ManagedObjectNotFound{}) {
		return fmt.Errorf("deleting VM %s of %s/%s: %w", ref.Value, vm.Namespace, vm.Name, err)
	}
	c.disown(ref)
	c.log.Info("VM Service VM deleted", "namespace", vm.Namespace, "name", vm.Name, "vm", ref.Value)
	return nil
}
