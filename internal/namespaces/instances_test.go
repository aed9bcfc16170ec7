package namespaces

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

const instancesPath = "/api/vcenter/namespaces/instances"

// fullQuota sets every limit of ResourceQuotaOptionsV1, consistently.
func fullQuota() map[string]any {
	return map[string]any{
		"cpu_limit": 8000, "cpu_limit_default": 500, "cpu_request_default": 100,
		"memory_limit": 16384, "memory_limit_default": 1024, "memory_request_default": 256,
		"storage_request_limit": 102400, "pod_count": 20, "service_count": 10, "deployment_count": 5,
		"daemon_set_count": 2, "replica_set_count": 6, "replication_controller_count": 1, "stateful_set_count": 3,
		"config_map_count": 30, "secret_count": 40, "persistent_volume_claim_count": 8, "job_count": 4,
	}
}

// asJSON re-encodes v so that structs and maps compare by their wire form.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func poolNames(h *harness) []string {
	var out []string
	for n := range h.pools() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestCreateReadsBackEveryFieldAndMakesThePool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("devops1", "Devops-pw-1", "", "devs")

	spec := map[string]any{
		"cluster": clusterA, "namespace": "team-a", "description": "Team A's namespace",
		"resource_spec": fullQuota(),
		"access_list": []any{
			map[string]any{"subject_type": "USER", "subject": "devops1", "domain": "vsphere.local", "role": "EDIT"},
			map[string]any{"subject_type": "GROUP", "subject": "devs", "domain": "vsphere.local", "role": "VIEW"},
		},
		"storage_specs":     []any{map[string]any{"policy": policyGold, "limit": 51200}, map[string]any{"policy": policySilver}},
		"networks":          []any{"primary"},
		"vm_service_spec":   map[string]any{"vm_classes": []any{"best-effort-small", "guaranteed-medium"}, "content_libraries": []any{libraryVM}},
		"content_libraries": []any{map[string]any{"content_library": libraryTKR, "writable": true}},
		"creator":           map[string]any{"subject": "devops1", "domain": "vsphere.local"},
		"namespace_network": map[string]any{"network_provider": "VSPHERE_NETWORK"},
	}
	h.must(204, "POST", instancesPath, h.admin, spec)

	// The handler only records the namespace; the controller makes the pool, and the namespace is
	// CONFIGURING until the creation work (one task duration) is done.
	if got := h.info("team-a").ConfigStatus; got != StatusConfiguring {
		t.Fatalf("right after create: %s, want CONFIGURING", got)
	}
	h.settle(0)
	pool, ok := h.pools()["team-a"]
	if !ok {
		t.Fatalf("no pool team-a under Namespaces: %v", poolNames(h))
	}
	if got := h.info("team-a").ConfigStatus; got != StatusConfiguring {
		t.Fatalf("before the task duration: %s, want CONFIGURING", got)
	}
	h.settle(taskDuration)

	want := map[string]any{
		"cluster": clusterA, "config_status": "RUNNING", "messages": []any{},
		"stats":         map[string]any{"cpu_used": 0.0, "memory_used": 0.0, "storage_used": 0.0},
		"description":   "Team A's namespace",
		"resource_spec": asJSON(t, fullQuota()),
		"access_list":   spec["access_list"],
		"storage_specs": []any{map[string]any{"policy": policyGold, "limit": 51200.0}, map[string]any{"policy": policySilver}},
		"networks":      []any{"primary"},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small", "guaranteed-medium"},
			"content_libraries": []any{libraryVM}},
		// The VM Service library is listed too, read-only, as the API documents.
		"content_libraries": []any{map[string]any{"content_library": libraryTKR, "writable": true},
			map[string]any{"content_library": libraryVM, "writable": false}},
		"creator":                map[string]any{"subject": "devops1", "domain": "vsphere.local"},
		"self_service_namespace": false,
	}
	got := decode[map[string]any](t, h.must(200, "GET", instancesPath+"/team-a", h.admin, nil))
	if !reflect.DeepEqual(got, asJSON(t, want)) {
		t.Fatalf("get team-a:\n got %v\nwant %v", got, asJSON(t, want))
	}

	// v2 sees the same namespace, by Supervisor.
	v2 := decode[map[string]any](t, h.must(200, "GET", instancesPath+"/v2/team-a", h.admin, nil))
	delete(want, "cluster")
	want["supervisor"] = supervisorA
	if !reflect.DeepEqual(v2, asJSON(t, want)) {
		t.Fatalf("get_v2 team-a:\n got %v\nwant %v", v2, asJSON(t, want))
	}
	list := decode[[]map[string]any](t, h.must(200, "GET", instancesPath, h.admin, nil))
	if len(list) != 1 || list[0]["namespace"] != "team-a" || list[0]["cluster"] != clusterA ||
		list[0]["config_status"] != "RUNNING" || list[0]["description"] != "Team A's namespace" {
		t.Fatalf("list: %v", list)
	}
	listV2 := decode[[]map[string]any](t, h.must(200, "GET", instancesPath+"/v2", h.admin, nil))
	if len(listV2) != 1 || listV2[0]["supervisor"] != supervisorA || listV2[0]["namespace"] != "team-a" {
		t.Fatalf("list_v2: %v", listV2)
	}

	// The pool: CPU and memory limits of the quota, normal shares, expandable reservation.
	pool = h.pools()["team-a"]
	cpu, mem := pool.Config.CpuAllocation, pool.Config.MemoryAllocation
	if *cpu.Limit != 8000 || *mem.Limit != 16384 || cpu.Shares.Level != "normal" || mem.Shares.Level != "normal" ||
		!*cpu.ExpandableReservation || !*mem.ExpandableReservation || *cpu.Reservation != 0 || *mem.Reservation != 0 {
		t.Fatalf("pool allocation: cpu %+v mem %+v", cpu, mem)
	}
	if pool.Parent.Value != h.nsPoolA {
		t.Fatalf("pool parent %s, want the Namespaces pool %s", pool.Parent.Value, h.nsPoolA)
	}
	// govc sees the same pool at the path vCenter gives it.
	out := squeeze(h.govc("pool.info", "/Datacenter/host/Cluster-A/Resources/Namespaces/team-a"))
	for _, line := range []string{"CPU Limit: 8000MHz", "Mem Limit: 16384MB", "CPU Shares: normal", "Mem Shares: normal", "expandable=true"} {
		if !strings.Contains(out, line) {
			t.Fatalf("govc pool.info lacks %q:\n%s", line, out)
		}
	}
}

