package services

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// pollKey is the controller key of the pass that installs the services every Supervisor must run
// and forgets installs whose Supervisor is gone. Install keys are <cluster>/<service>, so they never
// collide with it.
const pollKey = "poll"

// pollInterval is how often that pass looks at the Supervisors (the platform offers no watch on them).
const pollInterval = 10 * time.Second

// retryInterval is how long an install waits before retrying a step that failed on another family.
const retryInterval = 10 * time.Second

// installRecord is a Supervisor Service on one Supervisor: the desired state set by create and set,
// and the progress the controller writes.
type installRecord struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	// DisplayName and Description are the service's when the install was made, shown if the
	// service record cannot be read.
	DisplayName       string            `json:"display_name"`
	Description       string            `json:"description,omitempty"`
	DesiredVersion    string            `json:"desired_version"`
	CurrentVersion    string            `json:"current_version,omitempty"`
	ConfigStatus      string            `json:"config_status"`
	ServiceConfig     map[string]string `json:"service_config,omitempty"`
	YAMLServiceConfig string            `json:"yaml_service_config,omitempty"`
	// Namespace is the service namespace's name, chosen when the install is made; ServiceNamespace is
	// set once that namespace exists.
	Namespace        string           `json:"namespace"`
	ServiceNamespace string           `json:"service_namespace,omitempty"`
	Prefix           string           `json:"prefix,omitempty"`
	Messages         []installMessage `json:"messages,omitempty"`
	// Generation counts create and set calls, so the controller never finishes a step that a newer
	// set has replaced.
	Generation int `json:"generation"`
	// StepStarted is when the current CONFIGURING or REMOVING step began; it ends TaskDuration later.
	StepStarted time.Time `json:"step_started"`
	// FaultChecked is set once the step consulted fault injection, so a restart does not do it twice.
	FaultChecked bool `json:"fault_checked,omitempty"`
	// Stalled is set by an injected STALL fault: the install stays CONFIGURING until the next set.
	Stalled bool `json:"stalled,omitempty"`
	// Automatic marks an install wcpd made itself (a service every Supervisor must run) and no user
	// has changed since; fault injection does not apply to it.
	Automatic bool `json:"automatic,omitempty"`
	// Applied are the Kubernetes objects the install applied (workloads.go), for AppliedGeneration;
	// Unfetchable names the kind of source of a Carvel package that could not be fetched.
	Applied           []platform.ObjectRef `json:"applied,omitempty"`
	AppliedGeneration int                  `json:"applied_generation,omitempty"`
	Unfetchable       string               `json:"unfetchable,omitempty"`
}

type installMessage struct {
	Severity string   `json:"severity"`
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Args     []string `json:"args,omitempty"`
}

func newMessage(severity, id, format string, args ...any) installMessage {
	strs := make([]string, len(args))
	for i, a := range args {
		strs[i] = fmt.Sprint(a)
	}
	return installMessage{Severity: severity, ID: "wcpd.supervisor_services.install." + id, Text: fmt.Sprintf(format, args...), Args: strs}
}

func installKey(cluster, service string) string { return cluster + "/" + service }

// --- the Supervisor a call addresses ---

func (f *Family) supervisors() platform.Supervisors {
	if f.deps.Families == nil {
		return nil
	}
	return f.deps.Families.Supervisors
}

func (f *Family) namespaces() platform.Namespaces {
	if f.deps.Families == nil {
		return nil
	}
	return f.deps.Families.Namespaces
}

// supervisorOn finds the Supervisor on the cluster a call names: NOT_FOUND when the cluster does not
// exist, NOT_ALLOWED_IN_CURRENT_STATE when it has no Supervisor to run services on.
func (f *Family) supervisorOn(ctx context.Context, cluster string) (platform.SupervisorState, error) {
	if sups := f.supervisors(); sups != nil {
		if sup, ok := sups.Supervisor(cluster); ok && sup.Cluster == cluster {
			return sup, nil
		}
	}
	exists, err := f.clusterExists(ctx, cluster)
	if err != nil {
		return platform.SupervisorState{}, err
	}
	if !exists {
		return platform.SupervisorState{}, vapi.NotFound("Cluster", cluster)
	}
	return platform.SupervisorState{}, notAllowed("install.no_supervisor",
		"Cluster %s has no Supervisor; Supervisor Services run on Supervisors.", cluster)
}

func requireRunning(sup platform.SupervisorState) error {
	if sup.ConfigStatus != platform.StatusRunning {
		return notAllowed("install.supervisor_not_running",
			"The Supervisor on cluster %s is %s; Supervisor Services are installed and changed only on a RUNNING Supervisor.",
			sup.Cluster, sup.ConfigStatus)
	}
	return nil
}

