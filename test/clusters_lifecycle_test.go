package test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
)

// The catalogue versions the tests use (docs/supervisors.md).
const (
	ver1_27_11 = "v1.27.11+vmware.1-fips.1-vsc0.1.9-23301267"
	ver1_28_3  = "v1.28.3+vmware.1-fips.1-vsc0.1.9-23367089"
	ver1_28_8  = "v1.28.8+vmware.1-fips.1-vsc0.1.10-23901322"
	ver1_29_4  = "v1.29.4+vmware.3-fips.1-vsc0.1.11-24052817"
)

type softwareInfo struct {
	CurrentVersion    string   `json:"current_version"`
	AvailableVersions []string `json:"available_versions"`
	LastUpgradedDate  *string  `json:"last_upgraded_date"`
	State             string   `json:"state"`
	Messages          []struct {
		Severity string `json:"severity"`
	} `json:"messages"`
	UpgradeStatus *struct {
		DesiredVersion *string `json:"desired_version"`
		Messages       []struct {
			Severity string `json:"severity"`
			Details  struct {
				DefaultMessage string `json:"default_message"`
			} `json:"details"`
		} `json:"messages"`
		Progress *struct {
			Total     int64 `json:"total"`
			Completed int64 `json:"completed"`
		} `json:"progress"`
	} `json:"upgrade_status"`
}

func getSoftware(t *testing.T, env *servertest.Env, token, cluster string) softwareInfo {
	t.Helper()
	r := env.Do("GET", nmPath+"/software/clusters/"+cluster, token, nil)
	if r.Status != 200 {
		t.Fatalf("software get %s: %d %s", cluster, r.Status, r.Body)
	}
	var s softwareInfo
	r.JSON(t, &s)
	return s
}

func severities(s softwareInfo) string {
	if s.UpgradeStatus == nil {
		return ""
	}
	var out []string
	for _, m := range s.UpgradeStatus.Messages {
		out = append(out, m.Severity)
	}
	return strings.Join(out, ",")
}

