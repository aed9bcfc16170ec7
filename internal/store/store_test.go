package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func TestSchemaVersionIsWrittenAndChecked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()

	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion() != SchemaVersion {
		t.Fatalf("fresh store reports schema version %d; want %d", s.SchemaVersion(), SchemaVersion)
	}
	resp, err := s.client.Get(ctx, "/wcpd/meta/schema-version")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != strconv.Itoa(SchemaVersion) {
		t.Fatalf("schema version key = %v, %v; want %q", resp, err, strconv.Itoa(SchemaVersion))
	}
	// As if an older wcpd had written the data: the version moves up.
	if _, err := s.client.Put(ctx, "/wcpd/meta/schema-version", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, Config{DataDir: dir, Logger: testLogger(t)}); err != nil {
		t.Fatalf("Open on version 1 data: %v", err)
	}
	resp, err = s.client.Get(ctx, "/wcpd/meta/schema-version")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != strconv.Itoa(SchemaVersion) || s.SchemaVersion() != SchemaVersion {
		t.Fatalf("after opening version 1 data: key %v, %v, version %d; want %d", resp, err, s.SchemaVersion(), SchemaVersion)
	}
	// As if a newer wcpd had migrated the data.
	if _, err := s.client.Put(ctx, "/wcpd/meta/schema-version", strconv.Itoa(SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), strconv.Itoa(SchemaVersion+1)) {
		t.Fatalf("Open on newer data: %v; want ErrSchemaTooNew naming version %d", err, SchemaVersion+1)
	}
	// The failed Open must release the data dir.
	s, err = Open(ctx, Config{DataDir: dir, Prefix: "/elsewhere", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open with another prefix after a refused Open: %v", err)
	}
	defer s.Close()
	if s.Prefix() != "/elsewhere/" || s.SchemaVersion() != SchemaVersion {
		t.Fatalf("prefix %q, version %d; want /elsewhere/ and %d", s.Prefix(), s.SchemaVersion(), SchemaVersion)
	}
}

func TestRestartKeepsRecords(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()

	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	widgets := openCollection[widget](t, s, "widgets")
	names := openCollection[string](t, s, "names")
	kept := mustCreate(t, widgets, "kept", widget{Name: "kept", Labels: map[string]int{"x": 1}})
	gone := mustCreate(t, widgets, "gone", widget{Name: "gone"})
	if err := widgets.Delete(ctx, "gone", gone.Revision); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, names, "n", "a string record")
	firstURL := s.ClientURL()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, Config{DataDir: dir})
	t.Logf("client URL before restart %s, after %s", firstURL, s.ClientURL())
	widgets = openCollection[widget](t, s, "widgets")
	names = openCollection[string](t, s, "names")
	got, ok := widgets.Get("kept")
	if !ok || got.Revision != kept.Revision || got.Created != kept.Created || got.Value.Labels["x"] != 1 {
		t.Fatalf("after restart Get(kept) = %+v, %v; want %+v", got, ok, kept)
	}
	if _, ok := widgets.Get("gone"); ok {
		t.Fatal("a deleted record came back after restart")
	}
	if n, _ := names.Get("n"); n.Value != "a string record" {
		t.Fatalf("names/n = %q after restart", n.Value)
	}
	if _, err := widgets.Create(ctx, "new", widget{}); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
}

