package drs

import (
	"encoding/json"
	"strconv"
)

// Kind is the type of a node in the resource tree.
type Kind string

const (
	KindVM           Kind = "VM"
	KindPod          Kind = "POD"
	KindResourcePool Kind = "RESOURCE_POOL"
)

// Level is a shares level. LOW, NORMAL and HIGH stand in the ratio 1:2:4.
type Level string

const (
	LevelLow    Level = "LOW"
	LevelNormal Level = "NORMAL"
	LevelHigh   Level = "HIGH"
	LevelCustom Level = "CUSTOM"
)

// QoSClass is a pod's Kubernetes quality-of-service class.
type QoSClass string

const (
	QoSBestEffort QoSClass = "BestEffort"
	QoSBurstable  QoSClass = "Burstable"
	QoSGuaranteed QoSClass = "Guaranteed"
)

// Bound names what decided a node's entitlement.
type Bound string

const (
	// BoundShares: the node got its share-based portion; nothing capped it.
	BoundShares Bound = "SHARES"
	// BoundReservation: its admitted reservation is more than shares would give.
	BoundReservation Bound = "RESERVATION"
	// BoundLimit, BoundDemand, BoundSize: capped by its limit, by what it (or,
	// for a pool, its children) can use, or by a VM's or pod's configured size.
	BoundLimit  Bound = "LIMIT"
	BoundDemand Bound = "DEMAND"
	BoundSize   Bound = "SIZE"
)

// Warning codes.
const (
	// WarnLowShare: a resource pool's share among its siblings is below the
	// request's threshold, so under contention it gets little.
	WarnLowShare = "LOW_SHARE"
	// WarnReservationUnmet: admission control refused a reservation; the node
	// competes by shares alone.
	WarnReservationUnmet = "RESERVATION_UNMET"
)

// Defaults a request may leave out.
const (
	// DefaultCPUMHzPerVCPU is the speed of one vCPU when the request does not
	// say: it turns vCPU counts and Kubernetes CPU quantities into MHz.
	DefaultCPUMHzPerVCPU = 2000
	// DefaultShareWarningPercent is the share below which a pool is flagged.
	DefaultShareWarningPercent = 10.0
)

// Request is a what-if question: a cluster's capacity and what runs in it.
type Request struct {
	Capacity Capacity `json:"capacity"`
	// ScaleDescendantsShares turns on scalable shares for every resource pool
	// in the tree (the cluster root pool's setting).
	ScaleDescendantsShares bool `json:"scale_descendants_shares,omitempty"`
	// ShareWarningPercent is the share percentage below which a resource pool
	// gets a LOW_SHARE warning; nil means DefaultShareWarningPercent, 0 turns
	// the warning off.
	ShareWarningPercent *float64 `json:"share_warning_percent,omitempty"`
	Children            []Node   `json:"children"`
}

// Capacity is what the cluster's root resource pool has to give.
type Capacity struct {
	CPUMHz   int64 `json:"cpu_mhz"`
	MemoryMB int64 `json:"memory_mb"`
	// CPUMHzPerVCPU is the speed of one vCPU (a host core); 0 means
	// DefaultCPUMHzPerVCPU.
	CPUMHzPerVCPU int64 `json:"cpu_mhz_per_vcpu,omitempty"`
}

// Node is a VM, a vSphere Pod or a resource pool.
type Node struct {
	Name string `json:"name"`
	Type Kind   `json:"type"`
	// CPUCount and MemoryMB are a VM's configured size. Pods are sized from
	// their containers; a resource pool always counts as 4 vCPU / 16 GB.
	CPUCount   int         `json:"cpu_count,omitempty"`
	MemoryMB   int64       `json:"memory_mb,omitempty"`
	Containers []Container `json:"containers,omitempty"`
	// Shares defaults to NORMAL.
	Shares *Shares `json:"shares,omitempty"`
	// Reservation is what the node must get; a pod's comes from its
	// containers' requests and may not be given here.
	Reservation *Amount `json:"reservation,omitempty"`
	// Limit caps the node; absent or -1 means unlimited. A pod's comes from
	// its containers' limits and may not be given here.
	Limit *Amount `json:"limit,omitempty"`
	// Demand is what the node would use if it could; it defaults to a VM's or
	// pod's size and to what a pool's children can use.
	Demand *Amount `json:"demand,omitempty"`
	// ExpandableReservation lets a pool borrow unreserved capacity from its
	// ancestors for its children's reservations; it defaults to true, as for
	// new pools and every namespace's pool in vSphere.
	ExpandableReservation *bool `json:"expandable_reservation,omitempty"`
	// ScaleDescendantsShares makes the shares of every pool below this one
	// follow what they contain.
	ScaleDescendantsShares bool   `json:"scale_descendants_shares,omitempty"`
	Children               []Node `json:"children,omitempty"`
}

