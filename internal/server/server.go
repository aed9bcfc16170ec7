// Package server assembles one wcpd process from a Config: TLS listener, identity, sessions, the
// store, the embedded inventory and the API, in the manner of etcd's embed package: one struct, one
// call to start, one to stop.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/inventoryapi"
	"github.com/wcpd/wcpd/internal/kubeapi"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/ui"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Config is everything a server is made from.
type Config struct {
	Listen        string   // host:port; port 0 picks a free one
	DataDir       string   // identity, TLS material and the embedded etcd live here
	TLSCert       string   // optional certificate file; with TLSKey replaces the self-signed pair
	TLSKey        string   //
	EtcdEndpoints []string // use this etcd cluster instead of the embedded one
	// EtcdClientTLS is the client certificate, key and CA for EtcdEndpoints.
	EtcdClientTLS store.TLSFiles
	InventoryFile string // YAML inventory instead of the built-in default
	// SessionIdleTimeout ends sessions unused for this long (vCenter's default is 30 minutes).
	SessionIdleTimeout time.Duration
	// TaskDuration is how long simulated work (enable, upgrade, install) takes.
	TaskDuration time.Duration
	// AdminPassword, when set, is the administrator's password (WCPD_ADMIN_PASSWORD).
	AdminPassword string
	Logger        *slog.Logger
	Clock         clock.Clock
	// Pprof serves Go's runtime profiles at /debug/pprof/ to administrators (debug.go).
	Pprof bool
	// MetricsPublic serves /metrics without credentials; by default it needs a user holding
	// System.Read (debug.go).
	MetricsPublic bool
	// Kubernetes turns on the Supervisors' Kubernetes API servers (internal/kubeapi); its zero
	// value leaves them off.
	Kubernetes kubeapi.Config
	// Lockout locks users out after failed logins; nil takes auth.DefaultLockout (vCenter SSO's).
	Lockout *auth.LockoutPolicy
	// Listener limits (limits.go); zero takes the default.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	MaxConnsPerClient int
}

// identityReload is how often the identity file is checked for changes made by someone else.
const identityReload = 2 * time.Second

