// Package vmclasses owns the VM classes of the VM Service (issue 5): the
// namespace_management.virtual_machine_classes operations, the default best-effort-* and
// guaranteed-* classes every installation starts with, config_spec handling through govmomi's
// vSphere JSON codec, and the removal of classes that VMs still use. It offers the
// platform.VMClasses contract to the other families.
package vmclasses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// service is the vAPI service below com.vmware.vcenter.
const service = "namespace_management.virtual_machine_classes"

// removalPollInterval is how often a class being removed looks again for VMs that use it.
const removalPollInterval = 10 * time.Second

// Family is the vmclasses API family.
type Family struct {
	deps     *platform.Deps
	classes  *store.Collection[class]
	seeded   *store.Collection[seededDefaults]
	removals *controller.Controller
	// classUsage keeps which VMs use which class (usage.go); answers keeps encoded gets (answers.go).
	classUsage classUsage
	answers    answers
}

// New builds the family and offers its contract to the other families.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d}
	if d.Families != nil {
		d.Families.VMClasses = f
	}
	return f
}

// Register attaches the family's handlers.
func (f *Family) Register(r *vapi.Registry) {
	r.Handle(service, "create", f.create)
	r.Handle(service, "get", f.get)
	r.Handle(service, "list", f.list)
	// Classes are records in the store, and the VMs that use them are in the inventory: the API
	// keeps the answers of their reads (answers.go keeps each class's part for the list besides).
	r.Keep(service, "get", "list")
	r.Handle(service, "update", f.update)
	r.Handle(service, "delete", f.delete)
}

// Start opens the store, creates the default classes that were never created, and resumes the
// removal of classes deleted while in use.
func (f *Family) Start(ctx context.Context) error {
	var err error
	if f.classes, err = store.NewCollection[class](f.deps.Store, "vmclasses"); err != nil {
		return err
	}
	if f.seeded, err = store.NewCollection[seededDefaults](f.deps.Store, "vmclasses-defaults"); err != nil {
		return err
	}
	if err := f.seedDefaults(ctx); err != nil {
		return err
	}
	f.removals = controller.New("vmclasses-removal", controller.Func(f.reconcileRemoval), f.deps.Clock, f.deps.Logger)
	f.deps.Controllers.Add(f.removals)
	for _, r := range f.classes.ListShared() {
		if r.Value.Removing {
			f.removals.Enqueue(r.Key)
		}
	}
	return nil
}

// VMClass implements platform.VMClasses.
func (f *Family) VMClass(id string) (platform.VMClassState, bool) {
	if f.classes == nil {
		return platform.VMClassState{}, false
	}
	r, ok := f.classes.Get(id)
	if !ok {
		return platform.VMClassState{}, false
	}
	c := r.Value
	return platform.VMClassState{ID: c.ID, CPUCount: c.CPUCount, MemoryMB: c.MemoryMB, ConfigStatus: c.status(),
		Description: c.Description, CPUReservation: c.CPUReservation, MemoryReservation: c.MemoryReservation,
		ConfigSpec: c.ConfigSpec}, true
}

// WatchChanges implements platform.VMClasses.
func (f *Family) WatchChanges(ctx context.Context, fn func(id string)) { f.classes.WatchKeys(ctx, fn) }

func notFound(id string) error { return vapi.NotFound("VM class", id) }

