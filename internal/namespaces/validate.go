package namespaces

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// maxNameLength is the longest DNS-1123 label, the limit vCenter puts on namespace names.
const maxNameLength = 63

// reservedPrefix starts the names of the Supervisor's own namespaces; vCenter refuses to let users
// create or change such namespaces (UNAUTHORIZED).
const reservedPrefix = "vmware-system"

// nameProblem says why name is not a DNS-1123 label ("" when it is one).
func nameProblem(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > maxNameLength:
		return fmt.Sprintf("must be at most %d characters long, not %d", maxNameLength, len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "must be a DNS label: lower-case letters a-z, digits 0-9 and '-' only"
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return "must start and end with a lower-case letter or a digit"
	}
	return ""
}

// specFields are the configurable fields create (v1 and v2) and set share; their checks that need
// nothing but the value itself run while decoding.
type specFields struct {
	ResourceSpec     *ResourceQuota
	AccessList       []Access
	StorageSpecs     []StorageSpec
	Networks         []string
	VMServiceSpec    *VMServiceSpec
	ContentLibraries []ContentLibrarySpec
	Creator          *Principal
	NamespaceNetwork *NetworkCreateSpec
}

func (s specFields) validate(path string, errs *vapi.FieldErrors) {
	if s.ResourceSpec != nil {
		s.ResourceSpec.Validate(path+".resource_spec", errs)
		if errs.Len() == 0 {
			s.ResourceSpec.checkConsistency(path+".resource_spec", errs)
		}
	}
	validateAccessList(path+".access_list", s.AccessList, errs)
	validateStorage(path+".storage_specs", s.StorageSpecs, errs)
	if len(s.Networks) > 1 {
		errs.Add(path+".networks", strings.Join(s.Networks, ","), "at most one network may be associated with a namespace")
	}
	for i, n := range s.Networks {
		if n == "" {
			errs.Add(fmt.Sprintf("%s.networks[%d]", path, i), n, "must not be empty")
		}
	}
	validateVMService(path+".vm_service_spec", s.VMServiceSpec, errs)
	validateLibraries(path+".content_libraries", s.ContentLibraries, errs)
	if s.Creator != nil {
		if s.Creator.Subject == "" {
			errs.Add(path+".creator.subject", "", "must not be empty")
		}
		if s.Creator.Domain == "" {
			errs.Add(path+".creator.domain", "", "must not be empty")
		}
	}
	if s.NamespaceNetwork != nil {
		s.NamespaceNetwork.Validate(path+".namespace_network", errs)
	}
}

