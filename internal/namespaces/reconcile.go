package namespaces

import (
	"context"
	"errors"
	"fmt"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
)

// reconcile moves the namespace named key one step toward what its record asks for:
//
//   - REMOVING: once the removal work (one task duration) is done, its pool is destroyed and its
//     record deleted;
//   - a namespace whose Supervisor is being disabled starts its own removal;
//   - otherwise its pool is made to exist under the Supervisor's Namespaces pool with the quota's
//     limits (waiting while that pool is not there, as after a restart), and a CONFIGURING namespace
//     becomes RUNNING once the pool reflects its spec and, for a new namespace, the creation work
//     (one task duration) is done.
func (f *Family) reconcile(ctx context.Context, key string) (controller.Result, error) {
	rec, ok := f.records.Get(key)
	if !ok {
		return controller.Result{}, nil
	}
	r := &rec.Value
	sup, supOK := f.supervisorOf(r.Cluster)

	if r.removing() {
		return f.finishRemoval(ctx, r, sup, supOK)
	}
	if supOK && sup.ConfigStatus == platform.StatusRemoving {
		why := fmt.Sprintf("The Supervisor on cluster %s is being disabled; its namespaces are removed with it.", r.Cluster)
		return controller.Result{}, f.mutateStatus(ctx, key, func(r *record) { f.markRemoving(r, why) }, true)
	}
	// A Supervisor that is not known (yet) is waited for, not taken as gone: the clusters family
	// removes a Supervisor's namespaces (RemoveAllOnCluster) before it forgets the Supervisor, and
	// guessing otherwise from a lookup could delete namespaces that are merely early.
	if !supOK || sup.NamespacesPool == "" {
		return controller.Result{RequeueAfter: supervisorPoll}, nil
	}

	generation := r.Status.Generation
	pool, err := ensurePool(ctx, f.deps.Inventory, sup.NamespacesPool, r.Name, r.Spec.ResourceSpec, r.Status.Pool)
	if errors.Is(err, errParentGone) {
		return controller.Result{RequeueAfter: supervisorPoll}, nil
	}
	if err != nil && ctx.Err() == nil { // a failure because wcpd is stopping says nothing about the namespace
		_ = f.mutateStatus(ctx, key, func(r *record) {
			if r.removing() {
				return
			}
			r.Status.ConfigStatus = StatusError
			r.Status.Messages = []Message{{Severity: "ERROR", Details: &LocalizableMessage{
				ID: "wcpd.namespaces.pool_failed", DefaultMessage: "Configuring the namespace's resource pool failed: " + err.Error(),
				Args: []string{r.Name, err.Error()}}}}
		}, false)
	}
	if err != nil {
		return controller.Result{}, err
	}

	var requeue controller.Result
	err = f.mutateStatus(ctx, key, func(r *record) {
		if r.removing() {
			return
		}
		r.Status.Pool = pool
		if generation > r.Status.AppliedGeneration {
			r.Status.AppliedGeneration = generation
		}
		if r.Status.AppliedGeneration < r.Status.Generation {
			// The spec changed while the pool was being configured: go round again.
			f.ctl.Enqueue(key)
			return
		}
		if r.Status.ConfigStatus == StatusRunning {
			return
		}
		if done := r.Status.ConfiguringSince.Add(f.deps.TaskDuration); f.now().Before(done) {
			requeue = controller.Result{RequeueAfter: done.Sub(f.now())}
			return
		}
		r.Status.ConfigStatus = StatusRunning
		r.Status.Messages = nil
	}, false)
	return requeue, err
}

// finishRemoval removes the pool and the record of a namespace in REMOVING once its removal work
// has taken its time.
func (f *Family) finishRemoval(ctx context.Context, r *record, sup platform.SupervisorState, supOK bool) (controller.Result, error) {
	if done := r.Status.RemovingSince.Add(f.deps.TaskDuration); f.now().Before(done) {
		return controller.Result{RequeueAfter: done.Sub(f.now())}, nil
	}
	// The Kubernetes Namespace goes first, as on a Supervisor: the namespace stays REMOVING until
	// it is gone, and KubernetesReleased brings it back here.
	if f.kubernetesHolds(r) {
		return controller.Result{}, nil
	}
	if supOK && sup.NamespacesPool != "" {
		if err := removePool(ctx, f.deps.Inventory, sup.NamespacesPool, r.Name); err != nil {
			return controller.Result{}, err
		}
	}
	cur, ok := f.records.Get(r.Name)
	if !ok {
		return controller.Result{}, nil
	}
	if err := f.records.Delete(ctx, r.Name, cur.Revision); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return controller.Result{}, nil
		}
		// Changed since it was read (say, a status write): look again.
		return controller.Result{}, err
	}
	return controller.Result{}, nil
}

// mutateStatus applies fn to the stored record; a record that has gone is not an error. With
// enqueue the namespace is looked at again at once.
func (f *Family) mutateStatus(ctx context.Context, key string, fn func(r *record), enqueue bool) error {
	_, err := f.records.Mutate(ctx, key, func(r *record) error { fn(r); return nil })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil && enqueue {
		f.ctl.Enqueue(key)
	}
	return err
}