func (f *Family) create(c *vapi.Call) (any, error) {
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	limits, err := f.hostLimits(c.Ctx)
	if err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	if r := idProblem(spec.ID); r != "" {
		errs.Add("spec.id", spec.ID, r)
	}
	limits.checkCPUs(&errs, "spec.cpu_count", spec.CPUCount)
	limits.checkMemory(&errs, "spec.memory_MB", spec.MemoryMB)
	checkPercent(&errs, "spec.cpu_reservation", spec.CPUReservation)
	checkPercent(&errs, "spec.memory_reservation", spec.MemoryReservation)
	next := class{ID: spec.ID, CPUCount: spec.CPUCount, MemoryMB: spec.MemoryMB,
		CPUReservation: spec.CPUReservation, MemoryReservation: spec.MemoryReservation}
	if spec.Description != nil {
		next.Description = *spec.Description
	}
	if spec.Devices != nil {
		checkDevices(&errs, "spec.devices", *spec.Devices)
		next.Devices = *spec.Devices
	}
	if spec.InstanceStorage != nil {
		if err := f.checkInstanceStorage(c.Ctx, &errs, "spec.instance_storage", spec.InstanceStorage); err != nil {
			return nil, err
		}
		next.InstanceStorage = spec.InstanceStorage
	}
	if cs := spec.ConfigSpec; cs != nil {
		checkConfigSpecFor(&errs, "spec.config_spec", cs)
		if n := int64(cs.spec.NumCPUs); n > 0 && n != spec.CPUCount {
			errs.Add("spec.config_spec.numCPUs", n, fmt.Sprintf("disagrees with spec.cpu_count, which is %d", spec.CPUCount))
		}
		if m := cs.spec.MemoryMB; m > 0 && m != spec.MemoryMB {
			errs.Add("spec.config_spec.memoryMB", m, fmt.Sprintf("disagrees with spec.memory_MB, which is %d", spec.MemoryMB))
		}
		next.ConfigSpec = cs.canonical
	}
	checkPassthroughReservation(&errs, "spec.memory_reservation", next)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if _, err := f.classes.Create(c.Ctx, next.ID, next); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.vmclasses.already_exists", "VM class %q already exists.", next.ID)
		}
		return nil, err
	}
	return nil, nil
}

// update applies a PATCH: fields left out keep their values. What the request gives wins over
// what is stored: a new cpu_count or memory_MB is written into the stored config spec where that
// spec sets numCPUs or memoryMB, and a new config spec's numCPUs or memoryMB sets the class's
// size. Two values given in the same request must agree.
func (f *Family) update(c *vapi.Call) (any, error) {
	id := c.Path("vm_class")
	var spec UpdateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	limits, err := f.hostLimits(c.Ctx)
	if err != nil {
		return nil, err
	}
	// The change is applied to the class as stored, again if another request changed it in
	// between: requests that change different fields all keep their change, as namespaces do.
	_, err = f.classes.Mutate(c.Ctx, id, func(next *class) error {
		if next.Removing {
			return vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.vmclasses.removing",
				"VM class %q is being removed and can no longer be changed.", id)
		}
		var errs vapi.FieldErrors
		if spec.ID != nil && *spec.ID != id {
			errs.Add("spec.id", *spec.ID, fmt.Sprintf("the class is %s; its id cannot change", id))
		}
		// govc sends 0 for the size flag it was not given, and 0 is never a valid size: it leaves
		// the value as it is.
		cpusGiven := spec.CPUCount != nil && *spec.CPUCount != 0
		memoryGiven := spec.MemoryMB != nil && *spec.MemoryMB != 0
		if cpusGiven {
			limits.checkCPUs(&errs, "spec.cpu_count", *spec.CPUCount)
			next.CPUCount = *spec.CPUCount
		}
		if memoryGiven {
			limits.checkMemory(&errs, "spec.memory_MB", *spec.MemoryMB)
			next.MemoryMB = *spec.MemoryMB
		}
		if spec.CPUReservation != nil {
			checkPercent(&errs, "spec.cpu_reservation", spec.CPUReservation)
			next.CPUReservation = spec.CPUReservation
		}
		if spec.MemoryReservation != nil {
			checkPercent(&errs, "spec.memory_reservation", spec.MemoryReservation)
			next.MemoryReservation = spec.MemoryReservation
		}
		if spec.Description != nil {
			next.Description = *spec.Description
		}
		if d := spec.Devices; d != nil {
			if d.VGPUDevices != nil {
				checkVGPUDevices(&errs, "spec.devices.vgpu_devices", *d.VGPUDevices)
				next.Devices.VGPUDevices = *d.VGPUDevices
			}
			if d.DynamicDirectPathIODevices != nil {
				checkDirectPathIODevices(&errs, "spec.devices.dynamic_direct_path_IO_devices", *d.DynamicDirectPathIODevices)
				next.Devices.DynamicDirectPathIODevices = *d.DynamicDirectPathIODevices
			}
		}
		if spec.InstanceStorage != nil {
			if err := f.checkInstanceStorage(c.Ctx, &errs, "spec.instance_storage", spec.InstanceStorage); err != nil {
				return err
			}
			next.InstanceStorage = spec.InstanceStorage
		}
		if cs := spec.ConfigSpec; cs != nil {
			checkConfigSpecFor(&errs, "spec.config_spec", cs)
			if n := int64(cs.spec.NumCPUs); n > 0 {
				if cpusGiven && n != *spec.CPUCount {
					errs.Add("spec.config_spec.numCPUs", n, fmt.Sprintf("disagrees with spec.cpu_count, which is %d", *spec.CPUCount))
				} else if !cpusGiven {
					limits.checkCPUs(&errs, "spec.config_spec.numCPUs", n)
					next.CPUCount = n
				}
			}
			if m := cs.spec.MemoryMB; m > 0 {
				if memoryGiven && m != *spec.MemoryMB {
					errs.Add("spec.config_spec.memoryMB", m, fmt.Sprintf("disagrees with spec.memory_MB, which is %d", *spec.MemoryMB))
				} else if !memoryGiven {
					limits.checkMemory(&errs, "spec.config_spec.memoryMB", m)
					next.MemoryMB = m
				}
			}
			next.ConfigSpec = cs.canonical
		} else if next.ConfigSpec != nil && (cpusGiven || memoryGiven) {
			resized, err := withSize(next.ConfigSpec, next.CPUCount, next.MemoryMB)
			if err != nil {
				return err
			}
			next.ConfigSpec = resized
		}
		checkPassthroughReservation(&errs, "spec.memory_reservation", *next)
		return errs.Err()
	})
	if err != nil {
		var ve *vapi.Error
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, storeError(id, err)
	}
	return nil, nil
}

