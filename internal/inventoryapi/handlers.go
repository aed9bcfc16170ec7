package inventoryapi

import (
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vapi/idl"
)

// The filters and answers, field for field as the reference names them.

// The enumerations the filters take; their values are the interface metadata's.
type (
	// DatastoreType is vcenter.Datastore.Type.
	DatastoreType string
	// FolderType is vcenter.Folder.Type.
	FolderType string
	// ConnectionState is vcenter.Host.ConnectionState.
	ConnectionState string
	// NetworkType is vcenter.Network.Type.
	NetworkType string
)

// EnumValues lists the accepted values.
func (DatastoreType) EnumValues() []string { return enumValues("com.vmware.vcenter.datastore.type") }

// EnumValues lists the accepted values.
func (FolderType) EnumValues() []string { return enumValues("com.vmware.vcenter.folder.type") }

// EnumValues lists the accepted values.
func (ConnectionState) EnumValues() []string {
	return enumValues("com.vmware.vcenter.host.connection_state")
}

// EnumValues lists the accepted values.
func (NetworkType) EnumValues() []string { return enumValues("com.vmware.vcenter.network.type") }

func enumValues(name string) []string {
	if e, ok := idl.Default().Enum(name); ok {
		return e.Values
	}
	return nil
}

// ClusterFilter is vcenter.Cluster.FilterSpec.
type ClusterFilter struct {
	Clusters    []string `json:"clusters,omitempty"`
	Names       []string `json:"names,omitempty"`
	Folders     []string `json:"folders,omitempty"`
	Datacenters []string `json:"datacenters,omitempty"`
}

// ClusterSummary is vcenter.Cluster.Summary.
type ClusterSummary struct {
	Cluster    string `json:"cluster"`
	Name       string `json:"name"`
	HAEnabled  bool   `json:"ha_enabled"`
	DRSEnabled bool   `json:"drs_enabled"`
}

// ClusterInfo is vcenter.Cluster.Info.
type ClusterInfo struct {
	Name         string `json:"name"`
	ResourcePool string `json:"resource_pool"`
}

func (f *Family) clusterList(c *vapi.Call) (any, error) {
	var fl ClusterFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Folders)+len(fl.Datacenters) > 0)
	if err != nil {
		return nil, err
	}
	clusters, err := f.deps.Inventory.Clusters(c.Ctx)
	if err != nil {
		return nil, err
	}
	match := filter{ids: fl.Clusters, names: fl.Names, folders: fl.Folders, datacenters: fl.Datacenters}
	out := []ClusterSummary{}
	for _, cl := range clusters {
		if match.admits(t, cl.ID, cl.Name) {
			out = append(out, ClusterSummary{Cluster: cl.ID, Name: cl.Name, HAEnabled: cl.HAEnabled, DRSEnabled: cl.DRSEnabled})
		}
	}
	byID(out, func(s ClusterSummary) string { return s.Cluster })
	return limited("clusters", out)
}

func (f *Family) clusterGet(c *vapi.Call) (any, error) {
	var cl mo.ClusterComputeResource
	if err := f.get(c.Ctx, "ClusterComputeResource", "Cluster", c.Path("cluster"), []string{"name", "resourcePool"}, &cl); err != nil {
		return nil, err
	}
	info := ClusterInfo{Name: cl.Name}
	if cl.ResourcePool != nil {
		info.ResourcePool = cl.ResourcePool.Value
	}
	return info, nil
}

// DatacenterFilter is vcenter.Datacenter.FilterSpec.
type DatacenterFilter struct {
	Datacenters []string `json:"datacenters,omitempty"`
	Names       []string `json:"names,omitempty"`
	Folders     []string `json:"folders,omitempty"`
}

// DatacenterSummary is vcenter.Datacenter.Summary.
type DatacenterSummary struct {
	Datacenter string `json:"datacenter"`
	Name       string `json:"name"`
}