// Shares is a shares setting. Value is the number of shares for CUSTOM (CPU
// and memory alike unless MemoryValue is given) and ignored for the other
// levels, as vSphere ignores it.
type Shares struct {
	Level       Level `json:"level"`
	Value       int64 `json:"value,omitempty"`
	MemoryValue int64 `json:"memory_value,omitempty"`
}

// Amount is a CPU and memory quantity; an absent field means "not set".
type Amount struct {
	CPUMHz   *int64 `json:"cpu_mhz,omitempty"`
	MemoryMB *int64 `json:"memory_mb,omitempty"`
}

// Container is one container of a vSphere Pod. Requests and limits are
// optional: omitzero leaves them out of the JSON when empty, and omitempty
// (which does nothing for a struct when encoding) tells the API's strict
// decoder that a container may come without them.
type Container struct {
	Name     string    `json:"name,omitempty"`
	Requests Resources `json:"requests,omitempty,omitzero"`
	Limits   Resources `json:"limits,omitempty,omitzero"`
}

// Resources holds Kubernetes quantities ("500m", "1.5", "512Mi", "1G").
type Resources struct {
	CPU    Quantity `json:"cpu,omitempty"`
	Memory Quantity `json:"memory,omitempty"`
}

// Quantity is a Kubernetes resource quantity kept as written. Like
// Kubernetes, it accepts a JSON number as well as a string.
type Quantity string

// UnmarshalJSON accepts "500m" or 2.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*q = Quantity(n)
	return nil
}

// Size is the virtual hardware of a VM or pod.
type Size struct {
	CPUCount int   `json:"cpu_count"`
	MemoryMB int64 `json:"memory_mb"`
}

// Result answers a Request with the same tree.
type Result struct {
	// Capacity is the request's, with defaults filled in.
	Capacity Capacity `json:"capacity"`
	// CPUReservedMHz and MemoryReservedMB are the cluster's used reservation.
	CPUReservedMHz   int64        `json:"cpu_reserved_mhz"`
	MemoryReservedMB int64        `json:"memory_reserved_mb"`
	Children         []NodeResult `json:"children"`
}

// NodeResult is what one node gets.
type NodeResult struct {
	Name string `json:"name"`
	Type Kind   `json:"type"`
	// CPUShares and MemoryShares are the node's effective share values;
	// the percentages are of the shares of it and its siblings.
	CPUShares          int64   `json:"cpu_shares"`
	MemoryShares       int64   `json:"memory_shares"`
	CPUSharePercent    float64 `json:"cpu_share_percent"`
	MemorySharePercent float64 `json:"memory_share_percent"`
	// CPUReservedMHz and MemoryReservedMB are what the node holds in its
	// parent: its admitted reservation and, for an expandable pool, whatever
	// it borrowed for its children's.
	CPUReservedMHz   int64 `json:"cpu_reserved_mhz"`
	MemoryReservedMB int64 `json:"memory_reserved_mb"`
	// CPUEntitlementMHz and MemoryEntitlementMB are what the node gets when
	// every node demands what it can.
	CPUEntitlementMHz   int64 `json:"cpu_entitlement_mhz"`
	MemoryEntitlementMB int64 `json:"memory_entitlement_mb"`
	CPUBound            Bound `json:"cpu_bound"`
	MemoryBound         Bound `json:"memory_bound"`
	// QoSClass is set for pods, Size for VMs and pods.
	QoSClass QoSClass     `json:"qos_class,omitempty"`
	Size     Size         `json:"size,omitzero"`
	Warnings []Warning    `json:"warnings,omitempty"`
	Children []NodeResult `json:"children,omitempty"`
}

// Warning is something about a node a person can act on.
type Warning struct {
	Code string `json:"code"`
	// Resource is "cpu" or "memory".
	Resource string `json:"resource"`
	Message  string `json:"message"`
	// Missing (MHz or MB) and At (the pool, or "cluster", that ran short) are
	// set for RESERVATION_UNMET.
	Missing int64  `json:"missing,omitempty"`
	At      string `json:"at,omitempty"`
}

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }
