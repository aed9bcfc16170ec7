package drs

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Property tests over random trees from a fixed seed: the same trees on every
// run, different shapes in every tree.

const propertyTrees = 300

type treeGen struct {
	r      *rand.Rand
	leaves int64 // MB of memory sized so far, to scale the capacity
	cpus   int64
}

func newTreeGen(i int) *treeGen {
	return &treeGen{r: rand.New(rand.NewPCG(20240601, uint64(i)))}
}

func (g *treeGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *treeGen) request() Request {
	g.leaves, g.cpus = 0, 0
	req := Request{ScaleDescendantsShares: g.chance(0.2)}
	req.Children = g.nodes(1+g.r.IntN(4), 1)
	// From heavy contention to none at all.
	scale := 0.1 + 1.4*g.r.Float64()
	req.Capacity = Capacity{
		CPUMHz:        int64(float64(g.cpus*2000) * scale),
		MemoryMB:      int64(float64(g.leaves) * scale),
		CPUMHzPerVCPU: 2000,
	}
	return req
}

func (g *treeGen) nodes(k, depth int) []Node {
	out := make([]Node, k)
	for i := range out {
		out[i] = g.node(depth)
	}
	return out
}

func (g *treeGen) node(depth int) Node {
	n := Node{Name: fmt.Sprintf("n%d", g.r.IntN(1000))}
	switch x := g.r.Float64(); {
	case depth < 4 && x < 0.35:
		n.Type = KindResourcePool
		if g.chance(0.3) {
			n.ExpandableReservation = boolp(g.chance(0.5))
		}
		n.ScaleDescendantsShares = g.chance(0.15)
		if g.chance(0.9) {
			n.Children = g.nodes(g.r.IntN(5), depth+1)
		}
		if g.chance(0.2) {
			n.Reservation = g.amount(4000, 8000)
		}
		if g.chance(0.15) {
			n.Limit = g.amount(50_000, 100_000)
			raiseTo(n.Limit, n.Reservation)
		}
		if g.chance(0.1) {
			n.Demand = g.amount(20_000, 40_000)
		}
	case x < 0.7:
		n.Type = KindVM
		n.CPUCount = 1 + g.r.IntN(8)
		n.MemoryMB = int64(512 * (1 + g.r.IntN(32)))
		g.cpus += int64(n.CPUCount)
		g.leaves += n.MemoryMB
		if g.chance(0.3) {
			n.Reservation = &Amount{CPUMHz: i64(g.r.Int64N(int64(n.CPUCount)*2000 + 1)), MemoryMB: i64(g.r.Int64N(n.MemoryMB + 1))}
		}
		if g.chance(0.2) {
			n.Limit = &Amount{CPUMHz: i64(g.r.Int64N(int64(n.CPUCount) * 3000)), MemoryMB: i64(g.r.Int64N(n.MemoryMB * 2))}
			raiseTo(n.Limit, n.Reservation)
		}
		if g.chance(0.2) {
			n.Demand = &Amount{CPUMHz: i64(g.r.Int64N(int64(n.CPUCount) * 3000)), MemoryMB: i64(g.r.Int64N(n.MemoryMB * 2))}
		}
	default:
		n.Type = KindPod
		cpus := []Quantity{"", "100m", "500m", "1", "1.5", "2"}
		mems := []Quantity{"", "128Mi", "512Mi", "1Gi", "1.5Gi", "3Gi"}
		for range 1 + g.r.IntN(3) {
			var c Container
			ri, rm := g.r.IntN(len(cpus)), g.r.IntN(len(mems))
			c.Requests = Resources{CPU: cpus[ri], Memory: mems[rm]}
			if g.chance(0.5) {
				c.Limits.CPU = cpus[max(ri, g.r.IntN(len(cpus)))]
				if c.Limits.CPU == "" {
					c.Requests.CPU = ""
				}
			}
			if g.chance(0.5) {
				c.Limits.Memory = mems[max(rm, g.r.IntN(len(mems)))]
				if c.Limits.Memory == "" {
					c.Requests.Memory = ""
				}
			}
			n.Containers = append(n.Containers, c)
		}
		_, size, err := PodSize(n.Containers)
		if err != nil {
			panic(err)
		}
		g.cpus += int64(size.CPUCount)
		g.leaves += size.MemoryMB
	}
	if g.chance(0.3) {
		levels := []Level{LevelLow, LevelNormal, LevelHigh, LevelCustom}
		n.Shares = &Shares{Level: levels[g.r.IntN(len(levels))]}
		if n.Shares.Level == LevelCustom {
			n.Shares.Value = 1 + g.r.Int64N(500_000)
		}
	}
	return n
}

