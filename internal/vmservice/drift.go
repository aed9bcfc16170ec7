package vmservice

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
)

// Drift: a VM changed or removed through /sdk behind VM Service's back is brought back to what
// its VirtualMachine says (its class's CPUs and memory, its power state; a removed VM is made
// again), and a Warning event on the VirtualMachine says what was corrected. The inventory is
// followed through a property collector on every VM, so the correction does not wait for the
// informers' resync, and every VM is looked at again every driftResync besides.

// driftProperties are the VM properties whose change brings the VM's VirtualMachine round.
var driftProperties = []string{"runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB"}

// driftResync is how often every VM VM Service made is looked at again, whatever the property
// collector reported: a change it did not report is corrected within that time.
const driftResync = 15 * time.Second

// followInventory brings a VirtualMachine round whenever its VM changes or goes, and every
// driftResync, until ctx ends.
func (c *Controller) followInventory(ctx context.Context) {
	go func() {
		tick := time.NewTicker(driftResync)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				c.mu.Lock()
				keys := make([]string, 0, len(c.owners))
				for _, k := range c.owners {
					keys = append(keys, k)
				}
				c.mu.Unlock()
				for _, k := range keys {
					c.enqueue(k)
				}
			}
		}
	}()
	for ctx.Err() == nil {
		if err := c.watchVMs(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("following the inventory's VMs; trying again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// watchVMs follows VM Service's VMs through one property collector, keeping its version between
// waits so no change is missed. It watches a list view of the VMs it owns, kept in step by own and
// disown, not every VM of the inventory: the simulator's collector reads every object of a filter
// at each wait, so watching the pod VMs and everyone else's too would cost every wait as much as
// the inventory is large. Its first answer lists every VM: their VirtualMachines are brought round
// once, for what changed while nobody followed.
func (c *Controller) watchVMs(ctx context.Context) error {
	vc := c.inv.Client()
	c.mu.Lock()
	owned := make([]types.ManagedObjectReference, 0, len(c.owners))
	for ref := range c.owners {
		owned = append(owned, ref)
	}
	c.mu.Unlock()
	vms, err := view.NewManager(vc).CreateListView(ctx, owned)
	if err != nil {
		return err
	}
	defer func() {
		c.mu.Lock()
		c.watched = nil
		c.mu.Unlock()
		_ = vms.Destroy(context.WithoutCancel(ctx))
	}()
	c.mu.Lock()
	c.watched = vms
	// A VM owned since the list was read joins it now.
	var since []types.ManagedObjectReference
	for ref := range c.owners {
		if !slices.Contains(owned, ref) {
			since = append(since, ref)
		}
	}
	c.mu.Unlock()
	if len(since) > 0 {
		if _, err := vms.Add(ctx, since); err != nil {
			return err
		}
	}
	pc, err := property.DefaultCollector(vc).Create(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy(context.WithoutCancel(ctx)) }()
	filter := new(property.WaitFilter).Add(vms.Reference(), "VirtualMachine", driftProperties, vms.TraversalSpec())
	if _, err := pc.CreateFilter(ctx, filter.CreateFilter); err != nil {
		return err
	}
	// Each wait ends after a while with nothing to say, so no request stays open for long: the
	// inventory's listener waits for open requests when it closes.
	req := types.WaitForUpdatesEx{This: pc.Reference(), Options: &types.WaitOptions{MaxWaitSeconds: types.NewInt32(2)}}
	for first := true; ctx.Err() == nil; {
		res, err := methods.WaitForUpdatesEx(ctx, vc, &req)
		if err != nil {
			return err
		}
		set := res.Returnval
		if set == nil {
			continue
		}
		req.Version = set.Version
		for _, fs := range set.FilterSet {
			for _, u := range fs.ObjectSet {
				if k, ok := c.ownerOf(u.Obj); ok && (first || u.Kind != types.ObjectUpdateKindEnter) {
					c.enqueue(k)
				}
			}
		}
		first = false
	}
	return ctx.Err()
}

// own records that ref is the VM of the VirtualMachine namespace/name on cluster, and has the
// drift watcher follow it.
func (c *Controller) own(ctx context.Context, ref types.ManagedObjectReference, cluster, namespace, name string) {
	c.mu.Lock()
	_, known := c.owners[ref]
	c.owners[ref] = key(kindVM, cluster, namespace, name)
	watched := c.watched
	c.mu.Unlock()
	if !known && watched != nil {
		// Best effort: a VM the view missed is looked at every driftResync all the same.
		_, _ = watched.Add(ctx, []types.ManagedObjectReference{ref})
	}
}

func (c *Controller) disown(ctx context.Context, ref types.ManagedObjectReference) {
	c.mu.Lock()
	_, known := c.owners[ref]
	delete(c.owners, ref)
	watched := c.watched
	c.mu.Unlock()
	if known && watched != nil {
		_, _ = watched.Remove(ctx, []types.ManagedObjectReference{ref})
	}
}

func (c *Controller) ownerOf(ref types.ManagedObjectReference) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.owners[ref]
	return k, ok
}

// correct gives the VM back its class's CPUs and memory if they were changed behind VM Service's
// back.
func (c *Controller) correct(ctx context.Context, cl client.Client, ref types.ManagedObjectReference, vm *vmopv1.VirtualMachine, class *vmopv1.VirtualMachineClass) error {
	var m mo.VirtualMachine
	if err := property.DefaultCollector(c.inv.Client()).RetrieveOne(ctx, ref, []string{"config.hardware", "runtime.powerState"}, &m); err != nil {
		return err
	}
	if m.Config == nil {
		return nil
	}
	cpus, memMB := int32(class.Spec.Hardware.Cpus), int32(class.Spec.Hardware.Memory.Value()>>20)
	hw := m.Config.Hardware
	if hw.NumCPU == cpus && hw.MemoryMB == memMB {
		return nil
	}
	// Taking CPUs or memory away needs the VM off (no hot remove); power then follows the spec
	// again.
	vmObj := object.NewVirtualMachine(c.inv.Client(), ref)
	if m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		if err := runTask(ctx)(vmObj.PowerOff(ctx)); err != nil {
			return fmt.Errorf("powering %s/%s off to give it its class's hardware back: %w", vm.Namespace, vm.Name, err)
		}
	}
	spec := types.VirtualMachineConfigSpec{NumCPUs: cpus, MemoryMB: int64(memMB)}
	if err := runTask(ctx)(vmObj.Reconfigure(ctx, spec)); err != nil {
		return fmt.Errorf("giving %s/%s its class's hardware back: %w", vm.Namespace, vm.Name, err)
	}
	c.warn(ctx, cl, vm, "HardwareCorrected", fmt.Sprintf("VM %s had %d CPUs and %d MiB of memory, changed outside VM Service; "+
		"it has its class %s's %d CPUs and %d MiB again", ref.Value, hw.NumCPU, hw.MemoryMB, class.Name, cpus, memMB))
	return nil
}

// warn records a Warning event on the VirtualMachine (best effort: an event that cannot be
// written is logged).
func (c *Controller) warn(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine, reason, message string) {
	c.log.Warn(message, "namespace", vm.Namespace, "name", vm.Name, "reason", reason)
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: vm.Name + ".", Namespace: vm.Namespace},
		InvolvedObject: corev1.ObjectReference{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachine",
			Namespace: vm.Namespace, Name: vm.Name, UID: vm.UID, ResourceVersion: vm.ResourceVersion},
		Reason: reason, Message: message, Type: corev1.EventTypeWarning, Count: 1,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: ControllerUser},
	}
	if err := cl.Create(ctx, ev); err != nil {
		c.log.Warn("recording an event", "namespace", vm.Namespace, "name", vm.Name, "err", err)
	}
}
