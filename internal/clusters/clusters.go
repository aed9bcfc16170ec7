package clusters

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// info renders the 7.0 Clusters.Info of a Supervisor.
func (f *Family) info(ctx context.Context, s supervisor) (Info, error) {
	stats, err := f.usage(ctx, s.Clusters)
	if err != nil {
		return Info{}, err
	}
	spec := s.Spec
	hint := spec.SizeHint
	mgmt := spec.MasterManagementNetwork
	out := Info{
		SizeHint: &hint, StatSummary: stats, ConfigStatus: s.ConfigStatus, Conditions: s.Conditions,
		Messages: nonNilMessages(s.Messages), KubernetesStatus: s.KubernetesStatus,
		KubernetesStatusMessages:    nonNilMessages(s.KubernetesMessages),
		APIServerManagementEndpoint: s.ManagementEndpoint, APIServerClusterEndpoint: s.ClusterEndpoint,
		APIServers: append([]string{}, s.APIServers...), NetworkProvider: spec.NetworkProvider,
		WorkloadNTPServers: spec.WorkloadNTPServers, ServiceCidr: spec.ServiceCidr,
		MasterManagementNetwork: &mgmt, MasterDNS: spec.MasterDNS, WorkerDNS: spec.WorkerDNS,
		MasterStoragePolicy: strPtr(spec.MasterStoragePolicy), EphemeralStoragePolicy: strPtr(spec.EphemeralStoragePolicy),
		CNSFileConfig: spec.CNSFileConfig, LoginBanner: spec.LoginBanner, MasterDNSNames: spec.MasterDNSNames,
		ImageStorage: &spec.ImageStorage, DefaultImageRegistry: spec.DefaultImageRegistry,
		DefaultImageRepository: spec.DefaultImageRepository, MasterDNSSearchDomains: spec.MasterDNSSearchDomains,
		MasterNTPServers:                       spec.MasterNTPServers,
		DefaultKubernetesServiceContentLibrary: spec.DefaultKubernetesServiceContentLibrary,
		ClusterProxyConfig:                     spec.ClusterProxyConfig, ContentLibraries: spec.ContentLibraries,
	}
	if s.ManagementCertificate != "" {
		out.TLSManagementEndpointCertificate = strPtr(s.ManagementCertificate)
	}
	if s.TLSEndpointCertificate != "" {
		out.TLSEndpointCertificate = strPtr(s.TLSEndpointCertificate)
	} else if s.ManagementCertificate != "" {
		out.TLSEndpointCertificate = strPtr(s.ManagementCertificate)
	}
	switch spec.NetworkProvider {
	case ProviderNSX:
		if n := spec.NCPClusterNetworkSpec; n != nil {
			out.NCPClusterNetworkInfo = &NCPClusterNetworkInfo{PodCidrs: n.PodCidrs, IngressCidrs: n.IngressCidrs,
				EgressCidrs: nonNilCidrs(n.EgressCidrs), ClusterDistributedSwitch: deref(n.ClusterDistributedSwitch),
				NSXEdgeCluster: deref(n.NSXEdgeCluster), DefaultIngressTLSCertificate: s.IngressCertificate,
				NSXTier0Gateway: n.NSXTier0Gateway, NamespaceSubnetPrefix: n.NamespaceSubnetPrefix, RoutedMode: n.RoutedMode}
		}
	case ProviderVSphere:
		w := &WorkloadNetworksInfo{}
		for _, n := range s.Networks {
			if n.Network == s.PrimaryNetwork {
				w.SupervisorPrimaryWorkloadNetwork = n
			} else {
				w.NetworkList = append(w.NetworkList, n)
			}
		}
		out.WorkloadNetworks = w
		out.LoadBalancers = append([]LoadBalancerInfo{}, s.LoadBalancers...)
	}
	return out, nil
}

func nonNilMessages(m []Message) []Message {
	if m == nil {
		return []Message{}
	}
	return m
}

func nonNilCidrs(c []Ipv4Cidr) []Ipv4Cidr {
	if c == nil {
		return []Ipv4Cidr{}
	}
	return c
}

func strPtr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (f *Family) get(c *vapi.Call) (any, error) {
	s, err := f.enabledSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	return f.info(c.Ctx, s)
}

