package inventory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// taskTracker follows the simulator's tasks while the inventory is built.
//
// Simulator tasks finish on their own goroutines, and a task may start
// further tasks (creating a switch adds its uplink port group). Morefs come
// from one counter per registry, so the inventory only gets the same morefs
// on every start if each step waits for every task it caused. The tracker is
// a registry handler: it hears each task being registered and each state
// change, so waiting is a signal, not a poll.
type taskTracker struct {
	mu      sync.Mutex
	pending map[types.ManagedObjectReference]bool
	failed  []string
	changed chan struct{} // closed and replaced on every completion
}

func newTaskTracker() *taskTracker {
	return &taskTracker{
		pending: map[types.ManagedObjectReference]bool{},
		changed: make(chan struct{}),
	}
}

// Reference names the tracker in the registry's handler table.
func (t *taskTracker) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdTaskTracker", Value: "build"}
}

// PutObject records a task as soon as it is registered, before it runs.
func (t *taskTracker) PutObject(_ *simulator.Context, obj mo.Reference) {
	task, ok := obj.(*simulator.Task)
	if !ok {
		return
	}
	t.mu.Lock()
	t.pending[task.Self] = true
	t.mu.Unlock()
}

// UpdateObject notices a task reaching success or error.
func (t *taskTracker) UpdateObject(_ *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	ref := obj.Reference()
	if ref.Type != "Task" {
		return
	}
	var state string
	var fault any
	for _, c := range changes {
		switch c.Name {
		case "info.state":
			state = fmt.Sprint(c.Val)
		case "info.error":
			fault = c.Val
		}
	}
	if state != string(types.TaskInfoStateSuccess) && state != string(types.TaskInfoStateError) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, ref)
	if state == string(types.TaskInfoStateError) {
		t.failed = append(t.failed, fmt.Sprintf("%s: %v", ref.Value, faultText(fault)))
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// RemoveObject is part of simulator.RegisterObject; removals need no tracking.
func (t *taskTracker) RemoveObject(*simulator.Context, types.ManagedObjectReference) {}

// settle waits until every task started so far has finished and reports
// the first failure, if any.
func (t *taskTracker) settle(ctx context.Context) error {
	for {
		t.mu.Lock()
		pending, changed := len(t.pending), t.changed
		var failure error
		if len(t.failed) > 0 {
			failure = fmt.Errorf("simulator task failed: %s", t.failed[0])
		}
		t.mu.Unlock()
		if pending == 0 {
			return failure
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d simulator task(s): %w", pending, ctx.Err())
		}
	}
}

// faultText renders a task's fault; the simulator stores a LocalizedMethodFault value.
func faultText(fault any) string {
	switch f := fault.(type) {
	case types.LocalizedMethodFault:
		return fmt.Sprintf("%T %s", f.Fault, f.LocalizedMessage)
	case *types.LocalizedMethodFault:
		return fmt.Sprintf("%T %s", f.Fault, f.LocalizedMessage)
	}
	return fmt.Sprint(fault)
}

// The simulator keeps every task it ever ran, and each holds the request that started it; a
// server that runs for weeks would keep them all. vCenter lists a finished task among the recent
// ones for ten minutes and then only in its history; the inventory does the same and removes the
// task objects then.

// taskRetention is how long a finished task stays reachable; sweepEvery how often finished tasks
// are looked at.
const (
	taskRetention = 10 * time.Minute
	sweepEvery    = 10 * time.Second
)

// sweepTasks removes the tasks that finished before now-retention. The others that finished let
// go of the request that started them (the simulator keeps its context and the work's closure,
// request body and response buffers included, which is most of a task's memory).
func (inv *Inventory) sweepTasks(now time.Time, retention time.Duration) int {
	m := inv.svc.Context.Map
	bare := &simulator.Context{Context: context.Background(), Map: m}
	var done []types.ManagedObjectReference
	for _, obj := range m.AllReference("Task") {
		task, ok := obj.(*simulator.Task)
		if !ok {
			continue
		}
		m.WithLock(bare, task, func() {
			info := task.Info
			if info.State != types.TaskInfoStateSuccess && info.State != types.TaskInfoStateError {
				return
			}
			task.Execute = nil
			setUnexported(task, "ctx", bare) // Wait only needs the registry
			if info.CompleteTime != nil && info.CompleteTime.Before(now.Add(-retention)) {
				done = append(done, task.Self)
			}
		})
	}
	for _, ref := range done {
		m.Remove(bare, ref)
	}
	return len(done)
}

// sweepTasksEvery sweeps the finished tasks every sweepEvery until stop is closed.
func (inv *Inventory) sweepTasksEvery(stop <-chan struct{}) {
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			inv.sweepTasks(now, taskRetention)
			pruneSessionLocks(inv.svc.Context.Map)
		}
	}
}

// taskInitiators stands in for the simulator's TaskManager among the registry's handlers (it
// takes its place under the manager's reference) to name who started each task: the simulator
// names every task's initiator "vcsim". A task started in a user's session is that user's (govc
// tasks shows the name, the property collector info.reason); one started without a session or by
// wcpd itself (building the inventory, its controllers through the internal account) is the
// system's, as vCenter's own tasks are, which govc tasks leaves out. The task's entity is named
// by its name, not its id, as vCenter names it.
//
// The registry tells its handlers of a new object without the session that made it, so the name
// is given at the task's first change (to running), which the simulator makes in the starting
// call's context, under the task's lock, before the call answers with the task.
type taskInitiators struct {
	*simulator.TaskManager
}

// nameTaskInitiators puts taskInitiators in front of the registry's TaskManager.
func nameTaskInitiators(m *simulator.Registry) {
	content := m.Get(vim25.ServiceInstance).(*simulator.ServiceInstance).Content
	m.AddHandler(taskInitiators{m.Get(*content.TaskManager).(*simulator.TaskManager)})
}

// UpdateObject names the initiator of a task that starts running, then hands the change to the
// TaskManager.
func (t taskInitiators) UpdateObject(ctx *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	if task, ok := obj.(*mo.Task); ok && task.Info.State == types.TaskInfoStateRunning && task.Info.StartTime != nil &&
		slices.ContainsFunc(changes, func(c types.PropertyChange) bool { return c.Name == "info.startTime" }) {
		task.Info.Reason = taskReason(ctx)
		task.Info.EntityName = entityName(ctx, task.Info)
	}
	t.TaskManager.UpdateObject(ctx, obj, changes)
}

// entityName is the name of the task's entity, which the simulator gives as its id (vCenter, and
// govc tasks' Target column, show the name).
func entityName(ctx *simulator.Context, info types.TaskInfo) string {
	if info.Entity == nil || info.EntityName != info.Entity.Value {
		return info.EntityName
	}
	if e, ok := ctx.Map.Get(*info.Entity).(mo.Entity); ok && e.Entity().Name != "" {
		return e.Entity().Name
	}
	return info.EntityName
}

// taskReason is who started a task in ctx.
func taskReason(ctx *simulator.Context) types.BaseTaskReason {
	if ctx.Session == nil || ctx.Session.UserName == "" || ctx.Session.UserName == internalUser {
		return &types.TaskReasonSystem{}
	}
	return &types.TaskReasonUser{UserName: ctx.Session.UserName}
}
