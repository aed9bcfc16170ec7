package drs

import (
	"math"
	"strings"
)

// Bounds on input, chosen so that no sum in the model can overflow and every
// amount is exact in a float64.
const (
	MaxVCPUs      = 4096
	MaxMemoryMB   = 1 << 32 // 4 PB
	MaxAmount     = 1 << 40 // MHz or MB, per node and for the cluster
	MaxShares     = 1 << 40 // a CUSTOM value; scaled shares saturate at maxEffectiveShares
	MaxDepth      = 64
	MaxContainers = 256
	maxCPUMHz     = 1 << 20 // per vCPU
)

// maxEffectiveShares is where scaled share sums saturate; beyond 2^53 a
// float64 weight would no longer be exact.
const maxEffectiveShares = 1 << 53

// unlimited stands for "no cap" in limits, demands and sizes.
const unlimited = math.MaxInt64

// Per-level share multipliers: LOW:NORMAL:HIGH = 1:2:4, and NORMAL is 1000
// CPU shares per vCPU and 10 memory shares per MB.
const (
	cpuSharesPerVCPUHalfNormal = 500
	memSharesPerMBHalfNormal   = 5
	poolVCPUs                  = 4
	poolMemoryMB               = 16 * 1024
)

// LevelShares is the CPU and memory shares vSphere gives a VM of size at a level other than
// CUSTOM (what a VM's configuration reports for it).
func LevelShares(l Level, size Size) (cpuShares, memoryShares int64) {
	m := levelMultiplier(l)
	return m * cpuSharesPerVCPUHalfNormal * int64(size.CPUCount), m * memSharesPerMBHalfNormal * size.MemoryMB
}

func levelMultiplier(l Level) int64 {
	switch l {
	case LevelLow:
		return 1
	case LevelHigh:
		return 4
	default:
		return 2
	}
}

const (
	cpu = 0
	mem = 1
)

var resourceNames = [2]string{"cpu", "memory"}
var resourceUnits = [2]string{"MHz", "MB"}

// node is the model's compiled form of a Node, with everything derived.
type node struct {
	name     string
	kind     Kind
	parent   *node
	children []*node

	level      Level
	static     [2]int64 // shares from level and size, or the CUSTOM values
	scaled     bool     // an ancestor turned on scalable shares (they apply to pools)
	scaleBelow bool
	expandable bool

	reservation [2]int64 // configured
	limit       [2]int64 // unlimited when not set
	demand      [2]int64 // -1 when not set
	size        [2]int64 // MHz and MB a VM or pod can use; unlimited for pools
	vm          Size
	qos         QoSClass

	// Derived: effective shares; what the node can absorb, and why; admitted
	// reservation; (pools) the sum of the children's held reservations; what
	// it holds in its parent; its entitlement and what decided it.
	shares   [2]int64
	capacity [2]int64
	capBound [2]boundCode
	admitted [2]int64
	used     [2]int64
	held     [2]int64
	ent      [2]int64
	bound    [2]boundCode
}

// boundCode is a Bound in one byte: the model holds one per node and resource.
type boundCode uint8

const (
	boundShares boundCode = iota
	boundReservation
	boundLimit
	boundDemand
	boundSize
)

func (b boundCode) Bound() Bound {
	return [...]Bound{BoundShares, BoundReservation, BoundLimit, BoundDemand, BoundSize}[b]
}

// compiler validates Nodes and turns them into nodes, allocated from slabs
// sized for the whole tree.
type compiler struct {
	errs      collector
	cpuMHz    int64 // per vCPU
	slab      []node
	childSlab []*node
}

func newCompiler(cpuMHz int64, nodes []Node, depth int) *compiler {
	total := countNodes(nodes, depth)
	return &compiler{cpuMHz: cpuMHz, slab: make([]node, total), childSlab: make([]*node, total)}
}

// countNodes counts nodes at depth and below, as far as MaxDepth.
func countNodes(nodes []Node, depth int) (n int) {
	if depth > MaxDepth {
		return 0
	}
	for i := range nodes {
		n += 1 + countNodes(nodes[i].Children, depth+1)
	}
	return n
}

func (c *compiler) alloc() *node {
	if len(c.slab) == 0 {
		c.slab = make([]node, 64)
	}
	n := &c.slab[0]
	c.slab = c.slab[1:]
	return n
}

func (c *compiler) allocChildren(k int) []*node {
	if k == 0 {
		return nil
	}
	if len(c.childSlab) < k {
		c.childSlab = make([]*node, max(k, 64))
	}
	s := c.childSlab[:0:k]
	c.childSlab = c.childSlab[k:]
	return s
}

