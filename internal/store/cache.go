package store

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// EventType says whether a record was written or removed.
type EventType int

const (
	Put EventType = iota + 1
	Delete
)

func (t EventType) String() string {
	switch t {
	case Put:
		return "Put"
	case Delete:
		return "Delete"
	}
	return "EventType(?)"
}

// Event is one change to a collection. For Delete, Record holds the last
// value the record had and Revision is the revision of the deletion.
type Event[T any] struct {
	Type   EventType
	Record Record[T]
}

// WatchOption adjusts Watch.
type WatchOption func(*watchOptions)

type watchOptions struct{ existing bool }

// WithExisting makes Watch first deliver a Put event for every record in the
// collection (sorted by key), then the changes that follow, with no gap.
func WithExisting() WatchOption { return func(o *watchOptions) { o.existing = true } }

// change is a cache update waiting to be delivered to a watcher.
type change[T any] struct {
	typ   EventType
	entry *entry[T] // for Delete, the record as it was before
	rev   int64
}

type watcher[T any] struct {
	out     chan Event[T]
	mu      sync.Mutex
	pending []change[T] // unbounded, so a slow reader never stalls the cache
	wake    chan struct{}
}

func (w *watcher[T]) enqueue(changes []change[T]) {
	w.mu.Lock()
	w.pending = append(w.pending, changes...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Watch delivers every change to the collection made after the call, in
// revision order, until ctx ends or the Store closes; then the channel is
// closed. Changes are never dropped: a slow reader only makes them queue.
// If the store's own etcd watch breaks (history compacted, connection lost),
// the cache reloads the kind and the watcher gets one event per record that
// differs, not every intermediate version.
func (c *Collection[T]) Watch(ctx context.Context, opts ...WatchOption) <-chan Event[T] {
	var o watchOptions
	for _, opt := range opts {
		opt(&o)
	}
	w := &watcher[T]{out: make(chan Event[T]), wake: make(chan struct{}, 1)}
	s := c.store
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(w.out)
		return w.out
	}
	s.wg.Add(1)
	s.mu.Unlock()

	c.mu.Lock()
	if o.existing {
		sorted := c.sortedLocked()
		initial := make([]change[T], len(sorted))
		for i, e := range sorted {
			initial[i] = change[T]{typ: Put, entry: e, rev: e.rev}
		}
		w.enqueue(initial)
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()

	go func() {
		defer s.wg.Done()
		defer close(w.out)
		defer func() {
			c.mu.Lock()
			delete(c.watchers, w)
			c.mu.Unlock()
		}()
		c.forward(ctx, w)
	}()
	return w.out
}

func (c *Collection[T]) forward(ctx context.Context, w *watcher[T]) {
	for {
		select {
		case <-w.wake:
		case <-ctx.Done():
			return
		case <-c.store.ctx.Done():
			return
		}
		w.mu.Lock()
		batch := w.pending
		w.pending = nil
		w.mu.Unlock()
		for _, ch := range batch {
			ev := Event[T]{Type: ch.typ, Record: c.record(ch.entry, ch.rev)}
			select {
			case w.out <- ev:
			case <-ctx.Done():
				return
			case <-c.store.ctx.Done():
				return
			}
		}
	}
}

// run keeps the cache following etcd from revision from until the Store
// closes, reloading the whole kind whenever the watch breaks.
func (c *Collection[T]) run(from int64) {
	ctx := c.store.ctx
	logger := c.store.logger.With("kind", c.kind)
	const minBackoff, maxBackoff = 50 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for {
		c.follow(ctx, from)
		for {
			if ctx.Err() != nil {
				return
			}
			rev, err := c.relist(ctx)
			if err == nil {
				from = rev + 1
				backoff = minBackoff
				break
			}
			logger.Warn("store: reloading cache failed; retrying", "error", err, "retry_in", backoff)
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// follow applies watch events from revision from until the watch ends.
func (c *Collection[T]) follow(ctx context.Context, from int64) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := c.store.client.Watch(clientv3.WithRequireLeader(ctx), c.prefix,
		clientv3.WithPrefix(), clientv3.WithRev(from))
	for resp := range events {
		if err := resp.Err(); err != nil {
			if ctx.Err() == nil {
				c.store.logger.Warn("store: watch interrupted; reloading", "kind", c.kind, "error", err)
			}
			return
		}
		c.apply(resp)
	}
}

func (c *Collection[T]) apply(resp clientv3.WatchResponse) {
	decoded := make([]*entry[T], len(resp.Events))
	for i, ev := range resp.Events {
		if ev.Type == mvccpb.PUT {
			decoded[i], _ = c.decodeKV(ev.Kv) // nil if it does not decode: treated as absent
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	rev := c.rev
	changes := make([]change[T], 0, len(resp.Events))
	for i, ev := range resp.Events {
		if ev.Kv.ModRevision < c.rev {
			continue // already part of the cache (cannot happen with a watch started after the load)
		}
		key := string(ev.Kv.Key[len(c.prefix):])
		if e := decoded[i]; e != nil {
			c.putLocked(e)
			changes = append(changes, change[T]{typ: Put, entry: e, rev: e.rev})
		} else if old := c.deleteLocked(key); old != nil {
			changes = append(changes, change[T]{typ: Delete, entry: old, rev: ev.Kv.ModRevision})
		}
		rev = ev.Kv.ModRevision
	}
	if resp.IsProgressNotify() {
		rev = resp.Header.Revision
	}
	c.notifyLocked(changes)
	c.advanceLocked(rev)
}

// relist replaces the cache with the kind's current contents in etcd,
// telling watchers about every record that differs, and returns the
// revision the cache now reflects.
func (c *Collection[T]) relist(ctx context.Context) (int64, error) {
	resp, err := c.store.client.Get(ctx, c.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	fresh := make(map[string]*entry[T], len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if e, ok := c.decodeKV(kv); ok {
			fresh[e.key] = e
		}
	}
	listedAt := resp.Header.Revision

	c.mu.Lock()
	defer c.mu.Unlock()
	var changes []change[T]
	for key, e := range fresh {
		if old := c.items[key]; old == nil || old.rev != e.rev {
			changes = append(changes, change[T]{typ: Put, entry: e, rev: e.rev})
		}
	}
	for key, old := range c.items {
		if fresh[key] == nil {
			changes = append(changes, change[T]{typ: Delete, entry: old, rev: listedAt})
		}
	}
	slices.SortFunc(changes, func(a, b change[T]) int {
		return cmp.Or(cmp.Compare(a.rev, b.rev), cmp.Compare(a.entry.key, b.entry.key))
	})
	c.items = fresh
	c.sorted = nil
	c.notifyLocked(changes)
	c.advanceLocked(listedAt)
	return listedAt, nil
}

func (c *Collection[T]) putLocked(e *entry[T]) {
	_, existed := c.items[e.key]
	c.items[e.key] = e
	if !existed {
		c.sorted = nil
		return
	}
	if c.sorted != nil {
		// Same key set: replace in place (readers work on copies of the slice).
		if i, found := slices.BinarySearchFunc(c.sorted, e.key, func(x *entry[T], k string) int {
			return cmp.Compare(x.key, k)
		}); found {
			c.sorted[i] = e
		}
	}
}

func (c *Collection[T]) deleteLocked(key string) *entry[T] {
	old := c.items[key]
	if old != nil {
		delete(c.items, key)
		c.sorted = nil
	}
	return old
}

func (c *Collection[T]) notifyLocked(changes []change[T]) {
	if len(changes) == 0 {
		return
	}
	for w := range c.watchers {
		w.enqueue(changes)
	}
}

func (c *Collection[T]) advanceLocked(rev int64) {
	if rev > c.rev {
		c.rev = rev
		// Counted while the change is applied and before any writer waiting for it is woken, so
		// a reader that sees the new count also sees the change (Store.Changes).
		c.store.changes.Add(1)
		close(c.advanced)
		c.advanced = make(chan struct{})
	}
}

// sortedLocked returns the entries ordered by key, building the order if
// needed. The caller must hold c.mu for writing.
func (c *Collection[T]) sortedLocked() []*entry[T] {
	if c.sorted == nil {
		sorted := make([]*entry[T], 0, len(c.items))
		for _, e := range c.items {
			sorted = append(sorted, e)
		}
		slices.SortFunc(sorted, func(a, b *entry[T]) int { return cmp.Compare(a.key, b.key) })
		c.sorted = sorted
	}
	return c.sorted
}

// snapshot returns a private copy of the entries ordered by key.
func (c *Collection[T]) snapshot() []*entry[T] {
	c.mu.RLock()
	if c.sorted != nil {
		out := slices.Clone(c.sorted)
		c.mu.RUnlock()
		return out
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sortedLocked())
}

// WatchKeys calls fn, in a goroutine of its own and one call at a time, with the key of every record
// of the collection that changes after the call, until ctx ends or the Store closes. It is the
// watch families offer each other: they learn which record to look at, never what happened.
func (c *Collection[T]) WatchKeys(ctx context.Context, fn func(key string)) {
	events := c.Watch(ctx)
	go func() {
		for ev := range events {
			fn(ev.Record.Key)
		}
	}()
}