func installNotFound(cluster, service string) *vapi.Error {
	return vapi.NewError(vapi.ErrorNotFound, "wcpd.supervisor_services.install.not_found",
		fmt.Sprintf("Supervisor Service %q is not installed on the Supervisor of cluster %s.", service, cluster), service, cluster)
}

// installedOn lists the clusters where service is installed, at version if one is given (as the
// desired or the current version).
func (f *Family) installedOn(service, version string) []string {
	var out []string
	for _, rec := range f.installs.ListShared() {
		in := rec.Value
		if in.Service == service && (version == "" || in.DesiredVersion == version || in.CurrentVersion == version) {
			out = append(out, in.Cluster)
		}
	}
	return out
}

// installableVersion checks that a service and its version exist and are both activated.
func (f *Family) installableVersion(service, version string) (serviceRecord, error) {
	rec, ok := f.services.Get(service)
	if !ok {
		return serviceRecord{}, serviceNotFound(service)
	}
	v, ok := rec.Value.Versions[version]
	if !ok {
		return serviceRecord{}, versionNotFound(service, version)
	}
	switch {
	case rec.Value.State != stateActivated:
		return serviceRecord{}, notAllowed("install.service_deactivated", "Supervisor Service %s is DEACTIVATED; activate it before installing it.", service)
	case v.State != stateActivated:
		return serviceRecord{}, notAllowed("install.version_deactivated", "Version %s of Supervisor Service %s is DEACTIVATED; activate it before installing it.", version, service)
	}
	return rec.Value, nil
}

// --- handlers ---

func (f *Family) createInstall(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	sup, err := f.supervisorOn(c.Ctx, cluster)
	if err != nil {
		return nil, err
	}
	var spec installCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	yamlConfig, err := checkServiceConfig(spec.ServiceConfig, spec.YAMLServiceConfig)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// A missing service or version is NOT_FOUND; then the Supervisor's state, then the service's.
	svc, verr := f.installableVersion(spec.SupervisorService, spec.Version)
	if verr != nil && vapi.AsError(verr).Type == vapi.ErrorNotFound {
		return nil, verr
	}
	if err := requireRunning(sup); err != nil {
		return nil, err
	}
	if verr != nil {
		return nil, verr
	}
	key := installKey(cluster, svc.ID)
	if _, ok := f.installs.Get(key); ok {
		return nil, vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.supervisor_services.install.already_exists",
			fmt.Sprintf("Supervisor Service %q is already installed on the Supervisor of cluster %s; use set to change its version.", svc.ID, cluster),
			svc.ID, cluster)
	}
	rec := f.newInstall(cluster, svc, spec.Version, false)
	rec.ServiceConfig, rec.YAMLServiceConfig = spec.ServiceConfig, yamlConfig
	if _, err := f.installs.Create(c.Ctx, key, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.supervisor_services.install.already_exists",
				fmt.Sprintf("Supervisor Service %q is already installed on the Supervisor of cluster %s.", svc.ID, cluster), svc.ID, cluster)
		}
		return nil, err
	}
	f.ctl.Enqueue(key)
	return nil, nil
}

// newInstall is a fresh install record, CONFIGURING, with its service namespace's name chosen.
func (f *Family) newInstall(cluster string, svc serviceRecord, version string, automatic bool) installRecord {
	ns := f.namespaceName(cluster, svc.ID, false)
	return installRecord{
		Cluster: cluster, Service: svc.ID, DisplayName: svc.DisplayName, Description: svc.Description,
		DesiredVersion: version, ConfigStatus: installConfiguring, Namespace: ns, Generation: 1,
		StepStarted: f.now(), Automatic: automatic,
		Messages: []installMessage{newMessage(severityInfo, "configuring", "Installing version %s of Supervisor Service %s.", version, svc.ID)},
	}
}

// namespaceName chooses the service namespace's name: svc-<first label of the service id>-<cluster>,
// as vCenter names them, with a short hash of the service id added when another service or a user's
// namespace on the cluster already has that name (or always, if hashed). It is a DNS label of at
// most 63 characters.
func (f *Family) namespaceName(cluster, service string, hashed bool) string {
	short, _, _ := strings.Cut(service, ".")
	room := 63 - len("svc-") - len("-") - len(cluster) - len("-12345")
	if len(short) > room {
		short = strings.TrimRight(short[:max(room, 1)], "-")
	}
	base := "svc-" + short + "-" + cluster
	taken := map[string]bool{}
	for _, rec := range f.installs.ListShared() {
		if rec.Value.Cluster == cluster && rec.Value.Service != service {
			taken[rec.Value.Namespace] = true
		}
	}
	if ns := f.namespaces(); ns != nil {
		for _, name := range ns.OnCluster(cluster) {
			taken[name] = true
		}
	}
	if !hashed && !taken[base] {
		return base
	}
	sum := sha256.Sum256([]byte(service))
	return base + "-" + hex.EncodeToString(sum[:])[:5]
}

