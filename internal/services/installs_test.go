package services

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// info reads an install the way a client does.
func (h *harness) info(cluster, service string) installInfo {
	h.t.Helper()
	v := h.must(h.call("cluster_supervisor_services", "get", map[string]string{"cluster": cluster, "supervisorService": service}, nil))
	return v.(installInfo)
}

func (h *harness) install(cluster, service, version string, config map[string]string) error {
	h.t.Helper()
	spec := map[string]any{"supervisor_service": service, "version": version}
	if config != nil {
		spec["service_config"] = config
	}
	_, err := h.call("cluster_supervisor_services", "create", map[string]string{"cluster": cluster}, spec)
	return err
}

func TestInstallSetAndRemove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sups.set("domain-c9", platform.StatusRunning)
	h.registerCarvel("keda.example.com", "2.13.1")
	h.registerCarvel("keda.example.com", "2.14.0")

	if err := h.install("domain-c9", "keda.example.com", "2.13.1", map[string]string{"registryName": "harbor", "registryPassword": "s3cret"}); err != nil {
		t.Fatal(err)
	}
	in := h.info("domain-c9", "keda.example.com")
	if in.ConfigStatus != installConfiguring || in.DesiredVersion != "2.13.1" || in.CurrentVersion != nil || in.DisplayName != "Service keda.example.com" {
		t.Fatalf("just created: %+v", in)
	}
	// The controller creates the service namespace at once, and configures the version once the
	// task duration has passed.
	h.settle(0)
	in = h.info("domain-c9", "keda.example.com")
	if deref(in.ServiceNamespace) != "svc-keda-domain-c9" || deref(in.Prefix) == "" || in.ConfigStatus != installConfiguring {
		t.Fatalf("namespace not created: %+v", in)
	}
	// (The Tanzu Kubernetes Grid Service, which every Supervisor runs, gets its own namespace on its
	// own schedule: TestMustBeInstalledServices covers that.)
	if got := h.nss.OnCluster("domain-c9"); !slices.Contains(got, "svc-keda-domain-c9") {
		t.Fatalf("system namespaces %v", got)
	}
	h.settle(taskDuration / 2)
	if in = h.info("domain-c9", "keda.example.com"); in.ConfigStatus != installConfiguring {
		t.Fatalf("configured before the task duration: %+v", in)
	}
	h.settle(taskDuration / 2)
	in = h.info("domain-c9", "keda.example.com")
	if in.ConfigStatus != installConfigured || deref(in.CurrentVersion) != "2.13.1" || len(in.Messages) != 1 || in.Messages[0].Severity != severityInfo {
		t.Fatalf("after the task duration: %+v", in)
	}
	// The password is stored but never shown.
	cfg, _ := base64.StdEncoding.DecodeString(deref(in.YAMLServiceConfig))
	if !strings.Contains(string(cfg), "registryName: harbor") || strings.Contains(string(cfg), "s3cret") || strings.Contains(string(cfg), "registryPassword") {
		t.Fatalf("yaml_service_config %q", cfg)
	}
	if stored, _ := h.f.installs.Get("domain-c9/keda.example.com"); stored.Value.ServiceConfig["registryPassword"] != "s3cret" {
		t.Fatalf("the password was not stored: %+v", stored.Value.ServiceConfig)
	}

	// set moves to another version: CONFIGURING with the old current version, then the new one.
	h.must(h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "keda.example.com"},
		map[string]any{"version": "2.14.0"}))
	in = h.info("domain-c9", "keda.example.com")
	if in.ConfigStatus != installConfiguring || in.DesiredVersion != "2.14.0" || deref(in.CurrentVersion) != "2.13.1" || in.YAMLServiceConfig != nil {
		t.Fatalf("after set: %+v", in)
	}
	h.settle(taskDuration)
	if in = h.info("domain-c9", "keda.example.com"); in.ConfigStatus != installConfigured || deref(in.CurrentVersion) != "2.14.0" {
		t.Fatalf("after the upgrade: %+v", in)
	}
	list := h.must(h.call("cluster_supervisor_services", "list", map[string]string{"cluster": "domain-c9"}, nil)).([]installSummary)
	if len(list) != 2 || list[0].SupervisorService != "keda.example.com" || deref(list[0].CurrentVersion) != "2.14.0" ||
		list[1].SupervisorService != "tkg.vsphere.vmware.com" {
		t.Fatalf("list %+v", list)
	}

	// The installed version can be deactivated but not deleted; the other one can go.
	vparams := func(v string) map[string]string {
		return map[string]string{"supervisorService": "keda.example.com", "version": v}
	}
	h.must(h.call("versions", "deactivate", vparams("2.14.0"), nil))
	_, err := h.call("versions", "delete", vparams("2.14.0"), nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "installed", "domain-c9")
	h.must(h.call("versions", "activate", vparams("2.14.0"), nil))
	h.must(h.call("versions", "deactivate", vparams("2.13.1"), nil))
	h.must(h.call("versions", "delete", vparams("2.13.1"), nil))

	// delete: REMOVING, then gone with its namespace.
	h.must(h.call("cluster_supervisor_services", "delete", map[string]string{"cluster": "domain-c9", "supervisorService": "keda.example.com"}, nil))
	if in = h.info("domain-c9", "keda.example.com"); in.ConfigStatus != installRemoving {
		t.Fatalf("after delete: %+v", in)
	}
	_, err = h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "keda.example.com"},
		map[string]any{"version": "2.14.0"})
	wantError(t, err, vapi.ErrorNotAllowedInState, "being removed")
	h.settle(taskDuration)
	_, err = h.call("cluster_supervisor_services", "get", map[string]string{"cluster": "domain-c9", "supervisorService": "keda.example.com"}, nil)
	wantError(t, err, vapi.ErrorNotFound, "keda.example.com")
	if got := h.nss.OnCluster("domain-c9"); slices.Contains(got, "svc-keda-domain-c9") {
		t.Fatalf("service namespace left behind: %v", got)
	}
}

