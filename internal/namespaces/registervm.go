package namespaces

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"sigs.k8s.io/yaml"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vmclasses"
)

// This file serves namespaces.instances.register_vm (vSphere 8.0U3): it takes a VM that VM Service
// once managed (restored from a backup, say) back under VM Service in its namespace. VM Service
// keeps each VM's VirtualMachine resource in the VM's extraConfig; registering reads it back,
// records the registration (what the Supervisor keeps as the VirtualMachine resource) and marks the
// VM as a VM Service VM of its class. docs/namespaces.md describes the behaviour.

const (
	// registrationKind is the store kind of registrations, keyed by the VM's MoRef id.
	registrationKind = "namespaces-vms"
	// vmResourceKey is the extraConfig key where VM Service keeps the VM's VirtualMachine resource:
	// YAML, which VM Service itself writes gzip-compressed and base64-encoded.
	vmResourceKey = "vmservice.virtualmachine.resource.yaml"
	// vmOperatorGroup is the API group of VM Service's VirtualMachine resources.
	vmOperatorGroup = "vmoperator.vmware.com"
	// maxResourceBytes bounds the decompressed resource, so a hostile value cannot exhaust memory.
	maxResourceBytes = 1 << 20

	// taskExtensionKey is the vSphere extension that declares register_vm's task type: vSphere only
	// creates tasks of types an extension declared.
	taskExtensionKey   = "com.wcpd.namespaces"
	registerVMTaskType = "com.wcpd.namespaces.registerVM"
	// taskIDSuffix follows the Task MoRef in the task id register_vm answers; clients take the part
	// before the colon as the Task (govmomi's vapi.Task).
	taskIDSuffix = ":com.vmware.vcenter.namespaces.instances"
	// taskAppearTries bounds how often a new task's first state change is tried while the inventory
	// has not yet added the task it just created (govmomi's simulator adds it asynchronously).
	taskAppearTries = 200
)

// RegisterVMSpec is Instances.RegisterVMSpec (vSphere 8.0U3).
type RegisterVMSpec struct {
	VM string `json:"vm"`
}

// Registration states.
const (
	registrationRunning = "REGISTERING"
	registrationDone    = "REGISTERED"
)

// registration is one VM registered, or being registered, with VM Service in a namespace.
type registration struct {
	VM string `json:"vm"` // VirtualMachine MoRef id
	// InstanceUUID tells this VM from a later one that got the same MoRef id (the embedded inventory
	// is rebuilt at every start and hands out the same ids again).
	InstanceUUID string `json:"instance_uuid"`
	Namespace    string `json:"namespace"`
	// NamespaceCreated tells the namespace from a later one of the same name.
	NamespaceCreated time.Time `json:"namespace_created"`
	// Resource and Class are the VirtualMachine resource's metadata.name and spec.className.
	Resource     string    `json:"resource"`
	Class        string    `json:"class"`
	State        string    `json:"state"`
	Task         string    `json:"task"` // MoRef id of the vSphere Task reporting the registration
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	RegisteredAt time.Time `json:"registered_at,omitzero"`
}

// registrations is the family's registration state: the records, the controller that carries
// registrations out, and whether the task type is known to vSphere yet.
type registrations struct {
	records *store.Collection[registration]
	ctl     *controller.Controller

	taskTypeMu    sync.Mutex
	taskTypeKnown bool
}

// startRegistrations opens the registrations and hands every one to the controller: registrations
// under way when wcpd stopped finish, and those of namespaces removed since are dropped.
func (f *Family) startRegistrations() error {
	records, err := store.NewCollection[registration](f.deps.Store, registrationKind)
	if err != nil {
		return err
	}
	f.registrations.records = records
	f.registrations.ctl = controller.New("namespaces-registervm", controller.Func(f.reconcileRegistration), f.deps.Clock, f.deps.Logger)
	f.deps.Controllers.Add(f.registrations.ctl)
	for _, r := range records.ListShared() {
		f.registrations.ctl.Enqueue(r.Key)
	}
	return nil
}

