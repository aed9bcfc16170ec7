package test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"

	"github.com/wcpd/wcpd/internal/servertest"
)

// scenarioInventory is what the vSphere inventory (/sdk) holds of wcpd's work, read with govmomi's
// find and property collector as a vSphere admin's script would: every pool under a cluster's
// Namespaces pool, with its CPU and memory limits, and every VM in the Namespaces VM folders, with its
// power state, size and annotation. Keys are inventory paths; each cluster's Namespaces pool itself is
// listed as "<path> (pool)".
func scenarioInventory(t *testing.T, vim *vim25.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	finder := find.NewFinder(vim, true)
	out := map[string]string{}
	var notFound *find.NotFoundError
	top, err := finder.ResourcePoolList(ctx, "/Datacenter/host/*/Resources/Namespaces")
	if err != nil && !errors.As(err, &notFound) {
		t.Fatalf("finding the Namespaces pools: %v", err)
	}
	for _, p := range top {
		out[p.InventoryPath+" (pool)"] = ""
	}
	pools, err := finder.ResourcePoolList(ctx, "/Datacenter/host/*/Resources/Namespaces/*")
	if err != nil && !errors.As(err, &notFound) {
		t.Fatalf("finding the namespace pools: %v", err)
	}
	pc := property.DefaultCollector(vim)
	for _, p := range pools {
		var rp mo.ResourcePool
		if err := pc.RetrieveOne(ctx, p.Reference(), []string{"config"}, &rp); err != nil {
			t.Fatalf("reading pool %s: %v", p.InventoryPath, err)
		}
		out[p.InventoryPath] = fmt.Sprintf("cpu=%d mem=%d", scenarioLimit(rp.Config.CpuAllocation.Limit), scenarioLimit(rp.Config.MemoryAllocation.Limit))
	}
	vms, err := finder.VirtualMachineList(ctx, "/Datacenter/vm/Namespaces/*/*")
	if err != nil && !errors.As(err, &notFound) {
		t.Fatalf("finding the control plane VMs: %v", err)
	}
	for _, v := range vms {
		var vm mo.VirtualMachine
		if err := pc.RetrieveOne(ctx, v.Reference(), []string{"runtime.powerState", "config.hardware", "config.annotation"}, &vm); err != nil {
			t.Fatalf("reading VM %s: %v", v.InventoryPath, err)
		}
		out[v.InventoryPath] = fmt.Sprintf("%s %dvCPU %dMB %s", vm.Runtime.PowerState, vm.Config.Hardware.NumCPU, vm.Config.Hardware.MemoryMB, vm.Config.Annotation)
	}
	return out
}

// scenarioLimit is a pool's limit as vSphere means it: unset is unlimited (-1).
func scenarioLimit(l *int64) int64 {
	if l == nil {
		return -1
	}
	return *l
}

