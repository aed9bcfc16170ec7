package resources

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
)

// Usage figures are kept between requests while the inventory does not change. Reading them costs
// several property-collector round trips per namespace (and a whole cluster for a list), while a
// list of namespaces is asked far more often than the inventory changes. The inventory's
// Generation says when it changed: figures are stored with the generation read before they were
// computed and are used only while the generation is still that one, so an answer never reflects
// the inventory as it was before a change whose caller has already been told it is done. After a
// change, the namespaces' figures are brought up to date from the inventory's log of what each
// change touched (Inventory.ChangedSince), reading only the namespaces it names.

// clusterFigures are what a Supervisor cluster's namespaces use. They are read in one pass over the
// cluster's tree, then followed: after a change to the inventory only the namespaces the change
// touched are read again (followChanges).
type clusterFigures struct {
	generation uint64 // the inventory's generation before they were read
	pool       string // the Supervisor's Namespaces pool they were read under
	figures    platform.NamespaceFigures
	// limits holds each namespace pool's CPU (MHz) and memory (MB) limits, -1 for none, read in
	// the same pass: with them a get of one namespace needs no read of its own (NamespaceUsage).
	limits map[string][2]int64

	// What following changes needs: each namespace by its pool's MoRef value, the namespace
	// holding each pool and VM below a namespace pool, and what a VM's usage is computed from.
	namespaces map[string]*namespaceReading
	where      map[string]string
	mhzPerVCPU int64
	hostMHz    map[string]int64
}

// namespaceReading is one namespace pool's figures as last read.
type namespaceReading struct {
	name    string
	usage   platform.Usage
	limits  [2]int64
	members []string // the MoRef values of the pools and VMs below it
}

func readingOf(ns *liveNode) *namespaceReading {
	cpu, mem, storage := consumed(ns.kids)
	r := &namespaceReading{name: ns.node.Name, limits: poolLimits(ns),
		usage: platform.Usage{CPUUsedMHz: cpu, MemoryUsedMB: mem, StorageUsedMB: storage}}
	var walk func(nodes []*liveNode)
	walk = func(nodes []*liveNode) {
		for _, n := range nodes {
			r.members = append(r.members, n.id)
			walk(n.kids)
		}
	}
	walk(ns.kids)
	return r
}

// keptUsage is a cluster's own usage as last read.
type keptUsage struct {
	generation uint64
	usage      platform.Usage
}

// NamespaceConsumption reports the used figures of NamespaceUsage for every namespace with a pool on
// cluster (namespaces without a pool are absent and use nothing). The first call reads the
// cluster's tree once; after a change to the inventory, only the namespaces the change touched are
// read again. It runs no resource model: what a namespace uses is what its VMs and pods use, and
// the model is needed only for the capacities, which a list does not show (at 10,000 namespaces the
// model was half of the first list after a change). An unknown cluster, or one without a
// Supervisor, is a NOT_FOUND vAPI error.
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
	f.mu.Lock()
	kept := f.figures[cluster]
	f.mu.Unlock()
	var fig *clusterFigures
	if kept != nil && kept.pool == sup.NamespacesPool {
		// What the figures take from the cluster's topology is its hosts' speeds (a VM's usage is
		// computed from them); the inventory keeps the topology, so asking is cheap.
		same, err := f.sameSpeeds(ctx, cluster, kept)
		if err != nil {
			return platform.NamespaceFigures{}, err
		}
		if same {
			if fig, err = f.followChanges(ctx, cluster, kept); err != nil {
				return platform.NamespaceFigures{}, err
			}
		}
	}
	if fig == nil {
		if fig, err = f.readFigures(ctx, cluster, sup.NamespacesPool); err != nil {
			return platform.NamespaceFigures{}, err
		}
	}
	fig.generation = generation
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readings++
	fig.figures.Read = f.readings
	f.figures[cluster] = fig
	return fig.figures, nil
}

// readFigures reads the figures of every namespace under pool from the cluster's whole tree.
func (f *Family) readFigures(ctx context.Context, cluster, pool string) (*clusterFigures, error) {
	s, err := f.readCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	f.fullReadings.Add(1)
	fig := &clusterFigures{pool: pool, namespaces: map[string]*namespaceReading{}, where: map[string]string{},
		mhzPerVCPU: s.capacity.CPUMHzPerVCPU, hostMHz: hostSpeeds(s.cluster),
		figures: platform.NamespaceFigures{ByName: map[string]platform.Usage{}}, limits: map[string][2]int64{}}
	if s.namespaces != nil {
		for _, ns := range s.namespaces.kids {
			if ns.node.Type == drs.KindResourcePool {
				fig.add(ns.id, readingOf(ns))
			}
		}
	}
	return fig, nil
}

