// Package clusters owns Supervisor enablement and every cluster-level service of
// namespace_management (issue 3): compatibility checks computed from the inventory, enable and
// disable (the 7.0 clusters API and the 8.0 supervisors API drive one state machine), the
// Supervisor's configuration (set, update, rotate_password), its namespace networks and load
// balancers, NSX edges and tier-0 gateways, Supervisor upgrades with prechecks, summaries,
// conditions and topology, the Supervisor's external identity providers, support bundles, and the
// control plane in the inventory (the "Namespaces" resource pool and three control-plane VMs per
// Supervisor). It offers platform.Supervisors to the other families and hosts the fault injector
// (internal/faults).
//
// Handlers validate and write desired state to the store; one level-triggered controller moves each
// Supervisor through its state machine on the injected clock and keeps the inventory in line with
// the store, so a restart (whose inventory is rebuilt empty) resumes unfinished work and re-creates
// the control plane of running Supervisors. docs/supervisors.md describes the behaviour.
package clusters

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/faults"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Family is the clusters API family.
type Family struct {
	deps   *platform.Deps
	faults *faults.Faults

	supervisors *store.Collection[supervisor]
	edges       *store.Collection[edgeCluster]
	meta        *store.Collection[metaRecord]
	ctl         *controller.Controller

	// enableMu serialises the checks-then-create of enables, so two enables racing for one
	// cluster (or one name) cannot both pass the "already exists" checks.
	enableMu sync.Mutex

	// bundlesMu guards the support bundle tokens and the in-memory log ring.
	bundlesMu sync.Mutex
	bundles   map[string]bundleToken
	logs      map[string][]string

	// states answers Supervisor without going through the records each time.
	states states
}

// New builds the family and offers platform.Supervisors and platform.Faults to the others.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d, faults: faults.New(d), bundles: map[string]bundleToken{}}
	if d.Families != nil {
		d.Families.Supervisors = f
		d.Families.Faults = f.faults
	}
	f.faults.CheckTargets("enable", f.faultTargetCluster)
	f.faults.CheckTargets("disable", f.faultTargetCluster)
	f.faults.CheckTargets("upgrade", f.faultTargetCluster)
	return f
}

