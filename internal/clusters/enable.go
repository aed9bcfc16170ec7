package clusters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// enableRequest is an enable through either API, in canonical form.
type enableRequest struct {
	clusters []string // primary first
	zones    []string
	name     string // "" derives one from the cluster's name
	spec     EnableSpec
	paths    paths
	api      string // "clusters" or "supervisors"
}

func (f *Family) enable(c *vapi.Call) (any, error) {
	var spec EnableSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	_, err := f.startEnable(c.Ctx, enableRequest{clusters: []string{c.Path("cluster")}, spec: spec,
		paths: paths{root: "spec"}, api: "clusters"})
	return nil, err
}

func (f *Family) enableOnComputeCluster(c *vapi.Call) (any, error) {
	var spec EnableOnComputeClusterSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	cluster := c.Path("cluster")
	if spec.Zone != nil && *spec.Zone != f.zoneOf(cluster) {
		return nil, vapi.InvalidArgument("spec.zone", *spec.Zone,
			fmt.Sprintf("is not the vSphere Zone of cluster %s (its zone is %s)", cluster, f.zoneOf(cluster)))
	}
	canonical, p, err := convertSupervisorSpec(spec.Name, spec.ControlPlane, spec.Workloads)
	if err != nil {
		return nil, err
	}
	return f.startEnable(c.Ctx, enableRequest{clusters: []string{cluster}, zones: []string{f.zoneOf(cluster)},
		name: spec.Name, spec: canonical, paths: p, api: "supervisors"})
}

func (f *Family) enableOnZones(c *vapi.Call) (any, error) {
	var spec EnableOnZonesSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	if n := len(spec.Zones); n != 1 && n != 3 {
		errs.Add("spec.zones", fmt.Sprintf("%d zones", n), "a Supervisor runs on one or three vSphere Zones")
	}
	var clusters []string
	seen := map[string]bool{}
	s, err := f.snapshot(c.Ctx)
	if err != nil {
		return nil, err
	}
	for i, z := range spec.Zones {
		cl, ok := f.clusterOfZone(s, z)
		if !ok {
			errs.Add(fmt.Sprintf("spec.zones[%d]", i), z, notAZone)
			continue
		}
		id := cl.ID
		if seen[id] {
			errs.Add(fmt.Sprintf("spec.zones[%d]", i), z, "is listed twice")
		}
		seen[id] = true
		clusters = append(clusters, id)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	canonical, p, err := convertSupervisorSpec(spec.Name, spec.ControlPlane, spec.Workloads)
	if err != nil {
		return nil, err
	}
	return f.startEnable(c.Ctx, enableRequest{clusters: clusters, zones: spec.Zones, name: spec.Name,
		spec: canonical, paths: p, api: "supervisors"})
}

var supervisorNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// deriveName makes a Supervisor name (a DNS label) from a cluster name.
func deriveName(cluster string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(cluster) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 50 {
		name = name[:50]
	}
	if name == "" {
		name = "supervisor"
	}
	return name
}

// startEnable runs the checks every enable shares and stores the new Supervisor; the controller
// does the rest. It returns the Supervisor id.
func (f *Family) startEnable(ctx context.Context, req enableRequest) (string, error) {
	f.enableMu.Lock()
	defer f.enableMu.Unlock()

	clusters := make([]inventory.Cluster, 0, len(req.clusters))
	for _, id := range req.clusters {
		cl, err := f.deps.Inventory.Cluster(ctx, id)
		if err != nil {
			if errors.Is(err, inventory.ErrNotFound) {
				return "", vapi.NotFound("Cluster", id)
			}
			return "", err
		}
		clusters = append(clusters, cl)
	}
	primary := clusters[0].ID

	// An existing Supervisor: a failed one on the same clusters may be enabled again (a retry).
	var retry *store.Record[supervisor]
	for _, cl := range clusters {
		r, ok := f.lookupRecord(cl.ID)
		if !ok {
			continue
		}
		s := r.Value
		switch {
		case s.Phase == phaseRemoving:
			return "", vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.supervisor.removing",
				"The Supervisor on cluster %s is being removed; enable it again once it is gone.", cl.Name)
		case s.Phase == phaseFailed && s.Cluster == primary && len(s.Clusters) == len(clusters):
			rr := r
			retry = &rr
		default:
			return "", vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.supervisor.exists",
				"Cluster %s already has a Supervisor (%s, %s).", cl.Name, s.Name, s.ConfigStatus)
		}
	}

	name := req.name
	switch {
	case name == "" && retry != nil:
		name = retry.Value.Name
	case name == "":
		name = f.uniqueName(deriveName(clusters[0].Name))
	case !supervisorNamePattern.MatchString(name):
		return "", vapi.InvalidArgument("spec.name", name, "must be a DNS label: lower-case letters, digits and '-', at most 63 characters")
	}
	for _, r := range f.supervisors.ListShared() {
		if r.Value.Name == name && r.Key != primary {
			return "", vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.supervisor.name_taken",
				"A Supervisor named %s already exists (on cluster %s).", name, r.Value.Cluster)
		}
	}

	e, err := f.validationEnv(ctx, clusters)
	if err != nil {
		return "", err
	}
	var reasons []vapi.Message
	for _, cl := range clusters {
		for _, m := range f.clusterReasons(e.snap, cl, req.spec.NetworkProvider) {
			if m.ID != "wcpd.compatibility.enabled" {
				reasons = append(reasons, m)
			}
		}
	}
	if len(reasons) > 0 {
		names := make([]string, len(clusters))
		for i, cl := range clusters {
			names[i] = cl.Name
		}
		e := vapi.NewError(vapi.ErrorUnsupported, "wcpd.supervisor.incompatible",
			fmt.Sprintf("A Supervisor with %s networking cannot be enabled on %s: %s", req.spec.NetworkProvider,
				strings.Join(names, ", "), reasonsText(reasons)), strings.Join(names, ","), string(req.spec.NetworkProvider))
		e.Messages = append(e.Messages, reasons...)
		return "", e
	}
	spec := req.spec
	if err := validateEnable(e, &spec, req.paths); err != nil {
		return "", err
	}
	if err := capacity(clusters, spec.SizeHint); err != nil {
		return "", err
	}

	now := f.now()
	s := supervisor{
		Cluster: primary, Clusters: req.clusters, ID: uuid.NewString(), Name: name, EnabledWith: req.api,
		Created: now, Phase: phaseEnabling, Op: 1, PhaseStarted: now,
		ConfigStatus: platform.StatusConfiguring, KubernetesStatus: "WARNING",
		Messages:           []Message{newMessage("INFO", "wcpd.supervisor.enable.progress", enableSteps[0].Progress)},
		KubernetesMessages: []Message{},
		Version:            defaultVersion,
	}
	if retry != nil {
		prev := retry.Value
		s.ID, s.Created, s.Op, s.Events = prev.ID, prev.Created, prev.Op+1, prev.Events
		// Identity providers are not part of the enable spec: a retry keeps those registered.
		s.IdentityProviders = prev.IdentityProviders
	}
	s.setSpec(spec)
	s.Conditions = enableConditions(nil, 0, now, false, nil)
	verb := "enable"
	if retry != nil {
		verb = "enable (retry)"
	}
	s.logEvent(now, "info", fmt.Sprintf("%s requested through the %s API: Supervisor %s on %s, %s networking, size %s",
		verb, req.api, name, strings.Join(req.clusters, ","), spec.NetworkProvider, spec.SizeHint))

	fault, armed := f.faults.Take("enable", primary)
	if armed {
		s.Fault = &fault
		s.logEvent(now, "info", "an injected fault will hit this enable")
	}
	if retry != nil {
		_, err = f.supervisors.Update(ctx, primary, retry.Revision, s)
	} else {
		_, err = f.supervisors.Create(ctx, primary, s)
	}
	if err != nil {
		if armed {
			f.rearm("enable", primary, fault)
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) {
			return "", concurrentChange(primary)
		}
		return "", err
	}
	f.logger().Info("Supervisor enable started", "cluster", primary, "supervisor", s.ID, "name", name)
	f.ctl.Enqueue(primary)
	return s.ID, nil
}

