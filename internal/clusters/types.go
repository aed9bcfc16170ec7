package clusters

import "github.com/wcpd/wcpd/internal/vapi"

// Wire types of namespace_management, named after the reference (§6, §7). Input fields are
// required unless they are pointers or omitempty (the strict decoder's rule); a few fields the
// reference marks required are optional here because govmomi omits them when empty (noted where
// so), and semantic validation then requires them where they matter.

// SizingHint is namespace_management.SizingHint.
type SizingHint string

// EnumValues lists the sizes.
func (SizingHint) EnumValues() []string { return []string{"TINY", "SMALL", "MEDIUM", "LARGE"} }

// NetworkProvider is namespace_management.Clusters.NetworkProvider.
type NetworkProvider string

// The network providers.
const (
	ProviderNSX     NetworkProvider = "NSXT_CONTAINER_PLUGIN"
	ProviderVSphere NetworkProvider = "VSPHERE_NETWORK"
)

// EnumValues lists the providers.
func (NetworkProvider) EnumValues() []string {
	return []string{string(ProviderNSX), string(ProviderVSphere)}
}

// Ipv4Mode is namespace_management.Clusters.NetworkSpec.Ipv4Mode (and networks.IPAssignmentMode).
type Ipv4Mode string

// The address modes.
const (
	ModeDHCP        Ipv4Mode = "DHCP"
	ModeStaticRange Ipv4Mode = "STATICRANGE"
)

// EnumValues lists the modes.
func (Ipv4Mode) EnumValues() []string { return []string{string(ModeDHCP), string(ModeStaticRange)} }

// LBProvider is namespace_management.LoadBalancers.Provider.
type LBProvider string

// The load balancer providers.
const (
	LBHAProxy LBProvider = "HA_PROXY"
	LBAvi     LBProvider = "AVI"
)

// EnumValues lists the providers.
func (LBProvider) EnumValues() []string { return []string{string(LBHAProxy), string(LBAvi)} }

// ProxySource is namespace_management.ProxySettingsSource.
type ProxySource string

// EnumValues lists the sources.
func (ProxySource) EnumValues() []string {
	return []string{"VC_INHERITED", "CLUSTER_CONFIGURED", "NONE"}
}

// LoadBalancerSize is namespace_management.networks.LoadBalancerSize (also used by edges).
type LoadBalancerSize string

// EnumValues lists the sizes.
func (LoadBalancerSize) EnumValues() []string { return []string{"SMALL", "MEDIUM", "LARGE"} }

// Ipv4Cidr is namespace_management.Ipv4Cidr.
type Ipv4Cidr struct {
	Address string `json:"address"`
	Prefix  int64  `json:"prefix"`
}

// IPRange is namespace_management.IPRange (and networks.IPRange): count addresses from address.
type IPRange struct {
	Address string `json:"address"`
	Count   int64  `json:"count"`
}

// Ipv4Range is namespace_management.Clusters.Ipv4Range.
type Ipv4Range struct {
	StartingAddress string `json:"starting_address"`
	AddressCount    int64  `json:"address_count"`
	SubnetMask      string `json:"subnet_mask"`
	Gateway         string `json:"gateway"`
}

// NetworkSpec is namespace_management.Clusters.NetworkSpec (the management network).
type NetworkSpec struct {
	FloatingIP   *string    `json:"floating_IP,omitempty"`
	Network      string     `json:"network"`
	Mode         Ipv4Mode   `json:"mode"`
	AddressRange *Ipv4Range `json:"address_range,omitempty"`
}

// ImageStorageSpec is namespace_management.Clusters.ImageStorageSpec.
type ImageStorageSpec struct {
	StoragePolicy string `json:"storage_policy"`
}

// ImageRegistry is namespace_management.Clusters.ImageRegistry.
type ImageRegistry struct {
	Hostname string `json:"hostname"`
	Port     *int64 `json:"port,omitempty"`
}

// CNSFileConfig is namespace_management.CNSFileConfig.
type CNSFileConfig struct {
	VsanClusters []string `json:"vsan_clusters"`
}

