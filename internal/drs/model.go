package drs

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of Model changes; test for them with errors.Is.
var (
	// ErrNotFound: the path names no node.
	ErrNotFound = errors.New("drs: no such node")
	// ErrNotPool: only a resource pool, or the cluster, takes children.
	ErrNotPool = errors.New("drs: not a resource pool")
	// ErrCluster: the cluster itself cannot be replaced or removed.
	ErrCluster = errors.New("drs: the cluster itself cannot be changed")
)

// Model is an analysed resource tree that can take one change at a time and
// recompute only what the change can affect. A Model is not safe for
// concurrent use.
type Model struct {
	root        *node // the cluster's root resource pool
	capacity    Capacity
	warnPercent float64
	cpuMHz      int64
	refused     int // reservations admission control refused
	unmet       map[*node]*[2]*Warning
	fill        filler
}

// Analyze answers a what-if request. Invalid input is a FieldErrors naming
// each bad field; a reservation that cannot be met is not an error but a
// RESERVATION_UNMET warning on its node.
func Analyze(req Request) (Result, error) {
	m, err := NewModel(req)
	if err != nil {
		return Result{}, err
	}
	return m.Result(), nil
}

// NewModel validates and analyses req.
func NewModel(req Request) (*Model, error) {
	var errs collector
	checkRange(&errs, "capacity.cpu_mhz", req.Capacity.CPUMHz, 0, MaxAmount)
	checkRange(&errs, "capacity.memory_mb", req.Capacity.MemoryMB, 0, MaxAmount)
	checkRange(&errs, "capacity.cpu_mhz_per_vcpu", req.Capacity.CPUMHzPerVCPU, 0, maxCPUMHz)
	warn := DefaultShareWarningPercent
	if req.ShareWarningPercent != nil {
		warn = *req.ShareWarningPercent
		if !(warn >= 0 && warn <= 100) {
			errs.add(nil, "share_warning_percent", warn, "must be 0 to 100")
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	m := &Model{capacity: req.Capacity, warnPercent: warn}
	if m.capacity.CPUMHzPerVCPU == 0 {
		m.capacity.CPUMHzPerVCPU = DefaultCPUMHzPerVCPU
	}
	m.cpuMHz = m.capacity.CPUMHzPerVCPU
	m.root = &node{
		name:       "cluster",
		scaleBelow: req.ScaleDescendantsShares,
		admitted:   [2]int64{req.Capacity.CPUMHz, req.Capacity.MemoryMB},
		limit:      [2]int64{req.Capacity.CPUMHz, req.Capacity.MemoryMB},
		ent:        [2]int64{req.Capacity.CPUMHz, req.Capacity.MemoryMB},
	}
	c := newCompiler(m.cpuMHz, req.Children, 1)
	c.compileAll(m.root, newFieldPath(), req.Children, 0)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	m.recomputeAll()
	return m, nil
}

func checkRange(c *collector, field string, v, lo, hi int64) {
	if v < lo || v > hi {
		c.add(nil, field, v, "must be %d to %d", lo, hi)
	}
}

// Add appends n as the last child of the pool at parent (an index path from
// the top of the tree; empty means the cluster).
func (m *Model) Add(parent []int, n Node) error {
	p, err := m.lookup(parent)
	if err != nil {
		return err
	}
	if p != m.root && p.kind != KindResourcePool {
		return fmt.Errorf("%w: %s is a %s", ErrNotPool, namePath(p), p.kind)
	}
	x, err := m.compileOne(p, append(parent[:len(parent):len(parent)], len(p.children)), &n)
	if err != nil {
		return err
	}
	p.children = append(p.children, x)
	m.update(p, nil, x)
	return nil
}

// Replace puts n (and its subtree) in place of the node at path.
func (m *Model) Replace(path []int, n Node) error {
	old, err := m.lookup(path)
	if err != nil {
		return err
	}
	if old == m.root {
		return ErrCluster
	}
	p := old.parent
	x, err := m.compileOne(p, path, &n)
	if err != nil {
		return err
	}
	p.children[path[len(path)-1]] = x
	m.update(p, old, x)
	return nil
}

// Remove deletes the node at path and its subtree.
func (m *Model) Remove(path []int) error {
	old, err := m.lookup(path)
	if err != nil {
		return err
	}
	if old == m.root {
		return ErrCluster
	}
	p := old.parent
	i := path[len(path)-1]
	p.children = append(p.children[:i:i], p.children[i+1:]...)
	m.update(p, old, nil)
	return nil
}

func (m *Model) lookup(path []int) (*node, error) {
	n := m.root
	for depth, i := range path {
		if i < 0 || i >= len(n.children) {
			return nil, fmt.Errorf("%w: %s has no child %d (path %v)", ErrNotFound, namePath(n), i, path[:depth+1])
		}
		n = n.children[i]
	}
	return n, nil
}

// compileOne validates n as it would sit at path under parent; its field
// errors name that position.
func (m *Model) compileOne(parent *node, path []int, n *Node) (*node, error) {
	fp := newFieldPath()
	for _, i := range path {
		fp = fp.children(i)
	}
	depth := len(path)
	c := newCompiler(m.cpuMHz, []Node{*n}, depth)
	x := c.compile(parent, fp, n, depth)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return x, nil
}

// recomputeAll derives everything from the configuration.
func (m *Model) recomputeAll() {
	computeShares(m.root)
	m.refused = 0
	clear(m.unmet)
	resetAdmission(m.root)
	for _, c := range m.root.children {
		m.admit(c)
	}
	computeCapacities(m.root)
	m.fillSubtree(m.root)
}

// update recomputes after the children of p changed: old (if any) left, x
// (if any) arrived. It touches the path from the cluster to p, the siblings
// along it, and below them only the subtrees whose entitlement moved. When
// admission control has refused anything, before or because of the change,
// who gets refused depends on the order of the whole tree, so it starts over.
func (m *Model) update(p, old, x *node) {
	if m.refused > 0 {
		m.recomputeAll()
		return
	}
	if old != nil {
		for d := range 2 {
			applyHeldDelta(p, d, -old.held[d])
		}
	}
	if x != nil {
		computeShares(x)
		m.admit(x)
		if m.refused > 0 {
			m.recomputeAll()
			return
		}
		computeCapacities(x)
	}
	var chain []*node
	for a := p; a != nil; a = a.parent {
		a.shares = effectiveShares(a)
		if a != m.root {
			computeCapacity(a)
		}
		chain = append(chain, a)
	}
	// chain runs from p up to the cluster; refill from the top down.
	for k := len(chain) - 1; k >= 0; k-- {
		a := chain[k]
		var next *node
		if k > 0 {
			next = chain[k-1]
		}
		before := make([][2]int64, len(a.children))
		for i, c := range a.children {
			before[i] = c.ent
		}
		m.fillChildren(a)
		for i, c := range a.children {
			if c != next && (c == x || c.ent != before[i]) {
				m.fillSubtree(c)
			}
		}
	}
}

// computeShares sets effective shares bottom-up.
func computeShares(n *node) {
	for _, c := range n.children {
		computeShares(c)
	}
	n.shares = effectiveShares(n)
}

// effectiveShares implements scalable shares: a pool below one with
// scale_descendants_shares has, unless its level is CUSTOM, the sum of its
// children's shares times its level's ratio to NORMAL (LOW ½, HIGH 2). An
// empty pool keeps its fixed value so that it is not starved to nothing.
func effectiveShares(n *node) [2]int64 {
	if n.kind != KindResourcePool || !n.scaled || n.level == LevelCustom || len(n.children) == 0 {
		return n.static
	}
	var out [2]int64
	for d := range 2 {
		var sum int64
		for _, c := range n.children {
			sum = min(sum+c.shares[d], maxEffectiveShares)
		}
		out[d] = max(1, min(sum*levelMultiplier(n.level)/2, maxEffectiveShares))
	}
	return out
}

func resetAdmission(n *node) {
	if n.parent != nil {
		n.admitted = [2]int64{}
	}
	n.used, n.held = [2]int64{}, [2]int64{}
	for _, c := range n.children {
		resetAdmission(c)
	}
}

// admit runs admission control over n's subtree in tree order, each node's
// own reservation before its children's: a reservation is admitted when it
// fits in the parent's reservation, borrowing up through expandable pools.
func (m *Model) admit(n *node) {
	for d := range 2 {
		n.admitted[d], n.used[d] = 0, 0
		if r := n.reservation[d]; r > 0 {
			if s, ok := tryHeldDelta(n.parent, d, r); ok {
				applyHeldDelta(n.parent, d, r)
				n.admitted[d] = r
			} else {
				m.refuse(n, d, unmetWarning(n, d, r, s))
			}
		}
		n.held[d] = n.admitted[d]
	}
	for _, c := range n.children {
		m.admit(c)
	}
}

func (m *Model) refuse(n *node, d int, w *Warning) {
	if m.unmet == nil {
		m.unmet = make(map[*node]*[2]*Warning)
	}
	if m.unmet[n] == nil {
		m.unmet[n] = new([2]*Warning)
	}
	m.unmet[n][d] = w
	m.refused++
}

// shortage is where a reservation ran out of room.
type shortage struct {
	missing int64
	at      *node
	byLimit bool
}

// tryHeldDelta reports whether the children of p can hold delta more.
func tryHeldDelta(p *node, d int, delta int64) (shortage, bool) {
	for ; p != nil; p = p.parent {
		used := p.used[d] + delta
		if !p.expandable {
			if used > p.admitted[d] {
				return shortage{missing: used - p.admitted[d], at: p}, false
			}
			return shortage{}, true
		}
		held := max(p.admitted[d], used)
		if held > p.limit[d] {
			return shortage{missing: held - p.limit[d], at: p, byLimit: true}, false
		}
		delta = held - p.held[d]
		if delta == 0 {
			return shortage{}, true
		}
	}
	return shortage{}, true
}

// applyHeldDelta records that the children of p hold delta more (or less):
// an expandable pool passes what it cannot cover itself on to its parent.
func applyHeldDelta(p *node, d int, delta int64) {
	for ; p != nil && delta != 0; p = p.parent {
		p.used[d] += delta
		if !p.expandable {
			return
		}
		held := max(p.admitted[d], p.used[d])
		delta = held - p.held[d]
		p.held[d] = held
	}
}

func unmetWarning(n *node, d int, r int64, s shortage) *Warning {
	res, unit := resourceNames[d], resourceUnits[d]
	var where string
	switch {
	case s.at.parent == nil:
		where = fmt.Sprintf("the cluster (capacity %d %s, %d %s already reserved); add capacity or lower other reservations",
			s.at.admitted[d], unit, s.at.used[d], unit)
	case s.byLimit:
		where = fmt.Sprintf("%s, whose limit of %d %s it would pass; raise that limit or lower reservations below it",
			namePath(s.at), s.at.limit[d], unit)
	default:
		where = fmt.Sprintf("%s, which is not expandable and has %d of its own %d %s reserved; make it expandable or raise its reservation",
			namePath(s.at), s.at.used[d], s.at.admitted[d], unit)
	}
	return &Warning{
		Code:     WarnReservationUnmet,
		Resource: res,
		Missing:  s.missing,
		At:       namePath(s.at),
		Message: fmt.Sprintf("%s reservation of %d %s for %s cannot be met: %d %s short at %s. Until then it competes by shares alone.",
			res, r, unit, namePath(n), s.missing, unit, where),
	}
}

// namePath names a node by the names from the top of the tree.
func namePath(n *node) string {
	if n.parent == nil {
		return n.name
	}
	var names []string
	for ; n.parent != nil; n = n.parent {
		names = append(names, n.name)
	}
	var b strings.Builder
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteString(names[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	return b.String()
}

func computeCapacities(n *node) {
	for _, c := range n.children {
		computeCapacities(c)
	}
	if n.parent != nil {
		computeCapacity(n)
	}
}

// computeCapacity sets what n can absorb: the smallest of its limit, its
// demand and its size, but never less than the reservation it holds. A pool
// demands what its children can absorb, or everything when it has none.
func computeCapacity(n *node) {
	for d := range 2 {
		capacity, bound := n.size[d], boundSize
		demand := n.demand[d]
		if demand < 0 && n.kind == KindResourcePool && len(n.children) > 0 {
			demand = 0
			for _, c := range n.children {
				demand = satAdd(demand, c.capacity[d])
			}
		}
		if n.limit[d] < capacity {
			capacity, bound = n.limit[d], boundLimit
		}
		if demand >= 0 && demand < capacity {
			capacity, bound = demand, boundDemand
		}
		if capacity == unlimited {
			bound = boundShares
		}
		if n.held[d] > capacity {
			capacity, bound = n.held[d], boundReservation
		}
		n.capacity[d], n.capBound[d] = capacity, bound
	}
}

func satAdd(a, b int64) int64 {
	if a > unlimited-b {
		return unlimited
	}
	return a + b
}

// fillSubtree divides n's entitlement among its descendants.
func (m *Model) fillSubtree(n *node) {
	if len(n.children) == 0 {
		return
	}
	m.fillChildren(n)
	for _, c := range n.children {
		m.fillSubtree(c)
	}
}

// fillChildren divides p's entitlement among its children.
func (m *Model) fillChildren(p *node) {
	k := len(p.children)
	if k == 0 {
		return
	}
	f := &m.fill
	for d := range 2 {
		f.reset(k)
		for i, c := range p.children {
			f.weight[i] = float64(c.shares[d])
			f.floor[i] = c.held[d]
			f.ceiling[i] = c.capacity[d]
		}
		f.divide(p.ent[d])
		for i, c := range p.children {
			c.ent[d] = f.result[i]
			switch {
			case f.real[i] >= float64(c.capacity[d]) && c.capacity[d] != unlimited:
				c.bound[d] = c.capBound[d]
			case c.held[d] > 0 && f.real[i] <= float64(c.held[d]):
				c.bound[d] = boundReservation
			default:
				c.bound[d] = boundShares
			}
		}
	}
}
