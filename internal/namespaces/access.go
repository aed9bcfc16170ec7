package namespaces

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// subjectOf reads the principal an access operation addresses: {domain}/{subject} in the path and
// the type query parameter.
func subjectOf(c *vapi.Call) (typ SubjectType, domain, subject string, err error) {
	raw := c.Query("type")
	switch SubjectType(raw) {
	case SubjectUser, SubjectGroup:
	case "":
		var errs vapi.FieldErrors
		errs.Missing("type")
		return "", "", "", errs.Err()
	default:
		return "", "", "", vapi.InvalidArgument("type", raw, "must be one of USER, GROUP")
	}
	return SubjectType(raw), c.Path("domain"), c.Path("subject"), nil
}

// notAssociated is vCenter's answer for a principal that has no access entry on the namespace.
func notAssociated(typ SubjectType, domain, subject, name string) error {
	return vapi.NewError(vapi.ErrorUnsupported, "wcpd.namespaces.access.not_associated",
		fmt.Sprintf("The %s %s\\%s has no access entry on namespace %q.", strings.ToLower(string(typ)), domain, subject, name),
		string(typ), domain, subject, name)
}

// findEntry is the index of the entry for the principal, or -1.
func findEntry(list []Access, typ SubjectType, domain, subject string) int {
	for i, a := range list {
		if a.sameSubject(typ, domain, subject) {
			return i
		}
	}
	return -1
}

// changeAccess runs an access change on the namespace's access list. Holders of Namespaces.Manage
// and the namespace's owners may change access.
func (f *Family) changeAccess(c *vapi.Call, change func(r *record) error) error {
	name := c.Path("namespace")
	r := f.lookup(c)
	if _, err := f.authorize(c, r, auth.NamespacesManage, RoleOwner); err != nil {
		return err
	}
	if r == nil {
		return vapi.NotFound("Namespace", name)
	}
	_, err := f.records.Mutate(c.Ctx, name, func(r *record) error {
		if _, err := f.authorize(c, r, auth.NamespacesManage, RoleOwner); err != nil {
			return err
		}
		if err := f.changeable(r); err != nil {
			return err
		}
		_, err := r.changeSpec(func(*nsSpec) error { return change(r) })
		return err
	})
	if err != nil {
		var ve *vapi.Error
		if errors.As(err, &ve) {
			return ve
		}
		return storeError(err, name)
	}
	f.ctl.Enqueue(name)
	return nil
}

// accessCreate serves POST …/instances/{namespace}/access/{domain}/{subject}?type=: gives a user
// or group of the identity source a role on the namespace.
func (f *Family) accessCreate(c *vapi.Call) (any, error) {
	typ, domain, subject, err := subjectOf(c)
	if err != nil {
		return nil, err
	}
	var spec AccessSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	name := c.Path("namespace")
	return nil, f.changeAccess(c, func(r *record) error {
		if findEntry(r.Spec.AccessList, typ, domain, subject) >= 0 {
			return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.namespaces.access.exists",
				fmt.Sprintf("The %s %s\\%s already has a role on namespace %q; use set to change it.", strings.ToLower(string(typ)), domain, subject, name),
				string(typ), domain, subject, name)
		}
		if err := f.checkSubject(spec, typ, domain, subject); err != nil {
			return err
		}
		r.Spec.AccessList = append(r.Spec.AccessList, Access{SubjectType: typ, Subject: subject, Domain: domain, Role: spec.Role})
		return nil
	})
}

// checkSubject refuses an identity provider (wcpd has none) and principals the identity source
// does not hold.
func (f *Family) checkSubject(spec AccessSpec, typ SubjectType, domain, subject string) error {
	if spec.IdentityProvider != nil {
		return vapi.InvalidArgument("spec.identity_provider", *spec.IdentityProvider, noIdentityProviders)
	}
	if reason := f.subjectProblem(typ, domain, subject); reason != "" {
		return vapi.InvalidArgument("subject", domain+`\`+subject, reason)
	}
	return nil
}

// accessSet serves PUT …/access/{domain}/{subject}?type=: changes the role of a principal that has
// one.
func (f *Family) accessSet(c *vapi.Call) (any, error) {
	typ, domain, subject, err := subjectOf(c)
	if err != nil {
		return nil, err
	}
	var spec AccessSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	name := c.Path("namespace")
	return nil, f.changeAccess(c, func(r *record) error {
		i := findEntry(r.Spec.AccessList, typ, domain, subject)
		if i < 0 {
			return notAssociated(typ, domain, subject, name)
		}
		if spec.IdentityProvider != nil {
			return vapi.InvalidArgument("spec.identity_provider", *spec.IdentityProvider, noIdentityProviders)
		}
		list := append([]Access(nil), r.Spec.AccessList...)
		list[i].Role = spec.Role
		r.Spec.AccessList = list
		return nil
	})
}

// accessDelete serves DELETE …/access/{domain}/{subject}?type=.
func (f *Family) accessDelete(c *vapi.Call) (any, error) {
	typ, domain, subject, err := subjectOf(c)
	if err != nil {
		return nil, err
	}
	name := c.Path("namespace")
	return nil, f.changeAccess(c, func(r *record) error {
		i := findEntry(r.Spec.AccessList, typ, domain, subject)
		if i < 0 {
			return notAssociated(typ, domain, subject, name)
		}
		list := append([]Access(nil), r.Spec.AccessList[:i]...)
		r.Spec.AccessList = append(list, r.Spec.AccessList[i+1:]...)
		return nil
	})
}

// accessGet serves GET …/access/{domain}/{subject}?type=. A group answers with its own entry; a
// user with its own entry, or else with the strongest role one of its groups has (inherited).
func (f *Family) accessGet(c *vapi.Call) (any, error) {
	typ, domain, subject, err := subjectOf(c)
	if err != nil {
		return nil, err
	}
	r, err := f.readable(c)
	if err != nil {
		return nil, err
	}
	if i := findEntry(r.Spec.AccessList, typ, domain, subject); i >= 0 {
		a := r.Spec.AccessList[i]
		return AccessInfo{Role: a.Role, IdentityProvider: a.IdentityProvider}, nil
	}
	if typ == SubjectUser && strings.EqualFold(domain, auth.Domain) {
		if p, err := f.deps.Identity.Principal(subject); err == nil {
			if role, inherited := roleOf(r, p); role != "" && inherited {
				return AccessInfo{Role: role, Inherited: true}, nil
			}
		}
	}
	return nil, notAssociated(typ, domain, subject, r.Name)
}
