package selfservice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// record is the self-service of one Supervisor, stored under its (primary) cluster: its template,
// whether the administrator wants self-service on (Active), and what the controller has made of it.
type record struct {
	Cluster string `json:"cluster"`
	// Supervisor is the id of the Supervisor the record belongs to. A record whose Supervisor is no
	// longer the cluster's (disabled, perhaps enabled again since) is stale: it is read as absent
	// and the controller deletes it.
	Supervisor string    `json:"supervisor"`
	Template   *template `json:"template,omitempty"`
	// Active is the desired state: activate and activate_with_template set it, deactivate clears it.
	Active bool   `json:"active"`
	Status Status `json:"status"`
	// Activating is set while an activation's work is to be done; WorkStarted is when it started,
	// zero while it waits for the Supervisor to be RUNNING. The work takes the task duration.
	Activating  bool      `json:"activating,omitempty"`
	WorkStarted time.Time `json:"work_started,omitzero"`
	Messages    []Message `json:"messages,omitempty"`
}

// template is a Supervisor's one self-service template.
type template struct {
	Name        string                   `json:"name"`
	Permissions []Subject                `json:"permissions,omitempty"`
	Config      platform.NamespaceConfig `json:"config"`
	CreatedAt   time.Time                `json:"created_at"`
	CreatedBy   string                   `json:"created_by"`
}

// fresh is the record of a Supervisor without self-service configuration.
func fresh(sup platform.SupervisorState) record {
	return record{Cluster: sup.Cluster, Supervisor: sup.ID, Status: StatusDeactivated}
}

// current returns the record of the Supervisor sup, or its absence; stale records are absent.
func (f *Family) current(sup platform.SupervisorState) (record, bool) {
	r, ok := f.records.Get(sup.Cluster)
	if !ok || r.Value.Supervisor != sup.ID {
		return fresh(sup), false
	}
	return r.Value, true
}

// change applies fn to the record of the Supervisor sup (a fresh one when there is none or it is
// stale) and stores the result in one write; when fn fails nothing is written. fn may run more than
// once (the store retries on concurrent writes), so it must only change the record it is given.
func (f *Family) change(ctx context.Context, sup platform.SupervisorState, fn func(r *record) error) error {
	for range 4 {
		if _, ok := f.records.Get(sup.Cluster); !ok {
			r := fresh(sup)
			if err := fn(&r); err != nil {
				return err
			}
			if _, err := f.records.Create(ctx, sup.Cluster, r); !errors.Is(err, store.ErrExists) {
				if err != nil {
					return storeError(err, sup.Cluster)
				}
				f.ctl.Enqueue(sup.Cluster)
				return nil
			}
			continue // created meanwhile: change that one
		}
		_, err := f.records.Mutate(ctx, sup.Cluster, func(r *record) error {
			if r.Supervisor != sup.ID {
				*r = fresh(sup)
			}
			return fn(r)
		})
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile (a stale record): start from a fresh one
		}
		if err != nil {
			return storeError(err, sup.Cluster)
		}
		f.ctl.Enqueue(sup.Cluster)
		return nil
	}
	return storeError(store.ErrConflict, sup.Cluster)
}

// message builds one Instances.Message.
func message(severity, id, text string, args ...string) Message {
	if args == nil {
		args = []string{}
	}
	return Message{Severity: severity, Details: &vapi.Message{ID: id, DefaultMessage: text, Args: args}}
}

// waitingMessage says that a change waits for the Supervisor to be RUNNING (seed 000, note 8).
func waitingMessage(sup platform.SupervisorState, what string) Message {
	return message("INFO", "wcpd.selfservice.waiting",
		fmt.Sprintf("The Supervisor on cluster %s is %s; %s proceeds once it is RUNNING.", sup.Cluster, sup.ConfigStatus, what),
		sup.Cluster, sup.ConfigStatus, what)
}

// requestActivation starts activating self-service: CONFIGURING, with the activation's work
// starting now if the Supervisor is RUNNING, or once it is.
func (f *Family) requestActivation(r *record, sup platform.SupervisorState) {
	r.Active, r.Activating, r.Status = true, true, StatusConfiguring
	if sup.ConfigStatus == platform.StatusRunning {
		r.WorkStarted = f.now()
		r.Messages = []Message{message("INFO", "wcpd.selfservice.activating",
			fmt.Sprintf("Activating namespace self-service on cluster %s.", sup.Cluster), sup.Cluster)}
		return
	}
	r.WorkStarted = time.Time{}
	r.Messages = []Message{waitingMessage(sup, "the activation of namespace self-service")}
}

// templateChanged records that an active self-service's template changed: it applies at once on
// a RUNNING Supervisor, and otherwise waits for it (CONFIGURING). An activation under way goes on.
func templateChanged(r *record, sup platform.SupervisorState) {
	if !r.Active || r.Activating || sup.ConfigStatus == platform.StatusRunning {
		return
	}
	r.Status = StatusConfiguring
	r.Messages = []Message{waitingMessage(sup, "the change of the self-service template")}
}

// capability is what the Supervisor allows: self-service needs it RUNNING. While it is being
// configured or in error, whether it will is not known yet.
func capability(sup platform.SupervisorState, ok bool) Capability {
	switch {
	case !ok || sup.ConfigStatus == platform.StatusRemoving:
		return CapabilityNotSupported
	case sup.ConfigStatus == platform.StatusRunning:
		return CapabilitySupported
	}
	return CapabilityUnknown
}

// names reports whether the template's permissions name the user (directly, or through one of
// the groups it belongs to).
func (t *template) names(name, domain string, inGroup func(string) bool) bool {
	for _, s := range t.Permissions {
		if !strings.EqualFold(s.Domain, domain) {
			continue
		}
		switch s.SubjectType {
		case SubjectUser:
			if strings.EqualFold(s.Subject, name) {
				return true
			}
		case SubjectGroup:
			if inGroup(s.Subject) {
				return true
			}
		}
	}
	return false
}

// nameTakenElsewhere returns the cluster whose live template is called name, other than cluster.
func (f *Family) nameTakenElsewhere(name, cluster string) (string, bool) {
	for _, rec := range f.records.ListShared() {
		r := rec.Value
		if r.Cluster == cluster || r.Template == nil || r.Template.Name != name {
			continue
		}
		if sup, ok := f.supervisor(r.Cluster); ok && sup.ID == r.Supervisor {
			return r.Cluster, true
		}
	}
	return "", false
}
