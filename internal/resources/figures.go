package resources

import (
	"context"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/platform"
)

// Usage figures are kept between requests while the inventory does not change. Reading them costs
// several property-collector round trips per namespace (and a whole cluster for a list), while a
// list of namespaces is asked far more often than the inventory changes. The inventory's
// Generation says when it changed: figures are stored with the generation read before they were
// computed and are used only while the generation is still that one, so an answer never reflects
// the inventory as it was before a change whose caller has already been told it is done.

// clusterFigures are what a Supervisor cluster's namespaces use, read in one pass.
type clusterFigures struct {
	generation uint64 // the inventory's generation before they were read
	pool       string // the Supervisor's Namespaces pool they were read under
	figures    platform.NamespaceFigures
	// limits holds each namespace pool's CPU (MHz) and memory (MB) limits, -1 for none, read in
	// the same pass: with them a get of one namespace needs no read of its own (NamespaceUsage).
	limits map[string][2]int64
}

// keptUsage is a cluster's own usage as last read.
type keptUsage struct {
	generation uint64
	usage      platform.Usage
}

// NamespaceConsumption reports the used figures of NamespaceUsage for every namespace with a pool on
// cluster, reading the cluster's tree once (namespaces without a pool are absent and use nothing).
// It runs no resource model: what a namespace uses is what its VMs and pods use, and the model is
// needed only for the capacities, which a list does not show (at 10,000 namespaces the model was
// half of the first list after a change). An unknown cluster, or one without a Supervisor, is a
// NOT_FOUND vAPI error.
func (f *Family) NamespaceConsumption(ctx context.Context, cluster string) (platform.NamespaceFigures, error) {
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
	limits := map[string][2]int64{}
	if s.namespaces != nil {
		for _, ns := range s.namespaces.kids {
			if ns.node.Type != drs.KindResourcePool {
				continue
			}
			cpu, mem, storage := consumed(ns.kids)
			byName[ns.node.Name] = platform.Usage{CPUUsedMHz: cpu, MemoryUsedMB: mem, StorageUsedMB: storage}
			limits[ns.node.Name] = poolLimits(ns)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readings++
	fig := &clusterFigures{generation: generation, pool: sup.NamespacesPool, limits: limits,
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
