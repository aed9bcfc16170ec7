package drs

import (
	"fmt"
	"testing"
)

// The benchmark tree: a cluster with 100 Supervisors, each a pool holding
// its 3 control-plane VMs and 100 namespaces, each namespace holding 100
// workloads (half VMs, half pods): one million leaves. Memory is contended
// (the cluster has half of what the workloads are sized for) and a tenth of
// the workloads reserve memory, so admission control has work to do.

const (
	benchSupervisors = 100
	benchNamespaces  = 100
	benchWorkloads   = 100
)

var benchPods = [][]Container{
	{ctr("500m", "1Gi", "500m", "1Gi")},    // Guaranteed
	{{}},                                   // BestEffort
	{ctr("250m", "256Mi", "1", "2Gi"), {}}, // Burstable
	{ctr("1", "512Mi", "", ""), ctr("", "", "", "")}, // Burstable
}

func benchWorkload(i int) Node {
	if i%2 == 0 {
		n := Node{Name: fmt.Sprintf("vm-%d", i), Type: KindVM, CPUCount: 2, MemoryMB: 4096}
		if i%10 == 0 {
			n.Reservation = memAmount(1024)
		}
		return n
	}
	containers := benchPods[(i/2)%len(benchPods)]
	if (i/2)%len(benchPods) == 0 && i%10 != 1 {
		containers = benchPods[1] // keep Guaranteed pods (and their reservations) to one in ten
	}
	return Node{Name: fmt.Sprintf("pod-%d", i), Type: KindPod, Containers: containers}
}

func benchNamespace(j int) Node {
	ns := Node{Name: fmt.Sprintf("ns-%d", j), Type: KindResourcePool, Children: make([]Node, benchWorkloads)}
	for i := range ns.Children {
		ns.Children[i] = benchWorkload(i)
	}
	return ns
}

func benchRequest() Request {
	req := Request{Children: make([]Node, benchSupervisors)}
	for s := range req.Children {
		sv := Node{Name: fmt.Sprintf("supervisor-%d", s), Type: KindResourcePool}
		for k := range 3 {
			sv.Children = append(sv.Children, Node{Name: fmt.Sprintf("SupervisorControlPlaneVM (%d)", k+1), Type: KindVM, CPUCount: 4, MemoryMB: 16384})
		}
		for j := range benchNamespaces {
			sv.Children = append(sv.Children, benchNamespace(j))
		}
		req.Children[s] = sv
	}
	// Half of what everything is sized for.
	res, err := Analyze(Request{Capacity: Capacity{CPUMHz: MaxAmount, MemoryMB: MaxAmount}, Children: req.Children[:1]})
	if err != nil {
		panic(err)
	}
	req.Capacity = Capacity{
		CPUMHz:   res.Children[0].CPUEntitlementMHz * benchSupervisors / 2,
		MemoryMB: res.Children[0].MemoryEntitlementMB * benchSupervisors / 2,
	}
	return req
}

func benchModel(b *testing.B) *Model {
	b.Helper()
	m, err := NewModel(benchRequest())
	if err != nil {
		b.Fatal(err)
	}
	if m.refused != 0 {
		b.Fatalf("%d reservations refused; the incremental path would not be measured", m.refused)
	}
	return m
}

// BenchmarkAnalyzeMillion is a what-if call on the whole tree: validate,
// size the pods, admit, divide, and build the result tree.
func BenchmarkAnalyzeMillion(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewModelMillion is the same without building the result tree.
func BenchmarkNewModelMillion(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewModel(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResultMillion builds the result tree of an analysed model.
func BenchmarkResultMillion(b *testing.B) {
	m := benchModel(b)
	b.ReportAllocs()
	for b.Loop() {
		m.Result()
	}
}

// benchChange measures one change per iteration, alternately adding n under
// parent and removing it again.
func benchChange(b *testing.B, parent []int, n Node) {
	m := benchModel(b)
	p, err := m.lookup(parent)
	if err != nil {
		b.Fatal(err)
	}
	last := append(parent[:len(parent):len(parent)], len(p.children))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			err = m.Add(parent, n)
		} else {
			err = m.Remove(last)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// A pod added to (or removed from) one namespace: only that namespace's
// workloads are divided again.
func BenchmarkChangeAddPod(b *testing.B) {
	benchChange(b, []int{42, 3 + 7}, Node{Name: "new-pod", Type: KindPod, Containers: benchPods[0]})
}

// A namespace (with 100 workloads) added to one Supervisor: its namespaces
// are divided again, 10,000 workloads.
func BenchmarkChangeAddNamespace(b *testing.B) {
	benchChange(b, []int{42}, benchNamespace(benchNamespaces))
}

// An empty namespace added to one Supervisor: it wants everything, so every
// sibling's entitlement moves (10,000 workloads divided again).
func BenchmarkChangeAddEmptyNamespace(b *testing.B) {
	benchChange(b, []int{42}, Node{Name: "new-ns", Type: KindResourcePool})
}

// An empty Supervisor pool added to the cluster: every Supervisor's
// entitlement moves, so the whole million is divided again (but nothing is
// validated, sized or admitted again).
func BenchmarkChangeAddSupervisor(b *testing.B) {
	benchChange(b, nil, Node{Name: "new-supervisor", Type: KindResourcePool})
}