// storeError turns a failed write into the error the client sees.
func storeError(id string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(id)
	case errors.Is(err, store.ErrConflict):
		return vapi.Errorf(vapi.ErrorConcurrentChange, "wcpd.vmclasses.concurrent_change",
			"VM class %q was changed by another request; read it again and retry.", id)
	}
	return err
}

// get answers a class as info renders it. The answer is encoded once and sent again while the
// class, the VMs using it and the namespaces offering it are what it was made from (answers.go).
func (f *Family) get(c *vapi.Call) (any, error) {
	id := c.Path("vm_class")
	rev := f.classes.Revision() // read first: a record taken after it is at least as new
	usage, err := f.vmsByClass(c.Ctx)
	if err != nil {
		return nil, err
	}
	vms, namespaces := usage[id], f.offeringNamespaces(id)
	if body, ok := f.answers.lookup(id, rev, vms, namespaces); ok {
		return body, nil
	}
	r, ok := f.classes.Get(id)
	if !ok {
		return nil, notFound(id)
	}
	body, err := json.Marshal(f.info(r.Value, vms, namespaces))
	if err != nil {
		return nil, fmt.Errorf("encoding VM class %s: %w", id, err)
	}
	f.answers.keep(id, rev, vms, namespaces, body)
	return vapi.Raw(body), nil
}

