package inventory

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// VM changes are announced to subscribers straight from the simulator's registry, which tells its
// handlers of every object it puts, changes and removes. A property collector filter over the VMs
// would say the same, but the simulator's collector reads every object of a filter again at each
// change anywhere in the inventory: watching a thousand VMs that way costs, at rest, what a
// thousand reads cost at each task the inventory runs.

// VMChange is one change of a VM: made (or changed) or removed.
type VMChange struct {
	VM      types.ManagedObjectReference
	Removed bool
}

// vmWatch is the registry handler that passes VM changes on.
type vmWatch struct {
	mu   sync.Mutex
	next int
	subs map[int]func(VMChange)
}

// Reference names the handler in the registry's handler table.
func (w *vmWatch) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdVMWatch", Value: "vms"}
}

func (w *vmWatch) PutObject(_ *simulator.Context, obj mo.Reference) { w.tell(obj.Reference(), false) }

func (w *vmWatch) UpdateObject(_ *simulator.Context, obj mo.Reference, _ []types.PropertyChange) {
	w.tell(obj.Reference(), false)
}

func (w *vmWatch) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	w.tell(ref, true)
}

// tell calls the subscribers; they run under the registry's lock, so they must only note the
// change (enqueue a key) and never call the inventory.
func (w *vmWatch) tell(ref types.ManagedObjectReference, removed bool) {
	if ref.Type != "VirtualMachine" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.subs {
		fn(VMChange{VM: ref, Removed: removed})
	}
}

// OnVMChange calls fn for every VM made, changed or removed until cancel is called. fn runs while
// the inventory holds its lock: it must not block or call the inventory (enqueueing a key is what
// it is for).
func (inv *Inventory) OnVMChange(fn func(VMChange)) (cancel func()) {
	w := inv.vmWatch
	w.mu.Lock()
	id := w.next
	w.next++
	if w.subs == nil {
		w.subs = map[int]func(VMChange){}
	}
	w.subs[id] = fn
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.subs, id)
		w.mu.Unlock()
	}
}