// TestSupervisorUpgrade covers the upgrade workflow: available versions, each precheck severity,
// the rolling upgrade's progress, upgrade_multiple with a rejected cluster, and upgrades refused
// for Supervisors that are not RUNNING.
func TestSupervisorUpgrade(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 1)
	enableSupervisor(t, env, token, clusterB, 2)
	upgrade := func(cluster, version string, ignore bool) servertest.Response {
		spec := map[string]any{"desired_version": version}
		if ignore {
			spec["ignore_precheck_warnings"] = true
		}
		return env.Do("POST", nmPath+"/software/clusters/"+cluster+"?action=upgrade", token, spec)
	}

	var versions []struct{ Version string }
	env.Do("GET", nmPath+"/software/cluster-available-versions", token, nil).JSON(t, &versions)
	if len(versions) != 3 || versions[0].Version != ver1_28_3 || versions[2].Version != ver1_29_4 {
		t.Fatalf("available versions: %+v", versions)
	}
	sw := getSoftware(t, env, token, clusterA)
	if sw.CurrentVersion != ver1_27_11 || len(sw.AvailableVersions) != 3 || sw.State != "READY" || sw.LastUpgradedDate != nil || sw.UpgradeStatus != nil {
		t.Fatalf("software before any upgrade: %+v", sw)
	}

	// ERROR: skipping a minor version never proceeds, whatever the flag says.
	expectClError(t, upgrade(clusterA, ver1_29_4, true), 400, "UNSUPPORTED", "one Kubernetes minor version at a time")
	sw = getSoftware(t, env, token, clusterA)
	if sw.State != "READY" || sw.CurrentVersion != ver1_27_11 || !strings.Contains(severities(sw), "ERROR") {
		t.Fatalf("after a precheck ERROR: %+v", sw)
	}
	// WARNING: a patch release with a newer patch proceeds only with ignore_precheck_warnings.
	expectClError(t, upgrade(clusterA, ver1_28_3, false), 400, "UNSUPPORTED", "newer patch release", "ignore_precheck_warnings")
	if sw = getSoftware(t, env, token, clusterA); sw.State != "READY" || severities(sw) != "INFO,WARNING" {
		t.Fatalf("after a precheck WARNING: %+v", sw)
	}
	expectClError(t, upgrade(clusterA, ver1_27_11, false), 400, "INVALID_ARGUMENT", "spec.desired_version", "not newer")
	expectClError(t, upgrade(clusterA, "v9.9.9", false), 400, "INVALID_ARGUMENT", `"v9.9.9" for spec.desired_version`)
	if r := upgrade(clusterA, ver1_28_3, true); r.Status != 204 {
		t.Fatalf("upgrade ignoring the warning: %d %s", r.Status, r.Body)
	}
	sw = getSoftware(t, env, token, clusterA)
	if sw.State != "PENDING" || sw.UpgradeStatus == nil || sw.UpgradeStatus.Progress == nil || sw.UpgradeStatus.Progress.Total != 3 ||
		sw.UpgradeStatus.Progress.Completed != 0 || *sw.UpgradeStatus.DesiredVersion != ver1_28_3 {
		t.Fatalf("upgrade started: %+v", sw)
	}
	expectClError(t, upgrade(clusterA, ver1_28_8, false), 400, "UNSUPPORTED", "already being upgraded")
	env.Settle(0)
	completed := []int64{}
	for i := 0; i < 3; i++ {
		env.Settle(4 * time.Second)
		if s := getSoftware(t, env, token, clusterA); s.UpgradeStatus != nil {
			completed = append(completed, s.UpgradeStatus.Progress.Completed)
		}
	}
	if len(completed) != 2 || completed[0] != 1 || completed[1] != 2 {
		t.Fatalf("progress while upgrading: %v", completed)
	}
	sw = getSoftware(t, env, token, clusterA)
	if sw.State != "READY" || sw.CurrentVersion != ver1_28_3 || sw.LastUpgradedDate == nil || sw.UpgradeStatus != nil ||
		strings.Join(sw.AvailableVersions, ",") != ver1_28_8+","+ver1_29_4 {
		t.Fatalf("after the upgrade: %+v", sw)
	}
	if info := getSupervisorInfo(t, env, token, clusterA); info.ConfigStatus != "RUNNING" || info.KubernetesStatus != "READY" {
		t.Fatalf("the Supervisor after its upgrade: %+v", info)
	}
	if out := env.AdminGovc("vm.info", "/Datacenter/vm/Namespaces/cluster-a/SupervisorControlPlaneVM (1)"); !strings.Contains(out, "poweredOn") {
		t.Fatalf("control plane VM after the upgrade:\n%s", out)
	}

	// upgrade_multiple: INFO-only prechecks start B; a cluster without a Supervisor is rejected with
	// its exception.
	r := env.Do("POST", nmPath+"/software/clusters?action=upgradeMultiple", token, map[string]any{
		clusterB: map[string]any{"desired_version": ver1_28_8}, clusterEdge: map[string]any{"desired_version": ver1_28_8}})
	var results map[string]struct {
		Res       string `json:"res"`
		Exception *struct {
			ErrorType string `json:"error_type"`
		} `json:"exception"`
	}
	r.JSON(t, &results)
	if r.Status != 200 || results[clusterB].Res != "STARTED" || results[clusterB].Exception != nil ||
		results[clusterEdge].Res != "REJECTED" || results[clusterEdge].Exception == nil || results[clusterEdge].Exception.ErrorType != "UNSUPPORTED" {
		t.Fatalf("upgrade_multiple: %d %s", r.Status, r.Body)
	}
	var list []struct {
		Cluster        string  `json:"cluster"`
		State          string  `json:"state"`
		DesiredVersion *string `json:"desired_version"`
	}
	env.Do("GET", nmPath+"/software/clusters", token, nil).JSON(t, &list)
	if len(list) != 2 || list[0].Cluster != clusterB || list[0].State != "PENDING" || *list[0].DesiredVersion != ver1_28_8 || list[1].State != "READY" {
		t.Fatalf("software list: %+v", list)
	}
	env.Settle(0)
	env.Settle(11 * time.Second)
	if sw := getSoftware(t, env, token, clusterB); sw.CurrentVersion != ver1_28_8 || sw.State != "READY" {
		t.Fatalf("B after upgrade_multiple: %+v", sw)
	}

	// Only a RUNNING Supervisor is upgraded.
	env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil)
	expectClError(t, upgrade(clusterA, ver1_28_8, false), 400, "UNSUPPORTED", "REMOVING", "only a RUNNING Supervisor")
	expectClError(t, upgrade(clusterEdge, ver1_28_8, false), 400, "UNSUPPORTED", "does not have a Supervisor")
	expectClError(t, env.Do("GET", nmPath+"/software/clusters/domain-c404", token, nil), 404, "NOT_FOUND")
}