// ProxyConfiguration is namespace_management.ProxyConfiguration.
type ProxyConfiguration struct {
	ProxySettingsSource ProxySource `json:"proxy_settings_source"`
	HTTPSProxyConfig    *string     `json:"https_proxy_config,omitempty"`
	HTTPProxyConfig     *string     `json:"http_proxy_config,omitempty"`
	NoProxyConfig       []string    `json:"no_proxy_config,omitempty"`
	TLSRootCABundle     *string     `json:"tls_root_ca_bundle,omitempty"`
}

// ContentLibrarySpec is namespace_management.Clusters.ContentLibrarySpec.
type ContentLibrarySpec struct {
	ContentLibrary string `json:"content_library"`
}

// NCPClusterNetworkEnableSpec is namespace_management.Clusters.NCPClusterNetworkEnableSpec.
type NCPClusterNetworkEnableSpec struct {
	PodCidrs                 []Ipv4Cidr `json:"pod_cidrs"`
	IngressCidrs             []Ipv4Cidr `json:"ingress_cidrs"`
	EgressCidrs              []Ipv4Cidr `json:"egress_cidrs"`
	ClusterDistributedSwitch *string    `json:"cluster_distributed_switch,omitempty"`
	NSXEdgeCluster           *string    `json:"nsx_edge_cluster,omitempty"`
	NSXTier0Gateway          *string    `json:"nsx_tier0_gateway,omitempty"`
	NamespaceSubnetPrefix    *int64     `json:"namespace_subnet_prefix,omitempty"`
	RoutedMode               *bool      `json:"routed_mode,omitempty"`
}

// NCPClusterNetworkSetSpec is namespace_management.Clusters.NCPClusterNetworkSetSpec.
type NCPClusterNetworkSetSpec struct {
	PodCidrs                     []Ipv4Cidr `json:"pod_cidrs"`
	IngressCidrs                 []Ipv4Cidr `json:"ingress_cidrs"`
	EgressCidrs                  []Ipv4Cidr `json:"egress_cidrs"`
	DefaultIngressTLSCertificate string     `json:"default_ingress_tls_certificate"`
}

// NCPClusterNetworkUpdateSpec is namespace_management.Clusters.NCPClusterNetworkUpdateSpec.
type NCPClusterNetworkUpdateSpec struct {
	PodCidrs                     []Ipv4Cidr `json:"pod_cidrs,omitempty"`
	IngressCidrs                 []Ipv4Cidr `json:"ingress_cidrs,omitempty"`
	EgressCidrs                  []Ipv4Cidr `json:"egress_cidrs,omitempty"`
	DefaultIngressTLSCertificate *string    `json:"default_ingress_tls_certificate,omitempty"`
}

// NCPClusterNetworkInfo is namespace_management.Clusters.NCPClusterNetworkInfo.
type NCPClusterNetworkInfo struct {
	PodCidrs                     []Ipv4Cidr `json:"pod_cidrs"`
	IngressCidrs                 []Ipv4Cidr `json:"ingress_cidrs"`
	EgressCidrs                  []Ipv4Cidr `json:"egress_cidrs"`
	ClusterDistributedSwitch     string     `json:"cluster_distributed_switch"`
	NSXEdgeCluster               string     `json:"nsx_edge_cluster"`
	DefaultIngressTLSCertificate string     `json:"default_ingress_tls_certificate"`
	NSXTier0Gateway              *string    `json:"nsx_tier0_gateway,omitempty"`
	NamespaceSubnetPrefix        *int64     `json:"namespace_subnet_prefix,omitempty"`
	RoutedMode                   *bool      `json:"routed_mode,omitempty"`
}

// VsphereDVPGNetworkCreateSpec is namespace_management.Networks.VsphereDVPGNetworkCreateSpec.
// address_ranges, gateway and subnet_mask are optional on the wire because govmomi omits them when
// empty (as it does for DHCP); validation requires them for static ranges.
type VsphereDVPGNetworkCreateSpec struct {
	Portgroup        string    `json:"portgroup"`
	IPAssignmentMode *Ipv4Mode `json:"ip_assignment_mode,omitempty"`
	AddressRanges    []IPRange `json:"address_ranges,omitempty"`
	Gateway          string    `json:"gateway,omitempty"`
	SubnetMask       string    `json:"subnet_mask,omitempty"`
}

