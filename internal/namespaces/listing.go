package namespaces

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Lists of namespaces are asked far more often than namespaces change, and with thousands of
// namespaces encoding the answer costs more than everything else a list does. listings keeps each
// namespace's encoded summary together with what it was encoded from (the record's revision, its
// stats, its Supervisor id) and the last whole answer with what it was made from (the records'
// revision and, per cluster, the reading of the resources family's figures and the Supervisor
// id). A list asks for the figures every time (the resources family keeps them until the
// inventory changes), so it always shows the inventory as it is: when nothing it was made from
// changed it sends the same bytes again, otherwise it encodes again only the summaries whose
// inputs changed.
type listings struct {
	mu sync.Mutex
	// rev is the revision of the namespace records that recs were taken at; recs are sorted by
	// name and their values shared with the store's cache (read-only), and clusters are the
	// clusters they are on, sorted.
	rev      int64
	recs     []store.Record[*record]
	clusters []string
	v1       listing // list
	v2       listing // list_v2
}

// listing is one operation's encoded answer and the summaries it is made of.
type listing struct {
	parts map[string]listPart
	// inOrder holds parts in the order of the records taken at revision inOrderRev: while the
	// records are the same, a list whose figures changed finds each summary by position instead
	// of by name (at 10,000 namespaces the lookups were a good part of a list after a change).
	inOrder    []listPart
	inOrderRev int64
	// The last answer, shared by the responses that send it and never modified, and what it was
	// made from: the records' revision and, when the resources family gives the stats, the
	// inputs of each cluster (nil otherwise: stats read from the inventory directly are compared
	// namespace by namespace).
	body   []byte
	rev    int64
	inputs []clusterInputs
}

// clusterInputs is what a list takes from other families for one cluster.
type clusterInputs struct {
	figures    uint64 // platform.NamespaceFigures.Read
	supervisor string // list_v2 only
}

// listPart is one namespace's encoded summary and what it was encoded from.
type listPart struct {
	rev        int64
	stats      Stats
	supervisor string // list_v2 only
	json       []byte
}

// records returns the namespace records sorted by name and the clusters they are on, taking them
// from the store again only when they changed.
func (l *listings) records(c *store.Collection[record]) (int64, []store.Record[*record], []string) {
	rev := c.Revision() // read first: records taken after it are at least as new
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.recs == nil || l.rev != rev {
		recs := c.ListShared()
		var clusters []string
		for i := range recs {
			if !slices.Contains(clusters, recs[i].Value.Cluster) {
				clusters = append(clusters, recs[i].Value.Cluster)
			}
		}
		slices.Sort(clusters)
		l.rev, l.recs, l.clusters = rev, recs, clusters
	}
	return l.rev, l.recs, l.clusters
}

// listAnswer returns the encoded list (list_v2 with v2) of every namespace, sorted by name.
func (f *Family) listAnswer(ctx context.Context, v2 bool) (vapi.Raw, error) {
	l := &f.listings
	rev, recs, clusters := l.records(f.records)
	res := f.deps.Families.Resources
	figures := make([]platform.NamespaceFigures, len(clusters))
	inputs := make([]clusterInputs, len(clusters))
	for i, cluster := range clusters {
		if res != nil {
			fig, err := res.NamespaceConsumption(ctx, cluster)
			if err != nil {
				return nil, fmt.Errorf("usage of the namespaces on %s: %w", cluster, err)
			}
			figures[i], inputs[i].figures = fig, fig.Read
		}
		if sup, ok := f.supervisorOf(cluster); ok && v2 {
			inputs[i].supervisor = sup.ID
		}
	}
	if res == nil {
		inputs = nil
	}

	ans := &l.v1
	if v2 {
		ans = &l.v2
	}
	l.mu.Lock()
	if ans.body != nil && ans.rev == rev && inputs != nil && slices.Equal(ans.inputs, inputs) {
		body := ans.body
		l.mu.Unlock()
		return body, nil
	}
	l.mu.Unlock()

	values := make([]*record, len(recs)) // as the stats take them
	for i := range recs {
		values[i] = recs[i].Value
	}
	var stats []Stats
	if res != nil {
		stats = listStats(values, func(cluster string) platform.NamespaceFigures {
			i, _ := slices.BinarySearch(clusters, cluster)
			return figures[i]
		})
	} else {
		var err error
		if stats, err = f.statsInOrder(ctx, values); err != nil {
			return nil, err
		}
	}
	var sups []string
	if v2 {
		sups = make([]string, len(recs))
		for i, r := range values {
			sups[i] = f.supervisorID(r)
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if ans.parts == nil || len(ans.parts) > len(recs) {
		// Namespaces went: keep only the parts of those still here.
		kept := make(map[string]listPart, len(recs))
		for _, r := range recs {
			if p, ok := ans.parts[r.Key]; ok {
				kept[r.Key] = p
			}
		}
		ans.parts = kept
	}
	aligned := ans.inOrderRev == rev && len(ans.inOrder) == len(recs)
	if !aligned {
		ans.inOrder, ans.inOrderRev = make([]listPart, len(recs)), rev
	}
	size := 2
	for i := range recs {
		r := &recs[i]
		var sup string
		if v2 {
			sup = sups[i]
		}
		p, ok := ans.inOrder[i], aligned
		if !aligned {
			p, ok = ans.parts[r.Key]
		}
		if !ok || p.rev != r.Revision || p.stats != stats[i] || p.supervisor != sup {
			p = listPart{rev: r.Revision, stats: stats[i], supervisor: sup}
			var err error
			if p.json, err = encodeSummary(r.Value, stats[i], v2, sup); err != nil {
				ans.inOrder = nil // partly filled
				return nil, err
			}
			ans.parts[r.Key] = p
		}
		ans.inOrder[i] = p
		size += len(p.json) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, '[')
	for i := range ans.inOrder {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, ans.inOrder[i].json...)
	}
	body = append(body, ']')
	ans.body, ans.rev, ans.inputs = body, rev, inputs
	return body, nil
}

// encodeSummary encodes a namespace as list (Summary) or list_v2 (SummaryV2) show it.
func encodeSummary(r *record, stats Stats, v2 bool, supervisor string) ([]byte, error) {
	var v any = Summary{Cluster: r.Cluster, Namespace: r.Name, Description: r.Spec.Description,
		ConfigStatus: r.Status.ConfigStatus, Stats: stats, SelfServiceNamespace: r.SelfService}
	if v2 {
		v = SummaryV2{Supervisor: supervisor, Namespace: r.Name, Description: r.Spec.Description,
			ConfigStatus: r.Status.ConfigStatus, Stats: stats, SelfServiceNamespace: r.SelfService}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding namespace %s: %w", r.Name, err)
	}
	return b, nil
}

// statsInOrder is statsOf in the records' order, for a list without the resources family.
func (f *Family) statsInOrder(ctx context.Context, recs []*record) ([]Stats, error) {
	byName, err := f.statsOf(ctx, recs)
	if err != nil {
		return nil, err
	}
	out := make([]Stats, len(recs))
	for i, r := range recs {
		out[i] = byName[r.Name]
	}
	return out, nil
}
