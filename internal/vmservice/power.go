package vmservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/types"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/admission"
)

// Power operations follow VM Operator's modes: Hard acts on the VM (power off, suspend, reset),
// Soft asks the guest (shut down, stand by, reboot: VMware Tools must run), TrySoft (the default)
// asks the guest and acts on the VM if the guest refuses or has not done it within softTimeout.

// softTimeout is how long a soft power operation may take before TrySoft acts on the VM.
const softTimeout = 5 * time.Minute

// restartNow is the value of spec.nextRestartTime that asks for a restart.
const restartNow = "now"

// MutationHandler serves the mutating webhook for VirtualMachines: a spec.nextRestartTime of "now"
// (any case) becomes the current time, which the controller compares with status.lastRestartTime.
func (c *Controller) MutationHandler() http.Handler {
	return admission.MutatingHandler(func(_ context.Context, _ string, req *admissionv1.AdmissionRequest) ([]byte, *metav1.Status) {
		var vm vmopv1.VirtualMachine
		if err := json.Unmarshal(req.Object.Raw, &vm); err != nil || !strings.EqualFold(vm.Spec.NextRestartTime, restartNow) {
			return nil, nil
		}
		patch, _ := json.Marshal([]map[string]any{{"op": "replace", "path": "/spec/nextRestartTime",
			"value": time.Now().UTC().Format(time.RFC3339Nano)}})
		return patch, nil
	})
}

// restartProblem says why a change of spec.nextRestartTime is refused: users may only set "now",
// which the mutating webhook has turned into the time by then.
func restartProblem(old, vm *vmopv1.VirtualMachine) string {
	next := vm.Spec.NextRestartTime
	if next == "" || (old != nil && next == old.Spec.NextRestartTime) {
		return ""
	}
	at, err := time.Parse(time.RFC3339Nano, next)
	if err != nil || at.After(time.Now().Add(time.Minute)) {
		return fmt.Sprintf(`spec.nextRestartTime: %q: the only value that may be set is "now" (a restart cannot be scheduled)`, next)
	}
	if old == nil {
		return `spec.nextRestartTime: a new VirtualMachine cannot ask for a restart; set it to "now" once the VM runs`
	}
	return ""
}

// powerOff powers the VM off as mode says.
func powerOff(ctx context.Context, vm *object.VirtualMachine, mode vmopv1.VirtualMachinePowerOpMode) error {
	return softOrHard(ctx, mode,
		func() error {
			if err := vm.ShutdownGuest(ctx); err != nil {
				return err
			}
			return waitPowerState(ctx, vm, types.VirtualMachinePowerStatePoweredOff)
		},
		func() error { return runTask(ctx)(vm.PowerOff(ctx)) })
}

// suspend suspends the VM as mode says.
func suspend(ctx context.Context, vm *object.VirtualMachine, mode vmopv1.VirtualMachinePowerOpMode) error {
	return softOrHard(ctx, mode,
		func() error {
			if err := vm.StandbyGuest(ctx); err != nil {
				return err
			}
			return waitPowerState(ctx, vm, types.VirtualMachinePowerStateSuspended)
		},
		func() error { return runTask(ctx)(vm.Suspend(ctx)) })
}

// restart restarts the VM as mode says.
func restart(ctx context.Context, vm *object.VirtualMachine, mode vmopv1.VirtualMachinePowerOpMode) error {
	return softOrHard(ctx, mode,
		func() error { return vm.RebootGuest(ctx) },
		func() error { return runTask(ctx)(vm.Reset(ctx)) })
}

// softOrHard runs soft, hard, or soft then hard when soft fails (TrySoft, the default).
func softOrHard(ctx context.Context, mode vmopv1.VirtualMachinePowerOpMode, soft, hard func() error) error {
	switch mode {
	case vmopv1.VirtualMachinePowerOpModeHard:
		return hard()
	case vmopv1.VirtualMachinePowerOpModeSoft:
		if err := soft(); err != nil {
			return fmt.Errorf("the guest did not do it (powerOpMode Soft needs VMware Tools running in the guest): %w", err)
		}
		return nil
	}
	if err := soft(); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return hard()
	}
	return nil
}

// runTask waits for a task a call started.
func runTask(ctx context.Context) func(*object.Task, error) error {
	return func(task *object.Task, err error) error {
		if err != nil {
			return err
		}
		return task.Wait(ctx)
	}
}

// waitPowerState waits until the VM is in state, or softTimeout passes.
func waitPowerState(ctx context.Context, vm *object.VirtualMachine, state types.VirtualMachinePowerState) error {
	ctx, cancel := context.WithTimeout(ctx, softTimeout)
	defer cancel()
	err := property.Wait(ctx, property.DefaultCollector(vm.Client()), vm.Reference(), []string{"runtime.powerState"}, func(changes []types.PropertyChange) bool {
		for _, ch := range changes {
			if s, ok := ch.Val.(types.VirtualMachinePowerState); ok && s == state {
				return true
			}
		}
		return false
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the guest did not reach %s within %s", state, softTimeout)
	}
	return err
}

// restartIfAsked restarts a powered-on VM whose spec.nextRestartTime is later than its last
// restart, and records the restart in status.lastRestartTime.
func (c *Controller) restartIfAsked(ctx context.Context, ref types.ManagedObjectReference, vm *vmopv1.VirtualMachine) error {
	next := vm.Spec.NextRestartTime
	if next == "" || vm.Spec.PowerState == vmopv1.VirtualMachinePowerStateOff || vm.Spec.PowerState == vmopv1.VirtualMachinePowerStateSuspended {
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, next)
	if err != nil {
		return nil // refused at admission; one written before the webhook existed is ignored
	}
	if last := vm.Status.LastRestartTime; last != nil && !at.After(last.Time) {
		return nil
	}
	// A restart whose status write failed (a conflict) is not done twice.
	c.mu.Lock()
	done := c.restarted[vm.UID]
	c.mu.Unlock()
	if !at.After(done) {
		vm.Status.LastRestartTime = &metav1.Time{Time: at}
		return nil
	}
	if err := restart(ctx, object.NewVirtualMachine(c.inv.Client(), ref), vm.Spec.RestartMode); err != nil {
		return fmt.Errorf("restarting %s/%s: %w", vm.Namespace, vm.Name, err)
	}
	c.recordRestart(vm.UID, at)
	vm.Status.LastRestartTime = &metav1.Time{Time: at}
	c.log.Info("VM Service VM restarted", "namespace", vm.Namespace, "name", vm.Name, "vm", ref.Value, "mode", vm.Spec.RestartMode)
	return nil
}

func (c *Controller) recordRestart(uid k8stypes.UID, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restarted[uid] = at
}
