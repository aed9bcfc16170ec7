package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// KeyValue is one raw entry below the store's prefix, for state that is not a typed collection
// (the embedded vSphere inventory mirrors its managed objects this way).
type KeyValue struct {
	Key   string // relative to the store's prefix
	Value []byte
}

// rawPageSize bounds one read of ReadPrefix; rawBatch* bound one transaction of Apply, below
// etcd's default limits of 128 operations and 1.5 MiB per request.
const (
	rawPageSize   = 1000
	rawBatchOps   = 100
	rawBatchBytes = 1 << 20
)

// ReadPrefix returns every entry whose key starts with sub, in key order, read at one revision.
func (s *Store) ReadPrefix(ctx context.Context, sub string) ([]KeyValue, error) {
	if err := s.closedErr(); err != nil {
		return nil, err
	}
	start, end := s.prefix+sub, clientv3.GetPrefixRangeEnd(s.prefix+sub)
	var (
		out []KeyValue
		rev int64
	)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(rawPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, start, opts...)
		if err != nil {
			return nil, fmt.Errorf("store: reading %s: %w", sub, err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			out = append(out, KeyValue{Key: string(kv.Key[len(s.prefix):]), Value: kv.Value})
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Apply writes puts and removes deletes (keys relative to the prefix). Each transaction holds at
// most rawBatchOps entries and about rawBatchBytes, so a large change is several transactions
// applied in order; Apply returns after the last is committed or at the first error.
func (s *Store) Apply(ctx context.Context, puts []KeyValue, deletes []string) error {
	if err := s.closedErr(); err != nil {
		return err
	}
	var (
		ops  []clientv3.Op
		size int
	)
	commit := func() error {
		if len(ops) == 0 {
			return nil
		}
		if _, err := s.client.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("store: writing %d entries: %w", len(ops), err)
		}
		ops, size = ops[:0], 0
		return nil
	}
	add := func(op clientv3.Op, n int) error {
		if len(ops) >= rawBatchOps || (size+n > rawBatchBytes && len(ops) > 0) {
			if err := commit(); err != nil {
				return err
			}
		}
		ops, size = append(ops, op), size+n
		return nil
	}
	for _, kv := range puts {
		if err := add(clientv3.OpPut(s.prefix+kv.Key, string(kv.Value)), len(kv.Key)+len(kv.Value)); err != nil {
			return err
		}
	}
	for _, key := range deletes {
		if err := add(clientv3.OpDelete(s.prefix+key), len(key)); err != nil {
			return err
		}
	}
	return commit()
}

// DeleteRange removes every key from from (included) to to (excluded), both relative to the
// prefix: a run of keys that sort together, such as statistics older than a horizon.
func (s *Store) DeleteRange(ctx context.Context, from, to string) error {
	if err := s.closedErr(); err != nil {
		return err
	}
	if _, err := s.client.Delete(ctx, s.prefix+from, clientv3.WithRange(s.prefix+to)); err != nil {
		return fmt.Errorf("store: deleting %s to %s: %w", from, to, err)
	}
	return nil
}