// registerVM serves POST /api/vcenter/namespaces/instances/{namespace}/registervm. It checks
// everything a registration needs, starts a vSphere Task on the VM, records the registration and
// answers the task's id; the controller then marks the VM and ends the task.
func (f *Family) registerVM(c *vapi.Call) (any, error) {
	var spec RegisterVMSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	name := c.Path("namespace")
	nsRec, ok := f.records.Get(name)
	if !ok {
		return nil, vapi.NotFound("Namespace", name)
	}
	ns := &nsRec.Value
	if err := f.changeable(ns); err != nil {
		return nil, err
	}
	if ns.Status.ConfigStatus != StatusRunning {
		return nil, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.registervm.not_running",
			fmt.Sprintf("Namespace %q is %s; VMs are registered only in a RUNNING namespace.", name, ns.Status.ConfigStatus),
			name, ns.Status.ConfigStatus)
	}
	if strings.TrimSpace(spec.VM) == "" {
		return nil, vapi.InvalidArgument("spec.vm", spec.VM, "a virtual machine id is required")
	}
	want, vm, err := f.checkRegistrable(c.Ctx, ns, spec.VM)
	if err != nil {
		return nil, err
	}

	regs := f.registrations.records
	cur, exists := regs.Get(spec.VM)
	if exists && f.sameRegistration(&cur.Value, want) {
		switch {
		case cur.Value.State == registrationRunning:
			return nil, vapi.NewError(vapi.ErrorAlreadyInDesiredState, "wcpd.namespaces.registervm.running",
				fmt.Sprintf("VM %s is already being registered in namespace %q (task %s).", spec.VM, name, cur.Value.Task),
				spec.VM, name, cur.Value.Task)
		case vm.extraConfig[vmclasses.ExtraConfigKey] == cur.Value.Class:
			return nil, vapi.NewError(vapi.ErrorAlreadyInDesiredState, "wcpd.namespaces.registervm.registered",
				fmt.Sprintf("VM %s is already registered in namespace %q as VirtualMachine %q of class %s.", spec.VM, name, cur.Value.Resource, cur.Value.Class),
				spec.VM, name, cur.Value.Resource, cur.Value.Class)
		}
		// Registered, but the VM lost its class mark since (restored from an older backup, say):
		// registering again brings it back, as vCenter re-syncs a restored VM.
	}
	if err := f.checkResourceNameFree(c.Ctx, want); err != nil {
		return nil, err
	}

	want.RequestedBy, want.RequestedAt, want.State = c.Principal.String(), f.now(), registrationRunning
	taskRef, err := f.startRegisterTask(c.Ctx, vm.ref, want.RequestedBy)
	if err != nil {
		return nil, err
	}
	want.Task = taskRef.Value
	if exists {
		_, err = regs.Update(c.Ctx, spec.VM, cur.Revision, *want)
	} else {
		_, err = regs.Create(c.Ctx, spec.VM, *want)
	}
	if err != nil {
		// Nothing was recorded: the task must not stay running.
		f.endTask(context.WithoutCancel(c.Ctx), want, taskFailure(nil, "The registration could not be recorded; nothing was changed."))
		if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return nil, vapi.NewError(vapi.ErrorConcurrentChange, "wcpd.namespaces.registervm.concurrent",
				fmt.Sprintf("VM %s was being registered by another request at the same time; retry.", spec.VM), spec.VM)
		}
		return nil, err
	}
	if exists && cur.Value.State == registrationRunning && cur.Value.Task != want.Task {
		// An unfinished registration of another VM that had this MoRef id, or of this VM in another
		// namespace, is replaced: its task ends rather than waiting forever.
		old := cur.Value
		f.endTask(context.WithoutCancel(c.Ctx), &old, taskFailure(nil, fmt.Sprintf("A later registration of %s replaced this one.", spec.VM)))
	}
	f.registrations.ctl.Enqueue(spec.VM)
	return taskRef.Value + taskIDSuffix, nil
}

// sameRegistration reports whether stored is a registration of the VM and resource want describes,
// in the same namespace (not an earlier namespace of the same name).
func (f *Family) sameRegistration(stored, want *registration) bool {
	return stored.InstanceUUID == want.InstanceUUID && stored.Namespace == want.Namespace &&
		stored.NamespaceCreated.Equal(want.NamespaceCreated) && stored.Resource == want.Resource && stored.Class == want.Class
}

