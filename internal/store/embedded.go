package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.uber.org/zap"
)

const (
	embeddedMemberName = "wcpd"

	// The single member never talks to peers, so it opens no peer listener.
	// etcd still records an advertised peer URL in the member list; it is a
	// fixed placeholder so a restart never sees a changed membership.
	embeddedPeerURL = "http://127.0.0.1:0"

	// Sized for a laptop: the store holds thousands of small records.
	embeddedQuotaBytes    = 2 << 30 // etcd's own default; the limit, not an allocation
	embeddedSnapshotCount = 5000    // raft entries between snapshots written to disk
	// etcd keeps this many applied raft entries in memory for a slow follower to catch up from,
	// each with the whole request it carried (5000 by default: about 10 MB at 10,000 namespaces).
	// A lone member has no follower.
	embeddedCatchUpEntries = 100
	embeddedMaxFiles       = 2 // snapshot and WAL files kept on disk
	// etcd reads every write-ahead log file it keeps twice before it opens, entry by entry, and
	// removes a file only once a newer one was begun and a snapshot passed it. At its default of
	// 64 MB a file holds the whole history of a data dir that never wrote that much (at 10,000
	// namespaces, 19 MB read twice: a tenth of the CPU of a restart), and up to the two files
	// kept, 128 MB, once it has. A file of 4 MB holds a few thousand entries, about as many as
	// come between two snapshots, so a start reads a few such files whatever the history; a fresh
	// data dir also takes 8 MB of disk for its two preallocated files instead of 128 MB.
	embeddedWALSegmentBytes = 4 << 20
)

// etcd offers the segment size only as a process-wide variable (meant for its tests); the
// embedded etcd is the only one a wcpd process runs, and the size must not change while one
// writes, so it is set once, before any can start.
func init() { wal.SegmentSizeBytes = embeddedWALSegmentBytes }

// startEmbedded runs a single-member etcd with its data in dataDir/etcd,
// serving clients on a random loopback port, and returns it with an
// in-process client (no network hop or gRPC encoding between wcpd and etcd).
//
// It holds an exclusive lock on dataDir/etcd.lock until released: etcd
// itself would wait forever on a data dir another process has open.
func startEmbedded(ctx context.Context, dataDir string, zapLogger *zap.Logger) (_ *embed.Etcd, _ *clientv3.Client, _ *fileutil.LockedFile, _ TLSFiles, err error) {
	dir := filepath.Join(dataDir, "etcd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: creating etcd data dir: %w", err)
	}
	lock, err := fileutil.TryLockFile(filepath.Join(dataDir, "etcd.lock"), os.O_WRONLY|os.O_CREATE, 0o600)
	if errors.Is(err, fileutil.ErrLocked) {
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: data dir %s is in use by another wcpd", dataDir)
	}
	if err != nil {
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: locking data dir %s: %w", dataDir, err)
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()

	cfg := embed.NewConfig()
	cfg.Name = embeddedMemberName
	cfg.Dir = dir
	cfg.Logger = "zap"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger)

	// Only wcpd and the processes it starts reach the etcd: clients must present a certificate
	// of its own CA, kept in the data dir (wcpd itself uses an in-process client).
	files, server, err := embeddedPKI(filepath.Join(dataDir, "etcd-pki"))
	if err != nil {
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: %w", err)
	}
	cfg.ClientTLSInfo = transport.TLSInfo{CertFile: server.CertFile, KeyFile: server.KeyFile,
		TrustedCAFile: files.CAFile, ClientCertAuth: true}
	// Port 0: the kernel picks a free port, so parallel stores never collide
	// and a restart may get a different port without affecting the data.
	clientURL := url.URL{Scheme: "https", Host: "127.0.0.1:0"}
	peerURL, _ := url.Parse(embeddedPeerURL)
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = nil
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.InitialClusterToken = "wcpd-embedded"
	// The HTTP gateway dials the configured listen address, which is ":0".
	cfg.EnableGRPCGateway = false

	cfg.QuotaBackendBytes = embeddedQuotaBytes
	cfg.SnapshotCount = embeddedSnapshotCount
	cfg.SnapshotCatchUpEntries = embeddedCatchUpEntries
	cfg.MaxSnapFiles = embeddedMaxFiles
	cfg.MaxWalFiles = embeddedMaxFiles
	// Keep five minutes of history, as the Supervisors' API servers do (they compact every
	// five minutes): a watch that falls further behind reloads (the collections do, and so do
	// the API servers' caches). Every revision kept is held by the process: under a sustained
	// thousand writes a second, an hour of them grew RSS by gigabytes (the soak benchmark).
	cfg.AutoCompactionMode = embed.CompactorModePeriodic
	cfg.AutoCompactionRetention = "5m"
	// A lone member elects itself once its election timeout (randomised by
	// raft between one and two timeouts) runs out, at every start. Short
	// ticks bound that wait to 100 ms; with no peers there is no heartbeat
	// traffic to tune for.
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	// UnsafeNoFsync stays false: an acknowledged write must survive kill -9.

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: embedded etcd in %s failed to start: %w", dir, err)
	case <-ctx.Done():
		e.Close()
		return nil, nil, nil, TLSFiles{}, fmt.Errorf("store: waiting for embedded etcd in %s: %w", dir, ctx.Err())
	}
	return e, v3client.New(e.Server), lock, files, nil
}
