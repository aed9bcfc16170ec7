package resources

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/vapi"
)

func (h *harness) whatIf(cluster string, body string) (WhatIfResult, error) {
	h.t.Helper()
	res, err := h.call(opWhatIf, map[string]string{"cluster": cluster}, nil, body)
	if err != nil {
		return WhatIfResult{}, err
	}
	var w WhatIfResult
	roundTrip(h.t, res, &w)
	return w, nil
}

func findChange(t *testing.T, changes []NodeChange, path string) NodeChange {
	t.Helper()
	for _, c := range changes {
		if c.Path == path {
			return c
		}
	}
	t.Fatalf("no change for %s among %+v", path, changes)
	return NodeChange{}
}

// Seed 003's dilution, asked as a what-if of the live Supervisor: three more namespaces take
// each control-plane VM from its 24 GB down to 19.92 GB, and nothing in the inventory changes.
func TestWhatIfAddNamespacesShowsDilution(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("frank-ns", "vmware-system-registry")
	live := h.live(clusterA)

	w, err := h.whatIf(clusterA, `{"changes": [{"action": "ADD_NAMESPACES", "count": 3}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Before, live) {
		t.Errorf("before differs from the live analysis")
	}
	if again := h.live(clusterA); !reflect.DeepEqual(again, live) {
		t.Errorf("the what-if changed the live state")
	}
	after := w.After.Children[0]
	if len(after.Children) != 8 {
		t.Fatalf("after: %d children of Namespaces, want 3 VMs and 5 namespaces", len(after.Children))
	}
	for i := 1; i <= 3; i++ {
		ns := child(t, after.Children, fmt.Sprintf("new-namespace-%d", i))
		if ns.ID != "" || fmt.Sprintf("%.2f", ns.MemorySharePercent) != "10.53" {
			t.Errorf("%s: id %q, %.2f%%; want a new pool with 10.53%%", ns.Name, ns.ID, ns.MemorySharePercent)
		}
		c := findChange(t, w.Changes, "Namespaces/"+ns.Name)
		if c.Change != "ADDED" || c.Before != nil || c.After == nil || c.After.MemoryShares != 163_840 {
			t.Errorf("change for %s: %+v", ns.Name, c)
		}
	}
	vm := findChange(t, w.Changes, "Namespaces/SupervisorControlPlaneVM (1)")
	if vm.Change != "CHANGED" || vm.ID == "" || vm.Type != drs.KindVM {
		t.Fatalf("control-plane VM change: %+v", vm)
	}
	if vm.Before.MemoryEntitlementMB != 24*1024 || vm.Before.MemoryBound != drs.BoundSize ||
		gb(vm.After.MemoryEntitlementMB) != "19.92" || vm.After.MemoryBound != drs.BoundShares ||
		fmt.Sprintf("%.2f", vm.After.MemorySharePercent) != "15.79" {
		t.Errorf("control-plane VM: before %+v after %+v; want 24 GB (SIZE) → 19.92 GB (SHARES) at 15.79%%", vm.Before, vm.After)
	}
	frank := findChange(t, w.Changes, "Namespaces/frank-ns")
	if fmt.Sprintf("%.2f → %.2f", frank.Before.MemorySharePercent, frank.After.MemorySharePercent) != "15.38 → 10.53" {
		t.Errorf("frank-ns share %.2f → %.2f, want 15.38 → 10.53", frank.Before.MemorySharePercent, frank.After.MemorySharePercent)
	}
	// The Namespaces pool itself still owns the same: it is not listed.
	for _, c := range w.Changes {
		if c.Path == "Namespaces" {
			t.Errorf("Namespaces pool listed as changed: %+v", c)
		}
	}

	// A sixth namespace drops every one below 10%: the warning is part of what changes.
	w, err = h.whatIf(clusterA, `{"changes": [{"action": "ADD_NAMESPACES", "count": 4}]}`)
	if err != nil {
		t.Fatal(err)
	}
	frank = findChange(t, w.Changes, "Namespaces/frank-ns")
	if len(frank.Before.Warnings) != 0 || len(frank.After.Warnings) == 0 || frank.After.Warnings[0].Code != drs.WarnLowShare {
		t.Errorf("frank-ns warnings %+v → %+v, want a new LOW_SHARE", frank.Before.Warnings, frank.After.Warnings)
	}
}

func TestWhatIfAddPodSetAndRemove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("frank-ns", "vmware-system-registry")
	body := `{"changes": [
	  {"action": "ADD", "namespace": "frank-ns", "node": {"name": "cassandra-0", "type": "POD", "containers": [
	    {"name": "cassandra", "requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}]}},
	  {"action": "SET", "path": "Namespaces/SupervisorControlPlaneVM (1)", "reservation": {"memory_mb": 24576}},
	  {"action": "REMOVE", "namespace": "vmware-system-registry"},
	  {"action": "ADD_NAMESPACES", "count": 1, "node": {"name": "team", "type": "RESOURCE_POOL", "shares": {"level": "HIGH"}}},
	  {"action": "ADD", "path": "Namespaces/team-1", "node": {"name": "web", "type": "VM", "cpu_count": 2, "memory_mb": 4096}}
	]}`
	w, err := h.whatIf(clusterA, body)
	if err != nil {
		t.Fatal(err)
	}
	pool := w.After.Children[0]
	pod := child(t, child(t, pool.Children, "frank-ns").Children, "cassandra-0")
	if pod.Type != drs.KindPod || pod.QoSClass != drs.QoSGuaranteed || pod.Size != (drs.Size{CPUCount: 1, MemoryMB: 1024 + drs.PodMemoryPaddingMB}) {
		t.Errorf("pod: %s %s %+v; want a Guaranteed POD of 1 vCPU (500m rounded up) and 1 GB plus padding", pod.Type, pod.QoSClass, pod.Size)
	}
	if c := findChange(t, w.Changes, "Namespaces/frank-ns/cassandra-0"); c.Change != "ADDED" || c.After.MemoryReservedMB != 1024 {
		t.Errorf("pod change %+v, want ADDED holding its 1 GB request", c)
	}
	frank := findChange(t, w.Changes, "Namespaces/frank-ns")
	if frank.Before.MemoryReservedMB != 0 || frank.After.MemoryReservedMB != 1024 {
		t.Errorf("frank-ns holds %d → %d MB, want 0 → 1024 (its pool expands for the pod's request)",
			frank.Before.MemoryReservedMB, frank.After.MemoryReservedMB)
	}
	vm := findChange(t, w.Changes, "Namespaces/SupervisorControlPlaneVM (1)")
	if vm.After.MemoryReservedMB != 24576 {
		t.Errorf("control-plane VM holds %d MB after SET, want 24576", vm.After.MemoryReservedMB)
	}
	if c := findChange(t, w.Changes, "Namespaces/vmware-system-registry"); c.Change != "REMOVED" || c.After != nil || c.ID == "" {
		t.Errorf("removed namespace: %+v", c)
	}
	team := child(t, pool.Children, "team-1")
	if team.MemoryShares != 4*5*16384 || len(team.Children) != 1 || team.Children[0].Name != "web" {
		t.Errorf("team-1: %d shares, children %+v; want a HIGH pool holding web", team.MemoryShares, team.Children)
	}
	if c := findChange(t, w.Changes, "Namespaces/team-1/web"); c.Change != "ADDED" || c.Type != drs.KindVM {
		t.Errorf("web: %+v", c)
	}
}

func TestWhatIfRefusesBadChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("frank-ns")
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown action", `{"changes": [{"action": "GROW"}]}`,
			[]string{"spec.changes[0].action", "GROW", "ADD, ADD_NAMESPACES, REMOVE, SET"}},
		{"unknown namespace", `{"changes": [{"action": "REMOVE", "namespace": "nope"}]}`,
			[]string{"spec.changes[0].namespace", "nope", clusterA}},
		{"unknown path", `{"changes": [{"action": "SET", "path": "Namespaces/nope", "shares": {"level": "HIGH"}}]}`,
			[]string{"spec.changes[0].path", "Namespaces/nope"}},
		{"bad node, named as sent", `{"changes": [{"action": "ADD_NAMESPACES", "count": 1},
		    {"action": "ADD", "namespace": "frank-ns", "node": {"name": "x", "type": "POOL"}},
		    {"action": "ADD", "node": {"name": "y", "type": "RESOURCE_POOL", "shares": {"level": "HUGE"}}}]}`,
			[]string{"spec.changes[1].node.type", "POOL"}},
		{"bad shares level", `{"changes": [{"action": "ADD", "node": {"name": "y", "type": "RESOURCE_POOL", "shares": {"level": "HUGE"}}}]}`,
			[]string{"spec.changes[0].node.shares.level", "HUGE"}},
		{"bad SET", `{"changes": [{"action": "SET", "path": "Namespaces/SupervisorControlPlaneVM (2)", "reservation": {"memory_mb": 99999}}]}`,
			[]string{"spec.changes[0].reservation.memory_mb", "99999", "exceeds the VM's size"}},
		{"field the action does not take", `{"changes": [{"action": "REMOVE", "namespace": "frank-ns", "count": 2}]}`,
			[]string{"spec.changes[0].count", "REMOVE does not take count"}},
		{"count out of range", `{"changes": [{"action": "ADD_NAMESPACES", "count": 0}]}`,
			[]string{"spec.changes[0].count", `"0"`}},
		{"missing node", `{"changes": [{"action": "ADD", "namespace": "frank-ns"}]}`,
			[]string{"spec.changes[0].node"}},
		{"duplicate name", `{"changes": [{"action": "ADD", "node": {"name": "frank-ns", "type": "RESOURCE_POOL"}}]}`,
			[]string{"spec.changes[0].node.name", "frank-ns", "already holds"}},
		{"add into a VM", `{"changes": [{"action": "ADD", "path": "Namespaces/SupervisorControlPlaneVM (1)", "node": {"name": "z", "type": "VM", "cpu_count": 1, "memory_mb": 1}}]}`,
			[]string{"spec.changes[0].path", "only a resource pool takes children"}},
		{"namespace and path", `{"changes": [{"action": "REMOVE", "namespace": "frank-ns", "path": "Namespaces/frank-ns"}]}`,
			[]string{"spec.changes[0].path", "not both"}},
		{"unknown field", `{"changes": [{"action": "REMOVE", "namespace": "frank-ns", "pool": "x"}]}`,
			[]string{"spec.changes[0].pool", "no such field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.whatIf(clusterA, tc.body)
			wantError(t, err, vapi.ErrorInvalidArgument, tc.want...)
		})
	}
	// A path may name a node by its id too, and a "/" in a name is written %2F.
	a := h.live(clusterA)
	vmID := a.Children[0].Children[0].ID
	w, err := h.whatIf(clusterA, `{"changes": [{"action": "REMOVE", "path": "`+vmID+`"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if c := findChange(t, w.Changes, "Namespaces/SupervisorControlPlaneVM (1)"); c.Change != "REMOVED" || c.ID != vmID {
		t.Errorf("remove by id: %+v", c)
	}
	w, err = h.whatIf(clusterA, `{"changes": [{"action": "ADD", "node": {"name": "a/b", "type": "RESOURCE_POOL"}},
	    {"action": "ADD", "path": "Namespaces/a%2Fb", "node": {"name": "c", "type": "VM", "cpu_count": 1, "memory_mb": 512}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	findChange(t, w.Changes, "Namespaces/a%2Fb/c")
}

// The what-if extension decodes the tree with the API's strict conventions and names
// every bad field as the client sent it.
func TestAnalyzeExtension(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const op = "com.wcpd.resources.analyze"
	seed := `{"capacity": {"cpu_mhz": 60000, "memory_mb": 129167}, "children": [
	  {"name": "Namespaces", "type": "RESOURCE_POOL", "children": [
	    {"name": "cp-1", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
	    {"name": "cp-2", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
	    {"name": "cp-3", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
	    {"name": "frank-ns", "type": "RESOURCE_POOL", "children": [
	      {"name": "web", "type": "POD", "containers": [{"name": "c"}]},
	      {"name": "cassandra-0", "type": "POD", "containers": [{"requests": {"cpu": 0.5, "memory": "1Gi"}}]}]},
	    {"name": "vmware-system-registry", "type": "RESOURCE_POOL"}]}]}`
	res, err := h.call(op, nil, nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	var r drs.Result
	roundTrip(t, res, &r)
	ns := r.Children[0].Children
	if gb(ns[0].MemoryEntitlementMB) != "24.00" || fmt.Sprintf("%.2f", ns[3].MemorySharePercent) != "15.38" {
		t.Errorf("seed figures: %d MB, %.2f%%", ns[0].MemoryEntitlementMB, ns[3].MemorySharePercent)
	}
	web, cassandra := ns[3].Children[0], ns[3].Children[1]
	if web.QoSClass != drs.QoSBestEffort || web.Size != (drs.Size{CPUCount: 1, MemoryMB: 512}) {
		t.Errorf("BestEffort pod: %s %+v", web.QoSClass, web.Size)
	}
	if cassandra.QoSClass != drs.QoSBurstable || cassandra.Size.CPUCount != 1 {
		t.Errorf("cassandra (a JSON number as quantity): %s %+v", cassandra.QoSClass, cassandra.Size)
	}

	cases := []struct {
		name, body string
		want       []string
	}{
		{"missing capacity", `{"children": []}`, []string{"spec.capacity"}},
		{"model error, named from spec", `{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [
		    {"name": "p", "type": "RESOURCE_POOL", "children": [{"name": "v", "type": "VM", "cpu_count": 0, "memory_mb": 1}]}]}`,
			[]string{"spec.children[0].children[0].cpu_count", `"0"`, "1 to 4096 vCPUs"}},
		{"every bad field at once", `{"capacity": {"cpu_mhz": -5, "memory_mb": 1}, "children": []}`,
			[]string{"spec.capacity.cpu_mhz", "-5"}},
		{"field without a value", `{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [{"name": "v", "type": "VM", "cpu_count": 1, "memory_mb": 1, "containers": [{}]}]}`,
			[]string{"spec.children[0].containers", "only a POD has containers"}},
		{"unknown field", `{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [], "extra": 1}`,
			[]string{"spec.extra", "no such field"}},
		{"bad quantity", `{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [{"name": "p", "type": "POD", "containers": [{"limits": {"memory": "lots"}}]}]}`,
			[]string{"spec.children[0].containers[0].limits.memory", "lots"}},
		{"not JSON", `{"capacity":`, []string{"not well-formed JSON"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.call(op, nil, nil, tc.body)
			e := wantError(t, err, vapi.ErrorInvalidArgument, tc.want...)
			raw, _ := json.Marshal(e)
			if strings.Contains(string(raw), "<nil>") {
				t.Errorf("message shows <nil>: %s", raw)
			}
		})
	}
}

func TestWhatIfAfterRemovingTheNamespacesPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("frank-ns")
	for _, tc := range []struct{ second, field string }{
		{`{"action": "ADD_NAMESPACES", "count": 1}`, "spec.changes[1].action"},
		{`{"action": "ADD", "node": {"name": "x", "type": "RESOURCE_POOL"}}`, "spec.changes[1].namespace"},
		{`{"action": "REMOVE", "namespace": "frank-ns"}`, "spec.changes[1].namespace"},
	} {
		_, err := h.whatIf(clusterA, `{"changes": [{"action": "REMOVE", "path": "Namespaces"}, `+tc.second+`]}`)
		wantError(t, err, vapi.ErrorInvalidArgument, tc.field)
	}
	w, err := h.whatIf(clusterA, `{"changes": [{"action": "REMOVE", "path": "Namespaces"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.After.Children) != 0 || len(w.Changes) != 5 {
		t.Errorf("after removing Namespaces: %d top-level nodes, %d changes; want none and 5 REMOVED", len(w.After.Children), len(w.Changes))
	}
}
