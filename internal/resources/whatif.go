package resources

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/vapi"
)

// ChangeAction is what a what-if change does to the live tree.
type ChangeAction string

// The what-if changes.
const (
	// ActionAdd adds node (with its children) to the pool named by path or namespace; by default
	// to the Namespaces pool.
	ActionAdd ChangeAction = "ADD"
	// ActionAddNamespaces adds count namespaces to the Namespaces pool: empty NORMAL pools with
	// expandable reservations, as vSphere makes them, or copies of node when it is given.
	ActionAddNamespaces ChangeAction = "ADD_NAMESPACES"
	// ActionRemove removes the node named by path or namespace, and everything in it.
	ActionRemove ChangeAction = "REMOVE"
	// ActionSet changes the shares, reservation, limit or expandable reservation of the node
	// named by path or namespace.
	ActionSet ChangeAction = "SET"
)

// EnumValues lists the actions for the decoder.
func (ChangeAction) EnumValues() []string {
	return []string{string(ActionAdd), string(ActionAddNamespaces), string(ActionRemove), string(ActionSet)}
}

// WhatIfSpec is the body of POST /api/wcpd/clusters/{cluster}/resources: changes applied in
// order to a copy of the live tree (a later change sees the earlier ones).
type WhatIfSpec struct {
	Changes []Change `json:"changes"`
}

// Change is one what-if change. Which fields it takes depends on Action.
type Change struct {
	Action ChangeAction `json:"action"`
	// Namespace names a namespace's pool; Path names any node by the names from the top of the
	// cluster down, separated by "/" ("Namespaces/ns-a/web-0"; a "/" inside a name is written
	// %2F), or by its id.
	Namespace *string `json:"namespace,omitempty"`
	Path      *string `json:"path,omitempty"`
	// Count is how many namespaces ADD_NAMESPACES adds (1 to MaxAddedNamespaces).
	Count *int `json:"count,omitempty"`
	// Node is what ADD adds, or the namespace ADD_NAMESPACES copies (its name, numbered, names
	// the copies).
	Node *drs.Node `json:"node,omitempty"`
	// Shares, Reservation, Limit and ExpandableReservation are what SET changes; fields of
	// Reservation and Limit that are left out keep their values.
	Shares                *drs.Shares `json:"shares,omitempty"`
	Reservation           *drs.Amount `json:"reservation,omitempty"`
	Limit                 *drs.Amount `json:"limit,omitempty"`
	ExpandableReservation *bool       `json:"expandable_reservation,omitempty"`
}

// MaxAddedNamespaces bounds ADD_NAMESPACES.
const MaxAddedNamespaces = 1000

// WhatIfResult answers a what-if: the live analysis, the analysis after the changes, and every
// node whose figures differ.
type WhatIfResult struct {
	Before  LiveAnalysis `json:"before"`
	After   LiveAnalysis `json:"after"`
	Changes []NodeChange `json:"changes"`
}

// NodeChange is how one node fares after the changes.
type NodeChange struct {
	// Path is the node's names from the top of the cluster, as a change's path takes them.
	Path string   `json:"path"`
	ID   string   `json:"id,omitempty"`
	Type drs.Kind `json:"type"`
	// Change is ADDED, REMOVED or CHANGED.
	Change string   `json:"change"`
	Before *Figures `json:"before,omitempty"`
	After  *Figures `json:"after,omitempty"`
}

// Figures are what the model says of a node.
type Figures struct {
	CPUShares           int64         `json:"cpu_shares"`
	MemoryShares        int64         `json:"memory_shares"`
	CPUSharePercent     float64       `json:"cpu_share_percent"`
	MemorySharePercent  float64       `json:"memory_share_percent"`
	CPUReservedMHz      int64         `json:"cpu_reserved_mhz"`
	MemoryReservedMB    int64         `json:"memory_reserved_mb"`
	CPUEntitlementMHz   int64         `json:"cpu_entitlement_mhz"`
	MemoryEntitlementMB int64         `json:"memory_entitlement_mb"`
	CPUBound            drs.Bound     `json:"cpu_bound"`
	MemoryBound         drs.Bound     `json:"memory_bound"`
	Warnings            []drs.Warning `json:"warnings,omitempty"`
}