// Defaults for a Config's zero fields.
const (
	DefaultListen             = "127.0.0.1:8443"
	DefaultDataDir            = "wcpd-data"
	DefaultSessionIdleTimeout = 30 * time.Minute
	DefaultTaskDuration       = 5 * time.Second
)

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.SessionIdleTimeout <= 0 {
		c.SessionIdleTimeout = DefaultSessionIdleTimeout
	}
	if c.TaskDuration <= 0 {
		c.TaskDuration = DefaultTaskDuration
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxConnsPerClient == 0 {
		c.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
}

// Server is one running wcpd.
type Server struct {
	cfg      Config
	log      *slog.Logger
	listener net.Listener
	http     *http.Server
	served   chan struct{}
	ready    atomic.Bool
	started  time.Time
	readyIn  time.Duration

	// AdminPassword is set when this start generated the administrator password.
	GeneratedAdminPassword string
	// AdminPasswordSource tells where the administrator password comes from.
	AdminPasswordSource string

	Identity  *auth.Directory
	Sessions  *vapi.Sessions
	Registry  *vapi.Registry
	Store     *store.Store
	Inventory *inventory.Inventory
	API       *vapi.API
	Metrics   *prometheus.Registry
	// Controllers runs every family's controllers; tests wait on it after advancing the clock.
	Controllers *controller.Group
	// Kubernetes runs the Supervisors' Kubernetes API servers (when Config.Kubernetes turns it on).
	Kubernetes *kubeapi.Manager

	stopControllers context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// Start brings a server up and returns once it is ready. The listener opens first, so /healthz
// answers 503 while the store and inventory start.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), served: make(chan struct{})}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cert, err := loadOrCreateCertificate(cfg.DataDir, cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	s.listener = ln
	// No WriteTimeout: SOAP's WaitForUpdatesEx and profiles answer after long waits by design.
	s.http = &http.Server{
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	var routes http.Handler = http.NotFoundHandler()
	var routesMu sync.RWMutex
	// The top-level handler is no ServeMux: that would answer paths with "." or ".." segments with
	// a redirect before wcpd saw them.
	s.http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			s.healthz(w, r)
			return
		}
		// Decoding only adds dots and slashes, so the decoded path shows every such segment the
		// sent one has; the sent form is checked too where it differs (RawPath is then set), and
		// is what the error names.
		if vapi.HasDotOrEmptySegment(r.URL.Path) || (r.URL.RawPath != "" && vapi.HasDotOrEmptySegment(r.URL.EscapedPath())) {
			vapi.WriteError(w, vapi.DotSegment(r.URL.EscapedPath()))
			return
		}
		if !s.ready.Load() {
			vapi.WriteError(w, vapi.NewError(vapi.ErrorServiceUnavailable, "wcpd.starting", "wcpd is starting; try again shortly."))
			return
		}
		// /api itself is the JSON-RPC endpoint of the official SDKs (no redirect to /api/).
		if p := r.URL.Path; strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/rest/") || p == "/api" {
			s.API.ServeHTTP(w, r) // what the routes would choose, without a second lookup
			return
		}
		routesMu.RLock()
		h := routes
		routesMu.RUnlock()
		h.ServeHTTP(w, r)
	})
	go func() {
		defer close(s.served)
		swept := sweepDeadlines(ln, deadlineSweepInterval(cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.IdleTimeout))
		if err := s.http.ServeTLS(limitPerClient(swept, cfg.MaxConnsPerClient), "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener stopped", "error", err)
		}
	}()

	h, err := s.assemble(ctx)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	routesMu.Lock()
	routes = h
	routesMu.Unlock()
	s.readyIn = time.Since(s.started)
	s.ready.Store(true)
	s.log.Info("ready", "url", s.URL(), "startup", s.readyIn)
	return s, nil
}

