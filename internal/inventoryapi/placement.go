package inventoryapi

import (
	"context"
	"slices"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/vapi"
)

// placementSpec is what vcenter.VM's placement structures (PlacementSpec, ClonePlacementSpec,
// RelocatePlacementSpec, InstantClonePlacementSpec, RegisterPlacementSpec) have in common; a nil
// field is unset. Each operation fills the fields its structure has.
type placementSpec struct {
	Folder, ResourcePool, Host, Cluster, Datastore *string
}

// placement is a placement whose objects were found: nil where the spec left a part unset and
// nothing could be derived from the rest.
type placement struct {
	folder    *types.ManagedObjectReference
	pool      *types.ManagedObjectReference
	host      *types.ManagedObjectReference
	datastore *types.ManagedObjectReference
	dsName    string // the datastore's name, with datastore
	// owner is the compute resource a named cluster or host makes the VM's; poolDerived says that
	// pool is its root pool because no pool was named.
	owner       *types.ManagedObjectReference
	poolDerived bool
}

// resolvePlacement finds every object p names, answering NOT_FOUND naming the kind and id of one
// that does not exist and INVALID_ARGUMENT naming the field (below field, e.g. "spec.placement")
// of one that does not fit the others: a folder that holds no VMs, a host outside the cluster, a
// pool of another cluster or host, a datastore the host does not mount. A cluster or host named
// without a pool places the VM in its root pool, as vCenter does.
func (f *Family) resolvePlacement(ctx context.Context, p placementSpec, field string) (placement, error) {
	var out placement
	if p.Folder != nil {
		var fo mo.Folder
		if err := f.get(ctx, "Folder", "Folder", *p.Folder, []string{"childType"}, &fo); err != nil {
			return out, err
		}
		if !slices.Contains(fo.ChildType, "VirtualMachine") {
			return out, vapi.InvalidArgument(field+".folder", *p.Folder, "the folder does not hold virtual machines")
		}
		out.folder = &fo.Self
	}
	var cluster *mo.ClusterComputeResource
	if p.Cluster != nil {
		cluster = &mo.ClusterComputeResource{}
		if err := f.get(ctx, "ClusterComputeResource", "Cluster", *p.Cluster, []string{"resourcePool", "host"}, cluster); err != nil {
			return out, err
		}
	}
	// owner is the compute resource the VM's pool must belong to: the cluster's, or the host's.
	var owner *types.ManagedObjectReference
	if cluster != nil {
		owner = &cluster.Self
	}
	var host *mo.HostSystem
	if p.Host != nil {
		host = &mo.HostSystem{}
		if err := f.get(ctx, "HostSystem", "Host", *p.Host, []string{"parent", "datastore"}, host); err != nil {
			return out, err
		}
		if host.Parent == nil {
			return out, vapi.InvalidArgument(field+".host", *p.Host, "the host belongs to no compute resource")
		}
		if cluster != nil && *host.Parent != cluster.Self {
			return out, vapi.InvalidArgument(field+".host", *p.Host, "the host is not in cluster "+cluster.Self.Value)
		}
		owner = host.Parent
		out.host = &host.Self
	}
	if p.ResourcePool != nil {
		var pool mo.ResourcePool
		if err := f.get(ctx, "ResourcePool", "Resource pool", *p.ResourcePool, []string{"owner"}, &pool); err != nil {
			return out, err
		}
		if owner != nil && pool.Owner != *owner {
			return out, vapi.InvalidArgument(field+".resource_pool", *p.ResourcePool, "the pool belongs to "+pool.Owner.Value+", not to "+owner.Value)
		}
		out.pool = &pool.Self
	} else if owner != nil {
		var cr mo.ComputeResource
		if err := f.get(ctx, owner.Type, "Compute resource", owner.Value, []string{"resourcePool"}, &cr); err != nil {
			return out, err
		}
		out.pool, out.poolDerived = cr.ResourcePool, true
	}
	out.owner = owner
	if p.Datastore != nil {
		var ds mo.Datastore
		if err := f.get(ctx, "Datastore", "Datastore", *p.Datastore, []string{"name", "host"}, &ds); err != nil {
			return out, err
		}
		mounted := func(h types.ManagedObjectReference) bool {
			return slices.ContainsFunc(ds.Host, func(m types.DatastoreHostMount) bool { return m.Key == h })
		}
		switch {
		case host != nil && !mounted(host.Self):
			return out, vapi.InvalidArgument(field+".datastore", *p.Datastore, "host "+host.Self.Value+" does not mount the datastore")
		case host == nil && cluster != nil && !slices.ContainsFunc(cluster.Host, mounted):
			return out, vapi.InvalidArgument(field+".datastore", *p.Datastore, "no host of cluster "+cluster.Self.Value+" mounts the datastore")
		}
		out.datastore, out.dsName = &ds.Self, ds.Name
	}
	return out, nil
}

// keepPool leaves the pool unset (the VM keeps its own, current) when the placement only derived
// it from a cluster or host that the VM's pool already belongs to: vCenter moves a VM to another
// pool only when asked, or when it changes compute resource.
func (f *Family) keepPool(ctx context.Context, p *placement, current *types.ManagedObjectReference) error {
	if !p.poolDerived || current == nil {
		return nil
	}
	var pool mo.ResourcePool
	if err := f.get(ctx, current.Type, "Resource pool", current.Value, []string{"owner"}, &pool); err != nil {
		return err
	}
	if p.owner != nil && pool.Owner == *p.owner {
		p.pool, p.poolDerived = nil, false
	}
	return nil
}

// folderObject, poolObject and hostObject are the placement's objects for govmomi's calls (nil
// when unset).
func (p placement) folderObject(f *Family) *object.Folder {
	if p.folder == nil {
		return nil
	}
	return object.NewFolder(f.deps.Inventory.Client(), *p.folder)
}

func (p placement) poolObject(f *Family) *object.ResourcePool {
	if p.pool == nil {
		return nil
	}
	return object.NewResourcePool(f.deps.Inventory.Client(), *p.pool)
}

func (p placement) hostObject(f *Family) *object.HostSystem {
	if p.host == nil {
		return nil
	}
	return object.NewHostSystem(f.deps.Inventory.Client(), *p.host)
}
