package selfservice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The namespaces.namespace_templates operations. The v1 forms address a template by cluster, the
// v2 forms by Supervisor id; both reach the same record. A Supervisor has at most one template,
// which is never deleted (seed 000, note 6): it is updated, and self-service is deactivated.

var timeZero time.Time

// templateNameTaken is the answer for a name another Supervisor's template has.
func templateNameTaken(name, cluster string) error {
	return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.selfservice.template_name_taken",
		fmt.Sprintf("A self-service template named %q (spec.template) already exists, on cluster %s; template names are unique across the vCenter.", name, cluster),
		"spec.template", name, cluster)
}

// normalizedSubjects gives an empty permission list one form (absent).
func normalizedSubjects(s []Subject) []Subject {
	if len(s) == 0 {
		return nil
	}
	return append([]Subject(nil), s...)
}

// sameTemplate reports whether two templates have the same content.
func sameTemplate(a, b *template) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, _ := json.Marshal([]any{a.Name, a.Permissions, a.Config})
	jb, _ := json.Marshal([]any{b.Name, b.Permissions, b.Config})
	return bytes.Equal(ja, jb)
}

// clusterTarget resolves the {cluster} of a v1 template operation: NOT_FOUND when the cluster is not
// in the inventory; ok false when it has no Supervisor.
func (f *Family) clusterTarget(c *vapi.Call) (sup platform.SupervisorState, ok bool, err error) {
	cluster := c.Path("cluster")
	if err := f.inventoryCluster(c.Ctx, cluster); err != nil {
		return sup, false, err
	}
	sup, ok = f.supervisor(cluster)
	if !ok {
		sup = platform.SupervisorState{Cluster: cluster}
	}
	return sup, ok, nil
}

// supervisorTarget resolves the {supervisor} of a v2 template operation.
func (f *Family) supervisorTarget(c *vapi.Call) (platform.SupervisorState, bool, error) {
	sup, err := f.supervisorByID(c.Path("supervisor"))
	return sup, err == nil, err
}

// writableSupervisor refuses template writes on a cluster without a Supervisor, or whose Supervisor
// is being disabled (UNSUPPORTED, as the operations declare).
func writableSupervisor(sup platform.SupervisorState, ok bool) error {
	switch {
	case !ok:
		return vapi.NewError(vapi.ErrorUnsupported, "wcpd.selfservice.no_supervisor",
			fmt.Sprintf("Cluster %s has no Supervisor; self-service templates belong to a Supervisor.", sup.Cluster), sup.Cluster)
	case sup.ConfigStatus == platform.StatusRemoving:
		return vapi.NewError(vapi.ErrorUnsupported, "wcpd.selfservice.supervisor_removing",
			fmt.Sprintf("The Supervisor on cluster %s is being disabled; its self-service template goes with it.", sup.Cluster), sup.Cluster)
	}
	return nil
}

// templateNotFound is the answer for a template the Supervisor does not have.
func templateNotFound(sup platform.SupervisorState, name string) error {
	return vapi.NewError(vapi.ErrorNotFound, "wcpd.selfservice.template_not_found",
		fmt.Sprintf("Cluster %s has no self-service template named %q.", sup.Cluster, name), sup.Cluster, name)
}

func (f *Family) templateCreate(c *vapi.Call) (any, error) {
	sup, ok, err := f.clusterTarget(c)
	if err != nil {
		return nil, err
	}
	return nil, f.createTemplate(c, sup, ok)
}

func (f *Family) templateCreateV2(c *vapi.Call) (any, error) {
	sup, ok, err := f.supervisorTarget(c)
	if err != nil {
		return nil, err
	}
	return nil, f.createTemplate(c, sup, ok)
}

// createTemplate creates the Supervisor's template; it does not activate self-service.
func (f *Family) createTemplate(c *vapi.Call, sup platform.SupervisorState, ok bool) error {
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return err
	}
	if err := writableSupervisor(sup, ok); err != nil {
		return err
	}
	perms := spec.Permissions
	cfg, err := f.checkTemplate(c.Ctx, "spec", templateInput{name: &spec.Template, permissions: &perms,
		config: config(spec.ResourceSpec, spec.StorageSpecs, spec.Networks, spec.VMServiceSpec, spec.ContentLibraries)})
	if err != nil {
		return err
	}
	f.names.Lock()
	defer f.names.Unlock()
	return f.change(c.Ctx, sup, func(r *record) error {
		if t := r.Template; t != nil {
			return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.selfservice.template_exists",
				fmt.Sprintf("Cluster %s already has its self-service template, %q; a Supervisor has one template, which update changes.", sup.Cluster, t.Name),
				sup.Cluster, t.Name)
		}
		if other, taken := f.nameTakenElsewhere(spec.Template, sup.Cluster); taken {
			return templateNameTaken(spec.Template, other)
		}
		r.Template = &template{Name: spec.Template, Permissions: normalizedSubjects(spec.Permissions), Config: cfg,
			CreatedAt: f.now(), CreatedBy: c.Principal.String()}
		return nil
	})
}

