package resources

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// podGuestID is the guest OS of a vSphere Pod's VM (a CRX): VMs running it are reported as pods.
const podGuestID = string(types.VirtualMachineGuestOsIdentifierCrxPod1Guest)

const mib = 1 << 20

// liveNode is one object of a cluster's resource pool tree as the model sees it: a resource pool,
// a VM, or a vSphere Pod (modelled as the VM of its configured size, since the inventory does not
// keep its containers).
type liveNode struct {
	id   string   // MoRef value; "" for a node a what-if adds
	node drs.Node // without Children: kids hold them
	kids []*liveNode
	pod  bool

	// What a powered-on VM or pod consumes, and the storage any VM takes.
	usedCPUMHz, usedMemoryMB, storageMB int64
}

// snapshot is the resource pool tree of one cluster, read from the inventory in one go.
type snapshot struct {
	cluster    inventory.Cluster
	capacity   drs.Capacity
	scale      bool // the root pool scales its descendants' shares
	roots      []*liveNode
	supervisor *platform.SupervisorState // nil when the cluster has no Supervisor
	namespaces *liveNode                 // the Supervisor's Namespaces pool, when it exists
}

// keptTree is a cluster's pool tree as last read from the inventory, with the inventory's
// generation read before reading it (figures.go says why that order). Its nodes are shared by the
// snapshots made from it and only read: a what-if edits a copy (cloneAll).
type keptTree struct {
	generation uint64
	tree       *snapshot // without the Supervisor, which is not the inventory's
	byRef      map[string]*liveNode
}

// readCluster reads cluster's resource pool tree, or takes the one read last while the inventory
// has not changed since: reading a cluster of a thousand VMs costs far more than analysing it. An
// unknown cluster is NOT_FOUND.
func (f *Family) readCluster(ctx context.Context, cluster string) (*snapshot, error) {
	generation := f.deps.Inventory.Generation()
	f.mu.Lock()
	kept := f.trees[cluster]
	f.mu.Unlock()
	if kept == nil || kept.generation != generation {
		tree, byRef, err := f.readTree(ctx, cluster)
		if err != nil {
			return nil, err
		}
		kept = &keptTree{generation: generation, tree: tree, byRef: byRef}
		f.mu.Lock()
		f.trees[cluster] = kept
		f.mu.Unlock()
	}
	s := *kept.tree
	if sups := f.deps.Families.Supervisors; sups != nil {
		if sup, ok := sups.Supervisor(cluster); ok && sup.Cluster == cluster {
			s.supervisor = &sup
			s.namespaces = kept.byRef[sup.NamespacesPool]
		}
	}
	return &s, nil
}

// readTree reads cluster's pool tree from the inventory, with its pools by MoRef value.
func (f *Family) readTree(ctx context.Context, cluster string) (*snapshot, map[string]*liveNode, error) {
	inv := f.deps.Inventory
	cl, err := inv.Cluster(ctx, cluster)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, nil, vapi.NotFound("Cluster", cluster)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading cluster %s: %w", cluster, err)
	}
	s := &snapshot{cluster: cl, capacity: clusterCapacity(cl)}
	if cl.ResourcePool == "" {
		return s, nil, nil
	}
	t, err := inv.ReadPoolTree(ctx, cl.ResourcePool)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the pools of %s: %w", cluster, err)
	}
	s.scale = t.Root.ScaleDescendantsShares == string(types.ResourceConfigSpecScaleSharesBehaviorScaleCpuAndMemoryShares)
	pools, vms := t.Pools, t.VMs
	byRef := make(map[string]*liveNode, 1+len(pools)+len(vms))
	byRef[cl.ResourcePool] = &liveNode{}
	attach(byRef, pools, vms, s.capacity.CPUMHzPerVCPU, hostSpeeds(cl))
	s.roots = byRef[cl.ResourcePool].kids
	return s, byRef, nil
}

