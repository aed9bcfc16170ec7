package inventory

import (
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Generation counts the changes made to the inventory. Two equal readings mean that nothing in the
// inventory changed between them, so figures computed from it in between are still current; that
// is what lets the API families keep what they derive from the inventory (usage, which VMs use a
// class) instead of reading it on every request.
//
// To make that hold, the count moves forward:
//   - before every SOAP method that is not known to only read (the simulator's method hook), so a
//     reader that started earlier cannot keep what it read;
//   - after the simulator applies a change (its registry announces every object put, updated and
//     removed, including the end of every task);
//   - after every SOAP request, through wcpd's listener or the internal client, during which it
//     moved: a few methods (a resource pool's UpdateConfig, for one) change objects in place
//     without announcing it, and a reader that took its reading between the method's start and
//     its change must not keep what it read once the caller has the answer.
//
// The count is read before computing and stored with the result; a result whose stored count
// differs from the current one is recomputed.
func (inv *Inventory) Generation() uint64 { return inv.generation.Load() }

// TopologyGeneration is Generation for the compute topology alone: datacenters, folders,
// clusters, hosts and switches, what Clusters reports. It moves as Generation does for every
// change except those made to workloads (resource pools, VMs and the tasks that change them),
// which come and go far more often (every namespace has a pool) and do not change it.
func (inv *Inventory) TopologyGeneration() uint64 { return inv.topology.Load() }

// workloadTypes are the managed object types whose changes leave the compute topology as it was.
// A change to any other type, or a task on one, moves TopologyGeneration (a wrong guess costs a
// recomputation, never a stale answer).
var workloadTypes = setOf("ResourcePool", "VirtualApp", "VirtualMachine", "VirtualMachineSnapshot",
	"PropertyCollector", "PropertyFilter", "ContainerView", "ListView", "InventoryView", "ViewManager",
	"SearchIndex", "SessionManager", "EventManager", "EventHistoryCollector", "TaskManager",
	"TaskHistoryCollector", "VirtualDiskManager", "FileManager", "OvfManager", "CustomFieldsManager")

// changesTopology says whether a change to obj may change the compute topology. A task counts
// by the object it works on, so the end of a task on a host moves the count and the end of one
// on a pool does not.
func changesTopology(obj mo.Reference) bool {
	ref := obj.Reference()
	if ref.Type == "Task" {
		// The registry hands over the simulator's task when it is put, its vSphere object when
		// it is updated.
		var entity *types.ManagedObjectReference
		switch t := obj.(type) {
		case *simulator.Task:
			entity = t.Info.Entity
		case *mo.Task:
			entity = t.Info.Entity
		}
		return entity == nil || !workloadTypes[entity.Type]
	}
	return !workloadTypes[ref.Type]
}

// generations are the counts of changes: to anything, and to the compute topology, with the log of
// the objects each change touched (changes.go).
type generations struct {
	all, topology *atomic.Uint64
	log           *changeLog
}

// moved moves the counts for a change that touched refs. The count and the log move together, so
// a reader that loads the count and later asks the log what changed since cannot miss an entry.
func (g generations) moved(topology bool, refs ...types.ManagedObjectReference) {
	if len(refs) == 0 {
		g.all.Add(1)
	} else {
		g.log.mu.Lock()
		n := g.all.Add(1)
		for _, ref := range refs {
			g.log.add(n, ref)
		}
		g.log.mu.Unlock()
	}
	if topology {
		g.topology.Add(1)
	}
}

// readOnlyMethods are the SOAP methods that never change the inventory; every other method counts
// as a change (a wrong guess costs a recomputation, never a stale answer).
var readOnlyMethods = setOf(
	// property collector and views
	"RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx",
	"Fetch", "WaitForUpdates", "WaitForUpdatesEx", "CheckForUpdates", "CancelWaitForUpdates",
	"CreateFilter", "DestroyPropertyFilter", "CreatePropertyCollector", "DestroyPropertyCollector",
	"CreateContainerView", "CreateListView", "CreateListViewFromView", "CreateInventoryView", "DestroyView",
	// search index
	"FindChild", "FindByInventoryPath", "FindByUuid", "FindAllByUuid", "FindByIp", "FindAllByIp",
	"FindByDnsName", "FindAllByDnsName", "FindByDatastorePath",
	// sessions, settings, permissions
	"RetrieveServiceContent", "RetrieveInternalContent", "CurrentTime", "Login", "Logout", "SessionIsActive",
	"AcquireCloneTicket", "AcquireGenericServiceTicket", "QueryOptions", "HasPrivilegeOnEntity",
	"HasPrivilegeOnEntities", "FetchUserPrivilegeOnEntities", "RetrieveAllPermissions",
	"RetrieveEntityPermissions", "RetrieveRolePermissions",
	// events, tasks, performance, configuration options
	"QueryEvents", "CreateCollectorForEvents", "CreateCollectorForTasks", "ReadNextEvents",
	"ReadPreviousEvents", "ReadNextTasks", "ReadPreviousTasks", "RewindCollector", "ResetCollector",
	"DestroyCollector", "SetCollectorPageSize", "QueryPerf", "QueryPerfCounter", "QueryPerfCounterByLevel",
	"QueryAvailablePerfMetric", "QueryPerfProviderSummary", "QueryConfigOption", "QueryConfigOptionDescriptor",
	"QueryConfigOptionEx", "QueryConfigTarget", "QueryTargetCapabilities",
)

func setOf(names ...string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

// countChanges is the simulator's method hook: it moves the generation before any method that may
// change the inventory, then applies the login policy, then hands the methods the inventory adds
// to the simulator, or serves itself, to their handler (instantclone.go, poolcreate.go).
func (inv *Inventory) countChanges(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
	if !readOnlyMethods[method.Name] {
		inv.counts().moved(!workloadTypes[method.This.Type], changedByMethod(method)...)
	}
	if h, fault := refuseUncheckedLogins(ctx, method); h != nil || fault != nil {
		return h, fault
	}
	addedMethods(ctx, method)
	inv.poolNames.methodCalled(ctx, method)
	inv.vmPlacements.methodCalled(ctx, method)
	return nil, nil
}

func (inv *Inventory) counts() generations {
	return generations{all: &inv.generation, topology: &inv.topology, log: &inv.changes}
}

// changeListener hears the simulator's registry announce every change.
type changeListener struct{ generations }

// Reference names the listener in the registry's handler table.
func (l changeListener) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdChangeListener", Value: "generation"}
}

func (l changeListener) PutObject(_ *simulator.Context, obj mo.Reference) {
	l.moved(changesTopology(obj), announcedRefs(obj)...)
}

func (l changeListener) UpdateObject(_ *simulator.Context, obj mo.Reference, _ []types.PropertyChange) {
	l.moved(changesTopology(obj), announcedRefs(obj)...)
}

func (l changeListener) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if ref.Type == "Task" {
		l.moved(false) // a finished task going changes nothing
		return
	}
	l.moved(!workloadTypes[ref.Type], ref)
}

// afterChanges runs fn and moves each count once more if it moved while fn ran (see Generation:
// the change is complete when fn returns).
func afterChanges(g generations, fn func()) {
	all, topology := g.all.Load(), g.topology.Load()
	fn()
	if g.all.Load() != all {
		g.moved(g.topology.Load() != topology)
	}
}