// templateOf returns the Supervisor's template called name.
func (f *Family) templateOf(sup platform.SupervisorState, ok bool, name string) (*template, error) {
	if ok {
		if r, found := f.current(sup); found && r.Template != nil && r.Template.Name == name {
			return r.Template, nil
		}
	}
	return nil, templateNotFound(sup, name)
}

func (t *template) fields() templateFields {
	storage := t.Config.StorageSpecs
	if storage == nil {
		storage = json.RawMessage("[]")
	}
	return templateFields{Template: t.Name, ResourceSpec: t.Config.ResourceSpec, StorageSpecs: storage,
		Networks: t.Config.Networks, Permissions: t.Permissions, VMServiceSpec: t.Config.VMServiceSpec,
		ContentLibraries: t.Config.ContentLibraries}
}

func (f *Family) templateGet(c *vapi.Call) (any, error) {
	sup, ok, err := f.clusterTarget(c)
	if err != nil {
		return nil, err
	}
	t, err := f.templateOf(sup, ok, c.Path("template"))
	if err != nil {
		return nil, err
	}
	return TemplateInfo{Cluster: sup.Cluster, templateFields: t.fields()}, nil
}

func (f *Family) templateGetV2(c *vapi.Call) (any, error) {
	sup, ok, err := f.supervisorTarget(c)
	if err != nil {
		return nil, err
	}
	t, err := f.templateOf(sup, ok, c.Path("template"))
	if err != nil {
		return nil, err
	}
	return TemplateInfoV2{Supervisor: sup.ID, templateFields: t.fields()}, nil
}

// templates lists the Supervisor's template (none or one).
func (f *Family) templates(sup platform.SupervisorState, ok bool) []*template {
	if !ok {
		return nil
	}
	if r, found := f.current(sup); found && r.Template != nil {
		return []*template{r.Template}
	}
	return nil
}

func (f *Family) templateList(c *vapi.Call) (any, error) {
	sup, ok, err := f.clusterTarget(c)
	if err != nil {
		return nil, err
	}
	out := []TemplateSummary{}
	for _, t := range f.templates(sup, ok) {
		out = append(out, TemplateSummary{Cluster: sup.Cluster, Template: t.Name})
	}
	return out, nil
}

func (f *Family) templateListV2(c *vapi.Call) (any, error) {
	sup, ok, err := f.supervisorTarget(c)
	if err != nil {
		return nil, err
	}
	out := []TemplateSummaryV2{}
	for _, t := range f.templates(sup, ok) {
		out = append(out, TemplateSummaryV2{Supervisor: sup.ID, Template: t.Name})
	}
	return out, nil
}

func (f *Family) templateUpdate(c *vapi.Call) (any, error) {
	sup, ok, err := f.clusterTarget(c)
	if err != nil {
		return nil, err
	}
	return nil, f.updateTemplate(c, sup, ok)
}

func (f *Family) templateUpdateV2(c *vapi.Call) (any, error) {
	sup, ok, err := f.supervisorTarget(c)
	if err != nil {
		return nil, err
	}
	return nil, f.updateTemplate(c, sup, ok)
}

// updateTemplate changes the fields the update gives. On an active self-service the change
// applies at once while the Supervisor is RUNNING, and otherwise waits for it (CONFIGURING).
func (f *Family) updateTemplate(c *vapi.Call, sup platform.SupervisorState, ok bool) error {
	var spec UpdateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return err
	}
	name := c.Path("template")
	if _, err := f.templateOf(sup, ok, name); err != nil {
		return err
	}
	if err := writableSupervisor(sup, ok); err != nil {
		return err
	}
	given := config(spec.ResourceSpec, spec.StorageSpecs, spec.Networks, spec.VMServiceSpec, spec.ContentLibraries)
	cfg, err := f.checkTemplate(c.Ctx, "spec", templateInput{permissions: spec.Permissions, config: given})
	if err != nil {
		return err
	}
	return f.change(c.Ctx, sup, func(r *record) error {
		if r.Template == nil || r.Template.Name != name {
			return templateNotFound(sup, name)
		}
		next := *r.Template
		next.Config = merged(next.Config, cfg, given)
		if spec.Permissions != nil {
			next.Permissions = normalizedSubjects(*spec.Permissions)
		}
		if sameTemplate(r.Template, &next) {
			return nil
		}
		r.Template = &next
		templateChanged(r, sup)
		return nil
	})
}
