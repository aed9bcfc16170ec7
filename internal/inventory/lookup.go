package inventory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/pbm"
	pbmtypes "github.com/vmware/govmomi/pbm/types"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The lookups below read the simulator through the same public APIs a real
// vCenter offers (property collector, PBM, vAPI), so changes made by govc or
// by wcpd's controllers are visible at once. Clusters, which most requests
// that name a cluster ask for and which takes fifteen property-collector
// round trips, is kept until the compute topology changes
// (TopologyGeneration).

// Cluster is a compute cluster and what it offers.
type Cluster struct {
	ID             string `json:"id"` // MoRef value, e.g. domain-c8
	Name           string `json:"name"`
	Datacenter     string `json:"datacenter"` // MoRef value
	DatacenterName string `json:"datacenter_name"`
	HostCount      int    `json:"host_count"`
	Hosts          []Host `json:"hosts"`
	DRSEnabled     bool   `json:"drs_enabled"`
	HAEnabled      bool   `json:"ha_enabled"`
	// Totals cover every host; effective figures only connected hosts
	// outside maintenance mode, less the hypervisor's share.
	TotalCPUMHz          int64  `json:"total_cpu_mhz"`
	EffectiveCPUMHz      int64  `json:"effective_cpu_mhz"`
	TotalMemoryBytes     int64  `json:"total_memory_bytes"`
	EffectiveMemoryBytes int64  `json:"effective_memory_bytes"`
	ResourcePool         string `json:"resource_pool"` // the root pool's MoRef value
	// DistributedSwitches joined by every host of the cluster (MoRef values).
	DistributedSwitches []string `json:"distributed_switches"`
}

// SlowestCoreMHz is the speed of the slowest core among the hosts that can run workloads
// (connected, not in maintenance mode), 0 when there are none: the speed of one vCPU when CPU
// amounts of the cluster are turned into MHz.
func (c Cluster) SlowestCoreMHz() int64 {
	var mhz int64
	for _, h := range c.Hosts {
		if h.Connected && !h.MaintenanceMode && h.CPUMHz > 0 && (mhz == 0 || int64(h.CPUMHz) < mhz) {
			mhz = int64(h.CPUMHz)
		}
	}
	return mhz
}

// Host is an ESXi host.
type Host struct {
	ID              string `json:"id"` // MoRef value, e.g. host-21
	Name            string `json:"name"`
	CPUSockets      int    `json:"cpu_sockets"`
	CPUCores        int    `json:"cpu_cores"`
	CPUThreads      int    `json:"cpu_threads"`
	CPUMHz          int    `json:"cpu_mhz"` // per core
	MemoryBytes     int64  `json:"memory_bytes"`
	Connected       bool   `json:"connected"`
	MaintenanceMode bool   `json:"maintenance_mode"`
}

// Datastore is a datastore and where it is mounted.
type Datastore struct {
	ID            string   `json:"id"` // MoRef value
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	CapacityBytes int64    `json:"capacity_bytes"`
	FreeBytes     int64    `json:"free_bytes"`
	Accessible    bool     `json:"accessible"`
	Hosts         []string `json:"hosts"` // MoRef values of the hosts mounting it
}

// DistributedSwitch is a vSphere distributed switch.
type DistributedSwitch struct {
	ID         string      `json:"id"` // MoRef value, e.g. dvs-30
	Name       string      `json:"name"`
	UUID       string      `json:"uuid"`
	Hosts      []string    `json:"hosts"` // MoRef values of member hosts
	PortGroups []PortGroup `json:"port_groups"`
}

// PortGroup is a distributed port group.
type PortGroup struct {
	ID     string `json:"id"` // MoRef value, e.g. dvportgroup-33
	Name   string `json:"name"`
	Key    string `json:"key"`
	VLAN   int    `json:"vlan"`
	Uplink bool   `json:"uplink"`
}

// StoragePolicy is a PBM storage profile.
type StoragePolicy struct {
	ID               string `json:"id"` // PBM profile id
	Name             string `json:"name"`
	Description      string `json:"description"`
	K8sCompliantName string `json:"k8s_compliant_name"`
}

// ContentLibrary is a content library and its items.
type ContentLibrary struct {
	ID          string        `json:"id"` // UUID
	Name        string        `json:"name"`
	Type        string        `json:"type"`
	Description string        `json:"description"`
	ItemCount   int           `json:"item_count"`
	Items       []LibraryItem `json:"items"`
}

