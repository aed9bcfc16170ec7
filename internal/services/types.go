package services

import (
	"github.com/wcpd/wcpd/internal/vapi"
)

// States of a Supervisor Service and of a version, as the API spells them.
const (
	stateActivated   = "ACTIVATED"
	stateDeactivated = "DEACTIVATED"
)

// Content types of a version (Versions.ContentType).
const (
	contentVsphere = "VSPHERE_APPS_YAML"
	contentCarvel  = "CARVEL_APPS_YAML"
	contentCustom  = "CUSTOM_YAML"
)

// Validation statuses of check_content (SupervisorServices.ValidationStatus).
const (
	validationValid        = "VALID"
	validationWithWarnings = "VALID_WITH_WARNINGS"
	validationInvalid      = "INVALID"
)

// Config statuses of a Supervisor Service on a Supervisor (ClusterSupervisorServices.ConfigStatus).
const (
	installConfiguring = "CONFIGURING"
	installConfigured  = "CONFIGURED"
	installRemoving    = "REMOVING"
	installError       = "ERROR"
)

// Message severities of ClusterSupervisorServices.Message.
const (
	severityInfo    = "INFO"
	severityWarning = "WARNING"
	severityError   = "ERROR"
)

// --- supervisor_services inputs ---

// serviceCreateSpec is SupervisorServices.CreateSpec: exactly one of the three forms.
type serviceCreateSpec struct {
	CustomSpec  *serviceCustomSpec  `json:"custom_spec,omitempty"`
	VsphereSpec *serviceVsphereSpec `json:"vsphere_spec,omitempty"`
	CarvelSpec  *serviceCarvelSpec  `json:"carvel_spec,omitempty"`
}

func (s *serviceCreateSpec) Validate(path string, errs *vapi.FieldErrors) {
	exactlyOne(path, errs, s.CustomSpec != nil, s.VsphereSpec != nil, s.CarvelSpec != nil)
}

// serviceCustomSpec is SupervisorServices.CustomCreateSpec: plain Kubernetes YAML whose service id,
// names and version come from the spec, not from the content.
type serviceCustomSpec struct {
	SupervisorService string            `json:"supervisor_service"`
	DisplayName       string            `json:"display_name"`
	Description       *string           `json:"description,omitempty"`
	VersionSpec       versionCustomSpec `json:"version_spec"`
}

// serviceVsphereSpec is SupervisorServices.VsphereCreateSpec.
type serviceVsphereSpec struct {
	VersionSpec versionVsphereSpec `json:"version_spec"`
}

// serviceCarvelSpec is SupervisorServices.CarvelCreateSpec.
type serviceCarvelSpec struct {
	VersionSpec versionCarvelSpec `json:"version_spec"`
}

// serviceUpdateSpec is SupervisorServices.UpdateSpec.
type serviceUpdateSpec struct {
	DisplayName *string `json:"display_name,omitempty"`
	Description *string `json:"description,omitempty"`
}

func (s *serviceUpdateSpec) Validate(path string, errs *vapi.FieldErrors) {
	if s.DisplayName != nil && *s.DisplayName == "" {
		errs.Add(path+".display_name", "", "must not be empty")
	}
}

// contentCheckSpec is SupervisorServices.ContentCheckSpec.
type contentCheckSpec struct {
	Content *string `json:"content,omitempty"`
}

// --- versions inputs ---

// versionCreateSpec is Versions.CreateSpec: exactly one of the three forms.
type versionCreateSpec struct {
	CustomSpec  *versionCustomSpec  `json:"custom_spec,omitempty"`
	VsphereSpec *versionVsphereSpec `json:"vsphere_spec,omitempty"`
	CarvelSpec  *versionCarvelSpec  `json:"carvel_spec,omitempty"`
}

func (s *versionCreateSpec) Validate(path string, errs *vapi.FieldErrors) {
	exactlyOne(path, errs, s.CustomSpec != nil, s.VsphereSpec != nil, s.CarvelSpec != nil)
}

// versionCustomSpec is Versions.CustomCreateSpec.
type versionCustomSpec struct {
	Version         string  `json:"version"`
	DisplayName     string  `json:"display_name"`
	Description     *string `json:"description,omitempty"`
	Content         string  `json:"content"`
	TrustedProvider *bool   `json:"trusted_provider,omitempty"`
}

// versionVsphereSpec is Versions.VsphereCreateSpec.
type versionVsphereSpec struct {
	Content         string `json:"content"`
	TrustedProvider *bool  `json:"trusted_provider,omitempty"`
	AcceptEULA      *bool  `json:"accept_EULA,omitempty" vapi:"alias=accept_eula"`
}

// versionCarvelSpec is Versions.CarvelCreateSpec. Carvel packages carry no trusted_provider flag:
// a signature is checked when present and reported in trust_verified.
type versionCarvelSpec struct {
	Content string `json:"content"`
}

