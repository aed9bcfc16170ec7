// Package zones owns vSphere Zones, vCenter 8.0's consumption domains (issue 14): the
// consumption_domains operations (zones: create, get, list, delete; a zone's cluster associations:
// add, remove, get; the associations of every zone), kept in the store. It offers the platform.Zones
// contract through which the clusters family resolves the zones that enable_on_zones,
// cluster-compatibility/v2, topology and storage compatibility name. As in vSphere 8.0, a zone holds
// one cluster; a cluster that no zone holds is a zone of its own, zone-<cluster id>
// (platform.ImplicitZone), which is how wcpd named zones before they could be made.
package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The vAPI services below com.vmware.vcenter.
const (
	zonesService        = "consumption_domains.zones"
	associationsService = "consumption_domains.zones.cluster.associations"
	allAssociations     = "consumption_domains.zone_associations.cluster"
)

// zone is a stored zone, keyed by its id.
type zone struct {
	Description string `json:"description"`
	// Cluster is the cluster the zone holds (MoRef id), "" until one is associated.
	Cluster string `json:"cluster,omitempty"`
}

// Family is the zones API family.
type Family struct {
	deps  *platform.Deps
	zones *store.Collection[zone]
	// assocMu makes association changes one at a time, so no cluster ends up in two zones.
	assocMu sync.Mutex
}

// New returns the family and offers platform.Zones.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d}
	if d.Families != nil {
		d.Families.Zones = f
	}
	return f
}

// Register attaches the handlers.
func (f *Family) Register(r *vapi.Registry) {
	r.Handle(zonesService, "create", f.create)
	r.Handle(zonesService, "get", f.get)
	r.Handle(zonesService, "list", f.list)
	r.Handle(zonesService, "delete", f.delete)
	r.Handle(associationsService, "add", f.add)
	r.Handle(associationsService, "remove", f.remove)
	r.Handle(associationsService, "get", f.clustersOf)
	r.Handle(allAssociations, "list", f.associations)
	// Zones and their clusters are records in the store and clusters of the inventory: the API
	// keeps the answers of their reads.
	r.Keep(zonesService, "get", "list")
	r.Keep(associationsService, "get")
	r.Keep(allAssociations, "list")
}

// Start opens the store collection.
func (f *Family) Start(context.Context) error {
	var err error
	f.zones, err = store.NewCollection[zone](f.deps.Store, "zones")
	return err
}

// ZoneOf is the zone of cluster (platform.Zones).
func (f *Family) ZoneOf(cluster string) string {
	if f.zones != nil {
		for _, r := range f.zones.ListShared() {
			if r.Value.Cluster == cluster {
				return r.Key
			}
		}
	}
	return platform.ImplicitZone(cluster)
}

// ClusterOf resolves a zone id to its cluster (platform.Zones). A cluster's own zone name stands
// for it only while no zone holds it.
func (f *Family) ClusterOf(zoneID string) (string, bool) {
	if f.zones != nil {
		if r, ok := f.zones.Get(zoneID); ok {
			return r.Value.Cluster, r.Value.Cluster != ""
		}
	}
	cluster, ok := platform.ImplicitZoneCluster(zoneID)
	if !ok || f.ZoneOf(cluster) != zoneID {
		return "", false
	}
	return cluster, true
}

// CreateSpec is consumption_domains.Zones.CreateSpec.
type CreateSpec struct {
	Zone        string  `json:"zone"`
	Description *string `json:"description"`
}

// Info is consumption_domains.Zones.Info.
type Info struct {
	Description string `json:"description"`
}

// ListItem is consumption_domains.Zones.ListItem.
type ListItem struct {
	Zone string `json:"zone"`
	Info Info   `json:"info"`
}

// ListResult is consumption_domains.Zones.ListResult.
type ListResult struct {
	Items []ListItem `json:"items"`
}

// FilterSpec is consumption_domains.Zones.FilterSpec.
type FilterSpec struct {
	Zones []string `json:"zones,omitempty"`
}

