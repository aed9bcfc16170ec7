package clock

import (
	"testing"
	"time"
)

func TestFakeFiresOnlyWhenDue(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	ch := f.After(10 * time.Second)
	f.Advance(9 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired before it was due")
	default:
	}
	f.Advance(time.Second)
	select {
	case got := <-ch:
		if !got.Equal(start.Add(10 * time.Second)) {
			t.Fatalf("fired at %v", got)
		}
	default:
		t.Fatal("did not fire when due")
	}
	if f.Waiters() != 0 {
		t.Fatalf("waiters left: %d", f.Waiters())
	}
}

func TestFakeAfterFuncRunsWithinTheAdvanceThatMakesItDue(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var calls []string
	f.AfterFunc(5*time.Second, func() { calls = append(calls, "late") })
	f.AfterFunc(2*time.Second, func() { calls = append(calls, "early") })
	f.AfterFunc(0, func() { calls = append(calls, "now") })
	if len(calls) != 1 || calls[0] != "now" || f.Waiters() != 2 {
		t.Fatalf("before any advance: calls %v, waiters %d", calls, f.Waiters())
	}
	f.Advance(time.Second)
	if len(calls) != 1 {
		t.Fatalf("ran before due: %v", calls)
	}
	f.Advance(10 * time.Second)
	if got := len(calls); got != 3 || calls[1] != "early" || calls[2] != "late" {
		t.Fatalf("after the advance: %v (want now, early, late)", calls)
	}
	if f.Waiters() != 0 {
		t.Fatalf("waiters left: %d", f.Waiters())
	}
}
