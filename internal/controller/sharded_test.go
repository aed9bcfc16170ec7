package controller

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/clock"
)

// TestShardedReconcilesEveryKeyOnOneShard: every key enqueued is reconciled, and a key is never
// reconciled by two shards at once.
func TestShardedReconcilesEveryKeyOnOneShard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	running, seen := map[string]bool{}, map[string]int{}
	done := make(chan struct{})
	const keys = 200
	s := NewSharded("test", 4, Func(func(ctx context.Context, key string) (Result, error) {
		mu.Lock()
		if running[key] {
			t.Errorf("key %s reconciled twice at once", key)
		}
		running[key] = true
		mu.Unlock()
		runtime.Gosched() // let another shard run meanwhile, were it given the same key
		mu.Lock()
		running[key] = false
		seen[key]++
		if len(seen) == keys && seen[key] == 1 {
			select {
			case <-done:
			default:
				close(done)
			}
		}
		mu.Unlock()
		return Result{}, nil
	}), clock.Real{}, slog.New(slog.DiscardHandler))
	s.Run(ctx)
	for i := range keys {
		s.Enqueue(fmt.Sprintf("key-%d", i))
		s.Enqueue(fmt.Sprintf("key-%d", i))
	}
	<-done
	if len(seen) != keys {
		t.Fatalf("%d keys reconciled, want %d", len(seen), keys)
	}
}

// TestGroupSettlesEveryShard: a Group that holds a Sharded waits for the work of all its shards,
// and their timed requeues follow the group's clock.
func TestGroupSettlesEveryShard(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(0, 0))
	st := &stepper{steps: map[string]int{}, fail: map[string]int{}}
	s := NewSharded("settle", 4, st, fake, nil)
	var g Group
	g.AddSharded(s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Run(ctx)
	const keys = 50
	for i := range keys {
		s.Enqueue(fmt.Sprintf("key-%d", i))
	}
	for want := 1; want <= 3; want++ {
		d := 10 * time.Second
		if want == 1 {
			d = 0 // the first step needs no time
		}
		if err := g.Settle(ctx, fake, d); err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			if got := st.get(fmt.Sprintf("key-%d", i)); got != want {
				t.Fatalf("key-%d after %d steps' time: %d steps, want %d", i, want, got, want)
			}
		}
	}
}