func (g *treeGen) amount(cpuMax, memMax int64) *Amount {
	return &Amount{CPUMHz: i64(g.r.Int64N(cpuMax)), MemoryMB: i64(g.r.Int64N(memMax))}
}

func raiseTo(limit, reservation *Amount) {
	if reservation == nil {
		return
	}
	if *limit.CPUMHz < *reservation.CPUMHz {
		*limit.CPUMHz = *reservation.CPUMHz
	}
	if *limit.MemoryMB < *reservation.MemoryMB {
		*limit.MemoryMB = *reservation.MemoryMB
	}
}

// reference computations from the request alone, independent of the model.

const mhzPerVCPU = 2000

func get(r NodeResult, d int) (ent, reserved int64) {
	if d == cpu {
		return r.CPUEntitlementMHz, r.CPUReservedMHz
	}
	return r.MemoryEntitlementMB, r.MemoryReservedMB
}

func field(a *Amount, d int) (int64, bool) {
	if a == nil {
		return 0, false
	}
	p := [2]*int64{a.CPUMHz, a.MemoryMB}[d]
	if p == nil || *p == -1 {
		return 0, false
	}
	return *p, true
}

// limitOf is a node's limit, a pod's from its containers.
func limitOf(n Node, d int) (int64, bool) {
	if n.Type != KindPod {
		return field(n.Limit, d)
	}
	var sum int64
	for _, c := range n.Containers {
		q := [2]Quantity{c.Limits.CPU, c.Limits.Memory}[d]
		if q == "" {
			return 0, false
		}
		if d == cpu {
			v, _ := ParseCPUMillicores(string(q))
			sum += v
		} else {
			v, _ := ParseMemoryBytes(string(q))
			sum += v
		}
	}
	if d == cpu {
		return ceilDiv(sum*mhzPerVCPU, 1000), true
	}
	return ceilDiv(sum, 1<<20) + PodMemoryPaddingMB, true
}

// absorbable is the most a node can use: the smallest of its limit, demand
// and size (for a pool, what its children can absorb, or everything), but no
// less than the reservation it holds.
func absorbable(n Node, r NodeResult, d int) int64 {
	most := int64(unlimited)
	if n.Type != KindResourcePool {
		most = [2]int64{int64(r.Size.CPUCount) * mhzPerVCPU, r.Size.MemoryMB}[d]
	}
	if l, ok := limitOf(n, d); ok {
		most = min(most, l)
	}
	if demand, ok := field(n.Demand, d); ok {
		most = min(most, demand)
	} else if n.Type == KindResourcePool && len(n.Children) > 0 {
		var sum int64
		for i, c := range n.Children {
			sum = satAdd(sum, absorbable(c, r.Children[i], d))
		}
		most = min(most, sum)
	}
	_, held := get(r, d)
	return max(most, held)
}

func hasUnmet(r NodeResult, d int) bool {
	for _, w := range r.Warnings {
		if w.Code == WarnReservationUnmet && w.Resource == resourceNames[d] {
			return true
		}
	}
	return false
}

// checkInvariants walks a request and its result together.
func checkInvariants(t *testing.T, req Request, res Result) {
	t.Helper()
	capacity := [2]int64{req.Capacity.CPUMHz, req.Capacity.MemoryMB}
	reserved := [2]int64{res.CPUReservedMHz, res.MemoryReservedMB}
	for d := range 2 {
		checkSiblings(t, "cluster", resourceNames[d], d, capacity[d], reserved[d], true, req.Children, res.Children)
	}
}

