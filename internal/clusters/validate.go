package clusters

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
)

// paths names the request fields validation reports. The 7.0 enable spec is validated under its own
// names; the 8.0 specs are converted to it first, and their converter maps the canonical names back
// to the fields the caller actually sent, so errors always name what the caller wrote.
type paths struct {
	root  string
	alias map[string]string
}

// sub names leaf below the canonical base (base "" is the root).
func (p paths) sub(base, leaf string) string {
	if base == "" {
		return p.at(leaf)
	}
	return p.at(base + "." + leaf)
}

func (p paths) at(field string) string {
	if a, ok := p.alias[field]; ok {
		return a
	}
	// An aliased parent names its children too (a list element or a field below an aliased one);
	// the longest aliased parent wins.
	best := ""
	for k := range p.alias {
		if len(k) > len(best) && (strings.HasPrefix(field, k+".") || strings.HasPrefix(field, k+"[")) {
			best = k
		}
	}
	if best != "" {
		return p.alias[best] + field[len(best):]
	}
	return p.root + "." + field
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsName  = regexp.MustCompile(`^([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)
)

// env is what validation looks things up in, read once per request.
type env struct {
	snap      snapshot
	clusters  []inventory.Cluster // the clusters the Supervisor will span
	policies  map[string]bool
	libraries map[string]bool
}

func (f *Family) validationEnv(ctx context.Context, clusters []inventory.Cluster) (env, error) {
	s, err := f.snapshot(ctx)
	if err != nil {
		return env{}, err
	}
	e := env{snap: s, clusters: clusters, policies: map[string]bool{}, libraries: map[string]bool{}}
	pols, err := f.deps.Inventory.StoragePolicies(ctx)
	if err != nil {
		return env{}, err
	}
	for _, p := range pols {
		e.policies[p.ID] = true
	}
	libs, err := f.deps.Inventory.ContentLibraries(ctx)
	if err != nil {
		return env{}, err
	}
	for _, l := range libs {
		e.libraries[l.ID] = true
	}
	return e, nil
}

// portGroup finds a distributed port group for workloads or management that connects every host of
// every cluster of the Supervisor.
func (e env) portGroup(id string) (inventory.PortGroup, inventory.DistributedSwitch, string) {
	for _, sw := range e.snap.switches {
		for _, pg := range sw.PortGroups {
			if pg.ID != id {
				continue
			}
			if pg.Uplink {
				return pg, sw, "is the uplink port group of " + sw.Name + ", which carries no VM traffic"
			}
			for _, cl := range e.clusters {
				if !connectsAll(sw, cl) {
					return pg, sw, fmt.Sprintf("is on distributed switch %s, which does not connect every host of cluster %s", sw.Name, cl.Name)
				}
			}
			return pg, sw, ""
		}
	}
	return inventory.PortGroup{}, inventory.DistributedSwitch{}, "is not a distributed port group of the inventory"
}

// validateEnable checks a whole enable spec against the inventory and fills in the defaults vCenter
// chooses (the cluster's switch, edge cluster and tier-0 gateway for NSX; static addressing for
// workload networks). Every problem found is reported at once.
func validateEnable(e env, spec *EnableSpec, p paths) error {
	var errs vapi.FieldErrors
	var spans []span

	if sp, ok := checkCIDR(spec.ServiceCidr, p.at("service_cidr"), &errs); ok {
		spans = append(spans, sp)
	}

	// The network_provider union.
	switch spec.NetworkProvider {
	case ProviderNSX:
		if spec.NCPClusterNetworkSpec == nil {
			errs.Missing(p.at("ncp_cluster_network_spec"))
		}
		if spec.WorkloadNetworksSpec != nil {
			errs.Add(p.at("workload_networks_spec"), "{...}", "is only valid with network_provider VSPHERE_NETWORK")
		}
		if spec.LoadBalancerConfigSpec != nil {
			errs.Add(p.at("load_balancer_config_spec"), "{...}", "is only valid with network_provider VSPHERE_NETWORK (NSX provides load balancing)")
		}
		if spec.NCPClusterNetworkSpec != nil {
			spans = append(spans, validateNCP(e, spec.NCPClusterNetworkSpec, p, &errs)...)
		}
	case ProviderVSphere:
		if spec.NCPClusterNetworkSpec != nil {
			errs.Add(p.at("ncp_cluster_network_spec"), "{...}", "is only valid with network_provider NSXT_CONTAINER_PLUGIN")
		}
		if spec.WorkloadNetworksSpec == nil {
			errs.Missing(p.at("workload_networks_spec"))
		} else {
			spans = append(spans, validateWorkloadNetworks(e, spec.WorkloadNetworksSpec, p, &errs)...)
		}
		if spec.LoadBalancerConfigSpec == nil {
			errs.Missing(p.at("load_balancer_config_spec"))
		} else {
			spans = append(spans, validateLBConfig(spec.LoadBalancerConfigSpec, "load_balancer_config_spec", p, &errs)...)
		}
	}

	spans = append(spans, validateManagement(e, &spec.MasterManagementNetwork, p, &errs)...)
	checkOverlaps(spans, &errs)

	for _, pol := range []struct{ field, id string }{
		{"master_storage_policy", spec.MasterStoragePolicy},
		{"ephemeral_storage_policy", spec.EphemeralStoragePolicy},
		{"image_storage.storage_policy", spec.ImageStorage.StoragePolicy},
	} {
		if !e.policies[pol.id] {
			errs.Add(p.at(pol.field), pol.id, "is not a storage policy (PBM profile id) of the inventory")
		}
	}
	validateCommon(e, commonFields{
		masterDNS: spec.MasterDNS, workerDNS: spec.WorkerDNS, searchDomains: spec.MasterDNSSearchDomains,
		masterNTP: spec.MasterNTPServers, workloadNTP: spec.WorkloadNTPServers, dnsNames: spec.MasterDNSNames,
		registry: spec.DefaultImageRegistry, kubeLibrary: spec.DefaultKubernetesServiceContentLibrary,
		libraries: spec.ContentLibraries, proxy: spec.ClusterProxyConfig, cns: spec.CNSFileConfig, banner: spec.LoginBanner,
	}, p, &errs)
	return errs.Err()
}

// commonFields are the settings enable, set and update share.
type commonFields struct {
	masterDNS, workerDNS, searchDomains, masterNTP, workloadNTP, dnsNames []string
	registry                                                              *ImageRegistry
	kubeLibrary                                                           *string
	libraries                                                             []ContentLibrarySpec
	proxy                                                                 *ProxyConfiguration
	cns                                                                   *CNSFileConfig
	banner                                                                *string
}

func validateCommon(e env, c commonFields, p paths, errs *vapi.FieldErrors) {
	type list struct {
		field  string
		values []string
	}
	for _, l := range []list{{"master_DNS", c.masterDNS}, {"worker_DNS", c.workerDNS}} {
		for i, s := range l.values {
			if _, ok := ipv4(s); !ok {
				errs.Add(fmt.Sprintf("%s[%d]", p.at(l.field), i), s, "must be the IPv4 address of a DNS server")
			}
		}
	}
	for _, l := range []list{{"master_DNS_search_domains", c.searchDomains}, {"Master_DNS_names", c.dnsNames}} {
		for i, s := range l.values {
			if !dnsName.MatchString(s) {
				errs.Add(fmt.Sprintf("%s[%d]", p.at(l.field), i), s, "must be a DNS name such as example.com")
			}
		}
	}
	for _, l := range []list{{"master_NTP_servers", c.masterNTP}, {"workload_ntp_servers", c.workloadNTP}} {
		for i, s := range l.values {
			if _, ok := ipv4(s); !ok && !dnsName.MatchString(s) {
				errs.Add(fmt.Sprintf("%s[%d]", p.at(l.field), i), s, "must be the DNS name or IPv4 address of an NTP server")
			}
		}
	}
	if r := c.registry; r != nil {
		if _, ok := ipv4(r.Hostname); !ok && !dnsName.MatchString(r.Hostname) {
			errs.Add(p.at("default_image_registry.hostname"), r.Hostname, "must be the DNS name or IPv4 address of a container registry")
		}
		if r.Port != nil && (*r.Port < 1 || *r.Port > 65535) {
			errs.Add(p.at("default_image_registry.port"), *r.Port, "must be a TCP port (1 to 65535)")
		}
	}
	if c.kubeLibrary != nil && !e.libraries[*c.kubeLibrary] {
		errs.Add(p.at("default_kubernetes_service_content_library"), *c.kubeLibrary, "is not a content library of the inventory")
	}
	seen := map[string]bool{}
	for i, l := range c.libraries {
		field := fmt.Sprintf("%s[%d].content_library", p.at("content_libraries"), i)
		switch {
		case !e.libraries[l.ContentLibrary]:
			errs.Add(field, l.ContentLibrary, "is not a content library of the inventory")
		case seen[l.ContentLibrary]:
			errs.Add(field, l.ContentLibrary, "is listed twice")
		}
		seen[l.ContentLibrary] = true
	}
	if px := c.proxy; px != nil {
		validateProxy(px, p.at("cluster_proxy_config"), errs)
	}
	if c.cns != nil {
		for i, id := range c.cns.VsanClusters {
			if _, ok := e.snap.cluster(id); !ok {
				errs.Add(fmt.Sprintf("%s.vsan_clusters[%d]", p.at("cns_file_config"), i), id, "is not a cluster of the inventory")
			}
		}
	}
	if c.banner != nil && len(*c.banner) > 4096 {
		errs.Add(p.at("login_banner"), fmt.Sprintf("(%d characters)", len(*c.banner)), "must be at most 4096 characters")
	}
}

func validateProxy(px *ProxyConfiguration, field string, errs *vapi.FieldErrors) {
	if px.ProxySettingsSource != "CLUSTER_CONFIGURED" {
		if px.HTTPSProxyConfig != nil || px.HTTPProxyConfig != nil || px.NoProxyConfig != nil || px.TLSRootCABundle != nil {
			errs.Add(field+".proxy_settings_source", px.ProxySettingsSource, "proxy URLs and bundles are only used with CLUSTER_CONFIGURED")
		}
		return
	}
	if px.HTTPSProxyConfig == nil && px.HTTPProxyConfig == nil {
		errs.Add(field, "{...}", "CLUSTER_CONFIGURED needs https_proxy_config or http_proxy_config")
	}
	for _, pu := range []struct {
		name string
		u    *string
	}{{"https_proxy_config", px.HTTPSProxyConfig}, {"http_proxy_config", px.HTTPProxyConfig}} {
		name, u := pu.name, pu.u
		if u == nil {
			continue
		}
		parsed, err := url.Parse(*u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			errs.Add(field+"."+name, redactURL(*u), "must be a proxy URL such as http://proxy.example.com:3128")
		}
	}
	if px.TLSRootCABundle != nil && !isPEMCertificates(*px.TLSRootCABundle) {
		errs.Add(field+".tls_root_ca_bundle", "(not shown)", "must hold PEM-encoded certificates")
	}
}

// redactURL drops a password from a proxy URL: vCenter never shows it back.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

func isPEMCertificates(s string) bool {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return false
		}
		n++
	}
	return n > 0 && strings.TrimSpace(string(rest)) == ""
}

// validateManagement checks the management network and returns the span of its address range.
func validateManagement(e env, m *NetworkSpec, p paths, errs *vapi.FieldErrors) []span {
	const base = "master_management_network"
	if _, _, reason := e.portGroup(m.Network); reason != "" {
		errs.Add(p.sub(base, "network"), m.Network, reason)
	}
	switch m.Mode {
	case ModeStaticRange:
		if m.FloatingIP != nil {
			errs.Add(p.sub(base, "floating_IP"), *m.FloatingIP, "is only used with mode DHCP")
		}
		r := m.AddressRange
		if r == nil {
			errs.Missing(p.sub(base, "address_range"))
			return nil
		}
		sp, ok := checkRange(r.StartingAddress, r.AddressCount, p.sub(base, "address_range.starting_address"), p.sub(base, "address_range.address_count"), errs)
		if !ok {
			return nil
		}
		sp.field = p.sub(base, "address_range")
		if r.AddressCount < managementAddresses {
			errs.Add(p.sub(base, "address_range.address_count"), r.AddressCount, fmt.Sprintf(
				"must be at least %d: a floating IP for the API server, one address per control plane VM and one spare for upgrades", managementAddresses))
		}
		checkSubnet(sp, r.Gateway, r.SubnetMask, p.sub(base, "address_range.gateway"), p.sub(base, "address_range.subnet_mask"), errs)
		return []span{sp}
	case ModeDHCP:
		if m.AddressRange != nil {
			errs.Add(p.sub(base, "address_range"), "{...}", "is only used with mode STATICRANGE")
		}
		if m.FloatingIP != nil {
			if _, ok := ipv4(*m.FloatingIP); !ok {
				errs.Add(p.sub(base, "floating_IP"), *m.FloatingIP, "must be an IPv4 address")
			}
		}
	}
	return nil
}

// managementAddresses is how many management addresses a Supervisor needs.
const managementAddresses = 5

// validateNCP checks the NSX cluster network and fills in the switch, edge cluster and tier-0
// gateway vCenter would pick when they are not given.
func validateNCP(e env, n *NCPClusterNetworkEnableSpec, p paths, errs *vapi.FieldErrors) []span {
	const base = "ncp_cluster_network_spec"
	var spans []span
	lists := []struct {
		field string
		cidrs []Ipv4Cidr
	}{{"pod_cidrs", n.PodCidrs}, {"ingress_cidrs", n.IngressCidrs}, {"egress_cidrs", n.EgressCidrs}}
	routed := n.RoutedMode != nil && *n.RoutedMode
	for _, l := range lists {
		field := p.sub(base, l.field)
		if l.field == "egress_cidrs" && routed {
			if len(l.cidrs) > 0 {
				errs.Add(field, fmt.Sprintf("%d CIDRs", len(l.cidrs)), "must be empty in routed mode (traffic is not NATed)")
			}
			continue
		}
		if len(l.cidrs) == 0 {
			errs.Add(field, "[]", "must hold at least one CIDR")
		}
		for i, c := range l.cidrs {
			if sp, ok := checkCIDR(c, fmt.Sprintf("%s[%d]", field, i), errs); ok {
				spans = append(spans, sp)
			}
		}
	}
	if n.NamespaceSubnetPrefix != nil && (*n.NamespaceSubnetPrefix < 16 || *n.NamespaceSubnetPrefix > 28) {
		errs.Add(p.sub(base, "namespace_subnet_prefix"), *n.NamespaceSubnetPrefix, "must be between 16 and 28")
	}
	// The switch: the given one (MoRef or UUID) must connect every host; otherwise the only one
	// that does.
	var candidates []inventory.DistributedSwitch
	for _, sw := range e.snap.switches {
		all := true
		for _, cl := range e.clusters {
			all = all && connectsAll(sw, cl)
		}
		if all {
			candidates = append(candidates, sw)
		}
	}
	var sw inventory.DistributedSwitch
	swField := p.sub(base, "cluster_distributed_switch")
	if n.ClusterDistributedSwitch != nil {
		found, ok := resolveSwitch(e.snap.switches, *n.ClusterDistributedSwitch)
		if !ok {
			errs.Add(swField, *n.ClusterDistributedSwitch, "is not a distributed switch of the inventory")
			return spans
		}
		for _, cl := range e.clusters {
			if !connectsAll(found, cl) {
				errs.Add(swField, *n.ClusterDistributedSwitch, "does not connect every host of cluster "+cl.Name)
				return spans
			}
		}
		sw = found
	} else {
		switch len(candidates) {
		case 0:
			errs.Add(swField, "(none)", "no distributed switch connects every host of the cluster")
			return spans
		case 1:
			sw = candidates[0]
		default:
			errs.Missing(swField)
			return spans
		}
	}
	uuid := sw.UUID
	n.ClusterDistributedSwitch = &uuid

	edgeField := p.sub(base, "nsx_edge_cluster")
	var edge edgeCluster
	if n.NSXEdgeCluster != nil {
		found := false
		for _, ec := range e.snap.edges {
			if ec.ID == *n.NSXEdgeCluster {
				edge, found = ec, true
			}
		}
		if !found {
			errs.Add(edgeField, *n.NSXEdgeCluster, "is not an NSX edge cluster (see edge_cluster_compatibility)")
			return spans
		}
		if reasons := edgeReasons(edge, sw); len(reasons) > 0 {
			errs.Add(edgeField, *n.NSXEdgeCluster, reasons[0].DefaultMessage)
			return spans
		}
	} else {
		compatible := []edgeCluster{}
		for _, ec := range e.snap.edges {
			if len(edgeReasons(ec, sw)) == 0 {
				compatible = append(compatible, ec)
			}
		}
		if len(compatible) == 0 {
			errs.Add(edgeField, "(none)", "no NSX edge cluster with a tier-0 gateway is attached to distributed switch "+sw.Name)
			return spans
		}
		edge = compatible[0]
		id := edge.ID
		n.NSXEdgeCluster = &id
	}
	t0Field := p.sub(base, "nsx_tier0_gateway")
	if n.NSXTier0Gateway != nil {
		found := false
		for _, t := range edge.Tier0s {
			found = found || t.ID == *n.NSXTier0Gateway
		}
		if !found {
			errs.Add(t0Field, *n.NSXTier0Gateway, "is not a tier-0 gateway of NSX edge cluster "+edge.DisplayName)
		}
	} else if len(edge.Tier0s) > 0 {
		id := edge.Tier0s[0].ID
		n.NSXTier0Gateway = &id
	}
	return spans
}

// validateWorkloadNetworks checks the primary workload network and the additional ones.
func validateWorkloadNetworks(e env, w *WorkloadNetworksEnableSpec, p paths, errs *vapi.FieldErrors) []span {
	spans := validateNetwork(e, &w.SupervisorPrimaryWorkloadNetwork, ProviderVSphere, "workload_networks_spec.supervisor_primary_workload_network", p, errs)
	names := map[string]bool{w.SupervisorPrimaryWorkloadNetwork.Network: true}
	for i := range w.NetworkList {
		base := fmt.Sprintf("workload_networks_spec.network_list[%d]", i)
		n := &w.NetworkList[i]
		if names[n.Network] {
			errs.Add(p.sub(base, "network"), n.Network, "is used by another network of the Supervisor")
		}
		names[n.Network] = true
		spans = append(spans, validateNetwork(e, n, ProviderVSphere, base, p, errs)...)
	}
	return spans
}

// validateNetwork checks a Networks.CreateSpec (at canonical base) for a Supervisor whose network
// provider is given.
func validateNetwork(e env, n *NetworksCreateSpec, provider NetworkProvider, base string, p paths, errs *vapi.FieldErrors) []span {
	if !dnsLabel.MatchString(n.Network) {
		errs.Add(p.sub(base, "network"), n.Network, "must be a DNS label: lower-case letters, digits and '-', at most 63 characters")
	}
	if n.NetworkProvider != provider {
		errs.Add(p.sub(base, "network_provider"), n.NetworkProvider, "must be the Supervisor's network provider, "+string(provider))
		return nil
	}
	switch provider {
	case ProviderVSphere:
		if n.NsxNetwork != nil {
			errs.Add(p.sub(base, "nsx_network"), "{...}", "is only valid with network_provider NSXT_CONTAINER_PLUGIN")
		}
		if n.VsphereNetwork == nil {
			errs.Missing(p.sub(base, "vsphere_network"))
			return nil
		}
		v := n.VsphereNetwork
		if v.IPAssignmentMode == nil {
			mode := ModeStaticRange
			v.IPAssignmentMode = &mode
		}
		return validateDVPG(e, v.Portgroup, *v.IPAssignmentMode, v.AddressRanges, v.Gateway, v.SubnetMask, joinPath(base, "vsphere_network"), p, errs)
	default:
		if n.VsphereNetwork != nil {
			errs.Add(p.sub(base, "vsphere_network"), "{...}", "is only valid with network_provider VSPHERE_NETWORK")
		}
		if n.NsxNetwork == nil {
			errs.Missing(p.sub(base, "nsx_network"))
			return nil
		}
		return validateNSXNetwork(e, n.NsxNetwork, joinPath(base, "nsx_network"), p, errs)
	}
}

func joinPath(base, leaf string) string {
	if base == "" {
		return leaf
	}
	return base + "." + leaf
}

func validateDVPG(e env, portgroup string, mode Ipv4Mode, ranges []IPRange, gateway, mask, base string, p paths, errs *vapi.FieldErrors) []span {
	if _, _, reason := e.portGroup(portgroup); reason != "" {
		errs.Add(p.sub(base, "portgroup"), portgroup, reason)
	}
	if mode == ModeDHCP {
		if len(ranges) > 0 || gateway != "" || mask != "" {
			errs.Add(p.sub(base, "address_ranges"), fmt.Sprintf("%d ranges", len(ranges)), "address ranges, gateway and subnet mask are only used with STATICRANGE")
		}
		return nil
	}
	if len(ranges) == 0 {
		errs.Add(p.sub(base, "address_ranges"), "[]", "must hold at least one address range for static addressing")
	}
	if gateway == "" {
		errs.Missing(p.sub(base, "gateway"))
	}
	if mask == "" {
		errs.Missing(p.sub(base, "subnet_mask"))
	}
	var spans []span
	for i, r := range ranges {
		rf := fmt.Sprintf("address_ranges[%d]", i)
		sp, ok := checkRange(r.Address, r.Count, p.sub(base, rf+".address"), p.sub(base, rf+".count"), errs)
		if !ok {
			continue
		}
		sp.field = p.sub(base, rf)
		if gateway != "" && mask != "" {
			checkSubnet(sp, gateway, mask, p.sub(base, "gateway"), p.sub(base, "subnet_mask"), errs)
		}
		spans = append(spans, sp)
	}
	return spans
}

func validateNSXNetwork(e env, n *NsxNetworkCreateSpec, base string, p paths, errs *vapi.FieldErrors) []span {
	var spans []span
	for _, l := range []struct {
		name  string
		cidrs []Ipv4Cidr
	}{{"namespace_network_cidrs", n.NamespaceNetworkCidrs}, {"ingress_cidrs", n.IngressCidrs}, {"egress_cidrs", n.EgressCidrs}} {
		for i, c := range l.cidrs {
			if sp, ok := checkCIDR(c, p.sub(base, fmt.Sprintf("%s[%d]", l.name, i)), errs); ok {
				spans = append(spans, sp)
			}
		}
	}
	if n.SubnetPrefixLength != nil && *n.SubnetPrefixLength != 0 && (*n.SubnetPrefixLength < 16 || *n.SubnetPrefixLength > 28) {
		errs.Add(p.sub(base, "subnet_prefix_length"), *n.SubnetPrefixLength, "must be between 16 and 28")
	}
	if n.LoadBalancerSize != nil && *n.LoadBalancerSize != "" && !contains(LoadBalancerSize("").EnumValues(), *n.LoadBalancerSize) {
		errs.Add(p.sub(base, "load_balancer_size"), *n.LoadBalancerSize, "must be one of SMALL, MEDIUM, LARGE")
	}
	if n.NSXTier0Gateway != nil && *n.NSXTier0Gateway != "" {
		found := false
		for _, ec := range e.snap.edges {
			for _, t := range ec.Tier0s {
				found = found || t.ID == *n.NSXTier0Gateway
			}
		}
		if !found {
			errs.Add(p.sub(base, "nsx_tier0_gateway"), *n.NSXTier0Gateway, "is not an NSX tier-0 gateway")
		}
	}
	return spans
}

// validateLBConfig checks a load balancer of the HA_PROXY / AVI union at canonical base.
func validateLBConfig(lb *LoadBalancerConfigSpec, base string, p paths, errs *vapi.FieldErrors) []span {
	if !dnsLabel.MatchString(lb.ID) {
		errs.Add(p.sub(base, "id"), lb.ID, "must be a DNS label: lower-case letters, digits and '-', at most 63 characters")
	}
	spans := checkLBRanges(lb.AddressRanges, joinPath(base, "address_ranges"), p, errs)
	checkLBUnion(lb.Provider, lb.HAProxyConfigCreateSpec, lb.AviConfigCreateSpec,
		joinPath(base, "ha_proxy_config_create_spec"), joinPath(base, "avi_config_create_spec"), p, errs)
	return spans
}

func checkLBRanges(ranges []IPRange, base string, p paths, errs *vapi.FieldErrors) []span {
	var spans []span
	for i, r := range ranges {
		rf := fmt.Sprintf("%s[%d]", base, i)
		if sp, ok := checkRange(r.Address, r.Count, p.at(rf+".address"), p.at(rf+".count"), errs); ok {
			sp.field = p.at(rf)
			spans = append(spans, sp)
		}
	}
	return spans
}

// checkLBUnion checks the provider's configuration (at canonical haBase or aviBase).
func checkLBUnion(provider LBProvider, ha *HAProxyConfigCreateSpec, avi *AviConfigCreateSpec, haBase, aviBase string, p paths, errs *vapi.FieldErrors) {
	switch provider {
	case LBHAProxy:
		if avi != nil {
			errs.Add(p.at(aviBase), "{...}", "is only valid with provider AVI")
		}
		if ha == nil {
			errs.Missing(p.at(haBase))
			return
		}
		if len(ha.Servers) == 0 {
			errs.Add(p.sub(haBase, "servers"), "[]", "must name at least one HAProxy data plane API server")
		}
		for i, s := range ha.Servers {
			checkServer(s, p.sub(haBase, fmt.Sprintf("servers[%d]", i)), errs)
		}
		checkCredentials(ha.Username, ha.Password, ha.CertificateAuthorityChain, haBase, p, errs)
	case LBAvi:
		if ha != nil {
			errs.Add(p.at(haBase), "{...}", "is only valid with provider HA_PROXY")
		}
		if avi == nil {
			errs.Missing(p.at(aviBase))
			return
		}
		checkServer(avi.Server, p.sub(aviBase, "server"), errs)
		checkCredentials(avi.Username, avi.Password, avi.CertificateAuthorityChain, aviBase, p, errs)
	}
}

func checkServer(s LBServer, field string, errs *vapi.FieldErrors) {
	if _, ok := ipv4(s.Host); !ok && !dnsName.MatchString(s.Host) {
		errs.Add(field+".host", s.Host, "must be a DNS name or IPv4 address")
	}
	if s.Port < 1 || s.Port > 65535 {
		errs.Add(field+".port", s.Port, "must be a TCP port (1 to 65535)")
	}
}

func checkCredentials(user, password, ca, base string, p paths, errs *vapi.FieldErrors) {
	if strings.TrimSpace(user) == "" {
		errs.Add(p.sub(base, "username"), user, "must not be empty")
	}
	if password == "" {
		errs.Add(p.sub(base, "password"), "", "must not be empty")
	}
	if !isPEMCertificates(ca) {
		errs.Add(p.sub(base, "certificate_authority_chain"), "(not shown)", "must hold PEM-encoded CA certificates")
	}
}