// TestClustersSetUpdateRotate checks that PUT replaces and PATCH merges, that a failed change
// leaves the stored configuration as it was, that changes wait while the Supervisor is being
// configured, that a new size resizes the control plane VMs, and password rotation.
func TestClustersSetUpdateRotate(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 1)
	path := nmPath + "/clusters/" + clusterA

	if r := env.Do("PATCH", path, token, map[string]any{"login_banner": "Authorized use only"}); r.Status != 204 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	info := getSupervisorInfo(t, env, token, clusterA)
	if info.LoginBanner == nil || *info.LoginBanner != "Authorized use only" || strings.Join(info.MasterDNS, ",") != "10.0.0.53" || info.SizeHint != "TINY" {
		t.Fatalf("after PATCH (a merge): %+v", info)
	}
	// A bad value fails the whole request and changes nothing.
	expectClError(t, env.Do("PATCH", path, token, map[string]any{"login_banner": "changed", "master_DNS": []string{"dns.example.com"}}),
		400, "INVALID_ARGUMENT", `"dns.example.com" for spec.master_DNS[0]`)
	if got := getSupervisorInfo(t, env, token, clusterA); *got.LoginBanner != "Authorized use only" {
		t.Fatalf("a failed PATCH changed the banner: %+v", got)
	}
	// PUT replaces: what it omits is cleared.
	set := map[string]any{"size_hint": "SMALL", "network_provider": "VSPHERE_NETWORK", "master_storage_policy": policySilver,
		"ephemeral_storage_policy": policySilver, "image_storage": map[string]any{"storage_policy": policySilver}, "master_NTP_servers": []string{"ntp.example.com"}}
	if r := env.Do("PUT", path, token, set); r.Status != 204 {
		t.Fatalf("set: %d %s", r.Status, r.Body)
	}
	info = getSupervisorInfo(t, env, token, clusterA)
	if info.LoginBanner != nil || len(info.MasterDNS) != 0 || len(info.WorkerDNS) != 0 || info.SizeHint != "SMALL" || strings.Join(info.MasterNTPServers, ",") != "ntp.example.com" {
		t.Fatalf("after PUT (a replacement): %+v", info)
	}
	env.Settle(0)
	if out := env.AdminGovc("vm.info", "/Datacenter/vm/Namespaces/cluster-a/SupervisorControlPlaneVM (3)"); !strings.Contains(out, "4 vCPU") || !strings.Contains(out, "16384MB") {
		t.Fatalf("a control plane VM after resizing to SMALL:\n%s", out)
	}
	set["network_provider"] = "NSXT_CONTAINER_PLUGIN"
	expectClError(t, env.Do("PUT", path, token, set), 400, "INVALID_ARGUMENT", "spec.network_provider", "cannot change")

	// While B is being configured, its configuration cannot change.
	if r := env.Do("POST", nmPath+"/clusters/"+clusterB+"?action=enable", token, vsphereEnableSpec(2)); r.Status != 204 {
		t.Fatalf("enable B: %d %s", r.Status, r.Body)
	}
	expectClError(t, env.Do("PATCH", nmPath+"/clusters/"+clusterB, token, map[string]any{"login_banner": "x"}), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "CONFIGURING")
	expectClError(t, env.Do("POST", nmPath+"/clusters/"+clusterB+"?action=rotate_password", token, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE")

	if r := env.Do("POST", path+"?action=rotate_password", token, nil); r.Status != 204 {
		t.Fatalf("rotate_password: %d %s", r.Status, r.Body)
	}
	// No Supervisor on the cluster: the state forbids it (the error the reference declares).
	expectClError(t, env.Do("POST", nmPath+"/clusters/"+clusterEdge+"?action=rotate_password", token, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", clusterEdge)
	expectClError(t, env.Do("POST", nmPath+"/clusters/"+clusterEdge+"?action=disable", token, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", clusterEdge)
	// The rotation is recorded: the support bundle (fetched with plain HTTP here) shows it.
	var loc struct {
		URL   string `json:"url"`
		Token struct {
			Token  string `json:"token"`
			Expiry string `json:"expiry"`
		} `json:"wcp_support_bundle_token"`
	}
	r := env.Do("POST", path+"/support-bundle", token, nil)
	r.JSON(t, &loc)
	if r.Status != 201 || loc.Token.Token == "" || !strings.HasPrefix(loc.URL, env.URL+"/api/") {
		t.Fatalf("support bundle location: %d %s", r.Status, r.Body)
	}
	dl := env.Do("POST", strings.TrimPrefix(loc.URL, env.URL), token, map[string]string{"wcp-support-bundle-token": loc.Token.Token})
	if dl.Status != 200 || dl.Header.Get("Content-Type") != "application/x-tar" || !strings.Contains(dl.Header.Get("Content-Disposition"), "wcp-support-bundle-"+clusterA) {
		t.Fatalf("bundle download: %d %v", dl.Status, dl.Header)
	}
	file := filepath.Join(t.TempDir(), "b.tar")
	writeFile(t, file, dl.Body)
	if log := readBundle(t, file)["wcp-support-bundle-"+clusterA+"/wcpd.log"]; !strings.Contains(log, "control plane password rotated") || !strings.Contains(log, "configuration changed") {
		t.Fatalf("bundle log:\n%s", log)
	}
	expectClError(t, env.Do("POST", strings.TrimPrefix(loc.URL, env.URL), token, map[string]string{"wcp-support-bundle-token": "forged"}), 401, "UNAUTHENTICATED")
}

// TestSupervisorFaultInjection arms faults with /api/wcpd/faults and checks what users see: an
// enable that ends in ERROR and can be retried, an upgrade that stalls, a disable that fails.
func TestSupervisorFaultInjection(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	env.AddUser("reader", "Reader-pw-1", auth.RoleReadOnly)
	arm := func(tok string, spec map[string]any) servertest.Response {
		return env.Do("POST", "/api/wcpd/faults", tok, spec)
	}
	expectClError(t, arm(env.Login("reader", "Reader-pw-1"), map[string]any{"operation": "enable", "target": clusterA, "mode": "ERROR", "message": "x"}),
		403, "UNAUTHORIZED", "Global.Settings")
	expectClError(t, arm(token, map[string]any{"operation": "enable", "target": clusterA, "mode": "BOOM"}), 400, "INVALID_ARGUMENT", `"BOOM" for spec.mode`)
	expectClError(t, arm(token, map[string]any{"operation": "enable", "target": clusterA, "mode": "ERROR"}), 400, "INVALID_ARGUMENT", "spec.message")
	expectClError(t, arm(token, map[string]any{"operation": "enable", "target": "domain-c404", "mode": "STALL"}), 400, "INVALID_ARGUMENT", `"domain-c404" for spec.target`)

	const msg = "injected: the control plane image could not be pulled"
	if r := arm(token, map[string]any{"operation": "enable", "target": clusterA, "mode": "ERROR", "message": msg}); r.Status != 201 {
		t.Fatalf("arming an enable fault: %d %s", r.Status, r.Body)
	}
	expectClError(t, arm(token, map[string]any{"operation": "enable", "target": clusterA, "mode": "STALL"}), 400, "ALREADY_EXISTS")
	if r := env.Do("GET", "/api/wcpd/faults", token, nil); !strings.Contains(string(r.Body), `"fault":"enable:domain-c9"`) {
		t.Fatalf("armed faults: %s", r.Body)
	}
	env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, vsphereEnableSpec(1))
	env.Settle(0)
	env.Settle(10 * time.Second)
	info := getSupervisorInfo(t, env, token, clusterA)
	if info.ConfigStatus != "ERROR" || info.KubernetesStatus != "ERROR" || len(info.Messages) != 1 || info.Messages[0].Severity != "ERROR" ||
		!strings.Contains(info.Messages[0].Details.DefaultMessage, msg) {
		t.Fatalf("enable with an injected ERROR: %+v", info)
	}
	failed := false
	for _, c := range info.Conditions {
		failed = failed || (c.Type == "ControlPlaneVMsConfigured" && c.Status == "FALSE" && c.Reason == "FailedWithSystemError")
	}
	if !failed {
		t.Fatalf("conditions after the failed enable: %+v", info.Conditions)
	}
	if r := env.Do("GET", "/api/wcpd/faults", token, nil); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("the fault was not consumed: %s", r.Body)
	}
	// A failed enable can be retried; it reuses the Supervisor.
	var before struct {
		Items []struct{ Supervisor string } `json:"items"`
	}
	env.Do("GET", nmPath+"/supervisors/summaries?config_status=ERROR", token, nil).JSON(t, &before)
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, vsphereEnableSpec(1)); r.Status != 204 {
		t.Fatalf("retrying the enable: %d %s", r.Status, r.Body)
	}
	env.Settle(0)
	env.Settle(10 * time.Second)
	var after struct {
		Items []struct{ Supervisor string } `json:"items"`
	}
	env.Do("GET", nmPath+"/supervisors/summaries?config_status=RUNNING", token, nil).JSON(t, &after)
	if len(before.Items) != 1 || len(after.Items) != 1 || before.Items[0].Supervisor != after.Items[0].Supervisor {
		t.Fatalf("retried enable: before %+v, after %+v", before, after)
	}

	// An upgrade that fails: ERROR after the first node, with the message; it can be tried again.
	arm(token, map[string]any{"operation": "upgrade", "target": clusterA, "mode": "ERROR", "message": "injected: node drain timed out"})
	env.Do("POST", nmPath+"/software/clusters/"+clusterA+"?action=upgrade", token, map[string]any{"desired_version": ver1_28_8})
	env.Settle(12 * time.Second)
	if sw := getSoftware(t, env, token, clusterA); sw.State != "ERROR" || sw.CurrentVersion != ver1_27_11 || !strings.Contains(severities(sw), "ERROR") {
		t.Fatalf("upgrade with an injected ERROR: %+v", sw)
	}
	if info := getSupervisorInfo(t, env, token, clusterA); info.ConfigStatus != "RUNNING" || info.KubernetesStatus != "WARNING" {
		t.Fatalf("the Supervisor after a failed upgrade: %+v", info)
	}
	// A retry that stalls stays PENDING on its first node; disable cleans it up.
	arm(token, map[string]any{"operation": "upgrade", "target": clusterA, "mode": "STALL"})
	env.Do("POST", nmPath+"/software/clusters/"+clusterA+"?action=upgrade", token, map[string]any{"desired_version": ver1_28_8})
	env.Settle(0)
	for i := 0; i < 3; i++ {
		env.Settle(10 * time.Second)
	}
	if sw := getSoftware(t, env, token, clusterA); sw.State != "PENDING" || sw.UpgradeStatus.Progress.Completed != 1 || sw.CurrentVersion != ver1_27_11 {
		t.Fatalf("stalled upgrade: %+v", sw)
	}

	// A disable that fails: ERROR with the message, the control plane still there; disabling
	// again finishes.
	arm(token, map[string]any{"operation": "disable", "target": clusterA, "mode": "ERROR", "message": "injected: VM deletion failed"})
	env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil)
	advance(env, 25*time.Second)
	info = getSupervisorInfo(t, env, token, clusterA)
	if info.ConfigStatus != "ERROR" || !strings.Contains(info.Messages[0].Details.DefaultMessage, "injected: VM deletion failed") {
		t.Fatalf("disable with an injected ERROR: %+v", info)
	}
	if out := env.AdminGovc("ls", "/Datacenter/vm/Namespaces/cluster-a"); strings.Count(out, "SupervisorControlPlaneVM") != 3 {
		t.Fatalf("control plane after the failed disable:\n%s", out)
	}
	env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil)
	advance(env, 25*time.Second)
	expectClError(t, env.Do("GET", nmPath+"/clusters/"+clusterA, token, nil), 400, "UNSUPPORTED")

	// Clearing: one fault, then all.
	arm(token, map[string]any{"operation": "enable", "target": clusterB, "mode": "STALL"})
	arm(token, map[string]any{"operation": "install", "target": "some-service", "mode": "STALL"})
	if r := env.Do("DELETE", "/api/wcpd/faults/enable:"+clusterB, token, nil); r.Status != 204 {
		t.Fatalf("deleting a fault: %d %s", r.Status, r.Body)
	}
	expectClError(t, env.Do("DELETE", "/api/wcpd/faults/enable:"+clusterB, token, nil), 404, "NOT_FOUND")
	if r := env.Do("DELETE", "/api/wcpd/faults", token, nil); r.Status != 204 {
		t.Fatalf("clearing faults: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/wcpd/faults", token, nil); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("faults after clearing: %s", r.Body)
	}
	// The cleared STALL does not hit B.
	enableSupervisor(t, env, token, clusterB, 2)
}

