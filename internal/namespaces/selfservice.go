package namespaces

import (
	"context"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Self-service namespaces (issue 5). A user without the global Namespaces.Manage privilege creates
// a namespace with POST /api/vcenter/namespaces/instances when the cluster's namespace self-service
// is activated and its template names the user or one of its groups (the selfservice family says
// so through platform.SelfService). The namespace gets the template's configuration, the user as
// its creator and OWNER, and self_service_namespace true.
//
// The template's resource_spec is a budget per user and cluster (seed 000, note 2): every limit
// that bounds a namespace as a whole (all of them but the per-container *_default ones) is shared
// by all the self-service namespaces the user has on the cluster. A namespace claims, of each such
// limit, the value its own resource_spec holds now (an absent limit claims the whole budget, as
// the namespace is unlimited); namespaces being removed claim nothing. A new namespace gets the
// value its creator asks for in resource_spec, or else everything the user's other namespaces leave;
// asking for more than is left, or nothing being left, is UNABLE_TO_ALLOCATE_RESOURCE. The
// *_default limits, storage_specs (each policy's limit applies to each namespace), networks,
// vm_service_spec and content_libraries are copied to each namespace as they are.

// createRefused is the answer for a user who may create namespaces neither through the global
// privilege nor through self-service on cluster ("" when the request was not read: the user has no
// self-service grant anywhere).
func createRefused(c *vapi.Call, cluster string) error {
	where := "on any cluster"
	if cluster != "" {
		where = "on cluster " + cluster
	}
	return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.create.unauthorized",
		fmt.Sprintf("User %s has neither the privilege %s needed for %s nor namespace self-service %s: self-service must be activated there with a template whose permissions name the user or one of its groups.",
			c.Principal.String(), auth.NamespacesManage, c.Op.ID(), where),
		c.Principal.String(), string(auth.NamespacesManage), c.Op.ID(), cluster)
}

// selfServiceGrants lists where the caller may create namespaces through self-service.
func (f *Family) selfServiceGrants(p auth.Principal) []platform.SelfServiceGrant {
	if ss := f.deps.Families.SelfService; ss != nil {
		return ss.Grants(p)
	}
	return nil
}

// templateField refuses a field that a self-service namespace takes from its template.
func templateField(c *vapi.Call, field, cluster string) error {
	return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.self_service.field",
		fmt.Sprintf("User %s creates namespaces on cluster %s through self-service, where %s comes from the self-service template; setting it needs the privilege %s.",
			c.Principal.String(), cluster, field, auth.NamespacesManage),
		c.Principal.String(), cluster, field, string(auth.NamespacesManage))
}

// checkSelfServiceFields refuses what a self-service user may not choose: everything the template
// decides, the per-container defaults, and a creator other than the user.
func checkSelfServiceFields(c *vapi.Call, spec *CreateSpec) error {
	given := []struct {
		field string
		set   bool
	}{
		{"spec.access_list", len(spec.AccessList) > 0},
		{"spec.storage_specs", len(spec.StorageSpecs) > 0},
		{"spec.networks", len(spec.Networks) > 0},
		{"spec.vm_service_spec", spec.VMServiceSpec != nil},
		{"spec.content_libraries", len(spec.ContentLibraries) > 0},
		{"spec.namespace_network", spec.NamespaceNetwork != nil},
	}
	for _, g := range given {
		if g.set {
			return templateField(c, g.field, spec.Cluster)
		}
	}
	if q := spec.ResourceSpec; q != nil {
		for _, qf := range quotaFields {
			if !qf.budgeted() && qf.get(q) != nil {
				return templateField(c, "spec.resource_spec."+qf.name, spec.Cluster)
			}
		}
	}
	if cr := spec.Creator; cr != nil && !(strings.EqualFold(cr.Subject, c.Principal.Name) && strings.EqualFold(cr.Domain, c.Principal.Domain)) {
		return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.self_service.creator",
			fmt.Sprintf("User %s may not create a self-service namespace in the name of %s@%s (spec.creator): the creator of a self-service namespace is the user who creates it.",
				c.Principal.String(), cr.Subject, cr.Domain),
			c.Principal.String(), "spec.creator", cr.Subject, cr.Domain)
	}
	return nil
}

