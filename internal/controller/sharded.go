package controller

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/wcpd/wcpd/internal/clock"
)

// Sharded is n controllers of one reconciler: keys are reconciled n at a time, and a key always
// goes to the same controller (by its hash), so it is never reconciled twice at once.
type Sharded struct {
	shards []*Controller
}

// NewSharded builds n controllers named name-0 … name-(n-1); Run runs them.
func NewSharded(name string, n int, r Reconciler, c clock.Clock, log *slog.Logger) *Sharded {
	s := &Sharded{}
	for i := range max(n, 1) {
		s.shards = append(s.shards, New(fmt.Sprintf("%s-%d", name, i), r, c, log))
	}
	return s
}

// Run starts the controllers, which work until ctx ends.
func (s *Sharded) Run(ctx context.Context) {
	for _, c := range s.shards {
		go c.Run(ctx)
	}
}

// Enqueue asks the key's controller to reconcile it.
func (s *Sharded) Enqueue(key string) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	s.shards[h.Sum32()%uint32(len(s.shards))].Enqueue(key)
}
