package inventory

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The simulator's CreateResourcePool refuses a name already taken under the parent by reading
// every sibling's name, while holding the parent's lock. Under a Supervisor's Namespaces pool,
// which holds a pool per namespace, creating 10,000 namespaces then costs 50 million name
// comparisons one after the other (36 % of wcpd's CPU in a profile of such a burst). The
// inventory serves CreateResourcePool on a pool itself, as the simulator does, but checks the name
// against an index of each parent's children's names.
//
// The index is a cache and is never trusted alone: a parent's entry is rebuilt whenever the number
// of its children differs from what was indexed, every entry is dropped when a pool or vApp is
// put or removed by anything but this creator or when a method that may rename or move one starts
// or ends (tasks), and a name found in it is checked against the object before it is refused. A
// pool's UpdateConfig renames it in place without announcing it: a creation of the new name at
// the very moment of the rename may pass, as it may in the simulator, whose UpdateConfig checks the
// new name against the pool's own children rather than its siblings.

// poolCreatorRef names the session's poolCreator (see methodCalled).
var poolCreatorRef = types.ManagedObjectReference{Type: "WcpdPoolCreator", Value: "pool-creator"}

// renamingMethods may change the name or the parent of a resource pool or vApp.
var renamingMethods = setOf("UpdateConfig", "Rename_Task", "MoveIntoResourcePool", "MoveInto_Task",
	"UpdateVAppConfig", "ImportVApp", "CreateVApp", "RegisterChildVM_Task")

// poolNames indexes the names of the pools and vApps directly under each resource pool.
type poolNames struct {
	mu       sync.Mutex
	byParent map[types.ManagedObjectReference]*childNames
	// creating is set while the creator puts its pool, so that its own announcement does not
	// drop the index.
	creating bool
}

type childNames struct {
	count  int // how many children the parent had when indexed
	byName map[string]types.ManagedObjectReference
}

// forget drops the whole index.
func (n *poolNames) forget() {
	n.mu.Lock()
	n.byParent = nil
	n.mu.Unlock()
}

// methodCalled is told of every SOAP method as it starts (countChanges): it drops the index for a
// method that may rename or move a pool, and hands CreateResourcePool on a resource pool to the
// session's poolCreator (the simulator dispatches a call to what its This names; the creator finds
// the pool by the request's own This, as the instant cloner does).
func (n *poolNames) methodCalled(ctx *simulator.Context, method *simulator.Method) {
	if renamingMethods[method.Name] {
		n.forget()
	}
	if method.Name != "CreateResourcePool" || ctx.Session == nil {
		return
	}
	if _, isPool := ctx.Map.Get(method.This).(*simulator.ResourcePool); !isPool {
		return
	}
	if ctx.Session.Registry.Get(poolCreatorRef) == nil {
		ctx.Session.Put(&poolCreator{Self: poolCreatorRef, names: n})
	}
	method.This = poolCreatorRef
}

// Reference names the index in the registry's handler table.
func (n *poolNames) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdPoolNames", Value: "pool-names"}
}

func (n *poolNames) PutObject(_ *simulator.Context, obj mo.Reference) { n.objectChanged(obj) }

func (n *poolNames) UpdateObject(_ *simulator.Context, obj mo.Reference, _ []types.PropertyChange) {
	n.objectChanged(obj)
}

func (n *poolNames) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if ref.Type == "ResourcePool" || ref.Type == "VirtualApp" {
		n.forget()
	}
}

// objectChanged drops the index for a pool or vApp put by someone else, and at the end of a task
// on one (a rename or a move is done by then).
func (n *poolNames) objectChanged(obj mo.Reference) {
	switch ref := obj.Reference(); ref.Type {
	case "ResourcePool", "VirtualApp":
		n.mu.Lock()
		if !n.creating {
			n.byParent = nil
		}
		n.mu.Unlock()
	case "Task":
		if t, ok := obj.(*mo.Task); ok && t.Info.Entity != nil &&
			(t.Info.Entity.Type == "ResourcePool" || t.Info.Entity.Type == "VirtualApp") {
			n.forget()
		}
	}
}

