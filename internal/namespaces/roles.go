package namespaces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// What a namespace role allows a user who lacks the global privilege an operation needs
// (docs/namespaces.md has the table):
//
//   - VIEW: get and get_v2 of the namespace, access get on it, and the namespace in the user view.
//   - EDIT: VIEW, and set and update of the namespace's description. The quota (resource_spec),
//     storage, networks, VM Service selection, content libraries and access list stay the vSphere
//     administrator's: they grant resources or access.
//   - OWNER: EDIT, delete of the namespace, and create, set and delete of its access entries.
//
// Holding the global privilege (System.Read to read, Namespaces.Manage to change) allows the
// operation on every namespace, as vCenter's permissions do.

// roleOf is the strongest role p holds on r through a USER entry naming it or a GROUP entry naming
// one of its groups, with whether it came only from a group.
func roleOf(r *record, p auth.Principal) (role Role, inherited bool) {
	var direct, group Role
	for _, a := range r.Spec.AccessList {
		if !strings.EqualFold(a.Domain, p.Domain) {
			continue
		}
		switch a.SubjectType {
		case SubjectUser:
			if strings.EqualFold(a.Subject, p.Name) && a.Role.rank() > direct.rank() {
				direct = a.Role
			}
		case SubjectGroup:
			if p.InGroup(a.Subject) && a.Role.rank() > group.rank() {
				group = a.Role
			}
		}
	}
	if group.rank() > direct.rank() {
		return group, true
	}
	return direct, false
}

// access is the outcome of an authorization check.
type access struct {
	// global is true when the caller holds the operation's global privilege; otherwise the caller
	// acts through its role on the namespace and the role's limits apply.
	global bool
	role   Role
}

// authorize decides whether the caller of c may run the operation on r (nil when the namespace
// does not exist). Holding priv globally allows it; otherwise the caller needs at least role need
// on the namespace. A caller with neither learns nothing about whether the namespace exists.
func (f *Family) authorize(c *vapi.Call, r *record, priv auth.Privilege, need Role) (access, error) {
	if f.deps.Identity.HasPrivilege(c.Principal, priv) {
		return access{global: true}, nil
	}
	if r != nil {
		if role, _ := roleOf(r, c.Principal); role.rank() >= need.rank() {
			return access{role: role}, nil
		}
	}
	return access{}, vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.unauthorized",
		fmt.Sprintf("User %s has neither the privilege %s needed for %s nor a role on namespace %q that allows it (%s or stronger).",
			c.Principal.String(), priv, c.Op.ID(), c.Path("namespace"), need),
		c.Principal.String(), string(priv), c.Op.ID(), c.Path("namespace"), string(need))
}

// adminFields are the parts of a namespace only holders of Namespaces.Manage may change, with the
// field path a refusal names.
var adminFields = []struct {
	path string
	get  func(s *nsSpec) any
}{
	{"spec.resource_spec", func(s *nsSpec) any { return s.ResourceSpec }},
	{"spec.access_list", func(s *nsSpec) any { return s.AccessList }},
	{"spec.storage_specs", func(s *nsSpec) any { return s.StorageSpecs }},
	{"spec.networks", func(s *nsSpec) any { return s.Networks }},
	{"spec.vm_service_spec", func(s *nsSpec) any { return s.VMServiceSpec }},
	{"spec.content_libraries", func(s *nsSpec) any { return s.ContentLibraries }},
	{"spec.namespace_network", func(s *nsSpec) any { return s.NamespaceNetwork }},
}

// checkRoleChange refuses a change made through a namespace role that touches an administrator's
// field.
func checkRoleChange(c *vapi.Call, a access, name string, before, after *nsSpec) error {
	if a.global {
		return nil
	}
	for _, fld := range adminFields {
		b, _ := json.Marshal(fld.get(before))
		n, _ := json.Marshal(fld.get(after))
		if !bytes.Equal(b, n) {
			return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.role_field",
				fmt.Sprintf("User %s acts on namespace %q through the %s role, which does not allow changing %s; that needs the privilege %s.",
					c.Principal.String(), name, a.role, fld.path, auth.NamespacesManage),
				c.Principal.String(), name, string(a.role), fld.path, string(auth.NamespacesManage))
		}
	}
	return nil
}