// hostSpeeds gives the core speed (MHz) of each host of cl by its MoRef value.
func hostSpeeds(cl inventory.Cluster) map[string]int64 {
	out := make(map[string]int64, len(cl.Hosts))
	for _, h := range cl.Hosts {
		out[h.ID] = int64(h.CPUMHz)
	}
	return out
}

// attach places pools and VMs read from the inventory under the nodes of byRef, which holds the
// root they were read under, adding the pools to byRef; what has no parent there is left out.
// hostMHz gives the core speed of the hosts, mhzPerVCPU the cluster's for one vCPU.
func attach(byRef map[string]*liveNode, pools []inventory.TreePool, vms []inventory.TreeVM, mhzPerVCPU int64, hostMHz map[string]int64) {
	type placed struct {
		parent string
		node   *liveNode
	}
	all := make([]placed, 0, len(pools)+len(vms))
	for _, p := range pools {
		if p.Parent == "" || byRef[p.ID] != nil {
			continue
		}
		n := &liveNode{id: p.ID, node: poolNode(p)}
		byRef[n.id] = n
		all = append(all, placed{p.Parent, n})
	}
	for _, vm := range vms {
		if vm.Pool == "" || !vm.Configured {
			continue // a VM being created has no configuration yet
		}
		all = append(all, placed{vm.Pool, vmNode(vm, mhzPerVCPU, hostMHz)})
	}
	for _, p := range all {
		if parent, ok := byRef[p.parent]; ok {
			parent.kids = append(parent.kids, p.node)
		}
	}
	for _, n := range byRef {
		sortKids(n)
	}
}

// sortKids orders a pool's children as vSphere's client lists them: VMs and pods first, then
// pools, each by name (and id, for equal names).
func sortKids(n *liveNode) {
	slices.SortFunc(n.kids, func(a, b *liveNode) int {
		ap, bp := a.node.Type == drs.KindResourcePool, b.node.Type == drs.KindResourcePool
		if ap != bp {
			if ap {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.node.Name, b.node.Name), cmp.Compare(a.id, b.id))
	})
}

// clusterCapacity is what the cluster's root pool has to give: the effective capacity of its
// usable hosts, and the speed of the slowest of their cores for one vCPU.
func clusterCapacity(cl inventory.Cluster) drs.Capacity {
	c := drs.Capacity{
		CPUMHz:        min(cl.EffectiveCPUMHz, drs.MaxAmount),
		MemoryMB:      min(cl.EffectiveMemoryBytes/mib, drs.MaxAmount),
		CPUMHzPerVCPU: cl.SlowestCoreMHz(),
	}
	if c.CPUMHzPerVCPU == 0 {
		c.CPUMHzPerVCPU = drs.DefaultCPUMHzPerVCPU
	}
	return c
}

// A resource pool counts as a 4 vCPU / 16 GB VM for shares (seed 003).
const (
	poolVCPUs    = 4
	poolMemoryMB = 16 * 1024
)

func poolNode(p inventory.TreePool) drs.Node {
	cpu, mem := p.CPU, p.Memory
	n := drs.Node{Name: p.Name, Type: drs.KindResourcePool,
		Shares: sharesOf(&cpu.Shares, &mem.Shares, poolVCPUs, poolMemoryMB)}
	n.Limit = amount(limitOf(&cpu.Limit), limitOf(&mem.Limit), -1)
	res := [2]int64{value(&cpu.Reservation), value(&mem.Reservation)}
	lim := [2]int64{limitOf(&cpu.Limit), limitOf(&mem.Limit)}
	for d := range res {
		if lim[d] >= 0 {
			res[d] = min(res[d], lim[d]) // the model refuses a reservation above the limit
		}
	}
	n.Reservation = amount(res[0], res[1], 0)
	// The model has one flag for both resources; a pool borrows only if it may for both.
	if expandable := cpu.Expandable && mem.Expandable; !expandable {
		n.ExpandableReservation = &expandable
	}
	n.ScaleDescendantsShares = p.ScaleDescendantsShares == string(types.ResourceConfigSpecScaleSharesBehaviorScaleCpuAndMemoryShares)
	return n
}