// assemble starts the parts and returns the handler for everything but /healthz.
func (s *Server) assemble(ctx context.Context) (http.Handler, error) {
	cfg := s.cfg
	dir, res, err := auth.Open(cfg.DataDir, cfg.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	s.Identity, s.GeneratedAdminPassword, s.AdminPasswordSource = dir, res.GeneratedPassword, res.PasswordSource
	lockout := auth.DefaultLockout
	if cfg.Lockout != nil {
		lockout = *cfg.Lockout
	}
	dir.SetLockout(lockout, cfg.Clock, cfg.Logger.With("component", "identity"))

	// The inventory is kept in the store and rebuilt from it.
	s.Store, err = store.Open(ctx, store.Config{
		DataDir: cfg.DataDir, Endpoints: cfg.EtcdEndpoints, ClientTLS: cfg.EtcdClientTLS, Logger: cfg.Logger.With("component", "store"),
	})
	if err != nil {
		return nil, err
	}
	s.Inventory, err = inventory.Start(ctx, inventory.Config{
		File: cfg.InventoryFile, Logger: cfg.Logger.With("component", "inventory"),
		ValidLogin: func(user, password string) bool { _, ok := dir.Authenticate(user, password); return ok },
		Store:      s.Store, Dir: filepath.Join(cfg.DataDir, "inventory"),
	})
	if err != nil {
		return nil, err
	}
	pub, err := url.Parse(s.URL())
	if err != nil {
		return nil, err
	}
	if err := s.Inventory.SetPublicURL(ctx, pub); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}

	s.Metrics = prometheus.NewRegistry()
	s.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.Sessions = vapi.NewSessions(cfg.Clock, cfg.SessionIdleTimeout)
	s.Registry = vapi.NewRegistry()
	s.Controllers = &controller.Group{}
	deps := &platform.Deps{
		Store: s.Store, Inventory: s.Inventory, Identity: dir, Clock: cfg.Clock,
		Logger: cfg.Logger, TaskDuration: cfg.TaskDuration, Controllers: s.Controllers,
		DataDir: s.DataDir(), Sessions: s.Sessions,
	}
	families, kube := newFamilies(deps, cfg.Kubernetes)
	s.Kubernetes = kube
	for _, f := range families {
		f.Register(s.Registry)
	}
	for _, f := range families {
		if err := f.Start(ctx); err != nil {
			return nil, err
		}
	}
	var runCtx context.Context
	runCtx, s.stopControllers = context.WithCancel(context.Background())
	s.Controllers.Run(runCtx)
	// `wcpd user` and `wcpd group` edit the file under a running server too.
	dir.Watch(runCtx, identityReload, cfg.Logger.With("component", "identity"))
	s.API = &vapi.API{
		Registry: s.Registry, Sessions: s.Sessions, Identity: dir,
		Logger: cfg.Logger.With("component", "api"), Metrics: vapi.NewMetrics(s.Metrics),
		KeptInputs: func() vapi.KeptInputs {
			return vapi.KeptInputs{Store: s.Store.Changes(), Inventory: s.Inventory.Generation(), Identity: dir.Changes()}
		},
	}
	s.API.Delegate("inventory.vapi", s.Inventory.VAPIPrefixes(), s.Inventory.VAPIHandler())
	s.API.KeepDelegated("inventory.vapi", inventoryapi.KeptLegacyReads(s.Inventory))
	deps.Invoke = s.API.Invoke

	mux := http.NewServeMux()
	var metrics http.Handler = promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})
	if !cfg.MetricsPublic {
		metrics = s.requirePrivilege(MetricsPrivilege, "Metrics", metrics)
	}
	mux.Handle("/metrics", metrics)
	if cfg.Pprof {
		s.mountProfiles(mux)
	}
	mux.Handle("/api/", s.API)
	mux.Handle("/rest/", s.API)
	soap := s.Inventory.SOAPHandler()
	for _, p := range s.Inventory.SOAPPatterns() {
		mux.Handle(p, soap)
	}
	// The web UI (internal/ui) and, for a browser pointed at the bare address, a way to it.
	webUI, err := ui.Handler(ui.Dist())
	if err != nil {
		return nil, err
	}
	mux.Handle(strings.TrimSuffix(ui.Prefix, "/"), webUI)
	mux.Handle(ui.Prefix, webUI)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, ui.Prefix, http.StatusFound)
			return
		}
		vapi.WriteError(w, vapi.NewError(vapi.ErrorNotFound, "wcpd.path.not_found", "No operation is served at "+r.URL.Path+".", r.URL.Path))
	})
	return mux, nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"starting"}`))
		return
	}
	_, _ = fmt.Fprintf(w, `{"status":"ready","startup_seconds":%.3f}`, s.readyIn.Seconds())
}

// URL is the server's base URL, e.g. https://127.0.0.1:8443.
func (s *Server) URL() string { return "https://" + s.listener.Addr().String() }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// DataDir is where the server keeps its state.
func (s *Server) DataDir() string { abs, _ := filepath.Abs(s.cfg.DataDir); return abs }

// StartupDuration is how long Start took to become ready.
func (s *Server) StartupDuration() time.Duration { return s.readyIn }

// Close stops accepting requests, lets those in flight finish (up to 10 s), then stops the inventory
// and the store.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.ready.Store(false)
		if s.stopControllers != nil {
			s.stopControllers()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.http.Shutdown(ctx)
		<-s.served
		if s.Kubernetes != nil {
			s.Kubernetes.Close()
		}
		if s.Inventory != nil {
			s.Inventory.Close()
		}
		if s.Store != nil {
			err = errors.Join(err, s.Store.Close())
		}
		s.closeErr = err
	})
	return s.closeErr
}
