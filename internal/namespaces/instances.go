package namespaces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// newNamespace is everything a namespace is created from, whichever way it comes: the v1 or v2
// API, a Supervisor Service (system namespaces) or self-service (selfservice.go), which fills
// creator and selfService from the DevOps user and the spec from the cluster's template.
type newNamespace struct {
	name        string
	sup         platform.SupervisorState
	spec        nsSpec
	creator     *Principal
	selfService bool
	system      bool
	createdBy   string
}

// insert stores a new namespace in CONFIGURING and hands it to the controller, which makes its
// resource pool. Nothing else is written, so a refused create leaves nothing behind.
func (f *Family) insert(ctx context.Context, n newNamespace) error {
	normalize(&n.spec)
	now := f.now()
	r := record{
		Name: n.name, Cluster: n.sup.Cluster, Supervisor: n.sup.ID, Spec: n.spec,
		Creator: n.creator, SelfService: n.selfService, CreatedBy: n.createdBy, System: n.system,
		CreatedAt: now, UpgradesAtCreate: n.sup.UpgradeCount,
		Status: nsStatus{ConfigStatus: StatusConfiguring, Generation: 1, ConfiguringSince: now},
	}
	if _, err := f.records.Create(ctx, n.name, r); errors.Is(err, store.ErrExists) {
		return alreadyExists(n.name)
	} else if err != nil {
		return storeError(err, n.name)
	}
	f.ctl.Enqueue(n.name)
	return nil
}

// normalize gives empty lists one form (absent), so comparing specs compares content.
func normalize(s *nsSpec) {
	if len(s.AccessList) == 0 {
		s.AccessList = nil
	}
	if len(s.StorageSpecs) == 0 {
		s.StorageSpecs = nil
	}
	if len(s.Networks) == 0 {
		s.Networks = nil
	}
	if len(s.ContentLibraries) == 0 {
		s.ContentLibraries = nil
	}
	for i := range s.ContentLibraries {
		// The 9.0 fields are accepted from newer clients but not kept (see ContentLibrarySpec).
		s.ContentLibraries[i].AllowImport, s.ContentLibraries[i].ResourceNamingStrategy = nil, nil
	}
	if v := s.VMServiceSpec; v != nil {
		v.VMClasses = dedupe(v.VMClasses)
		v.ContentLibraries = dedupe(v.ContentLibraries)
	}
	s.ResourceSpec = s.ResourceSpec.normalized()
}

// dedupe removes repeated members of a set, keeping the first occurrence's position.
func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// fromFields builds the stored spec from create or set fields.
func fromFields(description *string, s specFields) nsSpec {
	out := nsSpec{ResourceSpec: s.ResourceSpec, AccessList: s.AccessList, StorageSpecs: s.StorageSpecs,
		Networks: s.Networks, VMServiceSpec: s.VMServiceSpec, ContentLibraries: s.ContentLibraries,
		NamespaceNetwork: s.NamespaceNetwork}
	if description != nil {
		out.Description = *description
	}
	return out
}

// checkNewName refuses names reserved for the Supervisor and names already taken.
func (f *Family) checkNewName(name string) error {
	if strings.HasPrefix(name, reservedPrefix) {
		return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.reserved_name",
			fmt.Sprintf("Namespace name %q (spec.namespace) is reserved: names starting with %q belong to the Supervisor's own namespaces.", name, reservedPrefix),
			"spec.namespace", name, reservedPrefix)
	}
	if _, ok := f.records.Get(name); ok {
		return alreadyExists(name)
	}
	return nil
}

// alreadyExists is the error for a namespace name that is taken.
func alreadyExists(name string) error {
	return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.namespaces.exists",
		fmt.Sprintf("A namespace named %q (spec.namespace) already exists in this vCenter; namespace names are unique across the vCenter.", name),
		"spec.namespace", name)
}

