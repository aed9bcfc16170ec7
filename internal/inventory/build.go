package inventory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// builder turns a Spec into simulator objects. It calls the simulator's
// object methods directly, before any listener exists, because going
// through a SOAP client would wait on the property collector's 20 ms
// batching for every task and make start-up several times slower.
type builder struct {
	ctx   context.Context
	sim   *simulator.Context
	m     *simulator.Registry
	tasks *taskTracker
	spec  *Spec
	dir   string // holds one directory per datastore

	dc         *simulator.Datacenter
	clusters   []*builtCluster
	byName     map[string]*builtCluster
	datastores map[string]builtDatastore
}

type builtDatastore struct {
	ref types.ManagedObjectReference
	dir string // the directory backing it
}

type builtCluster struct {
	spec  ClusterSpec
	obj   *simulator.ClusterComputeResource
	hosts []*simulator.HostSystem
	hw    []HostSpec
}

func (b *builder) build() error {
	b.tasks = newTaskTracker()
	b.m.AddHandler(b.tasks)
	defer b.m.RemoveHandler(b.tasks)

	steps := []struct {
		what string
		run  func() error
	}{
		{"datacenter", b.datacenter},
		{"clusters", b.buildClusters},
		{"datastores", b.buildDatastores},
		{"distributed switches", b.switches},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("building %s: %w", s.what, err)
		}
		if err := b.tasks.settle(b.ctx); err != nil {
			return fmt.Errorf("building %s: %w", s.what, err)
		}
	}
	return nil
}

// call checks a simulator method's result for a SOAP fault.
func call[T soap.HasFault](res soap.HasFault) (T, error) {
	body, _ := res.(T)
	if f := res.Fault(); f != nil {
		detail := ""
		if f.Detail.Fault != nil {
			detail = fmt.Sprintf(" (%T)", f.Detail.Fault)
		}
		return body, fmt.Errorf("%s%s", f.String, detail)
	}
	return body, nil
}

// runTask waits for a task started by a simulator method and returns its result.
func (b *builder) runTask(ref types.ManagedObjectReference) (types.AnyType, error) {
	if err := b.tasks.settle(b.ctx); err != nil {
		return nil, err
	}
	task, ok := b.m.Get(ref).(*simulator.Task)
	if !ok {
		return nil, fmt.Errorf("task %s vanished", ref.Value)
	}
	return task.Info.Result, nil
}

func (b *builder) datacenter() error {
	si := b.m.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	root := b.m.Get(si.Content.RootFolder).(*simulator.Folder)
	res, err := call[*methods.CreateDatacenterBody](root.CreateDatacenter(b.sim, &types.CreateDatacenter{
		This: root.Self, Name: b.spec.Datacenter,
	}))
	if err != nil {
		return err
	}
	b.dc = b.m.Get(res.Res.Returnval).(*simulator.Datacenter)
	return nil
}

func (b *builder) buildClusters() error {
	hostFolder := b.m.Get(b.dc.HostFolder).(*simulator.Folder)
	b.byName = map[string]*builtCluster{}
	next := 0
	for _, cs := range b.spec.Clusters {
		res, err := call[*methods.CreateClusterExBody](hostFolder.CreateClusterEx(b.sim, &types.CreateClusterEx{
			This: hostFolder.Self, Name: cs.Name,
		}))
		if err != nil {
			return fmt.Errorf("cluster %s: %w", cs.Name, err)
		}
		c := &builtCluster{spec: cs, obj: b.m.Get(res.Res.Returnval).(*simulator.ClusterComputeResource)}
		b.clusters = append(b.clusters, c)
		b.byName[cs.Name] = c

		for _, hw := range b.spec.hostsOf(cs, &next) {
			started, err := call[*methods.AddHost_TaskBody](c.obj.AddHostTask(b.sim, &types.AddHost_Task{
				This:        c.obj.Self,
				Spec:        types.HostConnectSpec{HostName: hw.Name, Force: true},
				AsConnected: true,
			}))
			if err != nil {
				return fmt.Errorf("host %s: %w", hw.Name, err)
			}
			result, err := b.runTask(started.Res.Returnval)
			if err != nil {
				return fmt.Errorf("host %s: %w", hw.Name, err)
			}
			host := b.m.Get(result.(types.ManagedObjectReference)).(*simulator.HostSystem)
			b.m.WithLock(b.sim, host, func() { setHardware(host, hw) })
			c.hosts = append(c.hosts, host)
			c.hw = append(c.hw, hw)
		}
		b.m.WithLock(b.sim, c.obj, func() { configureCluster(b, c) })
	}
	return nil
}