func exactlyOne(path string, errs *vapi.FieldErrors, custom, vsphere, carvel bool) {
	var set []string
	for name, on := range map[string]bool{"custom_spec": custom, "vsphere_spec": vsphere, "carvel_spec": carvel} {
		if on {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		value := "none"
		if len(set) > 1 {
			value = "several"
		}
		errs.Add(path, value, "exactly one of custom_spec, vsphere_spec and carvel_spec must be set")
	}
}

// --- cluster_supervisor_services inputs ---

// installCreateSpec is ClusterSupervisorServices.CreateSpec.
type installCreateSpec struct {
	SupervisorService string            `json:"supervisor_service"`
	Version           string            `json:"version"`
	ServiceConfig     map[string]string `json:"service_config,omitempty"`
	YAMLServiceConfig *string           `json:"yaml_service_config,omitempty"`
}

// installSetSpec is ClusterSupervisorServices.SetSpec; it replaces the whole configuration.
type installSetSpec struct {
	Version           string            `json:"version"`
	ServiceConfig     map[string]string `json:"service_config,omitempty"`
	YAMLServiceConfig *string           `json:"yaml_service_config,omitempty"`
}

// --- outputs ---

// serviceSummary is SupervisorServices.Summary.
type serviceSummary struct {
	SupervisorService string `json:"supervisor_service"`
	DisplayName       string `json:"display_name"`
	State             string `json:"state"`
}

// serviceInfo is SupervisorServices.Info, with the two fields vSphere 8.0U3 added.
type serviceInfo struct {
	DisplayName                  string  `json:"display_name"`
	State                        string  `json:"state"`
	Description                  *string `json:"description,omitempty"`
	HasDefaultVersionsRegistered bool    `json:"has_default_versions_registered"`
	MustBeInstalled              bool    `json:"must_be_installed"`
}

// versionSummary is Versions.Summary.
type versionSummary struct {
	Version     string  `json:"version"`
	DisplayName string  `json:"display_name"`
	State       string  `json:"state"`
	Description *string `json:"description,omitempty"`
}

// versionInfo is Versions.Info, with registered_by_default that vSphere 8.0U3 added.
type versionInfo struct {
	DisplayName         string  `json:"display_name"`
	Description         *string `json:"description,omitempty"`
	EULA                *string `json:"EULA,omitempty"`
	ContentType         string  `json:"content_type"`
	Content             *string `json:"content,omitempty"`
	TrustVerified       bool    `json:"trust_verified"`
	State               string  `json:"state"`
	RegisteredByDefault bool    `json:"registered_by_default"`
}

// checkResult is SupervisorServices.CheckResult.
type checkResult struct {
	Status                 string             `json:"status"`
	ContentType            *string            `json:"content_type,omitempty"`
	VsphereAppsCheckResult *vsphereAppsResult `json:"vsphere_apps_check_result,omitempty"`
	CarvelAppsCheckResult  *carvelAppsResult  `json:"carvel_apps_check_result,omitempty"`
	WarningMessages        []vapi.Message     `json:"warning_messages,omitempty"`
	ErrorMessages          []vapi.Message     `json:"error_messages,omitempty"`
}

// vsphereAppsResult is SupervisorServices.VsphereAppsCheckResult.
type vsphereAppsResult struct {
	SupervisorService string  `json:"supervisor_service"`
	Version           string  `json:"version"`
	DisplayName       string  `json:"display_name"`
	Description       *string `json:"description,omitempty"`
	EULA              *string `json:"eula,omitempty"`
}

// carvelAppsResult is SupervisorServices.CarvelAppsCheckResult.
type carvelAppsResult struct {
	SupervisorService string  `json:"supervisor_service"`
	Version           string  `json:"version"`
	DisplayName       string  `json:"display_name"`
	Description       *string `json:"description,omitempty"`
}

// installSummary is ClusterSupervisorServices.Summary.
type installSummary struct {
	SupervisorService string  `json:"supervisor_service"`
	DesiredVersion    string  `json:"desired_version"`
	ConfigStatus      string  `json:"config_status"`
	CurrentVersion    *string `json:"current_version,omitempty"`
}

// installInfo is ClusterSupervisorServices.Info.
type installInfo struct {
	DesiredVersion    string               `json:"desired_version"`
	ServiceNamespace  *string              `json:"service_namespace,omitempty"`
	ConfigStatus      string               `json:"config_status"`
	Messages          []installMessageWire `json:"messages"`
	CurrentVersion    *string              `json:"current_version,omitempty"`
	DisplayName       string               `json:"display_name"`
	Description       *string              `json:"description,omitempty"`
	Prefix            *string              `json:"prefix,omitempty"`
	YAMLServiceConfig *string              `json:"yaml_service_config,omitempty"`
}

// installMessageWire is ClusterSupervisorServices.Message.
type installMessageWire struct {
	Severity string        `json:"severity"`
	Details  *vapi.Message `json:"details,omitempty"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