func TestInstallPreconditions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.registerCarvel("a.example.com", "1.0.0")
	h.registerCarvel("a.example.com", "2.0.0")

	wantError(t, h.install("domain-c404", "a.example.com", "1.0.0", nil), vapi.ErrorNotFound, "domain-c404")
	wantError(t, h.install("domain-c9", "a.example.com", "1.0.0", nil), vapi.ErrorNotAllowedInState, "has no Supervisor")
	_, err := h.call("cluster_supervisor_services", "list", map[string]string{"cluster": "domain-c9"}, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "has no Supervisor")
	h.sups.set("domain-c9", platform.StatusConfiguring)
	wantError(t, h.install("domain-c9", "a.example.com", "1.0.0", nil), vapi.ErrorNotAllowedInState, "CONFIGURING", "RUNNING")
	h.sups.set("domain-c9", platform.StatusRunning)
	wantError(t, h.install("domain-c9", "nope", "1.0.0", nil), vapi.ErrorNotFound, "nope")
	wantError(t, h.install("domain-c9", "a.example.com", "9.9.9", nil), vapi.ErrorNotFound, "9.9.9")

	vparams := map[string]string{"supervisorService": "a.example.com", "version": "2.0.0"}
	h.must(h.call("versions", "deactivate", vparams, nil))
	wantError(t, h.install("domain-c9", "a.example.com", "2.0.0", nil), vapi.ErrorNotAllowedInState, "2.0.0", "DEACTIVATED")
	h.must(h.call("", "deactivate", map[string]string{"supervisorService": "a.example.com"}, nil))
	wantError(t, h.install("domain-c9", "a.example.com", "1.0.0", nil), vapi.ErrorNotAllowedInState, "a.example.com", "DEACTIVATED")
	// Activating the service activates its versions again.
	h.must(h.call("", "activate", map[string]string{"supervisorService": "a.example.com"}, nil))
	h.must(h.call("versions", "deactivate", vparams, nil))

	// Both forms of configuration at once, or configuration that is not a YAML mapping, are refused.
	_, err = h.call("cluster_supervisor_services", "create", map[string]string{"cluster": "domain-c9"},
		map[string]any{"supervisor_service": "a.example.com", "version": "1.0.0", "service_config": map[string]string{"a": "b"}, "yaml_service_config": b64("a: b")})
	wantError(t, err, vapi.ErrorInvalidArgument, "spec.yaml_service_config", "at most one")
	_, err = h.call("cluster_supervisor_services", "create", map[string]string{"cluster": "domain-c9"},
		map[string]any{"supervisor_service": "a.example.com", "version": "1.0.0", "yaml_service_config": b64("- a\n- b\n")})
	wantError(t, err, vapi.ErrorInvalidArgument, "spec.yaml_service_config", "mapping")
	_, err = h.call("cluster_supervisor_services", "create", map[string]string{"cluster": "domain-c9"},
		map[string]any{"supervisor_service": "a.example.com"})
	wantError(t, err, vapi.ErrorInvalidArgument, "spec.version")

	if err := h.install("domain-c9", "a.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	wantError(t, h.install("domain-c9", "a.example.com", "1.0.0", nil), vapi.ErrorAlreadyExists, "a.example.com", "domain-c9")
	// The same service goes on another Supervisor independently.
	h.sups.set("domain-c39", platform.StatusRunning)
	if err := h.install("domain-c39", "a.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	_, err = h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "a.example.com"},
		map[string]any{"version": "2.0.0"})
	wantError(t, err, vapi.ErrorNotAllowedInState, "2.0.0", "DEACTIVATED")
	_, err = h.call("cluster_supervisor_services", "delete", map[string]string{"cluster": "domain-c69", "supervisorService": "a.example.com"}, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "domain-c69")
	_, err = h.call("cluster_supervisor_services", "delete", map[string]string{"cluster": "domain-c9", "supervisorService": "other"}, nil)
	wantError(t, err, vapi.ErrorNotFound, "other")
}

func TestInstallFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sups.set("domain-c9", platform.StatusRunning)
	h.registerCarvel("a.example.com", "1.0.0")

	h.faults.arm("install", "domain-c9", platform.Fault{Mode: "ERROR", Message: "image pull failed: registry unreachable"})
	if err := h.install("domain-c9", "a.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	h.settle(taskDuration)
	in := h.info("domain-c9", "a.example.com")
	if in.ConfigStatus != installError || in.CurrentVersion != nil || len(in.Messages) != 1 || in.Messages[0].Severity != severityError ||
		in.Messages[0].Details.DefaultMessage != "image pull failed: registry unreachable" {
		t.Fatalf("after an ERROR fault: %+v", in)
	}
	// set retries, and with the fault consumed it succeeds.
	h.must(h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "a.example.com"},
		map[string]any{"version": "1.0.0"}))
	h.settle(taskDuration)
	if in = h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfigured {
		t.Fatalf("retry after the fault: %+v", in)
	}

	// A STALL fault (armed for the service this time) keeps the change CONFIGURING however long one
	// waits, until the next set.
	h.faults.arm("install", "a.example.com", platform.Fault{Mode: "STALL"})
	h.must(h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "a.example.com"},
		map[string]any{"version": "1.0.0"}))
	h.settle(10 * taskDuration)
	if in = h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfiguring {
		t.Fatalf("stalled install: %+v", in)
	}
	h.must(h.call("cluster_supervisor_services", "set", map[string]string{"cluster": "domain-c9", "supervisorService": "a.example.com"},
		map[string]any{"version": "1.0.0"}))
	h.settle(taskDuration)
	if in = h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfigured {
		t.Fatalf("after un-stalling: %+v", in)
	}
}

func TestInstallResumesAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sups.set("domain-c9", platform.StatusRunning)
	h.registerCarvel("a.example.com", "1.0.0")
	if err := h.install("domain-c9", "a.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	h.settle(taskDuration / 2)
	if in := h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfiguring || in.ServiceNamespace == nil {
		t.Fatalf("half way: %+v", in)
	}
	h.restart()
	if in := h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfiguring {
		t.Fatalf("after the restart: %+v", in)
	}
	h.settle(taskDuration / 2)
	if in := h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfigured || deref(in.CurrentVersion) != "1.0.0" {
		t.Fatalf("the install did not resume: %+v", in)
	}
	// A removal resumes too.
	h.must(h.call("cluster_supervisor_services", "delete", map[string]string{"cluster": "domain-c9", "supervisorService": "a.example.com"}, nil))
	h.restart()
	h.settle(taskDuration)
	if _, ok := h.f.installs.Get("domain-c9/a.example.com"); ok || slices.Contains(h.nss.OnCluster("domain-c9"), "svc-a-domain-c9") {
		t.Fatalf("the removal did not resume: namespaces %v", h.nss.OnCluster("domain-c9"))
	}
	// The built-in services were registered once; a restart does not register them again.
	if n := len(h.must(h.call("", "list", nil, nil)).([]serviceSummary)); n != len(builtinServices)+1 {
		t.Fatalf("%d services after restarts", n)
	}
}