func checkSiblings(t *testing.T, parent, resName string, d int, parentEnt, parentReserved int64, parentFixed bool, nodes []Node, results []NodeResult) {
	t.Helper()
	var sumEnt, sumAbsorb, sumHeld int64
	for i, n := range nodes {
		r := results[i]
		ent, held := get(r, d)
		where := fmt.Sprintf("%s/%s[%d] %s", parent, n.Name, i, resName)
		sumEnt += ent
		sumHeld += held
		absorb := absorbable(n, r, d)
		sumAbsorb = satAdd(sumAbsorb, absorb)

		if ent > absorb {
			t.Errorf("%s: entitlement %d exceeds what it can use (%d)", where, ent, absorb)
		}
		if l, ok := limitOf(n, d); ok && ent > l {
			t.Errorf("%s: entitlement %d exceeds its limit %d", where, ent, l)
		}
		if n.Type != KindResourcePool {
			if size := [2]int64{int64(r.Size.CPUCount) * mhzPerVCPU, r.Size.MemoryMB}[d]; ent > size {
				t.Errorf("%s: entitlement %d exceeds its size %d", where, ent, size)
			}
		}
		if ent < held {
			t.Errorf("%s: entitlement %d is below its admitted reservation %d", where, ent, held)
		}
		// A reservation with no warning was admitted in full.
		own, _ := field(n.Reservation, d)
		if n.Type == KindPod {
			own = 0 // derived from requests; checked in the pod tests
		}
		if !hasUnmet(r, d) && held < own {
			t.Errorf("%s: holds %d of its %d reservation without a warning", where, held, own)
		}
		if hasUnmet(r, d) && n.Type != KindResourcePool && held != 0 {
			t.Errorf("%s: refused, yet holds %d", where, held)
		}
		if n.Type == KindResourcePool {
			var childHeld int64
			for _, cr := range r.Children {
				_, h := get(cr, d)
				childHeld += h
			}
			fixed := n.ExpandableReservation != nil && !*n.ExpandableReservation
			checkSiblings(t, parent+"/"+n.Name, resName, d, ent, held, fixed, n.Children, r.Children)
			if fixed && childHeld > held {
				t.Errorf("%s: fixed pool holds %d but its children %d", where, held, childHeld)
			}
			if !fixed && held < childHeld {
				t.Errorf("%s: expandable pool holds %d, less than its children's %d", where, held, childHeld)
			}
		}
	}
	if sumEnt > parentEnt {
		t.Errorf("%s %s: children get %d, more than the %d it has", parent, resName, sumEnt, parentEnt)
	}
	if parentFixed && sumHeld > parentReserved {
		t.Errorf("%s %s: children hold %d reserved, more than its %d", parent, resName, sumHeld, parentReserved)
	}
	// Nothing lost, nothing idle unless every sibling is capped.
	if want := min(parentEnt, sumAbsorb); len(nodes) > 0 && sumEnt != want {
		t.Errorf("%s %s: children get %d of %d; want %d (all of it, or everything they can use)", parent, resName, sumEnt, parentEnt, want)
	}
	if sumEnt < parentEnt {
		for i, n := range nodes {
			if ent, _ := get(results[i], d); ent != absorbable(n, results[i], d) {
				t.Errorf("%s %s: capacity left idle while %s is not capped (%d < %d)", parent, resName, n.Name, ent, absorbable(n, results[i], d))
			}
		}
	}
}

func TestPropertyInvariantsOnRandomTrees(t *testing.T) {
	t.Parallel()
	refusals := 0
	for i := range propertyTrees {
		g := newTreeGen(i)
		req := g.request()
		res, err := Analyze(req)
		if err != nil {
			t.Fatalf("tree %d: %v", i, err)
		}
		checkInvariants(t, req, res)
		refusals += countWarnings(res.Children, WarnReservationUnmet)
		if t.Failed() {
			t.Fatalf("tree %d failed", i)
		}
	}
	// The generator must exercise admission control, or half the
	// properties are vacuous.
	if refusals == 0 {
		t.Error("no random tree had a refused reservation")
	}
}

func countWarnings(nodes []NodeResult, code string) int {
	n := 0
	for _, r := range nodes {
		for _, w := range r.Warnings {
			if w.Code == code {
				n++
			}
		}
		n += countWarnings(r.Children, code)
	}
	return n
}

// paths lists the index path of every node.
func paths(nodes []Node, prefix []int, out *[][]int) {
	for i := range nodes {
		p := append(prefix[:len(prefix):len(prefix)], i)
		*out = append(*out, p)
		paths(nodes[i].Children, p, out)
	}
}

