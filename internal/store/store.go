package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// SchemaVersion is the layout version this build reads and writes. Open
// stores it on first use, moves older data up to it and refuses data written
// by a newer layout.
//
// Version 2 stores the inventory's objects deflated (package inventory).
const SchemaVersion = 2

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "/wcpd/"

// schemaTimeout bounds Open's first request, the schema version check.
const schemaTimeout = 30 * time.Second

// metaKind holds store bookkeeping (the schema version); no collection may use it.
const metaKind = "meta"

var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("store: record not found")
	// ErrExists: Create found a record under the key already.
	ErrExists = errors.New("store: record already exists")
	// ErrConflict: the record's mod revision is not the one the caller
	// based its change on (callers map it to CONCURRENT_CHANGE).
	ErrConflict = errors.New("store: record changed concurrently")
	// ErrSchemaTooNew: the data was written by a newer wcpd.
	ErrSchemaTooNew = errors.New("store: schema version is newer than this build supports")
	// ErrClosed: the Store has been closed.
	ErrClosed = errors.New("store: closed")
)

// Config configures the store. Either Endpoints (external etcd cluster) or
// DataDir (embedded single-member etcd) must be set; Endpoints wins if both are.
type Config struct {
	DataDir   string   // embedded etcd data lives in DataDir/etcd
	Endpoints []string // if set, connect to an existing etcd cluster instead of embedding one
	Prefix    string   // key prefix, default "/wcpd/"
	// ClientTLS authenticates wcpd (and the Supervisors' API servers it starts) to an external etcd
	// with a client certificate; empty fields mean none (plain or server-only TLS per the endpoints).
	ClientTLS TLSFiles
	Logger    *slog.Logger
	// EtcdDebug forwards all of etcd's own log output to Logger; by default
	// only its warnings and errors are forwarded.
	EtcdDebug bool
}

// Store is an open connection to etcd plus the caches of the collections
// created on it. Everything it owns is released by Close.
type Store struct {
	client  *clientv3.Client
	etcd    *embed.Etcd // nil in external mode
	dirLock *fileutil.LockedFile
	prefix  string
	logger  *slog.Logger
	// clientTLS is what other processes present to reach the etcd (ClientTLSFiles).
	clientTLS TLSFiles
	version   int

	// ctx is cancelled by Close; every background goroutine hangs off it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closing atomic.Bool // quiets etcd's reports of its listeners closing

	// changes counts the moves of every collection's revision (Changes).
	changes atomic.Uint64

	mu          sync.Mutex
	collections map[string]any // kind → *Collection[T]
	closed      bool
	closeErr    error
}

// Open starts the embedded etcd (or connects to Endpoints), checks and, on
// first use, writes the schema version. It returns once the store is usable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if len(cfg.Endpoints) == 0 && cfg.DataDir == "" {
		return nil, errors.New("store: either Endpoints or DataDir must be set")
	}

	minLevel := zap.WarnLevel
	if cfg.EtcdDebug {
		minLevel = zap.DebugLevel
	}
	s := &Store{prefix: prefix, logger: logger, collections: map[string]any{}}
	zapLogger := newZapLogger(logger.With("component", "etcd"), minLevel, &s.closing)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	started := time.Now()
	if len(cfg.Endpoints) > 0 {
		tlsConfig, err := cfg.ClientTLS.config()
		if err != nil {
			s.cancel()
			return nil, err
		}
		client, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.Endpoints,
			DialTimeout: 5 * time.Second,
			Logger:      zapLogger,
			Context:     s.ctx,
			TLS:         tlsConfig,
		})
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("store: connecting to etcd %v: %w", cfg.Endpoints, err)
		}
		s.client, s.clientTLS = client, cfg.ClientTLS
	} else {
		e, client, lock, files, err := startEmbedded(ctx, cfg.DataDir, zapLogger)
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.etcd, s.client, s.dirLock, s.clientTLS = e, client, lock, files
	}

	// An unreachable external etcd would otherwise hold Open until ctx ends.
	schemaCtx, cancel := context.WithTimeout(ctx, schemaTimeout)
	version, err := s.initSchema(schemaCtx)
	cancel()
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.version = version
	logger.Info("store open", "prefix", prefix, "embedded", s.etcd != nil, "client_url", s.ClientURL(),
		"schema_version", version, "elapsed", time.Since(started))
	return s, nil
}

