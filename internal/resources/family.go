// Package resources owns the resource analysis API over the drs model (issue 7): the what-if
// extension (POST /api/wcpd/resources/analyze), the live analysis of a Supervisor's cluster and
// what-if changes to it (/api/wcpd/clusters/{cluster}/resources), the usage other families show
// (platform.Resources: cluster and namespace stats), and namespace_management.stats.time_series,
// sampled periodically and rolled up into a history kept in the store (history.go).
//
// The live state is read from the inventory on every request through the same property collector
// a real vCenter offers, so what govc or the other families' controllers changed is visible at
// once; docs/resource-model.md describes how inventory objects become the model's nodes.
package resources

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Sampling of stats.time_series.
const (
	// SampleInterval is how often the sampler records every Supervisor's figures.
	SampleInterval = time.Minute
)

// Family is the resources API family.
type Family struct {
	deps *platform.Deps

	// sampleInterval defaults to SampleInterval.
	sampleInterval time.Duration

	mu      sync.Mutex
	history map[seriesKey]*series
	// sampleRounds counts the sampler's rounds, each counted once its samples are in history: the
	// kept time series answers follow it.
	sampleRounds atomic.Uint64
	// closed are rolled-up points waiting to be written to the store (history.go).
	closed []closedPoint
	// entitlements holds, per cluster, what its latest analysis gives each namespace (CPU MHz,
	// memory MB).
	entitlements map[string]map[string][2]int64
	// figures and clusterUsages keep usage read from the inventory until it changes
	// (figures.go); readMu lets one request at a time read a cluster's figures.
	figures       map[string]*clusterFigures
	readings      uint64 // numbers the readings of figures
	clusterUsages map[string]keptUsage
	readMu        sync.Mutex
	// fullReadings and followedReadings count how figures were brought up to date: by reading the
	// cluster's whole tree, or only what changed (tests tell the two apart by them).
	fullReadings, followedReadings atomic.Uint64
	// trees keeps each cluster's pool tree until the inventory changes (live.go).
	trees map[string]*keptTree
}

// New builds the family and offers platform.Resources to the others.
func New(d *platform.Deps) *Family {
	f := &Family{deps: d, sampleInterval: SampleInterval,
		history: map[seriesKey]*series{}, entitlements: map[string]map[string][2]int64{},
		figures: map[string]*clusterFigures{}, clusterUsages: map[string]keptUsage{}, trees: map[string]*keptTree{}}
	if d.Families != nil {
		d.Families.Resources = f
	}
	return f
}

// The wcpd extensions this family serves, beside the catalog's stats.time_series.
var (
	analyzeBinding = vapi.Binding{Service: "com.wcpd.resources", Name: "analyze", Method: "POST",
		Path: "/wcpd/resources/analyze", Body: "spec", Status: 200, Privilege: auth.SystemRead}
	liveBinding = vapi.Binding{Service: "com.wcpd.resources.clusters", Name: "get", Method: "GET",
		Path: "/wcpd/clusters/{cluster}/resources", Status: 200, Privilege: auth.SystemRead}
	whatIfBinding = vapi.Binding{Service: "com.wcpd.resources.clusters", Name: "what_if", Method: "POST",
		Path: "/wcpd/clusters/{cluster}/resources", Body: "spec", Status: 200, Privilege: auth.SystemRead}
)

// Register attaches the family's handlers. It must not touch deps: the coverage command calls it
// on empty Deps.
func (f *Family) Register(r *vapi.Registry) {
	r.Extend(analyzeBinding, f.analyze, false)
	r.Extend(liveBinding, f.live, false)
	r.Extend(whatIfBinding, f.whatIf, false)
	r.Handle("namespace_management.stats.time_series", "get", f.timeSeries)
	// The live analysis is the model run on the inventory and the Supervisors' records, so the API
	// keeps its answer. The time series are also derived from the sampler's samples in memory and
	// from the clock (which level of the history a start time falls in): kept per sample round and
	// second.
	r.Keep(liveBinding.Service, liveBinding.Name)
	r.KeepVersioned("namespace_management.stats.time_series", "get", func() (vapi.KeptVersion, bool) {
		return vapi.KeptVersion{f.sampleRounds.Load(), uint64(f.clock().Now().Unix())}, true
	})
}

// Start starts the stats sampler; its first sample is taken at once.
func (f *Family) Start(context.Context) error {
	ctl := controller.New("resources-stats", controller.Func(f.sample), f.clock(), f.logger())
	f.deps.Controllers.Add(ctl)
	ctl.Enqueue(sampleKey)
	return nil
}

func (f *Family) clock() clock.Clock {
	if f.deps.Clock == nil {
		return clock.Real{}
	}
	return f.deps.Clock
}

func (f *Family) logger() *slog.Logger {
	if f.deps.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.deps.Logger
}
