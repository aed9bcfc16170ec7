package selfservice

import (
	"context"
	"errors"
	"fmt"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
)

// reconcile moves the self-service of the Supervisor on cluster one step toward what its record
// asks for:
//
//   - a record whose Supervisor is gone (or was replaced) is deleted: templates and self-service
//     belong to a Supervisor;
//   - a CONFIGURING self-service waits while its Supervisor is not RUNNING (seed 000, note 8),
//     saying so in its messages; once it is, an activation does its work for one task duration and
//     becomes RUNNING, a deactivation becomes DEACTIVATED, and a template change applies (RUNNING);
//   - anything else is looked at again after idlePoll, to notice a Supervisor being disabled.
func (f *Family) reconcile(ctx context.Context, cluster string) (controller.Result, error) {
	rec, ok := f.records.Get(cluster)
	if !ok {
		return controller.Result{}, nil
	}
	if f.deps.Families.Supervisors == nil {
		return controller.Result{RequeueAfter: supervisorPoll}, nil
	}
	sup, supOK := f.supervisor(cluster)
	if !supOK || sup.ID != rec.Value.Supervisor {
		err := f.records.Delete(ctx, cluster, rec.Revision)
		if errors.Is(err, store.ErrNotFound) {
			return controller.Result{}, nil
		}
		return controller.Result{}, err // a conflict: look again at what changed
	}
	if rec.Value.Status != StatusConfiguring {
		return controller.Result{RequeueAfter: idlePoll}, nil
	}

	var next controller.Result
	_, err := f.records.Mutate(ctx, cluster, func(r *record) error {
		next = f.step(r, sup)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, nil
	}
	return next, err
}

// step moves a CONFIGURING record on and says when to look again.
func (f *Family) step(r *record, sup platform.SupervisorState) controller.Result {
	if r.Supervisor != sup.ID || r.Status != StatusConfiguring {
		return controller.Result{}
	}
	if sup.ConfigStatus != platform.StatusRunning {
		what := "the change of the self-service template"
		switch {
		case !r.Active:
			what = "the deactivation of namespace self-service"
		case r.Activating:
			what = "the activation of namespace self-service"
		}
		// Work that had started waits too, and starts over once the Supervisor is back.
		r.WorkStarted = timeZero
		r.Messages = []Message{waitingMessage(sup, what)}
		return controller.Result{RequeueAfter: supervisorPoll}
	}
	if !r.Active {
		r.Status, r.Messages = StatusDeactivated, nil
		return controller.Result{RequeueAfter: idlePoll}
	}
	if r.Activating {
		now := f.now()
		if r.WorkStarted.IsZero() {
			r.WorkStarted = now
			r.Messages = []Message{message("INFO", "wcpd.selfservice.activating",
				fmt.Sprintf("Activating namespace self-service on cluster %s.", sup.Cluster), sup.Cluster)}
		}
		if done := r.WorkStarted.Add(f.deps.TaskDuration); now.Before(done) {
			return controller.Result{RequeueAfter: done.Sub(now)}
		}
	}
	r.Status, r.Activating, r.WorkStarted, r.Messages = StatusRunning, false, timeZero, nil
	return controller.Result{RequeueAfter: idlePoll}
}