func TestCreateV2AndV1SeeTheSameNamespaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.must(204, "POST", instancesPath+"/v2", h.admin, map[string]any{
		"supervisor": supervisorA, "namespace": "from-v2", "description": "made with v2",
		"content_libraries": []any{map[string]any{"content_library": libraryVM}},
	})
	h.create("from-v1", nil)

	v1 := decode[[]Summary](t, h.must(200, "GET", instancesPath, h.admin, nil))
	v2 := decode[[]SummaryV2](t, h.must(200, "GET", instancesPath+"/v2", h.admin, nil))
	if len(v1) != 2 || len(v2) != 2 || v1[0].Namespace != "from-v1" || v1[1].Namespace != "from-v2" ||
		v2[0].Namespace != "from-v1" || v2[1].Namespace != "from-v2" {
		t.Fatalf("v1 %+v\nv2 %+v", v1, v2)
	}
	if v1[1].Cluster != clusterA || v2[0].Supervisor != supervisorA || v1[1].ConfigStatus != "RUNNING" {
		t.Fatalf("v1 %+v\nv2 %+v", v1, v2)
	}
	info := h.info("from-v2")
	if info.Cluster != clusterA || info.Description != "made with v2" || len(info.ContentLibraries) != 1 ||
		info.ContentLibraries[0].ContentLibrary != libraryVM || info.ContentLibraries[0].Writable {
		t.Fatalf("v1 get of a v2 namespace: %+v", info)
	}
	if _, ok := h.pools()["from-v2"]; !ok {
		t.Fatal("the v2 namespace has no pool")
	}

	// The legacy /rest protocol: the spec wrapped as {"spec": …}, results wrapped in {"value": …}.
	h.must(200, "POST", "/rest/vcenter/namespaces/instances", h.admin, map[string]any{"spec": map[string]any{
		"cluster": clusterA, "namespace": "from-rest", "description": "legacy"}})
	legacy := decode[struct{ Value Info }](t, h.must(200, "GET", "/rest/vcenter/namespaces/instances/from-rest", h.admin, nil))
	if legacy.Value.Cluster != clusterA || legacy.Value.Description != "legacy" || legacy.Value.ConfigStatus != StatusConfiguring {
		t.Fatalf("legacy get: %+v", legacy.Value)
	}
}

func TestCreateRefusesBadInputAndLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("devops1", "Devops-pw-1", "", "devs")
	h.create("taken", map[string]any{"description": "the original"})
	poolsBefore := poolNames(h)

	v1 := func(name string, extra map[string]any) map[string]any {
		spec := map[string]any{"cluster": clusterA, "namespace": name}
		for k, v := range extra {
			spec[k] = v
		}
		return spec
	}
	user := func(subject, domain, typ string) map[string]any {
		return map[string]any{"access_list": []any{map[string]any{"subject_type": typ, "subject": subject, "domain": domain, "role": "VIEW"}}}
	}
	quota := func(q map[string]any) map[string]any { return map[string]any{"resource_spec": q} }
	cases := []struct {
		name    string
		path    string
		body    any
		ns      string // the namespace that must not exist afterwards
		status  int
		errType string
		field   string // what the message must name
	}{
		{"upper-case name", "", v1("Team-A", nil), "Team-A", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"name too long", "", v1(strings.Repeat("a", 64), nil), strings.Repeat("a", 64), 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"underscore", "", v1("team_a", nil), "team_a", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"leading hyphen", "", v1("-team", nil), "-team", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"trailing hyphen", "", v1("team-", nil), "team-", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"empty name", "", v1("", nil), "", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"reserved prefix", "", v1("vmware-system-mine", nil), "vmware-system-mine", 403, "UNAUTHORIZED", `\"vmware-system-mine\" (spec.namespace) is reserved`},
		{"unknown cluster", "", map[string]any{"cluster": "domain-c999", "namespace": "n1"}, "n1", 404, "NOT_FOUND", "spec.cluster"},
		{"cluster without Supervisor", "", map[string]any{"cluster": clusterB, "namespace": "n2"}, "n2", 400, "UNSUPPORTED", "spec.cluster"},
		{"Supervisor not RUNNING", "", map[string]any{"cluster": clusterEdge, "namespace": "n3"}, "n3", 400, "NOT_ALLOWED_IN_CURRENT_STATE", "(spec.cluster) is CONFIGURING"},
		{"duplicate name", "", v1("taken", map[string]any{"description": "a second one"}), "", 400, "ALREADY_EXISTS", `\"taken\" (spec.namespace)`},
		{"unknown storage policy", "", v1("n4", map[string]any{"storage_specs": []any{map[string]any{"policy": "no-such-policy"}}}), "n4", 400, "INVALID_ARGUMENT", "spec.storage_specs[0].policy"},
		{"negative storage limit", "", v1("n5", map[string]any{"storage_specs": []any{map[string]any{"policy": policyGold, "limit": -1}}}), "n5", 400, "INVALID_ARGUMENT", "spec.storage_specs[0].limit"},
		{"unknown VM class", "", v1("n6", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small", "huge-class"}}}), "n6", 400, "INVALID_ARGUMENT", "spec.vm_service_spec.vm_classes[1]"},
		{"unknown VM Service library", "", v1("n7", map[string]any{"vm_service_spec": map[string]any{"content_libraries": []any{"00000000-0000-0000-0000-000000000000"}}}), "n7", 400, "INVALID_ARGUMENT", "spec.vm_service_spec.content_libraries[0]"},
		{"unknown content library", "", v1("n8", map[string]any{"content_libraries": []any{map[string]any{"content_library": "nope"}}}), "n8", 400, "INVALID_ARGUMENT", "spec.content_libraries[0].content_library"},
		{"negative CPU limit", "", v1("n9", quota(map[string]any{"cpu_limit": -100})), "n9", 400, "INVALID_ARGUMENT", "spec.resource_spec.cpu_limit"},
		{"CPU limit under 10 MHz", "", v1("n10", quota(map[string]any{"cpu_limit": 5})), "n10", 400, "INVALID_ARGUMENT", "spec.resource_spec.cpu_limit"},
		{"zero memory limit", "", v1("n11", quota(map[string]any{"memory_limit": 0})), "n11", 400, "INVALID_ARGUMENT", "spec.resource_spec.memory_limit"},
		{"negative pod count", "", v1("n12", quota(map[string]any{"pod_count": -3})), "n12", 400, "INVALID_ARGUMENT", "spec.resource_spec.pod_count"},
		{"negative storage quota", "", v1("n13", quota(map[string]any{"storage_request_limit": -1})), "n13", 400, "INVALID_ARGUMENT", "spec.resource_spec.storage_request_limit"},
		{"request above default limit", "", v1("n14", quota(map[string]any{"cpu_request_default": 600, "cpu_limit_default": 500})), "n14", 400, "INVALID_ARGUMENT", "spec.resource_spec.cpu_request_default"},
		{"default limit above namespace limit", "", v1("n15", quota(map[string]any{"memory_limit_default": 4096, "memory_limit": 2048})), "n15", 400, "INVALID_ARGUMENT", "spec.resource_spec.memory_limit_default"},
		{"limit that is not an integer", "", v1("n16", quota(map[string]any{"cpu_limit": 1.5})), "n16", 400, "INVALID_ARGUMENT", "spec.resource_spec.cpu_limit"},
		{"unknown quota field", "", v1("n17", quota(map[string]any{"gpu_count": 1})), "n17", 400, "INVALID_ARGUMENT", "spec.resource_spec.gpu_count"},
		{"unknown user", "", v1("n18", user("nobody", "vsphere.local", "USER")), "n18", 400, "INVALID_ARGUMENT", "spec.access_list[0].subject"},
		{"unknown group", "", v1("n19", user("no-group", "vsphere.local", "GROUP")), "n19", 400, "INVALID_ARGUMENT", "spec.access_list[0].subject"},
		{"foreign identity source", "", v1("n20", user("devops1", "corp.example", "USER")), "n20", 400, "INVALID_ARGUMENT", "corp.example"},
		{"bad role", "", v1("n21", map[string]any{"access_list": []any{map[string]any{"subject_type": "USER", "subject": "devops1", "domain": "vsphere.local", "role": "ADMIN"}}}), "n21", 400, "INVALID_ARGUMENT", "spec.access_list[0].role"},
		{"unknown field", "", v1("n22", map[string]any{"colour": "red"}), "n22", 400, "INVALID_ARGUMENT", "spec.colour"},
		{"NSX network without its spec", "", v1("n23", map[string]any{"namespace_network": map[string]any{"network_provider": "NSXT_CONTAINER_PLUGIN"}}), "n23", 400, "INVALID_ARGUMENT", "spec.namespace_network.network"},
		{"v2 unknown Supervisor", "/v2", map[string]any{"supervisor": "sv-nope", "namespace": "n24"}, "n24", 404, "NOT_FOUND", "spec.supervisor"},
		{"v2 bad name", "/v2", map[string]any{"supervisor": supervisorA, "namespace": "N25"}, "N25", 400, "INVALID_ARGUMENT", "spec.namespace"},
		{"v2 negative memory limit", "/v2", map[string]any{"supervisor": supervisorA, "namespace": "n26", "resource_spec": map[string]any{"memory_limit": -1}}, "n26", 400, "INVALID_ARGUMENT", "spec.resource_spec.memory_limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", instancesPath+tc.path, h.admin, tc.body)
			if r.Status != tc.status || r.errorType() != tc.errType {
				t.Fatalf("got %d %s, want %d %s: %s", r.Status, r.errorType(), tc.status, tc.errType, r.Body)
			}
			if !strings.Contains(string(r.Body), tc.field) {
				t.Fatalf("the error does not name %q: %s", tc.field, r.Body)
			}
			if tc.ns != "" {
				if g := h.do("GET", instancesPath+"/"+tc.ns, h.admin, nil); g.Status != 404 {
					t.Fatalf("namespace %q was recorded: %d %s", tc.ns, g.Status, g.Body)
				}
			}
		})
	}
	h.settle(taskDuration)
	if got := poolNames(h); !reflect.DeepEqual(got, poolsBefore) {
		t.Fatalf("pools after the refused creates: %v, want %v", got, poolsBefore)
	}
	if got := h.info("taken").Description; got != "the original" {
		t.Fatalf("the duplicate changed the original: %q", got)
	}
	if list := decode[[]Summary](t, h.must(200, "GET", instancesPath, h.admin, nil)); len(list) != 1 {
		t.Fatalf("list after the refused creates: %+v", list)
	}
}