// sameSpeeds says whether cluster's hosts have the speeds kept was read with.
func (f *Family) sameSpeeds(ctx context.Context, cluster string, kept *clusterFigures) (bool, error) {
	cl, err := f.deps.Inventory.Cluster(ctx, cluster)
	if errors.Is(err, inventory.ErrNotFound) {
		return false, nil // a full reading answers NOT_FOUND
	}
	if err != nil {
		return false, err
	}
	return clusterCapacity(cl).CPUMHzPerVCPU == kept.mhzPerVCPU && maps.Equal(hostSpeeds(cl), kept.hostMHz), nil
}

// add enters namespace pool id's reading into fig.
func (fig *clusterFigures) add(id string, r *namespaceReading) {
	fig.namespaces[id] = r
	for _, m := range r.members {
		fig.where[m] = id
	}
	fig.figures.ByName[r.name] = r.usage
	fig.limits[r.name] = r.limits
}

// remove takes namespace pool id out of fig.
func (fig *clusterFigures) remove(id string) {
	r := fig.namespaces[id]
	if r == nil {
		return
	}
	delete(fig.namespaces, id)
	for _, m := range r.members {
		if fig.where[m] == id {
			delete(fig.where, m)
		}
	}
	delete(fig.figures.ByName, r.name)
	delete(fig.limits, r.name)
}

// followChanges brings kept up to date by reading again only the namespaces that the inventory's
// changes since it was read touched: those that held a changed pool or VM when kept was read, and
// those that hold it now. A namespace that was destroyed is among them (its own change is logged)
// and is found gone when it is read. A change to the Namespaces pool itself, or to a namespace
// pool that is no longer one of its children, also reads the Namespaces pool's list of children:
// a pool or VM made there names only the Namespaces pool, and the pools of a destroyed namespace
// move up into it unannounced. It answers nil (read everything) when the inventory's log no longer
// reaches back to kept, when a vApp changed (a tree read walks through vApps without listing
// them), or when so many namespaces were touched that one pass over the tree costs less.
//
// The answer shares kept's index of namespaces and members, which it changes: kept must not be
// used again, and on an error it is dropped.
func (f *Family) followChanges(ctx context.Context, cluster string, kept *clusterFigures) (*clusterFigures, error) {
	inv := f.deps.Inventory
	changed, ok := inv.ChangedSince(kept.generation)
	if !ok {
		return nil, nil
	}
	affected := map[string]bool{}
	listAgain := false
	for _, ref := range changed {
		switch ref.Type {
		case "ResourcePool", "VirtualMachine":
		case "VirtualApp":
			return nil, nil
		default:
			// Neither a pool nor a VM: no namespace's figures. The hosts' speeds were checked
			// by the caller.
			continue
		}
		if ref.Value == kept.pool {
			listAgain = true
			continue
		}
		if ns, ok := kept.where[ref.Value]; ok {
			affected[ns] = true
		}
		// A VM directly under the Namespaces pool (a control plane VM) is in no namespace.
		child, below := inv.ChildOnPath(ref, kept.pool)
		below = below && child.Type == "ResourcePool"
		if below {
			affected[child.Value] = true
		}
		if _, isNamespace := kept.namespaces[ref.Value]; isNamespace {
			affected[ref.Value] = true
			listAgain = listAgain || !below || child != ref
		}
	}
	if listAgain {
		kids, ok := inv.PoolChildren(kept.pool)
		if !ok {
			return nil, nil
		}
		for _, k := range kids {
			switch {
			case k.Type == "VirtualApp":
				return nil, nil
			case k.Type == "ResourcePool" && kept.namespaces[k.Value] == nil:
				affected[k.Value] = true
			}
		}
	}
	if len(affected) > maxFollowedNamespaces+len(kept.namespaces)/8 {
		return nil, nil
	}

	fig := &clusterFigures{pool: kept.pool, mhzPerVCPU: kept.mhzPerVCPU, hostMHz: kept.hostMHz,
		namespaces: kept.namespaces, where: kept.where,
		// The figures and limits are handed out: changed on copies.
		figures: platform.NamespaceFigures{ByName: maps.Clone(kept.figures.ByName)}, limits: maps.Clone(kept.limits)}
	for id := range affected {
		fig.remove(id)
	}
	for id := range affected {
		t, err := inv.ReadPoolTree(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			continue // destroyed
		}
		if err != nil {
			f.mu.Lock()
			delete(f.figures, cluster)
			f.mu.Unlock()
			return nil, fmt.Errorf("reading the pools of namespace pool %s: %w", id, err)
		}
		if t.Root.Parent != kept.pool {
			// Moved elsewhere. The simulator does not move pools today; the check keeps what
			// is read here to children of the Namespaces pool if it ever does.
			continue
		}
		ns := &liveNode{id: id, node: poolNode(t.Root)}
		attach(map[string]*liveNode{id: ns}, t.Pools, t.VMs, kept.mhzPerVCPU, kept.hostMHz)
		fig.add(id, readingOf(ns))
	}
	f.followedReadings.Add(1)
	return fig, nil
}

// maxFollowedNamespaces is how many namespaces (plus an eighth of all) followChanges reads again
// before one pass over the whole tree is the cheaper way.
const maxFollowedNamespaces = 64

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
