package clusters

import (
	"fmt"
	"time"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Phases of a Supervisor's state machine (docs/supervisors.md). Each maps to a config_status.
const (
	phaseEnabling = "enabling" // CONFIGURING
	phaseRunning  = "running"  // RUNNING (an upgrade may be under way)
	phaseFailed   = "failed"   // ERROR: enable or disable failed; enable or disable again to retry
	phaseRemoving = "removing" // REMOVING
)

// supervisor is the stored record of one Supervisor, keyed by its primary cluster's MoRef id.
// Spec is the desired configuration; everything else is observed state written by the handlers
// that start operations and by the controller that carries them out.
type supervisor struct {
	Cluster  string   `json:"cluster"`  // primary cluster: the key
	Clusters []string `json:"clusters"` // every cluster the Supervisor spans (zones), primary first
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	// EnabledWith is the API that enabled it: "clusters" (7.0) or "supervisors" (8.0).
	EnabledWith string     `json:"enabled_with"`
	Spec        EnableSpec `json:"spec"` // passwords removed
	Created     time.Time  `json:"created"`

	// The running operation. Op grows with every operation started (enable, disable, retry), so a
	// controller pass that read an older operation does not overwrite a newer one.
	Phase        string          `json:"phase"`
	Op           int64           `json:"op"`
	Step         int             `json:"step"`
	PhaseStarted time.Time       `json:"phase_started"`
	Fault        *platform.Fault `json:"fault,omitempty"`

	ConfigStatus       string      `json:"config_status"`
	KubernetesStatus   string      `json:"kubernetes_status"`
	Messages           []Message   `json:"messages"`
	KubernetesMessages []Message   `json:"kubernetes_messages"`
	Conditions         []Condition `json:"conditions"`

	ManagementEndpoint string   `json:"management_endpoint"`
	ClusterEndpoint    string   `json:"cluster_endpoint"`
	APIServers         []string `json:"api_servers"`
	// ManagementCertificate is the self-signed certificate wcpd made for the management endpoint;
	// TLSEndpointCertificate is the one an administrator set with update (tls_endpoint_certificate).
	ManagementCertificate  string `json:"management_certificate"`
	TLSEndpointCertificate string `json:"tls_endpoint_certificate,omitempty"`
	// IngressCertificate is NCP's default_ingress_tls_certificate.
	IngressCertificate string `json:"ingress_certificate,omitempty"`
	NamespacesPool     string `json:"namespaces_pool,omitempty"`

	Version          string            `json:"version"`
	LastUpgraded     *time.Time        `json:"last_upgraded,omitempty"`
	Upgrades         int               `json:"upgrades"`
	Upgrade          *upgrade          `json:"upgrade,omitempty"`
	SoftwareMessages []softwareMessage `json:"software_messages,omitempty"`
	// LastPrecheckRejected is set when the last upgrade request stopped at its prechecks.
	LastPrecheckRejected bool       `json:"last_precheck_rejected,omitempty"`
	PasswordRotated      *time.Time `json:"password_rotated,omitempty"`

	// Networks are the cluster's namespace networks; the primary workload network is one of them.
	Networks       []NetworksInfo     `json:"networks,omitempty"`
	PrimaryNetwork string             `json:"primary_network,omitempty"`
	LoadBalancers  []LoadBalancerInfo `json:"load_balancers,omitempty"`
	// IdentityProviders are the upstream OIDC providers registered with the Supervisor (at most
	// one), without their client secrets.
	IdentityProviders []IdentityProviderInfo `json:"identity_providers,omitempty"`

	Events []event `json:"events"`
}

// upgrade is a Supervisor upgrade in progress (or failed).
type upgrade struct {
	DesiredVersion string            `json:"desired_version"`
	State          string            `json:"state"` // PENDING or ERROR
	Completed      int               `json:"completed"`
	Messages       []softwareMessage `json:"messages"`
	Started        time.Time         `json:"started"`
	PhaseStarted   time.Time         `json:"phase_started"`
	Fault          *platform.Fault   `json:"fault,omitempty"`
}

// softwareMessage is namespace_management.software.Clusters.Message.
type softwareMessage struct {
	Severity string       `json:"severity"`
	Details  vapi.Message `json:"details"`
}

// event is one line of a Supervisor's history, kept for the support bundle.
type event struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// maxEvents bounds a Supervisor's history.
const maxEvents = 200

func (s *supervisor) logEvent(at time.Time, level, msg string) {
	s.Events = append(s.Events, event{Time: at.UTC(), Level: level, Message: msg})
	if n := len(s.Events); n > maxEvents {
		s.Events = append([]event(nil), s.Events[n-maxEvents:]...)
	}
}

// spans reports whether the Supervisor runs on cluster.
func (s *supervisor) spans(cluster string) bool {
	for _, c := range s.Clusters {
		if c == cluster {
			return true
		}
	}
	return false
}

func (s *supervisor) state() platform.SupervisorState {
	st := platform.SupervisorState{
		Cluster: s.Cluster, ID: s.ID, Name: s.Name,
		ConfigStatus: s.ConfigStatus, KubernetesStatus: s.KubernetesStatus,
		APIServerEndpoint: s.ClusterEndpoint, NamespacesPool: s.NamespacesPool,
		KubernetesVersion: s.Version, UpgradeCount: s.Upgrades,
	}
	for _, n := range s.Networks {
		if n.Network == s.PrimaryNetwork && n.VsphereNetwork != nil {
			st.WorkloadAddresses = addressRanges(n.VsphereNetwork.AddressRanges)
		}
	}
	for _, lb := range s.LoadBalancers {
		st.LoadBalancerAddresses = append(st.LoadBalancerAddresses, addressRanges(lb.AddressRanges)...)
	}
	if n := s.Spec.NCPClusterNetworkSpec; s.Spec.NetworkProvider == ProviderNSX && n != nil {
		for _, c := range n.PodCidrs {
			st.PodCIDRs = append(st.PodCIDRs, fmt.Sprintf("%s/%d", c.Address, c.Prefix))
		}
	}
	return st
}

func addressRanges(in []IPRange) []platform.AddressRange {
	out := make([]platform.AddressRange, 0, len(in))
	for _, r := range in {
		out = append(out, platform.AddressRange{Address: r.Address, Count: r.Count})
	}
	return out
}

func newMessage(severity, id, text string, args ...string) Message {
	if args == nil {
		args = []string{}
	}
	return Message{Severity: severity, Details: &vapi.Message{ID: id, DefaultMessage: text, Args: args}}
}

func localizable(id, text string, args ...string) vapi.Message {
	if args == nil {
		args = []string{}
	}
	return vapi.Message{ID: id, DefaultMessage: text, Args: args}
}