func reasonsText(reasons []vapi.Message) string {
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = r.DefaultMessage
	}
	return strings.Join(parts, " ")
}

func (f *Family) uniqueName(base string) string {
	taken := map[string]bool{}
	for _, r := range f.supervisors.ListShared() {
		taken[r.Value.Name] = true
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

func (f *Family) rearm(operation, target string, fault platform.Fault) {
	f.faults.Restore(operation, target, fault)
}

// capacity checks that three hosts of the clusters can each hold a control-plane VM of the size.
func capacity(clusters []inventory.Cluster, hint SizingHint) error {
	size := sizes[hint]
	fit := 0
	for _, cl := range clusters {
		for _, h := range cl.Hosts {
			if h.Connected && !h.MaintenanceMode && int32(h.CPUCores) >= size.CPUs && h.MemoryBytes>>20 >= size.MemoryMB {
				fit++
			}
		}
	}
	if fit < controlPlaneVMs {
		return vapi.Errorf(vapi.ErrorUnableToAllocate, "wcpd.supervisor.capacity",
			"Only %d usable ESXi host(s) can hold a %s control plane VM (%d vCPUs, %d MB); the Supervisor needs %d.",
			fit, hint, size.CPUs, size.MemoryMB, controlPlaneVMs)
	}
	return nil
}

// setSpec stores spec as the Supervisor's desired configuration, with its consequences: the
// namespace networks and load balancers it defines. Secrets are not kept: vCenter never shows them
// back, and wcpd has no use for them once validated.
func (s *supervisor) setSpec(spec EnableSpec) {
	if lb := spec.LoadBalancerConfigSpec; lb != nil {
		cp := *lb
		if cp.HAProxyConfigCreateSpec != nil {
			ha := *cp.HAProxyConfigCreateSpec
			ha.Password = ""
			cp.HAProxyConfigCreateSpec = &ha
		}
		if cp.AviConfigCreateSpec != nil {
			avi := *cp.AviConfigCreateSpec
			avi.Password = ""
			cp.AviConfigCreateSpec = &avi
		}
		spec.LoadBalancerConfigSpec = &cp
		s.LoadBalancers = []LoadBalancerInfo{lbInfo(cp.ID, cp.AddressRanges, cp.Provider, cp.HAProxyConfigCreateSpec, cp.AviConfigCreateSpec)}
	}
	if px := spec.ClusterProxyConfig; px != nil {
		cp := *px
		for _, u := range []**string{&cp.HTTPSProxyConfig, &cp.HTTPProxyConfig} {
			if *u != nil {
				r := redactURL(**u)
				*u = &r
			}
		}
		spec.ClusterProxyConfig = &cp
	}
	s.Networks, s.PrimaryNetwork = nil, ""
	if w := spec.WorkloadNetworksSpec; w != nil {
		s.PrimaryNetwork = w.SupervisorPrimaryWorkloadNetwork.Network
		s.Networks = append(s.Networks, networkInfo(w.SupervisorPrimaryWorkloadNetwork))
		for _, n := range w.NetworkList {
			s.Networks = append(s.Networks, networkInfo(n))
		}
	}
	s.Spec = spec
}

func lbInfo(id string, ranges []IPRange, provider LBProvider, ha *HAProxyConfigCreateSpec, avi *AviConfigCreateSpec) LoadBalancerInfo {
	out := LoadBalancerInfo{ID: id, AddressRanges: append([]IPRange{}, ranges...), Provider: provider}
	if ha != nil && provider == LBHAProxy {
		out.HAProxyInfo = &HAProxyInfo{Servers: append([]LBServer{}, ha.Servers...), Username: ha.Username, CertificateAuthorityChain: ha.CertificateAuthorityChain}
	}
	if avi != nil && provider == LBAvi {
		out.AviInfo = &AviInfo{Server: avi.Server, Username: avi.Username, CertificateAuthorityChain: avi.CertificateAuthorityChain}
	}
	return out
}

func networkInfo(n NetworksCreateSpec) NetworksInfo {
	out := NetworksInfo{Network: n.Network, NetworkProvider: n.NetworkProvider}
	if v := n.VsphereNetwork; v != nil {
		out.VsphereNetwork = &VsphereDVPGNetworkInfo{Portgroup: v.Portgroup, IPAssignmentMode: v.IPAssignmentMode,
			AddressRanges: append([]IPRange{}, v.AddressRanges...), Gateway: v.Gateway, SubnetMask: v.SubnetMask}
	}
	if x := n.NsxNetwork; x != nil {
		info := NsxNetworkInfo(*x)
		if info.LoadBalancerSize != nil && *info.LoadBalancerSize == "" {
			info.LoadBalancerSize = nil // govmomi sends it empty when unset
		}
		out.NsxNetwork = &info
	}
	return out
}

// endpoints derives the Supervisor's addresses: the management range's first address is the API
// server's floating IP and the next three are the control plane VMs'; under DHCP the floating IP
// given is used. The cluster endpoint is the first load balancer virtual IP (vSphere networking) or
// the first ingress address (NSX).
func endpoints(spec EnableSpec, lbs []LoadBalancerInfo) (management string, servers []string, cluster string) {
	m := spec.MasterManagementNetwork
	servers = []string{}
	switch {
	case m.Mode == ModeStaticRange && m.AddressRange != nil:
		management = m.AddressRange.StartingAddress
		for i := 1; i <= controlPlaneVMs; i++ {
			servers = append(servers, nthAddress(management, i))
		}
	case m.FloatingIP != nil:
		management = *m.FloatingIP
	}
	cluster = management
	switch {
	case spec.NCPClusterNetworkSpec != nil && len(spec.NCPClusterNetworkSpec.IngressCidrs) > 0:
		cluster = nthAddress(spec.NCPClusterNetworkSpec.IngressCidrs[0].Address, 1)
	case len(lbs) > 0 && len(lbs[0].AddressRanges) > 0:
		cluster = lbs[0].AddressRanges[0].Address
	}
	return management, servers, cluster
}

// inventoryClusters looks the clusters up in the inventory.
func (f *Family) inventoryClusters(ctx context.Context, ids []string) ([]inventory.Cluster, error) {
	out := make([]inventory.Cluster, 0, len(ids))
	for _, id := range ids {
		cl, err := f.deps.Inventory.Cluster(ctx, id)
		if err != nil {
			if errors.Is(err, inventory.ErrNotFound) {
				return nil, vapi.NotFound("Cluster", id)
			}
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}
