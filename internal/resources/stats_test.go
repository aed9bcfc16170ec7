package resources

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/vapi"
)

const opTimeSeries = "com.vmware.vcenter.namespace_management.stats.time_series.get"

// startSampler starts the family and its controllers; the first sample is taken at once.
func (h *harness) startSampler() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	h.t.Cleanup(cancel)
	h.ctls.Run(ctx)
	if err := h.f.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.settle(0)
}

// settle lets the sampler progress by d of fake time (controller.Group.Settle).
func (h *harness) settle(d time.Duration) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := h.ctls.Settle(ctx, h.clock, d); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) series(q url.Values) ([]TimeSeries, error) {
	h.t.Helper()
	res, err := h.call(opTimeSeries, nil, q, nil)
	if err != nil {
		return nil, err
	}
	var out []TimeSeries
	roundTrip(h.t, res, &out)
	return out, nil
}

func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return q
}

func counter(t *testing.T, ts []TimeSeries, name string) TimeSeries {
	t.Helper()
	for _, s := range ts {
		if s.Counter == name {
			if len(s.TimeStamps) != len(s.Values) {
				t.Fatalf("%s: %d time stamps, %d values", name, len(s.TimeStamps), len(s.Values))
			}
			return s
		}
	}
	t.Fatalf("no counter %s in %+v", name, ts)
	return TimeSeries{}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestTimeSeriesSamplesClusterNamespaceAndPod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a")
	nsA, err := h.builder().finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	t0 := h.clock.Now()
	h.startSampler()
	h.builder().vm(nsA, "web-0", 1, 576, podGuestID, false)
	h.settle(SampleInterval) // second sample, with the pod
	h.settle(SampleInterval) // third
	t2 := h.clock.Now()

	all := []string{"start", unix(t0), "end", unix(t2)}
	cl, err := h.series(query(append([]string{"obj_type", "CLUSTER", "cluster", clusterA}, all...)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(cl) != len(counters[ObjCluster]) {
		t.Fatalf("cluster: %d series, want %d", len(cl), len(counters[ObjCluster]))
	}
	mem := counter(t, cl, "memory_used_mb")
	want := []int64{t0.Unix(), t0.Add(SampleInterval).Unix(), t2.Unix()}
	if len(mem.TimeStamps) != 3 || mem.TimeStamps[0] != want[0] || mem.TimeStamps[1] != want[1] || mem.TimeStamps[2] != want[2] {
		t.Fatalf("time stamps %v, want %v", mem.TimeStamps, want)
	}
	if mem.Values[0] != 3*24*1024 || mem.Values[1] != 3*24*1024+576 {
		t.Errorf("cluster memory used %v, want 73728 then 73728+576 once the pod runs", mem.Values)
	}
	if capacity := counter(t, cl, "cpu_capacity_mhz"); capacity.Values[0] != h.live(clusterA).Capacity.CPUMHz {
		t.Errorf("cluster CPU capacity %v", capacity.Values)
	}

	// A narrower range: only the last sample.
	last, err := h.series(query("obj_type", "CLUSTER", "cluster", clusterA, "start", unix(t2), "end", unix(t2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := counter(t, last, "memory_used_mb").TimeStamps; len(got) != 1 || got[0] != t2.Unix() {
		t.Errorf("range [t2, t2]: %v", got)
	}

	ns, err := h.series(query(append([]string{"obj_type", "NAMESPACE", "namespace", "ns-a"}, all...)...))
	if err != nil {
		t.Fatal(err)
	}
	if used := counter(t, ns, "memory_used_mb").Values; used[0] != 0 || used[2] != 576 {
		t.Errorf("ns-a memory used %v, want 0 then 576", used)
	}
	live := child(t, h.live(clusterA).Children[0].Children, "ns-a")
	if ent := counter(t, ns, "memory_entitlement_mb").Values; ent[2] != live.MemoryEntitlementMB {
		t.Errorf("ns-a memory entitlement %v, want %d at the end", ent, live.MemoryEntitlementMB)
	}

	// The pod, by the flattened query parameters of the reference (§2) ...
	pod, err := h.series(query(append([]string{"obj_type", "POD", "pod-namespace", "ns-a", "pod_name", "web-0"}, all...)...))
	if err != nil {
		t.Fatal(err)
	}
	if c := counter(t, pod, "memory_used_mb"); len(c.Values) != 2 || c.Values[0] != 576 {
		t.Errorf("pod memory used %v at %v, want 576 in the two samples since it started", c.Values, c.TimeStamps)
	}
	// ... and in the body form {"spec": …}.
	res, err := h.call(opTimeSeries, nil, nil, `{"spec": {"obj_type": "POD", "pod": {"namespace": "ns-a", "pod_name": "web-0"}, "start": `+
		unix(t0)+`, "end": `+unix(t2)+`}}`)
	if err != nil {
		t.Fatal(err)
	}
	var fromBody []TimeSeries
	roundTrip(t, res, &fromBody)
	if len(counter(t, fromBody, "cpu_reserved_mhz").Values) != 2 {
		t.Errorf("body form: %+v", fromBody)
	}
}

func TestTimeSeriesValidatesAndFindsObjects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a")
	h.f.deps.Families.Namespaces = fakeNamespaces{byCluster: map[string][]string{clusterA: {"ns-a", "ns-new"}}}
	h.startSampler()
	now := h.clock.Now().Unix()
	s := func(v int64) string { return strconv.FormatInt(v, 10) }
	bad := []struct {
		name  string
		q     url.Values
		want  []string
		wantT vapi.ErrorType
	}{
		{"end before start", query("obj_type", "CLUSTER", "cluster", clusterA, "start", s(now), "end", s(now-60)),
			[]string{"spec.end", s(now - 60), "before start"}, vapi.ErrorInvalidArgument},
		{"negative start", query("obj_type", "CLUSTER", "cluster", clusterA, "start", "-1", "end", s(now)),
			[]string{"spec.start", "-1"}, vapi.ErrorInvalidArgument},
		{"start in the future", query("obj_type", "CLUSTER", "cluster", clusterA, "start", s(now+3600), "end", s(now+7200)),
			[]string{"spec.start", "in the future"}, vapi.ErrorInvalidArgument},
		{"not a number", query("obj_type", "CLUSTER", "cluster", clusterA, "start", "yesterday", "end", s(now)),
			[]string{"spec.start", "yesterday"}, vapi.ErrorInvalidArgument},
		{"missing end", query("obj_type", "CLUSTER", "cluster", clusterA, "start", s(now)),
			[]string{"spec.end"}, vapi.ErrorInvalidArgument},
		{"unknown obj_type", query("obj_type", "HOST", "start", s(now), "end", s(now)),
			[]string{"spec.obj_type", "HOST", "CLUSTER, NAMESPACE, POD"}, vapi.ErrorInvalidArgument},
		{"cluster missing", query("obj_type", "CLUSTER", "start", s(now), "end", s(now)),
			[]string{"spec.cluster", "required when obj_type is CLUSTER"}, vapi.ErrorInvalidArgument},
		{"field of another type", query("obj_type", "CLUSTER", "cluster", clusterA, "namespace", "ns-a", "start", s(now), "end", s(now)),
			[]string{"spec.namespace", "only used when obj_type is NAMESPACE"}, vapi.ErrorInvalidArgument},
		{"half a pod", query("obj_type", "POD", "pod-namespace", "ns-a", "start", s(now), "end", s(now)),
			[]string{"spec.pod.pod_name", "must not be empty"}, vapi.ErrorInvalidArgument},
		{"unknown cluster", query("obj_type", "CLUSTER", "cluster", "domain-c404", "start", s(now), "end", s(now)),
			[]string{"domain-c404"}, vapi.ErrorNotFound},
		{"cluster without a Supervisor", query("obj_type", "CLUSTER", "cluster", clusterEdge, "start", s(now), "end", s(now)),
			[]string{clusterEdge, "no Supervisor"}, vapi.ErrorNotFound},
		{"unknown namespace", query("obj_type", "NAMESPACE", "namespace", "nope", "start", s(now), "end", s(now)),
			[]string{"nope"}, vapi.ErrorNotFound},
		{"pod in an unknown namespace", query("obj_type", "POD", "pod-namespace", "nope", "pod_name", "x", "start", s(now), "end", s(now)),
			[]string{"Namespace", "nope"}, vapi.ErrorNotFound},
		{"unknown pod", query("obj_type", "POD", "pod-namespace", "ns-a", "pod_name", "ghost", "start", s(now), "end", s(now)),
			[]string{"ghost", "ns-a", "wcpd.resources.pod_not_found"}, vapi.ErrorNotFound},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.series(tc.q)
			wantError(t, err, tc.wantT, tc.want...)
		})
	}
	// A namespace the namespaces family lists but the sampler has not seen yet has empty series.
	fresh, err := h.series(query("obj_type", "NAMESPACE", "namespace", "ns-new", "start", s(now-60), "end", s(now)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != len(counters[ObjNamespace]) || fresh[0].TimeStamps == nil || len(fresh[0].TimeStamps) != 0 {
		t.Errorf("not yet sampled namespace: %+v", fresh)
	}
}

func TestTimeSeriesRealtimeSamplesAreBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.supervisorTree("ns-a")
	start := h.clock.Now()
	h.startSampler()
	for range 12 {
		h.settle(SampleInterval)
	}
	ts, err := h.series(query("obj_type", "CLUSTER", "cluster", clusterA, "start", unix(h.clock.Now().Add(-RealtimeWindow)), "end", unix(h.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	got := counter(t, ts, "cpu_used_mhz").TimeStamps
	if len(got) != 11 || got[10] != h.clock.Now().Unix() || got[0] != h.clock.Now().Add(-RealtimeWindow).Unix() {
		t.Errorf("kept %v, want the samples of the last %s", got, RealtimeWindow)
	}
	// An object that is gone is forgotten once it has had no sample for the realtime window.
	if err := destroyPool(h, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a"); err != nil {
		t.Fatal(err)
	}
	for range 11 {
		h.settle(SampleInterval)
	}
	_, err = h.series(query("obj_type", "NAMESPACE", "namespace", "ns-a", "start", unix(h.clock.Now().Add(-time.Minute)), "end", unix(h.clock.Now())))
	wantError(t, err, vapi.ErrorNotFound, "ns-a")
	_ = start
}

// TestTimeSeriesRollsUpIntoTheStore: older samples are averaged into 5-minute, 30-minute, 2-hour
// and daily points kept in the store; a query reads the finest level that still covers its start;
// the points survive a restart of the family; a level's expired chunks are deleted.
func TestTimeSeriesRollsUpIntoTheStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	st := h.useStore()
	nsA := h.supervisorTree("ns-a")
	_ = nsA
	ns, err := h.builder().finder.ResourcePool(h.ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/ns-a")
	if err != nil {
		t.Fatal(err)
	}
	h.f.sampleInterval = time.Hour
	t0 := h.clock.Now() // 09:00: the 2-hour points start at even hours
	h.startSampler()
	const base = 3 * 24 * 1024 // the control plane VMs' memory
	// Nine days of hourly samples; a pod starts at the second sample of the 2-hour point at
	// t0+5h (14:00), so that point averages one sample without it and one with it.
	for i := 1; i <= 9*24; i++ {
		if i == 6 {
			h.builder().vm(ns, "web-0", 1, 576, podGuestID, false)
		}
		h.settle(time.Hour)
	}
	now := h.clock.Now()

	// Eight days back: the 2-hour level.
	q := query("obj_type", "CLUSTER", "cluster", clusterA, "start", unix(now.Add(-8*24*time.Hour)), "end", unix(now))
	ts, err := h.series(q)
	if err != nil {
		t.Fatal(err)
	}
	mem := counter(t, ts, "memory_used_mb")
	if n := len(mem.TimeStamps); n != 8*12 {
		t.Errorf("2-hour level: %d points, want %d (every 2 hours for 8 days, the last still being averaged)", n, 8*12)
	}
	seen := false
	for i, at := range mem.TimeStamps {
		if at%7200 != 0 {
			t.Fatalf("2-hour level: point %d at %d, not on a 2-hour boundary", i, at)
		}
		if at == t0.Add(5*time.Hour).Unix() {
			seen = true
			if mem.Values[i] != base+576/2 {
				t.Errorf("the point at t0+5h = %d, want the average of %d and %d", mem.Values[i], base, base+576)
			}
		}
	}
	if seen {
		t.Errorf("the 2-hour level reaches back past its start: %v", mem.TimeStamps[:2])
	}
	// Nine days back, the same level reaches the pod's start.
	early, err := h.series(query("obj_type", "CLUSTER", "cluster", clusterA, "start", unix(t0), "end", unix(t0.Add(8*time.Hour))))
	if err != nil {
		t.Fatal(err)
	}
	if got := counter(t, early, "memory_used_mb"); len(got.Values) != 4 || got.Values[2] != base+576/2 || got.Values[1] != base || got.Values[3] != base+576 {
		t.Errorf("the first points: %v at %v, want %d, %d, %d+576/2, %d+576", got.Values, got.TimeStamps, base, base, base, base)
	}

	// Two days back: the 30-minute level, one sample per point.
	ts, err = h.series(query("obj_type", "NAMESPACE", "namespace", "ns-a", "start", unix(now.Add(-48*time.Hour)), "end", unix(now)))
	if err != nil {
		t.Fatal(err)
	}
	if used := counter(t, ts, "memory_used_mb"); len(used.TimeStamps) != 49 || used.Values[0] != 576 {
		t.Errorf("30-minute level: %d points, first %v", len(used.TimeStamps), used.Values[:1])
	}

	// A restart of the family keeps what was rolled up.
	before := mem
	h.restartFamily()
	ts, err = h.series(q)
	if err != nil {
		t.Fatal(err)
	}
	after := counter(t, ts, "memory_used_mb")
	if len(after.TimeStamps) < len(before.TimeStamps)-1 || after.TimeStamps[0] != before.TimeStamps[0] || after.Values[0] != before.Values[0] {
		t.Errorf("after a restart the 2-hour level holds %d points from %v, was %d from %v",
			len(after.TimeStamps), after.TimeStamps[:1], len(before.TimeStamps), before.TimeStamps[:1])
	}

	// Bounded: the 5-minute level keeps a day of 2-hour chunks per shard.
	n, err := st.CountPrefix(h.ctx, "stats/5m/")
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n > 14*3 { // a day of chunks (and the one being filled) for the three series' shards
		t.Errorf("the 5-minute level holds %d chunks after 9 days", n)
	}
}

func destroyPool(h *harness, path string) error {
	p, err := h.builder().finder.ResourcePool(h.ctx, path)
	if err != nil {
		return err
	}
	task, err := p.Destroy(h.ctx)
	if err != nil {
		return err
	}
	return task.Wait(h.ctx)
}
