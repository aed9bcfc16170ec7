package selfservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// templateName is the API's rule for template names: an RFC 1123 DNS label.
var templateName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// templateInput is a template's fields as a request gives them; nil means "not given" (update).
type templateInput struct {
	name        *string
	permissions *[]Subject
	config      platform.NamespaceConfig
}

// checkTemplate checks everything a request gives for a template, at once, and returns the
// namespace configuration in canonical form. The namespace configuration is checked by the
// namespaces family exactly as a namespace's own; users and groups must exist in the identity
// source; the name must be a DNS label; storage_specs, when given, must name a policy.
func (f *Family) checkTemplate(ctx context.Context, path string, in templateInput) (platform.NamespaceConfig, error) {
	configs, err := f.configs()
	if err != nil {
		return platform.NamespaceConfig{}, err
	}
	var errs vapi.FieldErrors
	if in.name != nil && !templateName.MatchString(*in.name) {
		errs.Add(path+".template", *in.name,
			"must be a DNS label (RFC 1123): at most 63 lower-case letters a-z, digits 0-9 and '-', starting and ending with a letter or digit")
	}
	if in.permissions != nil {
		checkPermissions(path+".permissions", *in.permissions, configs, &errs)
	}
	if raw := in.config.StorageSpecs; raw != nil {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) == 0 {
			errs.Add(path+".storage_specs", "[]", "a template must name at least one storage policy")
		}
	}
	cfg, cfgErr := configs.CheckConfig(ctx, path, in.config)
	var ve *vapi.Error
	if cfgErr != nil && !errors.As(cfgErr, &ve) {
		return platform.NamespaceConfig{}, cfgErr
	}
	if errs.Len() == 0 && cfgErr == nil {
		return cfg, nil
	}
	out := &vapi.Error{Type: vapi.ErrorInvalidArgument}
	if e := errs.Err(); e != nil {
		out.Messages = append(out.Messages, vapi.AsError(e).Messages...)
	}
	if ve != nil {
		out.Messages = append(out.Messages, ve.Messages...)
	}
	return platform.NamespaceConfig{}, out
}

// checkPermissions checks a template's subjects: given, not repeated, and known to the identity
// source (the rule namespace access entries follow).
func checkPermissions(path string, subjects []Subject, configs platform.NamespaceConfigs, errs *vapi.FieldErrors) {
	for i, s := range subjects {
		p := fmt.Sprintf("%s[%d]", path, i)
		if s.Subject == "" {
			errs.Add(p+".subject", "", "must not be empty")
		}
		if s.Domain == "" {
			errs.Add(p+".domain", "", "must not be empty")
		}
		if s.Subject == "" || s.Domain == "" {
			continue
		}
		repeated := false
		for j := 0; j < i; j++ {
			o := subjects[j]
			if o.SubjectType == s.SubjectType && strings.EqualFold(o.Domain, s.Domain) && strings.EqualFold(o.Subject, s.Subject) {
				errs.Add(p, s.Domain+`\`+s.Subject, fmt.Sprintf("the %s is already listed at %s[%d]", strings.ToLower(string(s.SubjectType)), path, j))
				repeated = true
				break
			}
		}
		if repeated {
			continue
		}
		if reason := configs.SubjectProblem(string(s.SubjectType), s.Domain, s.Subject); reason != "" {
			errs.Add(p+".subject", s.Subject, reason)
		}
	}
}

// config gathers the namespace configuration members of a create or activate spec.
func config(resource, storage, networks, vmService, libraries json.RawMessage) platform.NamespaceConfig {
	return platform.NamespaceConfig{ResourceSpec: resource, StorageSpecs: storage, Networks: networks,
		VMServiceSpec: vmService, ContentLibraries: libraries}
}

// merged is stored with the members given in update replaced.
func merged(stored, update platform.NamespaceConfig, given platform.NamespaceConfig) platform.NamespaceConfig {
	out := stored
	if given.ResourceSpec != nil {
		out.ResourceSpec = update.ResourceSpec
	}
	if given.StorageSpecs != nil {
		out.StorageSpecs = update.StorageSpecs
	}
	if given.Networks != nil {
		out.Networks = update.Networks
	}
	if given.VMServiceSpec != nil {
		out.VMServiceSpec = update.VMServiceSpec
	}
	if given.ContentLibraries != nil {
		out.ContentLibraries = update.ContentLibraries
	}
	return out
}
