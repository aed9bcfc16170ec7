package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/clock"
)

// stepper is a toy state machine: each key advances one step per reconcile, every 10 s of clock.
type stepper struct {
	mu    sync.Mutex
	steps map[string]int
	fail  map[string]int // remaining failures before success
}

func (s *stepper) Reconcile(_ context.Context, key string) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[key] > 0 {
		s.fail[key]--
		return Result{}, errors.New("transient")
	}
	s.steps[key]++
	if s.steps[key] < 3 {
		return Result{RequeueAfter: 10 * time.Second}, nil
	}
	return Result{}, nil
}

func (s *stepper) get(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps[key]
}

func TestTimedStepsFollowTheClock(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(0, 0))
	st := &stepper{steps: map[string]int{}, fail: map[string]int{"b": 2}}
	ctl := New("test", st, fake, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go ctl.Run(ctx)
	ctl.Enqueue("a")
	ctl.Enqueue("a") // deduplicated
	if err := ctl.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if st.get("a") != 1 {
		t.Fatalf("after enqueue: %d steps", st.get("a"))
	}
	fake.Advance(9 * time.Second)
	_ = ctl.WaitIdle(ctx)
	if st.get("a") != 1 {
		t.Fatalf("stepped before its time: %d", st.get("a"))
	}
	fake.Advance(time.Second)
	_ = ctl.WaitIdle(ctx)
	if st.get("a") != 2 {
		t.Fatalf("after 10 s: %d steps", st.get("a"))
	}
	fake.Advance(10 * time.Second)
	_ = ctl.WaitIdle(ctx)
	if st.get("a") != 3 || len(ctl.Pending()) != 0 {
		t.Fatalf("after 20 s: %d steps, pending %v", st.get("a"), ctl.Pending())
	}

	// Failures back off on the clock: 200 ms, then 400 ms.
	ctl.Enqueue("b")
	_ = ctl.WaitIdle(ctx)
	fake.Advance(200 * time.Millisecond)
	_ = ctl.WaitIdle(ctx)
	if st.get("b") != 0 {
		t.Fatal("succeeded while still failing")
	}
	fake.Advance(399 * time.Millisecond)
	_ = ctl.WaitIdle(ctx)
	if st.get("b") != 0 {
		t.Fatal("retried before the backoff elapsed")
	}
	fake.Advance(time.Millisecond)
	_ = ctl.WaitIdle(ctx)
	if st.get("b") != 1 {
		t.Fatalf("after backoff: %d steps", st.get("b"))
	}
}

func TestGroupWaitsForWorkThatCausesWork(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(0, 0))
	var g Group
	var mu sync.Mutex
	var order []string
	var second *Controller
	first := New("first", Func(func(_ context.Context, key string) (Result, error) {
		mu.Lock()
		order = append(order, "first:"+key)
		mu.Unlock()
		second.Enqueue(key)
		return Result{}, nil
	}), fake, nil)
	second = New("second", Func(func(_ context.Context, key string) (Result, error) {
		mu.Lock()
		order = append(order, "second:"+key)
		mu.Unlock()
		return Result{}, nil
	}), fake, nil)
	g.Add(second) // checked first by WaitIdle, so the work it gets later must not be missed
	g.Add(first)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Run(ctx)
	first.Enqueue("x")
	if err := g.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[1] != "second:x" {
		t.Fatalf("order %v", order)
	}
}

func TestGroupSettleAdvancesAfterWorkInFlight(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(0, 0))
	st := &stepper{steps: map[string]int{}, fail: map[string]int{}}
	var g Group
	ctl := New("settle", st, fake, nil)
	g.Add(ctl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Run(ctx)
	ctl.Enqueue("k")
	// Settle waits for the first step before advancing, so its requeue is due after exactly 10 s.
	for want := 2; want <= 3; want++ {
		if err := g.Settle(ctx, fake, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := st.get("k"); got != want {
			t.Fatalf("after settling %d×10 s: %d steps, want %d", want-1, got, want)
		}
	}
}