// VsphereDVPGNetworkInfo is namespace_management.Networks.VsphereDVPGNetworkInfo.
type VsphereDVPGNetworkInfo struct {
	Portgroup        string    `json:"portgroup"`
	IPAssignmentMode *Ipv4Mode `json:"ip_assignment_mode,omitempty"`
	AddressRanges    []IPRange `json:"address_ranges"`
	Gateway          string    `json:"gateway"`
	SubnetMask       string    `json:"subnet_mask"`
}

// VsphereDVPGNetworkSetSpec is namespace_management.Networks.VsphereDVPGNetworkSetSpec (address
// fields optional on the wire for the same reason as the create spec).
type VsphereDVPGNetworkSetSpec struct {
	Portgroup     string    `json:"portgroup"`
	AddressRanges []IPRange `json:"address_ranges,omitempty"`
	Gateway       string    `json:"gateway,omitempty"`
	SubnetMask    string    `json:"subnet_mask,omitempty"`
}

// VsphereDVPGNetworkUpdateSpec is namespace_management.Networks.VsphereDVPGNetworkUpdateSpec.
type VsphereDVPGNetworkUpdateSpec struct {
	Portgroup     *string   `json:"portgroup,omitempty"`
	AddressRanges []IPRange `json:"address_ranges,omitempty"`
	Gateway       *string   `json:"gateway,omitempty"`
	SubnetMask    *string   `json:"subnet_mask,omitempty"`
}

// NsxNetworkCreateSpec is namespace_management.Networks.NsxNetworkCreateSpec. load_balancer_size is
// a plain string because govmomi's older NsxNetwork type always sends it, empty when unset.
type NsxNetworkCreateSpec struct {
	NamespaceNetworkCidrs []Ipv4Cidr `json:"namespace_network_cidrs,omitempty"`
	IngressCidrs          []Ipv4Cidr `json:"ingress_cidrs,omitempty"`
	EgressCidrs           []Ipv4Cidr `json:"egress_cidrs,omitempty"`
	NSXTier0Gateway       *string    `json:"nsx_tier0_gateway,omitempty"`
	SubnetPrefixLength    *int64     `json:"subnet_prefix_length,omitempty"`
	RoutedMode            *bool      `json:"routed_mode,omitempty"`
	LoadBalancerSize      *string    `json:"load_balancer_size,omitempty"`
}

// NsxNetworkInfo is namespace_management.Networks.NsxNetworkInfo: the same fields as the create spec.
type NsxNetworkInfo NsxNetworkCreateSpec

// NsxNetworkSetSpec is namespace_management.Networks.NsxNetworkSetSpec (and the update spec, which
// has the same optional fields).
type NsxNetworkSetSpec struct {
	NamespaceNetworkCidrs []Ipv4Cidr `json:"namespace_network_cidrs,omitempty"`
	IngressCidrs          []Ipv4Cidr `json:"ingress_cidrs,omitempty"`
	EgressCidrs           []Ipv4Cidr `json:"egress_cidrs,omitempty"`
}

// NetworksCreateSpec is namespace_management.Networks.CreateSpec.
type NetworksCreateSpec struct {
	Network         string                        `json:"network"`
	NetworkProvider NetworkProvider               `json:"network_provider"`
	VsphereNetwork  *VsphereDVPGNetworkCreateSpec `json:"vsphere_network,omitempty"`
	NsxNetwork      *NsxNetworkCreateSpec         `json:"nsx_network,omitempty"`
}

// NetworksSetSpec is namespace_management.Networks.SetSpec.
type NetworksSetSpec struct {
	NetworkProvider NetworkProvider            `json:"network_provider"`
	VsphereNetwork  *VsphereDVPGNetworkSetSpec `json:"vsphere_network,omitempty"`
	NsxNetwork      *NsxNetworkSetSpec         `json:"nsx_network,omitempty"`
}