// Register attaches the family's handlers. It must not touch deps: the coverage command calls it
// on empty Deps.
func (f *Family) Register(r *vapi.Registry) {
	h := func(service, op string, fn vapi.HandlerFunc) { r.Handle("namespace_management."+service, op, fn) }
	// w registers an operation that reads the Supervisor's record and writes it back (see retried).
	w := func(service, op string, fn vapi.HandlerFunc) { h(service, op, retried(fn)) }

	w("clusters", "enable", f.enable)
	w("clusters", "disable", f.disable)
	h("clusters", "get", f.get)
	h("clusters", "list", f.list)
	w("clusters", "set", f.set)
	w("clusters", "update", f.update)
	w("clusters", "rotate_password", f.rotatePassword)
	h("clusters.topology", "get", f.clusterTopology)

	w("supervisors", "enable_on_compute_cluster", f.enableOnComputeCluster)
	w("supervisors", "enable_on_zones", f.enableOnZones)
	h("supervisors.summary", "get", f.summaryGet)
	h("supervisors.summary", "list", f.summaryList)
	h("supervisors.conditions", "get", f.conditionsGet)
	h("supervisors.topology", "get", f.topologyGet)
	h("supervisors.identity.providers", "create", f.identityProviderCreate)
	h("supervisors.identity.providers", "get", f.identityProviderGet)
	h("supervisors.identity.providers", "list", f.identityProviderList)
	h("supervisors.identity.providers", "set", f.identityProviderSet)
	h("supervisors.identity.providers", "update", f.identityProviderUpdate)
	h("supervisors.identity.providers", "delete", f.identityProviderDelete)

	h("cluster_compatibility", "list", f.compatibilityList)
	h("cluster_compatibility", "list_v2", f.compatibilityListV2)
	h("cluster_size_info", "get", f.sizeInfo)
	h("hosts_config", "get", f.hostsConfig)
	h("distributed_switch_compatibility", "list", f.switchCompatibility)
	h("edge_cluster_compatibility", "list", f.edgeCompatibility)
	h("NSX_tier0_gateway", "list", f.tier0List)
	h("networks.nsx.distributed_switches", "list", f.nsxSwitchesList)
	h("networks.nsx.distributed_switches.compatibility", "check", f.nsxSwitchesCheck)
	h("networks.nsx.edges", "list", f.nsxEdgesList)
	h("networks.nsx.edges.compatibility", "check", f.nsxEdgesCheck)
	h("storage.profiles", "check", f.storageProfilesCheck)
	h("namespace_resource_options", "get", f.resourceOptions)

	h("load_balancers", "get", f.lbGet)
	h("load_balancers", "list", f.lbList)
	w("load_balancers", "set", f.lbSet)
	w("load_balancers", "update", f.lbUpdate)

	w("networks", "create", f.networkCreate)
	w("networks", "delete", f.networkDelete)
	h("networks", "get", f.networkGet)
	h("networks", "list", f.networkList)
	w("networks", "set", f.networkSet)
	w("networks", "update", f.networkUpdate)

	h("cluster_available_versions", "list", f.availableVersions)
	h("software.clusters", "get", f.softwareGet)
	h("software.clusters", "list", f.softwareList)
	w("software.clusters", "upgrade", f.upgrade)
	h("software.clusters", "upgrade_multiple", f.upgradeMultiple)

	h("support_bundle", "create", f.supportBundleCreate)
	r.Extend(bundleDownloadBinding, f.supportBundleDownload, false)

	r.Extend(edgeListBinding, f.edgeClusterList, false)
	r.Extend(edgeCreateBinding, f.edgeClusterCreate, false)
	r.Extend(edgeDeleteBinding, f.edgeClusterDelete, false)

	f.faults.Register(r)

	// Every read is derived from the store and the inventory alone (the Kubernetes API server's
	// state reaches a Supervisor's record through the controller), so the API keeps its answers; the
	// checks too, which are reads bound as a POST.
	const nm = "namespace_management."
	r.Keep(nm+"clusters", "get", "list")
	r.Keep(nm+"clusters.topology", "get")
	r.Keep(nm+"supervisors.summary", "get", "list")
	r.Keep(nm+"supervisors.conditions", "get")
	r.Keep(nm+"supervisors.topology", "get")
	r.Keep(nm+"supervisors.identity.providers", "get", "list")
	r.Keep(nm+"cluster_compatibility", "list", "list_v2")
	r.Keep(nm+"cluster_size_info", "get")
	r.Keep(nm+"hosts_config", "get")
	r.Keep(nm+"distributed_switch_compatibility", "list")
	r.Keep(nm+"edge_cluster_compatibility", "list")
	r.Keep(nm+"NSX_tier0_gateway", "list")
	r.Keep(nm+"networks.nsx.distributed_switches", "list")
	r.Keep(nm+"networks.nsx.distributed_switches.compatibility", "check")
	r.Keep(nm+"networks.nsx.edges", "list")
	r.Keep(nm+"networks.nsx.edges.compatibility", "check")
	// The storage policies are PBM's, which change through PBM's calls alone and are counted apart.
	r.KeepVersioned(nm+"storage.profiles", "check", func() (vapi.KeptVersion, bool) {
		return vapi.KeptVersion{f.deps.Inventory.PolicyGeneration()}, true
	})
	r.Keep(nm+"namespace_resource_options", "get")
	r.Keep(nm+"load_balancers", "get", "list")
	r.Keep(nm+"networks", "get", "list")
	r.Keep(nm+"cluster_available_versions", "list")
	r.Keep(nm+"software.clusters", "get", "list")
	r.Keep(edgeListBinding.Service, edgeListBinding.Name)
}

// Start opens the family's collections, seeds the NSX model on first start, re-creates the control
// plane of running Supervisors in the (freshly built) inventory and starts the controller, which
// resumes every unfinished operation.
func (f *Family) Start(ctx context.Context) error {
	var err error
	if f.supervisors, err = store.NewCollection[supervisor](f.deps.Store, "supervisors"); err != nil {
		return err
	}
	if f.edges, err = store.NewCollection[edgeCluster](f.deps.Store, "nsx-edge-clusters"); err != nil {
		return err
	}
	if f.meta, err = store.NewCollection[metaRecord](f.deps.Store, "clusters-meta"); err != nil {
		return err
	}
	if err := f.faults.Start(ctx); err != nil {
		return err
	}
	if err := f.seedNSX(ctx); err != nil {
		return err
	}
	f.ctl = controller.New("supervisors", controller.Func(f.reconcile), f.deps.Clock, f.logger())
	f.deps.Controllers.Add(f.ctl)
	// The inventory is rebuilt at every start. Put the pools and VMs of running Supervisors back
	// before other families start, so the pool ids they read through platform.Supervisors are
	// current; the controller then resumes everything else.
	for _, r := range f.supervisors.List() {
		if r.Value.Phase == phaseRunning {
			if _, err := f.reconcile(ctx, r.Key); err != nil {
				f.logger().Warn("re-creating the control plane after start", "cluster", r.Key, "error", err)
			}
		}
		f.ctl.Enqueue(r.Key)
	}
	return nil
}