// list answers every class as get does, from the same kept answers: a class whose inputs did not
// change is not encoded again, and the list is the kept bodies joined (the bytes json.Marshal
// would write for the slice of them).
func (f *Family) list(c *vapi.Call) (any, error) {
	rev := f.classes.Revision() // read first, as in get
	usage, err := f.vmsByClass(c.Ctx)
	if err != nil {
		return nil, err
	}
	records := f.classes.ListShared()
	bodies := make([][]byte, 0, len(records))
	size := 2
	for _, r := range records {
		vms, namespaces := usage[r.Key], f.offeringNamespaces(r.Key)
		body, ok := f.answers.lookup(r.Key, rev, vms, namespaces)
		if !ok {
			if body, err = json.Marshal(f.info(*r.Value, vms, namespaces)); err != nil {
				return nil, fmt.Errorf("encoding VM class %s: %w", r.Key, err)
			}
			f.answers.keep(r.Key, rev, vms, namespaces, body)
		}
		bodies = append(bodies, body)
		size += len(body) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, b := range bodies {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return vapi.Raw(append(out, ']')), nil
}

// info renders a class used by vms and offered by namespaces; the class is shared with the
// store's cache and is only read.
func (f *Family) info(c class, vms, namespaces []string) Info {
	in := Info{
		ID: c.ID, CPUCount: c.CPUCount, CPUReservation: c.CPUReservation, MemoryMB: c.MemoryMB,
		MemoryReservation: c.MemoryReservation, Description: c.Description,
		Namespaces: slices.Clone(namespaces), VMs: slices.Clone(vms),
		ConfigStatus: c.status(), Messages: []Message{}, InstanceStorage: c.InstanceStorage,
		ConfigSpec: c.ConfigSpec,
	}
	if in.VMs == nil {
		in.VMs = []string{}
	}
	if !c.Devices.empty() {
		d := c.Devices
		in.Devices = &d
	}
	if c.Removing {
		in.Messages = append(in.Messages, Message{Severity: "INFO", Details: &LocalizableMessage{
			ID: "wcpd.vmclasses.removing",
			DefaultMessage: fmt.Sprintf("VM class %s is being removed; it goes once no virtual machine uses it (%d still do).",
				c.ID, len(vms)),
			Args: []string{c.ID, fmt.Sprint(len(vms))},
		}})
	}
	return in
}

// offeringNamespaces lists the namespaces whose vm_service_spec offers the class, sorted. Without
// the namespaces family no namespace offers anything.
func (f *Family) offeringNamespaces(id string) []string {
	out := []string{}
	if ns := f.deps.Families.Namespaces; ns != nil {
		out = append(out, ns.OfferingVMClass(id)...)
		slices.Sort(out)
	}
	return out
}

// delete removes a class at once when no VM uses it. A class in use is kept with config_status
// REMOVING, so namespaces no longer offer it to new VMs, and goes when its last VM does. Either
// way the class is first marked as removing, so a restart in between finishes the removal.
func (f *Family) delete(c *vapi.Call) (any, error) {
	id := c.Path("vm_class")
	r, ok := f.classes.Get(id)
	if !ok {
		return nil, notFound(id)
	}
	if !r.Value.Removing {
		next := r.Value
		next.Removing = true
		if _, err := f.classes.Update(c.Ctx, id, r.Revision, next); err != nil {
			return nil, storeError(id, err)
		}
	}
	// The removal is recorded: whatever is left to do, the controller does.
	res, err := f.reconcileRemoval(c.Ctx, id)
	switch {
	case err != nil:
		f.removals.Enqueue(id)
	case res.RequeueAfter > 0:
		f.removals.EnqueueAfter(id, res.RequeueAfter)
	}
	return nil, nil
}

// reconcileRemoval finishes the removal of a class marked as removing once no VM uses it: the
// namespaces stop offering it, then the record goes.
func (f *Family) reconcileRemoval(ctx context.Context, id string) (controller.Result, error) {
	r, ok := f.classes.Get(id)
	if !ok || !r.Value.Removing {
		return controller.Result{}, nil
	}
	usage, err := f.vmsByClass(ctx)
	if err != nil {
		return controller.Result{}, err
	}
	if len(usage[id]) > 0 {
		return controller.Result{RequeueAfter: removalPollInterval}, nil
	}
	if ns := f.deps.Families.Namespaces; ns != nil {
		if err := ns.ForgetVMClass(ctx, id); err != nil {
			return controller.Result{}, fmt.Errorf("taking VM class %s out of the namespaces: %w", id, err)
		}
	}
	if err := f.classes.Delete(ctx, id, r.Revision); err != nil && !errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, err
	}
	return controller.Result{}, nil
}
