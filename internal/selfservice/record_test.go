package selfservice

import (
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
)

// The state machine of one Supervisor's self-service, step by step (the end-to-end tests in
// test/selfservice_test.go drive the same steps through the API; a template change waiting for a
// Supervisor that is not RUNNING is only reachable here, as wcpd's Supervisors stay RUNNING while
// they are upgraded).
func TestSelfServiceSteps(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	f := &Family{deps: &platform.Deps{Clock: fake, TaskDuration: 10 * time.Second}}
	running := platform.SupervisorState{Cluster: "domain-c9", ID: "sv", ConfigStatus: platform.StatusRunning}
	upgrading := running
	upgrading.ConfigStatus = platform.StatusConfiguring

	r := fresh(running)
	r.Template = &template{Name: "t"}
	f.requestActivation(&r, running)
	if r.Status != StatusConfiguring || !r.WorkStarted.Equal(fake.Now()) {
		t.Fatalf("activation requested: %+v", r)
	}
	if res := f.step(&r, running); r.Status != StatusConfiguring || res != (controller.Result{RequeueAfter: 10 * time.Second}) {
		t.Fatalf("activation under way: %+v %+v", r, res)
	}
	fake.Advance(10 * time.Second)
	if f.step(&r, running); r.Status != StatusRunning || r.Activating || len(r.Messages) != 0 {
		t.Fatalf("activation done: %+v", r)
	}

	// A template change on a RUNNING Supervisor applies at once; otherwise it waits, saying so.
	if templateChanged(&r, running); r.Status != StatusRunning {
		t.Fatalf("template change on a RUNNING Supervisor: %+v", r)
	}
	templateChanged(&r, upgrading)
	if r.Status != StatusConfiguring || !strings.Contains(r.Messages[0].Details.DefaultMessage, "is CONFIGURING; the change of the self-service template proceeds once it is RUNNING") {
		t.Fatalf("template change waiting: %+v", r)
	}
	if res := f.step(&r, upgrading); r.Status != StatusConfiguring || res != (controller.Result{RequeueAfter: supervisorPoll}) {
		t.Fatalf("still waiting: %+v %+v", r, res)
	}
	if f.step(&r, running); r.Status != StatusRunning || len(r.Messages) != 0 {
		t.Fatalf("template change applied: %+v", r)
	}

	// An activation that waited does its work from when the Supervisor is RUNNING.
	r = fresh(upgrading)
	r.Template = &template{Name: "t"}
	f.requestActivation(&r, upgrading)
	fake.Advance(time.Hour)
	if f.step(&r, upgrading); !r.WorkStarted.IsZero() || r.Status != StatusConfiguring {
		t.Fatalf("activation waiting: %+v", r)
	}
	if res := f.step(&r, running); r.Status != StatusConfiguring || res != (controller.Result{RequeueAfter: 10 * time.Second}) {
		t.Fatalf("activation starting once RUNNING: %+v %+v", r, res)
	}

	if capability(running, true) != CapabilitySupported || capability(upgrading, true) != CapabilityUnknown ||
		capability(platform.SupervisorState{}, false) != CapabilityNotSupported {
		t.Fatal("capability")
	}
}