// whatIf serves POST /api/wcpd/clusters/{cluster}/resources.
func (f *Family) whatIf(c *vapi.Call) (any, error) {
	var spec WhatIfSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	for i, ch := range spec.Changes {
		if err := ch.check(fmt.Sprintf("spec.changes[%d]", i)); err != nil {
			return nil, err
		}
	}
	s, err := f.readSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	before, err := s.analyse(s.roots)
	if err != nil {
		return nil, fmt.Errorf("analysing cluster %s: %w", s.cluster.ID, err)
	}
	f.remember(s, before)
	e := &editor{s: s, top: &liveNode{kids: cloneAll(s.roots)}}
	e.namespaces = e.find(s.namespaces.id)
	for i, ch := range spec.Changes {
		if err := e.apply(fmt.Sprintf("spec.changes[%d]", i), ch); err != nil {
			return nil, err
		}
	}
	after, err := s.analyse(e.top.kids)
	var fes drs.FieldErrors
	if errors.As(err, &fes) {
		// Each change was checked on its own; what is left is the tree as a whole (too deep).
		return nil, vapi.NewError(vapi.ErrorInvalidArgument, "wcpd.resources.after_invalid",
			"The tree after the changes cannot be analysed: "+fes.Error()+".", fes.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("analysing cluster %s after the changes: %w", s.cluster.ID, err)
	}
	return WhatIfResult{Before: before.result, After: after.result, Changes: diff(before.result, after.result)}, nil
}

// editor applies changes to a copy of a snapshot's tree.
type editor struct {
	s          *snapshot
	top        *liveNode // stands for the cluster's root pool
	namespaces *liveNode
}

func cloneAll(ns []*liveNode) []*liveNode {
	out := make([]*liveNode, len(ns))
	for i, n := range ns {
		c := *n
		c.kids = cloneAll(n.kids)
		out[i] = &c
	}
	return out
}

// fromModel makes a what-if node (and its children) from the model's input.
func fromModel(n drs.Node) *liveNode {
	kids := n.Children
	n.Children = nil
	out := &liveNode{node: n}
	for _, k := range kids {
		out.kids = append(out.kids, fromModel(k))
	}
	return out
}

func (e *editor) find(id string) *liveNode {
	var walk func(*liveNode) *liveNode
	walk = func(n *liveNode) *liveNode {
		for _, k := range n.kids {
			if k.id == id {
				return k
			}
			if found := walk(k); found != nil {
				return found
			}
		}
		return nil
	}
	return walk(e.top)
}

// target is the node a change names (with its parent), by namespace or path.
func (e *editor) target(field string, ch Change, fallback *liveNode) (node, parent *liveNode, err error) {
	switch {
	case ch.Namespace != nil:
		if n := e.namespacePool(*ch.Namespace); n != nil {
			return n, e.namespaces, nil
		}
		return nil, nil, vapi.InvalidArgument(field+".namespace", *ch.Namespace,
			fmt.Sprintf("cluster %s has no namespace of that name (its Namespaces pool holds no pool so named)", e.s.cluster.ID))
	case ch.Path != nil:
		if n, p := e.resolve(*ch.Path); n != nil {
			return n, p, nil
		}
		example := []string{"Namespaces"}
		if e.namespaces != nil {
			example = []string{e.namespaces.node.Name}
			if len(e.namespaces.kids) > 0 {
				example = append(example, e.namespaces.kids[len(e.namespaces.kids)-1].node.Name)
			}
		}
		return nil, nil, vapi.InvalidArgument(field+".path", *ch.Path,
			fmt.Sprintf("names no node of cluster %s (write the names from the top of the cluster down, such as %q, or an id)",
				e.s.cluster.ID, pathOf(example...)))
	case fallback == nil:
		return nil, nil, &vapi.Error{Type: vapi.ErrorInvalidArgument, Messages: []vapi.Message{
			invalidField(field+".namespace", "an earlier change removed the Namespaces pool, so name the pool to add to")}}
	}
	return fallback, nil, nil
}

func (e *editor) namespacePool(name string) *liveNode {
	if e.namespaces == nil {
		return nil
	}
	for _, k := range e.namespaces.kids {
		if k.node.Type == drs.KindResourcePool && k.node.Name == name {
			return k
		}
	}
	return nil
}

// resolve finds a node by its path of names, or by its id.
func (e *editor) resolve(path string) (node, parent *liveNode) {
	if path != "" {
		parent, node = nil, e.top
		for _, seg := range strings.Split(path, "/") {
			name, err := url.PathUnescape(seg)
			if err != nil {
				name = seg
			}
			var next *liveNode
			for _, k := range node.kids {
				if k.node.Name == name {
					next = k
					break
				}
			}
			if next == nil {
				node = nil
				break
			}
			parent, node = node, next
		}
		if node != nil {
			return node, parent
		}
	}
	var walk func(p *liveNode) (*liveNode, *liveNode)
	walk = func(p *liveNode) (*liveNode, *liveNode) {
		for _, k := range p.kids {
			if k.id != "" && k.id == path {
				return k, p
			}
			if n, np := walk(k); n != nil {
				return n, np
			}
		}
		return nil, nil
	}
	return walk(e.top)
}

// check refuses what is wrong with a change whatever the tree: fields its action does not take,
// and fields it needs.
func (ch Change) check(field string) error {
	if err := unused(field, ch); err != nil {
		return err
	}
	switch ch.Action {
	case ActionAdd:
		if ch.Node == nil {
			return missing(field+".node", "ADD needs the node to add")
		}
	case ActionAddNamespaces:
		if ch.Count == nil {
			return missing(field+".count", "ADD_NAMESPACES needs count")
		}
		if *ch.Count < 1 || *ch.Count > MaxAddedNamespaces {
			return vapi.InvalidArgument(field+".count", *ch.Count, fmt.Sprintf("must be 1 to %d", MaxAddedNamespaces))
		}
		if ch.Node != nil && ch.Node.Type != drs.KindResourcePool {
			return vapi.InvalidArgument(field+".node.type", ch.Node.Type, "a namespace is a RESOURCE_POOL")
		}
	case ActionSet:
		if ch.Shares == nil && ch.Reservation == nil && ch.Limit == nil && ch.ExpandableReservation == nil {
			return missing(field+".shares", "SET needs shares, reservation, limit or expandable_reservation")
		}
	}
	if (ch.Action == ActionRemove || ch.Action == ActionSet) && ch.Namespace == nil && ch.Path == nil {
		return missing(field+".path", string(ch.Action)+" needs namespace or path to name the node it changes")
	}
	if ch.Namespace != nil && ch.Path != nil {
		return vapi.InvalidArgument(field+".path", *ch.Path, "give either namespace or path, not both")
	}
	return nil
}

// apply makes one change (already checked) to the tree.
func (e *editor) apply(field string, ch Change) error {
	switch ch.Action {
	case ActionAdd:
		pool, _, err := e.target(field, ch, e.namespaces)
		if err != nil {
			return err
		}
		if pool.node.Type != drs.KindResourcePool {
			return vapi.InvalidArgument(field+targetField(ch), pool.node.Name, "is a "+string(pool.node.Type)+": only a resource pool takes children")
		}
		if err := e.check(field+".node", *ch.Node); err != nil {
			return err
		}
		if hasChild(pool, ch.Node.Name) {
			return vapi.InvalidArgument(field+".node.name", ch.Node.Name, fmt.Sprintf("%s already holds a node of that name", pool.node.Name))
		}
		pool.kids = append(pool.kids, fromModel(*ch.Node))
	case ActionAddNamespaces:
		if e.namespaces == nil {
			return vapi.InvalidArgument(field+".action", ch.Action, "an earlier change removed the Namespaces pool")
		}
		template := drs.Node{Name: "new-namespace", Type: drs.KindResourcePool}
		if ch.Node != nil {
			if err := e.check(field+".node", *ch.Node); err != nil {
				return err
			}
			template = *ch.Node
		}
		for k, added := 1, 0; added < *ch.Count; k++ {
			name := template.Name + "-" + strconv.Itoa(k)
			if hasChild(e.namespaces, name) {
				continue
			}
			ns := template
			ns.Name = name
			e.namespaces.kids = append(e.namespaces.kids, fromModel(ns))
			added++
		}
	case ActionRemove:
		node, parent, err := e.target(field, ch, nil)
		if err != nil {
			return err
		}
		for i, k := range parent.kids {
			if k == node {
				parent.kids = append(parent.kids[:i:i], parent.kids[i+1:]...)
				break
			}
		}
		if e.namespaces != nil && e.find(e.namespaces.id) == nil {
			e.namespaces = nil // later changes find no namespaces
		}
	case ActionSet:
		node, _, err := e.target(field, ch, nil)
		if err != nil {
			return err
		}
		changed := node.node
		if ch.Shares != nil {
			changed.Shares = ch.Shares
		}
		changed.Reservation = merge(changed.Reservation, ch.Reservation)
		changed.Limit = merge(changed.Limit, ch.Limit)
		if ch.ExpandableReservation != nil {
			changed.ExpandableReservation = ch.ExpandableReservation
		}
		if err := e.check(field, changed); err != nil {
			return err
		}
		node.node = changed
	}
	return nil
}

// check validates a node on its own, so errors name the change's fields.
func (e *editor) check(field string, n drs.Node) error {
	_, err := drs.Analyze(drs.Request{
		Capacity: drs.Capacity{CPUMHz: drs.MaxAmount, MemoryMB: drs.MaxAmount, CPUMHzPerVCPU: e.s.capacity.CPUMHzPerVCPU},
		Children: []drs.Node{n},
	})
	if err != nil {
		return modelError(err, field, "children[0]")
	}
	return nil
}

// unused refuses fields the action does not take.
func unused(field string, ch Change) error {
	takes := map[ChangeAction][]string{
		ActionAdd:           {"namespace", "path", "node"},
		ActionAddNamespaces: {"count", "node"},
		ActionRemove:        {"namespace", "path"},
		ActionSet:           {"namespace", "path", "shares", "reservation", "limit", "expandable_reservation"},
	}[ch.Action]
	given := map[string]bool{
		"namespace": ch.Namespace != nil, "path": ch.Path != nil, "count": ch.Count != nil, "node": ch.Node != nil,
		"shares": ch.Shares != nil, "reservation": ch.Reservation != nil, "limit": ch.Limit != nil,
		"expandable_reservation": ch.ExpandableReservation != nil,
	}
	e := &vapi.Error{Type: vapi.ErrorInvalidArgument}
	for _, name := range []string{"namespace", "path", "count", "node", "shares", "reservation", "limit", "expandable_reservation"} {
		if given[name] && !contains(takes, name) {
			e.Messages = append(e.Messages, invalidField(field+"."+name,
				fmt.Sprintf("%s does not take %s (it takes %s)", ch.Action, name, strings.Join(takes, ", "))))
		}
	}
	if len(e.Messages) == 0 {
		return nil
	}
	return e
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func targetField(ch Change) string {
	switch {
	case ch.Path != nil:
		return ".path"
	case ch.Namespace != nil:
		return ".namespace"
	}
	return ""
}

func missing(field, why string) error {
	return vapi.NewError(vapi.ErrorInvalidArgument, "wcpd.invalid_argument.missing",
		fmt.Sprintf("Required field %s is missing: %s.", field, why), field)
}

func hasChild(pool *liveNode, name string) bool {
	for _, k := range pool.kids {
		if k.node.Name == name {
			return true
		}
	}
	return false
}

// merge overrides the fields of old that update sets.
func merge(old, update *drs.Amount) *drs.Amount {
	if update == nil {
		return old
	}
	out := drs.Amount{}
	if old != nil {
		out = *old
	}
	if update.CPUMHz != nil {
		out.CPUMHz = update.CPUMHz
	}
	if update.MemoryMB != nil {
		out.MemoryMB = update.MemoryMB
	}
	return &out
}

// pathOf joins names into a change's path, escaping "/" inside names.
func pathOf(names ...string) string {
	esc := make([]string, len(names))
	for i, n := range names {
		esc[i] = strings.ReplaceAll(strings.ReplaceAll(n, "%", "%25"), "/", "%2F")
	}
	return strings.Join(esc, "/")
}

// diff lists the nodes whose figures differ between two analyses of the same cluster, in the
// order of the tree after the changes, then the removed ones. Nodes are matched by inventory id;
// a node without one was added by the what-if.
func diff(before, after LiveAnalysis) []NodeChange {
	type entry struct {
		path string
		node *LiveNode
	}
	index := func(a LiveAnalysis) (map[string]entry, []entry) {
		byID := map[string]entry{}
		var order []entry
		var walk func(prefix []string, nodes []LiveNode)
		walk = func(prefix []string, nodes []LiveNode) {
			for i := range nodes {
				names := append(prefix[:len(prefix):len(prefix)], nodes[i].Name)
				en := entry{pathOf(names...), &nodes[i]}
				order = append(order, en)
				if nodes[i].ID != "" {
					byID[nodes[i].ID] = en
				}
				walk(names, nodes[i].Children)
			}
		}
		walk(nil, a.Children)
		return byID, order
	}
	beforeByID, beforeOrder := index(before)
	afterByID, afterOrder := index(after)
	changes := []NodeChange{}
	for _, en := range afterOrder {
		now := figures(en.node)
		if en.node.ID == "" {
			changes = append(changes, NodeChange{Path: en.path, Type: en.node.Type, Change: "ADDED", After: &now})
			continue
		}
		old, ok := beforeByID[en.node.ID]
		if !ok {
			continue
		}
		then := figures(old.node)
		if !reflect.DeepEqual(then, now) {
			changes = append(changes, NodeChange{Path: en.path, ID: en.node.ID, Type: en.node.Type, Change: "CHANGED", Before: &then, After: &now})
		}
	}
	for _, en := range beforeOrder {
		if _, ok := afterByID[en.node.ID]; !ok {
			then := figures(en.node)
			changes = append(changes, NodeChange{Path: en.path, ID: en.node.ID, Type: en.node.Type, Change: "REMOVED", Before: &then})
		}
	}
	return changes
}

func figures(n *LiveNode) Figures {
	return Figures{
		CPUShares: n.CPUShares, MemoryShares: n.MemoryShares,
		CPUSharePercent: n.CPUSharePercent, MemorySharePercent: n.MemorySharePercent,
		CPUReservedMHz: n.CPUReservedMHz, MemoryReservedMB: n.MemoryReservedMB,
		CPUEntitlementMHz: n.CPUEntitlementMHz, MemoryEntitlementMB: n.MemoryEntitlementMB,
		CPUBound: n.CPUBound, MemoryBound: n.MemoryBound,
		Warnings: n.Warnings,
	}
}