// vmFacts is what a registration reads of a VM.
type vmFacts struct {
	ref          types.ManagedObjectReference
	template     bool
	instanceUUID string
	pool         string // MoRef id of its resource pool, "" when it has none
	extraConfig  map[string]string
}

// readVM reads a VM of the inventory; nil when there is no VM with that id.
func readVM(ctx context.Context, c *vim25.Client, id string) (*vmFacts, error) {
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: id}
	var vm mo.VirtualMachine
	err := property.DefaultCollector(c).RetrieveOne(ctx, ref,
		[]string{"config.template", "config.instanceUuid", "config.extraConfig", "resourcePool"}, &vm)
	switch {
	case fault.Is(err, &types.ManagedObjectNotFound{}), fault.Is(err, &types.InvalidProperty{}):
		return nil, nil // no such object, or one that is not a VM
	case err != nil:
		return nil, fmt.Errorf("reading VM %s: %w", id, err)
	case vm.Self.Type != "VirtualMachine":
		return nil, nil
	}
	out := &vmFacts{ref: ref, extraConfig: map[string]string{}}
	if vm.ResourcePool != nil {
		out.pool = vm.ResourcePool.Value
	}
	if vm.Config != nil {
		out.template, out.instanceUUID = vm.Config.Template, vm.Config.InstanceUuid
		for _, o := range vm.Config.ExtraConfig {
			opt := o.GetOptionValue()
			if s, ok := opt.Value.(string); ok {
				out.extraConfig[opt.Key] = s
			}
		}
	}
	return out, nil
}

// checkRegistrable checks that the VM named id can be registered in ns and returns the
// registration it would make. Every problem with the VM is an INVALID_ARGUMENT naming spec.vm.
func (f *Family) checkRegistrable(ctx context.Context, ns *record, id string) (*registration, *vmFacts, error) {
	bad := func(format string, args ...any) error {
		return vapi.InvalidArgument("spec.vm", id, fmt.Sprintf(format, args...))
	}
	sup, ok := f.supervisorOf(ns.Cluster)
	if !ok || sup.NamespacesPool == "" {
		return nil, nil, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.registervm.no_supervisor_pool",
			fmt.Sprintf("The Supervisor of namespace %q has no Namespaces resource pool at the moment.", ns.Name), ns.Name, ns.Cluster)
	}
	c := f.deps.Inventory.Client()
	vm, err := readVM(ctx, c, id)
	if err != nil {
		return nil, nil, err
	}
	if vm == nil {
		return nil, nil, bad("no virtual machine with this id exists")
	}
	if vm.template {
		return nil, nil, bad("it is a template, not a virtual machine")
	}
	pool, err := findChildPool(ctx, f.deps.Inventory, sup.NamespacesPool, ns.Name)
	if err != nil && !errors.Is(err, errParentGone) {
		return nil, nil, err
	}
	if pool == nil {
		return nil, nil, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.registervm.no_pool",
			fmt.Sprintf("Namespace %q has no resource pool at the moment.", ns.Name), ns.Name)
	}
	if vm.pool != pool.ID {
		return nil, nil, bad("the VM is in resource pool %q, not in namespace %q's resource pool %s", vm.pool, ns.Name, pool.ID)
	}
	raw, ok := vm.extraConfig[vmResourceKey]
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil, bad("the VM carries no VM Service resource (extraConfig %s)", vmResourceKey)
	}
	res, problem := parseVMResource(raw)
	if problem != "" {
		return nil, nil, bad("its VM Service resource (extraConfig %s) %s", vmResourceKey, problem)
	}
	if res.Metadata.Namespace != ns.Name {
		return nil, nil, bad("its VirtualMachine resource belongs to namespace %q (metadata.namespace), not %q", res.Metadata.Namespace, ns.Name)
	}
	if !f.vmClassExists(res.Spec.ClassName) {
		return nil, nil, bad("its VirtualMachine resource names VM class %q (spec.className), which does not exist or is being deleted", res.Spec.ClassName)
	}
	if vm.instanceUUID == "" {
		return nil, nil, bad("the VM has no instance UUID")
	}
	return &registration{VM: id, InstanceUUID: vm.instanceUUID, Namespace: ns.Name, NamespaceCreated: ns.CreatedAt,
		Resource: res.Metadata.Name, Class: res.Spec.ClassName}, vm, nil
}

