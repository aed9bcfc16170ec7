package clusters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/faults"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The enable state machine: four steps of TaskDuration/4 each. The work of a step is done when it
// starts; its condition turns TRUE when it ends. After the last one the Supervisor is RUNNING.
type enableStep struct {
	Type        string // condition type
	Done        string // condition description
	Progress    string // message while the step runs
	Reason      string // condition reason once done
	ProgressArg bool   // Progress takes the Supervisor's name
}

var enableSteps = []enableStep{
	{Type: "InfrastructureInitialized", Reason: "InfrastructureReady",
		Done:     "The Namespaces resource pool and the Supervisor's VM folder are in place.",
		Progress: "Initializing the Supervisor infrastructure: creating the Namespaces resource pool (step 1 of 4)."},
	{Type: "ControlPlaneVMsDeployed", Reason: "ControlPlaneVMsCreated",
		Done:     "The three control plane VMs are deployed.",
		Progress: "Deploying the three control plane VMs (step 2 of 4)."},
	{Type: "ControlPlaneVMsConfigured", Reason: "KubernetesAPIServerStarted",
		Done:     "The control plane VMs are powered on and the Kubernetes API server is running.",
		Progress: "Configuring the control plane VMs and starting the Kubernetes API server (step 3 of 4)."},
	{Type: "WorkloadNetworkConfigured", Reason: "WorkloadNetworkReady",
		Done:     "Workload networking and load balancing are configured.",
		Progress: "Configuring workload networking and load balancing (step 4 of 4)."},
}

// faultStep is the enable step an injected fault hits: the control plane VMs are deployed but fail
// to configure (ERROR), or configuration never finishes (STALL).
const faultStep = 2

// Disable: first the namespaces go (polled), then, TaskDuration/2 after the request (or once the
// namespaces are gone, if later) the control plane VMs, after TaskDuration the Namespaces pools and
// the record.
const (
	removeDraining = 0
	removeVMs      = 1
	removePools    = 2
	removeDone     = 3
)

// errStale aborts a status write whose operation was replaced while the controller worked.
var errStale = errors.New("the Supervisor's operation changed; reconciling again")

func (f *Family) reconcile(ctx context.Context, key string) (controller.Result, error) {
	r, ok := f.supervisors.Get(key)
	if !ok {
		return controller.Result{}, nil
	}
	var res controller.Result
	var err error
	switch r.Value.Phase {
	case phaseEnabling:
		res, err = f.reconcileEnable(ctx, r.Value)
	case phaseRunning:
		res, err = f.reconcileRunning(ctx, r.Value)
	case phaseRemoving:
		res, err = f.reconcileRemove(ctx, r.Value)
	}
	if errors.Is(err, errStale) {
		// Look again at once (a timed requeue would wait for the clock to move).
		f.ctl.Enqueue(key)
		return controller.Result{}, nil
	}
	if err != nil {
		f.logLine(key, "warn", fmt.Sprintf("%s: %v (will retry)", r.Value.Phase, err))
	}
	return res, err
}

// rebase keeps a phase's start consistent with the steps already taken: after a restart under a
// clock that restarted earlier (a test's fake clock), steps never go backwards and the next one
// still takes a full step.
func rebase(started time.Time, step int, stepDur time.Duration, now time.Time) time.Time {
	if latest := now.Add(-time.Duration(step) * stepDur); started.After(latest) {
		return latest
	}
	return started
}