// TestClustersRestartMidEnable stops the server half way through an enable, starts another on the
// same data dir (whose inventory is rebuilt empty), and checks the enable finishes and the control
// plane is back; then the same across a restart mid-upgrade and with a RUNNING Supervisor.
func TestClustersRestartMidEnable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := servertest.New(t, servertest.WithDataDir(dir))
	token := env.AdminToken()
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, vsphereEnableSpec(1)); r.Status != 204 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	env.Settle(0)
	env.Settle(6 * time.Second)
	if info := getSupervisorInfo(t, env, token, clusterA); info.ConfigStatus != "CONFIGURING" {
		t.Fatalf("half way: %+v", info)
	}
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}

	env = servertest.New(t, servertest.WithDataDir(dir))
	token = env.AdminToken()
	if info := getSupervisorInfo(t, env, token, clusterA); info.ConfigStatus != "CONFIGURING" {
		t.Fatalf("after the restart: %+v", info)
	}
	env.Settle(0)
	env.Settle(10 * time.Second)
	if info := getSupervisorInfo(t, env, token, clusterA); info.ConfigStatus != "RUNNING" || info.APIServerManagementEP != "10.20.1.10" {
		t.Fatalf("enable resumed after the restart: %+v", info)
	}
	if out := env.AdminGovc("ls", "/Datacenter/vm/Namespaces/cluster-a"); strings.Count(out, "SupervisorControlPlaneVM") != 3 {
		t.Fatalf("control plane after the resumed enable:\n%s", out)
	}

	// Mid-upgrade.
	if r := env.Do("POST", nmPath+"/software/clusters/"+clusterA+"?action=upgrade", token, map[string]any{"desired_version": ver1_28_8}); r.Status != 204 {
		t.Fatalf("upgrade: %d %s", r.Status, r.Body)
	}
	env.Settle(0)
	env.Settle(4 * time.Second)
	if sw := getSoftware(t, env, token, clusterA); sw.State != "PENDING" || sw.UpgradeStatus.Progress.Completed != 1 {
		t.Fatalf("upgrade half way: %+v", sw)
	}
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	env = servertest.New(t, servertest.WithDataDir(dir))
	token = env.AdminToken()
	env.Settle(0)
	if sw := getSoftware(t, env, token, clusterA); sw.State != "PENDING" || sw.UpgradeStatus.Progress.Completed != 1 {
		t.Fatalf("upgrade after the restart (progress never goes back): %+v", sw)
	}
	env.Settle(4 * time.Second)
	env.Settle(4 * time.Second)
	if sw := getSoftware(t, env, token, clusterA); sw.State != "READY" || sw.CurrentVersion != ver1_28_8 {
		t.Fatalf("upgrade resumed after the restart: %+v", sw)
	}

	// A RUNNING Supervisor's pool and VMs are back right after a start.
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	env = servertest.New(t, servertest.WithDataDir(dir))
	if out := env.AdminGovc("ls", "/Datacenter/host/Cluster-A/Resources/*"); !strings.Contains(out, "Namespaces") {
		t.Fatalf("Namespaces pool after a restart:\n%s", out)
	}
	if out := env.AdminGovc("object.collect", "-s", "/Datacenter/host/Cluster-A/Resources/Namespaces", "vm"); strings.Count(out, "VirtualMachine:") != 3 {
		t.Fatalf("control plane VMs after a restart: %s", out)
	}
	if out := env.AdminGovc("vm.info", "/Datacenter/vm/Namespaces/cluster-a/SupervisorControlPlaneVM (1)"); !strings.Contains(out, "poweredOn") {
		t.Fatalf("control plane VM after a restart:\n%s", out)
	}
	if info := getSupervisorInfo(t, env, env.AdminToken(), clusterA); info.ConfigStatus != "RUNNING" {
		t.Fatalf("after the last restart: %+v", info)
	}
}