// requireRunning checks that a Supervisor can take a new namespace: it must be RUNNING. field is
// the input that named it (spec.cluster or spec.supervisor).
func requireRunning(field string, sup platform.SupervisorState) error {
	switch sup.ConfigStatus {
	case platform.StatusRunning:
		return nil
	case platform.StatusRemoving:
		return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.supervisor_removing",
			fmt.Sprintf("The Supervisor %s on cluster %s (%s) is being disabled; no namespace can be created on it.", sup.ID, sup.Cluster, field),
			field, sup.Cluster, sup.ConfigStatus)
	}
	return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.supervisor_not_running",
		fmt.Sprintf("The Supervisor %s on cluster %s (%s) is %s; namespaces can be created once it is RUNNING.", sup.ID, sup.Cluster, field, sup.ConfigStatus),
		field, sup.Cluster, sup.ConfigStatus)
}

// notEnabled is the error for a cluster without a Supervisor; field is the input that named it.
func notEnabled(field, cluster string) error {
	return vapi.NewError(vapi.ErrorUnsupported, "wcpd.namespaces.cluster_not_enabled",
		fmt.Sprintf("Cluster %s (%s) is not enabled for vSphere Namespaces: it has no Supervisor.", cluster, field), field, cluster)
}

// supervisorOf looks the Supervisor up by cluster or Supervisor id.
func (f *Family) supervisorOf(clusterOrID string) (platform.SupervisorState, bool) {
	if s := f.supervisors(); s != nil {
		return s.Supervisor(clusterOrID)
	}
	return platform.SupervisorState{}, false
}

// create serves POST /api/vcenter/namespaces/instances. Holders of Namespaces.Manage create any
// namespace; other users create self-service namespaces where a self-service template names them
// (the catalog declares the operation without a privilege so that they reach this handler). A user
// with neither is refused before the request is read.
func (f *Family) create(c *vapi.Call) (any, error) {
	admin := f.deps.Identity.HasPrivilege(c.Principal, auth.NamespacesManage)
	var grants []platform.SelfServiceGrant
	if !admin {
		if grants = f.selfServiceGrants(c.Principal); len(grants) == 0 {
			return nil, createRefused(c, "")
		}
	}
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if !admin {
		return nil, f.createSelfService(c, spec, grants)
	}
	if err := f.checkNewName(spec.Namespace); err != nil {
		return nil, err
	}
	if _, err := f.deps.Inventory.Cluster(c.Ctx, spec.Cluster); errors.Is(err, inventory.ErrNotFound) {
		return nil, vapi.NewError(vapi.ErrorNotFound, "wcpd.namespaces.cluster_not_found",
			fmt.Sprintf("Cluster %q (spec.cluster) is not in this vCenter's inventory.", spec.Cluster), "spec.cluster", spec.Cluster)
	} else if err != nil {
		return nil, err
	}
	sup, ok := f.supervisorOf(spec.Cluster)
	if !ok || sup.Cluster != spec.Cluster {
		return nil, notEnabled("spec.cluster", spec.Cluster)
	}
	return nil, f.createOn(c, "spec.cluster", sup, spec.Namespace, spec.Description, spec.fields())
}

// createV2 serves POST /api/vcenter/namespaces/instances/v2.
func (f *Family) createV2(c *vapi.Call) (any, error) {
	var spec CreateSpecV2
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if err := f.checkNewName(spec.Namespace); err != nil {
		return nil, err
	}
	sup, ok := f.supervisorOf(spec.Supervisor)
	if !ok {
		return nil, vapi.NewError(vapi.ErrorNotFound, "wcpd.namespaces.supervisor_not_found",
			fmt.Sprintf("No Supervisor %q (spec.supervisor) is registered in this vCenter.", spec.Supervisor), "spec.supervisor", spec.Supervisor)
	}
	return nil, f.createOn(c, "spec.supervisor", sup, spec.Namespace, spec.Description, spec.fields())
}

func (f *Family) createOn(c *vapi.Call, field string, sup platform.SupervisorState, name string, description *string, fields specFields) error {
	if err := requireRunning(field, sup); err != nil {
		return err
	}
	var errs vapi.FieldErrors
	if err := f.checkReferences(c.Ctx, "spec", fields, &errs); err != nil {
		return err
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return f.insert(c.Ctx, newNamespace{name: name, sup: sup, spec: fromFields(description, fields),
		creator: fields.Creator, createdBy: c.Principal.String()})
}

// lookup finds the namespace the call names, nil when there is none.
func (f *Family) lookup(c *vapi.Call) *record {
	r, ok := f.records.Get(c.Path("namespace"))
	if !ok {
		return nil
	}
	return &r.Value
}

// readable finds the namespace for a read and checks the caller may read it.
func (f *Family) readable(c *vapi.Call) (*record, error) {
	r := f.lookup(c)
	if _, err := f.authorize(c, r, auth.SystemRead, RoleView); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, vapi.NotFound("Namespace", c.Path("namespace"))
	}
	return r, nil
}

