package test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vapi"
	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/servertest"
)

// Conformance tests over plain HTTP for the operations neither govmomi nor govc has: namespace
// access, namespaces.instances.set, the user view's filter and the NSX network lists; and
// register_vm (vSphere 8.0U3) through all three clients. They share one server with a Supervisor on
// Cluster-A; each subtest works on namespaces and users of its own.

// cfAccessPath is the access entry of one principal on a namespace.
func cfAccessPath(ns, domain, subject, typ string) string {
	p := nsInstances + "/" + ns + "/access/" + url.PathEscape(domain) + "/" + url.PathEscape(subject)
	if typ != "" {
		p += "?type=" + typ
	}
	return p
}

// cfAccessInfo is namespaces.Access.Info as a client reads it.
type cfAccessInfo struct {
	Role             string  `json:"role"`
	Inherited        *bool   `json:"inherited"`
	IdentityProvider *string `json:"identity_provider"`
}

// cfUserView lists, sorted, the namespaces the user view answers for token (query is "" or a filter
// such as "?username=…"), leaving out the system namespaces of Supervisor Services (svc-…). Every
// entry must name its Supervisor's API endpoint.
func cfUserView(t *testing.T, env *servertest.Env, token, query string) []string {
	t.Helper()
	r := env.Do("GET", nsUserView+query, token, nil)
	if r.Status != 200 {
		t.Fatalf("user view %s: %d %s", query, r.Status, r.Body)
	}
	var list []struct {
		Namespace  string `json:"namespace"`
		MasterHost string `json:"master_host"`
	}
	r.JSON(t, &list)
	var out []string
	for _, n := range list {
		if n.MasterHost == "" {
			t.Fatalf("user view %s: %s has no master_host: %s", query, n.Namespace, r.Body)
		}
		if !strings.HasPrefix(n.Namespace, "svc-") {
			out = append(out, n.Namespace)
		}
	}
	slices.Sort(out)
	return out
}

