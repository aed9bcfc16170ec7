package namespaces

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

const poolPath = "/Datacenter/host/Cluster-A/Resources/Namespaces/"

func TestDeleteGoesThroughRemovingAndRemovesOnlyItsPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create("doomed", map[string]any{"resource_spec": map[string]any{"cpu_limit": 1000}})
	h.create("kept", nil)
	h.govc("vm.create", "-pool", poolPath+"kept", "-c", "1", "-m", "512", "-net", "DPG-Workload", "-on=false", "kept-vm")

	h.must(204, "DELETE", instancesPath+"/doomed", h.admin, nil)
	if got := h.info("doomed").ConfigStatus; got != StatusRemoving {
		t.Fatalf("after delete: %s, want REMOVING", got)
	}
	list := decode[[]Summary](t, h.must(200, "GET", instancesPath, h.admin, nil))
	if len(list) != 2 || list[0].Namespace != "doomed" || list[0].ConfigStatus != StatusRemoving {
		t.Fatalf("list while removing: %+v", list)
	}
	// While it is being removed: its name is still taken, it cannot change, deleting again is a no-op.
	if r := h.do("POST", instancesPath, h.admin, map[string]any{"cluster": clusterA, "namespace": "doomed"}); r.errorType() != "ALREADY_EXISTS" {
		t.Fatalf("create while removing: %d %s", r.Status, r.Body)
	}
	if r := h.do("PATCH", instancesPath+"/doomed", h.admin, map[string]any{"description": "x"}); r.Status != 400 || r.errorType() != "NOT_ALLOWED_IN_CURRENT_STATE" {
		t.Fatalf("update while removing: %d %s", r.Status, r.Body)
	}
	h.must(204, "DELETE", instancesPath+"/doomed", h.admin, nil)

	h.settle(0)
	if _, ok := h.pools()["doomed"]; !ok {
		t.Fatal("the pool went before the removal work was done")
	}
	h.settle(taskDuration)
	if r := h.do("GET", instancesPath+"/doomed", h.admin, nil); r.Status != 404 || r.errorType() != "NOT_FOUND" {
		t.Fatalf("get after removal: %d %s", r.Status, r.Body)
	}
	if got := poolNames(h); !reflect.DeepEqual(got, []string{"kept"}) {
		t.Fatalf("pools after removal: %v", got)
	}
	if out := h.govc("object.collect", "-s", "vm/kept-vm", "resourcePool"); strings.TrimSpace(out) != "ResourcePool:"+h.pools()["kept"].Self.Value {
		t.Fatalf("the other namespace's VM moved or went: %q", out)
	}
	if out := h.govc("pool.info", "/Datacenter/host/Cluster-A/Resources/Namespaces"); !strings.Contains(out, "Name:               Namespaces") {
		t.Fatalf("the Namespaces pool is gone: %q", out)
	}
	if r := h.do("DELETE", instancesPath+"/doomed", h.admin, nil); r.Status != 404 {
		t.Fatalf("delete of a removed namespace: %d %s", r.Status, r.Body)
	}
	// The name is free again.
	h.create("doomed", nil)
}

func TestStatsComeFromWhatRunsInThePool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create("busy", nil)
	h.create("idle", nil)
	h.govc("vm.create", "-pool", poolPath+"busy", "-c", "2", "-m", "4096", "-disk", "10G", "-net", "DPG-Workload", "-on=true", "web")
	h.govc("vm.create", "-pool", poolPath+"busy", "-c", "4", "-m", "8192", "-disk", "5G", "-net", "DPG-Workload", "-on=false", "stopped")
	h.govc("pool.create", poolPath+"busy/tkc")
	h.govc("vm.create", "-pool", poolPath+"busy/tkc", "-c", "1", "-m", "512", "-disk", "1G", "-net", "DPG-Workload", "-on=true", "node")

	// Hosts of Cluster-A run 2,600 MHz cores; powered-off VMs use no CPU or memory but keep their disks.
	want := map[string]Stats{
		"busy": {CPUUsed: (2 + 1) * 2600, MemoryUsed: 4096 + 512, StorageUsed: 10240 + 5120 + 1024},
		"idle": {},
	}
	for ns, w := range want {
		if got := h.info(ns).Stats; got != w {
			t.Errorf("stats of %s: %+v, want %+v", ns, got, w)
		}
	}
	list := decode[[]Summary](t, h.must(200, "GET", instancesPath, h.admin, nil))
	for _, s := range list {
		if s.Stats != want[s.Namespace] {
			t.Errorf("listed stats of %s: %+v, want %+v", s.Namespace, s.Stats, want[s.Namespace])
		}
	}
	h.govc("vm.power", "-off", "web")
	if got := h.info("busy").Stats; got != (Stats{CPUUsed: 2600, MemoryUsed: 512, StorageUsed: 16384}) {
		t.Fatalf("stats after powering web off: %+v", got)
	}
}

func TestRestartFindsOrMakesThePoolsAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newHarness(t, withDataDir(dir))
	h.create("keep", map[string]any{"resource_spec": map[string]any{"cpu_limit": 3000, "memory_limit": 4096}})
	h.create("going", nil)
	h.must(204, "DELETE", instancesPath+"/going", h.admin, nil)
	h.must(204, "POST", instancesPath, h.admin, map[string]any{"cluster": clusterA, "namespace": "fresh"})
	h.close()

	// The inventory is rebuilt at every start: the Namespaces pool is not there until the clusters
	// family makes it again, and the namespaces wait for it.
	h2 := newHarness(t, withDataDir(dir), noNamespacesPool())
	h2.settle(0)
	for ns, status := range map[string]string{"keep": StatusRunning, "going": StatusRemoving, "fresh": StatusConfiguring} {
		if got := h2.info(ns).ConfigStatus; got != status {
			t.Fatalf("%s after restart: %s, want %s", ns, got, status)
		}
	}
	h2.nsPoolA = h2.makeNamespacesPool(clusterA)
	sup, _ := h2.sups.Supervisor(clusterA)
	sup.NamespacesPool = h2.nsPoolA
	h2.sups.put(sup)
	h2.settle(supervisorPoll)
	// The second server's clock starts where the first one's did; the creation work of fresh is
	// measured from when it was asked for, so let the clock pass that.
	h2.settle(time.Minute)

	pools := h2.pools()
	keep, ok := pools["keep"]
	if !ok || *keep.Config.CpuAllocation.Limit != 3000 || *keep.Config.MemoryAllocation.Limit != 4096 {
		t.Fatalf("keep's pool after restart: %v %+v", ok, keep.Config)
	}
	if _, ok := pools["fresh"]; !ok || h2.info("fresh").ConfigStatus != StatusRunning {
		t.Fatalf("fresh after restart: pool %v, %s", ok, h2.info("fresh").ConfigStatus)
	}
	if _, ok := pools["going"]; ok || h2.do("GET", instancesPath+"/going", h2.admin, nil).Status != 404 {
		t.Fatalf("going was not removed after the restart")
	}
}

func TestSupervisorDisableRemovesItsNamespaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create("a", nil)
	h.create("b", nil)
	if got := h.fam.OnCluster(clusterA); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("OnCluster: %v", got)
	}
	sup, _ := h.sups.Supervisor(clusterA)
	sup.ConfigStatus = platform.StatusRemoving
	h.sups.put(sup)

	// A Supervisor being disabled takes no new namespace and no change.
	if r := h.do("POST", instancesPath, h.admin, map[string]any{"cluster": clusterA, "namespace": "c"}); r.errorType() != "NOT_ALLOWED_IN_CURRENT_STATE" {
		t.Fatalf("create on a Supervisor being disabled: %d %s", r.Status, r.Body)
	}
	if r := h.do("PATCH", instancesPath+"/a", h.admin, map[string]any{"description": "x"}); r.errorType() != "NOT_ALLOWED_IN_CURRENT_STATE" {
		t.Fatalf("update on a Supervisor being disabled: %d %s", r.Status, r.Body)
	}
	if err := h.fam.RemoveAllOnCluster(h.ctx, clusterA); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"a", "b"} {
		info := h.info(ns)
		if info.ConfigStatus != StatusRemoving || len(info.Messages) != 1 || !strings.Contains(info.Messages[0].Details.DefaultMessage, "being disabled") {
			t.Fatalf("%s: %+v", ns, asJSON(t, info))
		}
	}
	if got := h.fam.OnCluster(clusterA); len(got) != 2 {
		t.Fatalf("OnCluster while removing: %v", got)
	}
	h.settle(taskDuration)
	if got := h.fam.OnCluster(clusterA); len(got) != 0 {
		t.Fatalf("OnCluster after removal: %v", got)
	}
	if got := poolNames(h); len(got) != 0 {
		t.Fatalf("pools after removal: %v", got)
	}
}

func TestSystemNamespaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	const svc = "svc-tkg-domain-c9"
	if err := h.fam.CreateSystem(ctx, clusterA, svc); err != nil {
		t.Fatal(err)
	}
	if err := h.fam.CreateSystem(ctx, clusterA, svc); err != nil {
		t.Fatalf("creating it again: %v", err)
	}
	h.settle(taskDuration)

	// Listed and readable like any namespace, with a pool; only its service changes it.
	info := h.info(svc)
	if info.ConfigStatus != StatusRunning || info.Cluster != clusterA || info.Description == "" {
		t.Fatalf("system namespace: %+v", asJSON(t, info))
	}
	if _, ok := h.pools()[svc]; !ok {
		t.Fatal("no pool for the system namespace")
	}
	list := decode[[]Summary](t, h.must(200, "GET", instancesPath, h.admin, nil))
	if len(list) != 1 || list[0].Namespace != svc {
		t.Fatalf("list: %+v", list)
	}
	for _, r := range []reply{
		h.do("PATCH", instancesPath+"/"+svc, h.admin, map[string]any{"description": "mine now"}),
		h.do("PUT", instancesPath+"/"+svc, h.admin, map[string]any{}),
		h.do("DELETE", instancesPath+"/"+svc, h.admin, nil),
		h.do("POST", accessPath(svc, "vsphere.local", "administrator", "USER"), h.admin, map[string]any{"role": "VIEW"}),
	} {
		if r.Status != 403 || r.errorType() != "UNAUTHORIZED" || !strings.Contains(string(r.Body), "Supervisor Service") {
			t.Fatalf("change of a system namespace: %d %s", r.Status, r.Body)
		}
	}

	h.create("user-ns", nil)
	var ve *vapi.Error
	if err := h.fam.CreateSystem(ctx, clusterA, "user-ns"); !asVAPI(err, &ve) || ve.Type != vapi.ErrorAlreadyExists {
		t.Fatalf("system namespace over a user namespace: %v", err)
	}
	if err := h.fam.CreateSystem(ctx, clusterB, "svc-x"); !asVAPI(err, &ve) || ve.Type != vapi.ErrorUnsupported {
		t.Fatalf("system namespace on a cluster without Supervisor: %v", err)
	}
	if err := h.fam.RemoveSystem(ctx, clusterA, "user-ns"); err == nil {
		t.Fatal("RemoveSystem removed a user namespace")
	}

	if err := h.fam.RemoveSystem(ctx, clusterA, svc); err != nil {
		t.Fatal(err)
	}
	if got := h.info(svc).ConfigStatus; got != StatusRemoving {
		t.Fatalf("after RemoveSystem: %s", got)
	}
	if err := h.fam.CreateSystem(ctx, clusterA, svc); !asVAPI(err, &ve) || ve.Type != vapi.ErrorNotAllowedInState {
		t.Fatalf("CreateSystem while it is removed: %v", err)
	}
	h.settle(taskDuration)
	if r := h.do("GET", instancesPath+"/"+svc, h.admin, nil); r.Status != 404 {
		t.Fatalf("after removal: %d %s", r.Status, r.Body)
	}
	if err := h.fam.RemoveSystem(ctx, clusterA, svc); err != nil {
		t.Fatalf("removing it again: %v", err)
	}
	if _, ok := h.pools()[svc]; ok {
		t.Fatal("the system namespace's pool is still there")
	}
}

func asVAPI(err error, target **vapi.Error) bool {
	e, ok := err.(*vapi.Error)
	*target = e
	return ok
}

