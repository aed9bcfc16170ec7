package inventory

import (
	"bytes"
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// NamespacesFolder is the VM folder under a datacenter's vm folder that holds the Supervisors'
// folders and the namespaces' folders, as on a vCenter with Workload Management.
const NamespacesFolder = "Namespaces"

// VMFolder returns the VM folder at path below the vm folder of datacenter (a MoRef value),
// creating what is missing when create is set; found is false when it does not exist and create is
// not set. Names are looked up through the search index, so the cost does not grow with the
// number of folders.
func (inv *Inventory) VMFolder(ctx context.Context, datacenter string, create bool, path ...string) (folder *object.Folder, found bool, err error) {
	c := inv.Client()
	folders, err := object.NewDatacenter(c, types.ManagedObjectReference{Type: "Datacenter", Value: datacenter}).Folders(ctx)
	if err != nil {
		return nil, false, err
	}
	parent := folders.VmFolder
	for _, name := range path {
		ref, err := object.NewSearchIndex(c).FindChild(ctx, parent, name)
		if err != nil {
			return nil, false, fmt.Errorf("looking for VM folder %s: %w", name, err)
		}
		if ref != nil && ref.Reference().Type == "Folder" {
			parent = object.NewFolder(c, ref.Reference())
			continue
		}
		if !create {
			return nil, false, nil
		}
		if parent, err = parent.CreateFolder(ctx, name); err != nil {
			return nil, false, fmt.Errorf("creating VM folder %s: %w", name, err)
		}
	}
	return parent, true, nil
}

// DecodeConfigSpec decodes a VirtualMachineConfigSpec in the vSphere API's JSON (govmomi's
// discriminator-aware codec). That decoder panics on some malformed input (a wrapped primitive's
// "_typeName" without "_value" where a list belongs); such input is an error like any other.
func DecodeConfigSpec(b []byte) (spec *types.VirtualMachineConfigSpec, err error) {
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("a property does not hold what its _typeName says (%v)", p)
		}
	}()
	spec = &types.VirtualMachineConfigSpec{}
	if err := types.NewJSONDecoder(bytes.NewReader(b)).Decode(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// ChildPool finds the resource pool named name directly under the pool parent (a MoRef value)
// through the search index; found is false when there is none (or the child of that name is a VM).
func (inv *Inventory) ChildPool(ctx context.Context, parent, name string) (pool types.ManagedObjectReference, found bool, err error) {
	ref, err := object.NewSearchIndex(inv.Client()).FindChild(ctx, types.ManagedObjectReference{Type: "ResourcePool", Value: parent}, name)
	if err != nil || ref == nil || ref.Reference().Type != "ResourcePool" {
		return types.ManagedObjectReference{}, false, err
	}
	return ref.Reference(), true, nil
}