// vmNode is a VM (or pod) as the model sees it: its size, shares, reservation and limit, and what
// it uses (see vmUsage). hostMHz gives the core speed of the hosts.
func vmNode(vm inventory.TreeVM, mhzPerVCPU int64, hostMHz map[string]int64) *liveNode {
	vcpus := min(max(int64(vm.NumCPU), 1), drs.MaxVCPUs)
	memoryMB := min(max(int64(vm.MemoryMB), 1), drs.MaxMemoryMB)
	n := &liveNode{id: vm.ID, pod: vm.GuestID == podGuestID, node: drs.Node{
		Name: vm.Name, Type: drs.KindVM, CPUCount: int(vcpus), MemoryMB: memoryMB,
	}}
	n.usedCPUMHz, n.usedMemoryMB, n.storageMB = vmUsage(vm, hostMHz)
	cpu, mem := vm.CPU, vm.Memory
	res := [2]int64{value(&cpu.Reservation), value(&mem.Reservation)}
	lim := [2]int64{limitOf(&cpu.Limit), limitOf(&mem.Limit)}
	n.node.Shares = sharesOf(&cpu.Shares, &mem.Shares, vcpus, memoryMB)
	size := [2]int64{vcpus * mhzPerVCPU, memoryMB}
	for d := range res {
		// The model refuses a reservation above the VM's size or limit; vSphere would not
		// honour more than either.
		res[d] = min(res[d], size[d])
		if lim[d] >= 0 {
			res[d] = min(res[d], lim[d])
		}
	}
	n.node.Limit = amount(lim[0], lim[1], -1)
	if vm.PowerState != types.VirtualMachinePowerStatePoweredOn {
		// A powered-off VM wants nothing and holds no reservation, as DRS sees it.
		zero := int64(0)
		n.node.Demand = &drs.Amount{CPUMHz: &zero, MemoryMB: &zero}
		return n
	}
	n.node.Reservation = amount(res[0], res[1], 0)
	return n
}

// vmUsage is what a VM uses: for a powered-on VM the CPU (MHz) and host memory (MB) the inventory
// reports it consumes, or, where it reports nothing (the embedded inventory measures nothing),
// its vCPUs at its host's core speed and its configured memory; for any VM the storage it holds
// on datastores, committed and still uncommitted (what its thin disks may grow into, which is
// what a storage quota counts), in MB rounded up.
func vmUsage(vm inventory.TreeVM, hostMHz map[string]int64) (cpuMHz, memoryMB, storageMB int64) {
	storageMB = ceilDiv(vm.StorageBytes, mib)
	if vm.PowerState != types.VirtualMachinePowerStatePoweredOn || !vm.Configured {
		return 0, 0, storageMB
	}
	if vm.OverallCPUUsage > 0 || vm.HostMemoryUsage > 0 {
		return int64(vm.OverallCPUUsage), int64(vm.HostMemoryUsage), storageMB
	}
	mhz := int64(drs.DefaultCPUMHzPerVCPU)
	if vm.Host != "" && hostMHz[vm.Host] > 0 {
		mhz = hostMHz[vm.Host]
	}
	return int64(vm.NumCPU) * mhz, int64(vm.MemoryMB), storageMB
}

// sharesOf turns vSphere's CPU and memory shares settings into the model's one setting: the
// common level when both resources have the same non-custom level, else CUSTOM values per
// resource (a level's value computed for the object's size, as vSphere does).
func sharesOf(cpu, mem *types.SharesInfo, vcpus, memoryMB int64) *drs.Shares {
	cl, ml := levelOf(cpu), levelOf(mem)
	if cl == ml && cl != drs.LevelCustom {
		if cl == drs.LevelNormal {
			return nil
		}
		return &drs.Shares{Level: cl}
	}
	return &drs.Shares{Level: drs.LevelCustom,
		Value:       sharesValue(cpu, cl, 500*vcpus),
		MemoryValue: sharesValue(mem, ml, 5*memoryMB)}
}