// DatacenterInfo is vcenter.Datacenter.Info.
type DatacenterInfo struct {
	Name            string `json:"name"`
	DatastoreFolder string `json:"datastore_folder"`
	HostFolder      string `json:"host_folder"`
	NetworkFolder   string `json:"network_folder"`
	VMFolder        string `json:"vm_folder"`
}

func (f *Family) datacenterList(c *vapi.Call) (any, error) {
	var fl DatacenterFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.tree(c.Ctx)
	if err != nil {
		return nil, err
	}
	match := filter{ids: fl.Datacenters, names: fl.Names, folders: fl.Folders}
	out := []DatacenterSummary{}
	for id, n := range t {
		if n.ref.Type == "Datacenter" && match.admits(t, id, n.name) {
			out = append(out, DatacenterSummary{Datacenter: id, Name: n.name})
		}
	}
	byID(out, func(s DatacenterSummary) string { return s.Datacenter })
	return limited("datacenters", out)
}

func (f *Family) datacenterGet(c *vapi.Call) (any, error) {
	var dc mo.Datacenter
	props := []string{"name", "datastoreFolder", "hostFolder", "networkFolder", "vmFolder"}
	if err := f.get(c.Ctx, "Datacenter", "Datacenter", c.Path("datacenter"), props, &dc); err != nil {
		return nil, err
	}
	return DatacenterInfo{Name: dc.Name, DatastoreFolder: dc.DatastoreFolder.Value, HostFolder: dc.HostFolder.Value,
		NetworkFolder: dc.NetworkFolder.Value, VMFolder: dc.VmFolder.Value}, nil
}

// DatastoreFilter is vcenter.Datastore.FilterSpec.
type DatastoreFilter struct {
	Datastores  []string        `json:"datastores,omitempty"`
	Names       []string        `json:"names,omitempty"`
	Types       []DatastoreType `json:"types,omitempty"`
	Folders     []string        `json:"folders,omitempty"`
	Datacenters []string        `json:"datacenters,omitempty"`
}

