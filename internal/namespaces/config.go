package namespaces

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The platform.NamespaceConfigs contract: self-service templates (issue 5) hold namespace
// configuration that this family alone defines and checks, so that a template is validated exactly
// like a namespace and a namespace made from it gets exactly what the template says.
var _ platform.NamespaceConfigs = (*Family)(nil)

// configFields is a namespace configuration as a template holds it. It deliberately has no
// Validate method: the checks run once, through specFields.validate, as for a namespace.
type configFields struct {
	ResourceSpec     *ResourceQuota       `json:"resource_spec,omitempty"`
	StorageSpecs     []StorageSpec        `json:"storage_specs,omitempty"`
	Networks         []string             `json:"networks,omitempty"`
	VMServiceSpec    *VMServiceSpec       `json:"vm_service_spec,omitempty"`
	ContentLibraries []ContentLibrarySpec `json:"content_libraries,omitempty"`
}

func (c configFields) fields() specFields {
	return specFields{ResourceSpec: c.ResourceSpec, StorageSpecs: c.StorageSpecs, Networks: c.Networks,
		VMServiceSpec: c.VMServiceSpec, ContentLibraries: c.ContentLibraries}
}

// decodeConfig decodes the members of cfg that are set, strictly, naming failures below path.
func decodeConfig(path string, cfg platform.NamespaceConfig) (configFields, error) {
	obj := map[string]json.RawMessage{}
	for name, raw := range map[string]json.RawMessage{
		"resource_spec": cfg.ResourceSpec, "storage_specs": cfg.StorageSpecs, "networks": cfg.Networks,
		"vm_service_spec": cfg.VMServiceSpec, "content_libraries": cfg.ContentLibraries,
	} {
		if len(raw) > 0 {
			obj[name] = raw
		}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return configFields{}, err
	}
	var out configFields
	return out, vapi.DecodeJSON(body, path, &out)
}

// CheckConfig implements platform.NamespaceConfigs: the configuration is decoded and checked as a
// namespace's create spec is, and returned normalized (empty lists absent, sets without repeats,
// no resource_spec when it sets no limit; vm_service_spec with both sets present, as get reports it).
func (f *Family) CheckConfig(ctx context.Context, path string, cfg platform.NamespaceConfig) (platform.NamespaceConfig, error) {
	fields, err := decodeConfig(path, cfg)
	if err != nil {
		return platform.NamespaceConfig{}, err
	}
	var errs vapi.FieldErrors
	fields.fields().validate(path, &errs)
	if err := errs.Err(); err != nil {
		return platform.NamespaceConfig{}, err
	}
	if err := f.checkReferences(ctx, path, fields.fields(), &errs); err != nil {
		return platform.NamespaceConfig{}, err
	}
	if err := errs.Err(); err != nil {
		return platform.NamespaceConfig{}, err
	}
	return encodeConfig(fields), nil
}

// encodeConfig gives the canonical JSON of a configuration.
func encodeConfig(c configFields) platform.NamespaceConfig {
	spec := nsSpec{ResourceSpec: c.ResourceSpec, StorageSpecs: c.StorageSpecs, Networks: c.Networks,
		VMServiceSpec: c.VMServiceSpec, ContentLibraries: c.ContentLibraries}
	normalize(&spec)
	var out platform.NamespaceConfig
	if spec.ResourceSpec != nil {
		out.ResourceSpec = mustJSON(spec.ResourceSpec)
	}
	if spec.StorageSpecs != nil {
		out.StorageSpecs = mustJSON(spec.StorageSpecs)
	}
	if spec.Networks != nil {
		out.Networks = mustJSON(spec.Networks)
	}
	if v := spec.VMServiceSpec; v != nil {
		out.VMServiceSpec = mustJSON(vmServiceInfo{
			ContentLibraries: append([]string{}, v.ContentLibraries...),
			VMClasses:        append([]string{}, v.VMClasses...),
		})
	}
	if spec.ContentLibraries != nil {
		out.ContentLibraries = mustJSON(spec.ContentLibraries)
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("namespaces: encoding %T: %v", v, err))
	}
	return b
}

// SubjectProblem implements platform.NamespaceConfigs with the rule access entries follow.
func (f *Family) SubjectProblem(subjectType, domain, subject string) string {
	return f.subjectProblem(SubjectType(subjectType), domain, subject)
}