func TestSetReplacesAndUpdateMerges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create("ns", map[string]any{
		"description":     "before",
		"resource_spec":   map[string]any{"cpu_limit": 4000, "memory_limit": 8192, "pod_count": 10},
		"storage_specs":   []any{map[string]any{"policy": policyGold, "limit": 1024}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"}},
	})

	t.Run("PATCH of vm_service_spec changes only that", func(t *testing.T) {
		// The request of seed 000.
		h.must(204, "PATCH", instancesPath+"/ns", h.admin, map[string]any{"vm_service_spec": map[string]any{
			"vm_classes": []any{"best-effort-xsmall", "guaranteed-large"}, "content_libraries": []any{libraryVM, libraryTKR}}})
		h.settle(0)
		info := h.info("ns")
		if info.Description != "before" || *info.ResourceSpec.CPULimit != 4000 || *info.ResourceSpec.PodCount != 10 ||
			len(info.StorageSpecs) != 1 || *info.StorageSpecs[0].Limit != 1024 {
			t.Fatalf("other fields changed: %+v", info)
		}
		if !reflect.DeepEqual(info.VMServiceSpec.VMClasses, []string{"best-effort-xsmall", "guaranteed-large"}) ||
			!reflect.DeepEqual(info.VMServiceSpec.ContentLibraries, []string{libraryVM, libraryTKR}) {
			t.Fatalf("vm_service_spec: %+v", info.VMServiceSpec)
		}
		if info.ConfigStatus != StatusRunning {
			t.Fatalf("after the update was applied: %s", info.ConfigStatus)
		}
	})

	t.Run("PATCH of resource_spec merges limit by limit and reconfigures the pool", func(t *testing.T) {
		h.must(204, "PATCH", instancesPath+"/ns", h.admin, map[string]any{"resource_spec": map[string]any{
			"cpu_limit": 6000, "memory_limit_unset": true, "service_count": 3}})
		// The controller applies the change on a goroutine of its own, which may have done so
		// before this read (an update waits no task duration): the namespace is CONFIGURING until
		// it has, and RUNNING only once the pool has the new limits (the pool is changed first).
		if got := h.info("ns").ConfigStatus; got != StatusConfiguring {
			if pool := h.pools()["ns"]; got != StatusRunning || *pool.Config.CpuAllocation.Limit != 6000 {
				t.Fatalf("right after the change: %s with the pool's CPU limit at %d, want CONFIGURING or the change applied",
					got, *pool.Config.CpuAllocation.Limit)
			}
		}
		h.settle(0)
		q := h.info("ns").ResourceSpec
		if *q.CPULimit != 6000 || q.MemoryLimit != nil || *q.PodCount != 10 || *q.ServiceCount != 3 {
			t.Fatalf("merged quota: %+v", asJSON(t, q))
		}
		pool := h.pools()["ns"]
		if *pool.Config.CpuAllocation.Limit != 6000 || *pool.Config.MemoryAllocation.Limit != -1 {
			t.Fatalf("pool limits cpu %d mem %d, want 6000 and unlimited", *pool.Config.CpuAllocation.Limit, *pool.Config.MemoryAllocation.Limit)
		}
		if got := h.info("ns").ConfigStatus; got != StatusRunning {
			t.Fatalf("after the pool was reconfigured: %s", got)
		}
	})

	t.Run("a PATCH that would make the quota inconsistent is refused whole", func(t *testing.T) {
		r := h.do("PATCH", instancesPath+"/ns", h.admin, map[string]any{"description": "not this",
			"resource_spec": map[string]any{"cpu_limit_default": 7000}})
		if r.Status != 400 || r.errorType() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "spec.resource_spec.cpu_limit_default") {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if got := h.info("ns").Description; got != "before" {
			t.Fatalf("description changed by a refused update: %q", got)
		}
	})

	t.Run("PUT replaces: absent fields are cleared", func(t *testing.T) {
		h.must(204, "PUT", instancesPath+"/ns", h.admin, map[string]any{
			"description": "after", "resource_spec": map[string]any{"memory_limit": 2048}})
		h.settle(0)
		info := h.info("ns")
		if info.Description != "after" || info.ResourceSpec.CPULimit != nil || *info.ResourceSpec.MemoryLimit != 2048 ||
			info.ResourceSpec.PodCount != nil || len(info.StorageSpecs) != 0 || info.VMServiceSpec != nil || len(info.ContentLibraries) != 0 {
			t.Fatalf("after set: %+v", asJSON(t, info))
		}
		pool := h.pools()["ns"]
		if *pool.Config.CpuAllocation.Limit != -1 || *pool.Config.MemoryAllocation.Limit != 2048 {
			t.Fatalf("pool limits cpu %d mem %d", *pool.Config.CpuAllocation.Limit, *pool.Config.MemoryAllocation.Limit)
		}
		h.must(204, "PUT", instancesPath+"/ns", h.admin, map[string]any{})
		if info := h.info("ns"); info.Description != "" || info.ResourceSpec != nil {
			t.Fatalf("after an empty set: %+v", asJSON(t, info))
		}
	})

	t.Run("set and update of a namespace that does not exist", func(t *testing.T) {
		for _, m := range []string{"PUT", "PATCH"} {
			if r := h.do(m, instancesPath+"/missing", h.admin, map[string]any{}); r.Status != 404 || r.errorType() != "NOT_FOUND" {
				t.Fatalf("%s: %d %s", m, r.Status, r.Body)
			}
		}
	})

	t.Run("an update naming what does not exist is refused", func(t *testing.T) {
		r := h.do("PATCH", instancesPath+"/ns", h.admin, map[string]any{"storage_specs": []any{map[string]any{"policy": "nope"}}})
		if r.Status != 400 || !strings.Contains(string(r.Body), "spec.storage_specs[0].policy") {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
}

// TestConcurrentPatchesLoseNothing sends 50 PATCHes at once, each changing one field (23 distinct
// fields, the same value whenever a field comes round again): afterwards every field holds its
// value, which a read-modify-write without revision checks would not guarantee.
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("devops1", "Devops-pw-1", "")
	h.create("busy", nil)

	quota := map[string]int64{
		"cpu_limit": 20000, "cpu_limit_default": 1000, "cpu_request_default": 500,
		"memory_limit": 65536, "memory_limit_default": 2048, "memory_request_default": 1024,
		"storage_request_limit": 204800, "pod_count": 11, "service_count": 12, "deployment_count": 13,
		"daemon_set_count": 14, "replica_set_count": 15, "replication_controller_count": 16,
		"stateful_set_count": 17, "config_map_count": 18, "secret_count": 19,
		"persistent_volume_claim_count": 20, "job_count": 21,
	}
	var patches []map[string]any
	for _, f := range quotaFields {
		patches = append(patches, map[string]any{"resource_spec": map[string]any{f.name: quota[f.name]}})
	}
	patches = append(patches,
		map[string]any{"description": "patched"},
		map[string]any{"storage_specs": []any{map[string]any{"policy": policyGold, "limit": 4096}}},
		map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-large"}}},
		map[string]any{"content_libraries": []any{map[string]any{"content_library": libraryTKR}}},
		map[string]any{"access_list": []any{map[string]any{"subject_type": "USER", "subject": "devops1", "domain": "vsphere.local", "role": "EDIT"}}},
	)
	if len(patches) != 23 {
		t.Fatalf("%d distinct patches", len(patches))
	}

	var wg sync.WaitGroup
	statuses := make([]int, 50)
	bodies := make([]string, 50)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.do("PATCH", instancesPath+"/busy", h.admin, patches[i%len(patches)])
			statuses[i], bodies[i] = r.Status, string(r.Body)
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 204 {
			t.Fatalf("PATCH %d: %d %s", i, s, bodies[i])
		}
	}
	h.settle(0)

	info := h.info("busy")
	got := asJSON(t, info.ResourceSpec)
	for name, v := range quota {
		if got[name] != float64(v) {
			t.Errorf("resource_spec.%s = %v, want %d", name, got[name], v)
		}
	}
	if info.Description != "patched" || len(info.StorageSpecs) != 1 || *info.StorageSpecs[0].Limit != 4096 ||
		info.VMServiceSpec == nil || fmt.Sprint(info.VMServiceSpec.VMClasses) != "[best-effort-large]" ||
		len(info.ContentLibraries) != 1 || info.ContentLibraries[0].ContentLibrary != libraryTKR ||
		len(info.AccessList) != 1 || info.AccessList[0].Subject != "devops1" {
		t.Fatalf("after 50 PATCHes: %+v", asJSON(t, info))
	}
	if info.ConfigStatus != StatusRunning {
		t.Fatalf("status %s after the changes were applied", info.ConfigStatus)
	}
	pool := h.pools()["busy"]
	if *pool.Config.CpuAllocation.Limit != 20000 || *pool.Config.MemoryAllocation.Limit != 65536 {
		t.Fatalf("pool limits cpu %d mem %d", *pool.Config.CpuAllocation.Limit, *pool.Config.MemoryAllocation.Limit)
	}
}
