package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxMutateAttempts bounds Mutate's retries when another writer keeps
// changing the record between its read and its write.
const maxMutateAttempts = 16

// loadTimeout bounds NewCollection's initial read of the kind.
const loadTimeout = 30 * time.Second

// Record is one stored value with its etcd revisions.
type Record[T any] struct {
	Key      string
	Value    T
	Revision int64 // etcd ModRevision; pass it to Update or Delete to detect concurrent changes
	Created  int64 // etcd CreateRevision; changes when a key is deleted and created again
}

// RawRecord is a cached record in its stored JSON form. JSON is shared with
// the cache and must not be modified.
type RawRecord struct {
	Key      string
	JSON     []byte
	Revision int64
	Created  int64
}

// A Collection is one kind of record (JSON-encoded T) stored under
// <prefix><kind>/<key>. Reads are served from an in-memory cache that an
// etcd watch keeps current; writes go to etcd and return once the cache
// has applied them, so a Get after a write sees that write.
//
// Get, List and Watch hand out freshly decoded values that callers own;
// ListShared, RawJSON and ListRaw hand out the cache's own, read-only.
type Collection[T any] struct {
	store  *Store
	kind   string
	prefix string // <store prefix><kind>/

	mu    sync.RWMutex
	items map[string]*entry[T]
	// sorted holds items ordered by key; nil after a key was added or
	// removed, rebuilt by the next reader that needs it.
	sorted   []*entry[T]
	rev      int64         // the cache reflects etcd up to this revision
	advanced chan struct{} // closed and replaced whenever rev moves forward
	watchers map[*watcher[T]]struct{}

	mutateLocks keyLocks
}

// entry is an immutable cached record; updates replace the pointer.
type entry[T any] struct {
	key     string
	raw     []byte
	value   T // decoded once from raw; shared by ListShared's callers
	rev     int64
	created int64
}