func (f *Family) getInstall(c *vapi.Call) (any, error) {
	cluster, service := c.Path("cluster"), c.Path("supervisorService")
	if _, err := f.supervisorOn(c.Ctx, cluster); err != nil {
		return nil, err
	}
	rec, ok := f.installs.Get(installKey(cluster, service))
	if !ok {
		return nil, installNotFound(cluster, service)
	}
	in := rec.Value
	info := installInfo{
		DesiredVersion: in.DesiredVersion, ConfigStatus: in.ConfigStatus, CurrentVersion: optional(in.CurrentVersion),
		ServiceNamespace: optional(in.ServiceNamespace), Prefix: optional(in.Prefix),
		DisplayName: in.DisplayName, Description: optional(in.Description),
		Messages:          []installMessageWire{},
		YAMLServiceConfig: visibleServiceConfig(in.ServiceConfig, in.YAMLServiceConfig),
	}
	if s, ok := f.services.Get(service); ok {
		info.DisplayName, info.Description = s.Value.DisplayName, optional(s.Value.Description)
	}
	for _, m := range in.Messages {
		args := m.Args
		if args == nil {
			args = []string{}
		}
		info.Messages = append(info.Messages, installMessageWire{Severity: m.Severity,
			Details: &vapi.Message{ID: m.ID, DefaultMessage: m.Text, Args: args}})
	}
	return info, nil
}

func (f *Family) listInstalls(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	if _, err := f.supervisorOn(c.Ctx, cluster); err != nil {
		return nil, err
	}
	out := []installSummary{}
	for _, rec := range f.installs.ListShared() {
		in := rec.Value
		if in.Cluster == cluster {
			out = append(out, installSummary{SupervisorService: in.Service, DesiredVersion: in.DesiredVersion,
				ConfigStatus: in.ConfigStatus, CurrentVersion: optional(in.CurrentVersion)})
		}
	}
	return out, nil
}

