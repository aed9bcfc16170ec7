// Package faults owns wcpd's fault injection: the /api/wcpd/faults extension, through which an
// administrator arms "the next <operation> on <target> ends in ERROR with this message" or "...
// stalls", and platform.Faults, through which the families that run those operations consume what
// was armed. Armed faults are kept in the store, so they survive a restart until taken or cleared.
package faults

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Fault modes.
const (
	ModeError = "ERROR"
	ModeStall = "STALL"
)

// Mode is how an armed operation fails.
type Mode string

// EnumValues lists the modes.
func (Mode) EnumValues() []string { return []string{ModeError, ModeStall} }

// CreateSpec arms a fault.
type CreateSpec struct {
	// Operation is what fails: enable, disable, upgrade (Supervisors), install (Supervisor
	// Services), or another operation a family documents.
	Operation string `json:"operation"`
	// Target is what it fails on: a cluster MoRef id for Supervisor operations, a service id for
	// service installs.
	Target  string  `json:"target"`
	Mode    Mode    `json:"mode"`
	Message *string `json:"message,omitempty"`
}

// Info is an armed fault.
type Info struct {
	Fault     string        `json:"fault"`
	Operation string        `json:"operation"`
	Target    string        `json:"target"`
	Mode      string        `json:"mode"`
	Message   string        `json:"message"`
	Created   vapi.DateTime `json:"created"`
	CreatedBy string        `json:"created_by"`
}