func TestMustBeInstalledServices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const tkg = "tkg.vsphere.vmware.com"
	info := h.must(h.call("", "get", map[string]string{"supervisorService": tkg}, nil)).(serviceInfo)
	if !info.MustBeInstalled || !info.HasDefaultVersionsRegistered || info.State != stateActivated {
		t.Fatalf("%s: %+v", tkg, info)
	}
	// A RUNNING Supervisor gets it without being asked; a CONFIGURING one not yet.
	h.sups.set("domain-c9", platform.StatusRunning)
	h.sups.set("domain-c39", platform.StatusConfiguring)
	h.settle(pollInterval)
	h.settle(taskDuration)
	in := h.info("domain-c9", tkg)
	if in.ConfigStatus != installConfigured || deref(in.CurrentVersion) != "3.0.0" || deref(in.ServiceNamespace) != "svc-tkg-domain-c9" {
		t.Fatalf("automatic install: %+v", in)
	}
	if list := h.must(h.call("cluster_supervisor_services", "list", map[string]string{"cluster": "domain-c39"}, nil)).([]installSummary); len(list) != 0 {
		t.Fatalf("installed on a CONFIGURING Supervisor: %+v", list)
	}
	// It cannot be removed, nor the service deactivated, nor its default version deleted.
	_, err := h.call("cluster_supervisor_services", "delete", map[string]string{"cluster": "domain-c9", "supervisorService": tkg}, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "must be installed")
	_, err = h.call("", "deactivate", map[string]string{"supervisorService": tkg}, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "cannot be deactivated")
	_, err = h.call("versions", "delete", map[string]string{"supervisorService": tkg, "version": "3.0.0"}, nil)
	wantError(t, err, vapi.ErrorNotAllowedInState, "registered by default")
	// When the Supervisor goes away, so does the install (its namespaces went with the Supervisor).
	h.sups.set("domain-c9", platform.StatusRemoving)
	h.settle(pollInterval)
	if _, ok := h.f.installs.Get("domain-c9/" + tkg); ok {
		t.Fatal("the install outlived its Supervisor")
	}
}

func TestNamespaceNamesStayUnique(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sups.set("domain-c9", platform.StatusRunning)
	h.registerCarvel("a.one.example.com", "1.0.0")
	h.registerCarvel("a.two.example.com", "1.0.0")
	// A user's namespace already has the name the first service would get.
	if err := h.nss.CreateSystem(t.Context(), "domain-c9", "svc-a-domain-c9"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a.one.example.com", "a.two.example.com"} {
		if err := h.install("domain-c9", id, "1.0.0", nil); err != nil {
			t.Fatal(err)
		}
	}
	// A namespace of another cluster has the name the third would get: it takes the hashed one.
	h.registerCarvel("b.example.com", "1.0.0")
	h.nss.mu.Lock()
	h.nss.elsewhere = map[string]bool{"svc-b-domain-c9": true}
	h.nss.mu.Unlock()
	if err := h.install("domain-c9", "b.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	h.settle(0)
	if b := deref(h.info("domain-c9", "b.example.com").ServiceNamespace); !strings.HasPrefix(b, "svc-b-domain-c9-") {
		t.Fatalf("service namespace of b: %q", b)
	}
	one, two := deref(h.info("domain-c9", "a.one.example.com").ServiceNamespace), deref(h.info("domain-c9", "a.two.example.com").ServiceNamespace)
	if one == two || one == "svc-a-domain-c9" || two == "svc-a-domain-c9" || !strings.HasPrefix(one, "svc-a-domain-c9-") {
		t.Fatalf("service namespaces %q and %q", one, two)
	}
}

func TestNamespaceFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sups.set("domain-c9", platform.StatusRunning)
	h.registerCarvel("a.example.com", "1.0.0")
	h.nss.mu.Lock()
	h.nss.failCreate = errors.New("pool unavailable")
	h.nss.mu.Unlock()
	if err := h.install("domain-c9", "a.example.com", "1.0.0", nil); err != nil {
		t.Fatal(err)
	}
	h.settle(0)
	in := h.info("domain-c9", "a.example.com")
	if in.ConfigStatus != installConfiguring || in.ServiceNamespace != nil || len(in.Messages) != 1 || in.Messages[0].Severity != severityWarning {
		t.Fatalf("namespace failure: %+v", in)
	}
	h.nss.mu.Lock()
	h.nss.failCreate = nil
	h.nss.mu.Unlock()
	h.settle(retryInterval)
	h.settle(taskDuration)
	if in = h.info("domain-c9", "a.example.com"); in.ConfigStatus != installConfigured {
		raw, _ := json.Marshal(in)
		t.Fatalf("after the namespace came back: %s", raw)
	}
}