// compileAll compiles nodes as the children of parent; depth is parent's.
func (c *compiler) compileAll(parent *node, path fieldPath, nodes []Node, depth int) {
	parent.children = c.allocChildren(len(nodes))
	for i := range nodes {
		if c.errs.full() {
			return
		}
		n := c.compile(parent, path.children(i), &nodes[i], depth+1)
		parent.children = append(parent.children, n)
	}
}

func (c *compiler) compile(parent *node, path fieldPath, in *Node, depth int) *node {
	n := c.alloc()
	n.name = in.Name
	n.kind = in.Type
	n.parent = parent
	n.scaled = parent.scaled || parent.scaleBelow
	n.demand = [2]int64{-1, -1}
	n.limit = [2]int64{unlimited, unlimited}
	n.size = [2]int64{unlimited, unlimited}

	if depth > MaxDepth {
		c.errs.add(path, "", nil, "the tree is deeper than %d levels", MaxDepth)
		return n
	}
	if in.Name == "" {
		c.errs.add(path, "name", nil, "required")
	}
	switch in.Type {
	case KindVM:
		c.compileVM(n, path, in)
	case KindPod:
		c.compilePod(n, path, in)
	case KindResourcePool:
		c.compilePool(n, path, in)
	case "":
		c.errs.add(path, "type", nil, "required: VM, POD or RESOURCE_POOL")
	default:
		c.errs.add(path, "type", string(in.Type), "must be VM, POD or RESOURCE_POOL")
	}
	c.compileShares(n, path, in.Shares)
	if in.Demand != nil {
		c.amount(&n.demand, path, "demand", in.Demand, false)
	}
	if in.Type != KindPod {
		if in.Reservation != nil {
			var r [2]int64
			c.amount(&r, path, "reservation", in.Reservation, false)
			for d := range 2 {
				if r[d] > 0 {
					n.reservation[d] = r[d]
				}
			}
		}
		if in.Limit != nil {
			c.amount(&n.limit, path, "limit", in.Limit, true)
		}
	}
	for d := range 2 {
		field := [2]string{"reservation.cpu_mhz", "reservation.memory_mb"}[d]
		if n.reservation[d] > n.limit[d] {
			c.errs.add(path, field, n.reservation[d], "exceeds the limit of %d %s", n.limit[d], resourceUnits[d])
		} else if n.reservation[d] > n.size[d] && in.Type == KindVM {
			c.errs.add(path, field, n.reservation[d], "exceeds the VM's size of %d %s", n.size[d], resourceUnits[d])
		}
	}
	if in.Type == KindResourcePool {
		c.compileAll(n, path, in.Children, depth)
	}
	return n
}

func (c *compiler) compileVM(n *node, path fieldPath, in *Node) {
	if in.CPUCount < 1 || in.CPUCount > MaxVCPUs {
		c.errs.add(path, "cpu_count", in.CPUCount, "a VM needs 1 to %d vCPUs", MaxVCPUs)
	}
	if in.MemoryMB < 1 || in.MemoryMB > MaxMemoryMB {
		c.errs.add(path, "memory_mb", in.MemoryMB, "a VM needs 1 to %d MB", int64(MaxMemoryMB))
	}
	c.forbid(path, in, "containers", len(in.Containers) > 0)
	c.forbidPoolOnly(path, in)
	n.vm = Size{CPUCount: min(max(in.CPUCount, 0), MaxVCPUs), MemoryMB: min(max(in.MemoryMB, 0), MaxMemoryMB)}
	n.size = [2]int64{int64(n.vm.CPUCount) * c.cpuMHz, n.vm.MemoryMB}
}

func (c *compiler) compilePod(n *node, path fieldPath, in *Node) {
	c.forbid(path, in, "cpu_count", in.CPUCount != 0)
	c.forbid(path, in, "memory_mb", in.MemoryMB != 0)
	c.forbid(path, in, "reservation", in.Reservation != nil)
	c.forbid(path, in, "limit", in.Limit != nil)
	c.forbidPoolOnly(path, in)
	a := sizePod(&c.errs, path, in.Containers).allocation(c.cpuMHz)
	n.qos = a.QoS
	n.vm = a.Size
	n.size = [2]int64{int64(a.Size.CPUCount) * c.cpuMHz, a.Size.MemoryMB}
	n.reservation = [2]int64{a.ReservationMHz, a.ReservationMB}
	if a.LimitMHz >= 0 {
		n.limit[cpu] = a.LimitMHz
	}
	if a.LimitMB >= 0 {
		n.limit[mem] = a.LimitMB
	}
}