// list answers one summary per cluster that has a Supervisor (a zonal Supervisor is listed under
// each of its clusters, as vCenter lists its clusters).
func (f *Family) list(c *vapi.Call) (any, error) {
	names, err := f.clusterNames(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, r := range f.supervisors.ListShared() {
		s := r.Value
		stats, err := f.usage(c.Ctx, s.Clusters)
		if err != nil {
			return nil, err
		}
		for _, cl := range s.Clusters {
			out = append(out, Summary{Cluster: cl, ClusterName: names[cl], Stats: stats, ConfigStatus: s.ConfigStatus, KubernetesStatus: s.KubernetesStatus})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out, nil
}

// changeable returns the Supervisor on cluster with its revision, refusing changes while it is
// being configured or removed.
func (f *Family) changeable(ctx context.Context, cluster string) (store.Record[supervisor], error) {
	return f.changeableOr(ctx, cluster, vapi.ErrorUnsupported)
}

// changeableOr is changeable answering absent for a cluster without a Supervisor (supervisorOn).
func (f *Family) changeableOr(ctx context.Context, cluster string, absent vapi.ErrorType) (store.Record[supervisor], error) {
	if _, err := f.supervisorOn(ctx, cluster, absent); err != nil {
		return store.Record[supervisor]{}, err
	}
	r, ok := f.lookupRecord(cluster)
	if !ok {
		return r, vapi.NotFound("Supervisor on cluster", cluster)
	}
	switch r.Value.ConfigStatus {
	case platform.StatusConfiguring, platform.StatusRemoving:
		return r, vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.supervisor.busy",
			"The Supervisor on cluster %s is %s; change it once that finishes.", cluster, r.Value.ConfigStatus)
	}
	return r, nil
}

// apply validates a changed spec and stores it with a revision check, so a concurrent change is
// never overwritten: the operation is tried again on the newer record (untilSettled). Running
// Supervisors are then reconciled (a new size resizes the control plane VMs).
func (f *Family) apply(ctx context.Context, r store.Record[supervisor], spec EnableSpec, p paths, change func(v *supervisor)) error {
	clusters, err := f.inventoryClusters(ctx, r.Value.Clusters)
	if err != nil {
		return err
	}
	e, err := f.validationEnv(ctx, clusters)
	if err != nil {
		return err
	}
	// The stored spec has no passwords (they are never kept); validate it as if they were there.
	check := spec
	if lb := check.LoadBalancerConfigSpec; lb != nil {
		cp := *lb
		if cp.HAProxyConfigCreateSpec != nil {
			ha := *cp.HAProxyConfigCreateSpec
			ha.Password = "(kept)"
			cp.HAProxyConfigCreateSpec = &ha
		}
		if cp.AviConfigCreateSpec != nil {
			avi := *cp.AviConfigCreateSpec
			avi.Password = "(kept)"
			cp.AviConfigCreateSpec = &avi
		}
		check.LoadBalancerConfigSpec = &cp
	}
	if err := validateEnable(e, &check, p); err != nil {
		return err
	}
	if spec.SizeHint != r.Value.Spec.SizeHint {
		if err := capacity(clusters, spec.SizeHint); err != nil {
			return err
		}
	}
	v := r.Value
	lbs, nets, primary := v.LoadBalancers, v.Networks, v.PrimaryNetwork
	v.setSpec(spec)
	// set and update change the cluster's settings, not its networks or load balancers, which have
	// their own APIs.
	v.LoadBalancers, v.Networks, v.PrimaryNetwork = lbs, nets, primary
	if change != nil {
		change(&v)
	}
	if v.Phase == phaseRunning {
		v.ManagementEndpoint, v.APIServers, v.ClusterEndpoint = endpoints(v.Spec, v.LoadBalancers)
	}
	v.logEvent(f.now(), "info", "configuration changed")
	if _, err := f.supervisors.Update(ctx, r.Key, r.Revision, v); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return concurrentChange(r.Key)
		}
		return err
	}
	f.ctl.Enqueue(r.Key)
	return nil
}