func (f *Family) logger() *slog.Logger {
	if f.deps.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.deps.Logger.With("family", "clusters")
}

func (f *Family) now() time.Time { return f.deps.Clock.Now().UTC() }

// taskDuration is how long an enable, upgrade or disable takes.
func (f *Family) taskDuration() time.Duration {
	if f.deps.TaskDuration > 0 {
		return f.deps.TaskDuration
	}
	return 5 * time.Second
}

// Supervisor finds a Supervisor by any cluster it spans or by its Supervisor id.
func (f *Family) Supervisor(clusterOrID string) (platform.SupervisorState, bool) {
	if f.supervisors == nil || clusterOrID == "" {
		return platform.SupervisorState{}, false
	}
	st, ok := f.states.index(f.supervisors)[clusterOrID]
	return st, ok
}

// states indexes what Supervisor answers, rebuilt when the Supervisor records change: other
// families ask on every request (a list of namespaces, for its stats), and going through the
// records each time copies every Supervisor's whole record.
type states struct {
	mu    sync.Mutex
	built bool
	rev   int64
	byKey map[string]platform.SupervisorState // read-only once built
}

// index maps every name Supervisor accepts to the state it answers: the primary cluster, the
// Supervisor id and every cluster it spans. Records are taken in key order and a name keeps the
// first record that has it, as a search through them in that order would find.
func (s *states) index(records *store.Collection[supervisor]) map[string]platform.SupervisorState {
	rev := records.Revision() // read first: records taken after it are at least as new
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.built && s.rev == rev {
		return s.byKey
	}
	byKey := map[string]platform.SupervisorState{}
	add := func(name string, st platform.SupervisorState) {
		if _, taken := byKey[name]; !taken && name != "" {
			byKey[name] = st
		}
	}
	for _, r := range records.ListShared() {
		st := r.Value.state()
		add(r.Key, st)
		add(r.Value.ID, st)
		for _, c := range r.Value.Clusters {
			add(c, st)
		}
	}
	s.built, s.rev, s.byKey = true, rev, byKey
	return byKey
}

// List returns every Supervisor, sorted by primary cluster.
func (f *Family) List() []platform.SupervisorState {
	if f.supervisors == nil {
		return nil
	}
	recs := f.supervisors.ListShared()
	out := make([]platform.SupervisorState, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Value.state())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}

// lookup returns a copy of the record of the Supervisor on cluster (any it spans) or with that id.
func (f *Family) lookup(clusterOrID string) (supervisor, bool) {
	if f.supervisors == nil || clusterOrID == "" {
		return supervisor{}, false
	}
	if r, ok := f.supervisors.Get(clusterOrID); ok {
		return r.Value, true
	}
	for _, r := range f.supervisors.ListShared() {
		if r.Value.ID == clusterOrID || r.Value.spans(clusterOrID) {
			if full, ok := f.supervisors.Get(r.Key); ok {
				return full.Value, true
			}
		}
	}
	return supervisor{}, false
}

// lookupRecord is lookup with the store revision, for handlers that update with a revision check.
func (f *Family) lookupRecord(clusterOrID string) (store.Record[supervisor], bool) {
	if r, ok := f.supervisors.Get(clusterOrID); ok {
		return r, true
	}
	for _, r := range f.supervisors.ListShared() {
		if r.Value.ID == clusterOrID || r.Value.spans(clusterOrID) {
			return f.supervisors.Get(r.Key)
		}
	}
	return store.Record[supervisor]{}, false
}

// faultTargetCluster accepts a cluster of the inventory as the target of a Supervisor fault.
func (f *Family) faultTargetCluster(ctx context.Context, target string) string {
	if _, err := f.deps.Inventory.Cluster(ctx, target); err != nil {
		return "is not a cluster of the inventory (give its MoRef id, e.g. domain-c9)"
	}
	return ""
}

// metaRecord holds the family's bookkeeping (e.g. that the NSX model was seeded).
type metaRecord struct {
	Value string `json:"value"`
}
