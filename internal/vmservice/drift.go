package vmservice

import (
	"context"
	"fmt"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/inventory"
)

// Drift: a VM changed or removed through /sdk behind VM Service's back is brought back to what
// its VirtualMachine says (its class's CPUs and memory, its power state; a removed VM is made
// again), and a Warning event on the VirtualMachine says what was corrected. The inventory tells
// of every change of a VM as it happens, so the correction does not wait for the informers'
// resync, and every VM is looked at again every driftResync besides.

// driftProperties are the VM properties whose change brings the VM's VirtualMachine round.
var driftProperties = []string{"runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB"}

// driftResync is how often every VM VM Service made is looked at again, whatever the inventory
// announced: a change it did not announce is corrected within that time.
const driftResync = time.Minute

// followInventory brings a VirtualMachine round whenever its VM changes or goes — the inventory
// announces every change of a VM (Inventory.OnVMChange), at no cost per VM it does not concern —
// and every driftResync, until ctx ends.
func (c *Controller) followInventory(ctx context.Context) {
	stop := c.inv.OnVMChange(func(ch inventory.VMChange) {
		if k, ok := c.ownerOf(ch.VM); ok {
			c.enqueue(k)
		}
	})
	context.AfterFunc(ctx, stop)
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
}

// own records that ref is the VM of the VirtualMachine namespace/name on cluster.
func (c *Controller) own(ref types.ManagedObjectReference, cluster, namespace, name string) {
	c.mu.Lock()
	c.owners[ref] = key(kindVM, cluster, namespace, name)
	c.mu.Unlock()
}

func (c *Controller) disown(ref types.ManagedObjectReference) {
	c.mu.Lock()
	delete(c.owners, ref)
	c.mu.Unlock()
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
