// Package clock owns wcpd's notion of time. Everything that waits or stamps times takes a Clock, so
// tests advance a Fake instead of sleeping.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock is the time source used by sessions, controllers and anything that records when things happened.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has elapsed on this clock, in a goroutine of its own on the wall
	// clock and within Advance on a Fake. Nothing waits parked until then: a server with thousands
	// of timed requeues keeps no goroutine for each.
	AfterFunc(d time.Duration, f func())
}

// Real is the wall clock.
type Real struct{}

// Now returns the current wall-clock time.
func (Real) Now() time.Time { return time.Now() }

// AfterFunc runs f on the wall clock's timer.
func (Real) AfterFunc(d time.Duration, f func()) { time.AfterFunc(d, f) }

// Fake is a manually advanced clock for tests.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

// waiter is one pending AfterFunc.
type waiter struct {
	at time.Time
	fn func()
}

// NewFake returns a fake clock standing at start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// AfterFunc calls f within the Advance that moves the fake past d from now (at once when d <= 0).
func (f *Fake) AfterFunc(d time.Duration, fn func()) {
	if d <= 0 {
		fn()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), fn: fn})
}

// Advance moves the fake forward by d and fires every waiter that is due, earliest first.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	now := f.now
	var due, pending []waiter
	for _, w := range f.waiters {
		if !w.at.After(now) {
			due = append(due, w)
		} else {
			pending = append(pending, w)
		}
	}
	f.waiters = pending
	f.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, w := range due {
		w.fn()
	}
}