// budgeted reports whether the limit bounds a namespace as a whole, so that a self-service
// template's value is shared by a user's namespaces; the per-container defaults are not.
func (q quotaField) budgeted() bool { return !strings.HasSuffix(q.name, "_default") }

// createSelfService creates a namespace from the self-service template of spec.cluster for the
// caller, who lacks Namespaces.Manage; grants are the caller's self-service grants.
func (f *Family) createSelfService(c *vapi.Call, spec CreateSpec, grants []platform.SelfServiceGrant) error {
	var grant *platform.SelfServiceGrant
	for i := range grants {
		if grants[i].Cluster == spec.Cluster {
			grant = &grants[i]
		}
	}
	if grant == nil {
		return createRefused(c, spec.Cluster)
	}
	if err := checkSelfServiceFields(c, &spec); err != nil {
		return err
	}
	if err := f.checkNewName(spec.Namespace); err != nil {
		return err
	}
	sup, ok := f.supervisorOf(spec.Cluster)
	if !ok || sup.Cluster != spec.Cluster {
		return notEnabled("spec.cluster", spec.Cluster)
	}
	if err := requireRunning("spec.cluster", sup); err != nil {
		return err
	}
	if grant.Status != StatusRunning {
		why := ""
		if len(grant.Messages) > 0 {
			why = " " + strings.Join(grant.Messages, " ")
		}
		return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.self_service.not_running",
			fmt.Sprintf("Namespace self-service on cluster %s is %s; self-service namespaces can be created once it is RUNNING.%s", spec.Cluster, grant.Status, why),
			spec.Cluster, grant.Status)
	}
	tmpl, err := f.usableTemplate(c.Ctx, grant)
	if err != nil {
		return err
	}

	// The budget check and the insert run under one lock, so two concurrent requests of one user
	// cannot both claim what is left.
	f.selfServiceMu.Lock()
	defer f.selfServiceMu.Unlock()
	quota, err := f.selfServiceQuota(c.Principal, grant, tmpl.ResourceSpec, spec.ResourceSpec)
	if err != nil {
		return err
	}
	var errs vapi.FieldErrors
	quota.checkConsistency("spec.resource_spec", &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	ns := nsSpec{
		ResourceSpec:     quota,
		AccessList:       []Access{{SubjectType: SubjectUser, Subject: c.Principal.Name, Domain: c.Principal.Domain, Role: RoleOwner}},
		StorageSpecs:     tmpl.StorageSpecs,
		Networks:         tmpl.Networks,
		VMServiceSpec:    tmpl.VMServiceSpec,
		ContentLibraries: tmpl.ContentLibraries,
	}
	if spec.Description != nil {
		ns.Description = *spec.Description
	}
	return f.insert(c.Ctx, newNamespace{name: spec.Namespace, sup: sup, spec: ns, selfService: true,
		creator: &Principal{Subject: c.Principal.Name, Domain: c.Principal.Domain}, createdBy: c.Principal.String()})
}

// usableTemplate decodes the template of a grant and checks that what it names still exists (a
// storage policy, VM class or library may have been deleted since the template was written).
func (f *Family) usableTemplate(ctx context.Context, grant *platform.SelfServiceGrant) (configFields, error) {
	tmpl, err := decodeConfig("template", grant.Config)
	var errs vapi.FieldErrors
	if err == nil {
		err = f.checkReferences(ctx, "template", tmpl.fields(), &errs)
		if err != nil {
			return configFields{}, err
		}
		err = errs.Err()
	}
	if err == nil {
		return tmpl, nil
	}
	e := vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.self_service.template_stale",
		fmt.Sprintf("The self-service template %q of cluster %s can no longer be applied; an administrator must update it.", grant.Template, grant.Cluster),
		grant.Template, grant.Cluster)
	e.Messages = append(e.Messages, vapi.AsError(err).Messages...)
	return configFields{}, e
}

