package clusters

import (
	"context"
	"errors"
	"fmt"

	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Namespace networks and load balancers are part of their Supervisor's record: they are created
// with it (from the enable spec), changed through their own APIs and removed with it.

func (f *Family) networkList(c *vapi.Call) (any, error) {
	s, err := f.enabledSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	out := append([]NetworksInfo{}, s.Networks...)
	return out, nil
}

func findNetwork(s supervisor, name string) (int, bool) {
	for i, n := range s.Networks {
		if n.Network == name {
			return i, true
		}
	}
	return -1, false
}

func (f *Family) networkGet(c *vapi.Call) (any, error) {
	cluster, name := c.Path("cluster"), c.Path("network")
	s, err := f.enabledSupervisor(c.Ctx, cluster)
	if err != nil {
		return nil, err
	}
	i, ok := findNetwork(s, name)
	if !ok {
		return nil, vapi.NotFound("Network", name)
	}
	return s.Networks[i], nil
}

// otherSpans lists the address spans a network must not overlap: the service CIDR, the management
// range, the load balancers' ranges and every other network's ranges.
func otherSpans(s supervisor, except string, withLBs bool) []span {
	var errs vapi.FieldErrors // the stored values are valid; errors cannot happen
	var out []span
	if sp, ok := checkCIDR(s.Spec.ServiceCidr, "service_cidr", &errs); ok {
		out = append(out, sp)
	}
	if r := s.Spec.MasterManagementNetwork.AddressRange; r != nil {
		if sp, ok := checkRange(r.StartingAddress, r.AddressCount, "master_management_network.address_range", "", &errs); ok {
			sp.field = "the management network's address range"
			out = append(out, sp)
		}
	}
	for _, lb := range s.LoadBalancers {
		if !withLBs {
			break
		}
		for i, r := range lb.AddressRanges {
			if sp, ok := checkRange(r.Address, r.Count, "", "", &errs); ok {
				sp.field = fmt.Sprintf("load balancer %s's address_ranges[%d]", lb.ID, i)
				out = append(out, sp)
			}
		}
	}
	cidrs := func(owner, field string, list []Ipv4Cidr) {
		for i, c := range list {
			if sp, ok := checkCIDR(c, "", &errs); ok {
				sp.field = fmt.Sprintf("%s %s[%d]", owner, field, i)
				out = append(out, sp)
			}
		}
	}
	if n := s.Spec.NCPClusterNetworkSpec; n != nil {
		cidrs("the Supervisor's", "pod_cidrs", n.PodCidrs)
		cidrs("the Supervisor's", "ingress_cidrs", n.IngressCidrs)
		cidrs("the Supervisor's", "egress_cidrs", n.EgressCidrs)
	}
	for _, n := range s.Networks {
		if n.Network == except {
			continue
		}
		if v := n.VsphereNetwork; v != nil {
			for i, r := range v.AddressRanges {
				if sp, ok := checkRange(r.Address, r.Count, "", "", &errs); ok {
					sp.field = fmt.Sprintf("network %s's address_ranges[%d]", n.Network, i)
					out = append(out, sp)
				}
			}
		}
		if x := n.NsxNetwork; x != nil {
			owner := "network " + n.Network + "'s"
			cidrs(owner, "namespace_network_cidrs", x.NamespaceNetworkCidrs)
			cidrs(owner, "ingress_cidrs", x.IngressCidrs)
			cidrs(owner, "egress_cidrs", x.EgressCidrs)
		}
	}
	return out
}

// checkAgainst reports spans of the request that overlap the Supervisor's other addresses.
func checkAgainst(mine, others []span, errs *vapi.FieldErrors) {
	for _, m := range mine {
		for _, o := range others {
			if m.overlaps(o) {
				errs.Add(m.field, m.text, fmt.Sprintf("overlaps %s (%s)", o.field, o.text))
			}
		}
	}
}

// saveNetworks writes the Supervisor's networks with a revision check.
func (f *Family) saveSupervisor(ctx context.Context, r store.Record[supervisor], v supervisor) error {
	if _, err := f.supervisors.Update(ctx, r.Key, r.Revision, v); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return concurrentChange(r.Key)
		}
		return err
	}
	return nil
}

