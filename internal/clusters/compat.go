package clusters

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Compatibility is computed from the inventory on every call, so hosts put into maintenance mode
// or clusters reconfigured with govc change the answers at once.

// minHosts is how many usable ESXi hosts a Supervisor's cluster needs: one per control-plane VM.
const minHosts = 3

// snapshot is what the compatibility checks read, taken once per request.
type snapshot struct {
	clusters []inventory.Cluster
	switches []inventory.DistributedSwitch
	edges    []edgeCluster
}

func (f *Family) snapshot(ctx context.Context) (snapshot, error) {
	var s snapshot
	var err error
	if s.clusters, err = f.deps.Inventory.Clusters(ctx); err != nil {
		return s, err
	}
	if s.switches, err = f.deps.Inventory.DistributedSwitches(ctx); err != nil {
		return s, err
	}
	s.edges = f.edgeList()
	return s, nil
}

func (s snapshot) cluster(id string) (inventory.Cluster, bool) {
	for _, c := range s.clusters {
		if c.ID == id {
			return c, true
		}
	}
	return inventory.Cluster{}, false
}

// switchesOf lists the distributed switches every host of cl is a member of.
func (s snapshot) switchesOf(cl inventory.Cluster) []inventory.DistributedSwitch {
	var out []inventory.DistributedSwitch
	for _, sw := range s.switches {
		if connectsAll(sw, cl) {
			out = append(out, sw)
		}
	}
	return out
}

