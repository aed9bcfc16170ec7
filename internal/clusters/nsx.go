package clusters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The embedded inventory has no NSX. wcpd models what vCenter reads from the NSX Manager registered
// with it: NSX edge clusters, each attached to the transport zones of some distributed switches and
// offering tier-0 gateways. They are records in the store, managed with the /api/wcpd/nsx
// extension; on first start one edge cluster with one tier-0 gateway is created on every
// distributed switch of the inventory, so NSX networking works out of the box.

// edgeCluster is an NSX edge cluster.
type edgeCluster struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Switches    []string `json:"switches"` // distributed switch MoRef ids
	Tier0s      []tier0  `json:"tier0_gateways"`
}

type tier0 struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
}

// nsxNamespace derives stable ids for the seeded NSX objects.
var nsxNamespace = uuid.MustParse("6f1f3c1e-0c57-4d8e-9a8e-3f3b9d5f7a10")

const nsxSeededKey = "nsx-seeded"

// seedNSX creates the default NSX model the first time the family starts on a store.
func (f *Family) seedNSX(ctx context.Context) error {
	if _, ok := f.meta.Get(nsxSeededKey); ok {
		return nil
	}
	switches, err := f.deps.Inventory.DistributedSwitches(ctx)
	if err != nil {
		return err
	}
	if len(switches) > 0 {
		ids := make([]string, 0, len(switches))
		for _, sw := range switches {
			ids = append(ids, sw.ID)
		}
		e := edgeCluster{
			ID:          uuid.NewSHA1(nsxNamespace, []byte("edge-cluster-01")).String(),
			DisplayName: "edge-cluster-01",
			Switches:    ids,
			Tier0s: []tier0{{
				ID:          uuid.NewSHA1(nsxNamespace, []byte("tier0-gateway-01")).String(),
				DisplayName: "tier0-gateway-01",
			}},
		}
		if _, err := f.edges.Create(ctx, e.ID, e); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	if _, err := f.meta.Create(ctx, nsxSeededKey, metaRecord{Value: "true"}); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	return nil
}

// resolveSwitch finds a distributed switch by MoRef id or by UUID (the NSX APIs name switches by
// UUID, the vSphere ones by MoRef).
func resolveSwitch(switches []inventory.DistributedSwitch, id string) (inventory.DistributedSwitch, bool) {
	for _, sw := range switches {
		if sw.ID == id || strings.EqualFold(sw.UUID, id) {
			return sw, true
		}
	}
	return inventory.DistributedSwitch{}, false
}

func (e edgeCluster) on(sw inventory.DistributedSwitch) bool {
	for _, id := range e.Switches {
		if id == sw.ID {
			return true
		}
	}
	return false
}

// edgeReasons says why edge cluster e cannot serve a Supervisor on switch sw (nil when it can).
func edgeReasons(e edgeCluster, sw inventory.DistributedSwitch) []vapi.Message {
	var out []vapi.Message
	if !e.on(sw) {
		out = append(out, localizable("wcpd.nsx.edge.not_on_switch",
			fmt.Sprintf("NSX edge cluster %s is not attached to a transport zone of distributed switch %s.", e.DisplayName, sw.Name), e.DisplayName, sw.Name))
	}
	if len(e.Tier0s) == 0 {
		out = append(out, localizable("wcpd.nsx.edge.no_tier0",
			fmt.Sprintf("NSX edge cluster %s has no tier-0 gateway.", e.DisplayName), e.DisplayName))
	}
	return out
}

func (f *Family) edgeList() []edgeCluster {
	recs := f.edges.List()
	out := make([]edgeCluster, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Value)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DisplayName < out[j].DisplayName })
	return out
}

// The /api/wcpd/nsx extension. Reading needs System.Read; changing the NSX model changes what
// every compatibility check answers, so it needs Global.Settings (administrators).
var (
	edgeListBinding = vapi.Binding{Service: "com.wcpd.nsx.edge_clusters", Name: "list", Method: "GET",
		Path: "/wcpd/nsx/edge-clusters", Status: 200, Privilege: auth.SystemRead}
	edgeCreateBinding = vapi.Binding{Service: "com.wcpd.nsx.edge_clusters", Name: "create", Method: "POST",
		Path: "/wcpd/nsx/edge-clusters", Body: "spec", Status: 201, Privilege: auth.GlobalSettings}
	edgeDeleteBinding = vapi.Binding{Service: "com.wcpd.nsx.edge_clusters", Name: "delete", Method: "DELETE",
		Path: "/wcpd/nsx/edge-clusters/{edge_cluster}", Status: 204, Privilege: auth.GlobalSettings}
)