// TestClustersLoadBalancersAndConditions covers the load balancer API and the 8.0 conditions and
// summary filters of a Supervisor enabled through the 8.0 API on its own zone.
func TestClustersLoadBalancersAndConditions(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 1)
	lb := nmPath + "/clusters/" + clusterA + "/load-balancers"

	var lbs []struct{ ID, Provider string }
	env.Do("GET", lb, token, nil).JSON(t, &lbs)
	if len(lbs) != 1 || lbs[0].ID != "haproxy-1" || lbs[0].Provider != "HA_PROXY" {
		t.Fatalf("load balancers: %+v", lbs)
	}
	expectClError(t, env.Do("GET", lb+"/nope", token, nil), 404, "NOT_FOUND", "nope")
	if r := env.Do("PATCH", lb+"/haproxy-1", token, map[string]any{"ha_proxy_config_update_spec": map[string]any{"username": "operator"}}); r.Status != 204 {
		t.Fatalf("load balancer update: %d %s", r.Status, r.Body)
	}
	var got struct {
		AddressRanges []struct{ Address string } `json:"address_ranges"`
		HAProxyInfo   *struct {
			Username string `json:"username"`
			Servers  []struct{ Host string }
		} `json:"ha_proxy_info"`
		AviInfo *struct{ Username string } `json:"avi_info"`
	}
	env.Do("GET", lb+"/haproxy-1", token, nil).JSON(t, &got)
	if got.HAProxyInfo == nil || got.HAProxyInfo.Username != "operator" || got.HAProxyInfo.Servers[0].Host != "10.40.1.2" {
		t.Fatalf("after update: %+v", got)
	}
	expectClError(t, env.Do("PATCH", lb+"/haproxy-1", token, map[string]any{"provider": "AVI"}), 400, "INVALID_ARGUMENT", "use set")
	// Overlapping the management range is refused; a proper set switches to Avi.
	expectClError(t, env.Do("PUT", lb+"/haproxy-1", token, map[string]any{"provider": "AVI",
		"address_ranges":      []any{map[string]any{"address": "10.20.1.12", "count": 4}},
		"avi_config_set_spec": map[string]any{"server": map[string]any{"host": "avi.example.com", "port": 443}, "username": "u", "password": "p", "certificate_authority_chain": lbTestCA}}),
		400, "INVALID_ARGUMENT", "overlaps the management network")
	if r := env.Do("PUT", lb+"/haproxy-1", token, map[string]any{"provider": "AVI",
		"address_ranges":      []any{map[string]any{"address": "10.43.0.10", "count": 10}},
		"avi_config_set_spec": map[string]any{"server": map[string]any{"host": "avi.example.com", "port": 443}, "username": "u", "password": "p", "certificate_authority_chain": lbTestCA}}); r.Status != 204 {
		t.Fatalf("load balancer set: %d %s", r.Status, r.Body)
	}
	got.HAProxyInfo, got.AviInfo = nil, nil
	env.Do("GET", lb+"/haproxy-1", token, nil).JSON(t, &got)
	if got.AviInfo == nil || got.HAProxyInfo != nil || got.AddressRanges[0].Address != "10.43.0.10" {
		t.Fatalf("after set: %+v", got)
	}
	if info := getSupervisorInfo(t, env, token, clusterA); info.APIServerClusterEndpoint != "10.43.0.10" {
		t.Fatalf("the cluster endpoint follows the load balancer: %+v", info)
	}

	// The 8.0 view: summaries by filter, conditions, topology, clusters.topology.
	var sums struct {
		Items []struct {
			Supervisor string `json:"supervisor"`
		} `json:"items"`
	}
	env.Do("GET", nmPath+"/supervisors/summaries?kubernetes_status=READY", token, nil).JSON(t, &sums)
	if len(sums.Items) != 1 {
		t.Fatalf("summaries filtered by READY: %+v", sums)
	}
	id := sums.Items[0].Supervisor
	if r := env.Do("GET", nmPath+"/supervisors/summaries?config_status=ERROR", token, nil); strings.TrimSpace(string(r.Body)) != `{"items":[]}` {
		t.Fatalf("summaries filtered by ERROR: %s", r.Body)
	}
	var conds []struct {
		Type     string `json:"type"`
		Status   string `json:"status"`
		Messages []any  `json:"messages"`
	}
	env.Do("GET", nmPath+"/supervisors/"+id+"/conditions", token, nil).JSON(t, &conds)
	if len(conds) != 4 || conds[0].Type != "InfrastructureInitialized" || conds[3].Status != "TRUE" {
		t.Fatalf("conditions: %+v", conds)
	}
	if r := env.Do("GET", nmPath+"/clusters/"+clusterA+"/topology", token, nil); strings.TrimSpace(string(r.Body)) != `"zone-`+clusterA+`"` {
		t.Fatalf("clusters.topology: %s", r.Body)
	}
	if r := env.Do("GET", nmPath+"/clusters/"+clusterA+"/workload-resource-options", token, nil); !strings.Contains(string(r.Body), `"create_resource_quota_type":"com.vmware.vcenter.namespaces.resource_quota_options_v1"`) {
		t.Fatalf("namespace_resource_options: %s", r.Body)
	}
	expectClError(t, env.Do("GET", nmPath+"/clusters/"+clusterB+"/workload-resource-options", token, nil), 400, "UNSUPPORTED")

	// enable_on_zones on one zone, with an NSX network: the answer is the Supervisor id.
	r := env.Do("POST", nmPath+"/supervisors?action=enable_on_zones", token, map[string]any{
		"zones": []string{"zone-" + clusterB}, "name": "zonal",
		"control_plane": map[string]any{"network": map[string]any{"backing": map[string]any{"backing": "NETWORK", "network": portgroupMgmt},
			"ip_management": map[string]any{"dhcp_enabled": false, "gateway_address": "10.23.0.1/24",
				"ip_assignments": []any{map[string]any{"ranges": []any{map[string]any{"address": "10.23.0.10", "count": 5}}}}}},
			"storage_policy": policyGold},
		"workloads": map[string]any{
			"network": map[string]any{"network_type": "NSXT", "nsx": map[string]any{"dvs": distributedSwi}},
			"edge": map[string]any{"nsx": map[string]any{"routing_mode": "NAT", "egress_IP_ranges": []any{map[string]any{"address": "10.50.0.0", "count": 64}}},
				"load_balancer_address_ranges": []any{map[string]any{"address": "10.51.0.0", "count": 64}}},
			"kube_api_server_options": map[string]any{},
		},
	})
	var zonal string
	if r.Status != 200 || json.Unmarshal(r.Body, &zonal) != nil || zonal == "" {
		t.Fatalf("enable_on_zones: %d %s", r.Status, r.Body)
	}
	env.Settle(0)
	env.Settle(10 * time.Second)
	if info := getSupervisorInfo(t, env, token, clusterB); info.ConfigStatus != "RUNNING" || info.NetworkProvider != "NSXT_CONTAINER_PLUGIN" || info.APIServerClusterEndpoint != "10.51.0.1" {
		t.Fatalf("the zonal Supervisor: %+v", info)
	}
	expectClError(t, env.Do("GET", nmPath+"/clusters/"+clusterB+"/load-balancers", token, nil), 400, "UNSUPPORTED", "NSX")
	// NSX namespace networks: validated, and kept clear of the Supervisor's own CIDRs.
	nets := nmPath + "/clusters/" + clusterB + "/networks"
	nsxNet := func(name, cidr string) map[string]any {
		return map[string]any{"network": name, "network_provider": "NSXT_CONTAINER_PLUGIN", "nsx_network": map[string]any{
			"namespace_network_cidrs": []any{map[string]any{"address": cidr, "prefix": 24}}, "subnet_prefix_length": 28, "load_balancer_size": "SMALL"}}
	}
	expectClError(t, env.Do("POST", nets, token, nsxNet("clash", "10.51.0.0")), 400, "INVALID_ARGUMENT", "overlaps the Supervisor's ingress_cidrs[0]")
	expectClError(t, env.Do("POST", nets, token, map[string]any{"network": "wrong", "network_provider": "VSPHERE_NETWORK",
		"vsphere_network": map[string]any{"portgroup": portgroupWork}}), 400, "INVALID_ARGUMENT", "spec.network_provider", "NSXT_CONTAINER_PLUGIN")
	if r := env.Do("POST", nets, token, nsxNet("tenant-a", "10.70.0.0")); r.Status != 204 {
		t.Fatalf("creating an NSX network: %d %s", r.Status, r.Body)
	}
	expectClError(t, env.Do("POST", nets, token, nsxNet("tenant-a", "10.71.0.0")), 400, "ALREADY_EXISTS", "tenant-a")
	if r := env.Do("GET", nets+"/tenant-a", token, nil); !strings.Contains(string(r.Body), `"namespace_network_cidrs":[{"address":"10.70.0.0","prefix":24}]`) {
		t.Fatalf("the NSX network: %s", r.Body)
	}
	// 8.0 names in 8.0 errors.
	expectClError(t, env.Do("POST", nmPath+"/supervisors/"+clusterEdge+"?action=enable_on_compute_cluster", token, map[string]any{
		"name": "bad", "control_plane": map[string]any{"network": map[string]any{"backing": map[string]any{"backing": "NETWORK", "network": portgroupMgmt},
			"ip_management": map[string]any{"gateway_address": "10.24.0.1", "ip_assignments": []any{map[string]any{"ranges": []any{map[string]any{"address": "10.24.0.10", "count": 5}}}}}},
			"storage_policy": policyGold},
		"workloads": map[string]any{"network": map[string]any{"network_type": "VSPHERE", "vsphere": map[string]any{"dvpg": portgroupWork}}, "edge": map[string]any{}},
	}), 400, "INVALID_ARGUMENT", `"10.24.0.1" for spec.control_plane.network.ip_management.gateway_address`, "spec.workloads.edge.provider")
}

