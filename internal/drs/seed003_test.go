package drs

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Seed 003's worked example: the "Namespaces" pool of a Supervisor holds the
// three control-plane VMs (24 GB each) and the namespaces' pools, and owns
// 126.14 GB of memory when everything wants everything.

const seedCapacityMB = 129167 // 126.14 GB

func seedNamespaces(namespaces ...string) Request {
	pool := Node{Name: "Namespaces", Type: KindResourcePool}
	for i := 1; i <= 3; i++ {
		pool.Children = append(pool.Children, Node{
			Name: fmt.Sprintf("SupervisorControlPlaneVM (%d)", i), Type: KindVM, CPUCount: 4, MemoryMB: 24 * 1024,
		})
	}
	for _, ns := range namespaces {
		pool.Children = append(pool.Children, Node{Name: ns, Type: KindResourcePool})
	}
	return Request{
		Capacity: Capacity{CPUMHz: 60000, MemoryMB: seedCapacityMB},
		Children: []Node{pool},
	}
}

func gb(mb int64) string { return fmt.Sprintf("%.2f", float64(mb)/1024) }

func TestSeed003NamespacesPoolUnderContention(t *testing.T) {
	res, err := Analyze(seedNamespaces("frank-ns", "vmware-system-registry"))
	if err != nil {
		t.Fatal(err)
	}
	pool := res.Children[0]
	if got := gb(pool.MemoryEntitlementMB); got != "126.14" {
		t.Fatalf("Namespaces pool gets %s GB, want all 126.14", got)
	}
	var totalShares int64
	for _, c := range pool.Children {
		totalShares += c.MemoryShares
	}
	if totalShares != 1_064_960 {
		t.Errorf("shares issued in Namespaces = %d, want 1,064,960", totalShares)
	}

	for _, vm := range pool.Children[:3] {
		if vm.MemoryShares != 245_760 {
			t.Errorf("%s memory shares = %d, want 245,760", vm.Name, vm.MemoryShares)
		}
		if got := fmt.Sprintf("%.2f", vm.MemorySharePercent); got != "23.08" {
			t.Errorf("%s share = %s%%, want 23.08%%", vm.Name, got)
		}
		// Its shares alone would entitle it to 29.11 GB ...
		if got := gb(int64(math.Round(vm.MemorySharePercent / 100 * seedCapacityMB))); got != "29.11" {
			t.Errorf("%s share-based portion = %s GB, want 29.11", vm.Name, got)
		}
		// ... but it cannot use more than its configured 24 GB.
		if vm.MemoryEntitlementMB != 24*1024 || vm.MemoryBound != BoundSize {
			t.Errorf("%s gets %d MB (%s), want 24576 MB bound by its size", vm.Name, vm.MemoryEntitlementMB, vm.MemoryBound)
		}
	}
	var nsTotal int64
	for _, ns := range pool.Children[3:] {
		if ns.MemoryShares != 163_840 {
			t.Errorf("%s memory shares = %d, want 163,840", ns.Name, ns.MemoryShares)
		}
		if got := fmt.Sprintf("%.2f", ns.MemorySharePercent); got != "15.38" {
			t.Errorf("%s share = %s%%, want 15.38%%", ns.Name, got)
		}
		// What the control plane cannot use flows to the namespaces.
		if got := gb(ns.MemoryEntitlementMB); got != "27.07" {
			t.Errorf("%s gets %s GB, want 27.07 (half of 54.14)", ns.Name, got)
		}
		nsTotal += ns.MemoryEntitlementMB
	}
	if got := gb(nsTotal); got != "54.14" {
		t.Errorf("namespaces together get %s GB, want the 54.14 left by the control plane", got)
	}
}

func TestSeed003DilutionAsNamespacesMultiply(t *testing.T) {
	res, err := Analyze(seedNamespaces("frank-ns", "vmware-system-registry", "cormac-ns", "tkg-ns", "cassandra-ns"))
	if err != nil {
		t.Fatal(err)
	}
	pool := res.Children[0]
	frank := pool.Children[3]
	if got := fmt.Sprintf("%.2f", frank.MemorySharePercent); got != "10.53" {
		t.Errorf("frank-ns share = %s%%, want diluted from 15.38%% to 10.53%%", got)
	}
	for _, vm := range pool.Children[:3] {
		if got := fmt.Sprintf("%.2f", vm.MemorySharePercent); got != "15.79" {
			t.Errorf("%s share = %s%%, want 15.79%%", vm.Name, got)
		}
		if got := gb(vm.MemoryEntitlementMB); got != "19.92" {
			t.Errorf("%s gets %s GB, want 19.92 (15.79%% of 126.14)", vm.Name, got)
		}
		if vm.MemoryBound != BoundShares {
			t.Errorf("%s is bound by %s, want SHARES (it no longer reaches its 24 GB)", vm.Name, vm.MemoryBound)
		}
	}
}

func TestSeed003DilutionWarnsOnceBelowThreshold(t *testing.T) {
	// Five namespaces hold 10.53% each: above the default 10% threshold.
	res, err := Analyze(seedNamespaces("a", "b", "c", "d", "e"))
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Children[0].Children[3].Warnings; len(w) != 0 {
		t.Fatalf("five namespaces: unexpected warnings %+v", w)
	}
	// A sixth dilutes each to 9.52% of memory shares.
	res, err = Analyze(seedNamespaces("a", "b", "c", "d", "e", "f"))
	if err != nil {
		t.Fatal(err)
	}
	ns := res.Children[0].Children[3]
	var memory *Warning
	for i := range ns.Warnings {
		if ns.Warnings[i].Code == WarnLowShare && ns.Warnings[i].Resource == "memory" {
			memory = &ns.Warnings[i]
		}
	}
	if memory == nil {
		t.Fatalf("six namespaces: want a memory LOW_SHARE warning on %s, got %+v", ns.Name, ns.Warnings)
	}
	want := "Namespaces/a holds 9.52% of the memory shares among the 9 children of Namespaces (threshold 10%): " +
		"when they all want more than there is, it is entitled to " + gb(ns.MemoryEntitlementMB) + " GB."
	if !strings.HasPrefix(memory.Message, want) {
		t.Errorf("message:\n got %q\nwant prefix %q", memory.Message, want)
	}
}