// EdgeClusterCreateSpec describes an NSX edge cluster to add to the model.
type EdgeClusterCreateSpec struct {
	DisplayName         string   `json:"display_name"`
	DistributedSwitches []string `json:"distributed_switches"`
	Tier0Gateways       []string `json:"tier0_gateways,omitempty"` // display names
}

// EdgeClusterInfo is an NSX edge cluster of the model.
type EdgeClusterInfo struct {
	EdgeCluster         string                `json:"edge_cluster"`
	DisplayName         string                `json:"display_name"`
	DistributedSwitches []string              `json:"distributed_switches"`
	Tier0Gateways       []Tier0GatewaySummary `json:"tier0_gateways"`
}

// Tier0GatewaySummary is namespace_management.NSXTier0Gateway.Summary.
type Tier0GatewaySummary struct {
	Tier0Gateway string `json:"tier0_gateway"`
	DisplayName  string `json:"display_name"`
}

func (e edgeCluster) info() EdgeClusterInfo {
	out := EdgeClusterInfo{EdgeCluster: e.ID, DisplayName: e.DisplayName, DistributedSwitches: append([]string{}, e.Switches...), Tier0Gateways: []Tier0GatewaySummary{}}
	for _, t := range e.Tier0s {
		out.Tier0Gateways = append(out.Tier0Gateways, Tier0GatewaySummary{Tier0Gateway: t.ID, DisplayName: t.DisplayName})
	}
	return out
}

var displayNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$`)

func (f *Family) edgeClusterList(*vapi.Call) (any, error) {
	out := []EdgeClusterInfo{}
	for _, e := range f.edgeList() {
		out = append(out, e.info())
	}
	return out, nil
}

func (f *Family) edgeClusterCreate(c *vapi.Call) (any, error) {
	var spec EdgeClusterCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	var errs vapi.FieldErrors
	if !displayNamePattern.MatchString(spec.DisplayName) {
		errs.Add("spec.display_name", spec.DisplayName, "must be 1 to 80 letters, digits, spaces, dots, dashes or underscores")
	}
	for _, e := range f.edgeList() {
		if strings.EqualFold(e.DisplayName, spec.DisplayName) {
			return nil, vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.nsx.edge.exists", "An NSX edge cluster named %s already exists.", spec.DisplayName)
		}
	}
	switches, err := f.deps.Inventory.DistributedSwitches(c.Ctx)
	if err != nil {
		return nil, err
	}
	e := edgeCluster{ID: uuid.NewString(), DisplayName: spec.DisplayName, Switches: []string{}, Tier0s: []tier0{}}
	if len(spec.DistributedSwitches) == 0 {
		errs.Add("spec.distributed_switches", "[]", "must name at least one distributed switch")
	}
	for i, id := range spec.DistributedSwitches {
		sw, ok := resolveSwitch(switches, id)
		if !ok {
			errs.Add(fmt.Sprintf("spec.distributed_switches[%d]", i), id, "is not a distributed switch of the inventory")
			continue
		}
		e.Switches = append(e.Switches, sw.ID)
	}
	for i, name := range spec.Tier0Gateways {
		if !displayNamePattern.MatchString(name) {
			errs.Add(fmt.Sprintf("spec.tier0_gateways[%d]", i), name, "must be 1 to 80 letters, digits, spaces, dots, dashes or underscores")
			continue
		}
		e.Tier0s = append(e.Tier0s, tier0{ID: uuid.NewString(), DisplayName: name})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if _, err := f.edges.Create(c.Ctx, e.ID, e); err != nil {
		return nil, err
	}
	return e.info(), nil
}

func (f *Family) edgeClusterDelete(c *vapi.Call) (any, error) {
	id := c.Path("edge_cluster")
	r, ok := f.edges.Get(id)
	if !ok {
		return nil, vapi.NotFound("NSX edge cluster", id)
	}
	for _, s := range f.supervisors.ListShared() {
		if ncp := s.Value.Spec.NCPClusterNetworkSpec; ncp != nil && ncp.NSXEdgeCluster != nil && *ncp.NSXEdgeCluster == id {
			return nil, vapi.Errorf(vapi.ErrorResourceInUse, "wcpd.nsx.edge.in_use",
				"NSX edge cluster %s is used by the Supervisor on cluster %s.", r.Value.DisplayName, s.Value.Cluster)
		}
	}
	if err := f.edges.Delete(c.Ctx, id, r.Revision); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, vapi.Errorf(vapi.ErrorConcurrentChange, "wcpd.concurrent_change", "NSX edge cluster %s changed while it was being deleted; try again.", id)
		}
		return nil, err
	}
	return nil, nil
}