// NewCollection opens the collection of records of the given kind: it loads
// them into the cache and starts following changes. Opening the same kind
// twice on one Store returns the same Collection.
func NewCollection[T any](s *Store, kind string) (*Collection[T], error) {
	if kind == "" || strings.Contains(kind, "/") || kind == metaKind {
		return nil, fmt.Errorf("store: invalid kind %q (must be non-empty, without '/', and not %q)", kind, metaKind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if existing, ok := s.collections[kind]; ok {
		if c, ok := existing.(*Collection[T]); ok {
			return c, nil
		}
		return nil, fmt.Errorf("store: kind %q is already open with record type %T", kind, existing)
	}
	c := newCollection[T](s, kind)
	ctx, cancel := context.WithTimeout(s.ctx, loadTimeout)
	rev, err := c.relist(ctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("store: loading %s records: %w", kind, err)
	}
	s.collections[kind] = c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run(rev + 1)
	}()
	return c, nil
}

// newCollection returns an empty collection that does not follow etcd yet.
func newCollection[T any](s *Store, kind string) *Collection[T] {
	return &Collection[T]{
		store:    s,
		kind:     kind,
		prefix:   s.prefix + kind + "/",
		items:    map[string]*entry[T]{},
		advanced: make(chan struct{}),
		watchers: map[*watcher[T]]struct{}{},
	}
}

// Kind reports the record kind the collection holds.
func (c *Collection[T]) Kind() string { return c.kind }

// Get returns the cached record under key. The value is a private copy.
func (c *Collection[T]) Get(key string) (Record[T], bool) {
	c.mu.RLock()
	e := c.items[key]
	c.mu.RUnlock()
	if e == nil {
		return Record[T]{}, false
	}
	return c.record(e, e.rev), true
}

// List returns every cached record, sorted by key. Values are private copies.
func (c *Collection[T]) List() []Record[T] {
	entries := c.snapshot()
	out := make([]Record[T], len(entries))
	for i, e := range entries {
		out[i] = c.record(e, e.rev)
	}
	return out
}

// ListShared returns every cached record, sorted by key, each pointing at the
// cache's own value: values are shared with the cache and with other callers,
// so they (and any maps, slices and pointers inside them) must not be
// modified. It is for large read-only paths; List costs a JSON decode per
// record, and copying the values would cost their size (4 MB at 10,000
// namespaces).
func (c *Collection[T]) ListShared() []Record[*T] {
	entries := c.snapshot()
	out := make([]Record[*T], len(entries))
	for i, e := range entries {
		out[i] = Record[*T]{Key: e.key, Value: &e.value, Revision: e.rev, Created: e.created}
	}
	return out
}

// RawJSON returns the cached JSON of the record under key without decoding
// it. The bytes are shared with the cache and must not be modified.
func (c *Collection[T]) RawJSON(key string) ([]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.items[key]; e != nil {
		return e.raw, true
	}
	return nil, false
}

// ListRaw returns every cached record in its stored JSON form, sorted by
// key, without decoding (for encoders that serve large lists).
func (c *Collection[T]) ListRaw() []RawRecord {
	entries := c.snapshot()
	out := make([]RawRecord, len(entries))
	for i, e := range entries {
		out[i] = RawRecord{Key: e.key, JSON: e.raw, Revision: e.rev, Created: e.created}
	}
	return out
}

// Revision reports the etcd revision the cache reflects. It moves forward with every change to the
// collection (and on a reload), never otherwise, so an answer derived from the cache at one revision
// is still current while Revision returns the same value: callers use it to reuse encoded lists.
func (c *Collection[T]) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// Len reports how many records the cache holds.
func (c *Collection[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Create stores v under key; it fails with ErrExists if the key is taken.
func (c *Collection[T]) Create(ctx context.Context, key string, v T) (Record[T], error) {
	full, data, err := c.prepareWrite(key, v)
	if err != nil {
		return Record[T]{}, err
	}
	resp, err := c.store.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(full), "=", 0)).
		Then(clientv3.OpPut(full, string(data))).
		Commit()
	if err != nil {
		return Record[T]{}, c.etcdErr("create", key, err)
	}
	if !resp.Succeeded {
		return Record[T]{}, fmt.Errorf("%w: %s %q", ErrExists, c.kind, key)
	}
	rev := resp.Header.Revision
	return c.written(ctx, Record[T]{Key: key, Value: v, Revision: rev, Created: rev})
}

// Update replaces the record under key if its revision is still rev. It
// fails with ErrNotFound if the record is gone and ErrConflict if it has
// changed. (A conflicting write made through another Store may take a
// moment to reach this Store's cache; Mutate does not depend on the cache
// when it retries.)
func (c *Collection[T]) Update(ctx context.Context, key string, rev int64, v T) (Record[T], error) {
	if rev <= 0 {
		return Record[T]{}, fmt.Errorf("store: update %s %q: revision must be positive, got %d", c.kind, key, rev)
	}
	full, data, err := c.prepareWrite(key, v)
	if err != nil {
		return Record[T]{}, err
	}
	resp, err := c.store.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(full), "=", rev)).
		Then(clientv3.OpPut(full, string(data), clientv3.WithPrevKV())).
		Else(clientv3.OpGet(full)).
		Commit()
	if err != nil {
		return Record[T]{}, c.etcdErr("update", key, err)
	}
	if !resp.Succeeded {
		return Record[T]{}, c.mismatch(key, resp)
	}
	prev := resp.Responses[0].GetResponsePut().PrevKv
	return c.written(ctx, Record[T]{Key: key, Value: v, Revision: resp.Header.Revision, Created: prev.CreateRevision})
}

// Put stores v under key whether or not a record exists. Controllers that
// write status should use Mutate, which does not lose concurrent changes.
func (c *Collection[T]) Put(ctx context.Context, key string, v T) (Record[T], error) {
	full, data, err := c.prepareWrite(key, v)
	if err != nil {
		return Record[T]{}, err
	}
	resp, err := c.store.client.Put(ctx, full, string(data), clientv3.WithPrevKV())
	if err != nil {
		return Record[T]{}, c.etcdErr("put", key, err)
	}
	rec := Record[T]{Key: key, Value: v, Revision: resp.Header.Revision, Created: resp.Header.Revision}
	if resp.PrevKv != nil {
		rec.Created = resp.PrevKv.CreateRevision
	}
	return c.written(ctx, rec)
}