func TestConformanceNamespaceHTTP(t *testing.T) {
	t.Parallel()
	shared := servertest.New(t)
	admin := shared.AdminToken()
	enableSupervisor(t, shared, admin, clusterA, 71)

	t.Run("Access", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		env.AddUser("dana", "Dana-pw-1!", "")
		env.AddUser("erin", "Erin-pw-1!", "", "auditors")
		nsCreate(t, env, admin, "acc", nil)
		dana, erin := env.Login("dana", "Dana-pw-1!"), env.Login("erin", "Erin-pw-1!")
		danaPath := cfAccessPath("acc", "vsphere.local", "dana", "USER")

		// Before any grant: vCenter answers UNSUPPORTED for a principal without an entry, and dana
		// reaches nothing.
		expectError(t, env.Do("GET", danaPath, admin, nil), 400, "UNSUPPORTED", "dana")
		expectError(t, env.Do("GET", nsInstances+"/acc", dana, nil), 403, "UNAUTHORIZED")
		if got := cfUserView(t, env, dana, ""); len(got) != 0 {
			t.Fatalf("dana's user view before any grant: %v", got)
		}

		// create: VIEW. dana now reads the namespace, finds it in her view, and cannot change it.
		if r := env.Do("POST", danaPath, admin, map[string]any{"role": "VIEW"}); r.Status != 204 {
			t.Fatalf("access create: %d %s", r.Status, r.Body)
		}
		var info cfAccessInfo
		env.Do("GET", danaPath, admin, nil).JSON(t, &info)
		if info.Role != "VIEW" || info.Inherited == nil || *info.Inherited || info.IdentityProvider != nil {
			t.Fatalf("access get after create: %+v", info)
		}
		if got := nsGet(t, env, admin, "acc")["access_list"]; canon(t, got) != canonJSON(t,
			`[{"subject_type": "USER", "subject": "dana", "domain": "vsphere.local", "role": "VIEW"}]`) {
			t.Fatalf("access_list after create: %s", canon(t, got))
		}
		if r := env.Do("GET", nsInstances+"/acc", dana, nil); r.Status != 200 {
			t.Fatalf("dana reads acc with VIEW: %d %s", r.Status, r.Body)
		}
		if got := cfUserView(t, env, dana, ""); !slices.Equal(got, []string{"acc"}) {
			t.Fatalf("dana's user view with VIEW: %v", got)
		}
		expectError(t, env.Do("PATCH", nsInstances+"/acc", dana, map[string]any{"description": "dana"}), 403, "UNAUTHORIZED")
		expectError(t, env.Do("POST", danaPath, admin, map[string]any{"role": "EDIT"}), 400, "ALREADY_EXISTS", "dana", "use set")

		// set: EDIT. dana may now edit, but not grant access (only Namespaces.Manage and owners may).
		if r := env.Do("PUT", danaPath, admin, map[string]any{"role": "EDIT"}); r.Status != 204 {
			t.Fatalf("access set: %d %s", r.Status, r.Body)
		}
		env.Do("GET", danaPath, dana, nil).JSON(t, &info)
		if info.Role != "EDIT" || *info.Inherited {
			t.Fatalf("access get after set: %+v", info)
		}
		if r := env.Do("PATCH", nsInstances+"/acc", dana, map[string]any{"description": "edited by dana"}); r.Status != 204 {
			t.Fatalf("dana edits with EDIT: %d %s", r.Status, r.Body)
		}
		expectError(t, env.Do("POST", cfAccessPath("acc", "vsphere.local", "erin", "USER"), dana, map[string]any{"role": "VIEW"}), 403, "UNAUTHORIZED")

		// A group entry: erin holds VIEW through auditors, reported as inherited.
		if r := env.Do("POST", cfAccessPath("acc", "vsphere.local", "auditors", "GROUP"), admin, map[string]any{"role": "VIEW"}); r.Status != 204 {
			t.Fatalf("access create for a group: %d %s", r.Status, r.Body)
		}
		env.Do("GET", cfAccessPath("acc", "vsphere.local", "erin", "USER"), admin, nil).JSON(t, &info)
		if info.Role != "VIEW" || info.Inherited == nil || !*info.Inherited {
			t.Fatalf("erin's access through her group: %+v", info)
		}
		if got := cfUserView(t, env, erin, ""); !slices.Equal(got, []string{"acc"}) {
			t.Fatalf("erin's user view: %v", got)
		}
		// The user view's filter: an administrator asks for another user or for groups; a user
		// without System.Read may not ask for someone else.
		if got := cfUserView(t, env, admin, "?username=dana@vsphere.local"); !slices.Equal(got, []string{"acc"}) {
			t.Fatalf("user view filtered by dana: %v", got)
		}
		if got := cfUserView(t, env, admin, "?groups=auditors"); !slices.Equal(got, []string{"acc"}) {
			t.Fatalf("user view filtered by the auditors group: %v", got)
		}
		if got := cfUserView(t, env, admin, "?groups=nobody-group"); slices.Contains(got, "acc") {
			t.Fatalf("user view filtered by a group without access: %v", got)
		}
		expectError(t, env.Do("GET", nsUserView+"?username=erin@vsphere.local", dana, nil), 403, "UNAUTHORIZED", "System.Read")

		// Bad requests name what is wrong and change nothing.
		before := canon(t, nsGet(t, env, admin, "acc")["access_list"])
		expectError(t, env.Do("GET", cfAccessPath("acc", "vsphere.local", "dana", ""), admin, nil), 400, "INVALID_ARGUMENT", "field type is missing")
		expectError(t, env.Do("POST", cfAccessPath("acc", "vsphere.local", "dana", "ROBOT"), admin, map[string]any{"role": "VIEW"}), 400, "INVALID_ARGUMENT", `\"ROBOT\" for type`)
		expectError(t, env.Do("PUT", danaPath, admin, map[string]any{"role": "SUPERUSER"}), 400, "INVALID_ARGUMENT", `\"SUPERUSER\" for spec.role`)
		expectError(t, env.Do("PUT", danaPath, admin, map[string]any{}), 400, "INVALID_ARGUMENT", "spec.role is missing")
		expectError(t, env.Do("POST", cfAccessPath("acc", "vsphere.local", "nobody", "USER"), admin, map[string]any{"role": "VIEW"}), 400, "INVALID_ARGUMENT", "for subject", "nobody")
		expectError(t, env.Do("POST", cfAccessPath("acc", "vsphere.local", "frank", "USER"), admin, map[string]any{"role": "VIEW", "identity_provider": "idp-1"}), 400, "INVALID_ARGUMENT", `\"idp-1\" for spec.identity_provider`)
		expectError(t, env.Do("PUT", cfAccessPath("acc", "vsphere.local", "erin", "USER"), admin, map[string]any{"role": "OWNER"}), 400, "UNSUPPORTED", "erin")
		expectError(t, env.Do("DELETE", cfAccessPath("acc", "vsphere.local", "erin", "USER"), admin, nil), 400, "UNSUPPORTED", "erin")
		expectError(t, env.Do("GET", cfAccessPath("no-such-ns", "vsphere.local", "dana", "USER"), admin, nil), 404, "NOT_FOUND", "no-such-ns")
		expectError(t, env.Do("POST", cfAccessPath("no-such-ns", "vsphere.local", "dana", "USER"), admin, map[string]any{"role": "VIEW"}), 404, "NOT_FOUND", "no-such-ns")
		if after := canon(t, nsGet(t, env, admin, "acc")["access_list"]); after != before {
			t.Fatalf("refused access changes changed the access list:\n%s\n%s", before, after)
		}

		// The legacy /rest protocol: {"spec": …} in, {"value": …} out.
		rest := "/rest/vcenter/namespaces/instances/acc/access/vsphere.local/auditors?type=GROUP"
		if r := env.Do("PUT", rest, admin, map[string]any{"spec": map[string]any{"role": "EDIT"}}); r.Status != 200 {
			t.Fatalf("access set on /rest: %d %s", r.Status, r.Body)
		}
		var wrapped struct {
			Value cfAccessInfo `json:"value"`
		}
		env.Do("GET", rest, admin, nil).JSON(t, &wrapped)
		if wrapped.Value.Role != "EDIT" {
			t.Fatalf("access get on /rest: %+v", wrapped)
		}

		// delete: dana loses the namespace.
		if r := env.Do("DELETE", danaPath, admin, nil); r.Status != 204 {
			t.Fatalf("access delete: %d %s", r.Status, r.Body)
		}
		expectError(t, env.Do("GET", danaPath, admin, nil), 400, "UNSUPPORTED", "dana")
		expectError(t, env.Do("GET", nsInstances+"/acc", dana, nil), 403, "UNAUTHORIZED")
		if got := cfUserView(t, env, dana, ""); len(got) != 0 {
			t.Fatalf("dana's user view after delete: %v", got)
		}
		if got := nsGet(t, env, admin, "acc"); canon(t, got["access_list"]) != canonJSON(t,
			`[{"subject_type": "GROUP", "subject": "auditors", "domain": "vsphere.local", "role": "EDIT"}]`) || got["description"] != "edited by dana" {
			t.Fatalf("acc after the access changes: %v", got)
		}
		// Access changes touch no inventory: the pool is still there, unlimited.
		if pool := squeezeBlanks(env.AdminGovc("pool.info", nsPoolPath+"/acc")); !strings.Contains(pool, "CPU Limit: -1MHz") {
			t.Fatalf("the pool of acc:\n%s", pool)
		}
	})

	t.Run("SetReplaces", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		env.AddUser("gina", "Gina-pw-1!", "")
		nsCreate(t, env, admin, "replaced", map[string]any{
			"description":       "before",
			"resource_spec":     map[string]any{"cpu_limit": 5000, "memory_limit": 8192},
			"storage_specs":     []any{map[string]any{"policy": policyGold, "limit": 4096}},
			"vm_service_spec":   map[string]any{"vm_classes": []any{"best-effort-small"}, "content_libraries": []any{libraryVMImages}},
			"content_libraries": []any{map[string]any{"content_library": libraryTKRs}},
			"access_list":       []any{map[string]any{"subject_type": "USER", "subject": "gina", "domain": "vsphere.local", "role": "EDIT"}},
		})
		pool := squeezeBlanks(env.AdminGovc("pool.info", nsPoolPath+"/replaced"))
		if !strings.Contains(pool, "CPU Limit: 5000MHz") || !strings.Contains(pool, "Mem Limit: 8192MB") {
			t.Fatalf("the pool before set:\n%s", pool)
		}

		// Refused sets change nothing.
		before := canon(t, nsGet(t, env, admin, "replaced"))
		expectError(t, env.Do("PUT", nsInstances+"/replaced", admin, map[string]any{"storage_specs": []any{map[string]any{"policy": "no-such-policy"}}}),
			400, "INVALID_ARGUMENT", "spec.storage_specs[0].policy", "no-such-policy")
		expectError(t, env.Do("PUT", nsInstances+"/replaced", admin, map[string]any{"resource_spec": map[string]any{"cpu_limit": "lots"}}),
			400, "INVALID_ARGUMENT", `\"lots\" for spec.resource_spec.cpu_limit`)
		expectError(t, env.Do("PUT", nsInstances+"/replaced", admin, map[string]any{"flavour": "vanilla"}), 400, "INVALID_ARGUMENT", `\"vanilla\" for spec.flavour`)
		expectError(t, env.Do("PUT", nsInstances+"/no-such-ns", admin, map[string]any{"description": "x"}), 404, "NOT_FOUND", "no-such-ns")
		if after := canon(t, nsGet(t, env, admin, "replaced")); after != before {
			t.Fatalf("a refused set changed the namespace:\n%s\n%s", before, after)
		}

		// PUT replaces: what it leaves out is cleared (PATCH would keep it).
		if r := env.Do("PUT", nsInstances+"/replaced", admin, map[string]any{
			"description":   "after",
			"resource_spec": map[string]any{"memory_limit": 2048},
			"storage_specs": []any{map[string]any{"policy": policySilver}},
		}); r.Status != 204 {
			t.Fatalf("set: %d %s", r.Status, r.Body)
		}
		env.Settle(0)
		got := nsGet(t, env, admin, "replaced")
		if got["description"] != "after" || got["config_status"] != "RUNNING" ||
			canon(t, got["resource_spec"]) != canonJSON(t, `{"memory_limit": 2048}`) ||
			canon(t, got["storage_specs"]) != canonJSON(t, `[{"policy": "`+policySilver+`"}]`) ||
			len(asList(got["access_list"])) != 0 || len(asList(got["content_libraries"])) != 0 {
			t.Fatalf("after set: %v", got)
		}
		if vm, ok := got["vm_service_spec"].(map[string]any); ok && (len(asList(vm["vm_classes"])) != 0 || len(asList(vm["content_libraries"])) != 0) {
			t.Fatalf("set left the VM service spec: %v", vm)
		}
		// The pool follows: no CPU limit any more, the new memory limit.
		pool = squeezeBlanks(env.AdminGovc("pool.info", nsPoolPath+"/replaced"))
		if !strings.Contains(pool, "CPU Limit: -1MHz") || !strings.Contains(pool, "Mem Limit: 2048MB") {
			t.Fatalf("the pool after set:\n%s", pool)
		}
		// gina's EDIT went with the access list.
		expectError(t, env.Do("GET", nsInstances+"/replaced", env.Login("gina", "Gina-pw-1!"), nil), 403, "UNAUTHORIZED")

		// The legacy protocol's set.
		if r := env.Do("PUT", "/rest/vcenter/namespaces/instances/replaced", admin, map[string]any{"spec": map[string]any{"description": "via rest"}}); r.Status != 200 {
			t.Fatalf("set on /rest: %d %s", r.Status, r.Body)
		}
		env.Settle(0)
		if got := nsGet(t, env, admin, "replaced"); got["description"] != "via rest" || len(asList(got["storage_specs"])) != 0 {
			t.Fatalf("after set on /rest: %v", got)
		}
	})

	t.Run("RegisterVM", func(t *testing.T) {
		t.Parallel()
		cfRegisterVM(t, shared.For(t), admin)
	})

	t.Run("NSXNetworkLists", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		type summary struct {
			DistributedSwitch string `json:"distributed_switch"`
			EdgeCluster       string `json:"edge_cluster"`
			Name              string `json:"name"`
		}
		var switches []summary
		env.Do("GET", nmPath+"/networks/nsx/distributed-switches", admin, nil).JSON(t, &switches)
		if len(switches) != 1 || switches[0].Name != "DSwitch" || switches[0].DistributedSwitch == "" {
			t.Fatalf("NSX distributed switches: %+v", switches)
		}
		// In the default inventory DSwitch connects every host of Cluster-A and carries an NSX edge
		// cluster: the filter finds it compatible for Cluster-A's zone, and nothing incompatible.
		var compatible, incompatible []summary
		env.Do("GET", nmPath+"/networks/nsx/distributed-switches?compatible=true&zones=zone-"+clusterA, admin, nil).JSON(t, &compatible)
		env.Do("GET", nmPath+"/networks/nsx/distributed-switches?compatible=false&zones=zone-"+clusterA, admin, nil).JSON(t, &incompatible)
		if len(compatible) != 1 || compatible[0] != switches[0] || incompatible == nil || len(incompatible) != 0 {
			t.Fatalf("switches filtered by compatibility: %+v and %+v", compatible, incompatible)
		}
		expectError(t, env.Do("GET", nmPath+"/networks/nsx/distributed-switches?zones=zone-nowhere", admin, nil), 400, "INVALID_ARGUMENT", "filter.zones[0]", "zone-nowhere")

		var edges []summary
		env.Do("GET", nmPath+"/networks/nsx/edges", admin, nil).JSON(t, &edges)
		if len(edges) == 0 || !slices.ContainsFunc(edges, func(e summary) bool { return e.Name == "edge-cluster-01" && e.EdgeCluster != "" }) {
			t.Fatalf("NSX edges: %+v", edges)
		}
		var onSwitch []summary
		env.Do("GET", nmPath+"/networks/nsx/edges?compatible=true&distributed_switch="+url.QueryEscape(switches[0].DistributedSwitch), admin, nil).JSON(t, &onSwitch)
		if len(onSwitch) != 1 || onSwitch[0].Name != "edge-cluster-01" {
			t.Fatalf("NSX edges compatible with %s: %+v", switches[0].DistributedSwitch, onSwitch)
		}
		expectError(t, env.Do("GET", nmPath+"/networks/nsx/edges?distributed_switch=no-such-switch", admin, nil), 400, "INVALID_ARGUMENT",
			"filter.distributed_switch[0]", "no-such-switch")
		// On the legacy protocol the same list comes wrapped.
		var wrapped struct {
			Value []summary `json:"value"`
		}
		env.Do("GET", "/rest/vcenter/namespace-management/networks/nsx/edges", admin, nil).JSON(t, &wrapped)
		if len(wrapped.Value) != len(edges) {
			t.Fatalf("NSX edges on /rest: %+v", wrapped)
		}
	})
}