func levelOf(s *types.SharesInfo) drs.Level {
	if s == nil {
		return drs.LevelNormal
	}
	switch s.Level {
	case types.SharesLevelLow:
		return drs.LevelLow
	case types.SharesLevelHigh:
		return drs.LevelHigh
	case types.SharesLevelCustom:
		return drs.LevelCustom
	}
	return drs.LevelNormal
}

// sharesValue is the number of shares: a CUSTOM setting's own, or the level's multiple (LOW 1,
// NORMAL 2, HIGH 4) of half the NORMAL value per unit of size.
func sharesValue(s *types.SharesInfo, l drs.Level, halfNormal int64) int64 {
	switch l {
	case drs.LevelCustom:
		return min(max(int64(s.Shares), 1), drs.MaxShares)
	case drs.LevelLow:
		return halfNormal
	case drs.LevelHigh:
		return 4 * halfNormal
	}
	return 2 * halfNormal
}

func value(p *int64) int64 {
	if p == nil || *p < 0 {
		return 0
	}
	return min(*p, drs.MaxAmount)
}

// limitOf is a limit in MHz or MB, or -1 for none.
func limitOf(p *int64) int64 {
	if p == nil || *p < 0 {
		return -1
	}
	return min(*p, drs.MaxAmount)
}

// amount is an Amount with the fields that differ from unset, or nil when neither does.
func amount(cpu, mem, unset int64) *drs.Amount {
	if cpu == unset && mem == unset {
		return nil
	}
	a := &drs.Amount{}
	if cpu != unset {
		a.CPUMHz = &cpu
	}
	if mem != unset {
		a.MemoryMB = &mem
	}
	return a
}

// ceilDiv is a / b rounded up, 0 for what is not positive.
func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// request is the model's input for the tree under roots.
func (s *snapshot) request(roots []*liveNode) drs.Request {
	return drs.Request{Capacity: s.capacity, ScaleDescendantsShares: s.scale, Children: modelNodes(roots)}
}

func modelNodes(ns []*liveNode) []drs.Node {
	out := make([]drs.Node, len(ns))
	for i, n := range ns {
		out[i] = n.node
		if len(n.kids) > 0 {
			out[i].Children = modelNodes(n.kids)
		}
	}
	return out
}

// LiveAnalysis is the model's answer for a cluster's live tree: a drs.Result whose nodes also
// carry their inventory ids.
type LiveAnalysis struct {
	Cluster string `json:"cluster"`
	// Supervisor and NamespacesPool identify the Supervisor and its Namespaces pool (MoRef).
	Supervisor       string       `json:"supervisor,omitempty"`
	NamespacesPool   string       `json:"namespaces_pool,omitempty"`
	Capacity         drs.Capacity `json:"capacity"`
	CPUReservedMHz   int64        `json:"cpu_reserved_mhz"`
	MemoryReservedMB int64        `json:"memory_reserved_mb"`
	Children         []LiveNode   `json:"children"`
}

// LiveNode is a drs.NodeResult with the inventory id of its object. vSphere Pods are modelled
// as VMs of their configured size and reported with type POD and no QoS class.
type LiveNode struct {
	// ID is the MoRef value (resgroup-…, vm-…); absent for what a what-if adds.
	ID string `json:"id,omitempty"`
	drs.NodeResult
	// Reservation, Limit and Demand are the node's own settings as the model was given them
	// (drs.Node): what the result is measured against, so a reader can draw a node's reservation
	// and limit beside its entitlement without asking each object. Absent means none, unlimited,
	// and everything the node's size allows.
	Reservation *drs.Amount `json:"reservation,omitempty"`
	Limit       *drs.Amount `json:"limit,omitempty"`
	Demand      *drs.Amount `json:"demand,omitempty"`
	Children    []LiveNode  `json:"children,omitempty"`
}

