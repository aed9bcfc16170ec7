// Package controller owns wcpd's level-triggered reconcile loop: a controller is told which object
// to look at (never what happened), reads the current state, moves it one step toward the desired
// state and says when to look again. Timed requeues run on the injected clock, so tests advance time
// instead of sleeping, and WaitIdle tells them when the work they caused is done.
package controller

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcpd/wcpd/internal/clock"
)

// Result says when to reconcile the same key again; the zero Result means "not until told".
type Result struct {
	RequeueAfter time.Duration
}

// Reconciler moves the object named by key one step toward its desired state. It must be
// idempotent: it may run again for the same key at any time, including after a restart.
type Reconciler interface {
	Reconcile(ctx context.Context, key string) (Result, error)
}

// Func adapts a function to Reconciler.
type Func func(ctx context.Context, key string) (Result, error)

// Reconcile calls f.
func (f Func) Reconcile(ctx context.Context, key string) (Result, error) { return f(ctx, key) }

// Backoff bounds for failed reconciles.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Controller runs one Reconciler over a deduplicated queue of keys with one worker, so a key is never
// reconciled twice at once.
type Controller struct {
	name  string
	r     Reconciler
	clock clock.Clock
	log   *slog.Logger

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []string
	queued   map[string]bool
	timers   map[string]time.Time // key -> when a timed requeue is due
	failures map[string]int
	busy     bool
	// activity counts enqueues and finished reconciles, so a Group can tell that nothing happened
	// while it looked.
	activity atomic.Uint64
}

// New returns a controller; call Run to start it.
func New(name string, r Reconciler, c clock.Clock, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctl := &Controller{name: name, r: r, clock: c, log: log.With("controller", name),
		queued: map[string]bool{}, timers: map[string]time.Time{}, failures: map[string]int{}}
	ctl.cond = sync.NewCond(&ctl.mu)
	return ctl
}

// Enqueue asks for key to be reconciled as soon as possible.
func (c *Controller) Enqueue(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.timers, key)
	c.activity.Add(1)
	if !c.queued[key] {
		c.queued[key] = true
		c.queue = append(c.queue, key)
	}
	c.cond.Broadcast()
}

// EnqueueAfter asks for key to be reconciled once d has passed on the controller's clock. An earlier
// pending request for the same key wins.
func (c *Controller) EnqueueAfter(key string, d time.Duration) {
	if d <= 0 {
		c.Enqueue(key)
		return
	}
	at := c.clock.Now().Add(d)
	c.mu.Lock()
	if due, ok := c.timers[key]; ok && !due.After(at) {
		c.mu.Unlock()
		return
	}
	c.timers[key] = at
	c.mu.Unlock()
	c.clock.AfterFunc(d, func() {
		c.mu.Lock()
		due, ok := c.timers[key]
		fire := ok && due.Equal(at)
		c.mu.Unlock()
		if fire {
			c.Enqueue(key)
		}
	})
}

// Run works the queue until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	// Woken when ctx ends, without a goroutine parked on it until then.
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && ctx.Err() == nil {
			c.cond.Wait()
		}
		if ctx.Err() != nil {
			c.mu.Unlock()
			return
		}
		key := c.queue[0]
		c.queue = c.queue[1:]
		delete(c.queued, key)
		c.busy = true
		c.mu.Unlock()

		res, err := c.reconcile(ctx, key)

		c.mu.Lock()
		var retry time.Duration
		if err != nil {
			c.failures[key]++
			retry = minBackoff << min(c.failures[key]-1, 10)
			if retry > maxBackoff {
				retry = maxBackoff
			}
		} else {
			delete(c.failures, key)
			retry = res.RequeueAfter
		}
		c.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("reconcile failed", "key", key, "error", err, "retry_in", retry)
		}
		// The timed requeue is registered while still busy: were it registered after, WaitIdle could
		// return in between, and a test advancing the clock then would see the requeue scheduled
		// from the advanced time.
		if retry > 0 && ctx.Err() == nil {
			c.EnqueueAfter(key, retry)
		}
		c.mu.Lock()
		c.busy = false
		c.activity.Add(1)
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

func (c *Controller) reconcile(ctx context.Context, key string) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("reconcile panicked", "key", key, "panic", p, "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return c.r.Reconcile(ctx, key)
}

type panicError struct{}

func (panicError) Error() string { return "reconcile panicked" }

var errPanic error = panicError{}

// WaitIdle returns once no key is queued or being reconciled (timed requeues not yet due do not
// count), or when ctx ends.
func (c *Controller) WaitIdle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for (len(c.queue) > 0 || c.busy || c.dueTimerLocked()) && ctx.Err() == nil {
		c.cond.Wait()
	}
	return ctx.Err()
}

// dueTimerLocked reports a timed requeue whose time has come but whose goroutine has not enqueued it
// yet, so WaitIdle right after a clock advance does not return early.
func (c *Controller) dueTimerLocked() bool {
	now := c.clock.Now()
	for _, at := range c.timers {
		if !at.After(now) {
			return true
		}
	}
	return false
}

// Pending lists the keys with a timed requeue not yet due, for tests and diagnostics.
func (c *Controller) Pending() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.timers))
	for k := range c.timers {
		out = append(out, k)
	}
	return out
}
