package controller

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"

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
