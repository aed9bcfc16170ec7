// Package inventoryapi serves vCenter's inventory API next to the Supervisor API — the lists and
// gets people look ids up with (/api/vcenter/cluster, datacenter, datastore, folder, host,
// network, resource-pool, storage/policies, vm) and the VM operations (get, create, clone,
// instant clone, relocate, delete, register, unregister) — from the embedded inventory, read
// through its property collector and PBM and changed through govmomi's calls as a client would,
// so what govc or wcpd's controllers change shows at once; and, through a gateway to the
// inventory's /rest handler, tagging and content library on /api (gateway.go). Shapes are those
// of vcenter-api-neighbours.md; being registry operations, they answer on /api, /rest and
// JSON-RPC alike.
package inventoryapi

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// maxResults is how many objects a list answers at most: past it vCenter answers
// UNABLE_TO_ALLOCATE_RESOURCE and asks for a narrower filter.
const maxResults = 1000

// Family serves the inventory operations.
type Family struct {
	deps *platform.Deps
	// names makes the check that a new VM's name is free in its folder and the VM's making one
	// step (the embedded inventory's CreateVM does not refuse a taken name, as vCenter does).
	names sync.Mutex
}

// New returns the family.
func New(d *platform.Deps) *Family { return &Family{deps: d} }

// Register attaches the handlers.
func (f *Family) Register(r *vapi.Registry) {
	r.Handle("cluster", "list", f.clusterList)
	r.Handle("cluster", "get", f.clusterGet)
	r.Handle("datacenter", "list", f.datacenterList)
	r.Handle("datacenter", "get", f.datacenterGet)
	r.Handle("datastore", "list", f.datastoreList)
	r.Handle("datastore", "get", f.datastoreGet)
	r.Handle("folder", "list", f.folderList)
	r.Handle("host", "list", f.hostList)
	r.Handle("network", "list", f.networkList)
	r.Handle("resource_pool", "list", f.resourcePoolList)
	r.Handle("resource_pool", "get", f.resourcePoolGet)
	r.Handle("storage.policies", "list", f.policyList)
	r.Handle("VM", "list", f.vmList)
	r.Handle("VM", "get", f.vmGet)
	r.Handle("VM", "create", f.vmCreate)
	r.Handle("VM", "clone", f.vmClone)
	r.Handle("VM", "instant_clone", f.vmInstantClone)
	r.Handle("VM", "relocate", f.vmRelocate)
	r.Handle("VM", "delete", f.vmDelete)
	r.Handle("VM", "register", f.vmRegister)
	r.Handle("VM", "unregister", f.vmUnregister)
	f.registerGateway(r)
	// These reads answer from the inventory's SOAP side alone, which counts its every change, so the
	// API keeps their answers. Storage policies live in the PBM endpoint, which counts its own
	// changes; the gateway keeps some of its reads by the count of the requests the simulator's
	// REST services served (gateway.go).
	for _, service := range []string{"cluster", "datacenter", "datastore", "resource_pool", "VM"} {
		r.Keep(service, "get", "list")
	}
	r.Keep("folder", "list")
	r.Keep("host", "list")
	r.Keep("network", "list")
	r.KeepVersioned("storage.policies", "list", func() (vapi.KeptVersion, bool) {
		return vapi.KeptVersion{f.deps.Inventory.PolicyGeneration()}, true
	})
}

// Start has nothing to start: every answer is read from the inventory when asked.
func (f *Family) Start(context.Context) error { return nil }

// tree is every managed entity's name and parent, by MoRef value, for the filters on folders and
// datacenters.
type tree map[string]node

type node struct {
	ref    types.ManagedObjectReference
	name   string
	parent string // MoRef value; "" for the root folder
}

// retrieve reads objects of kind with props (Inventory.Retrieve).
func (f *Family) retrieve(ctx context.Context, kind string, props []string, dst any) error {
	return f.deps.Inventory.Retrieve(ctx, kind, props, dst)
}

// treeIf reads the tree only when needed: when a filter names folders, datacenters or the like.
// Unfiltered lists, the common case, save a walk of the whole inventory.
func (f *Family) treeIf(ctx context.Context, needed bool) (tree, error) {
	if !needed {
		return tree{}, nil
	}
	return f.tree(ctx)
}

func (f *Family) tree(ctx context.Context) (tree, error) {
	var entities []mo.ManagedEntity
	if err := f.retrieve(ctx, "ManagedEntity", []string{"name", "parent"}, &entities); err != nil {
		return nil, fmt.Errorf("reading the inventory: %w", err)
	}
	t := make(tree, len(entities))
	for _, e := range entities {
		n := node{ref: e.Self, name: e.Name}
		if e.Parent != nil {
			n.parent = e.Parent.Value
		}
		t[e.Self.Value] = n
	}
	return t, nil
}

// datacenter is the datacenter id holds, or "".
func (t tree) datacenter(id string) string {
	for cur := t[id].parent; cur != ""; cur = t[cur].parent {
		if t[cur].ref.Type == "Datacenter" {
			return cur
		}
	}
	return ""
}

// filter is the common part of the list filters: ids, names, the parent folders and the
// datacenters an object must be in. An empty set does not filter.
type filter struct {
	ids, names, folders, datacenters []string
}

func (fl filter) admits(t tree, id, name string) bool {
	return (len(fl.ids) == 0 || slices.Contains(fl.ids, id)) &&
		(len(fl.names) == 0 || slices.Contains(fl.names, name)) &&
		(len(fl.folders) == 0 || slices.Contains(fl.folders, t[id].parent)) &&
		(len(fl.datacenters) == 0 || slices.Contains(fl.datacenters, t.datacenter(id)))
}

// limited answers out, or UNABLE_TO_ALLOCATE_RESOURCE past maxResults, as vCenter does.
func limited[T any](kind string, out []T) (any, error) {
	if len(out) > maxResults {
		return nil, vapi.Errorf(vapi.ErrorUnableToAllocate, "wcpd.inventory.too_many",
			"%d %s match the filter, more than the %d a list answers; narrow the filter.", len(out), kind, maxResults)
	}
	return out, nil
}

// byID sorts answers by their ids' numbers, the order objects were made in.
func byID[T any](out []T, id func(T) string) {
	sort.SliceStable(out, func(i, j int) bool { return inventory.CompareIDs(id(out[i]), id(out[j])) < 0 })
}

// get answers the object id of kind, NOT_FOUND naming it when the inventory has no such object.
func (f *Family) get(ctx context.Context, kind, label, id string, props []string, dst mo.Reference) error {
	if id == "" {
		return vapi.NotFound(label, id)
	}
	err := property.DefaultCollector(f.deps.Inventory.Client()).RetrieveOne(ctx, types.ManagedObjectReference{Type: kind, Value: id}, props, dst)
	if fault.Is(err, &types.ManagedObjectNotFound{}) {
		return vapi.NotFound(label, id)
	}
	return err
}
