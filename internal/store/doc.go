// Package store owns wcpd's persistent state: it runs (or connects to) etcd,
// records the on-disk schema version, and offers typed collections of
// JSON-encoded records with mod-revision concurrency control, a watch-fed
// in-memory cache for reads, and change notifications for controllers.
//
// Layout, concurrency model and external-etcd use are described in
// docs/store.md.
package store