func (f *Family) set(c *vapi.Call) (any, error) {
	var in SetSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	r, err := f.changeable(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	cur := r.Value.Spec
	if in.NetworkProvider != cur.NetworkProvider {
		return nil, vapi.InvalidArgument("spec.network_provider", in.NetworkProvider,
			"cannot change: the Supervisor was enabled with "+string(cur.NetworkProvider))
	}
	// PUT replaces every setting SetSpec holds; what it leaves out is cleared.
	spec := cur
	spec.SizeHint = in.SizeHint
	spec.MasterDNS, spec.WorkerDNS, spec.MasterDNSSearchDomains = in.MasterDNS, in.WorkerDNS, in.MasterDNSSearchDomains
	spec.MasterNTPServers, spec.WorkloadNTPServers = in.MasterNTPServers, in.WorkloadNTPServers
	spec.MasterStoragePolicy, spec.EphemeralStoragePolicy, spec.ImageStorage = in.MasterStoragePolicy, in.EphemeralStoragePolicy, in.ImageStorage
	spec.CNSFileConfig, spec.LoginBanner = in.CNSFileConfig, in.LoginBanner
	spec.DefaultImageRegistry, spec.DefaultImageRepository = in.DefaultImageRegistry, in.DefaultImageRepository
	spec.DefaultKubernetesServiceContentLibrary, spec.ClusterProxyConfig, spec.ContentLibraries =
		in.DefaultKubernetesServiceContentLibrary, in.ClusterProxyConfig, in.ContentLibraries
	var ingressCert *string
	if err := setFloatingIP(&spec, in.FloatingIP); err != nil {
		return nil, err
	}
	if cur.NetworkProvider == ProviderNSX {
		if in.NCPClusterNetworkSpec == nil {
			var errs vapi.FieldErrors
			errs.Missing("spec.ncp_cluster_network_spec")
			return nil, errs.Err()
		}
		n := *cur.NCPClusterNetworkSpec
		n.PodCidrs, n.IngressCidrs, n.EgressCidrs = in.NCPClusterNetworkSpec.PodCidrs, in.NCPClusterNetworkSpec.IngressCidrs, in.NCPClusterNetworkSpec.EgressCidrs
		spec.NCPClusterNetworkSpec = &n
		ingressCert = &in.NCPClusterNetworkSpec.DefaultIngressTLSCertificate
	} else if in.NCPClusterNetworkSpec != nil {
		return nil, vapi.InvalidArgument("spec.ncp_cluster_network_spec", "{...}", "is only valid with network_provider NSXT_CONTAINER_PLUGIN")
	}
	if ingressCert != nil && *ingressCert != "" && !isPEMCertificates(*ingressCert) {
		return nil, vapi.InvalidArgument("spec.ncp_cluster_network_spec.default_ingress_tls_certificate", "(not shown)", "must be a PEM-encoded certificate")
	}
	return nil, f.apply(c.Ctx, r, spec, paths{root: "spec"}, func(v *supervisor) {
		if ingressCert != nil {
			v.IngressCertificate = *ingressCert
		}
	})
}

// setFloatingIP applies floating_IP, which only means something under DHCP.
func setFloatingIP(spec *EnableSpec, ip *string) error {
	if ip == nil {
		return nil
	}
	if spec.MasterManagementNetwork.Mode != ModeDHCP {
		return vapi.InvalidArgument("spec.floating_IP", *ip, "is only used when the management network uses DHCP")
	}
	if _, ok := ipv4(*ip); !ok {
		return vapi.InvalidArgument("spec.floating_IP", *ip, "must be an IPv4 address")
	}
	v := *ip
	spec.MasterManagementNetwork.FloatingIP = &v
	return nil
}

func (f *Family) update(c *vapi.Call) (any, error) {
	var in UpdateSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	r, err := f.changeable(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	cur := r.Value.Spec
	if in.NetworkProvider != nil && *in.NetworkProvider != cur.NetworkProvider {
		return nil, vapi.InvalidArgument("spec.network_provider", *in.NetworkProvider,
			"cannot change: the Supervisor was enabled with "+string(cur.NetworkProvider))
	}
	// PATCH changes only what the request names.
	spec := cur
	if in.SizeHint != nil {
		spec.SizeHint = *in.SizeHint
	}
	setList := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	setList(&spec.MasterDNS, in.MasterDNS)
	setList(&spec.WorkerDNS, in.WorkerDNS)
	setList(&spec.MasterDNSSearchDomains, in.MasterDNSSearchDomains)
	setList(&spec.MasterNTPServers, in.MasterNTPServers)
	setList(&spec.WorkloadNTPServers, in.WorkloadNTPServers)
	if in.MasterStoragePolicy != nil {
		spec.MasterStoragePolicy = *in.MasterStoragePolicy
	}
	if in.EphemeralStoragePolicy != nil {
		spec.EphemeralStoragePolicy = *in.EphemeralStoragePolicy
	}
	if in.ImageStorage != nil {
		spec.ImageStorage = *in.ImageStorage
	}
	if in.CNSFileConfig != nil {
		spec.CNSFileConfig = in.CNSFileConfig
	}
	if in.LoginBanner != nil {
		spec.LoginBanner = in.LoginBanner
	}
	if in.DefaultImageRegistry != nil {
		spec.DefaultImageRegistry = in.DefaultImageRegistry
	}
	if in.DefaultImageRepository != nil {
		spec.DefaultImageRepository = in.DefaultImageRepository
	}
	if in.DefaultKubernetesServiceContentLibrary != nil {
		spec.DefaultKubernetesServiceContentLibrary = in.DefaultKubernetesServiceContentLibrary
	}
	if in.ClusterProxyConfig != nil {
		spec.ClusterProxyConfig = in.ClusterProxyConfig
	}
	if in.ContentLibraries != nil {
		spec.ContentLibraries = *in.ContentLibraries
	}
	if err := setFloatingIP(&spec, in.FloatingIP); err != nil {
		return nil, err
	}
	var ingressCert *string
	if u := in.NCPClusterNetworkSpec; u != nil {
		if cur.NetworkProvider != ProviderNSX {
			return nil, vapi.InvalidArgument("spec.ncp_cluster_network_spec", "{...}", "is only valid with network_provider NSXT_CONTAINER_PLUGIN")
		}
		n := *cur.NCPClusterNetworkSpec
		if u.PodCidrs != nil {
			n.PodCidrs = u.PodCidrs
		}
		if u.IngressCidrs != nil {
			n.IngressCidrs = u.IngressCidrs
		}
		if u.EgressCidrs != nil {
			n.EgressCidrs = u.EgressCidrs
		}
		spec.NCPClusterNetworkSpec = &n
		if u.DefaultIngressTLSCertificate != nil {
			if !isPEMCertificates(*u.DefaultIngressTLSCertificate) {
				return nil, vapi.InvalidArgument("spec.ncp_cluster_network_spec.default_ingress_tls_certificate", "(not shown)", "must be a PEM-encoded certificate")
			}
			ingressCert = u.DefaultIngressTLSCertificate
		}
	}
	if in.TLSEndpointCertificate != nil && !isPEMCertificates(*in.TLSEndpointCertificate) {
		return nil, vapi.InvalidArgument("spec.tls_endpoint_certificate", "(not shown)", "must hold PEM-encoded certificates")
	}
	return nil, f.apply(c.Ctx, r, spec, paths{root: "spec"}, func(v *supervisor) {
		if ingressCert != nil {
			v.IngressCertificate = *ingressCert
		}
		if in.TLSEndpointCertificate != nil {
			v.TLSEndpointCertificate = *in.TLSEndpointCertificate
		}
	})
}

// rotatePassword rotates the control plane's root password. wcpd keeps no password; it records when
// the rotation happened, which the support bundle shows.
func (f *Family) rotatePassword(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	r, err := f.changeableOr(c.Ctx, cluster, vapi.ErrorNotAllowedInState)
	if err != nil {
		return nil, err
	}
	if r.Value.Phase != phaseRunning {
		return nil, vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.supervisor.not_running",
			"The Supervisor on cluster %s is %s; its password can be rotated once it is RUNNING.", cluster, r.Value.ConfigStatus)
	}
	now := f.now()
	v := r.Value
	v.PasswordRotated = &now
	v.logEvent(now, "info", "control plane password rotated")
	if _, err := f.supervisors.Update(c.Ctx, r.Key, r.Revision, v); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return nil, concurrentChange(cluster)
		}
		return nil, err
	}
	return nil, nil
}

