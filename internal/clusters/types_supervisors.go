package clusters

import "github.com/wcpd/wcpd/internal/vapi"

// Wire types of the vSphere 8.0 Supervisors API (namespace_management.supervisors.*). Where
// govmomi's client spells a field differently from the reference (floating_ip_address,
// kube_api_server_options, default_ingress_tls_certificate, egress_ip_ranges) both spellings are
// accepted; govmomi also always sends the image registry's credentials, which are accepted too.

// BackingType is supervisors.networks.management.NetworkBackingEnum.
type BackingType string

// EnumValues lists the backings.
func (BackingType) EnumValues() []string { return []string{"NETWORK"} }

// WorkloadNetworkType is supervisors.networks.workload.NetworkType.
type WorkloadNetworkType string

// The workload network types.
const (
	NetworkTypeNSX     WorkloadNetworkType = "NSXT"
	NetworkTypeVSphere WorkloadNetworkType = "VSPHERE"
)

// EnumValues lists the types.
func (WorkloadNetworkType) EnumValues() []string {
	return []string{string(NetworkTypeNSX), string(NetworkTypeVSphere)}
}

// IPAssignee is networks.IPAssignment.Assignment.
type IPAssignee string

// EnumValues lists the assignees.
func (IPAssignee) EnumValues() []string { return []string{"POD", "NODE", "SERVICE"} }

// EdgeProvider is networks.edges.EdgeProvider.
type EdgeProvider string

// The edge providers.
const (
	EdgeHAProxy     EdgeProvider = "HAPROXY"
	EdgeNSX         EdgeProvider = "NSX"
	EdgeNSXAdvanced EdgeProvider = "NSX_ADVANCED"
)

// EnumValues lists the providers.
func (EdgeProvider) EnumValues() []string {
	return []string{string(EdgeHAProxy), string(EdgeNSX), string(EdgeNSXAdvanced)}
}

// RoutingMode is networks.edges.NSXRoutingMode.
type RoutingMode string

// EnumValues lists the modes.
func (RoutingMode) EnumValues() []string { return []string{"ROUTED", "NAT"} }

// NetworkBacking is supervisors.networks.management.NetworkBacking.
type NetworkBacking struct {
	Backing BackingType `json:"backing"`
	Network *string     `json:"network,omitempty"`
}

// DNSService is networks.service.DNS.
type DNSService struct {
	Servers       []string `json:"servers"`
	SearchDomains []string `json:"search_domains,omitempty"` // govmomi sends null when empty
}

// NTPService is networks.service.NTP.
type NTPService struct {
	Servers []string `json:"servers"`
}

// NetworkServices is networks.Services.
type NetworkServices struct {
	DNS *DNSService `json:"dns,omitempty"`
	NTP *NTPService `json:"ntp,omitempty"`
}

// IPAssignment is networks.IPAssignment.
type IPAssignment struct {
	Assignee *IPAssignee `json:"assignee,omitempty"`
	Ranges   []IPRange   `json:"ranges"`
}

// IPManagement is networks.IPManagement.
type IPManagement struct {
	DHCPEnabled    *bool          `json:"dhcp_enabled,omitempty"`
	GatewayAddress *string        `json:"gateway_address,omitempty"`
	IPAssignments  []IPAssignment `json:"ip_assignments,omitempty"`
}

// ManagementNetwork is supervisors.networks.management.Network.
type ManagementNetwork struct {
	Network           *string             `json:"network,omitempty"`
	Backing           NetworkBacking      `json:"backing"`
	Services          *NetworkServices    `json:"services,omitempty"`
	IPManagement      *IPManagement       `json:"ip_management,omitempty"`
	FloatingIPAddress *string             `json:"floating_IP_address,omitempty" vapi:"alias=floating_ip_address"`
	Proxy             *ProxyConfiguration `json:"proxy,omitempty"`
}

// ControlPlane is supervisors.ControlPlane. count is a vSphere 9 field govmomi may send; only
// three control-plane VMs (the 8.0 behaviour) are accepted.
type ControlPlane struct {
	Network       ManagementNetwork `json:"network"`
	LoginBanner   *string           `json:"login_banner,omitempty"`
	Size          *SizingHint       `json:"size,omitempty"`
	StoragePolicy *string           `json:"storage_policy,omitempty"`
	Count         *int64            `json:"count,omitempty"`
}