// LibraryItem is an item of a content library.
type LibraryItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// retrieve loads the given properties of every object of kind into dst.
func retrieve(ctx context.Context, c *vim25.Client, kinds []string, props []string, dst any) error {
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, kinds, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	return v.Retrieve(ctx, kinds, props, dst)
}

// keptList is a list read from the inventory, kept with the count of changes read before reading
// it, and answered again while the count has not moved. Its list is never handed out: callers copy
// what they return.
type keptList[T any] struct{ at atomic.Pointer[keptListAt[T]] }

type keptListAt[T any] struct {
	generation uint64
	list       []T
}

// get is the list kept at generation (read before read is called: a change after it moves the
// count, and the next get reads again), or what read returns, then kept.
func (k *keptList[T]) get(generation uint64, read func() ([]T, error)) ([]T, error) {
	if at := k.at.Load(); at != nil && at.generation == generation {
		return at.list, nil
	}
	list, err := read()
	if err != nil {
		return nil, err
	}
	k.at.Store(&keptListAt[T]{generation: generation, list: list})
	return list, nil
}

// Clusters lists every cluster, ordered by name.
func (inv *Inventory) Clusters(ctx context.Context) ([]Cluster, error) {
	clusters, err := inv.clusters.get(inv.TopologyGeneration(), func() ([]Cluster, error) { return inv.readClusters(ctx) })
	if err != nil {
		return nil, err
	}
	return cloneClusters(clusters), nil
}

// cloneClusters copies clusters, so callers may change what they get.
func cloneClusters(in []Cluster) []Cluster {
	out := slices.Clone(in)
	for i := range out {
		out[i].Hosts = slices.Clone(out[i].Hosts)
		out[i].DistributedSwitches = slices.Clone(out[i].DistributedSwitches)
	}
	return out
}