// NetworksUpdateSpec is namespace_management.Networks.UpdateSpec.
type NetworksUpdateSpec struct {
	NetworkProvider NetworkProvider               `json:"network_provider"`
	VsphereNetwork  *VsphereDVPGNetworkUpdateSpec `json:"vsphere_network,omitempty"`
	NsxNetwork      *NsxNetworkSetSpec            `json:"nsx_network,omitempty"`
}

// NetworksInfo is namespace_management.Networks.Info.
type NetworksInfo struct {
	Network         string                  `json:"network"`
	NetworkProvider NetworkProvider         `json:"network_provider"`
	VsphereNetwork  *VsphereDVPGNetworkInfo `json:"vsphere_network,omitempty"`
	NsxNetwork      *NsxNetworkInfo         `json:"nsx_network,omitempty"`
	Namespaces      []string                `json:"namespaces,omitempty"`
}

// WorkloadNetworksEnableSpec is namespace_management.Clusters.WorkloadNetworksEnableSpec.
type WorkloadNetworksEnableSpec struct {
	SupervisorPrimaryWorkloadNetwork NetworksCreateSpec   `json:"supervisor_primary_workload_network"`
	NetworkList                      []NetworksCreateSpec `json:"network_list,omitempty"`
}

// WorkloadNetworksInfo is namespace_management.Clusters.WorkloadNetworksInfo.
type WorkloadNetworksInfo struct {
	SupervisorPrimaryWorkloadNetwork NetworksInfo   `json:"supervisor_primary_workload_network"`
	NetworkList                      []NetworksInfo `json:"network_list,omitempty"`
}

// LBServer is namespace_management.LoadBalancers.Server (and networks.edges.Server).
type LBServer struct {
	Host string `json:"host"`
	Port int64  `json:"port"`
}

// HAProxyConfigCreateSpec is namespace_management.LoadBalancers.HAProxyConfigCreateSpec (and the
// set spec, which has the same fields).
type HAProxyConfigCreateSpec struct {
	Servers                   []LBServer `json:"servers"`
	Username                  string     `json:"username"`
	Password                  string     `json:"password"`
	CertificateAuthorityChain string     `json:"certificate_authority_chain"`
}

// AviConfigCreateSpec is namespace_management.LoadBalancers.AviConfigCreateSpec (and set spec).
type AviConfigCreateSpec struct {
	Server                    LBServer `json:"server"`
	Username                  string   `json:"username"`
	Password                  string   `json:"password"`
	CertificateAuthorityChain string   `json:"certificate_authority_chain"`
}

// LBConfigUpdateSpec is LoadBalancers.HAProxyConfigUpdateSpec and AviConfigUpdateSpec.
type LBConfigUpdateSpec struct {
	Username                  *string `json:"username,omitempty"`
	Password                  *string `json:"password,omitempty"`
	CertificateAuthorityChain *string `json:"certificate_authority_chain,omitempty"`
}

// LoadBalancerConfigSpec is namespace_management.LoadBalancers.ConfigSpec. address_ranges is
// optional on the wire: govmomi omits it when empty (vSphere 7.0U2 moved virtual server ranges to
// the workload network).
type LoadBalancerConfigSpec struct {
	ID                      string                   `json:"id"`
	AddressRanges           []IPRange                `json:"address_ranges,omitempty"`
	Provider                LBProvider               `json:"provider"`
	HAProxyConfigCreateSpec *HAProxyConfigCreateSpec `json:"ha_proxy_config_create_spec,omitempty"`
	AviConfigCreateSpec     *AviConfigCreateSpec     `json:"avi_config_create_spec,omitempty"`
}

// LoadBalancerSetSpec is namespace_management.LoadBalancers.SetSpec.
type LoadBalancerSetSpec struct {
	AddressRanges        []IPRange                `json:"address_ranges"`
	Provider             LBProvider               `json:"provider"`
	HAProxyConfigSetSpec *HAProxyConfigCreateSpec `json:"ha_proxy_config_set_spec,omitempty"`
	AviConfigSetSpec     *AviConfigCreateSpec     `json:"avi_config_set_spec,omitempty"`
}