// NsxWorkloadNetwork is supervisors.networks.workload.NsxNetwork.
type NsxWorkloadNetwork struct {
	DVS                   string `json:"dvs"`
	NamespaceSubnetPrefix *int64 `json:"namespace_subnet_prefix,omitempty"`
}

// VSphereWorkloadNetwork is supervisors.networks.workload.VSphereNetwork.
type VSphereWorkloadNetwork struct {
	DVPG string `json:"dvpg"`
}

// WorkloadNetwork is supervisors.networks.workload.Network.
type WorkloadNetwork struct {
	Network      *string                 `json:"network,omitempty"`
	NetworkType  WorkloadNetworkType     `json:"network_type"`
	NSX          *NsxWorkloadNetwork     `json:"nsx,omitempty"`
	VSphere      *VSphereWorkloadNetwork `json:"vsphere,omitempty"`
	Services     *NetworkServices        `json:"services,omitempty"`
	IPManagement *IPManagement           `json:"ip_management,omitempty"`
}

// EdgeHAProxyConfig is networks.edges.HAProxyConfig.
type EdgeHAProxyConfig struct {
	Servers                   []LBServer `json:"servers"`
	Username                  string     `json:"username"`
	Password                  string     `json:"password"`
	CertificateAuthorityChain string     `json:"certificate_authority_chain"`
}

// EdgeNSXConfig is networks.edges.NSXConfig.
type EdgeNSXConfig struct {
	EdgeClusterID                *string           `json:"edge_cluster_ID,omitempty"`
	DefaultIngressTLSCertificate *string           `json:"default_ingress_TLS_certificate,omitempty" vapi:"alias=default_ingress_tls_certificate"`
	RoutingMode                  *RoutingMode      `json:"routing_mode,omitempty"`
	EgressIPRanges               []IPRange         `json:"egress_IP_ranges,omitempty" vapi:"alias=egress_ip_ranges"`
	T0Gateway                    *string           `json:"t0_gateway,omitempty"`
	LoadBalancerSize             *LoadBalancerSize `json:"load_balancer_size,omitempty"`
}

// EdgeAviConfig is networks.edges.NSXAdvancedLBConfig (cloud_name is a newer field govmomi sends).
type EdgeAviConfig struct {
	Server                    LBServer `json:"server"`
	Username                  string   `json:"username"`
	Password                  string   `json:"password"`
	CertificateAuthorityChain string   `json:"certificate_authority_chain"`
	CloudName                 *string  `json:"cloud_name,omitempty"`
}

// Edge is networks.edges.Edge.
type Edge struct {
	ID                        *string            `json:"id,omitempty"`
	LoadBalancerAddressRanges []IPRange          `json:"load_balancer_address_ranges,omitempty"`
	HAProxy                   *EdgeHAProxyConfig `json:"haproxy,omitempty"`
	NSX                       *EdgeNSXConfig     `json:"nsx,omitempty"`
	NSXAdvanced               *EdgeAviConfig     `json:"nsx_advanced,omitempty"`
	Provider                  *EdgeProvider      `json:"provider,omitempty"`
}

// KubeAPIServerSecurity is supervisors.KubeAPIServerSecurity.
type KubeAPIServerSecurity struct {
	CertificateDNSNames []string `json:"certificate_dns_names"`
}

// KubeAPIServerOptions is supervisors.KubeAPIServerOptions.
type KubeAPIServerOptions struct {
	Security *KubeAPIServerSecurity `json:"security,omitempty"`
}

// SupervisorImageRegistry is supervisors.ImageRegistry; govmomi always sends its registry type's
// credential fields, so they are accepted (and not kept).
type SupervisorImageRegistry struct {
	Hostname         string  `json:"hostname"`
	Port             *int64  `json:"port,omitempty"`
	Username         *string `json:"username,omitempty"`
	Password         *string `json:"password,omitempty"`
	CertificateChain *string `json:"certificate_chain,omitempty"`
}

// SupervisorContentLibrarySpec is supervisors.ContentLibrarySpec.
type SupervisorContentLibrarySpec struct {
	ContentLibrary string `json:"content_library"`
}