// setHardware replaces the simulator's template hardware (a 2-core laptop)
// with hw. Every nested value is freshly allocated: NewHostSystem only
// shallow-copies the template, whose slices and pointers are shared by every
// simulator in the process.
func setHardware(h *simulator.HostSystem, hw HostSpec) {
	cores := hw.Sockets * hw.CoresPerSocket
	threads := 2 * cores // hyper-threading
	hz := int64(hw.MHz) * 1_000_000
	memory := hw.MemoryGiB << 30

	info := *h.Hardware
	info.CpuInfo = types.HostCpuInfo{
		NumCpuPackages: int16(hw.Sockets),
		NumCpuCores:    int16(cores),
		NumCpuThreads:  int16(threads),
		Hz:             hz,
	}
	info.CpuPkg = make([]types.HostCpuPackage, hw.Sockets)
	perPackage := threads / hw.Sockets
	for i := range info.CpuPkg {
		ids := make([]int16, perPackage)
		for j := range ids {
			ids[j] = int16(i*perPackage + j)
		}
		info.CpuPkg[i] = types.HostCpuPackage{
			Index:       int16(i),
			Vendor:      "intel",
			Hz:          hz,
			BusHz:       100_000_000,
			Description: hw.CPUModel,
			ThreadId:    ids,
		}
	}
	info.MemorySize = memory
	info.NumaInfo = &types.HostNumaInfo{Type: "NUMA", NumNodes: int32(hw.Sockets)}
	info.SystemInfo.Vendor = hw.Vendor
	info.SystemInfo.Model = hw.Model
	h.Hardware = &info

	summary := *h.Summary.Hardware
	summary.Vendor = hw.Vendor
	summary.Model = hw.Model
	summary.CpuModel = hw.CPUModel
	summary.CpuMhz = int32(hw.MHz)
	summary.NumCpuPkgs = int16(hw.Sockets)
	summary.NumCpuCores = int16(cores)
	summary.NumCpuThreads = int16(threads)
	summary.MemorySize = memory
	h.Summary.Hardware = &summary

	// A quiet host: 2% CPU and 4% memory in use by the hypervisor.
	h.Summary.QuickStats.OverallCpuUsage = int32(int64(cores) * int64(hw.MHz) / 50)
	h.Summary.QuickStats.OverallMemoryUsage = int32((memory >> 20) / 25)
}

// capacity is what a set of hosts offers, raw and after the hypervisor's share.
type capacity struct {
	totalMHz, effectiveMHz     int64
	totalBytes, effectiveBytes int64
	cores, threads             int64
	hosts, effectiveHosts      int32
}

// hostCapacity computes one host's contribution; hosts that are not
// connected, or are in maintenance mode, add nothing effective.
func hostCapacity(cores, threads, mhz, memory int64, usable bool, overheadPercent int) capacity {
	c := capacity{
		totalMHz:   cores * mhz,
		totalBytes: memory,
		cores:      cores,
		threads:    threads,
		hosts:      1,
	}
	if usable {
		keep := int64(100 - overheadPercent)
		c.effectiveMHz = c.totalMHz * keep / 100
		c.effectiveBytes = c.totalBytes * keep / 100
		c.effectiveHosts = 1
	}
	return c
}

func (c *capacity) add(o capacity) {
	c.totalMHz += o.totalMHz
	c.effectiveMHz += o.effectiveMHz
	c.totalBytes += o.totalBytes
	c.effectiveBytes += o.effectiveBytes
	c.cores += o.cores
	c.threads += o.threads
	c.hosts += o.hosts
	c.effectiveHosts += o.effectiveHosts
}