// cfVMResource is the VirtualMachine resource VM Service keeps in a VM's extraConfig
// (vmservice.virtualmachine.resource.yaml), what register_vm reads to take an existing VM back under
// VM Service. JSON is YAML.
func cfVMResource(name, ns, class string) string {
	return `{"apiVersion": "vmoperator.vmware.com/v1alpha2", "kind": "VirtualMachine", "metadata": {"name": "` + name +
		`", "namespace": "` + ns + `"}, "spec": {"className": "` + class + `", "powerState": "PoweredOff"}}`
}

// cfRegisterVM exercises namespaces.instances.register_vm (vSphere 8.0U3) with all three clients. It
// runs inside TestConformanceNamespaceHTTP, on its shared server.
func cfRegisterVM(t *testing.T, env *servertest.Env, admin string) {
	ctx := context.Background()
	nsCreate(t, env, admin, "vm-home", nil)
	// The first request doubles as the probe: while wcpd does not serve the operation, its path is
	// unknown (404 NOT_FOUND) and the rest of the test is skipped.
	r := env.Do("POST", nsInstances+"/vm-home/registervm", admin, map[string]any{"vm": "vm-99999"})
	if r.Status == 404 && strings.Contains(string(r.Body), "No operation is served") {
		t.Skip("skipped: wcpd does not serve namespaces.instances.register_vm (vSphere 8.0U3) yet: POST /api/vcenter/namespaces/instances/{namespace}/registervm answers 404 NOT_FOUND")
	}
	expectError(t, r, 400, "INVALID_ARGUMENT", "spec.vm", "vm-99999")

	// Three VMs made outside VM Service in the namespace's pool, each carrying its VM Service resource.
	vmIDs := map[string]string{}
	for _, name := range []string{"imported-1", "imported-2", "imported-3"} {
		env.AdminGovc("vm.create", "-on=false", "-c", "1", "-m", "512", "-pool", nsPoolPath+"/vm-home", "-ds", "SharedDatastore", "-net", "DPG-Workload", name)
		env.AdminGovc("vm.change", "-vm", "/Datacenter/vm/"+name, "-e", "vmservice.virtualmachine.resource.yaml="+cfVMResource(name, "vm-home", "best-effort-small"))
		vmIDs[name] = strings.TrimPrefix(strings.TrimSpace(env.AdminGovc("ls", "-i", "/Datacenter/vm/"+name)), "VirtualMachine:")
	}
	vim := cfVimLogin(t, env)

	// Plain HTTP: the answer is a task id (a JSON string) that the vSphere API knows as a Task on the VM.
	r = env.Do("POST", nsInstances+"/vm-home/registervm", admin, map[string]any{"vm": vmIDs["imported-1"]})
	var taskID string
	if r.Status != 200 || json.Unmarshal(r.Body, &taskID) != nil || taskID == "" {
		t.Fatalf("registervm: %d %s, want 200 and a task id", r.Status, r.Body)
	}
	task := object.NewTask(vim, vapi.Task(taskID))
	info, err := task.WaitForResult(ctx)
	if err != nil || info.State != types.TaskInfoStateSuccess || info.Entity == nil || info.Entity.Value != vmIDs["imported-1"] {
		t.Fatalf("the registervm task %s: %+v %v", taskID, info, err)
	}
	// Registered: again is already done, and the VM counts as a VM Service VM of its class.
	expectError(t, env.Do("POST", nsInstances+"/vm-home/registervm", admin, map[string]any{"vm": vmIDs["imported-1"]}), 400, "ALREADY_IN_DESIRED_STATE", vmIDs["imported-1"])
	if cl, raw := getVMClass(t, env, admin, "best-effort-small"); !slices.Contains(cl.VMs, vmIDs["imported-1"]) {
		t.Fatalf("best-effort-small does not list the registered VM %s: %s", vmIDs["imported-1"], raw.Body)
	}
	expectError(t, env.Do("POST", nsInstances+"/no-such-ns/registervm", admin, map[string]any{"vm": vmIDs["imported-2"]}), 404, "NOT_FOUND", "no-such-ns")

	// govmomi's RegisterVM answers the same task id.
	m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	taskID, err = m.RegisterVM(ctx, "vm-home", namespace.RegisterVMSpec{VM: vmIDs["imported-2"]})
	if err != nil || taskID == "" {
		t.Fatalf("RegisterVM: %q %v", taskID, err)
	}
	if info, err := object.NewTask(vim, vapi.Task(taskID)).WaitForResult(ctx); err != nil || info.Entity == nil || info.Entity.Value != vmIDs["imported-2"] {
		t.Fatalf("the RegisterVM task %s: %+v %v", taskID, info, err)
	}

	// govc namespace.registervm waits for the task itself and fails when it fails.
	env.AdminGovc("namespace.registervm", "-vm", "/Datacenter/vm/imported-3", "vm-home")
	if cl, raw := getVMClass(t, env, admin, "best-effort-small"); !slices.Contains(cl.VMs, vmIDs["imported-3"]) || !slices.Contains(cl.VMs, vmIDs["imported-2"]) {
		t.Fatalf("best-effort-small after govmomi and govc registered two more VMs: %s", raw.Body)
	}
	if _, errOut, code := env.Govc(servertest.Admin, servertest.AdminPassword, "namespace.registervm", "-vm", "/Datacenter/vm/imported-3", "vm-home"); code == 0 || !strings.Contains(errOut, "ALREADY_IN_DESIRED_STATE") {
		t.Fatalf("govc namespace.registervm of a registered VM: exit %d %s", code, errOut)
	}
}

// cfVimLogin is a vim25 client of the server's /sdk logged in as the administrator.
func cfVimLogin(t *testing.T, env *servertest.Env) *vim25.Client {
	t.Helper()
	ctx := context.Background()
	c := env.Vim25(ctx)
	if err := session.NewManager(c).Login(ctx, url.UserPassword(servertest.Admin, servertest.AdminPassword)); err != nil {
		t.Fatalf("logging in to /sdk: %v", err)
	}
	return c
}

// asList is a decoded JSON array, or nil for anything else (an absent field).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