func (f *Family) create(c *vapi.Call) (any, error) {
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	// A zone's name becomes a Kubernetes topology label value, hence a DNS label.
	if problems := validation.IsDNS1123Label(spec.Zone); len(problems) > 0 {
		return nil, vapi.InvalidArgument("spec.zone", spec.Zone, strings.Join(problems, "; "))
	}
	if cluster, implicit := platform.ImplicitZoneCluster(spec.Zone); implicit && strings.HasPrefix(cluster, "domain-") {
		return nil, vapi.InvalidArgument("spec.zone", spec.Zone, "names of the form zone-<cluster id> are those of clusters that no zone holds")
	}
	z := zone{}
	if spec.Description != nil {
		z.Description = *spec.Description
	}
	if _, err := f.zones.Create(c.Ctx, spec.Zone, z); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, vapi.Errorf(vapi.ErrorAlreadyExists, "wcpd.zone.exists", "The vSphere Zone %s already exists.", spec.Zone)
		}
		return nil, err
	}
	return spec.Zone, nil
}

// lookup returns the stored zone, NOT_FOUND naming it otherwise.
func (f *Family) lookup(id string) (store.Record[zone], error) {
	r, ok := f.zones.Get(id)
	if !ok {
		return r, vapi.NotFound("vSphere Zone", id)
	}
	return r, nil
}

func (f *Family) get(c *vapi.Call) (any, error) {
	r, err := f.lookup(c.Path("zone"))
	if err != nil {
		return nil, err
	}
	return Info{Description: r.Value.Description}, nil
}

func (f *Family) list(c *vapi.Call) (any, error) {
	var filter FilterSpec
	if _, err := c.BindOptional("spec", &filter); err != nil {
		return nil, err
	}
	out := ListResult{Items: []ListItem{}}
	for _, r := range f.zones.ListShared() {
		if len(filter.Zones) == 0 || slices.Contains(filter.Zones, r.Key) {
			out.Items = append(out.Items, ListItem{Zone: r.Key, Info: Info{Description: r.Value.Description}})
		}
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Zone < out.Items[j].Zone })
	return out, nil
}

// inUse says why cluster's zone cannot change: a Supervisor runs on it.
func (f *Family) inUse(zoneID, cluster string) *vapi.Error {
	if cluster == "" || f.deps.Families == nil || f.deps.Families.Supervisors == nil {
		return nil
	}
	s, ok := f.deps.Families.Supervisors.Supervisor(cluster)
	if !ok {
		return nil
	}
	return vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.zone.in_use",
		"The vSphere Zone %s holds cluster %s, on which Supervisor %s runs; disable the Supervisor first.", zoneID, cluster, s.Name)
}

func (f *Family) delete(c *vapi.Call) (any, error) {
	f.assocMu.Lock()
	defer f.assocMu.Unlock()
	id := c.Path("zone")
	r, err := f.lookup(id)
	if err != nil {
		return nil, err
	}
	if e := f.inUse(id, r.Value.Cluster); e != nil {
		return nil, e
	}
	if err := f.zones.Delete(c.Ctx, id, r.Revision); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, vapi.NotFound("vSphere Zone", id)
		}
		if errors.Is(err, store.ErrConflict) {
			return nil, vapi.Errorf(vapi.ErrorConcurrentChange, "wcpd.zone.changed", "The vSphere Zone %s changed while it was being deleted; try again.", id)
		}
		return nil, err
	}
	return nil, nil
}

// Status is consumption_domains.zones.cluster.Associations.Status.
type Status struct {
	Success        bool                   `json:"success"`
	FailedClusters map[string]*vapi.Error `json:"failed_clusters"`
}

func (f *Family) add(c *vapi.Call) (any, error) {
	return f.changeAssociations(c, true)
}

func (f *Family) remove(c *vapi.Call) (any, error) {
	return f.changeAssociations(c, false)
}