// LoadBalancerUpdateSpec is namespace_management.LoadBalancers.UpdateSpec.
type LoadBalancerUpdateSpec struct {
	AddressRanges           []IPRange           `json:"address_ranges,omitempty"`
	Provider                *LBProvider         `json:"provider,omitempty"`
	HAProxyConfigUpdateSpec *LBConfigUpdateSpec `json:"ha_proxy_config_update_spec,omitempty"`
	AviConfigUpdateSpec     *LBConfigUpdateSpec `json:"avi_config_update_spec,omitempty"`
}

// HAProxyInfo is namespace_management.LoadBalancers.HAProxyInfo.
type HAProxyInfo struct {
	Servers                   []LBServer `json:"servers"`
	Username                  string     `json:"username"`
	CertificateAuthorityChain string     `json:"certificate_authority_chain"`
}

// AviInfo is namespace_management.LoadBalancers.AviInfo.
type AviInfo struct {
	Server                    LBServer `json:"server"`
	Username                  string   `json:"username"`
	CertificateAuthorityChain string   `json:"certificate_authority_chain"`
}

// LoadBalancerInfo is namespace_management.LoadBalancers.Info.
type LoadBalancerInfo struct {
	ID            string       `json:"id"`
	AddressRanges []IPRange    `json:"address_ranges"`
	Provider      LBProvider   `json:"provider"`
	HAProxyInfo   *HAProxyInfo `json:"ha_proxy_info,omitempty"`
	AviInfo       *AviInfo     `json:"avi_info,omitempty"`
}

// LoadBalancerSummary is namespace_management.LoadBalancers.Summary.
type LoadBalancerSummary struct {
	ID       string     `json:"id"`
	Provider LBProvider `json:"provider"`
}

// EnableSpec is namespace_management.Clusters.EnableSpec. It is also the canonical configuration
// every Supervisor is stored with: the 8.0 enable specs are converted into it.
type EnableSpec struct {
	SizeHint                               SizingHint                   `json:"size_hint"`
	ServiceCidr                            Ipv4Cidr                     `json:"service_cidr"`
	NetworkProvider                        NetworkProvider              `json:"network_provider"`
	NCPClusterNetworkSpec                  *NCPClusterNetworkEnableSpec `json:"ncp_cluster_network_spec,omitempty"`
	WorkloadNetworksSpec                   *WorkloadNetworksEnableSpec  `json:"workload_networks_spec,omitempty"`
	WorkloadNTPServers                     []string                     `json:"workload_ntp_servers,omitempty"`
	LoadBalancerConfigSpec                 *LoadBalancerConfigSpec      `json:"load_balancer_config_spec,omitempty"`
	MasterManagementNetwork                NetworkSpec                  `json:"master_management_network"`
	MasterDNS                              []string                     `json:"master_DNS,omitempty"`
	WorkerDNS                              []string                     `json:"worker_DNS,omitempty"`
	MasterDNSSearchDomains                 []string                     `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       []string                     `json:"master_NTP_servers,omitempty"`
	MasterStoragePolicy                    string                       `json:"master_storage_policy"`
	EphemeralStoragePolicy                 string                       `json:"ephemeral_storage_policy"`
	CNSFileConfig                          *CNSFileConfig               `json:"cns_file_config,omitempty"`
	LoginBanner                            *string                      `json:"login_banner,omitempty"`
	MasterDNSNames                         []string                     `json:"Master_DNS_names,omitempty"`
	ImageStorage                           ImageStorageSpec             `json:"image_storage"`
	DefaultImageRegistry                   *ImageRegistry               `json:"default_image_registry,omitempty"`
	DefaultImageRepository                 *string                      `json:"default_image_repository,omitempty"`
	DefaultKubernetesServiceContentLibrary *string                      `json:"default_kubernetes_service_content_library,omitempty"`
	ClusterProxyConfig                     *ProxyConfiguration          `json:"cluster_proxy_config,omitempty"`
	ContentLibraries                       []ContentLibrarySpec         `json:"content_libraries,omitempty"`
}

// SetSpec is namespace_management.Clusters.SetSpec: it replaces the mutable configuration.
type SetSpec struct {
	SizeHint                               SizingHint                `json:"size_hint"`
	FloatingIP                             *string                   `json:"floating_IP,omitempty"`
	NetworkProvider                        NetworkProvider           `json:"network_provider"`
	NCPClusterNetworkSpec                  *NCPClusterNetworkSetSpec `json:"ncp_cluster_network_spec,omitempty"`
	MasterDNS                              []string                  `json:"master_DNS,omitempty"`
	WorkerDNS                              []string                  `json:"worker_DNS,omitempty"`
	MasterDNSSearchDomains                 []string                  `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       []string                  `json:"master_NTP_servers,omitempty"`
	MasterStoragePolicy                    string                    `json:"master_storage_policy"`
	EphemeralStoragePolicy                 string                    `json:"ephemeral_storage_policy"`
	CNSFileConfig                          *CNSFileConfig            `json:"cns_file_config,omitempty"`
	LoginBanner                            *string                   `json:"login_banner,omitempty"`
	ImageStorage                           ImageStorageSpec          `json:"image_storage"`
	DefaultImageRegistry                   *ImageRegistry            `json:"default_image_registry,omitempty"`
	DefaultImageRepository                 *string                   `json:"default_image_repository,omitempty"`
	DefaultKubernetesServiceContentLibrary *string                   `json:"default_kubernetes_service_content_library,omitempty"`
	WorkloadNTPServers                     []string                  `json:"workload_ntp_servers,omitempty"`
	ClusterProxyConfig                     *ProxyConfiguration       `json:"cluster_proxy_config,omitempty"`
	ContentLibraries                       []ContentLibrarySpec      `json:"content_libraries,omitempty"`
}

