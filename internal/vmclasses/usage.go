package vmclasses

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
)

// ExtraConfigKey is the extraConfig key that names the VM class a virtual machine of the inventory
// was created from: VM Service (internal/vmservice) sets it on the VMs it makes, and a VM given it
// by hand (`govc vm.change -e wcpd.vmClass=<class>`, register_vm) counts as using the class too, so
// get's vms and the removal of classes in use work on real inventory objects.
const ExtraConfigKey = "wcpd.vmClass"

// classUsage is what vmsByClass last read, with the inventory's generation before it was read.
type classUsage struct {
	mu         sync.Mutex
	read       bool
	generation uint64
	byClass    map[string][]string
}

// vmsByClass reports which VMs of the inventory use which class: class id → VM MoRef ids, sorted.
// Templates are not VMs that run, so they do not count. What it read is kept until the inventory
// changes (a get of a class would otherwise read every VM); the map is shared and read-only.
func (f *Family) vmsByClass(ctx context.Context) (map[string][]string, error) {
	u := &f.classUsage
	generation := f.deps.Inventory.Generation()
	u.mu.Lock()
	if u.read && u.generation == generation {
		defer u.mu.Unlock()
		return u.byClass, nil
	}
	u.mu.Unlock()
	byClass, err := f.readVMsByClass(ctx)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	u.read, u.generation, u.byClass = true, generation, byClass
	u.mu.Unlock()
	return byClass, nil
}

// readVMsByClass reads vmsByClass's answer from the inventory.
func (f *Family) readVMsByClass(ctx context.Context) (map[string][]string, error) {
	c := f.deps.Inventory.Client()
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, fmt.Errorf("reading the inventory's VMs: %w", err)
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"config.extraConfig", "config.template"}, &vms); err != nil {
		return nil, fmt.Errorf("reading the inventory's VMs: %w", err)
	}
	out := map[string][]string{}
	for _, vm := range vms {
		if vm.Config == nil || vm.Config.Template {
			continue
		}
		for _, o := range vm.Config.ExtraConfig {
			opt := o.GetOptionValue()
			if opt.Key != ExtraConfigKey {
				continue
			}
			if id, ok := opt.Value.(string); ok && id != "" {
				out[id] = append(out[id], vm.Self.Value)
			}
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}