// changeAssociations adds or removes the clusters of the body to or from the zone. Each cluster
// that cannot be is in failed_clusters with the reason; the others are done.
func (f *Family) changeAssociations(c *vapi.Call, add bool) (any, error) {
	var clusters []string
	if err := c.Bind("clusters", &clusters); err != nil {
		return nil, err
	}
	f.assocMu.Lock()
	defer f.assocMu.Unlock()
	id := c.Path("zone")
	if _, err := f.lookup(id); err != nil {
		return nil, err
	}
	failed := map[string]*vapi.Error{}
	for _, cl := range clusters {
		if _, done := failed[cl]; done {
			continue
		}
		if e := f.changeOne(c.Ctx, id, cl, add); e != nil {
			failed[cl] = e
		}
	}
	return Status{Success: len(failed) == 0, FailedClusters: failed}, nil
}

func (f *Family) changeOne(ctx context.Context, id, cluster string, add bool) *vapi.Error {
	r, _ := f.zones.Get(id)
	if !add {
		if r.Value.Cluster != cluster {
			return nil // not associated: nothing to remove
		}
		if e := f.inUse(id, cluster); e != nil {
			return e
		}
		return f.setCluster(ctx, id, "")
	}
	if r.Value.Cluster == cluster {
		return nil
	}
	if _, err := f.deps.Inventory.Cluster(ctx, cluster); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return vapi.NotFound("Cluster", cluster)
		}
		return vapi.AsError(err)
	}
	if r.Value.Cluster != "" {
		return vapi.InvalidArgument("clusters", cluster, fmt.Sprintf("the vSphere Zone %s already holds cluster %s, and a zone holds one cluster", id, r.Value.Cluster))
	}
	if other := f.ZoneOf(cluster); other != platform.ImplicitZone(cluster) {
		return vapi.InvalidArgument("clusters", cluster, "the cluster is in the vSphere Zone "+other)
	}
	// The cluster's zone would change under its Supervisor (from zone-<cluster>).
	if e := f.inUse(platform.ImplicitZone(cluster), cluster); e != nil {
		return e
	}
	return f.setCluster(ctx, id, cluster)
}

func (f *Family) setCluster(ctx context.Context, id, cluster string) *vapi.Error {
	_, err := f.zones.Mutate(ctx, id, func(z *zone) error {
		z.Cluster = cluster
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return vapi.NotFound("vSphere Zone", id)
	}
	if err != nil {
		return vapi.AsError(err)
	}
	return nil
}

func (f *Family) clustersOf(c *vapi.Call) (any, error) {
	r, err := f.lookup(c.Path("zone"))
	if err != nil {
		return nil, err
	}
	out := []string{}
	if r.Value.Cluster != "" {
		out = append(out, r.Value.Cluster)
	}
	return out, nil
}

// AssociationFilter is consumption_domains.zone_associations.Cluster.FilterSpec.
type AssociationFilter struct {
	Clusters []string `json:"clusters,omitempty"`
	Zones    []string `json:"zones,omitempty"`
}

// Association is consumption_domains.zone_associations.Cluster.ListItem.
type Association struct {
	Zone    string `json:"zone"`
	Cluster string `json:"cluster"`
}

// AssociationList is consumption_domains.zone_associations.Cluster.ListResult.
type AssociationList struct {
	Associations []Association `json:"associations"`
}

func (f *Family) associations(c *vapi.Call) (any, error) {
	var filter AssociationFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	out := AssociationList{Associations: []Association{}}
	for _, r := range f.zones.ListShared() {
		cl := r.Value.Cluster
		if cl == "" || (len(filter.Zones) > 0 && !slices.Contains(filter.Zones, r.Key)) || (len(filter.Clusters) > 0 && !slices.Contains(filter.Clusters, cl)) {
			continue
		}
		out.Associations = append(out.Associations, Association{Zone: r.Key, Cluster: cl})
	}
	sort.Slice(out.Associations, func(i, j int) bool { return out.Associations[i].Zone < out.Associations[j].Zone })
	return out, nil
}