// taken returns the child of parent named name, if there is one. Called under parent's lock.
func (n *poolNames) taken(m *simulator.Registry, parent *simulator.ResourcePool, name string) (mo.Entity, bool) {
	kids := parent.ResourcePool.ResourcePool
	n.mu.Lock()
	idx := n.byParent[parent.Self]
	n.mu.Unlock()
	if idx == nil || idx.count != len(kids) {
		idx = &childNames{count: len(kids), byName: make(map[string]types.ManagedObjectReference, len(kids))}
		for _, ref := range kids {
			if e, ok := m.Get(ref).(mo.Entity); ok {
				idx.byName[e.Entity().Name] = ref
			}
		}
		n.mu.Lock()
		if n.byParent == nil {
			n.byParent = map[types.ManagedObjectReference]*childNames{}
		}
		n.byParent[parent.Self] = idx
		n.mu.Unlock()
	}
	ref, ok := idx.byName[name]
	if !ok {
		return nil, false
	}
	if e, ok := m.Get(ref).(mo.Entity); ok && e.Entity().Name == name {
		return e, true
	}
	// Stale: ask the simulator's own way.
	n.forget()
	e := m.FindByName(name, kids)
	return e, e != nil
}

// added records a child the creator made under parent.
func (n *poolNames) added(parent types.ManagedObjectReference, name string, child types.ManagedObjectReference, count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if idx := n.byParent[parent]; idx != nil && idx.count == count-1 {
		idx.byName[name] = child
		idx.count = count
	}
}

// poolCreator serves CreateResourcePool on the resource pool its request names.
type poolCreator struct {
	Self  types.ManagedObjectReference
	names *poolNames
}

// Reference is the creator's own reference.
func (c *poolCreator) Reference() types.ManagedObjectReference { return c.Self }

// CreateResourcePool is the simulator's CreateResourcePool with the name checked in the index.
func (c *poolCreator) CreateResourcePool(ctx *simulator.Context, req *types.CreateResourcePool) soap.HasFault {
	body := &methods.CreateResourcePoolBody{}
	parent, ok := ctx.Map.Get(req.This).(*simulator.ResourcePool)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.This})
		return body
	}
	ctx.Map.WithLock(ctx, parent, func() {
		if e, taken := c.names.taken(ctx.Map, parent, req.Name); taken {
			body.Fault_ = simulator.Fault("", &types.DuplicateName{Name: e.Entity().Name, Object: e.Reference()})
			return
		}
		for _, a := range []struct {
			kind string
			info *types.ResourceAllocationInfo
		}{{"cpu", &req.Spec.CpuAllocation}, {"memory", &req.Spec.MemoryAllocation}} {
			if !allocationComplete(a.info) {
				body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "spec." + a.kind + "Allocation"})
				return
			}
		}
		child := simulator.NewResourcePool(ctx)
		child.Name = req.Name
		child.Owner = parent.Owner
		// The simulator's template pool hands every new pool the same summary: each gets its own,
		// or all pools would share (and race on) one name.
		summary := *child.Summary.GetResourcePoolSummary()
		summary.Name = req.Name
		child.Summary = &summary
		child.Config.CpuAllocation = req.Spec.CpuAllocation
		child.Config.MemoryAllocation = req.Spec.MemoryAllocation
		child.Config.Entity = req.Spec.Entity

		c.names.mu.Lock()
		c.names.creating = true
		c.names.mu.Unlock()
		ctx.Map.PutEntity(parent, ctx.Map.NewEntity(child))
		c.names.mu.Lock()
		c.names.creating = false
		c.names.mu.Unlock()

		parent.ResourcePool.ResourcePool = append(parent.ResourcePool.ResourcePool, child.Reference())
		c.names.added(parent.Self, req.Name, child.Reference(), len(parent.ResourcePool.ResourcePool))
		body.Res = &types.CreateResourcePoolResponse{Returnval: child.Reference()}
	})
	return body
}

// allocationComplete is the simulator's check of a new pool's allocation: every field set, none
// out of range, and no overhead limit.
func allocationComplete(a *types.ResourceAllocationInfo) bool {
	if a.Reservation == nil || a.Limit == nil || a.ExpandableReservation == nil || a.Shares == nil {
		return false
	}
	return *a.Reservation >= 0 && *a.Limit >= -1 &&
		(a.Shares.Level != types.SharesLevelCustom || a.Shares.Shares >= 0) && a.OverheadLimit == nil
}