func validateAccessList(path string, list []Access, errs *vapi.FieldErrors) {
	for i, a := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if a.Subject == "" {
			errs.Add(p+".subject", "", "must not be empty")
		}
		if a.Domain == "" {
			errs.Add(p+".domain", "", "must not be empty")
		}
		for j := 0; j < i; j++ {
			if list[j].sameSubject(a.SubjectType, a.Domain, a.Subject) {
				errs.Add(p, a.Domain+`\`+a.Subject, fmt.Sprintf("the %s is already listed at %s[%d]", strings.ToLower(string(a.SubjectType)), path, j))
				break
			}
		}
	}
}

func validateStorage(path string, specs []StorageSpec, errs *vapi.FieldErrors) {
	for i, s := range specs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if s.Policy == "" {
			errs.Add(p+".policy", "", "must not be empty")
		}
		if s.Limit != nil && *s.Limit < 1 {
			errs.Add(p+".limit", *s.Limit, "must be at least 1 MiB")
		}
		for j := 0; j < i; j++ {
			if specs[j].Policy == s.Policy {
				errs.Add(p+".policy", s.Policy, fmt.Sprintf("the policy is already given at %s[%d]", path, j))
				break
			}
		}
	}
}

func validateVMService(path string, s *VMServiceSpec, errs *vapi.FieldErrors) {
	if s == nil {
		return
	}
	for i, id := range s.VMClasses {
		if id == "" {
			errs.Add(fmt.Sprintf("%s.vm_classes[%d]", path, i), "", "must not be empty")
		}
	}
	for i, id := range s.ContentLibraries {
		if id == "" {
			errs.Add(fmt.Sprintf("%s.content_libraries[%d]", path, i), "", "must not be empty")
		}
	}
}

func validateLibraries(path string, libs []ContentLibrarySpec, errs *vapi.FieldErrors) {
	for i, l := range libs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if l.ContentLibrary == "" {
			errs.Add(p+".content_library", "", "must not be empty")
		}
		l.Validate(p, errs)
		for j := 0; j < i; j++ {
			if strings.EqualFold(libs[j].ContentLibrary, l.ContentLibrary) {
				errs.Add(p+".content_library", l.ContentLibrary, fmt.Sprintf("the library is already given at %s[%d]", path, j))
				break
			}
		}
	}
}

// Validate runs while the create spec is decoded.
func (s CreateSpec) Validate(path string, errs *vapi.FieldErrors) {
	if p := nameProblem(s.Namespace); p != "" {
		errs.Add(path+".namespace", s.Namespace, p)
	}
	if s.Cluster == "" {
		errs.Add(path+".cluster", "", "must not be empty")
	}
	s.fields().validate(path, errs)
}

func (s CreateSpec) fields() specFields {
	return specFields{s.ResourceSpec, s.AccessList, s.StorageSpecs, s.Networks, s.VMServiceSpec, s.ContentLibraries, s.Creator, s.NamespaceNetwork}
}

// Validate runs while the v2 create spec is decoded.
func (s CreateSpecV2) Validate(path string, errs *vapi.FieldErrors) {
	if p := nameProblem(s.Namespace); p != "" {
		errs.Add(path+".namespace", s.Namespace, p)
	}
	if s.Supervisor == "" {
		errs.Add(path+".supervisor", "", "must not be empty")
	}
	s.fields().validate(path, errs)
}

func (s CreateSpecV2) fields() specFields {
	return specFields{s.ResourceSpec, s.AccessList, s.StorageSpecs, s.Networks, s.VMServiceSpec, s.ContentLibraries, s.Creator, s.NamespaceNetwork}
}

// Validate runs while the set spec is decoded.
func (s SetSpec) Validate(path string, errs *vapi.FieldErrors) {
	s.fields().validate(path, errs)
}

func (s SetSpec) fields() specFields {
	return specFields{ResourceSpec: s.ResourceSpec, AccessList: s.AccessList, StorageSpecs: s.StorageSpecs,
		VMServiceSpec: s.VMServiceSpec, ContentLibraries: s.ContentLibraries}
}

// Validate runs while the update spec is decoded; limits that depend on each other are checked
// once the update is merged with what is stored.
func (s UpdateSpec) Validate(path string, errs *vapi.FieldErrors) {
	if s.ResourceSpec != nil {
		s.ResourceSpec.Validate(path+".resource_spec", errs)
	}
	s.fields().validate(path, errs)
}

// fields holds what the update gives, with nil for what it leaves alone (resource_spec is merged
// separately).
func (s UpdateSpec) fields() specFields {
	var f specFields
	if s.AccessList != nil {
		f.AccessList = *s.AccessList
	}
	if s.StorageSpecs != nil {
		f.StorageSpecs = *s.StorageSpecs
	}
	f.VMServiceSpec = s.VMServiceSpec
	if s.ContentLibraries != nil {
		f.ContentLibraries = *s.ContentLibraries
	}
	return f
}

// defaultVMClasses are the classes every vCenter ships; they are accepted while the vmclasses
// family is not there to ask.
var defaultVMClasses = func() map[string]bool {
	m := map[string]bool{}
	for _, kind := range []string{"best-effort", "guaranteed"} {
		for _, size := range []string{"xsmall", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"} {
			m[kind+"-"+size] = true
		}
	}
	return m
}()

func (f *Family) vmClassExists(id string) bool {
	if vc := f.deps.Families.VMClasses; vc != nil {
		st, ok := vc.VMClass(id)
		// A class deleted while VMs still use it is REMOVING: it cannot be offered any more.
		return ok && st.ConfigStatus != platform.StatusRemoving
	}
	return defaultVMClasses[id]
}

// checkReferences checks that what the fields name exists: storage policies in PBM, VM classes,
// content libraries in the inventory, users and groups in the identity source. Failures are added
// to errs; an error is returned only when the inventory could not be asked.
func (f *Family) checkReferences(ctx context.Context, path string, s specFields, errs *vapi.FieldErrors) error {
	if len(s.StorageSpecs) > 0 {
		policies, err := f.deps.Inventory.StoragePolicies(ctx)
		if err != nil {
			return fmt.Errorf("reading storage policies: %w", err)
		}
		known := map[string]bool{}
		for _, p := range policies {
			known[p.ID] = true
		}
		for i, s := range s.StorageSpecs {
			if s.Policy != "" && !known[s.Policy] {
				errs.Add(fmt.Sprintf("%s.storage_specs[%d].policy", path, i), s.Policy, "no storage policy with this id exists")
			}
		}
	}
	if s.VMServiceSpec != nil {
		for i, id := range s.VMServiceSpec.VMClasses {
			if id != "" && !f.vmClassExists(id) {
				errs.Add(fmt.Sprintf("%s.vm_service_spec.vm_classes[%d]", path, i), id, "no VM class with this id exists")
			}
		}
		for i, id := range s.VMServiceSpec.ContentLibraries {
			if id == "" {
				continue
			}
			if _, err := f.library(ctx, id); errors.Is(err, inventory.ErrNotFound) {
				errs.Add(fmt.Sprintf("%s.vm_service_spec.content_libraries[%d]", path, i), id, "no content library with this id exists")
			} else if err != nil {
				return err
			}
		}
	}
	for i, l := range s.ContentLibraries {
		if l.ContentLibrary == "" {
			continue
		}
		lib, err := f.library(ctx, l.ContentLibrary)
		switch {
		case errors.Is(err, inventory.ErrNotFound):
			errs.Add(fmt.Sprintf("%s.content_libraries[%d].content_library", path, i), l.ContentLibrary, "no content library with this id exists")
		case err != nil:
			return err
		case l.Writable != nil && *l.Writable && strings.EqualFold(lib.Type, "SUBSCRIBED"):
			errs.Add(fmt.Sprintf("%s.content_libraries[%d].writable", path, i), true, "a subscribed content library cannot be writable")
		}
	}
	for i, a := range s.AccessList {
		p := fmt.Sprintf("%s.access_list[%d]", path, i)
		if a.IdentityProvider != nil {
			errs.Add(p+".identity_provider", *a.IdentityProvider, noIdentityProviders)
			continue
		}
		if reason := f.subjectProblem(a.SubjectType, a.Domain, a.Subject); reason != "" {
			errs.Add(p+".subject", a.Subject, reason)
		}
	}
	return nil
}

// noIdentityProviders explains why identity_provider is refused.
const noIdentityProviders = "no external identity provider is configured; leave it unset to use vCenter Single Sign-On"

func (f *Family) library(ctx context.Context, id string) (inventory.ContentLibrary, error) {
	return f.deps.Inventory.ContentLibrary(ctx, id)
}

// subjectProblem says why a subject cannot be given access ("" when it can): it must be a user or
// group of the identity source wcpd serves.
func (f *Family) subjectProblem(typ SubjectType, domain, subject string) string {
	if !strings.EqualFold(domain, auth.Domain) {
		return fmt.Sprintf("domain %q is not an identity source of this vCenter (%s is)", domain, auth.Domain)
	}
	switch typ {
	case SubjectUser:
		if !f.deps.Identity.UserExists(subject) {
			return fmt.Sprintf("no user %q exists in %s", subject, auth.Domain)
		}
	case SubjectGroup:
		if !f.deps.Identity.GroupExists(subject) {
			return fmt.Sprintf("no group %q exists in %s", subject, auth.Domain)
		}
	}
	return ""
}