func (c *compiler) compilePool(n *node, path fieldPath, in *Node) {
	c.forbid(path, in, "cpu_count", in.CPUCount != 0)
	c.forbid(path, in, "memory_mb", in.MemoryMB != 0)
	c.forbid(path, in, "containers", len(in.Containers) > 0)
	n.expandable = in.ExpandableReservation == nil || *in.ExpandableReservation
	n.scaleBelow = in.ScaleDescendantsShares
}

func (c *compiler) forbidPoolOnly(path fieldPath, in *Node) {
	c.forbid(path, in, "expandable_reservation", in.ExpandableReservation != nil)
	c.forbid(path, in, "scale_descendants_shares", in.ScaleDescendantsShares)
	c.forbid(path, in, "children", len(in.Children) > 0)
}

var forbiddenWhy = map[Kind]map[string]string{
	KindVM: {
		"containers":               "only a POD has containers",
		"expandable_reservation":   "only a RESOURCE_POOL has an expandable reservation",
		"scale_descendants_shares": "only a RESOURCE_POOL scales its descendants' shares",
		"children":                 "only a RESOURCE_POOL has children",
	},
	KindPod: {
		"cpu_count":                "a pod is sized from its containers",
		"memory_mb":                "a pod is sized from its containers",
		"reservation":              "a pod's reservation comes from its containers' requests",
		"limit":                    "a pod's limit comes from its containers' limits",
		"expandable_reservation":   "only a RESOURCE_POOL has an expandable reservation",
		"scale_descendants_shares": "only a RESOURCE_POOL scales its descendants' shares",
		"children":                 "only a RESOURCE_POOL has children",
	},
	KindResourcePool: {
		"cpu_count":  "a resource pool has no size of its own (it counts as 4 vCPU / 16 GB for shares)",
		"memory_mb":  "a resource pool has no size of its own (it counts as 4 vCPU / 16 GB for shares)",
		"containers": "only a POD has containers",
	},
}

func (c *compiler) forbid(path fieldPath, in *Node, field string, present bool) {
	if present {
		c.errs.add(path, field, nil, "not allowed on a %s: %s", in.Type, forbiddenWhy[in.Type][field])
	}
}

// amount reads an Amount into dst, leaving absent fields alone; -1 is
// accepted as "unlimited" when allowUnlimited.
func (c *compiler) amount(dst *[2]int64, path fieldPath, name string, a *Amount, allowUnlimited bool) {
	for d, p := range [2]*int64{a.CPUMHz, a.MemoryMB} {
		if p == nil {
			continue
		}
		switch v := *p; {
		case v == -1 && allowUnlimited:
			dst[d] = unlimited
		case v < 0 || v > MaxAmount:
			c.errs.add(path, name+"."+[2]string{"cpu_mhz", "memory_mb"}[d], v, "must be 0 to %d %s", int64(MaxAmount), resourceUnits[d])
		default:
			dst[d] = v
		}
	}
}

func (c *compiler) compileShares(n *node, path fieldPath, s *Shares) {
	n.level = LevelNormal
	if s != nil {
		// vSphere's SOAP API spells levels in lower case, its REST API in
		// upper case; take either.
		switch Level(strings.ToUpper(string(s.Level))) {
		case LevelLow, LevelNormal, LevelHigh:
			n.level = Level(strings.ToUpper(string(s.Level)))
		case LevelCustom:
			n.level = LevelCustom
			if s.Value < 1 || s.Value > MaxShares {
				c.errs.add(path, "shares.value", s.Value, "CUSTOM shares need a value from 1 to %d", int64(MaxShares))
			}
			if s.MemoryValue < 0 || s.MemoryValue > MaxShares {
				c.errs.add(path, "shares.memory_value", s.MemoryValue, "must be 1 to %d, or absent to use value", int64(MaxShares))
			}
			n.static = [2]int64{s.Value, s.Value}
			if s.MemoryValue > 0 {
				n.static[mem] = s.MemoryValue
			}
		case "":
			c.errs.add(path, "shares.level", nil, "required: LOW, NORMAL, HIGH or CUSTOM")
		default:
			c.errs.add(path, "shares.level", string(s.Level), "must be LOW, NORMAL, HIGH or CUSTOM")
		}
	}
	vcpus, memoryMB := int64(n.vm.CPUCount), n.vm.MemoryMB
	if n.kind == KindResourcePool {
		vcpus, memoryMB = poolVCPUs, poolMemoryMB
	}
	if n.level != LevelCustom {
		n.static[cpu], n.static[mem] = LevelShares(n.level, Size{CPUCount: int(vcpus), MemoryMB: memoryMB})
	}
	for d := range 2 {
		n.static[d] = max(n.static[d], 1)
	}
}