// scenarioExpect fails unless the inventory holds exactly the paths of want, each described as want
// says ("" matches any description).
func scenarioExpect(t *testing.T, step string, got map[string]string, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(got)) {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: the inventory has %s (%s), which it should not", step, k, got[k])
		} else if w != "" && !strings.Contains(got[k], w) {
			t.Errorf("%s: %s is %q, want it to say %q", step, k, got[k], w)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: the inventory lacks %s", step, k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// scenarioControlPlane is the inventory of a running Supervisor on cluster (Cluster-A or Cluster-B)
// of the default inventory: its Namespaces pool and three powered-on TINY control plane VMs annotated
// with the Kubernetes version they run.
func scenarioControlPlane(cluster, version string) map[string]string {
	want := map[string]string{"/Datacenter/host/" + cluster + "/Resources/Namespaces (pool)": ""}
	for i := 1; i <= 3; i++ {
		want[fmt.Sprintf("/Datacenter/vm/Namespaces/%s/SupervisorControlPlaneVM (%d)", strings.ToLower(cluster), i)] =
			fmt.Sprintf("poweredOn 2vCPU 8192MB Supervisor %s control plane node %d. Kubernetes %s.", strings.ToLower(cluster), i, version)
	}
	return want
}

// TestScenarioADayWithTwoSupervisors follows a vSphere admin's day on the default inventory, the
// inventory checked through /sdk after every step: two Supervisors are enabled, namespaces are made
// with VM classes, libraries and storage, access is granted, self-service is activated and a DevOps
// user makes a namespace of their own, a Supervisor Service is installed, one Supervisor is upgraded,
// and the other is disabled.
func TestScenarioADayWithTwoSupervisors(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	ctx := context.Background()
	vim := cfVimLogin(t, env)
	m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	env.AddUser("alice", "Alice-pw-1!", "")
	env.AddUser("bob", "Bob-pw-1!", "", "data-team")
	env.AddUser("dave", "Dave-pw-1!", "", "devops")
	poolA, poolB := "/Datacenter/host/Cluster-A/Resources/Namespaces/", "/Datacenter/host/Cluster-B/Resources/Namespaces/"
	// want is the inventory expected after the step that just ran; each step changes it.
	want := map[string]string{}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	// Enabling runs on the test itself: should wcpd not implement it, the whole day is skipped.
	enableSupervisor(t, env, admin, clusterA, 81)
	enableSupervisor(t, env, admin, clusterB, 82)
	step("EnableTwoSupervisors", func(t *testing.T) {
		env := env.For(t)
		// The built-in Tanzu Kubernetes Grid Service comes to every new Supervisor with its namespace.
		env.Settle(time.Minute)
		clusters, err := m.ListClusters(ctx)
		if err != nil || len(clusters) != 2 {
			t.Fatalf("ListClusters: %+v %v", clusters, err)
		}
		for _, c := range clusters {
			if c.ConfigStatus.String() != "RUNNING" || c.KubernetesStatus.String() != "READY" {
				t.Fatalf("Supervisor %s: %s/%s", c.ID, c.ConfigStatus, c.KubernetesStatus)
			}
		}
		maps.Copy(want, scenarioControlPlane("Cluster-A", ver1_27_11))
		maps.Copy(want, scenarioControlPlane("Cluster-B", ver1_27_11))
		want[poolA+"svc-tkg-"+clusterA] = "cpu=-1 mem=-1"
		want[poolB+"svc-tkg-"+clusterB] = "cpu=-1 mem=-1"
		scenarioExpect(t, "after enabling two Supervisors", scenarioInventory(t, vim), want)
	})

	step("NamespacesWithClassesLibrariesAndStorage", func(t *testing.T) {
		env := env.For(t)
		if r := env.Do("POST", vmClassesPath, admin, map[string]any{"id": "web-class", "cpu_count": 2, "memory_MB": 3072, "description": "web tier"}); r.Status != 204 {
			t.Fatalf("creating web-class: %d %s", r.Status, r.Body)
		}
		// On Cluster-A over the API, with limits, a custom class, a VM image library and gold storage.
		nsCreate(t, env, admin, "team-web", map[string]any{
			"description":     "web team",
			"resource_spec":   map[string]any{"cpu_limit": 8000, "memory_limit": 16384},
			"storage_specs":   []any{map[string]any{"policy": policyGold, "limit": 102400}},
			"vm_service_spec": map[string]any{"vm_classes": []any{"web-class", "best-effort-small"}, "content_libraries": []any{libraryVMImages}},
		})
		// On Cluster-B through govmomi's v2 call, which names the Supervisor rather than the cluster.
		summaries, err := m.GetSupervisorSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var supB string
		for _, s := range summaries.Items {
			if topo, err := m.GetSupervisorTopology(ctx, s.Supervisor); err == nil && len(topo) == 1 && slices.Contains(topo[0].Clusters, clusterB) {
				supB = s.Supervisor
			}
		}
		if supB == "" {
			t.Fatalf("no Supervisor summary has Cluster-B: %+v", summaries)
		}
		if err := m.CreateNamespaceV2(ctx, namespace.NamespaceInstanceCreateSpecV2{Namespace: "team-data", Supervisor: supB,
			StorageSpecs:     &[]namespace.StorageSpec{{Policy: policySilver}},
			VmServiceSpec:    &namespace.VmServiceSpec{VmClasses: []string{"guaranteed-large"}},
			ContentLibraries: &[]namespace.ContentLibraryV2{{ContentLibrary: libraryTKRs}},
		}); err != nil {
			t.Fatalf("CreateNamespaceV2: %v", err)
		}
		env.Settle(time.Minute)
		data, err := m.GetNamespace(ctx, "team-data")
		if err != nil || data.ConfigStatus != "RUNNING" || data.ClusterId != clusterB || len(data.StorageSpecs) != 1 || data.StorageSpecs[0].Policy != policySilver {
			t.Fatalf("team-data: %+v %v", data, err)
		}
		// The class knows which namespaces offer it.
		if cl, raw := getVMClass(t, env, admin, "web-class"); !slices.Equal(cl.Namespaces, []string{"team-web"}) {
			t.Fatalf("web-class is offered by: %s", raw.Body)
		}
		want[poolA+"team-web"] = "cpu=8000 mem=16384"
		want[poolB+"team-data"] = "cpu=-1 mem=-1"
		scenarioExpect(t, "after creating two namespaces", scenarioInventory(t, vim), want)
	})

	step("GrantAccess", func(t *testing.T) {
		env := env.For(t)
		if r := env.Do("POST", cfAccessPath("team-web", "vsphere.local", "alice", "USER"), admin, map[string]any{"role": "EDIT"}); r.Status != 204 {
			t.Fatalf("granting alice EDIT: %d %s", r.Status, r.Body)
		}
		if r := env.Do("POST", cfAccessPath("team-data", "vsphere.local", "data-team", "GROUP"), admin, map[string]any{"role": "VIEW"}); r.Status != 204 {
			t.Fatalf("granting data-team VIEW: %d %s", r.Status, r.Body)
		}
		env.Settle(0)
		alice, bob := env.Login("alice", "Alice-pw-1!"), env.Login("bob", "Bob-pw-1!")
		if got := cfUserView(t, env, alice, ""); !slices.Equal(got, []string{"team-web"}) {
			t.Fatalf("alice's namespaces: %v", got)
		}
		if got := cfUserView(t, env, bob, ""); !slices.Equal(got, []string{"team-data"}) {
			t.Fatalf("bob's namespaces: %v", got)
		}
		if r := env.Do("PATCH", nsInstances+"/team-web", alice, map[string]any{"description": "web team, run by alice"}); r.Status != 204 {
			t.Fatalf("alice edits team-web: %d %s", r.Status, r.Body)
		}
		expectError(t, env.Do("PATCH", nsInstances+"/team-data", bob, map[string]any{"description": "bob"}), 403, "UNAUTHORIZED")
		env.Settle(0)
		// Access is not an inventory matter: nothing changed there.
		scenarioExpect(t, "after granting access", scenarioInventory(t, vim), want)
	})

	step("SelfServiceForDevOps", func(t *testing.T) {
		env := env.For(t)
		r := env.Do("POST", "/api/vcenter/namespaces/namespace-self-service/"+clusterA+"?action=activateWithTemplate", admin, map[string]any{
			"template":        "sandbox",
			"permissions":     []any{map[string]any{"subject_type": "GROUP", "subject": "devops", "domain": "vsphere.local"}},
			"resource_spec":   map[string]any{"cpu_limit": 4000, "memory_limit": 4096},
			"storage_specs":   []any{map[string]any{"policy": policySilver, "limit": 20480}},
			"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-xsmall"}, "content_libraries": []any{libraryVMImages}},
		})
		if r.ErrorType() == "UNSUPPORTED" && strings.Contains(string(r.Body), "does not implement") {
			t.Skip("skipped: wcpd does not implement namespace self-service yet (activateWithTemplate answers UNSUPPORTED)")
		}
		if r.Status != 204 {
			t.Fatalf("activateWithTemplate: %d %s", r.Status, r.Body)
		}
		env.Settle(10 * time.Second)
		var ss struct{ Status, Capability string }
		env.Do("GET", "/api/vcenter/namespaces/namespace-self-service/"+clusterA, admin, nil).JSON(t, &ss)
		if ss.Status != "RUNNING" || ss.Capability != "SUPPORTED" {
			t.Fatalf("self-service on Cluster-A: %+v", ss)
		}
		// dave, in the devops group, makes a namespace with no administrator's privilege at all.
		dave := env.Login("dave", "Dave-pw-1!")
		if r := env.Do("POST", nsInstances, dave, map[string]any{"cluster": clusterA, "namespace": "dave-sandbox"}); r.Status != 204 {
			t.Fatalf("dave creates dave-sandbox: %d %s", r.Status, r.Body)
		}
		expectError(t, env.Do("POST", nsInstances, dave, map[string]any{"cluster": clusterB, "namespace": "dave-elsewhere"}), 403, "UNAUTHORIZED", clusterB)
		env.Settle(time.Minute)
		got := nsGet(t, env, dave, "dave-sandbox")
		if got["config_status"] != "RUNNING" || got["self_service_namespace"] != true ||
			canon(t, got["access_list"]) != canonJSON(t, `[{"subject_type": "USER", "subject": "dave", "domain": "vsphere.local", "role": "OWNER"}]`) ||
			canon(t, got["storage_specs"]) != canonJSON(t, `[{"policy": "`+policySilver+`", "limit": 20480}]`) {
			t.Fatalf("dave-sandbox: %v", got)
		}
		if got := cfUserView(t, env, dave, ""); !slices.Equal(got, []string{"dave-sandbox"}) {
			t.Fatalf("dave's namespaces: %v", got)
		}
		want[poolA+"dave-sandbox"] = "cpu=4000 mem=4096"
		scenarioExpect(t, "after dave's self-service namespace", scenarioInventory(t, vim), want)
	})

	step("InstallASupervisorService", func(t *testing.T) {
		env := env.For(t)
		svc := svcOnCluster(clusterA)
		if r := env.Do("POST", svc, admin, map[string]any{"supervisor_service": "velero.vsphere.vmware.com", "version": "1.6.1"}); r.Status != 204 {
			t.Fatalf("installing Velero: %d %s", r.Status, r.Body)
		}
		env.Settle(time.Minute)
		var in svcInstallInfo
		env.Do("GET", svc+"/velero.vsphere.vmware.com", admin, nil).JSON(t, &in)
		if in.ConfigStatus != "CONFIGURED" || in.CurrentVersion == nil || *in.CurrentVersion != "1.6.1" || in.ServiceNamespace == nil ||
			*in.ServiceNamespace != "svc-velero-"+clusterA {
			t.Fatalf("Velero on Cluster-A: %+v", in)
		}
		if out := env.AdminGovc("namespace.ls"); !strings.Contains(out, "svc-velero-"+clusterA+"\n") {
			t.Fatalf("govc namespace.ls does not show Velero's namespace:\n%s", out)
		}
		want[poolA+"svc-velero-"+clusterA] = "cpu=-1 mem=-1"
		scenarioExpect(t, "after installing Velero", scenarioInventory(t, vim), want)
	})

	step("UpgradeSupervisorB", func(t *testing.T) {
		env := env.For(t)
		if r := env.Do("POST", nmPath+"/software/clusters/"+clusterB+"?action=upgrade", admin, map[string]any{"desired_version": ver1_28_8}); r.Status != 204 {
			t.Fatalf("upgrade: %d %s", r.Status, r.Body)
		}
		if sw := getSoftware(t, env, admin, clusterB); sw.State != "PENDING" {
			t.Fatalf("right after the upgrade request: %+v", sw)
		}
		for i := 0; i < 10 && getSoftware(t, env, admin, clusterB).CurrentVersion != ver1_28_8; i++ {
			env.Settle(5 * time.Second)
		}
		if sw := getSoftware(t, env, admin, clusterB); sw.State != "READY" || sw.CurrentVersion != ver1_28_8 || sw.LastUpgradedDate == nil {
			t.Fatalf("after the upgrade: %+v", sw)
		}
		env.Settle(10 * time.Second)
		if getSupervisorInfo(t, env, admin, clusterB).KubernetesStatus != "READY" || getSoftware(t, env, admin, clusterA).CurrentVersion != ver1_27_11 {
			t.Fatal("the upgrade of Cluster-B's Supervisor left it not READY, or touched Cluster-A's")
		}
		// The VMs now say the new version; the namespaces on B are untouched.
		maps.Copy(want, scenarioControlPlane("Cluster-B", ver1_28_8))
		if got := nsGet(t, env, admin, "team-data")["config_status"]; got != "RUNNING" {
			t.Fatalf("team-data after the upgrade: %v", got)
		}
		scenarioExpect(t, "after upgrading Cluster-B's Supervisor", scenarioInventory(t, vim), want)
	})

	step("DisableSupervisorA", func(t *testing.T) {
		env := env.For(t)
		if err := m.DisableCluster(ctx, clusterA); err != nil {
			t.Fatalf("DisableCluster: %v", err)
		}
		env.Settle(0)
		if got := nsGet(t, env, admin, "team-web")["config_status"]; got != "REMOVING" {
			t.Fatalf("team-web while its Supervisor goes: %v", got)
		}
		advance(env, 25*time.Second)
		clusters, err := m.ListClusters(ctx)
		if err != nil || len(clusters) != 1 || clusters[0].ID != clusterB {
			t.Fatalf("ListClusters after disabling Cluster-A's Supervisor: %+v %v", clusters, err)
		}
		list, err := m.ListNamespaces(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, n := range list {
			left = append(left, n.Namespace)
		}
		slices.Sort(left)
		if !slices.Equal(left, []string{"svc-tkg-" + clusterB, "team-data"}) {
			t.Fatalf("namespaces after disabling Cluster-A's Supervisor: %v", left)
		}
		if got := cfUserView(t, env, env.Login("alice", "Alice-pw-1!"), ""); len(got) != 0 {
			t.Fatalf("alice's namespaces after Cluster-A went: %v", got)
		}
		if got := cfUserView(t, env, env.Login("bob", "Bob-pw-1!"), ""); !slices.Equal(got, []string{"team-data"}) {
			t.Fatalf("bob's namespaces after Cluster-A went: %v", got)
		}
		// Everything of Cluster-A's Supervisor is gone from the inventory; Cluster-B's is as it was.
		for k := range want {
			if strings.Contains(k, "/Cluster-A/") || strings.Contains(k, "/cluster-a/") {
				delete(want, k)
			}
		}
		scenarioExpect(t, "after disabling Cluster-A's Supervisor", scenarioInventory(t, vim), want)
		if out := env.AdminGovc("ls", "/Datacenter/host/Cluster-A/Resources/*"); strings.Contains(out, "Namespaces") {
			t.Fatalf("govc still finds a Namespaces pool on Cluster-A:\n%s", out)
		}
	})
}