// vmResource is the part of a VM Service VirtualMachine resource a registration reads.
type vmResource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		ClassName string `json:"className"`
	} `json:"spec"`
}

// parseVMResource reads the VirtualMachine resource kept in a VM's extraConfig, as VM Service
// writes it (gzip-compressed and base64-encoded) or as plain YAML (or JSON). It returns what is
// wrong with it, "" when nothing is.
func parseVMResource(value string) (vmResource, string) {
	doc := []byte(value)
	if packed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value)); err == nil && len(packed) > 2 && packed[0] == 0x1f && packed[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(packed))
		if err != nil {
			return vmResource{}, "is not valid gzip data: " + err.Error()
		}
		if doc, err = io.ReadAll(io.LimitReader(zr, maxResourceBytes+1)); err != nil {
			return vmResource{}, "is not valid gzip data: " + err.Error()
		}
	}
	if len(doc) > maxResourceBytes {
		return vmResource{}, fmt.Sprintf("is larger than %d bytes", maxResourceBytes)
	}
	var res vmResource
	if err := yaml.Unmarshal(doc, &res); err != nil {
		return vmResource{}, "is not a YAML document: " + err.Error()
	}
	group, version, _ := strings.Cut(res.APIVersion, "/")
	switch {
	case res.Kind != "VirtualMachine" || group != vmOperatorGroup || version == "":
		return vmResource{}, fmt.Sprintf("is a %q of %q, not a VirtualMachine of %s", res.Kind, res.APIVersion, vmOperatorGroup)
	case res.Metadata.Name == "":
		return vmResource{}, "has no metadata.name"
	case res.Spec.ClassName == "":
		return vmResource{}, "names no VM class (spec.className)"
	}
	return res, ""
}

// checkResourceNameFree refuses to register a second VM under a VirtualMachine resource name that a
// registered VM of the namespace holds (a clone carries its original's resource). A registration
// whose VM has left the inventory holds nothing and is dropped.
func (f *Family) checkResourceNameFree(ctx context.Context, want *registration) error {
	for _, r := range f.registrations.records.List() {
		other := r.Value
		if r.Key == want.VM || other.Namespace != want.Namespace || !other.NamespaceCreated.Equal(want.NamespaceCreated) || other.Resource != want.Resource {
			continue
		}
		vm, err := readVM(ctx, f.deps.Inventory.Client(), other.VM)
		if err != nil {
			return err
		}
		if vm == nil || vm.instanceUUID != other.InstanceUUID {
			// Its VM is gone: it holds nothing. A finished one is dropped here; one under way is
			// left to the controller, which ends its task as it drops it.
			if other.State == registrationDone {
				if err := f.registrations.records.Delete(ctx, r.Key, r.Revision); err != nil && !errors.Is(err, store.ErrNotFound) {
					return storeError(err, want.Namespace)
				}
			}
			continue
		}
		return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.namespaces.registervm.name_taken",
			fmt.Sprintf("VM %s carries VirtualMachine %q, which namespace %q already has: VM %s is registered under that name.",
				want.VM, want.Resource, want.Namespace, other.VM),
			want.VM, want.Resource, want.Namespace, other.VM)
	}
	return nil
}

