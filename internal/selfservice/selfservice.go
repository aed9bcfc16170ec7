package selfservice

import (
	"fmt"
	"sort"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The namespaces.namespace_self_service operations, addressed by cluster.

// changeableSupervisor finds the Supervisor on the cluster an activation or deactivation names: the
// cluster must be in the inventory (NOT_FOUND) and have a Supervisor that is not being disabled
// (NOT_ALLOWED_IN_CURRENT_STATE). A Supervisor that is configuring or in error is accepted: the
// change waits for it to be RUNNING.
func (f *Family) changeableSupervisor(c *vapi.Call) (platform.SupervisorState, error) {
	cluster := c.Path("cluster")
	if err := f.inventoryCluster(c.Ctx, cluster); err != nil {
		return platform.SupervisorState{}, err
	}
	sup, ok := f.supervisor(cluster)
	switch {
	case !ok:
		return sup, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.selfservice.no_supervisor",
			fmt.Sprintf("Cluster %s has no Supervisor; namespace self-service needs one.", cluster), cluster)
	case sup.ConfigStatus == platform.StatusRemoving:
		return sup, vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.selfservice.supervisor_removing",
			fmt.Sprintf("The Supervisor on cluster %s is being disabled; its namespace self-service goes with it.", cluster), cluster)
	}
	return sup, nil
}

// activate serves POST …/namespace-self-service/{cluster}?action=activate: self-service with the
// template the cluster already has.
func (f *Family) activate(c *vapi.Call) (any, error) {
	sup, err := f.changeableSupervisor(c)
	if err != nil {
		return nil, err
	}
	return nil, f.change(c.Ctx, sup, func(r *record) error {
		if r.Template == nil {
			return vapi.NewError(vapi.ErrorNotFound, "wcpd.selfservice.no_template",
				fmt.Sprintf("Cluster %s has no self-service template to activate; create one, or use activateWithTemplate.", sup.Cluster), sup.Cluster)
		}
		if r.Active {
			return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.selfservice.already_active",
				fmt.Sprintf("Namespace self-service is already activated on cluster %s (%s).", sup.Cluster, r.Status), sup.Cluster, string(r.Status))
		}
		f.requestActivation(r, sup)
		return nil
	})
}

// deactivate serves POST …/namespace-self-service/{cluster}?action=deactivate. No new self-service
// namespace can be created from then on; those that exist stay. The template stays too.
func (f *Family) deactivate(c *vapi.Call) (any, error) {
	sup, err := f.changeableSupervisor(c)
	if err != nil {
		return nil, err
	}
	return nil, f.change(c.Ctx, sup, func(r *record) error {
		if !r.Active {
			return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.selfservice.not_active",
				fmt.Sprintf("Namespace self-service is not activated on cluster %s.", sup.Cluster), sup.Cluster)
		}
		r.Active, r.Activating, r.WorkStarted = false, false, timeZero
		if sup.ConfigStatus == platform.StatusRunning {
			r.Status, r.Messages = StatusDeactivated, nil
			return nil
		}
		r.Status = StatusConfiguring
		r.Messages = []Message{waitingMessage(sup, "the deactivation of namespace self-service")}
		return nil
	})
}

// activateWithTemplate serves POST …/namespace-self-service/{cluster}?action=activateWithTemplate:
// the first call creates the cluster's template and activates self-service; later calls replace
// the template's content (its name cannot change) and activate self-service if it is not.
func (f *Family) activateWithTemplate(c *vapi.Call) (any, error) {
	var spec ActivateTemplateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	sup, err := f.changeableSupervisor(c)
	if err != nil {
		return nil, err
	}
	cfg, err := f.checkTemplate(c.Ctx, "spec", templateInput{name: &spec.Template, permissions: &spec.Permissions,
		config: config(spec.ResourceSpec, spec.StorageSpecs, spec.Networks, spec.VMServiceSpec, spec.ContentLibraries)})
	if err != nil {
		return nil, err
	}
	f.names.Lock()
	defer f.names.Unlock()
	return nil, f.change(c.Ctx, sup, func(r *record) error {
		if t := r.Template; t != nil && t.Name != spec.Template {
			return vapi.NewError(vapi.ErrorInvalidArgument, "wcpd.selfservice.template_name",
				fmt.Sprintf("Invalid value %q for spec.template: the self-service template of cluster %s is %q, and a template's name cannot change.", spec.Template, sup.Cluster, t.Name),
				"spec.template", spec.Template, t.Name)
		}
		if other, taken := f.nameTakenElsewhere(spec.Template, sup.Cluster); taken {
			return templateNameTaken(spec.Template, other)
		}
		t := &template{Name: spec.Template, Permissions: normalizedSubjects(spec.Permissions), Config: cfg,
			CreatedAt: f.now(), CreatedBy: c.Principal.String()}
		if r.Template != nil {
			t.CreatedAt, t.CreatedBy = r.Template.CreatedAt, r.Template.CreatedBy
		}
		changed := !sameTemplate(r.Template, t)
		r.Template = t
		switch {
		case !r.Active:
			f.requestActivation(r, sup)
		case changed:
			templateChanged(r, sup)
		}
		return nil
	})
}

// info answers for one cluster: clusters without a Supervisor, or whose self-service was never
// configured, are DEACTIVATED.
func (f *Family) info(cluster string) Info {
	sup, ok := f.supervisor(cluster)
	out := Info{Cluster: cluster, Capability: capability(sup, ok), Status: StatusDeactivated, Messages: []Message{}}
	if !ok {
		out.Messages = []Message{message("INFO", "wcpd.selfservice.no_supervisor",
			fmt.Sprintf("Cluster %s has no Supervisor; namespace self-service needs one.", cluster), cluster)}
		return out
	}
	if r, found := f.current(sup); found {
		out.Status = r.Status
		out.Messages = append(out.Messages, r.Messages...)
	}
	return out
}

// get serves GET …/namespace-self-service/{cluster}.
func (f *Family) get(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	if err := f.inventoryCluster(c.Ctx, cluster); err != nil {
		return nil, err
	}
	return f.info(cluster), nil
}

// list serves GET …/namespace-self-service: one entry per Supervisor, by cluster.
func (f *Family) list(c *vapi.Call) (any, error) {
	out := []Summary{}
	if s := f.deps.Families.Supervisors; s != nil {
		for _, sup := range s.List() {
			i := f.info(sup.Cluster)
			out = append(out, Summary{Cluster: i.Cluster, Capability: i.Capability, Status: i.Status})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out, nil
}

// The platform.SelfService contract, for the namespaces family.
var _ platform.SelfService = (*Family)(nil)

// Grants implements platform.SelfService: the clusters whose self-service is activated (RUNNING,
// or still CONFIGURING) with a template that names p or one of p's groups.
func (f *Family) Grants(p auth.Principal) []platform.SelfServiceGrant {
	if f.records == nil {
		return nil
	}
	var out []platform.SelfServiceGrant
	for _, rec := range f.records.ListShared() {
		r := rec.Value
		if !r.Active || r.Template == nil || !r.Template.names(p.Name, p.Domain, p.InGroup) {
			continue
		}
		if sup, ok := f.supervisor(r.Cluster); !ok || sup.ID != r.Supervisor {
			continue
		}
		g := platform.SelfServiceGrant{Cluster: r.Cluster, Template: r.Template.Name, Status: string(r.Status), Config: r.Template.Config}
		for _, m := range r.Messages {
			if m.Details != nil {
				g.Messages = append(g.Messages, m.Details.DefaultMessage)
			}
		}
		out = append(out, g)
	}
	return out
}
