package namespaces

import (
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// userList serves GET /api/vcenter/namespaces-user/namespaces: the namespaces a user reaches, with
// the API endpoint of their Supervisor. A user reaches a namespace through a USER entry naming it
// or a GROUP entry naming one of its groups; holders of Namespaces.Manage reach every namespace
// (vCenter's administrators may use any namespace). Namespaces being removed are left out.
//
// filter.username asks for another user's namespaces, which needs System.Read (the caller could
// read them all anyway); filter.groups keeps the namespaces that one of the groups has access to.
func (f *Family) userList(c *vapi.Call) (any, error) {
	var filter UserFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	who := c.Principal
	if filter.Username != nil && !samePrincipal(*filter.Username, who) {
		if !f.deps.Identity.HasPrivilege(who, auth.SystemRead) {
			return nil, vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.user.other",
				"User "+who.String()+" needs the privilege "+string(auth.SystemRead)+" to list the namespaces of another user.",
				who.String(), string(auth.SystemRead))
		}
		p, err := f.deps.Identity.Principal(*filter.Username)
		if err != nil {
			return []UserSummary{}, nil // an unknown user reaches nothing
		}
		who = p
	}
	everything := f.deps.Identity.HasPrivilege(who, auth.NamespacesManage)
	out := []UserSummary{}
	for _, rec := range f.records.ListShared() {
		r := rec.Value
		if r.removing() {
			continue
		}
		if !everything {
			if role, _ := roleOf(r, who); role == "" {
				continue
			}
		}
		if len(filter.Groups) > 0 && !grantsAnyGroup(r, filter.Groups) {
			continue
		}
		host := ""
		if sup, ok := f.supervisorOf(r.Cluster); ok {
			host = sup.APIServerEndpoint
		}
		out = append(out, UserSummary{Namespace: r.Name, MasterHost: host})
	}
	return out, nil
}

// samePrincipal reports whether name (any accepted spelling) is p.
func samePrincipal(name string, p auth.Principal) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if _, user, ok := strings.Cut(n, `\`); ok {
		n = user
	}
	if user, _, ok := strings.Cut(n, "@"); ok {
		n = user
	}
	return n == p.Name
}

// grantsAnyGroup reports whether one of groups has an access entry on r.
func grantsAnyGroup(r *record, groups []string) bool {
	for _, a := range r.Spec.AccessList {
		if a.SubjectType != SubjectGroup {
			continue
		}
		for _, g := range groups {
			if strings.EqualFold(a.Subject, g) {
				return true
			}
		}
	}
	return false
}