// configureCluster sets DRS/HA and makes the cluster summary and root
// resource pool agree with the hosts (the simulator adds one core's MHz per
// host, and adds bytes to a field counted in MB).
func configureCluster(b *builder, c *builtCluster) {
	var total capacity
	for _, hw := range c.hw {
		cores := int64(hw.Sockets * hw.CoresPerSocket)
		total.add(hostCapacity(cores, 2*cores, int64(hw.MHz), hw.MemoryGiB<<30, true, b.spec.overheadPercent()))
	}

	cfg := c.obj.ConfigurationEx.(*types.ClusterConfigInfoEx)
	cfg.DrsConfig = types.ClusterDrsConfigInfo{
		Enabled:           types.NewBool(c.spec.DRS),
		DefaultVmBehavior: types.DrsBehaviorFullyAutomated,
		VmotionRate:       3,
	}
	cfg.DasConfig = types.ClusterDasConfigInfo{
		Enabled:                 types.NewBool(c.spec.HA),
		HostMonitoring:          string(types.ClusterDasConfigInfoServiceStateEnabled),
		VmMonitoring:            string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
		AdmissionControlEnabled: types.NewBool(c.spec.HA),
	}
	if c.spec.HA && len(c.hw) > 1 {
		cfg.DasConfig.AdmissionControlPolicy = &types.ClusterFailoverLevelAdmissionControlPolicy{FailoverLevel: 1}
	}
	c.obj.Configuration.DrsConfig = cfg.DrsConfig
	c.obj.Configuration.DasConfig = cfg.DasConfig

	failover := int32(0)
	if c.spec.HA && len(c.hw) > 1 {
		failover = 1
	}
	c.obj.Summary = &types.ClusterComputeResourceSummary{
		ComputeResourceSummary: types.ComputeResourceSummary{
			TotalCpu:          int32(total.totalMHz),
			TotalMemory:       total.totalBytes,
			NumCpuCores:       int16(total.cores),
			NumCpuThreads:     int16(total.threads),
			EffectiveCpu:      int32(total.effectiveMHz),
			EffectiveMemory:   total.effectiveBytes >> 20, // vSphere reports this one in MB
			NumHosts:          total.hosts,
			NumEffectiveHosts: total.effectiveHosts,
			OverallStatus:     types.ManagedEntityStatusGreen,
		},
		CurrentFailoverLevel: failover,
		UsageSummary: &types.ClusterUsageSummary{
			TotalCpuCapacityMhz: int32(total.effectiveMHz),
			TotalMemCapacityMB:  int32(total.effectiveBytes >> 20),
		},
	}

	pool := b.m.Get(*c.obj.ResourcePool).(*simulator.ResourcePool)
	b.m.WithLock(b.sim, pool, func() { sizeRootPool(pool, total) })
}

// sizeRootPool gives a cluster's root pool the cluster's effective capacity,
// as vCenter does; all values are fresh (the pool came from a shared template).
func sizeRootPool(pool *simulator.ResourcePool, total capacity) {
	allocation := func(capacity int64) types.ResourceAllocationInfo {
		return types.ResourceAllocationInfo{
			Reservation:           types.NewInt64(capacity),
			ExpandableReservation: types.NewBool(false),
			Limit:                 types.NewInt64(capacity),
			Shares:                &types.SharesInfo{Level: types.SharesLevelNormal, Shares: 4000},
			OverheadLimit:         nil,
		}
	}
	usage := func(capacity int64) types.ResourcePoolResourceUsage {
		return types.ResourcePoolResourceUsage{
			ReservationUsed:      0,
			ReservationUsedForVm: 0,
			UnreservedForPool:    capacity,
			UnreservedForVm:      capacity,
			OverallUsage:         0,
			MaxUsage:             capacity,
		}
	}
	memMB := total.effectiveBytes >> 20
	cpu := allocation(total.effectiveMHz)
	mem := allocation(memMB)
	mem.Shares = &types.SharesInfo{Level: types.SharesLevelNormal, Shares: 163840}
	pool.Config.CpuAllocation = cpu
	pool.Config.MemoryAllocation = mem
	pool.Runtime = types.ResourcePoolRuntimeInfo{
		Memory:        usage(total.effectiveBytes),
		Cpu:           usage(total.effectiveMHz),
		OverallStatus: types.ManagedEntityStatusGreen,
	}
	pool.Summary = &types.ResourcePoolSummary{
		Name:    pool.Name,
		Config:  pool.Config,
		Runtime: pool.Runtime,
	}
}