// get serves GET /api/vcenter/namespaces/instances/{namespace}.
func (f *Family) get(c *vapi.Call) (any, error) {
	r, err := f.readable(c)
	if err != nil {
		return nil, err
	}
	stats, err := f.statsOf(c.Ctx, []*record{r})
	if err != nil {
		return nil, err
	}
	return Info{Cluster: r.Cluster, infoCommon: r.info(stats[r.Name])}, nil
}

// getV2 serves GET /api/vcenter/namespaces/instances/v2/{namespace}.
func (f *Family) getV2(c *vapi.Call) (any, error) {
	r, err := f.readable(c)
	if err != nil {
		return nil, err
	}
	stats, err := f.statsOf(c.Ctx, []*record{r})
	if err != nil {
		return nil, err
	}
	return InfoV2{Supervisor: f.supervisorID(r), infoCommon: r.info(stats[r.Name])}, nil
}

// supervisorID is the namespace's Supervisor id, as the clusters family knows it now.
func (f *Family) supervisorID(r *record) string {
	if sup, ok := f.supervisorOf(r.Cluster); ok && sup.ID != "" {
		return sup.ID
	}
	return r.Supervisor
}

// list serves GET /api/vcenter/namespaces/instances: every namespace, sorted by name, with its
// stats (listing.go).
func (f *Family) list(c *vapi.Call) (any, error) { return f.listAnswer(c.Ctx, false) }

// listV2 serves GET /api/vcenter/namespaces/instances/v2.
func (f *Family) listV2(c *vapi.Call) (any, error) { return f.listAnswer(c.Ctx, true) }

// changeable checks that a namespace can take a change through the API: it is not a Supervisor
// Service's own namespace, not being removed, and its Supervisor is not being disabled.
func (f *Family) changeable(r *record) error {
	if r.System {
		return vapi.NewError(vapi.ErrorUnauthorized, "wcpd.namespaces.system",
			fmt.Sprintf("Namespace %q belongs to a Supervisor Service; only that service changes or removes it.", r.Name), r.Name)
	}
	if r.removing() {
		return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.removing",
			fmt.Sprintf("Namespace %q is being removed.", r.Name), r.Name)
	}
	if sup, ok := f.supervisorOf(r.Cluster); ok && sup.ConfigStatus == platform.StatusRemoving {
		return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.supervisor_removing",
			fmt.Sprintf("The Supervisor of namespace %q is being disabled.", r.Name), r.Name, r.Cluster)
	}
	return nil
}