// ImageSyncConfig is supervisors.ImageSyncConfig. govmomi always sends repository and
// kubernetes_content_library, empty when unset: empty means unset here.
type ImageSyncConfig struct {
	Registry                 *SupervisorImageRegistry       `json:"registry,omitempty"`
	Repository               *string                        `json:"repository,omitempty"`
	KubernetesContentLibrary *string                        `json:"kubernetes_content_library,omitempty"`
	ContentLibraries         []SupervisorContentLibrarySpec `json:"content_libraries,omitempty"`
}

// WorkloadsStorageConfig is supervisors.WorkloadsStorageConfig.
type WorkloadsStorageConfig struct {
	CloudNativeFileVolume  *CNSFileConfig `json:"cloud_native_file_volume,omitempty"`
	EphemeralStoragePolicy *string        `json:"ephemeral_storage_policy,omitempty"`
	ImageStoragePolicy     *string        `json:"image_storage_policy,omitempty"`
}

// Workloads is supervisors.Workloads.
type Workloads struct {
	Network              WorkloadNetwork         `json:"network"`
	Edge                 Edge                    `json:"edge"`
	KubeAPIServerOptions *KubeAPIServerOptions   `json:"kube_API_server_options,omitempty" vapi:"alias=kube_api_server_options"`
	Images               *ImageSyncConfig        `json:"images,omitempty"`
	Storage              *WorkloadsStorageConfig `json:"storage,omitempty"`
}

// EnableOnComputeClusterSpec is Supervisors.EnableOnComputeClusterSpec.
type EnableOnComputeClusterSpec struct {
	Zone         *string      `json:"zone,omitempty"`
	Name         string       `json:"name"`
	ControlPlane ControlPlane `json:"control_plane"`
	Workloads    Workloads    `json:"workloads"`
}

// EnableOnZonesSpec is Supervisors.EnableOnZonesSpec.
type EnableOnZonesSpec struct {
	Zones        []string     `json:"zones"`
	Name         string       `json:"name"`
	ControlPlane ControlPlane `json:"control_plane"`
	Workloads    Workloads    `json:"workloads"`
}

// SupervisorSummaryInfo is supervisors.Summary.Info.
type SupervisorSummaryInfo struct {
	Name             string `json:"name"`
	Stats            Stats  `json:"stats"`
	ConfigStatus     string `json:"config_status"`
	KubernetesStatus string `json:"kubernetes_status"`
}

// SupervisorSummaryItem is supervisors.Summary.ListItem.
type SupervisorSummaryItem struct {
	Supervisor string                `json:"supervisor"`
	Info       SupervisorSummaryInfo `json:"info"`
}

// SupervisorSummaryList is supervisors.Summary.ListResult.
type SupervisorSummaryList struct {
	Items []SupervisorSummaryItem `json:"items"`
}

// ConfigStatus is supervisors.Summary.ConfigStatus (a filter value).
type ConfigStatus string

// EnumValues lists the statuses.
func (ConfigStatus) EnumValues() []string {
	return []string{"CONFIGURING", "REMOVING", "RUNNING", "ERROR"}
}

// KubernetesStatus is supervisors.Summary.KubernetesStatus (a filter value).
type KubernetesStatus string

// EnumValues lists the statuses.
func (KubernetesStatus) EnumValues() []string { return []string{"READY", "WARNING", "ERROR"} }

// SupervisorSummaryFilter is supervisors.Summary.FilterSpec.
type SupervisorSummaryFilter struct {
	ConfigStatus     *ConfigStatus     `json:"config_status,omitempty"`
	KubernetesStatus *KubernetesStatus `json:"kubernetes_status,omitempty"`
}

// ConditionMessage is supervisors.Conditions.Message.
type ConditionMessage struct {
	Severity string        `json:"severity"`
	Details  *vapi.Message `json:"details,omitempty"`
}

// SupervisorCondition is supervisors.Conditions.Condition.
type SupervisorCondition struct {
	Type               string             `json:"type"`
	Description        vapi.Message       `json:"description"`
	Status             string             `json:"status"`
	LastTransitionTime *vapi.DateTime     `json:"last_transition_time,omitempty"`
	Reason             string             `json:"reason"`
	Severity           string             `json:"severity"`
	Messages           []ConditionMessage `json:"messages"`
}

// TopologyInfo is supervisors.Topology.Info.
type TopologyInfo struct {
	Zone     string   `json:"zone"`
	Clusters []string `json:"clusters"`
}
