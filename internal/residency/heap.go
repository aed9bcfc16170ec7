package residency

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The heap's headroom. Go's collector lets the heap grow by as much as was live after the last
// collection (GOGC=100) before it collects again. In a small heap that is a few MB, and a server
// answering tens of thousands of reads a second collects several times a second; at 10,000
// namespaces it is 100 MB held for nothing more than fewer collections. The governor sets the
// growth instead to MinHeadroom or half the live heap, whichever is more, by setting GOGC after
// every collection: fewer collections while the heap is small, half the headroom once it is large.
const (
	MinHeadroom = 48 << 20
	liveMetric  = "/gc/heap/live:bytes"
)

// GCPercent is the GOGC the governor sets for a live heap of live bytes.
func GCPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(max(MinHeadroom, live/2) * 100 / live)
}

// HeapGovernor follows the live heap after each collection; see GovernHeap.
type HeapGovernor struct {
	mu      sync.Mutex // orders a collection's new setting against Stop's restoring the old
	stopped atomic.Bool
	percent atomic.Int64 // the GOGC last set
	found   int          // the GOGC before the governor started
}

// GovernHeap starts setting the collector's GOGC after every collection, unless the environment
// already chose (GOGC or GOMEMLIMIT set). Stop ends it and restores the GOGC found.
func GovernHeap() *HeapGovernor {
	g := &HeapGovernor{}
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		g.stopped.Store(true)
		return g
	}
	g.found = gcPercent()
	g.arm()
	return g
}

// gcPercent is the collector's GOGC now (the runtime tells it only by setting it, so it is set back).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// Percent is the GOGC last set, 0 before the first collection or when not governing.
func (g *HeapGovernor) Percent() int { return int(g.percent.Load()) }

// Stop ends the governing and restores the GOGC found at the start.
func (g *HeapGovernor) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(g.found)
}

// gcSentinel is allocated unreachable; its finalizer runs after the collection that finds it,
// which is how the governor hears of each collection without polling. It is larger than the
// runtime's tiny-object size so no other object shares its finalizer.
type gcSentinel struct{ _ [32]byte }

func (g *HeapGovernor) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if g.stopped.Load() {
			return
		}
		g.afterCollection()
		g.arm()
	})
}

func (g *HeapGovernor) afterCollection() {
	sample := []metrics.Sample{{Name: liveMetric}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	percent := GCPercent(sample[0].Value.Uint64())
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped.Load() {
		return
	}
	g.percent.Store(int64(percent))
	debug.SetGCPercent(percent)
}