// disable starts removing the Supervisor: its namespaces, then its control plane.
func (f *Family) disable(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	if _, err := f.supervisorOn(c.Ctx, cluster, vapi.ErrorNotAllowedInState); err != nil {
		return nil, err
	}
	r, ok := f.lookupRecord(cluster)
	if !ok {
		return nil, vapi.NotFound("Supervisor on cluster", cluster)
	}
	s := r.Value
	if s.Phase == phaseRemoving {
		return nil, nil // already being disabled
	}
	// Disable is accepted in every other state, including a stalled enable or upgrade, which it
	// abandons: it is how a stuck Supervisor is cleaned up.
	now := f.now()
	fault, armed := f.faults.Take("disable", s.Cluster)
	s.Phase, s.Op, s.Step, s.PhaseStarted = phaseRemoving, s.Op+1, removeDraining, now
	s.ConfigStatus = platform.StatusRemoving
	s.Fault = nil
	if armed {
		s.Fault = &fault
	}
	s.Upgrade = nil
	s.Messages = []Message{newMessage("INFO", "wcpd.supervisor.disable.started", "Removing the Supervisor: removing its namespaces.")}
	s.logEvent(now, "info", fmt.Sprintf("disable requested by %s", c.Principal.String()))
	if _, err := f.supervisors.Update(c.Ctx, r.Key, r.Revision, s); err != nil {
		if armed {
			f.rearm("disable", s.Cluster, fault)
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return nil, concurrentChange(cluster)
		}
		return nil, err
	}
	f.ctl.Enqueue(r.Key)
	return nil, nil
}

// clusterTopology answers the vSphere Zone a Supervisor cluster belongs to.
func (f *Family) clusterTopology(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	if _, err := f.enabledSupervisor(c.Ctx, cluster); err != nil {
		return nil, err
	}
	return f.zoneOf(cluster), nil
}