// reconcileRegistration carries the registration of the VM named key out: it marks the VM as a VM
// Service VM of its class, records it as registered and ends its task with success; a VM that
// cannot be marked ends the task with the fault and drops the registration, so it can be
// registered again once fixed. Registrations whose namespace has gone are dropped.
func (f *Family) reconcileRegistration(ctx context.Context, key string) (controller.Result, error) {
	rec, ok := f.registrations.records.Get(key)
	if !ok {
		return controller.Result{}, nil
	}
	g := rec.Value
	if ns, ok := f.records.Get(g.Namespace); !ok || !ns.Value.CreatedAt.Equal(g.NamespaceCreated) || ns.Value.removing() {
		if g.State == registrationRunning {
			f.endTask(ctx, &g, taskFailure(nil, fmt.Sprintf("Namespace %q was removed.", g.Namespace)))
		}
		return controller.Result{}, f.dropRegistration(ctx, key, rec.Revision)
	}
	if g.State != registrationRunning {
		return controller.Result{}, nil
	}
	if err := f.markVM(ctx, &g); err != nil {
		lf := asTaskFault(err)
		if lf == nil || ctx.Err() != nil {
			return controller.Result{}, err // not the VM's fault: try again (at the latest after a restart)
		}
		f.endTask(ctx, &g, lf)
		return controller.Result{}, f.dropRegistration(ctx, key, rec.Revision)
	}
	_, err := f.registrations.records.Mutate(ctx, key, func(r *registration) error {
		if r.Task != g.Task || r.State != registrationRunning {
			return errRegistrationReplaced
		}
		r.State, r.RegisteredAt = registrationDone, f.now()
		return nil
	})
	switch {
	case errors.Is(err, errRegistrationReplaced), errors.Is(err, store.ErrNotFound):
		f.registrations.ctl.Enqueue(key) // look at whatever is there now
		return controller.Result{}, nil
	case err != nil:
		return controller.Result{}, err
	}
	f.endTask(ctx, &g, nil)
	return controller.Result{}, nil
}

var errRegistrationReplaced = errors.New("the registration was replaced")

// dropRegistration deletes a registration record if it is still at rev.
func (f *Family) dropRegistration(ctx context.Context, key string, rev int64) error {
	err := f.registrations.records.Delete(ctx, key, rev)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if errors.Is(err, store.ErrConflict) {
		f.registrations.ctl.Enqueue(key) // changed meanwhile: look again
		return nil
	}
	return err
}

// registrationFailure is a reason a registration cannot go on that is the VM's, not wcpd's.
type registrationFailure struct{ fault *types.LocalizedMethodFault }

func (e registrationFailure) Error() string { return e.fault.LocalizedMessage }

// markVM marks the registered VM as a VM Service VM of its class (vmclasses.ExtraConfigKey, which
// the vmclasses family counts in a class's vms).
func (f *Family) markVM(ctx context.Context, g *registration) error {
	c := f.deps.Inventory.Client()
	vm, err := readVM(ctx, c, g.VM)
	if err != nil {
		return err
	}
	if vm == nil || vm.instanceUUID != g.InstanceUUID {
		return registrationFailure{taskFailure(&types.ManagedObjectNotFound{Obj: types.ManagedObjectReference{Type: "VirtualMachine", Value: g.VM}},
			fmt.Sprintf("VM %s is no longer in the inventory.", g.VM))}
	}
	if vm.extraConfig[vmclasses.ExtraConfigKey] == g.Class {
		return nil
	}
	t, err := object.NewVirtualMachine(c, vm.ref).Reconfigure(ctx, types.VirtualMachineConfigSpec{
		ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: vmclasses.ExtraConfigKey, Value: g.Class}},
	})
	if err != nil {
		return err
	}
	return t.Wait(ctx)
}

// taskFailure is the fault a register_vm task ends with: f (a SystemError when nil) and message.
func taskFailure(f types.BaseMethodFault, message string) *types.LocalizedMethodFault {
	if f == nil {
		f = &types.SystemError{Reason: message}
	}
	return &types.LocalizedMethodFault{Fault: f, LocalizedMessage: message}
}

// asTaskFault is the fault to end a task with for err, or nil when err is not a vSphere fault about
// the VM (a transport failure, wcpd stopping) and the work should be tried again.
func asTaskFault(err error) *types.LocalizedMethodFault {
	var rf registrationFailure
	var te task.Error // what a failed vSphere task (the VM's reconfiguration) returns
	switch {
	case errors.As(err, &rf):
		return rf.fault
	case errors.As(err, &te) && te.LocalizedMethodFault != nil:
		return te.LocalizedMethodFault
	case soap.IsSoapFault(err), soap.IsVimFault(err):
		return taskFailure(nil, "Marking the VM failed: "+err.Error())
	}
	return nil
}

