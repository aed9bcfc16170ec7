package resources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
)

// ObjType is namespace_management.stats.TimeSeries.Spec.ObjType.
type ObjType string

// The objects stats are kept for.
const (
	ObjCluster   ObjType = "CLUSTER"
	ObjNamespace ObjType = "NAMESPACE"
	ObjPod       ObjType = "POD"
)

// EnumValues lists the object types for the decoder.
func (ObjType) EnumValues() []string {
	return []string{string(ObjCluster), string(ObjNamespace), string(ObjPod)}
}

// TimeSeriesSpec is namespace_management.stats.TimeSeries.Spec: a union on ObjType, where CLUSTER
// takes cluster, NAMESPACE namespace and POD pod.
type TimeSeriesSpec struct {
	ObjType   ObjType        `json:"obj_type"`
	Pod       *PodIdentifier `json:"pod,omitempty"`
	Namespace *string        `json:"namespace,omitempty"`
	Cluster   *string        `json:"cluster,omitempty"`
	// Start and End are UNIX times in seconds, both included.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// PodIdentifier is namespace_management.stats.TimeSeries.PodIdentifier.
type PodIdentifier struct {
	Namespace string `json:"namespace"`
	PodName   string `json:"pod_name"`
}

// TimeSeries is namespace_management.stats.TimeSeries.TimeSeries: one counter's samples.
type TimeSeries struct {
	Counter    string  `json:"counter"`
	TimeStamps []int64 `json:"time_stamps"`
	Values     []int64 `json:"values"`
}

// Counters per object type, in the order they are answered. Used is what the powered-on VMs and
// pods consume, capacity what may be used (a cluster's effective capacity; a namespace's limit,
// or else its entitlement), entitlement what the model gives under contention, reserved the
// reservation held (docs/resource-model.md).
var counters = map[ObjType][]string{
	ObjCluster: {"cpu_used_mhz", "cpu_capacity_mhz", "memory_used_mb", "memory_capacity_mb",
		"storage_used_mb", "storage_capacity_mb"},
	ObjNamespace: {"cpu_used_mhz", "cpu_capacity_mhz", "cpu_entitlement_mhz", "cpu_reserved_mhz",
		"memory_used_mb", "memory_capacity_mb", "memory_entitlement_mb", "memory_reserved_mb", "storage_used_mb"},
	ObjPod: {"cpu_used_mhz", "cpu_entitlement_mhz", "cpu_reserved_mhz",
		"memory_used_mb", "memory_entitlement_mb", "memory_reserved_mb", "storage_used_mb"},
}

// seriesKey names one object's history: a cluster id, a namespace, or a namespace and a pod.
type seriesKey struct {
	objType ObjType
	name    string
	pod     string
}

// series is one object's history in memory: its realtime samples and the points of each rollup
// level being averaged (history.go). The samples are rows of one slice, each the time then a value
// per counter, and the levels' sums share one slice: with a slice per counter and new sums for
// every point, 10,000 namespaces' history held 20 MB once their windows were full, now 14 MB
// (BenchmarkStatsHistory10000Namespaces/memory).
type series struct {
	counters int
	rows     []int64 // len(rows) is a multiple of counters+1
	open     [levelCount]bucket
}

func newSeries(counters int) *series {
	s := &series{counters: counters}
	sums := make([]int64, levelCount*counters)
	for l := range s.open {
		s.open[l].sums = sums[l*counters : (l+1)*counters : (l+1)*counters]
	}
	return s
}

// samples is how many samples the series holds.
func (s *series) samples() int { return len(s.rows) / (s.counters + 1) }

// stamp is the time of sample i.
func (s *series) stamp(i int) int64 { return s.rows[i*(s.counters+1)] }

// value is counter c's value in sample i.
func (s *series) value(i, c int) int64 { return s.rows[i*(s.counters+1)+1+c] }

// firstAtOrAfter is the index of the first sample taken at t or later.
func (s *series) firstAtOrAfter(t int64) int {
	return sort.Search(s.samples(), func(i int) bool { return s.stamp(i) >= t })
}

// add appends a sample. When the rows must grow they double, but to no more than room for most
// rows (what the realtime window holds at the sample interval) when that suffices: a series whose
// window is full holds no spare capacity.
func (s *series) add(at int64, values []int64, most int) {
	row := s.counters + 1
	if len(s.rows)+row > cap(s.rows) {
		want := max(2*cap(s.rows), row)
		if limit := most * row; want > limit && len(s.rows)+row <= limit {
			want = limit
		}
		grown := make([]int64, len(s.rows), want)
		copy(grown, s.rows)
		s.rows = grown
	}
	s.rows = append(s.rows, at)
	s.rows = append(s.rows, values...)
}

// dropBefore forgets the samples taken before t.
func (s *series) dropBefore(t int64) {
	if n := s.firstAtOrAfter(t); n > 0 {
		s.rows = slices.Delete(s.rows, 0, n*(s.counters+1))
	}
}

const sampleKey = "sample"

// sample is the sampler's reconcile: it records the figures of every Supervisor's cluster, its
// namespaces and its pods, then looks again after the sample interval.
func (f *Family) sample(ctx context.Context, _ string) (controller.Result, error) {
	now := f.clock().Now()
	if sups := f.deps.Families.Supervisors; sups != nil {
		for _, sup := range sups.List() {
			if sup.NamespacesPool == "" {
				continue
			}
			s, err := f.readSupervisor(ctx, sup.Cluster)
			var storage int64
			if err == nil {
				storage, err = f.storageCapacityMB(ctx, sup.Cluster)
			}
			var a *analysis
			if err == nil {
				a, err = s.analyseFigures(s.roots)
			}
			if err != nil {
				if ctx.Err() != nil {
					return controller.Result{}, ctx.Err()
				}
				f.logger().Warn("stats sample skipped", "cluster", sup.Cluster, "error", err)
				continue
			}
			f.remember(s, a)
			f.recordCluster(now.Unix(), s, a, storage)
		}
	}
	f.prune(now.Unix())
	f.sampleRounds.Add(1) // after the history changed: see Register
	f.mu.Lock()
	closed := f.closed
	f.closed = nil
	f.mu.Unlock()
	if err := f.writePoints(ctx, closed, now.Unix()); err != nil {
		if ctx.Err() != nil {
			return controller.Result{}, ctx.Err()
		}
		// Kept for the next sample's write.
		f.logger().Warn("stats history not saved; retried at the next sample", "error", err)
		f.mu.Lock()
		f.closed = append(closed, f.closed...)
		f.mu.Unlock()
	}
	return controller.Result{RequeueAfter: f.sampleInterval}, nil
}

func (f *Family) recordCluster(at int64, s *snapshot, a *analysis, storageCapacity int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cu := clusterUsage(s, storageCapacity)
	f.record(seriesKey{ObjCluster, s.cluster.ID, ""}, at, cu.CPUUsedMHz, cu.CPUCapacityMHz,
		cu.MemoryUsedMB, cu.MemoryCapacityMB, cu.StorageUsedMB, cu.StorageCapacityMB)
	for _, ns := range s.namespaces.kids {
		if ns.node.Type != drs.KindResourcePool {
			continue
		}
		r := a.byNode[ns]
		u := namespaceUsage(ns, r, cu.StorageCapacityMB)
		f.record(seriesKey{ObjNamespace, ns.node.Name, ""}, at,
			u.CPUUsedMHz, u.CPUCapacityMHz, r.CPUEntitlementMHz, r.CPUReservedMHz,
			u.MemoryUsedMB, u.MemoryCapacityMB, r.MemoryEntitlementMB, r.MemoryReservedMB, u.StorageUsedMB)
		var pods func(nodes []*liveNode)
		pods = func(nodes []*liveNode) {
			for _, n := range nodes {
				if n.pod {
					r := a.byNode[n]
					f.record(seriesKey{ObjPod, ns.node.Name, n.node.Name}, at,
						n.usedCPUMHz, r.CPUEntitlementMHz, r.CPUReservedMHz,
						n.usedMemoryMB, r.MemoryEntitlementMB, r.MemoryReservedMB, n.storageMB)
				}
				pods(n.kids)
			}
		}
		pods(ns.kids)
	}
}

// record adds one sample to key's series: to its realtime samples, which keep RealtimeWindow,
// and to the points being averaged, whose closing queues them for the store. The caller holds mu.
func (f *Family) record(key seriesKey, at int64, values ...int64) {
	s := f.history[key]
	if s == nil {
		s = newSeries(len(values))
		f.history[key] = s
	}
	if n := s.samples(); n > 0 && s.stamp(n-1) >= at {
		return // one sample per second at most; a clock set back records nothing until it passes
	}
	s.dropBefore(at - int64(RealtimeWindow/time.Second))
	s.add(at, values, int(RealtimeWindow/max(f.sampleInterval, time.Second))+1)
	f.closed = s.rollUp(key, at, values, f.closed)
}

// prune forgets objects that have had no sample for RealtimeWindow (they are gone, or their
// Supervisor is); the points they were averaging are closed with what they have.
func (f *Family) prune(now int64) {
	horizon := now - int64(RealtimeWindow/time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, s := range f.history {
		if n := s.samples(); n == 0 || s.stamp(n-1) < horizon {
			for l := range s.open {
				if b := &s.open[l]; b.count > 0 {
					f.closed = append(f.closed, closedPoint{level: l, key: k, at: b.start, values: b.average()})
				}
			}
			delete(f.history, k)
		}
	}
}

// timeSeries serves namespace_management.stats.time_series.get.
func (f *Family) timeSeries(c *vapi.Call) (any, error) {
	var spec TimeSeriesSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	// In the query string the pod identifier is flattened (reference §2): its namespace is
	// pod-namespace, its name pod_name.
	if spec.Pod == nil {
		ns, hasNS := firstQuery(c, "pod-namespace", "pod.namespace")
		name, hasName := firstQuery(c, "pod_name", "pod.pod_name")
		if hasNS || hasName {
			spec.Pod = &PodIdentifier{Namespace: ns, PodName: name}
		}
	}
	now := f.clock().Now().Unix()
	if err := spec.validate(now); err != nil {
		return nil, err
	}
	key := spec.key()
	l := levelFor(spec.Start, now)
	var points *storedSeries
	if l >= 0 {
		var err error
		if points, err = f.storedPoints(c.Ctx, l, key, spec.Start, spec.End); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	s := f.history[key]
	if l < 0 && s != nil {
		// The realtime level: every sample.
		lo, hi := s.firstAtOrAfter(spec.Start), s.firstAtOrAfter(spec.End+1)
		points = &storedSeries{Stamps: make([]int64, 0, hi-lo), Values: make([][]int64, s.counters)}
		for i := lo; i < hi; i++ {
			points.Stamps = append(points.Stamps, s.stamp(i))
		}
		for c := range points.Values {
			points.Values[c] = make([]int64, 0, hi-lo)
			for i := lo; i < hi; i++ {
				points.Values[c] = append(points.Values[c], s.value(i, c))
			}
		}
	} else if l >= 0 && s != nil {
		// The point being averaged, as it stands.
		if b := s.open[l]; b.count > 0 && b.start >= spec.Start && b.start <= spec.End &&
			(len(points.Stamps) == 0 || points.Stamps[len(points.Stamps)-1] < b.start) {
			points.Stamps = append(points.Stamps, b.start)
			for i, v := range b.average() {
				points.Values[i] = append(points.Values[i], v)
			}
		}
	}
	f.mu.Unlock()
	var out []TimeSeries
	if points != nil && (s != nil || len(points.Stamps) > 0) {
		for i, name := range counters[spec.ObjType] {
			out = append(out, TimeSeries{Counter: name, TimeStamps: points.Stamps, Values: points.Values[i]})
		}
	}
	if out == nil {
		if err := f.exists(c.Ctx, spec); err != nil {
			return nil, err
		}
		for _, name := range counters[spec.ObjType] {
			out = append(out, TimeSeries{Counter: name})
		}
	}
	for i := range out {
		if out[i].TimeStamps == nil {
			out[i].TimeStamps, out[i].Values = []int64{}, []int64{}
		}
	}
	return out, nil
}

// firstQuery is the value of the first of names given (not empty) in the query string.
func firstQuery(c *vapi.Call, names ...string) (string, bool) {
	for _, n := range names {
		if v := c.Query(n); v != "" {
			return v, true
		}
	}
	return "", false
}

func (s TimeSeriesSpec) key() seriesKey {
	switch s.ObjType {
	case ObjCluster:
		return seriesKey{ObjCluster, *s.Cluster, ""}
	case ObjNamespace:
		return seriesKey{ObjNamespace, *s.Namespace, ""}
	}
	return seriesKey{ObjPod, s.Pod.Namespace, s.Pod.PodName}
}

// validate checks the union (each object type takes its own field and no other) and the range.
func (s TimeSeriesSpec) validate(now int64) error {
	e := &vapi.Error{Type: vapi.ErrorInvalidArgument}
	union := []struct {
		field   string
		objType ObjType
		given   bool
	}{
		{"cluster", ObjCluster, s.Cluster != nil},
		{"namespace", ObjNamespace, s.Namespace != nil},
		{"pod", ObjPod, s.Pod != nil},
	}
	for _, u := range union {
		switch {
		case u.objType == s.ObjType && !u.given:
			e.Messages = append(e.Messages, invalidField("spec."+u.field,
				fmt.Sprintf("required when obj_type is %s", s.ObjType)))
		case u.objType != s.ObjType && u.given:
			e.Messages = append(e.Messages, invalidField("spec."+u.field,
				fmt.Sprintf("only used when obj_type is %s, and obj_type is %s", u.objType, s.ObjType)))
		}
	}
	empty := func(field string, v *string) {
		if v != nil && *v == "" {
			e.Messages = append(e.Messages, invalidField(field, "must not be empty"))
		}
	}
	empty("spec.cluster", s.Cluster)
	empty("spec.namespace", s.Namespace)
	if s.Pod != nil {
		empty("spec.pod.namespace", &s.Pod.Namespace)
		empty("spec.pod.pod_name", &s.Pod.PodName)
	}
	switch {
	case s.Start < 0:
		e.Messages = append(e.Messages, vapi.InvalidArgument("spec.start", s.Start,
			"must be a UNIX time: seconds since 1970-01-01T00:00:00Z, not negative").Messages[0])
	case s.Start > now:
		e.Messages = append(e.Messages, vapi.InvalidArgument("spec.start", s.Start,
			fmt.Sprintf("is in the future (the server's time is %d, %s)", now, time.Unix(now, 0).UTC().Format(time.RFC3339))).Messages[0])
	}
	if s.End < s.Start {
		e.Messages = append(e.Messages, vapi.InvalidArgument("spec.end", s.End,
			fmt.Sprintf("is before start (%d): the range would be empty", s.Start)).Messages[0])
	}
	if len(e.Messages) > 0 {
		return e
	}
	return nil
}

// exists says whether the object of a query without samples exists (it has not been sampled
// yet), or answers NOT_FOUND.
func (f *Family) exists(ctx context.Context, spec TimeSeriesSpec) error {
	sups := f.deps.Families.Supervisors
	switch spec.ObjType {
	case ObjCluster:
		cluster := *spec.Cluster
		if _, err := f.deps.Inventory.Cluster(ctx, cluster); err != nil {
			if errors.Is(err, inventory.ErrNotFound) {
				return vapi.NotFound("Cluster", cluster)
			}
			return err
		}
		if sups != nil {
			if sup, ok := sups.Supervisor(cluster); ok && sup.Cluster == cluster {
				return nil
			}
		}
		return vapi.NewError(vapi.ErrorNotFound, "wcpd.resources.no_supervisor",
			fmt.Sprintf("Cluster %s has no Supervisor, so wcpd keeps no statistics for it.", cluster), cluster)
	case ObjNamespace:
		if f.namespaceKnown(*spec.Namespace) {
			return nil
		}
		return vapi.NotFound("Namespace", *spec.Namespace)
	}
	if !f.namespaceKnown(spec.Pod.Namespace) {
		return vapi.NotFound("Namespace", spec.Pod.Namespace)
	}
	return vapi.NewError(vapi.ErrorNotFound, "wcpd.resources.pod_not_found",
		fmt.Sprintf("Pod %q was not found in namespace %q.", spec.Pod.PodName, spec.Pod.Namespace),
		spec.Pod.PodName, spec.Pod.Namespace)
}

// namespaceKnown reports whether namespace has samples or is listed on a Supervisor.
func (f *Family) namespaceKnown(namespace string) bool {
	f.mu.Lock()
	_, sampled := f.history[seriesKey{ObjNamespace, namespace, ""}]
	f.mu.Unlock()
	if sampled {
		return true
	}
	sups, nss := f.deps.Families.Supervisors, f.deps.Families.Namespaces
	if sups == nil || nss == nil {
		return false
	}
	for _, sup := range sups.List() {
		if slices.Contains(nss.OnCluster(sup.Cluster), namespace) {
			return true
		}
	}
	return false
}
