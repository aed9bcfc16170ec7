package selfservice

import (
	"encoding/json"

	"github.com/wcpd/wcpd/internal/vapi"
)

// The wire types of the two services, named and spelled as the API names them. A template's
// namespace configuration (resource_spec, storage_specs, networks, vm_service_spec,
// content_libraries) is carried as the JSON it was given: the namespaces family decodes and checks
// it with its own types (platform.NamespaceConfigs), and its canonical form is what get reports.

// Capability is namespaces.NamespaceSelfService.Capability.
type Capability string

// Capabilities.
const (
	CapabilityUnknown      Capability = "UNKNOWN"
	CapabilitySupported    Capability = "SUPPORTED"
	CapabilityNotSupported Capability = "NOTSUPPORTED"
)

// Status is namespaces.NamespaceSelfService.Status. wcpd uses CONFIGURING, RUNNING and
// DEACTIVATED; REMOVING and ERROR are the API's too but nothing in wcpd leads to them.
type Status string

// Statuses.
const (
	StatusConfiguring Status = "CONFIGURING"
	StatusRunning     Status = "RUNNING"
	StatusDeactivated Status = "DEACTIVATED"
)

// SubjectType is namespaces.Access.SubjectType.
type SubjectType string

// Subject types.
const (
	SubjectUser  SubjectType = "USER"
	SubjectGroup SubjectType = "GROUP"
)

// EnumValues lists the accepted values.
func (SubjectType) EnumValues() []string { return []string{string(SubjectUser), string(SubjectGroup)} }

// Subject is namespaces.NamespaceTemplates.Subject: a user or group allowed to use a template.
type Subject struct {
	SubjectType SubjectType `json:"subject_type"`
	Subject     string      `json:"subject"`
	Domain      string      `json:"domain"`
}

// Message is namespaces.Instances.Message.
type Message struct {
	Severity string        `json:"severity"` // INFO, WARNING, ERROR
	Details  *vapi.Message `json:"details,omitempty"`
}

// Info is namespaces.NamespaceSelfService.Info.
type Info struct {
	Cluster    string     `json:"cluster"`
	Capability Capability `json:"capability"`
	Status     Status     `json:"status"`
	Messages   []Message  `json:"messages"`
}

// Summary is namespaces.NamespaceSelfService.Summary.
type Summary struct {
	Cluster    string     `json:"cluster"`
	Capability Capability `json:"capability"`
	Status     Status     `json:"status"`
}

// ActivateTemplateSpec is namespaces.NamespaceSelfService.ActivateTemplateSpec: the whole template,
// created or replaced.
type ActivateTemplateSpec struct {
	Template         string          `json:"template"`
	Permissions      []Subject       `json:"permissions"`
	ResourceSpec     json.RawMessage `json:"resource_spec"`
	StorageSpecs     json.RawMessage `json:"storage_specs"`
	Networks         json.RawMessage `json:"networks,omitempty"`
	VMServiceSpec    json.RawMessage `json:"vm_service_spec,omitempty"`
	ContentLibraries json.RawMessage `json:"content_libraries,omitempty"`
}

// CreateSpec is namespaces.NamespaceTemplates.CreateSpec.
type CreateSpec struct {
	Template         string          `json:"template"`
	ResourceSpec     json.RawMessage `json:"resource_spec"`
	StorageSpecs     json.RawMessage `json:"storage_specs"`
	Networks         json.RawMessage `json:"networks,omitempty"`
	Permissions      []Subject       `json:"permissions,omitempty"`
	VMServiceSpec    json.RawMessage `json:"vm_service_spec,omitempty"`
	ContentLibraries json.RawMessage `json:"content_libraries,omitempty"`
}

// UpdateSpec is namespaces.NamespaceTemplates.UpdateSpec: fields given replace the stored ones
// (resource_spec as a whole: it is a ResourceQuotaOptionsV1, which has no way to remove one limit),
// fields left out keep theirs. Permissions is a pointer so that an empty list (only administrators
// may use the template) differs from an absent one.
type UpdateSpec struct {
	ResourceSpec     json.RawMessage `json:"resource_spec,omitempty"`
	StorageSpecs     json.RawMessage `json:"storage_specs,omitempty"`
	Networks         json.RawMessage `json:"networks,omitempty"`
	Permissions      *[]Subject      `json:"permissions,omitempty"`
	VMServiceSpec    json.RawMessage `json:"vm_service_spec,omitempty"`
	ContentLibraries json.RawMessage `json:"content_libraries,omitempty"`
}

// templateFields are the fields Info and InfoV2 share.
type templateFields struct {
	Template         string          `json:"template"`
	ResourceSpec     json.RawMessage `json:"resource_spec,omitempty"`
	StorageSpecs     json.RawMessage `json:"storage_specs"`
	Networks         json.RawMessage `json:"networks,omitempty"`
	Permissions      []Subject       `json:"permissions,omitempty"`
	VMServiceSpec    json.RawMessage `json:"vm_service_spec,omitempty"`
	ContentLibraries json.RawMessage `json:"content_libraries,omitempty"`
}

// TemplateInfo is namespaces.NamespaceTemplates.Info.
type TemplateInfo struct {
	Cluster string `json:"cluster"`
	templateFields
}

// TemplateInfoV2 is namespaces.NamespaceTemplates.InfoV2.
type TemplateInfoV2 struct {
	Supervisor string `json:"supervisor"`
	templateFields
}

// TemplateSummary is namespaces.NamespaceTemplates.Summary.
type TemplateSummary struct {
	Cluster  string `json:"cluster"`
	Template string `json:"template"`
}

// TemplateSummaryV2 is namespaces.NamespaceTemplates.SummaryV2.
type TemplateSummaryV2 struct {
	Supervisor string `json:"supervisor"`
	Template   string `json:"template"`
}
