package drs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func i64(v int64) *int64 { return &v }
func boolp(v bool) *bool { return &v }

func memAmount(mb int64) *Amount { return &Amount{MemoryMB: i64(mb)} }

func TestValidationErrorsNameFieldAndValue(t *testing.T) {
	vm := Node{Name: "vm", Type: KindVM, CPUCount: 1, MemoryMB: 1024}
	for _, tc := range []struct {
		name  string
		req   Request
		field string
		value any
	}{
		{"bad level", Request{Children: []Node{{Name: "p", Type: KindResourcePool, Children: []Node{
			vm, {Name: "x", Type: KindVM, CPUCount: 1, MemoryMB: 1, Shares: &Shares{Level: "HUGE"}}}}}},
			"children[0].children[1].shares.level", "HUGE"},
		{"custom without value", Request{Children: []Node{{Name: "v", Type: KindVM, CPUCount: 1, MemoryMB: 1, Shares: &Shares{Level: LevelCustom}}}},
			"children[0].shares.value", int64(0)},
		{"unknown type", Request{Children: []Node{{Name: "v", Type: "CONTAINER"}}}, "children[0].type", "CONTAINER"},
		{"missing name", Request{Children: []Node{{Type: KindResourcePool}}}, "children[0].name", nil},
		{"VM without vCPUs", Request{Children: []Node{{Name: "v", Type: KindVM, MemoryMB: 1}}}, "children[0].cpu_count", 0},
		{"negative capacity", Request{Capacity: Capacity{MemoryMB: -1}}, "capacity.memory_mb", int64(-1)},
		{"reservation over limit", Request{Children: []Node{{Name: "p", Type: KindResourcePool,
			Reservation: memAmount(2048), Limit: memAmount(1024)}}}, "children[0].reservation.memory_mb", int64(2048)},
		{"VM reservation over its size", Request{Children: []Node{{Name: "v", Type: KindVM, CPUCount: 1, MemoryMB: 1024,
			Reservation: memAmount(2048)}}}, "children[0].reservation.memory_mb", int64(2048)},
		{"pod with a reservation", Request{Children: []Node{{Name: "p", Type: KindPod, Containers: []Container{{}},
			Reservation: memAmount(1)}}}, "children[0].reservation", nil},
		{"pod quantity", Request{Children: []Node{{Name: "ns", Type: KindResourcePool, Children: []Node{{Name: "p", Type: KindPod,
			Containers: []Container{{}, ctr("1x", "", "", "")}}}}}}, "children[0].children[0].containers[1].requests.cpu", "1x"},
		{"children of a VM", Request{Children: []Node{{Name: "v", Type: KindVM, CPUCount: 1, MemoryMB: 1, Children: []Node{vm}}}},
			"children[0].children", nil},
		{"negative demand", Request{Children: []Node{{Name: "v", Type: KindVM, CPUCount: 1, MemoryMB: 1,
			Demand: &Amount{CPUMHz: i64(-5)}}}}, "children[0].demand.cpu_mhz", int64(-5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(tc.req)
			var fes FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("error %v is not FieldErrors", err)
			}
			fe := fes[0]
			if fe.Field != tc.field || fe.Value != tc.value {
				t.Errorf("first error %q (value %#v), want field %s value %#v", fe, fe.Value, tc.field, tc.value)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("message %q does not start with the field", err)
			}
		})
	}
}

