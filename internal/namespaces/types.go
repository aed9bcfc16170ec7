package namespaces

import (
	"strings"

	"github.com/wcpd/wcpd/internal/vapi"
)

// The enums of the namespaces package, spelled as the API spells them.

// SubjectType is namespaces.Access.SubjectType.
type SubjectType string

// Subject types.
const (
	SubjectUser  SubjectType = "USER"
	SubjectGroup SubjectType = "GROUP"
)

// EnumValues lists the accepted values.
func (SubjectType) EnumValues() []string { return []string{string(SubjectUser), string(SubjectGroup)} }

// Role is namespaces.Access.Role.
type Role string

// Namespace roles, weakest first.
const (
	RoleView  Role = "VIEW"
	RoleEdit  Role = "EDIT"
	RoleOwner Role = "OWNER"
)

// EnumValues lists the accepted values.
func (Role) EnumValues() []string {
	return []string{string(RoleOwner), string(RoleEdit), string(RoleView)}
}

// rank orders roles so that a stronger role includes what a weaker one allows.
func (r Role) rank() int {
	switch r {
	case RoleView:
		return 1
	case RoleEdit:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// NetworkProvider is namespaces.Instances.NetworkProvider.
type NetworkProvider string

// EnumValues lists the accepted values.
func (NetworkProvider) EnumValues() []string {
	return []string{"NSXT_CONTAINER_PLUGIN", "VSPHERE_NETWORK"}
}

// LoadBalancerSize is namespaces.Instances.LoadBalancerSize.
type LoadBalancerSize string

// EnumValues lists the accepted values.
func (LoadBalancerSize) EnumValues() []string { return []string{"SMALL", "MEDIUM", "LARGE"} }

// Config statuses of a namespace (namespaces.Instances.ConfigStatus).
const (
	StatusConfiguring = "CONFIGURING"
	StatusRunning     = "RUNNING"
	StatusRemoving    = "REMOVING"
	StatusError       = "ERROR"
)

// Access is namespaces.Instances.Access: one subject's role on a namespace.
type Access struct {
	SubjectType      SubjectType `json:"subject_type"`
	Subject          string      `json:"subject"`
	Domain           string      `json:"domain"`
	Role             Role        `json:"role"`
	IdentityProvider *string     `json:"identity_provider,omitempty"`
}

// sameSubject reports whether a and b name the same principal (names compare without case, as
// the identity source does).
func (a Access) sameSubject(typ SubjectType, domain, subject string) bool {
	return a.SubjectType == typ && strings.EqualFold(a.Domain, domain) && strings.EqualFold(a.Subject, subject)
}

// Principal is namespaces.Instances.Principal (the creator of a namespace).
type Principal struct {
	Subject string `json:"subject"`
	Domain  string `json:"domain"`
}

// StorageSpec is namespaces.Instances.StorageSpec; Limit is in MiB.
type StorageSpec struct {
	Policy string `json:"policy"`
	Limit  *int64 `json:"limit,omitempty"`
}

// VMServiceSpec is namespaces.Instances.VMServiceSpec. Both members are sets.
type VMServiceSpec struct {
	ContentLibraries []string `json:"content_libraries,omitempty"`
	VMClasses        []string `json:"vm_classes,omitempty"`
}

// ContentLibrarySpec is namespaces.Instances.ContentLibrarySpec.
type ContentLibrarySpec struct {
	ContentLibrary string `json:"content_library"`
	Writable       *bool  `json:"writable,omitempty"`
	// AllowImport and ResourceNamingStrategy were added after 8.0U2 (vSphere 9.0). Clients built
	// for 9.0, govmomi among them, send them on every request, so they are accepted; wcpd serves
	// 8.0U2 and neither stores nor reports them.
	AllowImport            *bool   `json:"allow_import,omitempty"`
	ResourceNamingStrategy *string `json:"resource_naming_strategy,omitempty"`
}

// Validate checks the 9.0 naming strategy against its enum (the empty string is how govmomi
// sends "unset").
func (s ContentLibrarySpec) Validate(path string, errs *vapi.FieldErrors) {
	if s.ResourceNamingStrategy != nil {
		switch *s.ResourceNamingStrategy {
		case "", "FROM_ITEM_ID", "PREFER_ITEM_SOURCE_ID":
		default:
			errs.Add(path+".resource_naming_strategy", *s.ResourceNamingStrategy, "must be one of FROM_ITEM_ID, PREFER_ITEM_SOURCE_ID")
		}
	}
}

// Ipv4Cidr is namespaces.Instances.Ipv4Cidr.
type Ipv4Cidr struct {
	Address string `json:"address"`
	Prefix  int64  `json:"prefix"`
}

// NsxNetworkCreateSpec is namespaces.Instances.NsxNetworkCreateSpec.
type NsxNetworkCreateSpec struct {
	NamespaceNetworkCidrs []Ipv4Cidr        `json:"namespace_network_cidrs,omitempty"`
	IngressCidrs          []Ipv4Cidr        `json:"ingress_cidrs,omitempty"`
	EgressCidrs           []Ipv4Cidr        `json:"egress_cidrs,omitempty"`
	NsxTier0Gateway       *string           `json:"nsx_tier0_gateway,omitempty"`
	SubnetPrefixLength    *int64            `json:"subnet_prefix_length,omitempty"`
	RoutedMode            *bool             `json:"routed_mode,omitempty"`
	LoadBalancerSize      *LoadBalancerSize `json:"load_balancer_size,omitempty"`
}

// NetworkCreateSpec is namespaces.Instances.NetworkCreateSpec, a union on network_provider.
type NetworkCreateSpec struct {
	NetworkProvider NetworkProvider       `json:"network_provider"`
	Network         *NsxNetworkCreateSpec `json:"network,omitempty"`
}

// Validate checks the union: NSX needs its network spec, vSphere networking takes none.
func (s NetworkCreateSpec) Validate(path string, errs *vapi.FieldErrors) {
	switch s.NetworkProvider {
	case "NSXT_CONTAINER_PLUGIN":
		if s.Network == nil {
			errs.Missing(path + ".network")
		}
	case "VSPHERE_NETWORK":
		if s.Network != nil {
			errs.Add(path+".network", "{...}", "is only allowed when network_provider is NSXT_CONTAINER_PLUGIN")
		}
	}
}

// CreateSpec is namespaces.Instances.CreateSpec.
type CreateSpec struct {
	Cluster          string               `json:"cluster"`
	Namespace        string               `json:"namespace"`
	Description      *string              `json:"description,omitempty"`
	ResourceSpec     *ResourceQuota       `json:"resource_spec,omitempty"`
	AccessList       []Access             `json:"access_list,omitempty"`
	StorageSpecs     []StorageSpec        `json:"storage_specs,omitempty"`
	Networks         []string             `json:"networks,omitempty"`
	VMServiceSpec    *VMServiceSpec       `json:"vm_service_spec,omitempty"`
	ContentLibraries []ContentLibrarySpec `json:"content_libraries,omitempty"`
	Creator          *Principal           `json:"creator,omitempty"`
	NamespaceNetwork *NetworkCreateSpec   `json:"namespace_network,omitempty"`
}

// CreateSpecV2 is namespaces.Instances.CreateSpecV2: the Supervisor instead of the cluster.
type CreateSpecV2 struct {
	Supervisor       string               `json:"supervisor"`
	Namespace        string               `json:"namespace"`
	Description      *string              `json:"description,omitempty"`
	ResourceSpec     *ResourceQuota       `json:"resource_spec,omitempty"`
	AccessList       []Access             `json:"access_list,omitempty"`
	StorageSpecs     []StorageSpec        `json:"storage_specs,omitempty"`
	Networks         []string             `json:"networks,omitempty"`
	VMServiceSpec    *VMServiceSpec       `json:"vm_service_spec,omitempty"`
	ContentLibraries []ContentLibrarySpec `json:"content_libraries,omitempty"`
	Creator          *Principal           `json:"creator,omitempty"`
	NamespaceNetwork *NetworkCreateSpec   `json:"namespace_network,omitempty"`
}

// SetSpec is namespaces.Instances.SetSpec: every field replaces the stored one, absent ones clear it.
type SetSpec struct {
	Description      *string              `json:"description,omitempty"`
	ResourceSpec     *ResourceQuota       `json:"resource_spec,omitempty"`
	AccessList       []Access             `json:"access_list,omitempty"`
	StorageSpecs     []StorageSpec        `json:"storage_specs,omitempty"`
	VMServiceSpec    *VMServiceSpec       `json:"vm_service_spec,omitempty"`
	ContentLibraries []ContentLibrarySpec `json:"content_libraries,omitempty"`
}

// UpdateSpec is namespaces.Instances.UpdateSpec: absent fields leave the stored ones as they are.
// Slices are pointers so that an empty list (clear) differs from an absent one (keep).
type UpdateSpec struct {
	Description      *string               `json:"description,omitempty"`
	ResourceSpec     *ResourceQuotaUpdate  `json:"resource_spec,omitempty"`
	AccessList       *[]Access             `json:"access_list,omitempty"`
	StorageSpecs     *[]StorageSpec        `json:"storage_specs,omitempty"`
	VMServiceSpec    *VMServiceSpec        `json:"vm_service_spec,omitempty"`
	ContentLibraries *[]ContentLibrarySpec `json:"content_libraries,omitempty"`
}

// AccessSpec is namespaces.Access.CreateSpec and SetSpec (the same two fields).
type AccessSpec struct {
	Role             Role    `json:"role"`
	IdentityProvider *string `json:"identity_provider,omitempty"`
}

// AccessInfo is namespaces.Access.Info.
type AccessInfo struct {
	Role             Role    `json:"role"`
	IdentityProvider *string `json:"identity_provider,omitempty"`
	Inherited        bool    `json:"inherited"`
}

// Stats is namespaces.Instances.Stats: CPU in MHz, memory and storage in MiB.
type Stats struct {
	CPUUsed     int64 `json:"cpu_used"`
	MemoryUsed  int64 `json:"memory_used"`
	StorageUsed int64 `json:"storage_used"`
}

// LocalizableMessage is vapi.std.LocalizableMessage.
type LocalizableMessage struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
}

// Message is namespaces.Instances.Message.
type Message struct {
	Severity string              `json:"severity"` // INFO, WARNING, ERROR
	Details  *LocalizableMessage `json:"details,omitempty"`
}

// vmServiceInfo is VMServiceSpec as reported: both sets always present.
type vmServiceInfo struct {
	ContentLibraries []string `json:"content_libraries"`
	VMClasses        []string `json:"vm_classes"`
}

// contentLibraryInfo is ContentLibrarySpec as reported.
type contentLibraryInfo struct {
	ContentLibrary string `json:"content_library"`
	Writable       bool   `json:"writable"`
}

// infoCommon holds the fields Info and InfoV2 share.
type infoCommon struct {
	ConfigStatus         string               `json:"config_status"`
	Messages             []Message            `json:"messages"`
	Stats                Stats                `json:"stats"`
	Description          string               `json:"description"`
	ResourceSpec         *ResourceQuota       `json:"resource_spec,omitempty"`
	AccessList           []Access             `json:"access_list"`
	StorageSpecs         []StorageSpec        `json:"storage_specs"`
	Networks             []string             `json:"networks,omitempty"`
	VMServiceSpec        *vmServiceInfo       `json:"vm_service_spec,omitempty"`
	ContentLibraries     []contentLibraryInfo `json:"content_libraries,omitempty"`
	Creator              *Principal           `json:"creator,omitempty"`
	SelfServiceNamespace bool                 `json:"self_service_namespace"`
}

// Info is namespaces.Instances.Info.
type Info struct {
	Cluster string `json:"cluster"`
	infoCommon
}

// InfoV2 is namespaces.Instances.InfoV2.
type InfoV2 struct {
	Supervisor string `json:"supervisor"`
	infoCommon
}

// Summary is namespaces.Instances.Summary.
type Summary struct {
	Cluster              string `json:"cluster"`
	Namespace            string `json:"namespace"`
	Description          string `json:"description"`
	ConfigStatus         string `json:"config_status"`
	Stats                Stats  `json:"stats"`
	SelfServiceNamespace bool   `json:"self_service_namespace"`
}

// SummaryV2 is namespaces.Instances.SummaryV2.
type SummaryV2 struct {
	Supervisor           string `json:"supervisor"`
	Namespace            string `json:"namespace"`
	Description          string `json:"description"`
	ConfigStatus         string `json:"config_status"`
	Stats                Stats  `json:"stats"`
	SelfServiceNamespace bool   `json:"self_service_namespace"`
}

// UserFilter is namespaces.user.Instances.FilterSpec.
type UserFilter struct {
	Username *string  `json:"username,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// UserSummary is namespaces.user.Instances.Summary.
type UserSummary struct {
	Namespace  string `json:"namespace"`
	MasterHost string `json:"master_host"`
}
