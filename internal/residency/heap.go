package residency

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The heap's headroom. Go's collector lets the heap grow to twice what was live after the last
// collection (GOGC=100) before it collects again: cheap in a small heap, but at 10,000 namespaces
// that is 100 MB held for nothing more than fewer collections. The governor caps the growth at
// MinHeadroom or half the live heap, whichever is more, by moving the runtime's soft memory limit
// after every collection; below that cap GOGC still decides, so a small heap is collected no more
// often than before.
const (
	MinHeadroom = 48 << 20
	liveMetric  = "/gc/heap/live:bytes"
)

// HeapLimit is the memory limit the governor sets for a live heap of live bytes.
func HeapLimit(live uint64) int64 {
	return int64(live + max(MinHeadroom, live/2))
}

// HeapGovernor follows the live heap after each collection; see GovernHeap.
type HeapGovernor struct {
	mu      sync.Mutex // orders a collection's new limit against Stop's lifting it
	stopped atomic.Bool
	limit   atomic.Int64 // the memory limit last set
}

// GovernHeap starts moving the runtime's memory limit after every collection, unless the
// environment already chose (GOMEMLIMIT, or GOGC=off, which a limit would turn into the only
// trigger). Stop ends it and lifts the limit.
func GovernHeap() *HeapGovernor {
	g := &HeapGovernor{}
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") == "off" {
		g.stopped.Store(true)
		return g
	}
	g.arm()
	return g
}

// Limit is the memory limit last set, 0 before the first collection or when not governing.
func (g *HeapGovernor) Limit() int64 { return g.limit.Load() }

// Stop ends the governing and lifts the limit.
func (g *HeapGovernor) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped.Swap(true) {
		return
	}
	debug.SetMemoryLimit(math.MaxInt64)
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
	limit := HeapLimit(sample[0].Value.Uint64())
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped.Load() {
		return
	}
	g.limit.Store(limit)
	debug.SetMemoryLimit(limit)
}