func nodeAt(nodes []Node, path []int) *Node {
	n := &nodes[path[0]]
	for _, i := range path[1:] {
		n = &n.Children[i]
	}
	return n
}

func resultAt(nodes []NodeResult, path []int) NodeResult {
	r := nodes[path[0]]
	for _, i := range path[1:] {
		r = r.Children[i]
	}
	return r
}

func TestPropertyMoreSharesNeverMeanLess(t *testing.T) {
	t.Parallel()
	for i := range propertyTrees {
		g := newTreeGen(i)
		req := g.request()
		before, err := Analyze(req)
		if err != nil {
			t.Fatal(err)
		}
		var all [][]int
		paths(req.Children, nil, &all)
		path := all[g.r.IntN(len(all))]
		r := resultAt(before.Children, path)

		n := nodeAt(req.Children, path)
		n.Shares = &Shares{Level: LevelCustom, Value: 2*r.CPUShares + 1, MemoryValue: 2*r.MemoryShares + 1}
		after, err := Analyze(req)
		if err != nil {
			t.Fatal(err)
		}
		ra := resultAt(after.Children, path)
		// Real-valued entitlements are monotone; rounding to whole units can
		// move each level of the tree by one.
		slack := int64(len(path))
		if ra.CPUEntitlementMHz+slack < r.CPUEntitlementMHz || ra.MemoryEntitlementMB+slack < r.MemoryEntitlementMB {
			t.Fatalf("tree %d, node %v: more shares, less entitlement: CPU %d → %d MHz, memory %d → %d MB",
				i, path, r.CPUEntitlementMHz, ra.CPUEntitlementMHz, r.MemoryEntitlementMB, ra.MemoryEntitlementMB)
		}
	}
}

// Incremental recomputation must give exactly what analysing the changed
// request from scratch gives.
func TestPropertyIncrementalMatchesFullAnalysis(t *testing.T) {
	t.Parallel()
	for i := range propertyTrees {
		g := newTreeGen(i)
		req := g.request()
		m, err := NewModel(req)
		if err != nil {
			t.Fatal(err)
		}
		for step := range 4 {
			var all [][]int
			paths(req.Children, nil, &all)
			op := g.r.IntN(3)
			if len(all) == 0 {
				op = 0
			}
			var desc string
			switch op {
			case 0: // add under the cluster or a pool
				var pools [][]int
				pools = append(pools, nil)
				for _, p := range all {
					if nodeAt(req.Children, p).Type == KindResourcePool {
						pools = append(pools, p)
					}
				}
				parent := pools[g.r.IntN(len(pools))]
				n := g.node(len(parent) + 1)
				desc = fmt.Sprintf("add %s under %v", n.Type, parent)
				if err := m.Add(parent, n); err != nil {
					t.Fatalf("tree %d step %d %s: %v", i, step, desc, err)
				}
				if parent == nil {
					req.Children = append(req.Children, n)
				} else {
					p := nodeAt(req.Children, parent)
					p.Children = append(p.Children, n)
				}
			case 1: // replace
				path := all[g.r.IntN(len(all))]
				n := g.node(len(path))
				desc = fmt.Sprintf("replace %v with a %s", path, n.Type)
				if err := m.Replace(path, n); err != nil {
					t.Fatalf("tree %d step %d %s: %v", i, step, desc, err)
				}
				*nodeAt(req.Children, path) = n
			case 2: // remove
				path := all[g.r.IntN(len(all))]
				desc = fmt.Sprintf("remove %v", path)
				if err := m.Remove(path); err != nil {
					t.Fatalf("tree %d step %d %s: %v", i, step, desc, err)
				}
				siblings := &req.Children
				if len(path) > 1 {
					siblings = &nodeAt(req.Children, path[:len(path)-1]).Children
				}
				k := path[len(path)-1]
				*siblings = append((*siblings)[:k:k], (*siblings)[k+1:]...)
			}
			want, err := Analyze(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Result(); !reflect.DeepEqual(got, want) {
				t.Fatalf("tree %d step %d (%s): incremental result differs from a full analysis", i, step, desc)
			}
			checkInvariants(t, req, want)
		}
	}
}
