package resources

import (
	"context"
	"fmt"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/platform"
)

// Usage figures are kept between requests while the inventory does not change. Reading them costs
// several property-collector round trips per namespace (and a whole cluster for a list), while a
// list of namespaces is asked far more often than the inventory changes. The inventory's
// Generation says when it changed: figures are stored with the generation read before they were
// computed and are used only while the generation is still that one, so an answer never reflects
// the inventory as it was before a change whose caller has already been told it is done.

// clusterFigures are a Supervisor cluster's namespace usages, read in one pass.
type clusterFigures struct {
	generation uint64 // the inventory's generation before they were read
	pool       string // the Supervisor's Namespaces pool they were read under
	figures    platform.NamespaceFigures
}

// keptUsage is a cluster's own usage as last read.
type keptUsage struct {
	generation uint64
	usage      platform.Usage
}

// NamespaceUsages reports NamespaceUsage for every namespace with a pool on cluster, reading the
// cluster once (namespaces without a pool are absent and use nothing). An unknown cluster, or one
// without a Supervisor, is a NOT_FOUND vAPI error.
func (f *Family) NamespaceUsages(ctx context.Context, cluster string) (platform.NamespaceFigures, error) {
	sup, err := f.supervisorOf(ctx, cluster)
	if err != nil || sup.NamespacesPool == "" {
		return platform.NamespaceFigures{}, err
	}
	if fig, ok := f.currentFigures(cluster, sup.NamespacesPool); ok {
		return fig.figures, nil
	}
	// One reader at a time: requests arriving while the figures are read wait for them rather
	// than reading the same cluster again.
	f.readMu.Lock()
	defer f.readMu.Unlock()
	if fig, ok := f.currentFigures(cluster, sup.NamespacesPool); ok {
		return fig.figures, nil
	}
	generation := f.deps.Inventory.Generation()
	s, err := f.readCluster(ctx, cluster)
	if err != nil {
		return platform.NamespaceFigures{}, err
	}
	byName := map[string]platform.Usage{}
	if s.namespaces != nil && len(s.namespaces.kids) > 0 {
		storage, err := f.storageCapacityMB(ctx, cluster)
		if err != nil {
			return platform.NamespaceFigures{}, err
		}
		a, err := s.analyseFigures(s.roots)
		if err != nil {
			return platform.NamespaceFigures{}, fmt.Errorf("analysing cluster %s: %w", cluster, err)
		}
		f.remember(s, a)
		for _, ns := range s.namespaces.kids {
			if ns.node.Type == drs.KindResourcePool {
				byName[ns.node.Name] = namespaceUsage(ns, a.byNode[ns], storage)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readings++
	fig := &clusterFigures{generation: generation, pool: sup.NamespacesPool,
		figures: platform.NamespaceFigures{Read: f.readings, ByName: byName}}
	f.figures[cluster] = fig
	return fig.figures, nil
}

// currentFigures returns the namespace usages of cluster if they were read under pool and the
// inventory has not changed since.
func (f *Family) currentFigures(cluster, pool string) (*clusterFigures, bool) {
	generation := f.deps.Inventory.Generation()
	f.mu.Lock()
	defer f.mu.Unlock()
	fig := f.figures[cluster]
	if fig == nil || fig.generation != generation || fig.pool != pool {
		return nil, false
	}
	return fig, true
}