// record is what the store keeps per armed fault, keyed by "<operation>:<target>".
type record struct {
	Operation string    `json:"operation"`
	Target    string    `json:"target"`
	Mode      string    `json:"mode"`
	Message   string    `json:"message"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// TargetCheck validates a target for an operation; it returns a reason when the target is unusable
// and "" when it is fine. Families that own operations register one.
type TargetCheck func(ctx context.Context, target string) string

// Faults serves /api/wcpd/faults and implements platform.Faults.
type Faults struct {
	deps   *platform.Deps
	coll   *store.Collection[record]
	checks map[string]TargetCheck
}

// New builds the fault injector. Like a family constructor it only keeps deps.
func New(d *platform.Deps) *Faults { return &Faults{deps: d, checks: map[string]TargetCheck{}} }

// CheckTargets makes arming operation validate its target with check (e.g. "the cluster exists").
// Operations without a check accept any non-empty target.
func (f *Faults) CheckTargets(operation string, check TargetCheck) { f.checks[operation] = check }

// The extension's operations. Arming faults changes how other users' operations behave, so it needs
// Global.Settings, which only the Admin role holds.
var (
	createBinding = vapi.Binding{Service: "com.wcpd.faults", Name: "create", Method: "POST",
		Path: "/wcpd/faults", Body: "spec", Status: 201, Privilege: auth.GlobalSettings}
	listBinding = vapi.Binding{Service: "com.wcpd.faults", Name: "list", Method: "GET",
		Path: "/wcpd/faults", Status: 200, Privilege: auth.GlobalSettings}
	getBinding = vapi.Binding{Service: "com.wcpd.faults", Name: "get", Method: "GET",
		Path: "/wcpd/faults/{fault}", Status: 200, Privilege: auth.GlobalSettings}
	deleteBinding = vapi.Binding{Service: "com.wcpd.faults", Name: "delete", Method: "DELETE",
		Path: "/wcpd/faults/{fault}", Status: 204, Privilege: auth.GlobalSettings}
	clearBinding = vapi.Binding{Service: "com.wcpd.faults", Name: "clear", Method: "DELETE",
		Path: "/wcpd/faults", Status: 204, Privilege: auth.GlobalSettings}
)

// Register attaches the extension's handlers; it must not touch deps.
func (f *Faults) Register(r *vapi.Registry) {
	r.Extend(createBinding, f.create, false)
	r.Extend(listBinding, f.list, false)
	r.Extend(getBinding, f.get, false)
	r.Extend(deleteBinding, f.delete, false)
	r.Extend(clearBinding, f.clear, false)
	// Armed faults are records in the store: the API keeps the answers of their reads.
	r.Keep(listBinding.Service, listBinding.Name, getBinding.Name)
}

// Start opens the store collection.
func (f *Faults) Start(context.Context) error {
	c, err := store.NewCollection[record](f.deps.Store, "faults")
	if err != nil {
		return err
	}
	f.coll = c
	return nil
}

var operationPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// ID is the id of the fault armed for operation on target.
func ID(operation, target string) string { return operation + ":" + target }

func (f *Faults) create(c *vapi.Call) (any, error) {
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	if !operationPattern.MatchString(spec.Operation) {
		errs.Add("spec.operation", spec.Operation, "must be an operation name such as enable, disable, upgrade or install")
	}
	if strings.TrimSpace(spec.Target) == "" || strings.ContainsAny(spec.Target, "/:") {
		errs.Add("spec.target", spec.Target, "must be the id of what the operation acts on (a cluster such as domain-c9, a service id), without '/' or ':'")
	} else if check := f.checks[spec.Operation]; check != nil {
		if reason := check(c.Ctx, spec.Target); reason != "" {
			errs.Add("spec.target", spec.Target, reason)
		}
	}
	msg := ""
	if spec.Message != nil {
		msg = strings.TrimSpace(*spec.Message)
	}
	if spec.Mode == ModeError && msg == "" {
		errs.Add("spec.message", msg, "an ERROR fault needs the message the failed operation reports")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	rec := record{Operation: spec.Operation, Target: spec.Target, Mode: string(spec.Mode), Message: msg,
		Created: f.deps.Clock.Now().UTC(), CreatedBy: c.Principal.String()}
	id := ID(spec.Operation, spec.Target)
	if _, err := f.coll.Create(c.Ctx, id, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.faults.exists",
				"A fault is already armed for the next %s on %s; delete %s first to arm another.", spec.Operation, spec.Target, id)
		}
		return nil, err
	}
	return info(id, rec), nil
}

func info(id string, r record) Info {
	return Info{Fault: id, Operation: r.Operation, Target: r.Target, Mode: r.Mode, Message: r.Message,
		Created: vapi.NewDateTime(r.Created), CreatedBy: r.CreatedBy}
}

func (f *Faults) list(*vapi.Call) (any, error) {
	out := []Info{}
	for _, r := range f.coll.List() {
		out = append(out, info(r.Key, r.Value))
	}
	return out, nil
}

func (f *Faults) get(c *vapi.Call) (any, error) {
	id := c.Path("fault")
	r, ok := f.coll.Get(id)
	if !ok {
		return nil, vapi.NotFound("Fault", id)
	}
	return info(id, r.Value), nil
}

func (f *Faults) delete(c *vapi.Call) (any, error) {
	id := c.Path("fault")
	if err := f.coll.Delete(c.Ctx, id, 0); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, vapi.NotFound("Fault", id)
		}
		return nil, err
	}
	return nil, nil
}

func (f *Faults) clear(c *vapi.Call) (any, error) {
	for _, r := range f.coll.List() {
		if err := f.coll.Delete(c.Ctx, r.Key, r.Revision); err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, nil
}

// Take consumes the fault armed for operation on target. Two callers racing for one fault cannot
// both get it: the delete is conditional on the revision read.
func (f *Faults) Take(operation, target string) (platform.Fault, bool) {
	if f.coll == nil {
		return platform.Fault{}, false
	}
	id := ID(operation, target)
	r, ok := f.coll.Get(id)
	if !ok {
		return platform.Fault{}, false
	}
	if err := f.coll.Delete(context.Background(), id, r.Revision); err != nil {
		return platform.Fault{}, false
	}
	return platform.Fault{Mode: r.Value.Mode, Message: r.Value.Message}, true
}

// Restore re-arms a fault that was taken by an operation that then failed to start, so the fault
// still hits the next attempt.
func (f *Faults) Restore(operation, target string, fault platform.Fault) {
	if f.coll == nil {
		return
	}
	rec := record{Operation: operation, Target: target, Mode: fault.Mode, Message: fault.Message,
		Created: f.deps.Clock.Now().UTC(), CreatedBy: "wcpd (restored)"}
	_, _ = f.coll.Create(context.Background(), ID(operation, target), rec)
}
