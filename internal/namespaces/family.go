// Package namespaces owns vSphere Namespaces (issue 4): the namespaces.instances service (v1 and
// v2 create, get, list, set, update, delete), per-namespace access control (namespaces.access) and
// the roles it grants, the DevOps user's view (namespaces.user.instances), the system namespaces
// Supervisor Services run in, and the controller that backs every namespace with a resource pool
// under its Supervisor's "Namespaces" pool. For issue 5 it also owns what a namespace configuration
// is for self-service templates (platform.NamespaceConfigs), the creation of self-service
// namespaces from them with their per-user budgets, and the default VM classes old namespaces get
// at their Supervisor's first upgrade. docs/namespaces.md describes the behaviour.
// It also serves register_vm (vSphere 8.0U3), taking VMs back under VM Service (registervm.go).
package namespaces

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// supervisorPoll is how often a namespace whose Supervisor has no Namespaces pool yet (after a
// restart the inventory is rebuilt and the clusters family re-creates it) looks again.
const supervisorPoll = 5 * time.Second

// poolWorkers is how many namespaces are reconciled at once. A reconcile mostly waits (for the
// inventory's and the store's writes, which group the work of concurrent callers into one
// commit), so a burst of creations or a restart with thousands of namespaces is worked through
// in parallel; a namespace always goes to the same worker, so it is never reconciled twice at once.
const poolWorkers = 32

// Family is the namespaces API family.
type Family struct {
	deps    *platform.Deps
	records *store.Collection[record]
	ctl     *controller.Sharded
	// upgrades watches Supervisors for their first upgrade (upgrade.go).
	upgrades *controller.Controller
	// selfServiceMu serialises self-service creations, whose budget check reads the namespaces a
	// user already has (selfservice.go).
	selfServiceMu sync.Mutex
	// listings keeps the encoded answers of list and list_v2 (listing.go); offerings indexes the
	// VM classes namespaces offer (system.go).
	listings  listings
	offerings offerings
	// registrations are the VMs registered with VM Service (registervm.go).
	registrations registrations
}

// New builds the family and offers its contract to the other families. It keeps deps and touches
// nothing else: the coverage command builds families from empty Deps.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d}
	if d.Families != nil {
		d.Families.Namespaces = f
		d.Families.NamespaceConfigs = f
	}
	return f
}

// Register attaches the family's handlers.
func (f *Family) Register(r *vapi.Registry) {
	const inst = "namespaces.instances"
	r.Handle(inst, "create", f.create)
	r.Handle(inst, "create_v2", f.createV2)
	r.Handle(inst, "get", f.get)
	r.Handle(inst, "get_v2", f.getV2)
	r.Handle(inst, "list", f.list)
	r.Handle(inst, "list_v2", f.listV2)
	r.Handle(inst, "set", f.set)
	r.Handle(inst, "update", f.update)
	r.Handle(inst, "delete", f.delete)
	r.Handle(inst, "register_vm", f.registerVM)
	const access = "namespaces.access"
	r.Handle(access, "create", f.accessCreate)
	r.Handle(access, "get", f.accessGet)
	r.Handle(access, "set", f.accessSet)
	r.Handle(access, "delete", f.accessDelete)
	r.Handle("namespaces.user.instances", "list", f.userList)
	// Reads answer from the store, the inventory (usage) and the caller's namespace roles: the API
	// keeps their answers per caller.
	r.KeepPerCaller(inst, "get", "get_v2", "list", "list_v2")
	r.KeepPerCaller(access, "get")
	r.KeepPerCaller("namespaces.user.instances", "list")
}

// Start opens the namespace records, starts the controller and hands it every namespace: the
// inventory is rebuilt at every start, so each namespace's pool is found or made again, and
// creations and removals that were under way when wcpd stopped resume.
func (f *Family) Start(context.Context) error {
	records, err := store.NewCollection[record](f.deps.Store, recordKind)
	if err != nil {
		return err
	}
	f.records = records
	f.ctl = controller.NewSharded("namespaces", poolWorkers, controller.Func(f.reconcile), f.deps.Clock, f.deps.Logger)
	f.deps.Controllers.AddSharded(f.ctl)
	for _, r := range records.ListShared() {
		f.ctl.Enqueue(r.Key)
	}
	f.upgrades = controller.New("namespaces-first-upgrade", controller.Func(f.reconcileFirstUpgrades), f.deps.Clock, f.deps.Logger)
	f.deps.Controllers.Add(f.upgrades)
	f.upgrades.Enqueue(firstUpgradeKey)
	return f.startRegistrations()
}

func (f *Family) supervisors() platform.Supervisors { return f.deps.Families.Supervisors }

// now is the injected clock's time.
func (f *Family) now() time.Time { return f.deps.Clock.Now().UTC() }

// storeError turns a store failure into the vAPI error a client sees.
func storeError(err error, name string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return vapi.NotFound("Namespace", name)
	case errors.Is(err, store.ErrConflict):
		return vapi.NewError(vapi.ErrorConcurrentChange, "wcpd.namespaces.concurrent_change",
			fmt.Sprintf("Namespace %q kept changing while this request tried to apply its change; retry it.", name), name)
	}
	return err
}