// ensureTaskType makes sure vSphere knows register_vm's task type, declaring wcpd's extension once.
func (f *Family) ensureTaskType(ctx context.Context, c *vim25.Client) error {
	r := &f.registrations
	r.taskTypeMu.Lock()
	defer r.taskTypeMu.Unlock()
	if r.taskTypeKnown {
		return nil
	}
	m, err := object.GetExtensionManager(c)
	if err != nil {
		return fmt.Errorf("reaching the extension manager: %w", err)
	}
	ext, err := m.Find(ctx, taskExtensionKey)
	if err != nil {
		return fmt.Errorf("looking up extension %s: %w", taskExtensionKey, err)
	}
	if ext == nil {
		err = m.Register(ctx, types.Extension{
			Key:                    taskExtensionKey,
			Company:                "wcpd",
			Version:                "1.0",
			Description:            &types.Description{Label: "wcpd namespaces", Summary: "Tasks of wcpd's vSphere Namespaces service"},
			TaskList:               []types.ExtensionTaskTypeInfo{{TaskID: registerVMTaskType}},
			LastHeartbeatTime:      f.now(),
			ShownInSolutionManager: types.NewBool(false),
		})
		// Another wcpd sharing the inventory may have declared it meanwhile.
		if err != nil && !fault.Is(err, &types.InvalidArgument{}) {
			return fmt.Errorf("declaring extension %s: %w", taskExtensionKey, err)
		}
	}
	r.taskTypeKnown = true
	return nil
}

// startRegisterTask creates the vSphere Task that reports a registration of vm, already running.
func (f *Family) startRegisterTask(ctx context.Context, vm types.ManagedObjectReference, by string) (types.ManagedObjectReference, error) {
	c := f.deps.Inventory.Client()
	if err := f.ensureTaskType(ctx, c); err != nil {
		return types.ManagedObjectReference{}, err
	}
	res, err := methods.CreateTask(ctx, c, &types.CreateTask{This: *c.ServiceContent.TaskManager, Obj: vm,
		TaskTypeId: registerVMTaskType, InitiatedBy: by})
	if err != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("creating the register_vm task on %s: %w", vm.Value, err)
	}
	ref := res.Returnval.Task
	if err := setTaskState(ctx, c, ref, types.TaskInfoStateRunning, nil); err != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("starting task %s: %w", ref.Value, err)
	}
	return ref, nil
}

// setTaskState sets a task's state, trying again while the inventory has not added the task yet.
func setTaskState(ctx context.Context, c *vim25.Client, ref types.ManagedObjectReference, state types.TaskInfoState, failure *types.LocalizedMethodFault) error {
	t := object.NewTask(c, ref)
	var err error
	for range taskAppearTries {
		if err = t.SetState(ctx, state, nil, failure); !fault.Is(err, &types.ManagedObjectNotFound{}) {
			return err
		}
	}
	return err
}

// endTask ends g's task with success (failure nil) or with failure. It only touches the task the
// registration started, still unfinished: after a restart the inventory may have been rebuilt and the
// MoRef may name another task, or none. A task that cannot be ended is logged, not retried.
func (f *Family) endTask(ctx context.Context, g *registration, failure *types.LocalizedMethodFault) {
	if g.Task == "" {
		return
	}
	c := f.deps.Inventory.Client()
	ref := types.ManagedObjectReference{Type: "Task", Value: g.Task}
	var t mo.Task
	if err := property.DefaultCollector(c).RetrieveOne(ctx, ref, []string{"info"}, &t); err != nil {
		f.deps.Logger.Info("register_vm task is gone", "task", g.Task, "vm", g.VM, "error", err)
		return
	}
	info := t.Info
	if info.DescriptionId != registerVMTaskType || info.Entity == nil || info.Entity.Value != g.VM ||
		(info.State != types.TaskInfoStateQueued && info.State != types.TaskInfoStateRunning) {
		return
	}
	state := types.TaskInfoStateSuccess
	if failure != nil {
		state = types.TaskInfoStateError
	}
	if err := setTaskState(ctx, c, ref, state, failure); err != nil {
		f.deps.Logger.Warn("ending the register_vm task failed", "task", g.Task, "vm", g.VM, "error", err)
	}
}
