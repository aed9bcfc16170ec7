package namespaces

import (
	"context"
	"errors"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/store"
)

// Namespaces created before VM classes existed get every default VM class at their Supervisor's
// first upgrade (seed 000: vCenter associates them "as part of first k8s version upgrade", so that
// old Tanzu Kubernetes clusters keep working). VM classes exist from the start in wcpd, so wcpd takes
// "created before VM classes existed" to mean: created while the Supervisor had never been upgraded
// (record.UpgradesAtCreate is 0) and without any VM Service configuration when that first upgrade
// completes (vm_service_spec never given, or dropped by a set without it). Each namespace is
// looked at once (record.FirstUpgradeHandled); later upgrades change nothing, and neither do
// namespaces created after the first upgrade. System namespaces are their service's and are left
// alone. The clusters family offers no change notification, so the controller below looks at the
// Supervisors' upgrade counts every supervisorPoll; it is level-triggered, so an upgrade that
// finished while wcpd was down is handled at the next start.

// firstUpgradeKey is the one key of the first-upgrade controller: each pass looks at everything.
const firstUpgradeKey = "supervisors"

// defaultVMClassIDs are vCenter's default VM classes in the order they are granted.
var defaultVMClassIDs = func() []string {
	var out []string
	for _, kind := range []string{"best-effort", "guaranteed"} {
		for _, size := range []string{"xsmall", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"} {
			out = append(out, kind+"-"+size)
		}
	}
	return out
}()

// firstUpgradePending reports whether r still waits for its Supervisor's first upgrade.
func firstUpgradePending(r *record) bool {
	return !r.System && !r.FirstUpgradeHandled && r.UpgradesAtCreate == 0 && !r.removing()
}

// reconcileFirstUpgrades applies the first upgrade of every Supervisor that has had one to its
// namespaces still waiting for it, then looks again after supervisorPoll.
func (f *Family) reconcileFirstUpgrades(ctx context.Context, _ string) (controller.Result, error) {
	poll := controller.Result{RequeueAfter: supervisorPoll}
	for _, rec := range f.records.ListShared() {
		r := rec.Value
		if !firstUpgradePending(r) {
			continue
		}
		sup, ok := f.supervisorOf(r.Cluster)
		if !ok || sup.UpgradeCount < 1 {
			continue
		}
		if err := f.applyFirstUpgrade(ctx, r.Name); err != nil {
			return poll, err
		}
	}
	return poll, nil
}

// applyFirstUpgrade gives the namespace every default VM class that still exists if it has no VM
// Service configuration, and marks the first upgrade as handled either way.
func (f *Family) applyFirstUpgrade(ctx context.Context, name string) error {
	var classes []string
	for _, id := range defaultVMClassIDs {
		if f.vmClassExists(id) {
			classes = append(classes, id)
		}
	}
	changed := false
	_, err := f.records.Mutate(ctx, name, func(r *record) error {
		if !firstUpgradePending(r) {
			return nil
		}
		r.FirstUpgradeHandled = true
		var err error
		changed, err = r.changeSpec(func(s *nsSpec) error {
			if s.VMServiceSpec == nil && len(classes) > 0 {
				s.VMServiceSpec = &VMServiceSpec{VMClasses: append([]string(nil), classes...)}
			}
			return nil
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil && changed {
		f.ctl.Enqueue(name)
	}
	return err
}