// A fresh data dir takes a few MB for the write-ahead log, not etcd's 64 MB files, and what was
// written across several of its files comes back after a restart.
func TestTheWriteAheadLogIsKeptInSmallFiles(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	walDir := filepath.Join(dir, "etcd", "member", "wal")
	walFiles := func() (names []string, total int64) {
		entries, err := os.ReadDir(walDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(e.Name(), ".wal") {
				names = append(names, e.Name())
			}
			total += info.Size()
		}
		return names, total
	}

	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, total := walFiles(); total > 2*embeddedWALSegmentBytes {
		t.Errorf("a fresh data dir's write-ahead log takes %d bytes of disk, want at most %d", total, 2*embeddedWALSegmentBytes)
	}
	// More than a file's worth of records: etcd begins new files as it goes.
	value := bytes.Repeat([]byte("x"), 8<<10)
	var puts []KeyValue
	for i := range embeddedWALSegmentBytes/len(value) + 100 {
		puts = append(puts, KeyValue{Key: fmt.Sprintf("bulk/%04d", i), Value: value})
	}
	if err := s.Apply(ctx, puts, nil); err != nil {
		t.Fatal(err)
	}
	if names, _ := walFiles(); len(names) < 2 {
		t.Errorf("after %d bytes written the write-ahead log is in %v, want more than one file", len(puts)*len(value), names)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, Config{DataDir: dir})
	got, err := s.ReadPrefix(ctx, "bulk/")
	if err != nil || len(got) != len(puts) {
		t.Fatalf("after the restart %d records, %v; want %d", len(got), err, len(puts))
	}
	for i, kv := range got {
		if kv.Key != puts[i].Key || !bytes.Equal(kv.Value, value) {
			t.Fatalf("after the restart record %d is %s (%d bytes), want %s", i, kv.Key, len(kv.Value), puts[i].Key)
		}
	}
}

// childDirEnv switches TestKilledWriterChild on: it names the data dir the
// child process writes to until it is killed.
const childDirEnv = "WCPD_STORE_TEST_CHILD_DATA_DIR"

// TestKilledWriterChild is not a test of its own: TestKillDashNineKeepsAcknowledgedWrites
// runs the test binary again with only this test and childDirEnv set. It
// writes records as fast as it can and prints the number of each one etcd
// has acknowledged, until the parent SIGKILLs it.
func TestKilledWriterChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("helper process for TestKillDashNineKeepsAcknowledgedWrites")
	}
	s, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	c, err := NewCollection[widget](s, "widgets")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := c.Create(context.Background(), fmt.Sprintf("w%05d", i), widget{Size: i}); err != nil {
			fmt.Println("ERROR", err)
			os.Exit(2)
		}
		fmt.Println("ACK", i)
	}
}

func TestKillDashNineKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Kill the child mid-stream, once it has acknowledged enough writes.
	const wantAcked = 30
	acked := -1
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(testTimeout, func() { _ = cmd.Process.Kill() })
	for acked < wantAcked && lines.Scan() {
		line := lines.Text()
		if n, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.Atoi(n)
		} else if strings.HasPrefix(line, "ERROR") {
			t.Fatalf("child: %s", line)
		}
	}
	deadline.Stop()
	if acked < wantAcked {
		t.Fatalf("child acknowledged only %d writes before exiting; stderr:\n%s", acked+1, stderr.String())
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Exited() {
		t.Fatalf("child was not killed by the signal: %v", err)
	}

	s := openStore(t, Config{DataDir: dir})
	c := openCollection[widget](t, s, "widgets")
	for i := 0; i <= acked; i++ {
		got, ok := c.Get(fmt.Sprintf("w%05d", i))
		if !ok || got.Value.Size != i {
			t.Fatalf("acknowledged write %d lost after kill -9 (have %d records)", i, c.Len())
		}
	}
	t.Logf("child acknowledged %d writes; %d survived (a write in flight may land too)", acked+1, c.Len())
}

func TestExternalEtcdAndPrefixIsolation(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := openEmbedded(t)
	if !strings.HasPrefix(server.ClientURL(), "https://127.0.0.1:") {
		t.Fatalf("embedded etcd serves clients on %q; want a loopback URL", server.ClientURL())
	}
	tenantA := openStore(t, Config{Endpoints: []string{server.ClientURL()}, ClientTLS: server.ClientTLSFiles(), Prefix: "/a/"})
	tenantB := openStore(t, Config{Endpoints: []string{server.ClientURL()}, ClientTLS: server.ClientTLSFiles(), Prefix: "/b/"})
	if tenantA.ClientURL() != "" {
		t.Errorf("external store reports client URL %q; want none", tenantA.ClientURL())
	}

	a := openCollection[widget](t, tenantA, "widgets")
	b := openCollection[widget](t, tenantB, "widgets")
	mustCreate(t, a, "w", widget{Name: "a's"})
	if _, err := b.Create(ctx, "w", widget{Name: "b's"}); err != nil {
		t.Fatalf("same key under another prefix: %v", err)
	}
	if got, _ := a.Get("w"); got.Value.Name != "a's" {
		t.Fatalf("prefix /a/ sees %q", got.Value.Name)
	}
	if tenantB.SchemaVersion() != SchemaVersion {
		t.Fatalf("second prefix schema version %d", tenantB.SchemaVersion())
	}
	if n := openCollection[widget](t, server, "widgets").Len(); n != 0 {
		t.Fatalf("default prefix sees %d records written under other prefixes", n)
	}
}