// Delete removes the record under key if its revision is still rev (any
// revision if rev is 0). It fails with ErrNotFound or ErrConflict.
func (c *Collection[T]) Delete(ctx context.Context, key string, rev int64) error {
	if rev < 0 {
		return fmt.Errorf("store: delete %s %q: revision must not be negative, got %d", c.kind, key, rev)
	}
	full, err := c.fullKey(key)
	if err != nil {
		return err
	}
	var deletedAt int64
	if rev == 0 {
		resp, err := c.store.client.Delete(ctx, full)
		if err != nil {
			return c.etcdErr("delete", key, err)
		}
		if resp.Deleted == 0 {
			return fmt.Errorf("%w: %s %q", ErrNotFound, c.kind, key)
		}
		deletedAt = resp.Header.Revision
	} else {
		resp, err := c.store.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(full), "=", rev)).
			Then(clientv3.OpDelete(full)).
			Else(clientv3.OpGet(full)).
			Commit()
		if err != nil {
			return c.etcdErr("delete", key, err)
		}
		if !resp.Succeeded {
			return c.mismatch(key, resp)
		}
		deletedAt = resp.Header.Revision
	}
	if err := c.awaitApplied(ctx, deletedAt); err != nil {
		return c.notYetVisible(key, deletedAt, err)
	}
	return nil
}

// Mutate reads the record under key, lets fn change it, and writes the result
// if the record has not changed in between; otherwise it calls fn again on
// the newer record, up to 16 times before giving up with ErrConflict. An
// error from fn aborts without writing. If fn leaves the value's encoding
// unchanged, nothing is written and the current record is returned.
//
// Mutates of one key through one Store run one at a time, so they only
// conflict with other processes and with Update/Put/Delete.
func (c *Collection[T]) Mutate(ctx context.Context, key string, fn func(v *T) error) (Record[T], error) {
	full, err := c.fullKey(key)
	if err != nil {
		return Record[T]{}, err
	}
	unlock, err := c.mutateLocks.lock(ctx, key)
	if err != nil {
		return Record[T]{}, err
	}
	defer unlock()

	c.mu.RLock()
	cur := c.items[key]
	c.mu.RUnlock()
	if cur == nil {
		// Another process sharing etcd may have created it a moment ago.
		resp, err := c.store.client.Get(ctx, full)
		if err != nil {
			return Record[T]{}, c.etcdErr("mutate", key, err)
		}
		if len(resp.Kvs) == 0 {
			return Record[T]{}, fmt.Errorf("%w: %s %q", ErrNotFound, c.kind, key)
		}
		// Only raw and the revisions of cur are used below; it never enters the cache.
		cur = &entry[T]{key: key, raw: resp.Kvs[0].Value, rev: resp.Kvs[0].ModRevision, created: resp.Kvs[0].CreateRevision}
	}

	for range maxMutateAttempts {
		var v T
		if err := json.Unmarshal(cur.raw, &v); err != nil {
			return Record[T]{}, fmt.Errorf("store: decoding %s %q: %w", c.kind, key, err)
		}
		if err := fn(&v); err != nil {
			return Record[T]{}, err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return Record[T]{}, fmt.Errorf("store: encoding %s %q: %w", c.kind, key, err)
		}
		if bytes.Equal(data, cur.raw) {
			// Unchanged: skip the write so idempotent reconcilers do not
			// bump revisions and wake every watcher.
			return Record[T]{Key: key, Value: v, Revision: cur.rev, Created: cur.created}, nil
		}
		resp, err := c.store.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(full), "=", cur.rev)).
			Then(clientv3.OpPut(full, string(data))).
			Else(clientv3.OpGet(full)).
			Commit()
		if err != nil {
			return Record[T]{}, c.etcdErr("mutate", key, err)
		}
		if resp.Succeeded {
			return c.written(ctx, Record[T]{Key: key, Value: v, Revision: resp.Header.Revision, Created: cur.created})
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return Record[T]{}, fmt.Errorf("%w: %s %q", ErrNotFound, c.kind, key)
		}
		// Retry on the record as etcd has it now, not on the cache, which
		// may not have caught up with the conflicting write yet.
		cur = &entry[T]{key: key, raw: kvs[0].Value, rev: kvs[0].ModRevision, created: kvs[0].CreateRevision}
	}
	return Record[T]{}, fmt.Errorf("%w: %s %q kept changing; gave up after %d attempts", ErrConflict, c.kind, key, maxMutateAttempts)
}