// readClusters reads Clusters' answer from the inventory.
func (inv *Inventory) readClusters(ctx context.Context) ([]Cluster, error) {
	c := inv.client
	var (
		clusters []mo.ClusterComputeResource
		hosts    []mo.HostSystem
		dcs      []mo.Datacenter
		folders  []mo.Folder
		switches []mo.DistributedVirtualSwitch
	)
	reads := []struct {
		kinds []string
		props []string
		dst   any
	}{
		{[]string{"ClusterComputeResource"}, []string{"name", "parent", "host", "configurationEx", "resourcePool"}, &clusters},
		{[]string{"HostSystem"}, []string{"name", "summary.hardware", "runtime.connectionState", "runtime.inMaintenanceMode"}, &hosts},
		{[]string{"Datacenter"}, []string{"name", "parent"}, &dcs},
		{[]string{"Folder"}, []string{"parent"}, &folders},
		{[]string{"DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"}, []string{"summary.hostMember"}, &switches},
	}
	for _, r := range reads {
		if err := retrieve(ctx, c, r.kinds, r.props, r.dst); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.kinds[0], err)
		}
	}

	hostByRef := map[types.ManagedObjectReference]mo.HostSystem{}
	for _, h := range hosts {
		hostByRef[h.Self] = h
	}
	parent := map[types.ManagedObjectReference]*types.ManagedObjectReference{}
	for _, f := range folders {
		parent[f.Self] = f.Parent
	}
	dcName := map[types.ManagedObjectReference]string{}
	for _, dc := range dcs {
		parent[dc.Self] = dc.Parent
		dcName[dc.Self] = dc.Name
	}
	datacenterOf := func(ref *types.ManagedObjectReference) *types.ManagedObjectReference {
		for ref != nil && ref.Type != "Datacenter" {
			ref = parent[*ref]
		}
		return ref
	}

	overhead := inv.spec.overheadPercent()
	out := make([]Cluster, 0, len(clusters))
	for _, cl := range clusters {
		cluster := Cluster{
			ID:        cl.Self.Value,
			Name:      cl.Name,
			HostCount: len(cl.Host),
			Hosts:     []Host{},
		}
		if dc := datacenterOf(cl.Parent); dc != nil {
			cluster.Datacenter = dc.Value
			cluster.DatacenterName = dcName[*dc]
		}
		if cfg, ok := cl.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
			cluster.DRSEnabled = isTrue(cfg.DrsConfig.Enabled)
			cluster.HAEnabled = isTrue(cfg.DasConfig.Enabled)
		}
		if cl.ResourcePool != nil {
			cluster.ResourcePool = cl.ResourcePool.Value
		}
		var total capacity
		for _, ref := range cl.Host {
			h := hostFrom(hostByRef[ref])
			cluster.Hosts = append(cluster.Hosts, h)
			usable := h.Connected && !h.MaintenanceMode
			total.add(hostCapacity(int64(h.CPUCores), int64(h.CPUThreads), int64(h.CPUMHz), h.MemoryBytes, usable, overhead))
		}
		slices.SortFunc(cluster.Hosts, func(a, b Host) int { return cmp.Compare(a.Name, b.Name) })
		cluster.TotalCPUMHz, cluster.EffectiveCPUMHz = total.totalMHz, total.effectiveMHz
		cluster.TotalMemoryBytes, cluster.EffectiveMemoryBytes = total.totalBytes, total.effectiveBytes

		cluster.DistributedSwitches = []string{}
		for _, sw := range switches {
			if len(cl.Host) > 0 && allMembers(cl.Host, sw.Summary.HostMember) {
				cluster.DistributedSwitches = append(cluster.DistributedSwitches, sw.Self.Value)
			}
		}
		slices.Sort(cluster.DistributedSwitches)
		out = append(out, cluster)
	}
	slices.SortFunc(out, func(a, b Cluster) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Cluster returns the cluster with MoRef value id; the error wraps
// ErrNotFound if there is none.
func (inv *Inventory) Cluster(ctx context.Context, id string) (Cluster, error) {
	clusters, err := inv.Clusters(ctx)
	if err != nil {
		return Cluster{}, err
	}
	for _, c := range clusters {
		if c.ID == id {
			return c, nil
		}
	}
	return Cluster{}, fmt.Errorf("cluster %q: %w", id, ErrNotFound)
}

func hostFrom(h mo.HostSystem) Host {
	out := Host{
		ID:              h.Self.Value,
		Name:            h.Name,
		Connected:       h.Runtime.ConnectionState == types.HostSystemConnectionStateConnected,
		MaintenanceMode: h.Runtime.InMaintenanceMode,
	}
	if hw := h.Summary.Hardware; hw != nil {
		out.CPUSockets = int(hw.NumCpuPkgs)
		out.CPUCores = int(hw.NumCpuCores)
		out.CPUThreads = int(hw.NumCpuThreads)
		out.CPUMHz = int(hw.CpuMhz)
		out.MemoryBytes = hw.MemorySize
	}
	return out
}

func allMembers(hosts, members []types.ManagedObjectReference) bool {
	for _, h := range hosts {
		if !slices.Contains(members, h) {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

// Datastores lists every datastore, ordered by name.
func (inv *Inventory) Datastores(ctx context.Context) ([]Datastore, error) {
	var dss []mo.Datastore
	if err := retrieve(ctx, inv.client, []string{"Datastore"}, []string{"name", "summary", "host"}, &dss); err != nil {
		return nil, fmt.Errorf("reading datastores: %w", err)
	}
	out := make([]Datastore, 0, len(dss))
	for _, ds := range dss {
		d := Datastore{
			ID:            ds.Self.Value,
			Name:          ds.Name,
			Type:          ds.Summary.Type,
			CapacityBytes: ds.Summary.Capacity,
			FreeBytes:     ds.Summary.FreeSpace,
			Accessible:    ds.Summary.Accessible,
			Hosts:         []string{},
		}
		for _, m := range ds.Host {
			d.Hosts = append(d.Hosts, m.Key.Value)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Datastore) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DistributedSwitches lists every distributed switch and its port groups,
// ordered by name.
func (inv *Inventory) DistributedSwitches(ctx context.Context) ([]DistributedSwitch, error) {
	c := inv.client
	var switches []mo.DistributedVirtualSwitch
	var portgroups []mo.DistributedVirtualPortgroup
	if err := retrieve(ctx, c, []string{"DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"},
		[]string{"name", "uuid", "summary.hostMember", "portgroup"}, &switches); err != nil {
		return nil, fmt.Errorf("reading distributed switches: %w", err)
	}
	if err := retrieve(ctx, c, []string{"DistributedVirtualPortgroup"}, []string{"name", "key", "config"}, &portgroups); err != nil {
		return nil, fmt.Errorf("reading port groups: %w", err)
	}
	pgByRef := map[types.ManagedObjectReference]mo.DistributedVirtualPortgroup{}
	for _, pg := range portgroups {
		pgByRef[pg.Self] = pg
	}
	out := make([]DistributedSwitch, 0, len(switches))
	for _, sw := range switches {
		d := DistributedSwitch{ID: sw.Self.Value, Name: sw.Name, UUID: sw.Uuid, Hosts: []string{}, PortGroups: []PortGroup{}}
		for _, h := range sw.Summary.HostMember {
			d.Hosts = append(d.Hosts, h.Value)
		}
		for _, ref := range sw.Portgroup {
			pg, ok := pgByRef[ref]
			if !ok {
				continue
			}
			p := PortGroup{ID: ref.Value, Name: pg.Name, Key: pg.Key, Uplink: isTrue(pg.Config.Uplink)}
			if setting, ok := pg.Config.DefaultPortConfig.(*types.VMwareDVSPortSetting); ok && setting != nil {
				if vlan, ok := setting.Vlan.(*types.VmwareDistributedVirtualSwitchVlanIdSpec); ok {
					p.VLAN = int(vlan.VlanId)
				}
			}
			d.PortGroups = append(d.PortGroups, p)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DistributedSwitch) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// StoragePolicies lists the storage (requirement) policies in the order
// PBM returns them. Reading them through PBM takes several SOAP calls (about
// a millisecond), and namespace and Supervisor checks ask for them on every
// request, so the list read is kept until the policies change
// (PolicyGeneration).
func (inv *Inventory) StoragePolicies(ctx context.Context) ([]StoragePolicy, error) {
	policies, err := inv.policies.get(inv.PolicyGeneration(), func() ([]StoragePolicy, error) { return inv.readStoragePolicies(ctx) })
	return slices.Clone(policies), err
}

// readStoragePolicies reads StoragePolicies' answer through PBM.
func (inv *Inventory) readStoragePolicies(ctx context.Context) ([]StoragePolicy, error) {
	var profiles []pbmtypes.BasePbmProfile
	err := inv.withPBM(ctx, func(c *pbm.Client) error {
		m, err := c.ProfileMap(ctx)
		if err == nil {
			profiles = m.Profile
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading storage policies: %w", err)
	}
	out := make([]StoragePolicy, 0, len(profiles))
	for _, p := range profiles {
		base := p.GetPbmProfile()
		sp := StoragePolicy{ID: base.ProfileId.UniqueId, Name: base.Name, Description: base.Description}
		if cp, ok := p.(*pbmtypes.PbmCapabilityProfile); ok {
			sp.K8sCompliantName = cp.K8sCompliantName
		}
		out = append(out, sp)
	}
	return out, nil
}

// PolicyGeneration counts the changes made to the storage policies. Two equal readings mean that
// no policy was created, changed or removed between them; a change moves it before the PBM call
// that made it answers.
func (inv *Inventory) PolicyGeneration() uint64 { return inv.pbm.generation.Load() }

// StoragePolicy returns the policy with the given PBM profile id; the error
// wraps ErrNotFound if there is none.
func (inv *Inventory) StoragePolicy(ctx context.Context, id string) (StoragePolicy, error) {
	policies, err := inv.StoragePolicies(ctx)
	if err != nil {
		return StoragePolicy{}, err
	}
	for _, p := range policies {
		if p.ID == id {
			return p, nil
		}
	}
	return StoragePolicy{}, fmt.Errorf("storage policy %q: %w", id, ErrNotFound)
}

// withPBM runs f with a PBM client on the internal session, logging in
// again once if that session was terminated.
func (inv *Inventory) withPBM(ctx context.Context, f func(*pbm.Client) error) error {
	run := func() error {
		c, err := pbm.NewClient(ctx, inv.client)
		if err != nil {
			return err
		}
		return f(c)
	}
	gen := inv.relog.loginGeneration()
	err := run()
	if !isNotAuthenticated(err) {
		return err
	}
	if err := inv.relog.relogin(ctx, gen); err != nil {
		return err
	}
	return run()
}

// ContentLibraries lists every content library with its items, ordered by name. Reading them
// takes a request to the simulator's vAPI services for every library and item (about 0.2 ms for
// the default inventory's two libraries and seven items), and namespace and Supervisor checks
// and every realisation of a namespace in Kubernetes ask for them, so what was read is kept until
// a request may have changed them (VAPIGeneration). Items change on their own only in their
// files, which this does not show.
func (inv *Inventory) ContentLibraries(ctx context.Context) ([]ContentLibrary, error) {
	libs, err := inv.contentLibraries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ContentLibrary, len(libs))
	for i, l := range libs {
		out[i] = l.clone()
	}
	return out, nil
}

// ContentLibrary returns the library with the given id; the error wraps
// ErrNotFound if there is none.
func (inv *Inventory) ContentLibrary(ctx context.Context, id string) (ContentLibrary, error) {
	libs, err := inv.contentLibraries(ctx)
	if err != nil {
		return ContentLibrary{}, err
	}
	for _, l := range libs {
		if l.ID == id {
			return l.clone(), nil
		}
	}
	return ContentLibrary{}, fmt.Errorf("content library %q: %w", id, ErrNotFound)
}

// contentLibraries is the kept list of ContentLibraries, read again once VAPIGeneration moved.
func (inv *Inventory) contentLibraries(ctx context.Context) ([]ContentLibrary, error) {
	return inv.libraries.get(inv.VAPIGeneration(), func() ([]ContentLibrary, error) {
		m := library.NewManager(inv.rest)
		libs, err := m.GetLibraries(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading content libraries: %w", err)
		}
		out := make([]ContentLibrary, 0, len(libs))
		for _, l := range libs {
			cl, err := libraryFrom(ctx, m, l)
			if err != nil {
				return nil, err
			}
			out = append(out, cl)
		}
		slices.SortFunc(out, func(a, b ContentLibrary) int { return cmp.Compare(a.Name, b.Name) })
		return out, nil
	})
}

// clone copies l, so that callers may change what they get.
func (l ContentLibrary) clone() ContentLibrary {
	l.Items = slices.Clone(l.Items)
	return l
}

func libraryFrom(ctx context.Context, m *library.Manager, l library.Library) (ContentLibrary, error) {
	items, err := m.GetLibraryItems(ctx, l.ID)
	if err != nil {
		return ContentLibrary{}, fmt.Errorf("reading items of content library %s: %w", l.ID, err)
	}
	out := ContentLibrary{ID: l.ID, Name: l.Name, Type: l.Type, ItemCount: len(items), Items: []LibraryItem{}}
	if l.Description != nil {
		out.Description = *l.Description
	}
	for _, it := range items {
		out.Items = append(out.Items, LibraryItem{ID: it.ID, Name: it.Name, Type: it.Type})
	}
	slices.SortFunc(out.Items, func(a, b LibraryItem) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// StorageClassNames maps every storage policy's id to the name of its Kubernetes storage class
// (StorageClassName).
func (inv *Inventory) StorageClassNames(ctx context.Context) (map[string]string, error) {
	policies, err := inv.StoragePolicies(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(policies))
	for _, p := range policies {
		out[p.ID] = StorageClassName(p)
	}
	return out, nil
}

// StorageClassName is the name of the Kubernetes storage class a Supervisor gives the policy: the
// name PBM has recorded for Kubernetes, else one derived from the policy's name as vCenter does.
func StorageClassName(p StoragePolicy) string {
	if p.K8sCompliantName != "" {
		return p.K8sCompliantName
	}
	return k8sCompliantName(p.Name)
}

// Retrieve reads every object of kind (a managed object type, e.g. "VirtualMachine") with props
// into dst (a pointer to a slice of mo types), through a container view on the root folder, as a
// client would.
func (inv *Inventory) Retrieve(ctx context.Context, kind string, props []string, dst any) error {
	c := inv.client
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{kind}, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	return v.Retrieve(ctx, []string{kind}, props, dst)
}

// VMExists says whether the VM of MoRef id is in the inventory.
func (inv *Inventory) VMExists(ctx context.Context, id string) (bool, error) {
	var m mo.VirtualMachine
	err := property.DefaultCollector(inv.client).RetrieveOne(ctx, types.ManagedObjectReference{Type: "VirtualMachine", Value: id}, []string{"name"}, &m)
	if fault.Is(err, &types.ManagedObjectNotFound{}) {
		return false, nil
	}
	return err == nil, err
}