// DatastoreSummary is vcenter.Datastore.Summary.
type DatastoreSummary struct {
	Datastore string `json:"datastore"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	FreeSpace *int64 `json:"free_space,omitempty"`
	Capacity  *int64 `json:"capacity,omitempty"`
}

// DatastoreInfo is vcenter.Datastore.Info.
type DatastoreInfo struct {
	Name                      string `json:"name"`
	Type                      string `json:"type"`
	Accessible                bool   `json:"accessible"`
	FreeSpace                 *int64 `json:"free_space,omitempty"`
	MultipleHostAccess        bool   `json:"multiple_host_access"`
	ThinProvisioningSupported bool   `json:"thin_provisioning_supported"`
}

// datastoreType maps vSphere's summary.type (VMFS, NFS, NFS41, CIFS, vsan, VFFS, VVOL) to the enum.
func datastoreType(t string) string { return strings.ToUpper(t) }

func (f *Family) datastoreList(c *vapi.Call) (any, error) {
	var fl DatastoreFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Folders)+len(fl.Datacenters) > 0)
	if err != nil {
		return nil, err
	}
	var stores []mo.Datastore
	if err := f.retrieve(c.Ctx, "Datastore", []string{"summary"}, &stores); err != nil {
		return nil, err
	}
	match := filter{ids: fl.Datastores, names: fl.Names, folders: fl.Folders, datacenters: fl.Datacenters}
	out := []DatastoreSummary{}
	for _, ds := range stores {
		typ := datastoreType(ds.Summary.Type)
		if !match.admits(t, ds.Self.Value, ds.Summary.Name) || (len(fl.Types) > 0 && !slices.Contains(fl.Types, DatastoreType(typ))) {
			continue
		}
		free, capacity := ds.Summary.FreeSpace, ds.Summary.Capacity
		out = append(out, DatastoreSummary{Datastore: ds.Self.Value, Name: ds.Summary.Name, Type: typ, FreeSpace: &free, Capacity: &capacity})
	}
	byID(out, func(s DatastoreSummary) string { return s.Datastore })
	return limited("datastores", out)
}

func (f *Family) datastoreGet(c *vapi.Call) (any, error) {
	var ds mo.Datastore
	if err := f.get(c.Ctx, "Datastore", "Datastore", c.Path("datastore"), []string{"summary", "capability"}, &ds); err != nil {
		return nil, err
	}
	free := ds.Summary.FreeSpace
	multi := ds.Summary.MultipleHostAccess != nil && *ds.Summary.MultipleHostAccess
	return DatastoreInfo{Name: ds.Summary.Name, Type: datastoreType(ds.Summary.Type), Accessible: ds.Summary.Accessible,
		FreeSpace: &free, MultipleHostAccess: multi, ThinProvisioningSupported: ds.Capability.PerFileThinProvisioningSupported}, nil
}

// FolderFilter is vcenter.Folder.FilterSpec.
type FolderFilter struct {
	Folders       []string   `json:"folders,omitempty"`
	Names         []string   `json:"names,omitempty"`
	Type          FolderType `json:"type,omitempty"`
	ParentFolders []string   `json:"parent_folders,omitempty"`
	Datacenters   []string   `json:"datacenters,omitempty"`
}

// FolderSummary is vcenter.Folder.Summary.
type FolderSummary struct {
	Folder string `json:"folder"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

// folderType is the kind of child a folder holds, as the enum names it.
func folderType(childTypes []string) string {
	for _, ct := range childTypes {
		switch ct {
		case "Datacenter":
			return "DATACENTER"
		case "Datastore":
			return "DATASTORE"
		case "ComputeResource":
			return "HOST"
		case "Network":
			return "NETWORK"
		case "VirtualMachine":
			return "VIRTUAL_MACHINE"
		}
	}
	return ""
}

func (f *Family) folderList(c *vapi.Call) (any, error) {
	var fl FolderFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.ParentFolders)+len(fl.Datacenters) > 0)
	if err != nil {
		return nil, err
	}
	var folders []mo.Folder
	if err := f.retrieve(c.Ctx, "Folder", []string{"name", "childType"}, &folders); err != nil {
		return nil, err
	}
	match := filter{ids: fl.Folders, names: fl.Names, folders: fl.ParentFolders, datacenters: fl.Datacenters}
	out := []FolderSummary{}
	for _, fo := range folders {
		typ := folderType(fo.ChildType)
		if typ == "" || !match.admits(t, fo.Self.Value, fo.Name) || (fl.Type != "" && string(fl.Type) != typ) {
			continue
		}
		out = append(out, FolderSummary{Folder: fo.Self.Value, Name: fo.Name, Type: typ})
	}
	byID(out, func(s FolderSummary) string { return s.Folder })
	return limited("folders", out)
}

// HostFilter is vcenter.Host.FilterSpec.
type HostFilter struct {
	Hosts            []string          `json:"hosts,omitempty"`
	Names            []string          `json:"names,omitempty"`
	Folders          []string          `json:"folders,omitempty"`
	Datacenters      []string          `json:"datacenters,omitempty"`
	Standalone       *bool             `json:"standalone,omitempty"`
	Clusters         []string          `json:"clusters,omitempty"`
	ConnectionStates []ConnectionState `json:"connection_states,omitempty"`
}

// HostSummary is vcenter.Host.Summary.
type HostSummary struct {
	Host            string  `json:"host"`
	Name            string  `json:"name"`
	ConnectionState string  `json:"connection_state"`
	PowerState      *string `json:"power_state,omitempty"`
}

var (
	connectionStates = map[types.HostSystemConnectionState]string{
		types.HostSystemConnectionStateConnected: "CONNECTED", types.HostSystemConnectionStateDisconnected: "DISCONNECTED",
		types.HostSystemConnectionStateNotResponding: "NOT_RESPONDING",
	}
	powerStates = map[types.HostSystemPowerState]string{
		types.HostSystemPowerStatePoweredOn: "POWERED_ON", types.HostSystemPowerStatePoweredOff: "POWERED_OFF",
		types.HostSystemPowerStateStandBy: "STANDBY",
	}
)