func (c *Collection[T]) fullKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("store: empty %s key", c.kind)
	}
	if err := c.store.closedErr(); err != nil {
		return "", err
	}
	return c.prefix + key, nil
}

func (c *Collection[T]) prepareWrite(key string, v T) (string, []byte, error) {
	full, err := c.fullKey(key)
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", nil, fmt.Errorf("store: encoding %s %q: %w", c.kind, key, err)
	}
	return full, data, nil
}

// written waits until the cache shows the write described by rec, so the
// caller's next read sees it.
func (c *Collection[T]) written(ctx context.Context, rec Record[T]) (Record[T], error) {
	if err := c.awaitApplied(ctx, rec.Revision); err != nil {
		return rec, c.notYetVisible(rec.Key, rec.Revision, err)
	}
	return rec, nil
}

func (c *Collection[T]) notYetVisible(key string, rev int64, err error) error {
	return fmt.Errorf("store: %s %q was written at revision %d but the cache has not caught up: %w", c.kind, key, rev, err)
}

// mismatch turns a failed revision compare into ErrNotFound or ErrConflict.
func (c *Collection[T]) mismatch(key string, resp *clientv3.TxnResponse) error {
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return fmt.Errorf("%w: %s %q", ErrNotFound, c.kind, key)
	}
	return fmt.Errorf("%w: %s %q is at revision %d", ErrConflict, c.kind, key, kvs[0].ModRevision)
}

func (c *Collection[T]) etcdErr(op, key string, err error) error {
	if c.store.ctx.Err() != nil {
		return ErrClosed
	}
	return fmt.Errorf("store: %s %s %q: %w", op, c.kind, key, err)
}

// awaitApplied blocks until the cache reflects revision rev, which must be
// the revision of a change under this collection's prefix.
func (c *Collection[T]) awaitApplied(ctx context.Context, rev int64) error {
	for {
		c.mu.RLock()
		cur, advanced := c.rev, c.advanced
		c.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.store.ctx.Done():
			return ErrClosed
		}
	}
}

// record decodes a cached entry into a value the caller owns.
func (c *Collection[T]) record(e *entry[T], rev int64) Record[T] {
	var v T
	if err := json.Unmarshal(e.raw, &v); err != nil {
		// Entries are decoded once before they enter the cache, so the same
		// bytes cannot fail now.
		panic(fmt.Sprintf("store: cached %s %q no longer decodes: %v", c.kind, e.key, err))
	}
	return Record[T]{Key: e.key, Value: v, Revision: rev, Created: e.created}
}

// decodeKV turns an etcd key-value into a cache entry, refusing values that
// do not decode as T (they are logged and left out of the cache).
func (c *Collection[T]) decodeKV(kv *mvccpb.KeyValue) (*entry[T], bool) {
	key := strings.TrimPrefix(string(kv.Key), c.prefix)
	var v T
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		c.store.logger.Error("store: ignoring record that does not decode", "kind", c.kind, "key", key,
			"revision", kv.ModRevision, "error", err)
		return nil, false
	}
	return &entry[T]{key: key, raw: kv.Value, value: v, rev: kv.ModRevision, created: kv.CreateRevision}, true
}

// keyLocks serialises Mutate calls per key.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]*keyLock
}

type keyLock struct {
	token chan struct{} // holds one token while the key is locked
	refs  int
}

func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.held == nil {
		k.held = map[string]*keyLock{}
	}
	l := k.held[key]
	if l == nil {
		l = &keyLock{token: make(chan struct{}, 1)}
		k.held[key] = l
	}
	l.refs++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.held, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.token <- struct{}{}:
		return func() { <-l.token; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