// analysis is a snapshot (or a what-if variant of it) analysed by the model.
type analysis struct {
	result LiveAnalysis
	byNode map[*liveNode]*LiveNode
}

// analyse runs the model over roots (the snapshot's own, or a what-if copy).
func (s *snapshot) analyse(roots []*liveNode) (*analysis, error) {
	return s.analyseRequest(roots, s.request(roots))
}

// analyseFigures is analyse for callers that read only the figures (entitlements, usage): the
// model's warnings are left out, since writing a sentence for each of 10,000 namespaces' pools
// costs as much as the rest of the analysis.
func (s *snapshot) analyseFigures(roots []*liveNode) (*analysis, error) {
	req := s.request(roots)
	req.ShareWarningPercent = new(0.0)
	return s.analyseRequest(roots, req)
}

func (s *snapshot) analyseRequest(roots []*liveNode, req drs.Request) (*analysis, error) {
	res, err := drs.Analyze(req)
	if err != nil {
		return nil, err
	}
	a := &analysis{byNode: map[*liveNode]*LiveNode{}, result: LiveAnalysis{
		Cluster:          s.cluster.ID,
		Capacity:         res.Capacity,
		CPUReservedMHz:   res.CPUReservedMHz,
		MemoryReservedMB: res.MemoryReservedMB,
	}}
	if s.supervisor != nil {
		a.result.Supervisor = s.supervisor.ID
		a.result.NamespacesPool = s.supervisor.NamespacesPool
	}
	a.result.Children = a.annotate(roots, res.Children)
	if a.result.Children == nil {
		a.result.Children = []LiveNode{}
	}
	return a, nil
}

func (a *analysis) annotate(nodes []*liveNode, results []drs.NodeResult) []LiveNode {
	if len(results) == 0 {
		return nil
	}
	out := make([]LiveNode, len(results))
	for i := range results {
		in := nodes[i].node
		out[i] = LiveNode{ID: nodes[i].id, NodeResult: results[i], Reservation: in.Reservation, Limit: in.Limit, Demand: in.Demand}
		out[i].NodeResult.Children = nil
		if nodes[i].pod {
			out[i].Type = drs.KindPod
		}
		out[i].Children = a.annotate(nodes[i].kids, results[i].Children)
	}
	// Pointers into out are taken once it is complete and will not move.
	for i := range out {
		a.byNode[nodes[i]] = &out[i]
	}
	return out
}

// readSupervisor reads the tree of a cluster that has a Supervisor with its Namespaces pool.
func (f *Family) readSupervisor(ctx context.Context, cluster string) (*snapshot, error) {
	s, err := f.readCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	switch {
	case s.supervisor == nil:
		return nil, noSupervisor(cluster)
	case s.supervisor.NamespacesPool == "":
		return nil, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.resources.supervisor_configuring",
			fmt.Sprintf("The Supervisor on cluster %s is %s and has no Namespaces resource pool yet; try again once it is RUNNING.",
				cluster, s.supervisor.ConfigStatus), cluster, s.supervisor.ConfigStatus)
	case s.namespaces == nil:
		return nil, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.resources.namespaces_pool_missing",
			fmt.Sprintf("The Namespaces resource pool %s of the Supervisor on cluster %s is not in the cluster's inventory.",
				s.supervisor.NamespacesPool, cluster), s.supervisor.NamespacesPool, cluster)
	}
	return s, nil
}

// live serves GET /api/wcpd/clusters/{cluster}/resources.
func (f *Family) live(c *vapi.Call) (any, error) {
	s, err := f.readSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	a, err := s.analyse(s.roots)
	if err != nil {
		return nil, fmt.Errorf("analysing cluster %s: %w", s.cluster.ID, err)
	}
	f.remember(s, a)
	return a.result, nil
}