// UpdateSpec is namespace_management.Clusters.UpdateSpec: it changes only what it names.
type UpdateSpec struct {
	SizeHint                               *SizingHint                  `json:"size_hint,omitempty"`
	FloatingIP                             *string                      `json:"floating_IP,omitempty"`
	NetworkProvider                        *NetworkProvider             `json:"network_provider,omitempty"`
	NCPClusterNetworkSpec                  *NCPClusterNetworkUpdateSpec `json:"ncp_cluster_network_spec,omitempty"`
	MasterDNS                              *[]string                    `json:"master_DNS,omitempty"`
	WorkerDNS                              *[]string                    `json:"worker_DNS,omitempty"`
	MasterDNSSearchDomains                 *[]string                    `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       *[]string                    `json:"master_NTP_servers,omitempty"`
	MasterStoragePolicy                    *string                      `json:"master_storage_policy,omitempty"`
	EphemeralStoragePolicy                 *string                      `json:"ephemeral_storage_policy,omitempty"`
	CNSFileConfig                          *CNSFileConfig               `json:"cns_file_config,omitempty"`
	LoginBanner                            *string                      `json:"login_banner,omitempty"`
	ImageStorage                           *ImageStorageSpec            `json:"image_storage,omitempty"`
	DefaultImageRegistry                   *ImageRegistry               `json:"default_image_registry,omitempty"`
	DefaultImageRepository                 *string                      `json:"default_image_repository,omitempty"`
	TLSEndpointCertificate                 *string                      `json:"tls_endpoint_certificate,omitempty"`
	DefaultKubernetesServiceContentLibrary *string                      `json:"default_kubernetes_service_content_library,omitempty"`
	WorkloadNTPServers                     *[]string                    `json:"workload_ntp_servers,omitempty"`
	ClusterProxyConfig                     *ProxyConfiguration          `json:"cluster_proxy_config,omitempty"`
	ContentLibraries                       *[]ContentLibrarySpec        `json:"content_libraries,omitempty"`
}

// Message is namespace_management.Clusters.Message.
type Message struct {
	Severity      string        `json:"severity"`
	Details       *vapi.Message `json:"details,omitempty"`
	KBArticleLink *string       `json:"kb_article_link,omitempty"`
	ID            *string       `json:"id,omitempty"`
}

// Stats is namespace_management.Clusters.Stats (and supervisors.Summary.Stats).
type Stats struct {
	CPUUsed         int64 `json:"cpu_used"`
	CPUCapacity     int64 `json:"cpu_capacity"`
	MemoryUsed      int64 `json:"memory_used"`
	MemoryCapacity  int64 `json:"memory_capacity"`
	StorageUsed     int64 `json:"storage_used"`
	StorageCapacity int64 `json:"storage_capacity"`
}

// Condition is namespace_management.Clusters.Condition.
type Condition struct {
	Type               string         `json:"type"`
	Description        vapi.Message   `json:"description"`
	Status             string         `json:"status"`
	LastTransitionTime *vapi.DateTime `json:"last_transition_time,omitempty"`
	Reason             string         `json:"reason"`
	Severity           string         `json:"severity"`
	Messages           []Message      `json:"messages"`
}

// Info is namespace_management.Clusters.Info.
type Info struct {
	SizeHint                               *SizingHint            `json:"size_hint,omitempty"`
	StatSummary                            Stats                  `json:"stat_summary"`
	ConfigStatus                           string                 `json:"config_status"`
	Conditions                             []Condition            `json:"conditions,omitempty"`
	Messages                               []Message              `json:"messages"`
	KubernetesStatus                       string                 `json:"kubernetes_status"`
	KubernetesStatusMessages               []Message              `json:"kubernetes_status_messages"`
	APIServerManagementEndpoint            string                 `json:"api_server_management_endpoint"`
	APIServerClusterEndpoint               string                 `json:"api_server_cluster_endpoint"`
	APIServers                             []string               `json:"api_servers"`
	TLSManagementEndpointCertificate       *string                `json:"tls_management_endpoint_certificate,omitempty"`
	TLSEndpointCertificate                 *string                `json:"tls_endpoint_certificate,omitempty"`
	NetworkProvider                        NetworkProvider        `json:"network_provider"`
	NCPClusterNetworkInfo                  *NCPClusterNetworkInfo `json:"ncp_cluster_network_info,omitempty"`
	WorkloadNetworks                       *WorkloadNetworksInfo  `json:"workload_networks,omitempty"`
	WorkloadNTPServers                     []string               `json:"workload_ntp_servers,omitempty"`
	LoadBalancers                          []LoadBalancerInfo     `json:"load_balancers,omitempty"`
	ServiceCidr                            Ipv4Cidr               `json:"service_cidr"`
	MasterManagementNetwork                *NetworkSpec           `json:"master_management_network,omitempty"`
	MasterDNS                              []string               `json:"master_DNS,omitempty"`
	WorkerDNS                              []string               `json:"worker_DNS,omitempty"`
	MasterStoragePolicy                    *string                `json:"master_storage_policy,omitempty"`
	EphemeralStoragePolicy                 *string                `json:"ephemeral_storage_policy,omitempty"`
	CNSFileConfig                          *CNSFileConfig         `json:"cns_file_config,omitempty"`
	LoginBanner                            *string                `json:"login_banner,omitempty"`
	MasterDNSNames                         []string               `json:"Master_DNS_names,omitempty"`
	ImageStorage                           *ImageStorageSpec      `json:"image_storage,omitempty"`
	DefaultImageRegistry                   *ImageRegistry         `json:"default_image_registry,omitempty"`
	DefaultImageRepository                 *string                `json:"default_image_repository,omitempty"`
	MasterDNSSearchDomains                 []string               `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       []string               `json:"master_NTP_servers,omitempty"`
	DefaultKubernetesServiceContentLibrary *string                `json:"default_kubernetes_service_content_library,omitempty"`
	ClusterProxyConfig                     *ProxyConfiguration    `json:"cluster_proxy_config,omitempty"`
	ContentLibraries                       []ContentLibrarySpec   `json:"content_libraries,omitempty"`
}

// Summary is namespace_management.Clusters.Summary.
type Summary struct {
	Cluster          string `json:"cluster"`
	ClusterName      string `json:"cluster_name"`
	Stats            Stats  `json:"stats"`
	ConfigStatus     string `json:"config_status"`
	KubernetesStatus string `json:"kubernetes_status"`
}
