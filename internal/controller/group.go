package controller

import (
	"context"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/clock"
)

// Group runs a set of controllers and waits for all of them to be idle.
type Group struct {
	mu   sync.Mutex
	ctls []*Controller
	ctx  context.Context
}

// Add registers c; if the group is already running, c starts at once.
func (g *Group) Add(c *Controller) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ctls = append(g.ctls, c)
	if g.ctx != nil {
		go c.Run(g.ctx)
	}
}

// AddSharded registers every controller of s, so WaitIdle and Settle wait for all its shards.
// Register s here or run it with its own Run, not both.
func (g *Group) AddSharded(s *Sharded) {
	for _, c := range s.shards {
		g.Add(c)
	}
}

// Run starts every controller added so far (and any added later) until ctx ends.
func (g *Group) Run(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ctx = ctx
	for _, c := range g.ctls {
		go c.Run(ctx)
	}
}

// WaitIdle returns once every controller is idle at the same time, or ctx ends. A controller's work
// can enqueue another's, so it checks all again until a full pass finds nothing to wait for.
func (g *Group) WaitIdle(ctx context.Context) error {
	for {
		g.mu.Lock()
		ctls := append([]*Controller(nil), g.ctls...)
		g.mu.Unlock()
		before := activity(ctls)
		for _, c := range ctls {
			if err := c.WaitIdle(ctx); err != nil {
				return err
			}
		}
		if activity(ctls) == before {
			return nil
		}
	}
}

func activity(ctls []*Controller) uint64 {
	var n uint64
	for _, c := range ctls {
		n += c.activity.Load()
	}
	return n
}

// Settle lets asynchronous work progress on a fake clock: it waits until every controller is idle,
// advances c by d, and waits again. Waiting first matters: a reconcile still running when the clock
// jumps would schedule its next step from the advanced time and miss the jump.
func (g *Group) Settle(ctx context.Context, c *clock.Fake, d time.Duration) error {
	if err := g.WaitIdle(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.Advance(d)
	return g.WaitIdle(ctx)
}
