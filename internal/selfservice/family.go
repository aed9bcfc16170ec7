// Package selfservice owns namespace self-service (issue 5): the namespaces.namespace_self_service
// service (activate, activate_with_template, deactivate, get, list), the one self-service template
// of each Supervisor (namespaces.namespace_templates: create, get, list, update and their v2
// Supervisor forms), and the controller that moves self-service through CONFIGURING to RUNNING or
// DEACTIVATED once the Supervisor is RUNNING. It offers platform.SelfService, through which the
// namespaces family learns who may create namespaces from which template; what a template's
// namespace configuration means is the namespaces family's (platform.NamespaceConfigs).
// docs/selfservice.md describes the behaviour.
package selfservice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

const (
	selfServiceService = "namespaces.namespace_self_service"
	templatesService   = "namespaces.namespace_templates"
	recordKind         = "selfservice"
)

// The clusters family offers no change notification, so the controller looks at the Supervisor
// again: every supervisorPoll while self-service waits for it to be RUNNING, and every idlePoll
// otherwise, to forget the self-service of a Supervisor that has been disabled.
const (
	supervisorPoll = 5 * time.Second
	idlePoll       = time.Minute
)

// Family is the selfservice API family.
type Family struct {
	deps    *platform.Deps
	records *store.Collection[record]
	ctl     *controller.Controller
	// names serialises the writes that give a template its name, which is unique across the
	// vCenter: the check reads other clusters' records.
	names sync.Mutex
}

// New builds the family and offers its contract to the other families. It keeps deps and touches
// nothing else: the coverage command builds families from empty Deps.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d}
	if d.Families != nil {
		d.Families.SelfService = f
	}
	return f
}

// Register attaches the family's handlers.
func (f *Family) Register(r *vapi.Registry) {
	r.Handle(selfServiceService, "activate", f.activate)
	r.Handle(selfServiceService, "activate_with_template", f.activateWithTemplate)
	r.Handle(selfServiceService, "deactivate", f.deactivate)
	r.Handle(selfServiceService, "get", f.get)
	r.Handle(selfServiceService, "list", f.list)
	r.Handle(templatesService, "create", f.templateCreate)
	r.Handle(templatesService, "create_v2", f.templateCreateV2)
	r.Handle(templatesService, "get", f.templateGet)
	r.Handle(templatesService, "get_v2", f.templateGetV2)
	r.Handle(templatesService, "list", f.templateList)
	r.Handle(templatesService, "list_v2", f.templateListV2)
	// Both are records in the store; the API keeps the answers of their reads.
	r.Keep(selfServiceService, "get", "list")
	r.Keep(templatesService, "get", "get_v2", "list", "list_v2")
	r.Handle(templatesService, "update", f.templateUpdate)
	r.Handle(templatesService, "update_v2", f.templateUpdateV2)
}

// Start opens the records and hands every one to the controller, so that activations and
// deactivations waiting for their Supervisor when wcpd stopped resume.
func (f *Family) Start(context.Context) error {
	records, err := store.NewCollection[record](f.deps.Store, recordKind)
	if err != nil {
		return err
	}
	f.records = records
	f.ctl = controller.New("selfservice", controller.Func(f.reconcile), f.deps.Clock, f.deps.Logger)
	f.deps.Controllers.Add(f.ctl)
	for _, r := range records.ListShared() {
		f.ctl.Enqueue(r.Key)
	}
	return nil
}

func (f *Family) now() time.Time { return f.deps.Clock.Now().UTC() }

// supervisor finds the Supervisor on a cluster (or with a Supervisor id).
func (f *Family) supervisor(clusterOrID string) (platform.SupervisorState, bool) {
	if s := f.deps.Families.Supervisors; s != nil {
		return s.Supervisor(clusterOrID)
	}
	return platform.SupervisorState{}, false
}

// configs is the namespaces family's contract for checking a template's namespace configuration.
func (f *Family) configs() (platform.NamespaceConfigs, error) {
	if c := f.deps.Families.NamespaceConfigs; c != nil {
		return c, nil
	}
	return nil, errors.New("selfservice: the namespaces family is not there to check namespace configuration")
}

// inventoryCluster checks that the cluster a v1 operation names exists (NOT_FOUND otherwise).
func (f *Family) inventoryCluster(ctx context.Context, cluster string) error {
	_, err := f.deps.Inventory.Cluster(ctx, cluster)
	if errors.Is(err, inventory.ErrNotFound) {
		return vapi.NewError(vapi.ErrorNotFound, "wcpd.selfservice.cluster_not_found",
			fmt.Sprintf("Cluster %q (cluster) is not in this vCenter's inventory.", cluster), "cluster", cluster)
	}
	return err
}

// supervisorByID finds the Supervisor a v2 operation names (NOT_FOUND otherwise).
func (f *Family) supervisorByID(id string) (platform.SupervisorState, error) {
	if sup, ok := f.supervisor(id); ok && sup.ID == id {
		return sup, nil
	}
	return platform.SupervisorState{}, vapi.NewError(vapi.ErrorNotFound, "wcpd.selfservice.supervisor_not_found",
		fmt.Sprintf("No Supervisor %q (supervisor) is registered in this vCenter.", id), "supervisor", id)
}

// storeError turns a store failure into the error a client sees.
func storeError(err error, cluster string) error {
	var ve *vapi.Error
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrExists), errors.Is(err, store.ErrNotFound):
		return vapi.NewError(vapi.ErrorConcurrentChange, "wcpd.selfservice.concurrent_change",
			fmt.Sprintf("The self-service configuration of cluster %s kept changing while this request tried to apply its change; retry it.", cluster), cluster)
	}
	return err
}