func (f *Family) networkCreate(c *vapi.Call) (any, error) {
	var spec NetworksCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	r, err := f.changeable(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	s := r.Value
	if _, exists := findNetwork(s, spec.Network); exists {
		return nil, vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.network.exists", "The Supervisor on cluster %s already has a network named %s.", c.Path("cluster"), spec.Network)
	}
	clusters, err := f.inventoryClusters(c.Ctx, s.Clusters)
	if err != nil {
		return nil, err
	}
	e, err := f.validationEnv(c.Ctx, clusters)
	if err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	mine := validateNetwork(e, &spec, s.Spec.NetworkProvider, "", paths{root: "spec"}, &errs)
	checkAgainst(mine, otherSpans(s, "", true), &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s.Networks = append(s.Networks, networkInfo(spec))
	s.logEvent(f.now(), "info", "network "+spec.Network+" created")
	return nil, f.saveSupervisor(c.Ctx, r, s)
}

// changeNetwork applies a set or update to a network and validates the result.
func (f *Family) changeNetwork(c *vapi.Call, provider NetworkProvider, change func(n *NetworksCreateSpec) error) error {
	cluster, name := c.Path("cluster"), c.Path("network")
	r, err := f.changeable(c.Ctx, cluster)
	if err != nil {
		return err
	}
	s := r.Value
	i, ok := findNetwork(s, name)
	if !ok {
		return vapi.NotFound("Network", name)
	}
	cur := s.Networks[i]
	if provider != cur.NetworkProvider {
		return vapi.InvalidArgument("spec.network_provider", provider, "must be the network's provider, "+string(cur.NetworkProvider))
	}
	spec := NetworksCreateSpec{Network: cur.Network, NetworkProvider: cur.NetworkProvider}
	if v := cur.VsphereNetwork; v != nil {
		spec.VsphereNetwork = &VsphereDVPGNetworkCreateSpec{Portgroup: v.Portgroup, IPAssignmentMode: v.IPAssignmentMode,
			AddressRanges: v.AddressRanges, Gateway: v.Gateway, SubnetMask: v.SubnetMask}
	}
	if x := cur.NsxNetwork; x != nil {
		spec.NsxNetwork = &NsxNetworkCreateSpec{NamespaceNetworkCidrs: x.NamespaceNetworkCidrs, IngressCidrs: x.IngressCidrs,
			EgressCidrs: x.EgressCidrs, NSXTier0Gateway: x.NSXTier0Gateway, SubnetPrefixLength: x.SubnetPrefixLength,
			RoutedMode: x.RoutedMode, LoadBalancerSize: x.LoadBalancerSize}
	}
	if err := change(&spec); err != nil {
		return err
	}
	clusters, err := f.inventoryClusters(c.Ctx, s.Clusters)
	if err != nil {
		return err
	}
	e, err := f.validationEnv(c.Ctx, clusters)
	if err != nil {
		return err
	}
	var errs vapi.FieldErrors
	mine := validateNetwork(e, &spec, s.Spec.NetworkProvider, "", paths{root: "spec"}, &errs)
	checkAgainst(mine, otherSpans(s, name, true), &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	s.Networks[i] = networkInfo(spec)
	s.logEvent(f.now(), "info", "network "+name+" changed")
	return f.saveSupervisor(c.Ctx, r, s)
}

func (f *Family) networkSet(c *vapi.Call) (any, error) {
	var in NetworksSetSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	return nil, f.changeNetwork(c, in.NetworkProvider, func(n *NetworksCreateSpec) error {
		switch in.NetworkProvider {
		case ProviderVSphere:
			if in.VsphereNetwork == nil {
				var errs vapi.FieldErrors
				errs.Missing("spec.vsphere_network")
				return errs.Err()
			}
			v := in.VsphereNetwork
			n.VsphereNetwork.Portgroup, n.VsphereNetwork.AddressRanges = v.Portgroup, v.AddressRanges
			n.VsphereNetwork.Gateway, n.VsphereNetwork.SubnetMask = v.Gateway, v.SubnetMask
		default:
			if in.NsxNetwork == nil {
				var errs vapi.FieldErrors
				errs.Missing("spec.nsx_network")
				return errs.Err()
			}
			x := in.NsxNetwork
			n.NsxNetwork.NamespaceNetworkCidrs, n.NsxNetwork.IngressCidrs, n.NsxNetwork.EgressCidrs = x.NamespaceNetworkCidrs, x.IngressCidrs, x.EgressCidrs
		}
		return nil
	})
}

func (f *Family) networkUpdate(c *vapi.Call) (any, error) {
	var in NetworksUpdateSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	return nil, f.changeNetwork(c, in.NetworkProvider, func(n *NetworksCreateSpec) error {
		if v := in.VsphereNetwork; v != nil && n.VsphereNetwork != nil {
			if v.Portgroup != nil {
				n.VsphereNetwork.Portgroup = *v.Portgroup
			}
			if v.AddressRanges != nil {
				n.VsphereNetwork.AddressRanges = v.AddressRanges
			}
			if v.Gateway != nil {
				n.VsphereNetwork.Gateway = *v.Gateway
			}
			if v.SubnetMask != nil {
				n.VsphereNetwork.SubnetMask = *v.SubnetMask
			}
		}
		if x := in.NsxNetwork; x != nil && n.NsxNetwork != nil {
			if x.NamespaceNetworkCidrs != nil {
				n.NsxNetwork.NamespaceNetworkCidrs = x.NamespaceNetworkCidrs
			}
			if x.IngressCidrs != nil {
				n.NsxNetwork.IngressCidrs = x.IngressCidrs
			}
			if x.EgressCidrs != nil {
				n.NsxNetwork.EgressCidrs = x.EgressCidrs
			}
		}
		return nil
	})
}

func (f *Family) networkDelete(c *vapi.Call) (any, error) {
	cluster, name := c.Path("cluster"), c.Path("network")
	if _, err := f.enabledSupervisor(c.Ctx, cluster); err != nil {
		return nil, err
	}
	r, ok := f.lookupRecord(cluster)
	if !ok {
		return nil, vapi.NotFound("Supervisor on cluster", cluster)
	}
	s := r.Value
	i, ok := findNetwork(s, name)
	if !ok {
		return nil, vapi.NotFound("Network", name)
	}
	if name == s.PrimaryNetwork {
		return nil, vapi.Errorf(vapi.ErrorResourceInUse, "wcpd.network.primary",
			"Network %s is the Supervisor's primary workload network; its control plane uses it, so it cannot be deleted.", name)
	}
	s.Networks = append(s.Networks[:i:i], s.Networks[i+1:]...)
	s.logEvent(f.now(), "info", "network "+name+" deleted")
	return nil, f.saveSupervisor(c.Ctx, r, s)
}

// Load balancers.

func (f *Family) lbSupervisor(c *vapi.Call) (supervisor, error) {
	s, err := f.enabledSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return s, err
	}
	if s.Spec.NetworkProvider != ProviderVSphere {
		return s, vapi.Errorf(vapi.ErrorUnsupported, "wcpd.load_balancer.nsx",
			"The Supervisor on cluster %s uses NSX networking, which provides its own load balancing.", c.Path("cluster"))
	}
	return s, nil
}

func findLB(s supervisor, id string) (int, bool) {
	for i, lb := range s.LoadBalancers {
		if lb.ID == id {
			return i, true
		}
	}
	return -1, false
}

func (f *Family) lbList(c *vapi.Call) (any, error) {
	s, err := f.lbSupervisor(c)
	if err != nil {
		return nil, err
	}
	out := []LoadBalancerSummary{}
	for _, lb := range s.LoadBalancers {
		out = append(out, LoadBalancerSummary{ID: lb.ID, Provider: lb.Provider})
	}
	return out, nil
}

func (f *Family) lbGet(c *vapi.Call) (any, error) {
	s, err := f.lbSupervisor(c)
	if err != nil {
		return nil, err
	}
	i, ok := findLB(s, c.Path("id"))
	if !ok {
		return nil, vapi.NotFound("Load balancer", c.Path("id"))
	}
	return s.LoadBalancers[i], nil
}

// changeLB validates a load balancer's new configuration and stores it.
func (f *Family) changeLB(c *vapi.Call, change func(cur LoadBalancerInfo, errs *vapi.FieldErrors) LoadBalancerInfo) error {
	if _, err := f.lbSupervisor(c); err != nil {
		return err
	}
	r, err := f.changeable(c.Ctx, c.Path("cluster"))
	if err != nil {
		return err
	}
	s := r.Value
	id := c.Path("id")
	i, ok := findLB(s, id)
	if !ok {
		return vapi.NotFound("Load balancer", id)
	}
	var errs vapi.FieldErrors
	next := change(s.LoadBalancers[i], &errs)
	mine := checkLBRanges(next.AddressRanges, "address_ranges", paths{root: "spec"}, &errs)
	checkAgainst(mine, otherSpans(s, "", false), &errs)
	checkOverlaps(mine, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	s.LoadBalancers[i] = next
	if s.Phase == phaseRunning {
		s.ManagementEndpoint, s.APIServers, s.ClusterEndpoint = endpoints(s.Spec, s.LoadBalancers)
	}
	s.logEvent(f.now(), "info", "load balancer "+id+" changed")
	return f.saveSupervisor(c.Ctx, r, s)
}

func (f *Family) lbSet(c *vapi.Call) (any, error) {
	var in LoadBalancerSetSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	return nil, f.changeLB(c, func(cur LoadBalancerInfo, errs *vapi.FieldErrors) LoadBalancerInfo {
		checkLBUnion(in.Provider, in.HAProxyConfigSetSpec, in.AviConfigSetSpec, "ha_proxy_config_set_spec", "avi_config_set_spec", paths{root: "spec"}, errs)
		return lbInfo(cur.ID, in.AddressRanges, in.Provider, in.HAProxyConfigSetSpec, in.AviConfigSetSpec)
	})
}

func (f *Family) lbUpdate(c *vapi.Call) (any, error) {
	var in LoadBalancerUpdateSpec
	if err := c.Bind("spec", &in); err != nil {
		return nil, err
	}
	return nil, f.changeLB(c, func(cur LoadBalancerInfo, errs *vapi.FieldErrors) LoadBalancerInfo {
		next := cur
		if in.Provider != nil && *in.Provider != cur.Provider {
			errs.Add("spec.provider", *in.Provider, "changing the provider needs the new provider's servers: use set")
			return next
		}
		if in.AddressRanges != nil {
			next.AddressRanges = in.AddressRanges
		}
		apply := func(u *LBConfigUpdateSpec, field string, user, ca *string) {
			if u == nil {
				return
			}
			if u.Username != nil {
				if *u.Username == "" {
					errs.Add(field+".username", "", "must not be empty")
				}
				*user = *u.Username
			}
			if u.Password != nil && *u.Password == "" {
				errs.Add(field+".password", "", "must not be empty")
			}
			if u.CertificateAuthorityChain != nil {
				if !isPEMCertificates(*u.CertificateAuthorityChain) {
					errs.Add(field+".certificate_authority_chain", "(not shown)", "must hold PEM-encoded CA certificates")
				}
				*ca = *u.CertificateAuthorityChain
			}
		}
		switch cur.Provider {
		case LBHAProxy:
			if in.AviConfigUpdateSpec != nil {
				errs.Add("spec.avi_config_update_spec", "{...}", "is only valid with provider AVI")
			}
			if next.HAProxyInfo != nil {
				ha := *next.HAProxyInfo
				apply(in.HAProxyConfigUpdateSpec, "spec.ha_proxy_config_update_spec", &ha.Username, &ha.CertificateAuthorityChain)
				next.HAProxyInfo = &ha
			}
		case LBAvi:
			if in.HAProxyConfigUpdateSpec != nil {
				errs.Add("spec.ha_proxy_config_update_spec", "{...}", "is only valid with provider HA_PROXY")
			}
			if next.AviInfo != nil {
				avi := *next.AviInfo
				apply(in.AviConfigUpdateSpec, "spec.avi_config_update_spec", &avi.Username, &avi.CertificateAuthorityChain)
				next.AviInfo = &avi
			}
		}
		return next
	})
}
