package clusters

import (
	"fmt"

	"github.com/wcpd/wcpd/internal/vapi"
)

// convertSupervisorSpec turns the 8.0 API's control plane and workloads into the canonical enable
// spec, checking what only the 8.0 shapes can get wrong (unions, ranges that must be CIDR blocks,
// "gateway/prefix" notation) under the 8.0 field names. The paths it returns map the canonical
// fields back to the 8.0 ones, so the shared validation names what the caller sent.
func convertSupervisorSpec(name string, cp ControlPlane, w Workloads) (EnableSpec, paths, error) {
	var errs vapi.FieldErrors
	alias := map[string]string{
		"size_hint":                                             "spec.control_plane.size",
		"login_banner":                                          "spec.control_plane.login_banner",
		"master_storage_policy":                                 "spec.control_plane.storage_policy",
		"master_management_network":                             "spec.control_plane.network",
		"master_management_network.network":                     "spec.control_plane.network.backing.network",
		"master_management_network.floating_IP":                 "spec.control_plane.network.floating_IP_address",
		"master_DNS":                                            "spec.control_plane.network.services.dns.servers",
		"master_DNS_search_domains":                             "spec.control_plane.network.services.dns.search_domains",
		"master_NTP_servers":                                    "spec.control_plane.network.services.ntp.servers",
		"cluster_proxy_config":                                  "spec.control_plane.network.proxy",
		"worker_DNS":                                            "spec.workloads.network.services.dns.servers",
		"workload_ntp_servers":                                  "spec.workloads.network.services.ntp.servers",
		"Master_DNS_names":                                      "spec.workloads.kube_API_server_options.security.certificate_dns_names",
		"default_image_registry":                                "spec.workloads.images.registry",
		"default_kubernetes_service_content_library":            "spec.workloads.images.kubernetes_content_library",
		"content_libraries":                                     "spec.workloads.images.content_libraries",
		"cns_file_config":                                       "spec.workloads.storage.cloud_native_file_volume",
		"ephemeral_storage_policy":                              "spec.workloads.storage.ephemeral_storage_policy",
		"image_storage.storage_policy":                          "spec.workloads.storage.image_storage_policy",
		"load_balancer_config_spec":                             "spec.workloads.edge",
		"load_balancer_config_spec.address_ranges":              "spec.workloads.edge.load_balancer_address_ranges",
		"load_balancer_config_spec.ha_proxy_config_create_spec": "spec.workloads.edge.haproxy",
		"load_balancer_config_spec.avi_config_create_spec":      "spec.workloads.edge.nsx_advanced",
		"network_provider":                                      "spec.workloads.network.network_type",
	}
	var spec EnableSpec

	// Control plane.
	spec.SizeHint = "SMALL"
	if cp.Size != nil {
		spec.SizeHint = *cp.Size
	}
	if cp.Count != nil && *cp.Count != controlPlaneVMs {
		errs.Add("spec.control_plane.count", *cp.Count, "wcpd runs Supervisors with three control plane VMs (the vSphere 8.0 layout)")
	}
	spec.LoginBanner = cp.LoginBanner
	mgmt := cp.Network
	if mgmt.Backing.Network == nil {
		errs.Missing("spec.control_plane.network.backing.network")
	} else {
		spec.MasterManagementNetwork.Network = *mgmt.Backing.Network
	}
	spec.MasterManagementNetwork.FloatingIP = mgmt.FloatingIPAddress
	if ipm := mgmt.IPManagement; ipm == nil || (ipm.DHCPEnabled != nil && *ipm.DHCPEnabled) {
		spec.MasterManagementNetwork.Mode = ModeDHCP
	} else {
		spec.MasterManagementNetwork.Mode = ModeStaticRange
		const base = "spec.control_plane.network.ip_management"
		gw, prefix, ok := "", 0, false
		if ipm.GatewayAddress == nil {
			errs.Missing(base + ".gateway_address")
		} else if gw, prefix, ok = gatewayWithPrefix(*ipm.GatewayAddress); !ok {
			errs.Add(base+".gateway_address", *ipm.GatewayAddress, "must be the gateway's address with the subnet's prefix length, e.g. 10.0.0.1/24")
		}
		if len(ipm.IPAssignments) != 1 || len(ipm.IPAssignments[0].Ranges) != 1 {
			errs.Add(base+".ip_assignments", fmt.Sprintf("%d assignments", len(ipm.IPAssignments)),
				"static management addressing takes one assignment with one range of at least 5 addresses")
		} else if ok {
			r := ipm.IPAssignments[0].Ranges[0]
			spec.MasterManagementNetwork.AddressRange = &Ipv4Range{StartingAddress: r.Address, AddressCount: r.Count, SubnetMask: maskString(prefix), Gateway: gw}
			rb := base + ".ip_assignments[0].ranges[0]"
			alias["master_management_network.address_range"] = rb
			alias["master_management_network.address_range.starting_address"] = rb + ".address"
			alias["master_management_network.address_range.address_count"] = rb + ".count"
			alias["master_management_network.address_range.gateway"] = base + ".gateway_address"
			alias["master_management_network.address_range.subnet_mask"] = base + ".gateway_address"
		}
	}
	if svc := mgmt.Services; svc != nil {
		if svc.DNS != nil {
			spec.MasterDNS, spec.MasterDNSSearchDomains = svc.DNS.Servers, svc.DNS.SearchDomains
		}
		if svc.NTP != nil {
			spec.MasterNTPServers = svc.NTP.Servers
		}
	}
	spec.ClusterProxyConfig = mgmt.Proxy

	// Storage: the control plane's policy is the default for the others.
	st := w.Storage
	if st == nil {
		st = &WorkloadsStorageConfig{}
	}
	switch {
	case cp.StoragePolicy != nil:
		spec.MasterStoragePolicy = *cp.StoragePolicy
	case st.EphemeralStoragePolicy != nil:
		spec.MasterStoragePolicy, alias["master_storage_policy"] = *st.EphemeralStoragePolicy, "spec.workloads.storage.ephemeral_storage_policy"
	case st.ImageStoragePolicy != nil:
		spec.MasterStoragePolicy, alias["master_storage_policy"] = *st.ImageStoragePolicy, "spec.workloads.storage.image_storage_policy"
	default:
		errs.Missing("spec.control_plane.storage_policy")
	}
	spec.EphemeralStoragePolicy, spec.ImageStorage.StoragePolicy = spec.MasterStoragePolicy, spec.MasterStoragePolicy
	if st.EphemeralStoragePolicy != nil {
		spec.EphemeralStoragePolicy = *st.EphemeralStoragePolicy
	} else {
		alias["ephemeral_storage_policy"] = alias["master_storage_policy"]
	}
	if st.ImageStoragePolicy != nil {
		spec.ImageStorage.StoragePolicy = *st.ImageStoragePolicy
	} else {
		alias["image_storage.storage_policy"] = alias["master_storage_policy"]
	}
	spec.CNSFileConfig = st.CloudNativeFileVolume

	// Kubernetes API server, images.
	if o := w.KubeAPIServerOptions; o != nil && o.Security != nil {
		spec.MasterDNSNames = o.Security.CertificateDNSNames
	}
	if im := w.Images; im != nil {
		if r := im.Registry; r != nil && r.Hostname != "" {
			spec.DefaultImageRegistry = &ImageRegistry{Hostname: r.Hostname}
			if r.Port != nil && *r.Port != 0 {
				spec.DefaultImageRegistry.Port = r.Port
			}
		}
		if im.Repository != nil && *im.Repository != "" {
			spec.DefaultImageRepository = im.Repository
		}
		if im.KubernetesContentLibrary != nil && *im.KubernetesContentLibrary != "" {
			spec.DefaultKubernetesServiceContentLibrary = im.KubernetesContentLibrary
		}
		for _, l := range im.ContentLibraries {
			spec.ContentLibraries = append(spec.ContentLibraries, ContentLibrarySpec{ContentLibrary: l.ContentLibrary})
		}
	}

	// Workload network and edge.
	net := w.Network
	if svc := net.Services; svc != nil {
		if svc.DNS != nil {
			spec.WorkerDNS = svc.DNS.Servers
		}
		if svc.NTP != nil {
			spec.WorkloadNTPServers = svc.NTP.Servers
		}
	}
	provider, edgeErr := edgeProvider(w.Edge)
	if edgeErr != "" {
		errs.Add("spec.workloads.edge.provider", providerText(w.Edge.Provider), edgeErr)
	}
	// Assignments of the workload network by assignee.
	byAssignee := map[string][]int{}
	if ipm := net.IPManagement; ipm != nil {
		for i, a := range ipm.IPAssignments {
			key := "NODE"
			if a.Assignee != nil {
				key = string(*a.Assignee)
			}
			byAssignee[key] = append(byAssignee[key], i)
		}
	}
	const wbase = "spec.workloads.network.ip_management"
	rangesOf := func(key string) ([]IPRange, int) {
		idx := byAssignee[key]
		if len(idx) == 0 {
			return nil, -1
		}
		return net.IPManagement.IPAssignments[idx[0]].Ranges, idx[0]
	}
	cidrsOf := func(ranges []IPRange, field string) []Ipv4Cidr {
		var out []Ipv4Cidr
		for i, r := range ranges {
			c, ok := rangeToCIDR(r)
			if !ok {
				errs.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%s+%d", r.Address, r.Count),
					"must be a whole CIDR block: a power-of-two count of addresses starting at a multiple of it")
				continue
			}
			out = append(out, c)
		}
		return out
	}
	spec.ServiceCidr = Ipv4Cidr{Address: "10.96.0.0", Prefix: sizeLimits[spec.SizeHint].servicePrefix}
	if sizeLimits[spec.SizeHint].servicePrefix == 0 {
		spec.ServiceCidr.Prefix = 23
	}
	if r, i := rangesOf("SERVICE"); i >= 0 {
		field := fmt.Sprintf("%s.ip_assignments[%d].ranges", wbase, i)
		if cidrs := cidrsOf(r, field); len(cidrs) == 1 {
			spec.ServiceCidr, alias["service_cidr"] = cidrs[0], field+"[0]"
		} else if len(r) != 1 {
			errs.Add(field, fmt.Sprintf("%d ranges", len(r)), "the service assignment takes exactly one range")
		}
	}

	switch net.NetworkType {
	case NetworkTypeVSphere:
		spec.NetworkProvider = ProviderVSphere
		if net.NSX != nil {
			errs.Add("spec.workloads.network.nsx", "{...}", "is only valid with network_type NSXT")
		}
		if provider == EdgeNSX {
			errs.Add("spec.workloads.edge.nsx", "{...}", "an NSX edge needs network_type NSXT")
		}
		if _, i := rangesOf("POD"); i >= 0 {
			errs.Add(fmt.Sprintf("%s.ip_assignments[%d].assignee", wbase, i), "POD", "pod addresses are only assigned with network_type NSXT")
		}
		if net.VSphere == nil {
			errs.Missing("spec.workloads.network.vsphere")
			break
		}
		primary := NetworksCreateSpec{Network: "network-1", NetworkProvider: ProviderVSphere,
			VsphereNetwork: &VsphereDVPGNetworkCreateSpec{Portgroup: net.VSphere.DVPG}}
		if net.Network != nil {
			primary.Network = *net.Network
		}
		pbase := "workload_networks_spec.supervisor_primary_workload_network"
		alias[pbase+".network"] = "spec.workloads.network.network"
		alias[pbase+".network_provider"] = "spec.workloads.network.network_type"
		alias[pbase+".vsphere_network.portgroup"] = "spec.workloads.network.vsphere.dvpg"
		alias[pbase+".vsphere_network"] = "spec.workloads.network.ip_management"
		mode := ModeStaticRange
		if ipm := net.IPManagement; ipm == nil || (ipm.DHCPEnabled != nil && *ipm.DHCPEnabled) {
			mode = ModeDHCP
		} else {
			if r, i := rangesOf("NODE"); i >= 0 {
				primary.VsphereNetwork.AddressRanges = r
				alias[pbase+".vsphere_network.address_ranges"] = fmt.Sprintf("%s.ip_assignments[%d].ranges", wbase, i)
			}
			alias[pbase+".vsphere_network.gateway"] = wbase + ".gateway_address"
			alias[pbase+".vsphere_network.subnet_mask"] = wbase + ".gateway_address"
			if ipm.GatewayAddress != nil {
				gw, prefix, ok := gatewayWithPrefix(*ipm.GatewayAddress)
				if !ok {
					errs.Add(wbase+".gateway_address", *ipm.GatewayAddress, "must be the gateway's address with the subnet's prefix length, e.g. 10.0.0.1/24")
				} else {
					primary.VsphereNetwork.Gateway, primary.VsphereNetwork.SubnetMask = gw, maskString(prefix)
				}
			}
		}
		primary.VsphereNetwork.IPAssignmentMode = &mode
		spec.WorkloadNetworksSpec = &WorkloadNetworksEnableSpec{SupervisorPrimaryWorkloadNetwork: primary}
		e := w.Edge
		lb := &LoadBalancerConfigSpec{AddressRanges: e.LoadBalancerAddressRanges}
		alias["load_balancer_config_spec.id"] = "spec.workloads.edge.id"
		switch provider {
		case EdgeHAProxy:
			lb.ID, lb.Provider = "haproxy", LBHAProxy
			if h := e.HAProxy; h != nil {
				lb.HAProxyConfigCreateSpec = &HAProxyConfigCreateSpec{Servers: h.Servers, Username: h.Username, Password: h.Password, CertificateAuthorityChain: h.CertificateAuthorityChain}
			}
		case EdgeNSXAdvanced:
			lb.ID, lb.Provider = "avi", LBAvi
			if a := e.NSXAdvanced; a != nil {
				lb.AviConfigCreateSpec = &AviConfigCreateSpec{Server: a.Server, Username: a.Username, Password: a.Password, CertificateAuthorityChain: a.CertificateAuthorityChain}
			}
		}
		if e.ID != nil {
			lb.ID = *e.ID
		}
		if provider != "" {
			spec.LoadBalancerConfigSpec = lb
		}
	case NetworkTypeNSX:
		spec.NetworkProvider = ProviderNSX
		if net.VSphere != nil {
			errs.Add("spec.workloads.network.vsphere", "{...}", "is only valid with network_type VSPHERE")
		}
		if provider != "" && provider != EdgeNSX {
			errs.Add("spec.workloads.edge.provider", string(provider), "NSX networking needs an NSX edge")
		}
		if net.NSX == nil {
			errs.Missing("spec.workloads.network.nsx")
			break
		}
		ncp := &NCPClusterNetworkEnableSpec{NamespaceSubnetPrefix: net.NSX.NamespaceSubnetPrefix}
		dvs := net.NSX.DVS
		ncp.ClusterDistributedSwitch = &dvs
		alias["ncp_cluster_network_spec.cluster_distributed_switch"] = "spec.workloads.network.nsx.dvs"
		alias["ncp_cluster_network_spec.namespace_subnet_prefix"] = "spec.workloads.network.nsx.namespace_subnet_prefix"
		if r, i := rangesOf("POD"); i >= 0 {
			field := fmt.Sprintf("%s.ip_assignments[%d].ranges", wbase, i)
			ncp.PodCidrs, alias["ncp_cluster_network_spec.pod_cidrs"] = cidrsOf(r, field), field
		} else {
			ncp.PodCidrs = []Ipv4Cidr{{Address: "10.244.0.0", Prefix: sizeLimits[spec.SizeHint].podPx}}
		}
		ncp.IngressCidrs = cidrsOf(w.Edge.LoadBalancerAddressRanges, "spec.workloads.edge.load_balancer_address_ranges")
		alias["ncp_cluster_network_spec.ingress_cidrs"] = "spec.workloads.edge.load_balancer_address_ranges"
		if x := w.Edge.NSX; x != nil {
			ncp.NSXEdgeCluster, ncp.NSXTier0Gateway = x.EdgeClusterID, x.T0Gateway
			alias["ncp_cluster_network_spec.nsx_edge_cluster"] = "spec.workloads.edge.nsx.edge_cluster_ID"
			alias["ncp_cluster_network_spec.nsx_tier0_gateway"] = "spec.workloads.edge.nsx.t0_gateway"
			routed := x.RoutingMode != nil && *x.RoutingMode == "ROUTED"
			ncp.RoutedMode = &routed
			ncp.EgressCidrs = cidrsOf(x.EgressIPRanges, "spec.workloads.edge.nsx.egress_IP_ranges")
			alias["ncp_cluster_network_spec.egress_cidrs"] = "spec.workloads.edge.nsx.egress_IP_ranges"
			if x.DefaultIngressTLSCertificate != nil && !isPEMCertificates(*x.DefaultIngressTLSCertificate) {
				errs.Add("spec.workloads.edge.nsx.default_ingress_TLS_certificate", "(not shown)", "must be a PEM-encoded certificate")
			}
		} else {
			errs.Missing("spec.workloads.edge.nsx")
		}
		spec.NCPClusterNetworkSpec = ncp
	}
	return spec, paths{root: "spec", alias: alias}, errs.Err()
}

// edgeProvider resolves the edge's provider from its discriminant and the configuration given.
func edgeProvider(e Edge) (EdgeProvider, string) {
	var set []EdgeProvider
	if e.HAProxy != nil {
		set = append(set, EdgeHAProxy)
	}
	if e.NSX != nil {
		set = append(set, EdgeNSX)
	}
	if e.NSXAdvanced != nil {
		set = append(set, EdgeNSXAdvanced)
	}
	if e.Provider != nil {
		for _, p := range set {
			if p != *e.Provider {
				return *e.Provider, fmt.Sprintf("the edge also carries a %s configuration, which this provider does not use", p)
			}
		}
		if len(set) == 0 {
			return *e.Provider, fmt.Sprintf("the %s provider needs its configuration (haproxy, nsx or nsx_advanced)", *e.Provider)
		}
		return *e.Provider, ""
	}
	switch len(set) {
	case 0:
		return "", "an edge needs a provider and its configuration (haproxy, nsx or nsx_advanced)"
	case 1:
		return set[0], ""
	default:
		return "", "an edge takes exactly one of haproxy, nsx and nsx_advanced"
	}
}

func providerText(p *EdgeProvider) string {
	if p == nil {
		return "(unset)"
	}
	return string(*p)
}