func connectsAll(sw inventory.DistributedSwitch, cl inventory.Cluster) bool {
	if len(cl.Hosts) == 0 {
		return false
	}
	for _, h := range cl.Hosts {
		found := false
		for _, m := range sw.Hosts {
			if m == h.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func workloadPortGroups(sw inventory.DistributedSwitch) []inventory.PortGroup {
	var out []inventory.PortGroup
	for _, pg := range sw.PortGroups {
		if !pg.Uplink {
			out = append(out, pg)
		}
	}
	return out
}

func usableHosts(cl inventory.Cluster) int {
	n := 0
	for _, h := range cl.Hosts {
		if h.Connected && !h.MaintenanceMode {
			n++
		}
	}
	return n
}

// clusterReasons says why a Supervisor with the given network provider cannot be enabled on cl;
// an empty answer means it can. The checks are vCenter's: HA and DRS on, enough usable hosts, a
// distributed switch across the cluster, and for NSX an edge cluster with a tier-0 gateway on it.
func (f *Family) clusterReasons(s snapshot, cl inventory.Cluster, provider NetworkProvider) []vapi.Message {
	out := []vapi.Message{}
	add := func(id, format string, args ...any) {
		strs := make([]string, len(args))
		for i, a := range args {
			strs[i] = fmt.Sprint(a)
		}
		out = append(out, localizable("wcpd.compatibility."+id, fmt.Sprintf(format, args...), strs...))
	}
	if sup, ok := f.lookup(cl.ID); ok {
		add("enabled", "Cluster %s already has a Supervisor (%s).", cl.Name, sup.Name)
	}
	if !cl.HAEnabled {
		add("ha_disabled", "vSphere HA is not enabled on cluster %s; turn it on to enable a Supervisor.", cl.Name)
	}
	if !cl.DRSEnabled {
		add("drs_disabled", "vSphere DRS is not enabled on cluster %s; turn it on (fully automated) to enable a Supervisor.", cl.Name)
	}
	if n := usableHosts(cl); n < minHosts {
		add("too_few_hosts", "Cluster %s has %d usable ESXi host(s) (connected and not in maintenance mode); a Supervisor needs at least %d.", cl.Name, n, minHosts)
	}
	switches := s.switchesOf(cl)
	if len(switches) == 0 {
		add("no_switch", "No vSphere Distributed Switch connects every host of cluster %s.", cl.Name)
		return out
	}
	switch provider {
	case ProviderVSphere:
		ok := false
		for _, sw := range switches {
			ok = ok || len(workloadPortGroups(sw)) > 0
		}
		if !ok {
			add("no_portgroup", "The distributed switches of cluster %s have no distributed port group for workload networks.", cl.Name)
		}
	default:
		ok := false
		for _, sw := range switches {
			ok = ok || len(f.compatibleEdgesIn(s, sw)) > 0
		}
		if !ok {
			add("no_nsx_edge", "No NSX edge cluster with a tier-0 gateway is attached to the distributed switches of cluster %s; NSX networking needs one (or use VSPHERE_NETWORK).", cl.Name)
		}
	}
	return out
}

func (f *Family) compatibleEdgesIn(s snapshot, sw inventory.DistributedSwitch) []edgeCluster {
	var out []edgeCluster
	for _, e := range s.edges {
		if len(edgeReasons(e, sw)) == 0 {
			out = append(out, e)
		}
	}
	return out
}

// CompatibilityFilter is ClusterCompatibility.FilterSpec (and DistributedSwitchCompatibility's).
type CompatibilityFilter struct {
	Compatible      *bool            `json:"compatible,omitempty"`
	NetworkProvider *NetworkProvider `json:"network_provider,omitempty"`
}

// CompatibilitySummary is ClusterCompatibility.Summary.
type CompatibilitySummary struct {
	Cluster                string         `json:"cluster"`
	Compatible             bool           `json:"compatible"`
	IncompatibilityReasons []vapi.Message `json:"incompatibility_reasons"`
}

func providerOf(p *NetworkProvider) NetworkProvider {
	if p == nil {
		return ProviderNSX // the reference's default
	}
	return *p
}

func (f *Family) compatibilityList(c *vapi.Call) (any, error) {
	var filter CompatibilityFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := []CompatibilitySummary{}
	for _, cl := range s.clusters {
		reasons := f.clusterReasons(s, cl, providerOf(filter.NetworkProvider))
		if filter.Compatible != nil && *filter.Compatible && len(reasons) > 0 {
			continue
		}
		out = append(out, CompatibilitySummary{Cluster: cl.ID, Compatible: len(reasons) == 0, IncompatibilityReasons: reasons})
	}
	return out, nil
}

// zoneOf is the vSphere Zone of a cluster: the zone that holds it (the zones family), else its own,
// zone-<cluster MoRef id>.
func (f *Family) zoneOf(cluster string) string {
	if fam := f.deps.Families; fam != nil && fam.Zones != nil {
		return fam.Zones.ZoneOf(cluster)
	}
	return platform.ImplicitZone(cluster)
}

// clusterOfZone resolves a zone id to its cluster.
func (f *Family) clusterOfZone(s snapshot, zone string) (inventory.Cluster, bool) {
	var id string
	var ok bool
	if fam := f.deps.Families; fam != nil && fam.Zones != nil {
		id, ok = fam.Zones.ClusterOf(zone)
	} else {
		id, ok = platform.ImplicitZoneCluster(zone)
	}
	if !ok {
		return inventory.Cluster{}, false
	}
	return s.cluster(id)
}

// notAZone is why a zone id names no cluster.
const notAZone = "is not a vSphere Zone that holds a cluster (see /api/vcenter/consumption-domains/zones; a cluster that no zone holds is zone-<cluster id>)"

// ZoneFilter is ClusterCompatibility.ZoneFilterSpec.
type ZoneFilter struct {
	Zones []string `json:"zones,omitempty"`
}

// CompatibilityFilterV2 is ClusterCompatibility.FilterSpecV2.
type CompatibilityFilterV2 struct {
	Compatible      *bool                `json:"compatible,omitempty"`
	NetworkProvider *WorkloadNetworkType `json:"network_provider,omitempty"`
}

// ZoneSummary is ClusterCompatibility.ZoneSummary.
type ZoneSummary struct {
	Zone             string                 `json:"zone"`
	Compatible       bool                   `json:"compatible"`
	ClusterSummaries []CompatibilitySummary `json:"cluster_summaries"`
}

// ZoneCompatibilityInfo is ClusterCompatibility.ZoneCompatibilityInfo.
type ZoneCompatibilityInfo struct {
	Compatible             bool           `json:"compatible"`
	ZoneSummaries          []ZoneSummary  `json:"zone_summaries"`
	IncompatibilityReasons []vapi.Message `json:"incompatibility_reasons"`
}

func (f *Family) compatibilityListV2(c *vapi.Call) (any, error) {
	var zf ZoneFilter
	var cf CompatibilityFilterV2
	if _, err := c.BindOptional("zone_filter", &zf); err != nil {
		return nil, err
	}
	if _, err := c.BindOptional("cluster_filter", &cf); err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	provider := ProviderNSX
	if cf.NetworkProvider != nil && *cf.NetworkProvider == NetworkTypeVSphere {
		provider = ProviderVSphere
	}
	var clusters []inventory.Cluster
	if len(zf.Zones) == 0 {
		clusters = s.clusters
	} else {
		var errs vapi.FieldErrors
		for i, z := range zf.Zones {
			cl, ok := f.clusterOfZone(s, z)
			if !ok {
				errs.Add(fmt.Sprintf("zone_filter.zones[%d]", i), z, notAZone)
				continue
			}
			clusters = append(clusters, cl)
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
	}
	out := ZoneCompatibilityInfo{Compatible: true, ZoneSummaries: []ZoneSummary{}, IncompatibilityReasons: []vapi.Message{}}
	for _, cl := range clusters {
		reasons := f.clusterReasons(s, cl, provider)
		ok := len(reasons) == 0
		if !ok {
			out.Compatible = false
		}
		if cf.Compatible != nil && *cf.Compatible && !ok {
			continue
		}
		out.ZoneSummaries = append(out.ZoneSummaries, ZoneSummary{Zone: f.zoneOf(cl.ID), Compatible: ok,
			ClusterSummaries: []CompatibilitySummary{{Cluster: cl.ID, Compatible: ok, IncompatibilityReasons: reasons}}})
	}
	if !out.Compatible {
		out.IncompatibilityReasons = append(out.IncompatibilityReasons, localizable("wcpd.compatibility.zones.incompatible",
			"Not every vSphere Zone considered can run a Supervisor; see the clusters' reasons."))
	}
	if n := len(clusters); n != 1 && n != 3 {
		out.Compatible = false
		out.IncompatibilityReasons = append(out.IncompatibilityReasons, localizable("wcpd.compatibility.zones.count",
			fmt.Sprintf("A Supervisor runs on one or three vSphere Zones; %d were considered.", n), fmt.Sprint(n)))
	}
	return out, nil
}

// SwitchCompatibilitySummary is DistributedSwitchCompatibility.Summary.
type SwitchCompatibilitySummary struct {
	DistributedSwitch      string           `json:"distributed_switch"`
	Compatible             bool             `json:"compatible"`
	IncompatibilityReasons []vapi.Message   `json:"incompatibility_reasons,omitempty"`
	NetworkProvider        *NetworkProvider `json:"network_provider,omitempty"`
	CompatibleNetworks     []string         `json:"compatible_networks,omitempty"`
}

// switchReasons says why sw cannot carry a Supervisor on cl with provider.
func (f *Family) switchReasons(s snapshot, sw inventory.DistributedSwitch, cl inventory.Cluster, provider NetworkProvider) []vapi.Message {
	var out []vapi.Message
	if !connectsAll(sw, cl) {
		out = append(out, localizable("wcpd.compatibility.switch.hosts",
			fmt.Sprintf("Distributed switch %s does not connect every host of cluster %s.", sw.Name, cl.Name), sw.Name, cl.Name))
	}
	if provider == ProviderVSphere {
		if len(workloadPortGroups(sw)) == 0 {
			out = append(out, localizable("wcpd.compatibility.switch.no_portgroup",
				fmt.Sprintf("Distributed switch %s has no distributed port group for workload networks.", sw.Name), sw.Name))
		}
	} else if len(f.compatibleEdgesIn(s, sw)) == 0 {
		out = append(out, localizable("wcpd.compatibility.switch.no_nsx",
			fmt.Sprintf("No NSX edge cluster with a tier-0 gateway is attached to distributed switch %s.", sw.Name), sw.Name))
	}
	return out
}

func (f *Family) requiredCluster(c *vapi.Call, s snapshot) (inventory.Cluster, error) {
	id := c.Query("cluster")
	if id == "" {
		var errs vapi.FieldErrors
		errs.Missing("cluster")
		return inventory.Cluster{}, errs.Err()
	}
	cl, ok := s.cluster(id)
	if !ok {
		return inventory.Cluster{}, vapi.NotFound("Cluster", id)
	}
	return cl, nil
}

func (f *Family) switchCompatibility(c *vapi.Call) (any, error) {
	var filter CompatibilityFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	cl, err := f.requiredCluster(c, s)
	if err != nil {
		return nil, err
	}
	provider := providerOf(filter.NetworkProvider)
	out := []SwitchCompatibilitySummary{}
	for _, sw := range s.switches {
		reasons := f.switchReasons(s, sw, cl, provider)
		ok := len(reasons) == 0
		if filter.Compatible != nil && *filter.Compatible != ok {
			continue
		}
		p := provider
		sum := SwitchCompatibilitySummary{Compatible: ok, IncompatibilityReasons: reasons, NetworkProvider: &p}
		if provider == ProviderVSphere {
			sum.DistributedSwitch = sw.ID
			for _, pg := range workloadPortGroups(sw) {
				sum.CompatibleNetworks = append(sum.CompatibleNetworks, pg.ID)
			}
		} else {
			// For NSX, vCenter names the switch by its UUID.
			sum.DistributedSwitch = sw.UUID
		}
		out = append(out, sum)
	}
	return out, nil
}

// EdgeCompatibilityFilter is EdgeClusterCompatibility.FilterSpec.
type EdgeCompatibilityFilter struct {
	Compatible *bool `json:"compatible,omitempty"`
}

// EdgeCompatibilitySummary is EdgeClusterCompatibility.Summary.
type EdgeCompatibilitySummary struct {
	EdgeCluster            string         `json:"edge_cluster"`
	DisplayName            string         `json:"display_name"`
	Compatible             bool           `json:"compatible"`
	IncompatibilityReasons []vapi.Message `json:"incompatibility_reasons,omitempty"`
}

func (f *Family) requiredSwitch(c *vapi.Call, s snapshot, param string) (inventory.DistributedSwitch, error) {
	id := c.Query(param)
	if id == "" {
		var errs vapi.FieldErrors
		errs.Missing(param)
		return inventory.DistributedSwitch{}, errs.Err()
	}
	sw, ok := resolveSwitch(s.switches, id)
	if !ok {
		return inventory.DistributedSwitch{}, vapi.NotFound("Distributed switch", id)
	}
	return sw, nil
}

func (f *Family) edgeCompatibility(c *vapi.Call) (any, error) {
	var filter EdgeCompatibilityFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	cl, err := f.requiredCluster(c, s)
	if err != nil {
		return nil, err
	}
	sw, err := f.requiredSwitch(c, s, "distributed_switch")
	if err != nil {
		return nil, err
	}
	out := []EdgeCompatibilitySummary{}
	for _, e := range s.edges {
		reasons := edgeReasons(e, sw)
		if !connectsAll(sw, cl) {
			reasons = append(reasons, localizable("wcpd.compatibility.switch.hosts",
				fmt.Sprintf("Distributed switch %s does not connect every host of cluster %s.", sw.Name, cl.Name), sw.Name, cl.Name))
		}
		ok := len(reasons) == 0
		if filter.Compatible != nil && *filter.Compatible != ok {
			continue
		}
		out = append(out, EdgeCompatibilitySummary{EdgeCluster: e.ID, DisplayName: e.DisplayName, Compatible: ok, IncompatibilityReasons: reasons})
	}
	return out, nil
}

func (f *Family) tier0List(c *vapi.Call) (any, error) {
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	sw, err := f.requiredSwitch(c, s, "distributed_switch")
	if err != nil {
		return nil, err
	}
	out := []Tier0GatewaySummary{}
	seen := map[string]bool{}
	for _, e := range s.edges {
		if !e.on(sw) {
			continue
		}
		for _, t := range e.Tier0s {
			if !seen[t.ID] {
				seen[t.ID] = true
				out = append(out, Tier0GatewaySummary{Tier0Gateway: t.ID, DisplayName: t.DisplayName})
			}
		}
	}
	return out, nil
}

// NSXSwitchFilter is networks.nsx.DistributedSwitches.FilterSpec.
type NSXSwitchFilter struct {
	Compatible *bool    `json:"compatible,omitempty"`
	Zones      []string `json:"zones"`
}

// NSXSwitchSummary is networks.nsx.DistributedSwitches.Summary.
type NSXSwitchSummary struct {
	DistributedSwitch string `json:"distributed_switch"`
	Name              string `json:"name"`
}

// NSXSwitchCompatibility is networks.nsx.distributed_switches.Compatibility.Summary.
type NSXSwitchCompatibility struct {
	DistributedSwitch      string         `json:"distributed_switch"`
	Name                   string         `json:"name"`
	Compatible             bool           `json:"compatible"`
	IncompatibilityReasons []vapi.Message `json:"incompatibility_reasons"`
}

// nsxSwitches evaluates every distributed switch for NSX networking across the filter's zones: a
// switch must connect every host of every zone's cluster and carry an NSX edge cluster.
func (f *Family) nsxSwitches(c *vapi.Call) ([]NSXSwitchCompatibility, error) {
	var filter NSXSwitchFilter
	given, err := c.BindOptional("filter", &filter)
	if err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	var clusters []inventory.Cluster
	var errs vapi.FieldErrors
	for i, z := range filter.Zones {
		cl, ok := f.clusterOfZone(s, z)
		if !ok {
			errs.Add(fmt.Sprintf("filter.zones[%d]", i), z, notAZone)
			continue
		}
		clusters = append(clusters, cl)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	out := []NSXSwitchCompatibility{}
	for _, sw := range s.switches {
		reasons := []vapi.Message{}
		for _, cl := range clusters {
			if !connectsAll(sw, cl) {
				reasons = append(reasons, localizable("wcpd.compatibility.switch.hosts",
					fmt.Sprintf("Distributed switch %s does not connect every host of cluster %s (zone %s).", sw.Name, cl.Name, f.zoneOf(cl.ID)), sw.Name, cl.Name))
			}
		}
		if len(f.compatibleEdgesIn(s, sw)) == 0 {
			reasons = append(reasons, localizable("wcpd.compatibility.switch.no_nsx",
				fmt.Sprintf("No NSX edge cluster with a tier-0 gateway is attached to distributed switch %s.", sw.Name), sw.Name))
		}
		ok := len(reasons) == 0
		if given && filter.Compatible != nil && *filter.Compatible != ok {
			continue
		}
		out = append(out, NSXSwitchCompatibility{DistributedSwitch: sw.UUID, Name: sw.Name, Compatible: ok, IncompatibilityReasons: reasons})
	}
	return out, nil
}

func (f *Family) nsxSwitchesList(c *vapi.Call) (any, error) {
	all, err := f.nsxSwitches(c)
	if err != nil {
		return nil, err
	}
	out := make([]NSXSwitchSummary, 0, len(all))
	for _, s := range all {
		out = append(out, NSXSwitchSummary{DistributedSwitch: s.DistributedSwitch, Name: s.Name})
	}
	return out, nil
}

func (f *Family) nsxSwitchesCheck(c *vapi.Call) (any, error) { return f.nsxSwitches(c) }

// NSXEdgeFilter is networks.nsx.Edges.FilterSpec.
type NSXEdgeFilter struct {
	Compatible        *bool    `json:"compatible,omitempty"`
	DistributedSwitch []string `json:"distributed_switch"`
}

// NSXEdgeSummary is networks.nsx.Edges.Summary.
type NSXEdgeSummary struct {
	EdgeCluster string `json:"edge_cluster"`
	Name        string `json:"name"`
}

// NSXEdgeCompatibility is networks.nsx.edges.Compatibility.Summary.
type NSXEdgeCompatibility struct {
	EdgeCluster            string         `json:"edge_cluster"`
	Name                   string         `json:"name"`
	Compatible             bool           `json:"compatible"`
	IncompatibilityReasons []vapi.Message `json:"incompatibility_reasons"`
}

func (f *Family) nsxEdges(c *vapi.Call) ([]NSXEdgeCompatibility, error) {
	var filter NSXEdgeFilter
	given, err := c.BindOptional("filter", &filter)
	if err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	var switches []inventory.DistributedSwitch
	var errs vapi.FieldErrors
	for i, id := range filter.DistributedSwitch {
		sw, ok := resolveSwitch(s.switches, id)
		if !ok {
			errs.Add(fmt.Sprintf("filter.distributed_switch[%d]", i), id, "is not a distributed switch of the inventory")
			continue
		}
		switches = append(switches, sw)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	out := []NSXEdgeCompatibility{}
	for _, e := range s.edges {
		reasons := []vapi.Message{}
		for _, sw := range switches {
			reasons = append(reasons, edgeReasons(e, sw)...)
		}
		if len(switches) == 0 && len(e.Tier0s) == 0 {
			reasons = append(reasons, localizable("wcpd.nsx.edge.no_tier0", fmt.Sprintf("NSX edge cluster %s has no tier-0 gateway.", e.DisplayName), e.DisplayName))
		}
		ok := len(reasons) == 0
		if given && filter.Compatible != nil && *filter.Compatible != ok {
			continue
		}
		out = append(out, NSXEdgeCompatibility{EdgeCluster: e.ID, Name: e.DisplayName, Compatible: ok, IncompatibilityReasons: reasons})
	}
	return out, nil
}

func (f *Family) nsxEdgesList(c *vapi.Call) (any, error) {
	all, err := f.nsxEdges(c)
	if err != nil {
		return nil, err
	}
	out := make([]NSXEdgeSummary, 0, len(all))
	for _, e := range all {
		out = append(out, NSXEdgeSummary{EdgeCluster: e.EdgeCluster, Name: e.Name})
	}
	return out, nil
}

func (f *Family) nsxEdgesCheck(c *vapi.Call) (any, error) { return f.nsxEdges(c) }

// StorageProfilesFilter is storage.Profiles.FilterSpec.
type StorageProfilesFilter struct {
	Zones []string `json:"zones"`
}

// StorageProfileItem is storage.Profiles.Item.
type StorageProfileItem struct {
	Zone       string   `json:"zone"`
	Datastores []string `json:"datastores"`
}

// StorageProfileSummary is storage.Profiles.Summary.
type StorageProfileSummary struct {
	Profile                string               `json:"profile"`
	ProfileName            string               `json:"profile_name"`
	Compatible             bool                 `json:"compatible"`
	Items                  []StorageProfileItem `json:"items"`
	IncompatibilityReasons []vapi.Message       `json:"incompatibility_reasons"`
}

// storageProfilesCheck answers which storage policies give at least one datastore in each zone.
// The embedded PBM does not match policies to datastores, so every policy is satisfied by every
// accessible datastore that all hosts of a zone's cluster mount.
func (f *Family) storageProfilesCheck(c *vapi.Call) (any, error) {
	var filter StorageProfilesFilter
	if err := c.Bind("filter", &filter); err != nil {
		return nil, err
	}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	if len(filter.Zones) == 0 {
		errs.Add("filter.zones", "[]", "must name at least one vSphere Zone")
	}
	var clusters []inventory.Cluster
	for i, z := range filter.Zones {
		cl, ok := f.clusterOfZone(s, z)
		if !ok {
			errs.Add(fmt.Sprintf("filter.zones[%d]", i), z, notAZone)
			continue
		}
		clusters = append(clusters, cl)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	dss, err := f.deps.Inventory.Datastores(c.Ctx)
	if err != nil {
		return nil, err
	}
	policies, err := f.deps.Inventory.StoragePolicies(c.Ctx)
	if err != nil {
		return nil, err
	}
	items := make([]StorageProfileItem, 0, len(clusters))
	reasons := []vapi.Message{}
	for _, cl := range clusters {
		item := StorageProfileItem{Zone: f.zoneOf(cl.ID), Datastores: []string{}}
		for i := range dss {
			if dss[i].Accessible && mountedOnAll(&dss[i], cl) {
				item.Datastores = append(item.Datastores, dss[i].ID)
			}
		}
		if len(item.Datastores) == 0 {
			reasons = append(reasons, localizable("wcpd.storage.no_datastore",
				fmt.Sprintf("No datastore is mounted on every host of cluster %s (zone %s).", cl.Name, item.Zone), cl.Name, item.Zone))
		}
		items = append(items, item)
	}
	out := make([]StorageProfileSummary, 0, len(policies))
	for _, p := range policies {
		out = append(out, StorageProfileSummary{Profile: p.ID, ProfileName: p.Name, Compatible: len(reasons) == 0,
			Items: items, IncompatibilityReasons: reasons})
	}
	return out, nil
}

// HostsConfigInfo is HostsConfig.Info.
type HostsConfigInfo struct {
	NamespacesSupported bool `json:"namespaces_supported"`
	NamespacesLicensed  bool `json:"namespaces_licensed"`
}

// hostsConfig reports vCenter-level support: wcpd presents itself as vCenter 8.0.2, which supports
// Supervisors; the feature counts as licensed when a connected ESXi host exists to carry it.
func (f *Family) hostsConfig(c *vapi.Call) (any, error) {
	clusters, err := f.deps.Inventory.Clusters(c.Ctx)
	if err != nil {
		return nil, err
	}
	licensed := false
	for _, cl := range clusters {
		for _, h := range cl.Hosts {
			licensed = licensed || h.Connected
		}
	}
	return HostsConfigInfo{NamespacesSupported: true, NamespacesLicensed: licensed}, nil
}

// SizeVMInfo is ClusterSizeInfo.VmInfo.
type SizeVMInfo struct {
	Count          int64 `json:"count"`
	CoresPerSocket int64 `json:"cores_per_socket"`
	Memory         int64 `json:"memory"`
	Capacity       int64 `json:"capacity"`
}

// SizeInfo is ClusterSizeInfo.Info.
type SizeInfo struct {
	NumSupportedPods     int64       `json:"num_supported_pods"`
	NumSupportedServices int64       `json:"num_supported_services"`
	DefaultServiceCidr   Ipv4Cidr    `json:"default_service_cidr"`
	DefaultPodCidr       Ipv4Cidr    `json:"default_pod_cidr"`
	MasterVMInfo         SizeVMInfo  `json:"master_vm_info"`
	WorkerVMInfo         *SizeVMInfo `json:"worker_vm_info,omitempty"`
}

// sizeLimits are the per-size Kubernetes figures (docs/supervisors.md); the service CIDR is sized
// to hold the supported services.
var sizeLimits = map[SizingHint]struct {
	pods, services       int64
	servicePrefix, podPx int64
}{
	"TINY":   {pods: 1000, services: 500, servicePrefix: 23, podPx: 21},
	"SMALL":  {pods: 2000, services: 1000, servicePrefix: 22, podPx: 20},
	"MEDIUM": {pods: 4000, services: 2000, servicePrefix: 21, podPx: 19},
	"LARGE":  {pods: 8000, services: 4000, servicePrefix: 20, podPx: 18},
}

func (f *Family) sizeInfo(*vapi.Call) (any, error) {
	out := map[string]SizeInfo{}
	for hint, sz := range sizes {
		l := sizeLimits[hint]
		out[string(hint)] = SizeInfo{
			NumSupportedPods: l.pods, NumSupportedServices: l.services,
			DefaultServiceCidr: Ipv4Cidr{Address: "10.96.0.0", Prefix: l.servicePrefix},
			DefaultPodCidr:     Ipv4Cidr{Address: "10.244.0.0", Prefix: l.podPx},
			MasterVMInfo:       SizeVMInfo{Count: int64(sz.CPUs), CoresPerSocket: int64(sz.CPUs), Memory: sz.MemoryMB, Capacity: sz.DiskMB},
		}
	}
	return out, nil
}

// ResourceOptionsInfo is NamespaceResourceOptions.Info.
type ResourceOptionsInfo struct {
	CreateResourceQuotaType string `json:"create_resource_quota_type"`
	UpdateResourceQuotaType string `json:"update_resource_quota_type"`
}

func (f *Family) resourceOptions(c *vapi.Call) (any, error) {
	if _, err := f.enabledSupervisor(c.Ctx, c.Path("cluster")); err != nil {
		return nil, err
	}
	return ResourceOptionsInfo{
		CreateResourceQuotaType: "com.vmware.vcenter.namespaces.resource_quota_options_v1",
		UpdateResourceQuotaType: "com.vmware.vcenter.namespaces.resource_quota_options_v1_update",
	}, nil
}

// enabledSupervisor returns the Supervisor on cluster, NOT_FOUND for a cluster the inventory does
// not have and UNSUPPORTED for one without a Supervisor (vCenter's answers).
func (f *Family) enabledSupervisor(ctx context.Context, cluster string) (supervisor, error) {
	return f.supervisorOn(ctx, cluster, vapi.ErrorUnsupported)
}

// supervisorOn is enabledSupervisor answering absent for a cluster without a Supervisor: the
// operations that act on the Supervisor's state (disable, rotate_password) declare
// NOT_ALLOWED_IN_CURRENT_STATE for it rather than UNSUPPORTED.
func (f *Family) supervisorOn(ctx context.Context, cluster string, absent vapi.ErrorType) (supervisor, error) {
	if s, ok := f.lookup(cluster); ok && s.spans(cluster) {
		return s, nil
	}
	if _, err := f.deps.Inventory.Cluster(ctx, cluster); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return supervisor{}, vapi.NotFound("Cluster", cluster)
		}
		return supervisor{}, err
	}
	return supervisor{}, vapi.Errorf(absent, "wcpd.supervisor.not_enabled",
		"Cluster %s does not have a Supervisor: enable one first.", cluster)
}

// usage reports what the Supervisor's clusters use and offer: from the resources family when it is
// there, otherwise from the inventory (capacity of usable hosts and shared datastores; use is
// what powered-on VMs are allocated: their vCPUs at their host's clock, their memory).
func (f *Family) usage(ctx context.Context, clusters []string) (Stats, error) {
	var st Stats
	if r := f.deps.Families.Resources; r != nil {
		for _, id := range clusters {
			u, err := r.ClusterUsage(ctx, id)
			if err != nil {
				return Stats{}, err
			}
			st.CPUUsed += u.CPUUsedMHz
			st.CPUCapacity += u.CPUCapacityMHz
			st.MemoryUsed += u.MemoryUsedMB
			st.MemoryCapacity += u.MemoryCapacityMB
			st.StorageUsed += u.StorageUsedMB
			st.StorageCapacity += u.StorageCapacityMB
		}
		return st, nil
	}
	all, err := f.deps.Inventory.Clusters(ctx)
	if err != nil {
		return Stats{}, err
	}
	dss, err := f.deps.Inventory.Datastores(ctx)
	if err != nil {
		return Stats{}, err
	}
	hostMHz := map[string]int64{}
	counted := map[string]bool{}
	for _, cl := range all {
		if !contains(clusters, cl.ID) {
			continue
		}
		st.CPUCapacity += cl.EffectiveCPUMHz
		st.MemoryCapacity += cl.EffectiveMemoryBytes >> 20
		for _, h := range cl.Hosts {
			hostMHz[h.ID] = int64(h.CPUMHz)
		}
		for i := range dss {
			ds := &dss[i]
			if !counted[ds.ID] && ds.Accessible && mountedOnAll(ds, cl) {
				counted[ds.ID] = true
				st.StorageCapacity += ds.CapacityBytes >> 20
				st.StorageUsed += (ds.CapacityBytes - ds.FreeBytes) >> 20
			}
		}
	}
	c := f.deps.Inventory.Client()
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return Stats{}, err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"runtime.powerState", "runtime.host", "config.hardware.numCPU", "config.hardware.memoryMB"}, &vms); err != nil {
		return Stats{}, err
	}
	for _, vm := range vms {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || vm.Runtime.Host == nil || vm.Config == nil {
			continue
		}
		if mhz, ok := hostMHz[vm.Runtime.Host.Value]; ok {
			st.CPUUsed += int64(vm.Config.Hardware.NumCPU) * mhz
			st.MemoryUsed += int64(vm.Config.Hardware.MemoryMB)
		}
	}
	return st, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys is for deterministic output of maps.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
