package residency

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestHeapLimitIsHalfTheLiveHeapOrTheMinimumAbove(t *testing.T) {
	for _, c := range []struct{ live, want uint64 }{
		{0, MinHeadroom},
		{10 << 20, 10<<20 + MinHeadroom},
		{200 << 20, 300 << 20}, // at size: half the live heap, where GOGC=100 would allow all of it
	} {
		if got := HeapLimit(c.live); got != int64(c.want) {
			t.Errorf("HeapLimit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

func TestGovernorFollowsTheLiveHeapAfterEachCollection(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	g := GovernHeap()
	defer g.Stop()
	kept := make([]byte, 64<<20) // live across the collections below
	// The finalizer that reports a collection runs in the runtime's finalizer goroutine after it:
	// collect until it has.
	for i := 0; g.Limit() == 0 && i < 1000; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	limit := g.Limit()
	if limit < int64(len(kept))+MinHeadroom {
		t.Fatalf("limit %d MiB with %d MiB live: want at least the live heap and %d MiB", limit>>20, len(kept)>>20, MinHeadroom>>20)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("runtime's memory limit %d, governor says it set %d", got, limit)
	}
	runtime.KeepAlive(kept)
	g.Stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("after Stop the memory limit is %d MiB, want none", got>>20)
	}
}

func TestGovernorLeavesAChoiceOfTheEnvironmentAlone(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	g := GovernHeap()
	defer g.Stop()
	for range 3 {
		runtime.GC()
		runtime.Gosched()
	}
	if g.Limit() != 0 {
		t.Fatalf("governed despite GOMEMLIMIT: limit %d", g.Limit())
	}
}