// mutate writes to the record of s if its operation is still s's.
func (f *Family) mutate(ctx context.Context, s supervisor, fn func(v *supervisor)) error {
	_, err := f.supervisors.Mutate(ctx, s.Cluster, func(v *supervisor) error {
		if v.Op != s.Op || v.Phase != s.Phase {
			return errStale
		}
		fn(v)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errStale
	}
	return err
}

func (f *Family) reconcileEnable(ctx context.Context, s supervisor) (controller.Result, error) {
	now := f.now()
	stepDur := f.taskDuration() / time.Duration(len(enableSteps))
	start := rebase(s.PhaseStarted, s.Step, stepDur, now)
	target := max(s.Step, min(len(enableSteps), int(now.Sub(start)/stepDur)))
	failing := s.Fault != nil && s.Fault.Mode == faults.ModeError && target >= faultStep
	stalled := s.Fault != nil && s.Fault.Mode == faults.ModeStall && target >= faultStep
	if failing || stalled {
		target = faultStep
	}
	deploy := target >= 1
	powerOn := target >= 2 && !failing
	pool, err := f.ensureControlPlane(ctx, &s, deploy, powerOn)
	if err != nil {
		return controller.Result{}, err
	}
	done := target >= len(enableSteps)
	err = f.mutate(ctx, s, func(v *supervisor) {
		v.NamespacesPool = pool
		if v.Step != target {
			v.logEvent(now, "info", fmt.Sprintf("enable reached step %d of %d", min(target+1, len(enableSteps)), len(enableSteps)))
		}
		v.Step, v.PhaseStarted = target, start
		v.Conditions = enableConditions(v.Conditions, target, now, failing, v.Fault)
		switch {
		case failing:
			msg := v.Fault.Message
			v.Phase, v.ConfigStatus, v.KubernetesStatus = phaseFailed, platform.StatusError, "ERROR"
			v.Messages = []Message{newMessage("ERROR", "wcpd.supervisor.enable.failed",
				fmt.Sprintf("Enabling the Supervisor failed while configuring the control plane VMs: %s", msg), msg)}
			v.KubernetesMessages = []Message{newMessage("ERROR", "wcpd.supervisor.kubernetes.unavailable",
				"The Kubernetes API server did not start.")}
			v.Fault = nil
			v.logEvent(now, "error", "enable failed: "+msg)
		case done:
			v.Phase, v.ConfigStatus, v.KubernetesStatus = phaseRunning, platform.StatusRunning, "READY"
			v.Messages, v.KubernetesMessages = []Message{}, []Message{}
			v.ManagementEndpoint, v.APIServers, v.ClusterEndpoint = endpoints(v.Spec, v.LoadBalancers)
			v.ManagementCertificate = selfSignedPEM(v.ManagementEndpoint, v.Spec.MasterDNSNames, now)
			v.Fault = nil
			v.logEvent(now, "info", fmt.Sprintf("Supervisor %s is running Kubernetes %s at %s", v.Name, v.Version, v.ManagementEndpoint))
		default:
			v.Messages = []Message{newMessage("INFO", "wcpd.supervisor.enable.progress", enableSteps[target].Progress)}
			v.KubernetesMessages = []Message{newMessage("INFO", "wcpd.supervisor.kubernetes.pending",
				"The Kubernetes API server is not available until the Supervisor is configured.")}
		}
	})
	if err != nil || done || failing || stalled {
		return controller.Result{}, err
	}
	return f.until(s.Cluster, start.Add(time.Duration(target+1)*stepDur)), nil
}

// until asks to be reconciled again at deadline. It measures from the clock as it is now, not as
// it was when the pass started: the pass may have taken a while (or a test advanced the clock
// meanwhile), and the controller adds the delay to the clock's time when it returns.
func (f *Family) until(key string, deadline time.Time) controller.Result {
	d := deadline.Sub(f.now())
	if d <= 0 {
		f.ctl.Enqueue(key)
		return controller.Result{}
	}
	return controller.Result{RequeueAfter: d}
}

// enableConditions renders the conditions of an enable that has completed target steps.
func enableConditions(prev []Condition, target int, now time.Time, failing bool, fault *platform.Fault) []Condition {
	out := make([]Condition, len(enableSteps))
	for i, st := range enableSteps {
		c := Condition{Type: st.Type, Description: localizable("wcpd.supervisor.condition."+st.Type, st.Done), Severity: "INFO", Messages: []Message{}}
		switch {
		case i < target:
			c.Status, c.Reason = "TRUE", st.Reason
		case i == target && failing:
			c.Status, c.Reason, c.Severity = "FALSE", "FailedWithSystemError", "ERROR"
			c.Messages = []Message{newMessage("ERROR", "wcpd.supervisor.enable.failed", fault.Message, fault.Message)}
		case i == target:
			c.Status, c.Reason = "FALSE", "InProgress"
			c.Messages = []Message{newMessage("INFO", "wcpd.supervisor.enable.progress", st.Progress)}
		default:
			c.Status, c.Reason = "UNKNOWN", "Pending"
		}
		t := vapi.NewDateTime(now)
		c.LastTransitionTime = &t
		for _, p := range prev {
			if p.Type == c.Type && p.Status == c.Status && p.LastTransitionTime != nil {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		out[i] = c
	}
	return out
}

func (f *Family) reconcileRunning(ctx context.Context, s supervisor) (controller.Result, error) {
	pool, err := f.ensureControlPlane(ctx, &s, true, true)
	if err != nil {
		return controller.Result{}, err
	}
	now := f.now()
	up := s.Upgrade
	if up == nil || up.State != stateUpgradePending {
		return controller.Result{}, f.mutate(ctx, s, func(v *supervisor) { v.NamespacesPool = pool; f.reportKubernetes(v) })
	}
	stepDur := f.taskDuration() / controlPlaneVMs
	start := rebase(up.PhaseStarted, up.Completed, stepDur, now)
	target := max(up.Completed, min(controlPlaneVMs, int(now.Sub(start)/stepDur)))
	// An injected fault hits the second node: the first one is upgraded, then the upgrade fails
	// (ERROR) or never moves on (STALL).
	failing := up.Fault != nil && up.Fault.Mode == faults.ModeError && target >= 2
	stalled := up.Fault != nil && up.Fault.Mode == faults.ModeStall && target >= 1
	if failing || stalled {
		target = 1
	}
	done := target >= controlPlaneVMs
	err = f.mutate(ctx, s, func(v *supervisor) {
		v.NamespacesPool = pool
		u := v.Upgrade
		if u == nil || u.DesiredVersion != up.DesiredVersion || u.State != stateUpgradePending {
			return
		}
		if u.Completed != target {
			v.logEvent(now, "info", fmt.Sprintf("upgrade to %s: %d of %d control plane nodes upgraded", u.DesiredVersion, target, controlPlaneVMs))
		}
		u.Completed, u.PhaseStarted = target, start
		switch {
		case failing:
			msg := u.Fault.Message
			u.State, u.Fault = stateUpgradeError, nil
			u.Messages = append(u.Messages, softwareMessage{Severity: "ERROR",
				Details: localizable("wcpd.supervisor.upgrade.failed", fmt.Sprintf("Upgrading control plane node 2 to %s failed: %s", u.DesiredVersion, msg), u.DesiredVersion, msg)})
			v.KubernetesStatus = "WARNING"
			v.KubernetesMessages = []Message{newMessage("WARNING", "wcpd.supervisor.upgrade.partial",
				fmt.Sprintf("The control plane runs mixed Kubernetes versions after a failed upgrade to %s; upgrade again to finish.", u.DesiredVersion), u.DesiredVersion)}
			v.logEvent(now, "error", "upgrade failed: "+msg)
		case done:
			at := now
			v.SoftwareMessages = append(u.Messages, softwareMessage{Severity: "INFO",
				Details: localizable("wcpd.supervisor.upgrade.done", fmt.Sprintf("The Supervisor was upgraded from %s to %s.", v.Version, u.DesiredVersion), v.Version, u.DesiredVersion)})
			v.logEvent(now, "info", fmt.Sprintf("upgraded from %s to %s", v.Version, u.DesiredVersion))
			v.Version, v.LastUpgraded, v.Upgrades, v.Upgrade = u.DesiredVersion, &at, v.Upgrades+1, nil
			v.KubernetesStatus, v.KubernetesMessages = "READY", []Message{}
		}
	})
	if err != nil || done || failing || stalled {
		if err == nil && done {
			// Annotate the VMs with the new version.
			f.ctl.Enqueue(s.Cluster)
		}
		return controller.Result{}, err
	}
	return f.until(s.Cluster, start.Add(time.Duration(target+1)*stepDur)), nil
}

func (f *Family) reconcileRemove(ctx context.Context, s supervisor) (controller.Result, error) {
	now := f.now()
	d := f.taskDuration()
	if s.Step == removeDraining {
		left := 0
		if ns := f.deps.Families.Namespaces; ns != nil {
			for _, c := range s.Clusters {
				if err := ns.RemoveAllOnCluster(ctx, c); err != nil {
					return controller.Result{}, err
				}
				left += len(ns.OnCluster(c))
			}
		}
		if left > 0 {
			err := f.mutate(ctx, s, func(v *supervisor) {
				v.Messages = []Message{newMessage("INFO", "wcpd.supervisor.disable.namespaces",
					fmt.Sprintf("Removing the Supervisor: waiting for %d namespace(s) to be removed.", left), fmt.Sprint(left))}
			})
			return controller.Result{RequeueAfter: max(d/10, 100*time.Millisecond)}, err
		}
		// The teardown is timed from the disable request, not from here: a Supervisor whose
		// namespaces went quickly is gone TaskDuration after the request.
		err := f.mutate(ctx, s, func(v *supervisor) {
			v.Step = removeVMs
			v.Messages = []Message{newMessage("INFO", "wcpd.supervisor.disable.vms", "Removing the Supervisor: deleting the control plane VMs.")}
			v.logEvent(now, "info", "namespaces removed; deleting the control plane")
		})
		if err != nil {
			return controller.Result{}, err
		}
		s.Step = removeVMs
	}
	stepDur := d / 2
	start := rebase(s.PhaseStarted, s.Step-removeVMs, stepDur, now)
	target := max(s.Step, min(removeDone, removeVMs+int(now.Sub(start)/stepDur)))
	failing := s.Fault != nil && s.Fault.Mode == faults.ModeError && target >= removePools
	stalled := s.Fault != nil && s.Fault.Mode == faults.ModeStall && target >= removePools
	if failing || stalled {
		target = removeVMs
	}
	if failing {
		return controller.Result{}, f.mutate(ctx, s, func(v *supervisor) {
			msg := v.Fault.Message
			v.Phase, v.ConfigStatus, v.KubernetesStatus, v.Fault = phaseFailed, platform.StatusError, "ERROR", nil
			v.Messages = []Message{newMessage("ERROR", "wcpd.supervisor.disable.failed",
				fmt.Sprintf("Disabling the Supervisor failed while deleting the control plane VMs: %s", msg), msg)}
			v.logEvent(now, "error", "disable failed: "+msg)
		})
	}
	if target >= removePools {
		if err := f.removeControlPlaneVMs(ctx, &s); err != nil {
			return controller.Result{}, err
		}
	}
	if target >= removeDone {
		if err := f.removePools(ctx, &s); err != nil {
			return controller.Result{}, err
		}
		r, ok := f.supervisors.Get(s.Cluster)
		if !ok {
			return controller.Result{}, nil
		}
		if r.Value.Op != s.Op || r.Value.Phase != s.Phase {
			return controller.Result{}, errStale
		}
		if err := f.supervisors.Delete(ctx, s.Cluster, r.Revision); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return controller.Result{}, errStale
			}
			if errors.Is(err, store.ErrNotFound) {
				return controller.Result{}, nil
			}
			return controller.Result{}, err
		}
		f.logger().Info("Supervisor removed", "cluster", s.Cluster, "supervisor", s.ID)
		return controller.Result{}, nil
	}
	err := f.mutate(ctx, s, func(v *supervisor) {
		v.Step, v.PhaseStarted = target, start
		if target == removePools {
			v.Messages = []Message{newMessage("INFO", "wcpd.supervisor.disable.pools", "Removing the Supervisor: deleting the Namespaces resource pool.")}
		}
	})
	if err != nil || stalled {
		return controller.Result{}, err
	}
	return f.until(s.Cluster, start.Add(time.Duration(target-removeVMs+1)*stepDur)), nil
}