// DatabaseFile is the embedded etcd's database, which etcd maps into memory to read it; empty when
// the store is an external etcd. etcd maps it once, at its initial map size (10 GiB unless
// configured), and maps it anew only past that size or when defragmenting, which wcpd does not do:
// the mapping stays where it is for the life of the store.
func (s *Store) DatabaseFile() string {
	if s.etcd == nil {
		return ""
	}
	return s.etcd.Server.Cfg.BackendPath()
}

func (s *Store) schemaKey() string { return s.prefix + metaKind + "/schema-version" }

// initSchema writes the schema version if the prefix is fresh and otherwise
// checks that this build understands the stored one.
func (s *Store) initSchema(ctx context.Context) (int, error) {
	key := s.schemaKey()
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, strconv.Itoa(SchemaVersion))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("store: reading schema version: %w", err)
	}
	if resp.Succeeded {
		return SchemaVersion, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return 0, fmt.Errorf("store: schema version key %s vanished while opening", key)
	}
	stored, err := strconv.Atoi(string(kvs[0].Value))
	if err != nil || stored < 1 {
		return 0, fmt.Errorf("store: schema version key %s holds %q, not a positive integer", key, kvs[0].Value)
	}
	if stored > SchemaVersion {
		return 0, fmt.Errorf("%w: data under %q has version %d, this build knows up to %d; run a newer wcpd",
			ErrSchemaTooNew, s.prefix, stored, SchemaVersion)
	}
	if stored < SchemaVersion {
		// Version 2 reads version 1's plain JSON objects as they are, so moving up rewrites
		// nothing: it records the new version, which keeps a build that knows only version 1
		// from misreading the deflated objects this one writes.
		resp, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision)).
			Then(clientv3.OpPut(key, strconv.Itoa(SchemaVersion))).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("store: recording schema version %d over %d: %w", SchemaVersion, stored, err)
		}
		if !resp.Succeeded { // another wcpd on the same etcd moved it meanwhile: check again
			return s.initSchema(ctx)
		}
		s.logger.Info("store: schema version moved up", "prefix", s.prefix, "from", stored, "to", SchemaVersion)
		stored = SchemaVersion
	}
	return stored, nil
}

// SchemaVersion reports the schema version stored under the prefix.
func (s *Store) SchemaVersion() int { return s.version }

// Prefix reports the key prefix all records live under.
func (s *Store) Prefix() string { return s.prefix }

// ClientURL reports the address the embedded etcd serves clients on (for
// etcdctl with the client certificate of ClientTLSFiles, or the Supervisors'
// API servers), or "" in external mode.
func (s *Store) ClientURL() string {
	if s.etcd == nil || len(s.etcd.Clients) == 0 {
		return ""
	}
	return "https://" + s.etcd.Clients[0].Addr().String()
}

// ClientTLSFiles are the certificate, key and CA files another process needs to reach the store's
// etcd: the embedded etcd accepts only clients holding its client certificate.
func (s *Store) ClientTLSFiles() TLSFiles { return s.clientTLS }

// Changes counts the changes the store's collections have applied, in any collection: two equal
// readings mean no record of any open collection changed in between, so what was derived from the
// records between them is still current (the API's kept answers follow it). A collection's change
// is counted before a write waiting for it returns, and is visible to whoever reads the new count.
func (s *Store) Changes() uint64 { return s.changes.Load() }

// Close stops the collections' watches, closes the client and, in embedded
// mode, shuts etcd down. It is safe to call more than once.
func (s *Store) Close() error {
	// Cancel first: it unblocks a NewCollection holding s.mu on a slow load.
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	s.closing.Store(true)
	s.wg.Wait()
	var errs []error
	if s.client != nil {
		if err := s.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if s.etcd != nil {
		s.etcd.Close() // returns once etcd's goroutines have exited and its files are closed
	}
	if s.dirLock != nil {
		if err := s.dirLock.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// closedErr returns ErrClosed once Close has begun, so write paths fail
// with a clear error instead of a gRPC one.
func (s *Store) closedErr() error {
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}