// modify runs a spec change through the store's read-modify-write, so concurrent changes of
// different fields all land; who may change what is checked against the record being changed.
func (f *Family) modify(c *vapi.Call, need Role, change func(a access, s *nsSpec) error) error {
	name := c.Path("namespace")
	r := f.lookup(c)
	if _, err := f.authorize(c, r, auth.NamespacesManage, need); err != nil {
		return err
	}
	if r == nil {
		return vapi.NotFound("Namespace", name)
	}
	_, err := f.records.Mutate(c.Ctx, name, func(r *record) error {
		a, err := f.authorize(c, r, auth.NamespacesManage, need)
		if err != nil {
			return err
		}
		if err := f.changeable(r); err != nil {
			return err
		}
		before := cloneSpec(&r.Spec)
		_, err = r.changeSpec(func(s *nsSpec) error {
			if err := change(a, s); err != nil {
				return err
			}
			normalize(s)
			var errs vapi.FieldErrors
			s.ResourceSpec.checkConsistency("spec.resource_spec", &errs)
			if err := errs.Err(); err != nil {
				return err
			}
			return checkRoleChange(c, a, name, &before, s)
		})
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

// cloneSpec deep-copies a spec, so a change can be compared with what was there before it.
func cloneSpec(s *nsSpec) nsSpec {
	var out nsSpec
	_ = json.Unmarshal(s.specJSON(), &out)
	return out
}

// set serves PUT /api/vcenter/namespaces/instances/{namespace}: the spec replaces the stored one,
// absent fields clear theirs (networks, which set does not carry, stay).
func (f *Family) set(c *vapi.Call) (any, error) {
	var spec SetSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if err := f.preflight(c, spec.fields()); err != nil {
		return nil, err
	}
	return nil, f.modify(c, RoleEdit, func(_ access, s *nsSpec) error {
		next := fromFields(spec.Description, spec.fields())
		next.Networks, next.NamespaceNetwork = s.Networks, s.NamespaceNetwork
		*s = next
		return nil
	})
}

// update serves PATCH /api/vcenter/namespaces/instances/{namespace}: given fields replace the stored
// ones (vm_service_spec as a whole: its empty sets clear, as the API documents), resource_spec is
// merged limit by limit, absent fields stay.
func (f *Family) update(c *vapi.Call) (any, error) {
	var spec UpdateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if err := f.preflight(c, spec.fields()); err != nil {
		return nil, err
	}
	return nil, f.modify(c, RoleEdit, func(_ access, s *nsSpec) error {
		if spec.Description != nil {
			s.Description = *spec.Description
		}
		if spec.ResourceSpec != nil {
			s.ResourceSpec = spec.ResourceSpec.apply(s.ResourceSpec)
		}
		if spec.AccessList != nil {
			s.AccessList = append([]Access(nil), *spec.AccessList...)
		}
		if spec.StorageSpecs != nil {
			s.StorageSpecs = append([]StorageSpec(nil), *spec.StorageSpecs...)
		}
		if spec.VMServiceSpec != nil {
			v := *spec.VMServiceSpec
			s.VMServiceSpec = &v
		}
		if spec.ContentLibraries != nil {
			s.ContentLibraries = append([]ContentLibrarySpec(nil), *spec.ContentLibraries...)
		}
		return nil
	})
}

// preflight checks, before anything is written, that the caller may touch the namespace at all and
// that everything the change names exists (inventory and identity lookups stay out of the
// read-modify-write, which may run more than once).
func (f *Family) preflight(c *vapi.Call, fields specFields) error {
	r := f.lookup(c)
	if _, err := f.authorize(c, r, auth.NamespacesManage, RoleEdit); err != nil {
		return err
	}
	if r == nil {
		return vapi.NotFound("Namespace", c.Path("namespace"))
	}
	var errs vapi.FieldErrors
	if err := f.checkReferences(c.Ctx, "spec", fields, &errs); err != nil {
		return err
	}
	return errs.Err()
}

// delete serves DELETE /api/vcenter/namespaces/instances/{namespace}: the namespace goes REMOVING
// and its pool and record go once the removal work is done. Deleting a namespace already being
// removed changes nothing.
func (f *Family) delete(c *vapi.Call) (any, error) {
	name := c.Path("namespace")
	r := f.lookup(c)
	if _, err := f.authorize(c, r, auth.NamespacesManage, RoleOwner); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, vapi.NotFound("Namespace", name)
	}
	_, err := f.records.Mutate(c.Ctx, name, func(r *record) error {
		if _, err := f.authorize(c, r, auth.NamespacesManage, RoleOwner); err != nil {
			return err
		}
		if r.System {
			return f.changeable(r)
		}
		f.markRemoving(r, "")
		return nil
	})
	if err != nil {
		var ve *vapi.Error
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, storeError(err, name)
	}
	f.ctl.Enqueue(name)
	return nil, nil
}

// markRemoving starts a namespace's removal (once: a second call keeps the first start time).
func (f *Family) markRemoving(r *record, why string) {
	if r.removing() {
		return
	}
	r.Status.ConfigStatus = StatusRemoving
	r.Status.RemovingSince = f.now()
	r.Status.Messages = nil
	if why != "" {
		r.Status.Messages = []Message{{Severity: "INFO", Details: &LocalizableMessage{
			ID: "wcpd.namespaces.removing", DefaultMessage: why, Args: []string{}}}}
	}
}