func TestDataDirIsExclusive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	openStore(t, Config{DataDir: dir})
	_, err := Open(testContext(t), Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of a data dir in use: %v; want an 'in use' error", err)
	}
}

func TestOpenNeedsADataDirOrEndpoints(t *testing.T) {
	t.Parallel()
	if _, err := Open(testContext(t), Config{}); err == nil {
		t.Fatal("Open with neither DataDir nor Endpoints succeeded")
	}
}

func TestOpenFailsWhenExternalEtcdIsUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
	defer cancel()
	if s, err := Open(ctx, Config{Endpoints: []string{"http://" + closedPort}}); err == nil {
		s.Close()
		t.Fatal("Open against a closed port succeeded")
	}
}

func TestEtcdLogsReachSlogAtWarnAndAbove(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var closing atomic.Bool

	quiet := newZapLogger(logger, zap.WarnLevel, &closing).With(zap.String("member", "m1"))
	quiet.Info("routine chatter")
	quiet.Warn("disk slow", zap.Duration("took", 2*time.Second))
	quiet.Warn("simple token is not cryptographically signed")
	closing.Store(true)
	quiet.Error("setting up serving from embedded etcd failed.", zap.Error(errors.New("closed")))
	quiet.Error("real trouble")

	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="disk slow" member=m1 took=2s`,
		`level=DEBUG msg="simple token is not cryptographically signed"`,
		`level=DEBUG msg="setting up serving from embedded etcd failed." member=m1 error=closed`,
		`level=ERROR msg="real trouble"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "routine chatter") {
		t.Errorf("info-level etcd log was forwarded without EtcdDebug:\n%s", out)
	}

	buf.Reset()
	newZapLogger(logger, zap.DebugLevel, &closing).Debug("raft detail")
	if !strings.Contains(buf.String(), `level=DEBUG msg="raft detail"`) {
		t.Errorf("EtcdDebug did not forward debug output: %q", buf.String())
	}
}

// TestEmbeddedEtcdRefusesClientsWithoutItsCertificate: only wcpd and the processes it gives the
// client certificate reach the embedded etcd; any other local process is refused.
func TestEmbeddedEtcdRefusesClientsWithoutItsCertificate(t *testing.T) {
	t.Parallel()
	server := openEmbedded(t)
	files := server.ClientTLSFiles()
	for name, tlsFiles := range map[string]TLSFiles{"no TLS": {}, "the CA but no client certificate": {CAFile: files.CAFile}} {
		cfg, err := tlsFiles.config()
		if err != nil {
			t.Fatal(err)
		}
		endpoint := server.ClientURL()
		if cfg == nil {
			endpoint = "http://" + strings.TrimPrefix(endpoint, "https://")
		}
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: cfg, DialTimeout: 2 * time.Second})
		if err != nil {
			continue // refused at dial: as good
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.Get(ctx, "/wcpd/", clientv3.WithPrefix())
		cancel()
		c.Close()
		if err == nil {
			t.Errorf("a client with %s read the store", name)
		}
	}
	for _, f := range []string{files.KeyFile, filepath.Join(filepath.Dir(files.CAFile), "ca.key")} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want readable by the owner only", f, fi.Mode(), err)
		}
	}
}

func TestDatabaseFileIsTheEmbeddedEtcdsMappedDatabase(t *testing.T) {
	t.Parallel()
	s := openEmbedded(t)
	db := s.DatabaseFile()
	fi, err := os.Stat(db)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		t.Fatalf("DatabaseFile() = %q: %v (want etcd's database file)", db, err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err == nil && !strings.Contains(string(maps), db) {
		t.Fatalf("%s is not mapped into the process", db)
	}
}
