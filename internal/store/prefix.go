package store

import (
	"context"
	"errors"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DeletePrefix removes every key below the store's prefix that starts with sub (which must not be
// empty), such as the data a Supervisor's Kubernetes API server kept under a prefix of its own.
func (s *Store) DeletePrefix(ctx context.Context, sub string) error {
	if sub == "" {
		return errors.New("store: DeletePrefix needs a non-empty prefix")
	}
	_, err := s.client.Delete(ctx, s.prefix+sub, clientv3.WithPrefix())
	return err
}

// CountPrefix counts the keys below the store's prefix that start with sub.
func (s *Store) CountPrefix(ctx context.Context, sub string) (int64, error) {
	resp, err := s.client.Get(ctx, s.prefix+sub, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

// Endpoints reports the client URLs other processes reach the store's etcd at: the embedded
// etcd's loopback address, or the external cluster's endpoints.
func (s *Store) Endpoints() []string {
	if u := s.ClientURL(); u != "" {
		return []string{u}
	}
	return append([]string(nil), s.client.Endpoints()...)
}