func TestVMClassesFromTheVMClassesFamily(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withVMClasses(fakeVMClasses{
		"custom-class":      {ID: "custom-class", CPUCount: 2, MemoryMB: 1024, ConfigStatus: "READY"},
		"best-effort-small": {ID: "best-effort-small", CPUCount: 2, MemoryMB: 4096, ConfigStatus: "READY"},
		"retired":           {ID: "retired", CPUCount: 1, MemoryMB: 512, ConfigStatus: "REMOVING"},
	}))
	h.create("one", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"custom-class", "best-effort-small"}}})
	h.create("two", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"}}})

	// The family is asked, not the built-in list: a default name it does not hold is refused, and so
	// is a class being deleted.
	for i, class := range []string{"guaranteed-large", "retired"} {
		r := h.do("POST", instancesPath, h.admin, map[string]any{"cluster": clusterA, "namespace": "bad" + string(rune('a'+i)),
			"vm_service_spec": map[string]any{"vm_classes": []any{class}}})
		if r.Status != 400 || !strings.Contains(string(r.Body), "spec.vm_service_spec.vm_classes[0]") {
			t.Fatalf("class %s: %d %s", class, r.Status, r.Body)
		}
	}
	if got := h.fam.OfferingVMClass("best-effort-small"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("OfferingVMClass: %v", got)
	}
	if err := h.fam.ForgetVMClass(h.ctx, "custom-class"); err != nil {
		t.Fatal(err)
	}
	h.settle(0)
	info := h.info("one")
	if !reflect.DeepEqual(info.VMServiceSpec.VMClasses, []string{"best-effort-small"}) || info.ConfigStatus != StatusRunning {
		t.Fatalf("after ForgetVMClass: %+v", asJSON(t, info))
	}
	if got := h.fam.OfferingVMClass("custom-class"); len(got) != 0 {
		t.Fatalf("still offered by %v", got)
	}
	if slices.Contains(h.fam.OfferingVMClass("best-effort-small"), "one") != true {
		t.Fatal("ForgetVMClass took other classes with it")
	}
}

// TestUnknownSupervisorIsWaitedFor: a namespace whose Supervisor the clusters family does not know
// (for a moment, say) keeps everything and carries on once the Supervisor is back.
func TestUnknownSupervisorIsWaitedFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create("patient", map[string]any{"resource_spec": map[string]any{"cpu_limit": 2000}})
	sup, _ := h.sups.Supervisor(clusterA)
	h.sups.remove(clusterA)
	h.must(204, "PATCH", instancesPath+"/patient", h.admin, map[string]any{"resource_spec": map[string]any{"cpu_limit": 2500}})
	h.settle(10 * supervisorPoll)
	info := h.info("patient")
	if info.ConfigStatus != StatusConfiguring || *h.pools()["patient"].Config.CpuAllocation.Limit != 2000 {
		t.Fatalf("without its Supervisor: %s, pool limit %d", info.ConfigStatus, *h.pools()["patient"].Config.CpuAllocation.Limit)
	}
	h.sups.put(sup)
	h.settle(supervisorPoll)
	if info := h.info("patient"); info.ConfigStatus != StatusRunning || *h.pools()["patient"].Config.CpuAllocation.Limit != 2500 {
		t.Fatalf("with its Supervisor back: %s, pool limit %d", info.ConfigStatus, *h.pools()["patient"].Config.CpuAllocation.Limit)
	}
}

// TestPoolsAreAdoptedByNameAndFollowedByID: a pool already there under the namespace's name when
// the namespace is created (one made before a crash) becomes its pool, limits set to the quota,
// instead of a second pool or an error; a namespace whose pool was renamed behind wcpd's back gets
// a pool of its own name again at its next reconcile, and the renamed one is left alone.
func TestPoolsAreAdoptedByNameAndFollowedByID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	parent := object.NewResourcePool(h.inv.Client(), poolRef(h.nsPoolA))
	early, err := parent.Create(h.ctx, "early", poolAllocation(nil))
	if err != nil {
		t.Fatal(err)
	}
	h.create("early", map[string]any{"resource_spec": map[string]any{"cpu_limit": 2500}})
	pools := h.pools()
	if len(pools) != 1 || pools["early"].Self != early.Reference() || *pools["early"].Config.CpuAllocation.Limit != 2500 {
		t.Fatalf("pools after creating a namespace whose pool was there: %+v", pools)
	}
	if got := h.info("early").ConfigStatus; got != StatusRunning {
		t.Fatalf("early is %s", got)
	}

	spec := poolAllocation(nil)
	if err := early.UpdateConfig(h.ctx, "renamed", &spec); err != nil {
		t.Fatal(err)
	}
	h.must(204, "PATCH", instancesPath+"/early", h.admin, map[string]any{"description": "look again"})
	h.settle(taskDuration)
	pools = h.pools()
	again, ok := pools["early"]
	if !ok || again.Self == early.Reference() || *again.Config.CpuAllocation.Limit != 2500 {
		t.Fatalf("pools after early's pool was renamed: %+v", pools)
	}
	if _, ok := pools["renamed"]; !ok {
		t.Fatalf("the renamed pool was removed: %+v", pools)
	}
}