// selfServiceQuota computes the resource_spec of a new self-service namespace of p from the
// template's limits (the budget) and what the creator asked for (see the comment at the top).
func (f *Family) selfServiceQuota(p auth.Principal, grant *platform.SelfServiceGrant, budget, asked *ResourceQuota) (*ResourceQuota, error) {
	var out ResourceQuota
	if budget != nil {
		out = *budget
	}
	others := f.selfServiceNamespaces(p, grant.Cluster)
	var refusals []vapi.Message
	for _, q := range quotaFields {
		if !q.budgeted() {
			continue
		}
		total, want := q.get(budget), q.get(asked)
		if total == nil {
			q.set(&out, want)
			continue
		}
		used, claimedBy := int64(0), []string{}
		for _, r := range others {
			v := q.get(r.Spec.ResourceSpec)
			switch {
			case v == nil:
				used = *total // an unlimited namespace may use the whole budget
			case used < *total:
				used = min(*total, used+*v)
			}
			claimedBy = append(claimedBy, r.Name)
		}
		left := *total - used
		switch {
		case want != nil && *want > left:
			refusals = append(refusals, budgetMessage(p, grant, q, *total, claimedBy,
				fmt.Sprintf("spec.resource_spec.%s asks for %d %s, but only %d %s of %s are left", q.name, *want, q.unitWord(), left, q.unitWord(), q.name)))
		case want != nil:
			q.set(&out, want)
		case left == 0 && *total > 0:
			refusals = append(refusals, budgetMessage(p, grant, q, *total, claimedBy,
				fmt.Sprintf("Nothing of %s is left for a new namespace", q.name)))
		case left < q.min:
			refusals = append(refusals, budgetMessage(p, grant, q, *total, claimedBy,
				fmt.Sprintf("Only %d %s of %s are left, less than a namespace needs (%d %s)", left, q.unitWord(), q.name, q.min, q.unitWord())))
		default:
			v := left
			q.set(&out, &v)
		}
	}
	if len(refusals) > 0 {
		return nil, &vapi.Error{Type: vapi.ErrorUnableToAllocate, Messages: refusals}
	}
	return out.normalized(), nil
}

// budgetMessage explains one limit a self-service namespace cannot get: what, then the budget.
func budgetMessage(p auth.Principal, grant *platform.SelfServiceGrant, q quotaField, total int64, claimedBy []string, what string) vapi.Message {
	by := "none"
	if len(claimedBy) > 0 {
		by = strings.Join(claimedBy, ", ")
	}
	return vapi.Message{ID: "wcpd.namespaces.self_service.budget",
		DefaultMessage: fmt.Sprintf("%s: template %q of cluster %s allows %d %s of %s for all the self-service namespaces of %s there (held by: %s).",
			what, grant.Template, grant.Cluster, total, q.unitWord(), q.name, p.String(), by),
		Args: []string{"spec.resource_spec." + q.name, fmt.Sprint(total), p.String(), grant.Cluster, grant.Template, by}}
}

// unitWord names the unit of a limit's values.
func (q quotaField) unitWord() string {
	if q.unit == "" {
		return "objects"
	}
	return q.unit
}

// selfServiceNamespaces lists p's self-service namespaces on cluster that are not being removed.
func (f *Family) selfServiceNamespaces(p auth.Principal, cluster string) []*record {
	var out []*record
	for _, rec := range f.records.ListShared() {
		r := rec.Value
		if r.SelfService && r.Cluster == cluster && !r.removing() && r.Creator != nil &&
			strings.EqualFold(r.Creator.Subject, p.Name) && strings.EqualFold(r.Creator.Domain, p.Domain) {
			out = append(out, r)
		}
	}
	return out
}