func (f *Family) setInstall(c *vapi.Call) (any, error) {
	cluster, service := c.Path("cluster"), c.Path("supervisorService")
	sup, err := f.supervisorOn(c.Ctx, cluster)
	if err != nil {
		return nil, err
	}
	key := installKey(cluster, service)
	if _, ok := f.installs.Get(key); !ok {
		return nil, installNotFound(cluster, service)
	}
	var spec installSetSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	yamlConfig, err := checkServiceConfig(spec.ServiceConfig, spec.YAMLServiceConfig)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, verr := f.installableVersion(service, spec.Version)
	if verr != nil && vapi.AsError(verr).Type == vapi.ErrorNotFound {
		return nil, verr
	}
	if err := requireRunning(sup); err != nil {
		return nil, err
	}
	if verr != nil {
		return nil, verr
	}
	_, err = f.installs.Mutate(c.Ctx, key, func(in *installRecord) error {
		if in.ConfigStatus == installRemoving {
			return notAllowed("install.set.removing", "Supervisor Service %s is being removed from the Supervisor of cluster %s.", service, cluster)
		}
		in.DesiredVersion = spec.Version
		in.ServiceConfig, in.YAMLServiceConfig = spec.ServiceConfig, yamlConfig
		in.ConfigStatus = installConfiguring
		in.Generation++
		in.StepStarted = f.now()
		in.FaultChecked, in.Stalled = false, false
		in.Automatic = false // the change is the user's: fault injection applies to it
		in.Messages = []installMessage{newMessage(severityInfo, "configuring", "Configuring version %s of Supervisor Service %s.", spec.Version, service)}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, installNotFound(cluster, service)
	}
	if err != nil {
		return nil, storeError(err, "Supervisor Service "+service+" on cluster "+cluster)
	}
	f.ctl.Enqueue(key)
	return nil, nil
}

func (f *Family) deleteInstall(c *vapi.Call) (any, error) {
	cluster, service := c.Path("cluster"), c.Path("supervisorService")
	if _, err := f.supervisorOn(c.Ctx, cluster); err != nil {
		return nil, err
	}
	key := installKey(cluster, service)
	if _, ok := f.installs.Get(key); !ok {
		return nil, installNotFound(cluster, service)
	}
	if s, ok := f.services.Get(service); ok && s.Value.MustBeInstalled {
		return nil, notAllowed("install.delete.must_be_installed",
			"Supervisor Service %s must be installed on every Supervisor; it can be moved to another version with set, not removed.", service)
	}
	_, err := f.installs.Mutate(c.Ctx, key, func(in *installRecord) error {
		if in.ConfigStatus == installRemoving {
			return nil
		}
		in.ConfigStatus = installRemoving
		in.Generation++
		in.StepStarted = f.now()
		in.Stalled = false
		in.Messages = []installMessage{newMessage(severityInfo, "removing", "Removing Supervisor Service %s and its service namespace.", service)}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, installNotFound(cluster, service)
	}
	if err != nil {
		return nil, storeError(err, "Supervisor Service "+service+" on cluster "+cluster)
	}
	f.ctl.Enqueue(key)
	return nil, nil
}

// --- the controller ---

// again ends a step that changed the record: the controller looks at the install again at once, or
// backs off if the write failed.
func again(err error) (controller.Result, error) {
	if err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, errStale
}

// errStale means the record changed under the controller; it looks again at once.
var errStale = errors.New("install record changed while reconciling")

// reconcile moves one install a step toward its desired state, or runs the poll pass.
func (f *Family) reconcile(ctx context.Context, key string) (controller.Result, error) {
	if key == pollKey {
		f.poll(ctx)
		return controller.Result{RequeueAfter: pollInterval}, nil
	}
	rec, ok := f.installs.Get(key)
	if !ok {
		return controller.Result{}, nil
	}
	res, err := f.step(ctx, rec)
	if errors.Is(err, errStale) {
		f.ctl.Enqueue(key)
		return controller.Result{}, nil
	}
	return res, err
}

// update writes fn's changes to the install if it is still the generation the controller read.
func (f *Family) update(ctx context.Context, rec store.Record[installRecord], fn func(in *installRecord)) error {
	_, err := f.installs.Mutate(ctx, rec.Key, func(in *installRecord) error {
		if in.Generation != rec.Value.Generation || in.ConfigStatus != rec.Value.ConfigStatus {
			return errStale
		}
		fn(in)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func (f *Family) step(ctx context.Context, rec store.Record[installRecord]) (controller.Result, error) {
	in := rec.Value
	if now := f.now(); in.StepStarted.After(now) {
		// The clock went back (wcpd restarted on a clock behind the one that stamped the step):
		// restart the step now rather than wait for a time that may be far off.
		return again(f.update(ctx, rec, func(r *installRecord) { r.StepStarted = now }))
	}
	remaining := in.StepStarted.Add(f.deps.TaskDuration).Sub(f.now())
	sups := f.supervisors()
	sup, hasSupervisor := platform.SupervisorState{}, false
	if sups != nil {
		sup, hasSupervisor = sups.Supervisor(in.Cluster)
	}
	if sups != nil && (!hasSupervisor || sup.ConfigStatus == platform.StatusRemoving) {
		// The Supervisor is gone or being disabled, and its namespaces with it: forget the install
		// rather than create a namespace on a Supervisor that is going away.
		err := f.installs.Delete(ctx, rec.Key, rec.Revision)
		if errors.Is(err, store.ErrConflict) {
			return controller.Result{}, errStale
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return controller.Result{}, err
		}
		return controller.Result{}, nil
	}

	switch in.ConfigStatus {
	case installRemoving:
		if remaining > 0 {
			return controller.Result{RequeueAfter: remaining}, nil
		}
		if removed, err := f.removeWorkloads(ctx, in); err != nil || !removed {
			return controller.Result{RequeueAfter: retryInterval}, err
		}
		// The namespace may exist even if ServiceNamespace was never recorded (wcpd stopped right
		// after creating it); then a namespace of that name that is not this service's is left alone.
		if ns := f.namespaces(); ns != nil {
			err := ns.RemoveSystem(ctx, in.Cluster, in.Namespace)
			var ve *vapi.Error
			if err != nil && !(in.ServiceNamespace == "" && errors.As(err, &ve) && ve.Type == vapi.ErrorInvalidArgument) {
				return controller.Result{}, fmt.Errorf("removing service namespace %s: %w", in.Namespace, err)
			}
		}
		err := f.installs.Delete(ctx, rec.Key, rec.Revision)
		if errors.Is(err, store.ErrConflict) {
			return controller.Result{}, errStale
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return controller.Result{}, err
		}
		return controller.Result{}, nil

	case installConfiguring:
		if in.Stalled {
			return controller.Result{}, nil
		}
		if in.ServiceNamespace == "" {
			ns := f.namespaces()
			if ns == nil {
				return controller.Result{RequeueAfter: retryInterval}, f.update(ctx, rec, func(r *installRecord) {
					r.Messages = []installMessage{newMessage(severityWarning, "no_namespaces", "Waiting for namespaces to be available on cluster %s.", in.Cluster)}
				})
			}
			if err := ns.CreateSystem(ctx, in.Cluster, in.Namespace); err != nil {
				var ve *vapi.Error
				if alt := f.namespaceName(in.Cluster, in.Service, true); errors.As(err, &ve) && ve.Type == vapi.ErrorAlreadyExists && in.Namespace != alt {
					// Another namespace (on another cluster) took the name: use the hashed one.
					return again(f.update(ctx, rec, func(r *installRecord) { r.Namespace = alt }))
				}
				f.log.Warn("creating a service namespace", "install", rec.Key, "namespace", in.Namespace, "error", err)
				return controller.Result{RequeueAfter: retryInterval}, f.update(ctx, rec, func(r *installRecord) {
					r.Messages = []installMessage{newMessage(severityWarning, "namespace_failed",
						"Creating service namespace %s failed and will be retried: %v", in.Namespace, vapi.AsError(err).Error())}
				})
			}
			return again(f.update(ctx, rec, func(r *installRecord) {
				r.ServiceNamespace, r.Prefix = in.Namespace, in.Namespace
			}))
		}
		if !in.FaultChecked {
			var fault platform.Fault
			var armed bool
			// A fault is armed for the next install on a cluster, or of a service wherever it goes.
			if faults := f.deps.Families.Faults; faults != nil && !in.Automatic {
				if fault, armed = faults.Take("install", in.Cluster); !armed {
					fault, armed = faults.Take("install", in.Service)
				}
			}
			err := f.update(ctx, rec, func(r *installRecord) {
				r.FaultChecked = true
				switch {
				case armed && fault.Mode == "STALL":
					r.Stalled = true
				case armed:
					msg := fault.Message
					if msg == "" {
						msg = "Injected fault: the install failed."
					}
					r.ConfigStatus = installError
					r.Messages = []installMessage{{Severity: severityError, ID: "wcpd.supervisor_services.install.fault", Text: msg, Args: []string{msg}}}
				}
			})
			return again(err)
		}
		if remaining > 0 {
			return controller.Result{RequeueAfter: remaining}, nil
		}
		if k := f.kubernetes(); k != nil {
			if res, done, err := f.runWorkloads(ctx, rec, k); !done {
				return res, err
			}
		}
		return controller.Result{}, f.update(ctx, rec, func(r *installRecord) {
			r.CurrentVersion = r.DesiredVersion
			r.ConfigStatus = installConfigured
			r.Messages = []installMessage{newMessage(severityInfo, "configured",
				"Version %s of Supervisor Service %s is configured.", r.DesiredVersion, r.Service)}
			if r.Unfetchable != "" {
				r.Messages = []installMessage{newMessage(severityWarning, "configured_unfetched",
					"Version %s of Supervisor Service %s is configured, but its package fetches its content from a source of kind %s, which wcpd cannot fetch: only the package's inline files were applied.",
					r.DesiredVersion, r.Service, r.Unfetchable)}
			}
		})
	}
	return controller.Result{}, nil
}

// poll installs the services every Supervisor must run on RUNNING Supervisors that lack them (at the
// highest activated version), and has installs whose Supervisor is gone looked at, which forgets them.
func (f *Family) poll(ctx context.Context) {
	sups := f.supervisors()
	if sups == nil {
		return
	}
	for _, rec := range f.installs.ListShared() {
		if sup, ok := sups.Supervisor(rec.Value.Cluster); !ok || sup.ConfigStatus == platform.StatusRemoving {
			f.ctl.Enqueue(rec.Key)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, sup := range sups.List() {
		if sup.ConfigStatus != platform.StatusRunning {
			continue
		}
		for _, srec := range f.services.ListShared() {
			svc := srec.Value
			if !svc.MustBeInstalled || svc.State != stateActivated {
				continue
			}
			key := installKey(sup.Cluster, svc.ID)
			if _, ok := f.installs.Get(key); ok {
				continue
			}
			versions := activatedVersions(svc)
			if len(versions) == 0 {
				continue
			}
			rec := f.newInstall(sup.Cluster, *svc, versions[len(versions)-1], true)
			if _, err := f.installs.Create(ctx, key, rec); err != nil && !errors.Is(err, store.ErrExists) {
				f.log.Warn("installing a Supervisor Service every Supervisor runs", "install", key, "error", err)
				continue
			}
			f.ctl.Enqueue(key)
		}
	}
}