const threeZoneInventory = `datacenter: Lab
clusters:
  - {name: Zone-1, drs: true, ha: true, hosts: 3}
  - {name: Zone-2, drs: true, ha: true, hosts: 3}
  - {name: Zone-3, drs: true, ha: true, hosts: 3}
datastores:
  - {name: lab-ds, capacity_gib: 4096}
switches:
  - name: LabSwitch
    clusters: [Zone-1, Zone-2, Zone-3]
    port_groups:
      - {name: lab-management, vlan: 10}
      - {name: lab-workload, vlan: 20}
storage_policies:
  - {id: 11111111-2222-4333-8444-000000000001, name: lab-gold}
`

// TestSupervisorOnThreeZones enables a Supervisor across three vSphere Zones (one cluster each) of
// an inventory that has them: the control plane VMs spread over the zones' Namespaces pools, the
// topology lists the zones, and disable removes everything everywhere.
func TestSupervisorOnThreeZones(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "inventory.yaml")
	writeFile(t, file, []byte(threeZoneInventory))
	env := servertest.New(t, func(c *server.Config) { c.InventoryFile = file })
	token := env.AdminToken()
	var compat []struct{ Cluster string }
	env.Do("GET", nmPath+"/cluster-compatibility?compatible=true&network_provider=VSPHERE_NETWORK", token, nil).JSON(t, &compat)
	if len(compat) != 3 {
		t.Fatalf("compatible clusters of the three-zone inventory: %+v", compat)
	}
	var switches []struct {
		CompatibleNetworks []string `json:"compatible_networks"`
	}
	env.Do("GET", nmPath+"/distributed-switch-compatibility?network_provider=VSPHERE_NETWORK&cluster="+compat[0].Cluster, token, nil).JSON(t, &switches)
	if len(switches) != 1 || len(switches[0].CompatibleNetworks) != 2 {
		t.Fatalf("switches: %+v", switches)
	}
	mgmt, work := switches[0].CompatibleNetworks[0], switches[0].CompatibleNetworks[1]
	zones := []string{"zone-" + compat[0].Cluster, "zone-" + compat[1].Cluster, "zone-" + compat[2].Cluster}
	policy := "11111111-2222-4333-8444-000000000001"
	r := env.Do("POST", nmPath+"/supervisors?action=enable_on_zones", token, map[string]any{
		"zones": zones, "name": "three-zones",
		"control_plane": map[string]any{"size": "SMALL", "storage_policy": policy, "network": map[string]any{
			"backing": map[string]any{"backing": "NETWORK", "network": mgmt},
			"ip_management": map[string]any{"dhcp_enabled": false, "gateway_address": "10.60.0.1/24",
				"ip_assignments": []any{map[string]any{"ranges": []any{map[string]any{"address": "10.60.0.10", "count": 8}}}}}}},
		"workloads": map[string]any{
			"network": map[string]any{"network_type": "VSPHERE", "vsphere": map[string]any{"dvpg": work},
				"ip_management": map[string]any{"dhcp_enabled": false, "gateway_address": "10.61.0.1/24",
					"ip_assignments": []any{map[string]any{"assignee": "NODE", "ranges": []any{map[string]any{"address": "10.61.0.10", "count": 100}}}}}},
			"edge": map[string]any{"provider": "NSX_ADVANCED", "load_balancer_address_ranges": []any{map[string]any{"address": "10.62.0.10", "count": 10}},
				"nsx_advanced": map[string]any{"server": map[string]any{"host": "avi.lab", "port": 443}, "username": "admin", "password": "pw", "certificate_authority_chain": lbTestCA}},
		},
	})
	var id string
	if r.Status != 200 || json.Unmarshal(r.Body, &id) != nil {
		t.Fatalf("enable_on_zones: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second)
	var topo []struct {
		Zone     string   `json:"zone"`
		Clusters []string `json:"clusters"`
	}
	env.Do("GET", nmPath+"/supervisors/"+id+"/topology", token, nil).JSON(t, &topo)
	if len(topo) != 3 || topo[2].Zone != zones[2] || topo[2].Clusters[0] != compat[2].Cluster {
		t.Fatalf("topology: %+v", topo)
	}
	for i, c := range compat {
		info := getSupervisorInfo(t, env, token, c.Cluster)
		if info.ConfigStatus != "RUNNING" || info.SizeHint != "SMALL" {
			t.Fatalf("clusters.get of zone %d: %+v", i, info)
		}
		name := []string{"Zone-1", "Zone-2", "Zone-3"}[i]
		if out := env.AdminGovc("object.collect", "-s", "/Lab/host/"+name+"/Resources/Namespaces", "vm"); strings.Count(out, "VirtualMachine:") != 1 {
			t.Fatalf("the Namespaces pool of %s holds: %s", name, out)
		}
	}
	if out := env.AdminGovc("namespace.cluster.ls"); strings.Count(out, "/Lab/host/Zone-") != 3 {
		t.Fatalf("namespace.cluster.ls of a three-zone Supervisor:\n%s", out)
	}
	// Another enable on one of its zones is refused: the cluster has a Supervisor.
	expectClError(t, env.Do("POST", nmPath+"/clusters/"+compat[1].Cluster+"?action=enable", token, vsphereEnableSpec(1)), 400, "ALREADY_EXISTS")
	if r := env.Do("POST", nmPath+"/clusters/"+compat[2].Cluster+"?action=disable", token, nil); r.Status != 204 {
		t.Fatalf("disable through the third zone's cluster: %d %s", r.Status, r.Body)
	}
	advance(env, 25*time.Second)
	if out := env.AdminGovc("namespace.cluster.ls"); strings.TrimSpace(out) != "" {
		t.Fatalf("after disable:\n%s", out)
	}
	for _, name := range []string{"Zone-1", "Zone-2", "Zone-3"} {
		if out := env.AdminGovc("ls", "/Lab/host/"+name+"/Resources/*"); strings.Contains(out, "Namespaces") {
			t.Fatalf("the Namespaces pool of %s is left:\n%s", name, out)
		}
	}
}
