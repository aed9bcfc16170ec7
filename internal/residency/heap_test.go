package residency

import (
	"runtime"
	"testing"
)

func TestHeadroomIsHalfTheLiveHeapOrTheMinimum(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{16 << 20, 300}, // a small heap may grow by the minimum: three times itself
		{96 << 20, 50},  // exactly the minimum, half of it
		{400 << 20, 50}, // at size: half the live heap, where GOGC=100 would allow all of it
		{MinHeadroom, 100},
	} {
		if got := GCPercent(c.live); got != c.want {
			t.Errorf("GCPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

func TestGovernorFollowsTheLiveHeapAfterEachCollection(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	found := gcPercent()
	g := GovernHeap()
	defer g.Stop()
	kept := make([]byte, 192<<20) // live across the collections below: past twice the minimum
	// The finalizer that reports a collection runs in the runtime's finalizer goroutine after it:
	// collect until it has.
	for i := 0; g.Percent() == 0 && i < 1000; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := g.Percent(); got < 50 || got > 60 {
		t.Fatalf("GOGC %d with %d MiB live: want about 50 (half the live heap)", got, len(kept)>>20)
	}
	if got := gcPercent(); got != g.Percent() {
		t.Fatalf("the runtime's GOGC is %d, the governor says it set %d", got, g.Percent())
	}
	runtime.KeepAlive(kept)
	g.Stop()
	if got := gcPercent(); got != found {
		t.Fatalf("after Stop GOGC is %d, want the %d found", got, found)
	}
}

func TestGovernorLeavesAChoiceOfTheEnvironmentAlone(t *testing.T) {
	t.Setenv("GOGC", "400")
	found := gcPercent()
	g := GovernHeap()
	defer g.Stop()
	for range 3 {
		runtime.GC()
		runtime.Gosched()
	}
	if g.Percent() != 0 || gcPercent() != found {
		t.Fatalf("governed despite GOGC in the environment: set %d, runtime has %d", g.Percent(), gcPercent())
	}
}