func TestEmptyRequestAnswersAnEmptyTree(t *testing.T) {
	res, err := Analyze(Request{Capacity: Capacity{CPUMHz: 1000, MemoryMB: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	if !strings.Contains(string(out), `"children":[]`) {
		t.Errorf("empty tree encodes as %s, want children: []", out)
	}
}

func TestRequestAndResultJSONShape(t *testing.T) {
	body := `{"capacity": {"cpu_mhz": 20000, "memory_mb": 65536},
	  "children": [{"name": "ns-a", "type": "RESOURCE_POOL", "shares": {"level": "high"},
	    "limit": {"memory_mb": -1}, "expandable_reservation": true,
	    "children": [
	      {"name": "vm", "type": "VM", "cpu_count": 2, "memory_mb": 4096, "reservation": {"memory_mb": 1024}},
	      {"name": "pod", "type": "POD", "containers": [{"name": "c", "requests": {"cpu": 0.5, "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}]}
	    ]}]}`
	var req Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Children []map[string]any `json:"children"`
	}
	if err := json.Unmarshal(out, &generic); err != nil {
		t.Fatal(err)
	}
	ns := generic.Children[0]
	for _, key := range []string{"name", "type", "cpu_shares", "memory_shares", "cpu_share_percent", "memory_share_percent",
		"cpu_entitlement_mhz", "memory_entitlement_mb", "cpu_reserved_mhz", "memory_reserved_mb", "cpu_bound", "memory_bound", "children"} {
		if _, ok := ns[key]; !ok {
			t.Errorf("result node lacks %q: %s", key, out)
		}
	}
	if ns["cpu_shares"] != float64(8000) || ns["memory_shares"] != float64(327680) {
		t.Errorf("HIGH pool shares = %v / %v, want 8000 / 327680", ns["cpu_shares"], ns["memory_shares"])
	}
	pod := ns["children"].([]any)[1].(map[string]any)
	if pod["qos_class"] != "Guaranteed" || pod["size"].(map[string]any)["cpu_count"] != float64(1) {
		t.Errorf("pod = %v", pod)
	}
	if _, ok := ns["size"]; ok {
		t.Errorf("a pool has no size, got %v", ns["size"])
	}
}

func TestReservationsBorrowThroughExpandablePools(t *testing.T) {
	req := Request{
		Capacity: Capacity{CPUMHz: 10_000, MemoryMB: 10_000},
		Children: []Node{{Name: "Namespaces", Type: KindResourcePool, Children: []Node{
			{Name: "ns-a", Type: KindResourcePool, Children: []Node{
				{Name: "db", Type: KindVM, CPUCount: 2, MemoryMB: 6000, Reservation: memAmount(6000)},
			}},
			{Name: "ns-b", Type: KindResourcePool, Children: []Node{
				{Name: "cache", Type: KindVM, CPUCount: 2, MemoryMB: 6000, Reservation: memAmount(5000)},
			}},
		}}},
	}
	res, err := Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	pool := res.Children[0]
	db, cache := pool.Children[0].Children[0], pool.Children[1].Children[0]
	if db.MemoryReservedMB != 6000 || len(db.Warnings) != 0 {
		t.Errorf("db: reserved %d, warnings %+v; want 6000 admitted", db.MemoryReservedMB, db.Warnings)
	}
	if pool.MemoryReservedMB != 6000 || pool.Children[0].MemoryReservedMB != 6000 {
		t.Errorf("expandable pools hold %d / %d, want the 6000 they borrowed", pool.MemoryReservedMB, pool.Children[0].MemoryReservedMB)
	}
	if cache.MemoryReservedMB != 0 || len(cache.Warnings) != 1 {
		t.Fatalf("cache: reserved %d, warnings %+v; want refused", cache.MemoryReservedMB, cache.Warnings)
	}
	w := cache.Warnings[0]
	if w.Code != WarnReservationUnmet || w.Resource != "memory" || w.Missing != 1000 || w.At != "cluster" {
		t.Errorf("warning %+v, want 1000 MB missing at the cluster", w)
	}
	if !strings.Contains(w.Message, "memory reservation of 5000 MB for Namespaces/ns-b/cache cannot be met: 1000 MB short at the cluster (capacity 10000 MB, 6000 MB already reserved)") {
		t.Errorf("message %q", w.Message)
	}
	// Even refused, cache competes by shares: under contention db keeps its
	// floor and the rest flows by shares.
	if db.MemoryEntitlementMB < 6000 || db.MemoryEntitlementMB+cache.MemoryEntitlementMB != 10_000 {
		t.Errorf("db %d + cache %d MB, want db >= 6000 and all 10000 given out", db.MemoryEntitlementMB, cache.MemoryEntitlementMB)
	}

	// A pool that is not expandable cannot pass its children's reservations on.
	req.Children[0].Children[0].ExpandableReservation = boolp(false)
	req.Children[0].Children[0].Reservation = memAmount(4096)
	res, err = Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	db = res.Children[0].Children[0].Children[0]
	if len(db.Warnings) != 1 || db.Warnings[0].Missing != 6000-4096 || db.Warnings[0].At != "Namespaces/ns-a" ||
		!strings.Contains(db.Warnings[0].Message, "not expandable") {
		t.Errorf("db warnings %+v, want 1904 MB missing at Namespaces/ns-a which is not expandable", db.Warnings)
	}

	// A limit stops an expandable pool from borrowing past it.
	req.Children[0].Children[0].ExpandableReservation = nil
	req.Children[0].Children[0].Reservation = nil
	req.Children[0].Limit = memAmount(5000)
	res, err = Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	db = res.Children[0].Children[0].Children[0]
	if len(db.Warnings) != 1 || db.Warnings[0].Missing != 1000 || db.Warnings[0].At != "Namespaces" ||
		!strings.Contains(db.Warnings[0].Message, "limit of 5000 MB") {
		t.Errorf("db warnings %+v, want 1000 MB missing at Namespaces because of its limit", db.Warnings)
	}
}

func TestReservationIsAFloorNotABonus(t *testing.T) {
	// Two equal VMs under contention: one reserves less than its fair half,
	// the other more. The first gets its share, the second its floor.
	res, err := Analyze(Request{
		Capacity: Capacity{CPUMHz: 8000, MemoryMB: 8000},
		Children: []Node{
			{Name: "small", Type: KindVM, CPUCount: 4, MemoryMB: 8000, Reservation: memAmount(1000)},
			{Name: "big", Type: KindVM, CPUCount: 4, MemoryMB: 8000, Reservation: memAmount(6000)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	small, big := res.Children[0], res.Children[1]
	if small.MemoryEntitlementMB != 2000 || small.MemoryBound != BoundShares {
		t.Errorf("small gets %d MB (%s), want the 2000 MB left, by shares", small.MemoryEntitlementMB, small.MemoryBound)
	}
	if big.MemoryEntitlementMB != 6000 || big.MemoryBound != BoundReservation {
		t.Errorf("big gets %d MB (%s), want its 6000 MB reservation", big.MemoryEntitlementMB, big.MemoryBound)
	}
}

func TestScalableShares(t *testing.T) {
	// Denneman's example: six 2-vCPU VMs in a HIGH pool, two in a NORMAL
	// one. With fixed shares the pools split 2:1, so each VM of the HIGH pool
	// gets less memory than each of the NORMAL pool; with scalable shares the pools
	// split 6:1 and a HIGH VM gets twice a NORMAL one.
	vms := func(n int) []Node {
		out := make([]Node, n)
		for i := range out {
			out[i] = Node{Name: "vm", Type: KindVM, CPUCount: 2, MemoryMB: 32 * 1024}
		}
		return out
	}
	req := Request{
		Capacity: Capacity{CPUMHz: 100_000, MemoryMB: 100 * 1024},
		Children: []Node{
			{Name: "HighShares", Type: KindResourcePool, Shares: &Shares{Level: LevelHigh}, Children: vms(6)},
			{Name: "NormalShares", Type: KindResourcePool, Children: vms(2)},
		},
	}
	fixed, err := Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	if h, n := fixed.Children[0].CPUShares, fixed.Children[1].CPUShares; h != 8000 || n != 4000 {
		t.Errorf("fixed shares %d / %d, want 8000 / 4000", h, n)
	}
	if h, n := fixed.Children[0].Children[0].MemoryEntitlementMB, fixed.Children[1].Children[0].MemoryEntitlementMB; h >= n {
		t.Errorf("fixed shares: a HIGH pool VM gets %d MB, a NORMAL pool VM %d; want the dilution (less)", h, n)
	}

	req.ScaleDescendantsShares = true
	scaled, err := Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	if h, n := scaled.Children[0].CPUShares, scaled.Children[1].CPUShares; h != 24000 || n != 4000 {
		t.Errorf("scaled shares %d / %d, want 24000 (2 × 6 × 2000) / 4000 (2 × 2000)", h, n)
	}
	h, n := scaled.Children[0].Children[0].MemoryEntitlementMB, scaled.Children[1].Children[0].MemoryEntitlementMB
	if h < 2*n-1 || h > 2*n+1 {
		t.Errorf("scaled shares: a HIGH pool VM gets %d MB, a NORMAL pool VM %d; want twice", h, n)
	}
	// CUSTOM shares do not scale.
	req.Children[0].Shares = &Shares{Level: LevelCustom, Value: 1234}
	custom, err := Analyze(req)
	if err != nil {
		t.Fatal(err)
	}
	if s := custom.Children[0].CPUShares; s != 1234 {
		t.Errorf("custom pool shares = %d, want 1234", s)
	}
}

func TestIdleCapacityWithoutContention(t *testing.T) {
	res, err := Analyze(Request{
		Capacity: Capacity{CPUMHz: 100_000, MemoryMB: 100_000},
		Children: []Node{{Name: "ns", Type: KindResourcePool, Children: []Node{
			{Name: "vm", Type: KindVM, CPUCount: 2, MemoryMB: 4096, Demand: &Amount{CPUMHz: i64(500)}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns := res.Children[0]
	vm := ns.Children[0]
	if vm.CPUEntitlementMHz != 500 || vm.CPUBound != BoundDemand || vm.MemoryEntitlementMB != 4096 || vm.MemoryBound != BoundSize {
		t.Errorf("vm gets %d MHz (%s) / %d MB (%s); want its demand and its size", vm.CPUEntitlementMHz, vm.CPUBound, vm.MemoryEntitlementMB, vm.MemoryBound)
	}
	if ns.CPUEntitlementMHz != 500 || ns.CPUBound != BoundDemand {
		t.Errorf("ns gets %d MHz (%s); want what its VM can use", ns.CPUEntitlementMHz, ns.CPUBound)
	}
}

func TestModelChangesReportPathsAndNotFound(t *testing.T) {
	m, err := NewModel(seedNamespaces("frank-ns"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add([]int{0, 0}, Node{Name: "x", Type: KindVM, CPUCount: 1, MemoryMB: 1}); !errors.Is(err, ErrNotPool) {
		t.Errorf("adding under a VM: %v, want ErrNotPool", err)
	}
	if err := m.Remove(nil); !errors.Is(err, ErrCluster) {
		t.Errorf("removing the cluster: %v, want ErrCluster", err)
	}
	if err := m.Remove([]int{0, 9}); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a missing node: %v, want ErrNotFound", err)
	}
	err = m.Add([]int{0, 3}, Node{Name: "pod", Type: KindPod})
	var fes FieldErrors
	if !errors.As(err, &fes) || fes[0].Field != "children[0].children[3].children[0].containers" {
		t.Errorf("adding a bad pod: %v, want an error at children[0].children[3].children[0].containers", err)
	}
}
