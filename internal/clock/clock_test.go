package clock

import (
	"testing"
	"time"
)

func TestFakeFiresOnlyWhenDue(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var fired []time.Time
	f.AfterFunc(10*time.Second, func() { fired = append(fired, f.Now()) })
	f.Advance(9 * time.Second)
	if len(fired) != 0 {
		t.Fatal("fired before it was due")
	}
	f.Advance(time.Second)
	if len(fired) != 1 || !fired[0].Equal(start.Add(10*time.Second)) {
		t.Fatalf("fired at %v, want once at %v", fired, start.Add(10*time.Second))
	}
	f.Advance(time.Hour)
	if len(fired) != 1 {
		t.Fatalf("fired again: %v", fired)
	}
}

func TestFakeAfterFuncRunsWithinTheAdvanceThatMakesItDue(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var calls []string
	f.AfterFunc(5*time.Second, func() { calls = append(calls, "late") })
	f.AfterFunc(2*time.Second, func() { calls = append(calls, "early") })
	f.AfterFunc(0, func() { calls = append(calls, "now") })
	if len(calls) != 1 || calls[0] != "now" {
		t.Fatalf("before any advance: calls %v, want only the one due now", calls)
	}
	f.Advance(time.Second)
	if len(calls) != 1 {
		t.Fatalf("ran before due: %v", calls)
	}
	f.Advance(10 * time.Second)
	if got := len(calls); got != 3 || calls[1] != "early" || calls[2] != "late" {
		t.Fatalf("after the advance: %v (want now, early, late)", calls)
	}
	f.Advance(time.Hour)
	if len(calls) != 3 {
		t.Fatalf("ran again: %v", calls)
	}
}
