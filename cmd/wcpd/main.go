// Command wcpd runs the vSphere Supervisor control plane: `wcpd serve` starts the server,
// `wcpd coverage` prints which operations of the vCenter API are implemented.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/kubeproc"
	"github.com/wcpd/wcpd/internal/logsink"
	"github.com/wcpd/wcpd/internal/residency"
	"github.com/wcpd/wcpd/internal/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `wcpd — an open implementation of the vSphere Supervisor control plane.

Usage:
  wcpd serve [flags]     start the server (run "wcpd serve -h" for flags)
  wcpd login [flags]     log in to the Supervisors' Kubernetes API and write a kubeconfig ("wcpd login -h")
  wcpd user|group …      add, change, remove and list users and groups (run "wcpd user" for more)
  wcpd coverage          list the vCenter API operations and whether wcpd implements them
  wcpd analyze [flags]   show what each pool, VM and pod gets under contention (run "wcpd analyze -h")

wcpd serve also starts this binary as kube-apiserver and kube-controller-manager for each Supervisor.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if code, ok := kubeproc.Main(args); ok {
		return code
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "coverage":
		fmt.Fprint(stdout, server.NewRegistry().CoverageTable())
		return 0
	case "analyze":
		return runAnalyze(args[1:], stdout, stderr)
	case "login":
		return runLogin(args[1:], os.Stdin, stdout, stderr)
	case "user", "group":
		return runIdentity(args[0], args[1:], os.Stdin, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wcpd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	var etcd, logLevel, logFormat string
	fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "HTTPS listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", server.DefaultDataDir, "directory for identity, TLS material and the embedded etcd")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "certificate file (PEM); default: self-signed, kept in the data dir")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key file (PEM) for --tls-cert")
	fs.StringVar(&etcd, "etcd-endpoints", "", "comma-separated etcd endpoints; default: embedded etcd in the data dir")
	fs.StringVar(&cfg.EtcdClientTLS.CertFile, "etcd-cert", "", "client certificate (PEM) for --etcd-endpoints")
	fs.StringVar(&cfg.EtcdClientTLS.KeyFile, "etcd-key", "", "key (PEM) of --etcd-cert")
	fs.StringVar(&cfg.EtcdClientTLS.CAFile, "etcd-ca", "", "CA (PEM) that signed the etcd servers' certificates")
	fs.StringVar(&cfg.InventoryFile, "inventory", "", "YAML inventory description; default: the built-in inventory (docs/inventory.md)")
	fs.DurationVar(&cfg.SessionIdleTimeout, "session-idle-timeout", server.DefaultSessionIdleTimeout, "end sessions idle this long")
	fs.DurationVar(&cfg.TaskDuration, "task-duration", server.DefaultTaskDuration, "how long simulated work (enable, upgrade, install) takes")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	fs.BoolVar(&cfg.MetricsPublic, "metrics-public", false, "serve /metrics without credentials (default: a user holding System.Read, by session or Basic)")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve Go's runtime profiles at /debug/pprof/ to administrators")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "how long a client may take to send a request's headers")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", server.DefaultReadTimeout, "how long a client may take to send a whole request, body included")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "close keep-alive connections idle this long")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", server.DefaultMaxHeaderBytes, "largest request header accepted")
	fs.IntVar(&cfg.MaxConnsPerClient, "max-conns-per-client", server.DefaultMaxConnsPerClient, "connections one client address may hold at once (-1: no limit)")
	lockout := auth.DefaultLockout
	fs.IntVar(&lockout.MaxFailures, "lockout-failures", lockout.MaxFailures, "failed logins within --lockout-window that lock a user (0: no lockout)")
	fs.DurationVar(&lockout.Window, "lockout-window", lockout.Window, "window in which failed logins are counted")
	fs.DurationVar(&lockout.Duration, "lockout-duration", lockout.Duration, "how long a user stays locked")
	cfg.Lockout = &lockout
	kube := fs.Bool("kubernetes", true, "run a Kubernetes API server and controller manager for each RUNNING Supervisor")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if etcd != "" {
		cfg.EtcdEndpoints = strings.Split(etcd, ",")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "wcpd: --log-level: %v\n", err)
		return 2
	}
	opts := &slog.HandlerOptions{Level: level}
	// Log lines are written by a goroutine of their own, many per write under load: a request does
	// not wait for the terminal or the disk (internal/logsink).
	logs := logsink.New(stderr)
	defer logs.Close()
	switch logFormat {
	case "text":
		cfg.Logger = slog.New(logsink.NewTextHandler(logs, opts))
	case "json":
		cfg.Logger = slog.New(logsink.NewJSONHandler(logs, opts))
	default:
		fmt.Fprintf(stderr, "wcpd: --log-format must be text or json, not %q\n", logFormat)
		return 2
	}
	// controller-runtime's clients log through a process-wide logger; give it wcpd's.
	ctrllog.SetLogger(logr.FromSlogHandler(cfg.Logger.Handler()))
	cfg.AdminPassword = os.Getenv("WCPD_ADMIN_PASSWORD")
	if *kube {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "wcpd: finding this program to run the Kubernetes servers: %v\n", err)
			return 1
		}
		cfg.Kubernetes.Executable = exe
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Between collections the heap grows by half its live size or residency.MinHeadroom, whichever
	// is more, rather than by all of it: fewer collections in a small heap, less memory in a large one.
	heap := residency.GovernHeap()
	defer heap.Stop()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd: %v\n", err)
		return 1
	}
	printBanner(stdout, srv)
	// What start-up alone read need not stay resident: the package initialisation of the Kubernetes
	// servers this binary also carries, and the store's database, read whole to fill the caches.
	if exe, err := os.Executable(); err == nil {
		if rel, err := residency.ReleaseReadOnlyPages(exe, srv.Store.DatabaseFile()); err != nil {
			cfg.Logger.Warn("could not release the pages start-up read", "error", err)
		} else {
			cfg.Logger.Info("released the pages start-up read", "mappings", rel.Mappings, "resident_mb", rel.Bytes>>20)
		}
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(stderr, "wcpd: shutdown: %v\n", err)
			return 1
		}
	case <-time.After(30 * time.Second):
		fmt.Fprintln(stderr, "wcpd: shutdown timed out")
		return 1
	}
	return 0
}

func printBanner(w io.Writer, srv *server.Server) {
	fmt.Fprintf(w, "wcpd is ready at %s (started in %.2fs)\n", srv.URL(), srv.StartupDuration().Seconds())
	fmt.Fprintf(w, "  vCenter API   %s/api\n", srv.URL())
	fmt.Fprintf(w, "  vSphere SDK   %s/sdk\n", srv.URL())
	if srv.Kubernetes != nil && srv.Kubernetes.Enabled() {
		fmt.Fprintf(w, "  Kubernetes    one API server per RUNNING Supervisor; wcpd login --server %s -u USER --insecure-skip-tls-verify\n", srv.URL())
	}
	fmt.Fprintf(w, "  data dir      %s\n", srv.DataDir())
	fmt.Fprintf(w, "  user          administrator@vsphere.local\n")
	if srv.GeneratedAdminPassword != "" {
		fmt.Fprintf(w, "  password      %s   (%s)\n", srv.GeneratedAdminPassword, srv.AdminPasswordSource)
	} else {
		fmt.Fprintf(w, "  password      %s\n", srv.AdminPasswordSource)
	}
}