func (f *Family) hostList(c *vapi.Call) (any, error) {
	var fl HostFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Folders)+len(fl.Datacenters) > 0)
	if err != nil {
		return nil, err
	}
	var hosts []mo.HostSystem
	if err := f.retrieve(c.Ctx, "HostSystem", []string{"name", "parent", "runtime.connectionState", "runtime.powerState"}, &hosts); err != nil {
		return nil, err
	}
	// A host's folder is its compute resource's: a standalone host sits in a ComputeResource of
	// its own, a clustered one in its cluster.
	match := filter{ids: fl.Hosts, names: fl.Names, datacenters: fl.Datacenters}
	out := []HostSummary{}
	for _, h := range hosts {
		owner := ""
		if h.Parent != nil {
			owner = h.Parent.Value
		}
		clustered := h.Parent != nil && h.Parent.Type == "ClusterComputeResource"
		state := connectionStates[h.Runtime.ConnectionState]
		switch {
		case !match.admits(t, h.Self.Value, h.Name),
			len(fl.Folders) > 0 && !slices.Contains(fl.Folders, t[owner].parent),
			fl.Standalone != nil && *fl.Standalone == clustered,
			len(fl.Clusters) > 0 && (!clustered || !slices.Contains(fl.Clusters, owner)),
			len(fl.ConnectionStates) > 0 && !slices.Contains(fl.ConnectionStates, ConnectionState(state)):
			continue
		}
		s := HostSummary{Host: h.Self.Value, Name: h.Name, ConnectionState: state}
		if p, ok := powerStates[h.Runtime.PowerState]; ok && state == "CONNECTED" {
			s.PowerState = &p
		}
		out = append(out, s)
	}
	byID(out, func(s HostSummary) string { return s.Host })
	return limited("hosts", out)
}

// NetworkFilter is vcenter.Network.FilterSpec.
type NetworkFilter struct {
	Networks    []string      `json:"networks,omitempty"`
	Names       []string      `json:"names,omitempty"`
	Types       []NetworkType `json:"types,omitempty"`
	Folders     []string      `json:"folders,omitempty"`
	Datacenters []string      `json:"datacenters,omitempty"`
}

// NetworkSummary is vcenter.Network.Summary.
type NetworkSummary struct {
	Network string `json:"network"`
	Name    string `json:"name"`
	Type    string `json:"type"`
}

var networkTypes = map[string]string{
	"Network": "STANDARD_PORTGROUP", "DistributedVirtualPortgroup": "DISTRIBUTED_PORTGROUP", "OpaqueNetwork": "OPAQUE_NETWORK",
}

func (f *Family) networkList(c *vapi.Call) (any, error) {
	var fl NetworkFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Folders)+len(fl.Datacenters) > 0)
	if err != nil {
		return nil, err
	}
	// Networks are read as networks: a port group's name is its own property, not the entity's.
	var nets []mo.Network
	if err := f.retrieve(c.Ctx, "Network", []string{"name"}, &nets); err != nil {
		return nil, err
	}
	match := filter{ids: fl.Networks, names: fl.Names, folders: fl.Folders, datacenters: fl.Datacenters}
	out := []NetworkSummary{}
	for _, n := range nets {
		typ, ok := networkTypes[n.Self.Type]
		if !ok || !match.admits(t, n.Self.Value, n.Name) || (len(fl.Types) > 0 && !slices.Contains(fl.Types, NetworkType(typ))) {
			continue
		}
		out = append(out, NetworkSummary{Network: n.Self.Value, Name: n.Name, Type: typ})
	}
	byID(out, func(s NetworkSummary) string { return s.Network })
	return limited("networks", out)
}