func (b *builder) buildDatastores() error {
	b.datastores = map[string]builtDatastore{}
	for _, ds := range b.spec.Datastores {
		dir := filepath.Join(b.dir, "datastores", ds.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		var ref types.ManagedObjectReference
		for _, c := range b.clustersOrAll(ds.Clusters) {
			for _, host := range c.hosts {
				dss := b.m.Get(*host.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
				var res *methods.CreateLocalDatastoreBody
				var err error
				b.m.WithLock(b.sim, dss, func() {
					res, err = call[*methods.CreateLocalDatastoreBody](dss.CreateLocalDatastore(b.sim, &types.CreateLocalDatastore{
						This: dss.Self, Name: ds.Name, Path: dir,
					}))
				})
				if err != nil {
					return fmt.Errorf("datastore %s on %s: %w", ds.Name, host.Name, err)
				}
				// Only the first host's call returns the datastore: later ones
				// join the existing object and return an empty reference.
				if ref.Value == "" {
					ref = res.Res.Returnval
				}
			}
		}
		obj := b.m.Get(ref).(*simulator.Datastore)
		b.m.WithLock(b.sim, obj, func() { sizeDatastore(obj, ds) })
		b.datastores[ds.Name] = builtDatastore{ref: ref, dir: dir}
	}
	return nil
}

// sizeDatastore replaces the simulator's "1 TB per mounting host" with the
// spec's capacity. A datastore refresh (RefreshDatastore) recomputes the
// simulator's figure.
func sizeDatastore(ds *simulator.Datastore, spec DatastoreSpec) {
	capacity := spec.CapacityGiB << 30
	free := capacity
	if spec.FreeGiB != nil {
		free = *spec.FreeGiB << 30
	}
	kind := spec.Type
	if kind == "" {
		kind = "VMFS"
	}
	ds.Summary.Capacity = capacity
	ds.Summary.FreeSpace = free
	ds.Summary.Type = kind
	ds.Summary.MultipleHostAccess = types.NewBool(len(ds.Host) > 1)
	info := ds.Info.GetDatastoreInfo()
	info.FreeSpace = free
	info.MaxFileSize = 62 << 40 // VMFS 6 limit
	info.MaxVirtualDiskCapacity = 62 << 40
}

func (b *builder) clustersOrAll(names []string) []*builtCluster {
	if len(names) == 0 {
		return b.clusters
	}
	var out []*builtCluster
	for _, n := range names {
		out = append(out, b.byName[n])
	}
	return out
}

// switches makes the distributed switches with the simulator's own methods. The simulator holds
// each as a DistributedVirtualSwitch; clients see a VmwareDistributedVirtualSwitch (switchtype.go).
func (b *builder) switches() error {
	netFolder := b.m.Get(b.dc.NetworkFolder).(*simulator.Folder)
	for _, sw := range b.spec.Switches {
		started, err := call[*methods.CreateDVS_TaskBody](netFolder.CreateDVSTask(b.sim, &types.CreateDVS_Task{
			This: netFolder.Self,
			Spec: types.DVSCreateSpec{
				ConfigSpec: &types.VMwareDVSConfigSpec{
					DVSConfigSpec: types.DVSConfigSpec{Name: sw.Name, MaxPorts: 2048},
					MaxMtu:        9000,
				},
			},
		}))
		if err != nil {
			return fmt.Errorf("switch %s: %w", sw.Name, err)
		}
		result, err := b.runTask(started.Res.Returnval)
		if err != nil {
			return fmt.Errorf("switch %s: %w", sw.Name, err)
		}
		dvs := b.m.Get(result.(types.ManagedObjectReference)).(*simulator.DistributedVirtualSwitch)
		b.m.WithLock(b.sim, dvs, func() { markUplinks(b, dvs) })

		var members []types.DistributedVirtualSwitchHostMemberConfigSpec
		for _, c := range b.clustersOrAll(sw.Clusters) {
			for _, h := range c.hosts {
				members = append(members, types.DistributedVirtualSwitchHostMemberConfigSpec{
					Operation: string(types.ConfigSpecOperationAdd),
					Host:      h.Self,
				})
			}
		}
		joined, err := call[*methods.ReconfigureDvs_TaskBody](dvs.ReconfigureDvsTask(b.sim, &types.ReconfigureDvs_Task{
			This: dvs.Self,
			Spec: &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Host: members}},
		}))
		if err != nil {
			return fmt.Errorf("switch %s hosts: %w", sw.Name, err)
		}
		if _, err := b.runTask(joined.Res.Returnval); err != nil {
			return fmt.Errorf("switch %s hosts: %w", sw.Name, err)
		}

		if len(sw.PortGroups) == 0 {
			continue
		}
		var specs []types.DVPortgroupConfigSpec
		for _, pg := range sw.PortGroups {
			specs = append(specs, types.DVPortgroupConfigSpec{
				Name:       pg.Name,
				Type:       string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding),
				NumPorts:   8,
				AutoExpand: types.NewBool(true),
				DefaultPortConfig: &types.VMwareDVSPortSetting{
					Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: int32(pg.VLAN)},
				},
			})
		}
		added, err := call[*methods.AddDVPortgroup_TaskBody](dvs.AddDVPortgroupTask(b.sim, &types.AddDVPortgroup_Task{
			This: dvs.Self, Spec: specs,
		}))
		if err != nil {
			return fmt.Errorf("switch %s port groups: %w", sw.Name, err)
		}
		if _, err := b.runTask(added.Res.Returnval); err != nil {
			return fmt.Errorf("switch %s port groups: %w", sw.Name, err)
		}
	}
	return nil
}

// markUplinks records the uplink port group the simulator created with the
// switch where vSphere clients look for it.
func markUplinks(b *builder, dvs *simulator.DistributedVirtualSwitch) {
	cfg := dvs.Config.GetDVSConfigInfo()
	cfg.UplinkPortgroup = append([]types.ManagedObjectReference(nil), dvs.Portgroup...)
	for _, ref := range dvs.Portgroup {
		pg := b.m.Get(ref).(*simulator.DistributedVirtualPortgroup)
		pg.Config.Uplink = types.NewBool(true)
		pg.Tag = []types.Tag{{Key: "SYSTEM/DVS.UPLINKPG"}}
	}
}