// ResourcePoolFilter is vcenter.ResourcePool.FilterSpec.
type ResourcePoolFilter struct {
	ResourcePools       []string `json:"resource_pools,omitempty"`
	Names               []string `json:"names,omitempty"`
	ParentResourcePools []string `json:"parent_resource_pools,omitempty"`
	Datacenters         []string `json:"datacenters,omitempty"`
	Hosts               []string `json:"hosts,omitempty"`
	Clusters            []string `json:"clusters,omitempty"`
}

// ResourcePoolSummary is vcenter.ResourcePool.Summary.
type ResourcePoolSummary struct {
	ResourcePool string `json:"resource_pool"`
	Name         string `json:"name"`
}

// ResourcePoolInfo is vcenter.ResourcePool.Info (without the optional allocations).
type ResourcePoolInfo struct {
	Name          string   `json:"name"`
	ResourcePools []string `json:"resource_pools"`
}

func (f *Family) resourcePoolList(c *vapi.Call) (any, error) {
	var fl ResourcePoolFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	t, err := f.treeIf(c.Ctx, len(fl.Datacenters)+len(fl.Hosts) > 0)
	if err != nil {
		return nil, err
	}
	var pools []mo.ResourcePool
	if err := f.retrieve(c.Ctx, "ResourcePool", []string{"name", "parent", "owner"}, &pools); err != nil {
		return nil, err
	}
	match := filter{ids: fl.ResourcePools, names: fl.Names, datacenters: fl.Datacenters}
	out := []ResourcePoolSummary{}
	for _, p := range pools {
		var parent, owner string
		if p.Parent != nil {
			parent = p.Parent.Value
		}
		owner = p.Owner.Value
		ownerType := p.Owner.Type
		switch {
		case p.Self.Type != "ResourcePool", // vApps are listed by their own API
			!match.admits(t, p.Self.Value, p.Name),
			len(fl.ParentResourcePools) > 0 && !slices.Contains(fl.ParentResourcePools, parent),
			len(fl.Clusters) > 0 && (ownerType != "ClusterComputeResource" || !slices.Contains(fl.Clusters, owner)),
			len(fl.Hosts) > 0 && (ownerType == "ClusterComputeResource" || !f.ownsHost(t, owner, fl.Hosts)):
			continue
		}
		out = append(out, ResourcePoolSummary{ResourcePool: p.Self.Value, Name: p.Name})
	}
	byID(out, func(s ResourcePoolSummary) string { return s.ResourcePool })
	return limited("resource pools", out)
}

// ownsHost reports whether the standalone compute resource owner holds one of hosts.
func (f *Family) ownsHost(t tree, owner string, hosts []string) bool {
	for _, h := range hosts {
		if t[h].parent == owner {
			return true
		}
	}
	return false
}

func (f *Family) resourcePoolGet(c *vapi.Call) (any, error) {
	var p mo.ResourcePool
	if err := f.get(c.Ctx, "ResourcePool", "Resource pool", c.Path("resource-pool"), []string{"name", "resourcePool"}, &p); err != nil {
		return nil, err
	}
	info := ResourcePoolInfo{Name: p.Name, ResourcePools: []string{}}
	for _, child := range p.ResourcePool {
		if child.Type == "ResourcePool" {
			info.ResourcePools = append(info.ResourcePools, child.Value)
		}
	}
	return info, nil
}

// PolicyFilter is vcenter.storage.Policies.FilterSpec.
type PolicyFilter struct {
	Policies []string `json:"policies,omitempty"`
}

// PolicySummary is vcenter.storage.Policies.Summary.
type PolicySummary struct {
	Policy      string `json:"policy"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (f *Family) policyList(c *vapi.Call) (any, error) {
	var fl PolicyFilter
	if _, err := c.BindOptional("filter", &fl); err != nil {
		return nil, err
	}
	policies, err := f.deps.Inventory.StoragePolicies(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := []PolicySummary{}
	for _, p := range policies {
		if len(fl.Policies) == 0 || slices.Contains(fl.Policies, p.ID) {
			out = append(out, PolicySummary{Policy: p.ID, Name: p.Name, Description: p.Description})
		}
	}
	return limited("storage policies", out)
}
