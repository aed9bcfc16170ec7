package namespaces

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The tests in this package run the family on a real store, inventory, identity source, controller
// group and vAPI wire layer, behind an HTTPS listener that also serves the inventory's SOAP and vAPI
// endpoints, so govc and govmomi's clients work against it. Only the clusters family is replaced, by
// fakeSupervisors: a RUNNING Supervisor on Cluster-A whose "Namespaces" pool the harness makes.

const (
	adminUser     = "administrator@vsphere.local"
	adminPassword = "Admin-Pw-1!"
	taskDuration  = 10 * time.Second

	clusterA     = "domain-c9"  // Cluster-A: gets a RUNNING Supervisor
	clusterB     = "domain-c39" // Cluster-B: no Supervisor
	clusterEdge  = "domain-c69" // Edge-Single: Supervisor still CONFIGURING in the harness
	supervisorA  = "sv-domain-c9"
	policyGold   = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	policySilver = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c02"
	libraryVM    = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"
	libraryTKR   = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02"
	apiEndpoint  = "10.20.9.10"
)

// fakeSupervisors stands in for the clusters family.
type fakeSupervisors struct {
	mu   sync.Mutex
	sups map[string]platform.SupervisorState // by cluster
}

func (s *fakeSupervisors) Supervisor(clusterOrID string) (platform.SupervisorState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sup := range s.sups {
		if sup.Cluster == clusterOrID || sup.ID == clusterOrID {
			return sup, true
		}
	}
	return platform.SupervisorState{}, false
}

func (s *fakeSupervisors) List() []platform.SupervisorState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []platform.SupervisorState
	for _, sup := range s.sups {
		out = append(out, sup)
	}
	return out
}

func (s *fakeSupervisors) put(sup platform.SupervisorState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sups[sup.Cluster] = sup
}

func (s *fakeSupervisors) remove(cluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sups, cluster)
}

// fakeVMClasses stands in for the vmclasses family when a test needs it.
type fakeVMClasses map[string]platform.VMClassState

func (f fakeVMClasses) VMClass(id string) (platform.VMClassState, bool) {
	c, ok := f[id]
	return c, ok
}

type harness struct {
	t       *testing.T
	ctx     context.Context
	dataDir string
	store   *store.Store
	inv     *inventory.Inventory
	dir     *auth.Directory
	clock   *clock.Fake
	group   *controller.Group
	sups    *fakeSupervisors
	deps    *platform.Deps
	fam     *Family
	srv     *httptest.Server
	http    *http.Client
	stop    context.CancelFunc
	closed  bool
	admin   string // session token of the administrator
	nsPoolA string // MoRef of Cluster-A's Namespaces pool ("" while there is none)
	// withoutPool starts the Supervisor without its Namespaces pool.
	withoutPool bool
}

type harnessOption func(*harness)

// withDataDir keeps the store (and identity) in dir, for restart tests.
func withDataDir(dir string) harnessOption { return func(h *harness) { h.dataDir = dir } }

// noNamespacesPool starts without the Supervisor's Namespaces pool (as after a restart, before the
// clusters family has made it again).
func noNamespacesPool() harnessOption { return func(h *harness) { h.withoutPool = true } }

// withVMClasses installs a vmclasses contract.
func withVMClasses(vc platform.VMClasses) harnessOption {
	return func(h *harness) { h.deps.Families.VMClasses = vc }
}

func testLogger() *slog.Logger {
	if os.Getenv("WCPD_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, clock: clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)),
		sups: &fakeSupervisors{sups: map[string]platform.SupervisorState{}}}
	h.deps = &platform.Deps{Families: &platform.Families{Supervisors: h.sups}}
	for _, o := range opts {
		o(h)
	}
	if h.dataDir == "" {
		h.dataDir = t.TempDir()
	}
	log := testLogger()
	var err error
	if h.dir, _, err = auth.Open(h.dataDir, adminPassword); err != nil {
		t.Fatal(err)
	}
	if h.store, err = store.Open(ctx, store.Config{DataDir: h.dataDir, Logger: log}); err != nil {
		t.Fatal(err)
	}
	if h.inv, err = inventory.Start(ctx, inventory.Config{Logger: log, ValidLogin: func(u, p string) bool {
		_, ok := h.dir.Authenticate(u, p)
		return ok
	}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)

	if !h.withoutPool {
		h.nsPoolA = h.makeNamespacesPool(clusterA)
	}
	h.sups.put(platform.SupervisorState{Cluster: clusterA, ID: supervisorA, Name: "supervisor-a",
		ConfigStatus: platform.StatusRunning, KubernetesStatus: "READY", APIServerEndpoint: apiEndpoint,
		NamespacesPool: h.nsPoolA, KubernetesVersion: "v1.28.8"})
	h.sups.put(platform.SupervisorState{Cluster: clusterEdge, ID: "sv-domain-c69", Name: "supervisor-edge",
		ConfigStatus: platform.StatusConfiguring})

	h.group = &controller.Group{}
	d := h.deps
	d.Store, d.Inventory, d.Identity, d.Clock, d.Logger, d.TaskDuration, d.Controllers =
		h.store, h.inv, h.dir, h.clock, log, taskDuration, h.group
	h.fam = New(d)
	reg := vapi.NewRegistry()
	h.fam.Register(reg)
	if err := h.fam.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var runCtx context.Context
	runCtx, h.stop = context.WithCancel(context.Background())
	h.group.Run(runCtx)

	api := &vapi.API{Registry: reg, Sessions: vapi.NewSessions(h.clock, time.Hour), Identity: h.dir,
		Logger: log, Metrics: vapi.NewMetrics(prometheus.NewRegistry())}
	api.Delegate("inventory.vapi", h.inv.VAPIPrefixes(), h.inv.VAPIHandler())
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/rest/", api)
	for _, p := range h.inv.SOAPPatterns() {
		mux.Handle(p, h.inv.SOAPHandler())
	}
	h.srv = httptest.NewTLSServer(mux)
	h.http = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	h.admin = h.login(adminUser, adminPassword)
	return h
}

// close stops everything the harness started; the data dir stays (restart tests reuse it).
func (h *harness) close() {
	if h.closed {
		return
	}
	h.closed = true
	if h.srv != nil {
		h.srv.Close()
	}
	if h.stop != nil {
		h.stop()
	}
	h.inv.Close()
	if err := h.store.Close(); err != nil {
		h.t.Errorf("closing store: %v", err)
	}
}

// makeNamespacesPool creates the "Namespaces" pool under the cluster's root pool, as enabling a
// Supervisor does.
func (h *harness) makeNamespacesPool(cluster string) string {
	h.t.Helper()
	cl, err := h.inv.Cluster(h.ctx, cluster)
	if err != nil {
		h.t.Fatal(err)
	}
	root := object.NewResourcePool(h.inv.Client(), types.ManagedObjectReference{Type: "ResourcePool", Value: cl.ResourcePool})
	p, err := root.Create(h.ctx, "Namespaces", poolAllocation(nil))
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Reference().Value
}

// settle lets the controllers finish what they are doing, advances the fake clock by d and waits
// until they are idle again. Waiting first matters: a reconcile still running when the clock jumps
// would schedule its timed requeue from the new time and miss the jump.
func (h *harness) settle(d time.Duration) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := h.group.Settle(ctx, h.clock, d); err != nil {
		h.t.Fatalf("controllers did not settle: %v", err)
	}
}

// addUser adds a vsphere.local user (with a global role unless role is "") and its groups.
func (h *harness) addUser(name, password, role string, groups ...string) {
	h.t.Helper()
	err := h.dir.Update(func(f *auth.File) error {
		f.AddUser(name, password, role, groups...)
		return nil
	})
	if err != nil {
		h.t.Fatalf("adding user %s: %v", name, err)
	}
}

type reply struct {
	Status int
	Body   []byte
}

func (r reply) errorType() string {
	var e struct {
		Type string `json:"error_type"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Type
}

func (h *harness) login(user, password string) string {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/session", nil)
	req.SetBasicAuth(user, password)
	r := h.send(req)
	if r.Status != http.StatusCreated {
		h.t.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	var token string
	if err := json.Unmarshal(r.Body, &token); err != nil {
		h.t.Fatal(err)
	}
	return token
}

// do sends a request; body is sent as is when it is a string, else JSON-encoded.
func (h *harness) do(method, path, token string, body any) reply {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set(vapi.SessionHeader, token)
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) reply {
	h.t.Helper()
	res, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{Status: res.StatusCode, Body: raw}
}

// must sends a request and fails the test unless it answers want.
func (h *harness) must(want int, method, path, token string, body any) reply {
	h.t.Helper()
	r := h.do(method, path, token, body)
	if r.Status != want {
		h.t.Fatalf("%s %s: want %d, got %d %s", method, path, want, r.Status, r.Body)
	}
	return r
}

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	return v
}

// info reads a namespace through the v1 API as the administrator.
func (h *harness) info(name string) Info {
	h.t.Helper()
	return decode[Info](h.t, h.must(200, "GET", "/api/vcenter/namespaces/instances/"+name, h.admin, nil))
}

// create creates a namespace on Cluster-A with the given extra fields and settles it to RUNNING.
func (h *harness) create(name string, fields map[string]any) {
	h.t.Helper()
	spec := map[string]any{"cluster": clusterA, "namespace": name}
	for k, v := range fields {
		spec[k] = v
	}
	h.must(204, "POST", "/api/vcenter/namespaces/instances", h.admin, spec)
	h.settle(taskDuration)
	if got := h.info(name).ConfigStatus; got != StatusRunning {
		h.t.Fatalf("namespace %s is %s after the creation work, want RUNNING", name, got)
	}
}

// pools lists the pools under Cluster-A's Namespaces pool, by name.
func (h *harness) pools() map[string]mo.ResourcePool {
	h.t.Helper()
	out := map[string]mo.ResourcePool{}
	if h.nsPoolA == "" {
		return out
	}
	pc := property.DefaultCollector(h.inv.Client())
	var parent mo.ResourcePool
	if err := pc.RetrieveOne(h.ctx, poolRef(h.nsPoolA), []string{"resourcePool"}, &parent); err != nil {
		h.t.Fatal(err)
	}
	if len(parent.ResourcePool) == 0 {
		return out
	}
	var children []mo.ResourcePool
	if err := pc.Retrieve(h.ctx, parent.ResourcePool, []string{"name", "config", "parent"}, &children); err != nil {
		h.t.Fatal(err)
	}
	for _, c := range children {
		out[c.Name] = c
	}
	return out
}

// sdkURL is the SOAP URL with the given credentials, for govc.
func (h *harness) sdkURL(user, password string) string {
	u, _ := url.Parse(h.srv.URL + "/sdk")
	u.User = url.UserPassword(user, password)
	return u.String()
}

// govc runs govc as the administrator and fails the test if it fails.
func (h *harness) govc(command string, args ...string) string {
	h.t.Helper()
	out, errOut, code := govctest.Target{URL: h.sdkURL(adminUser, adminPassword)}.Run(command, args...)
	if code != 0 {
		h.t.Fatalf("govc %s %v: exit %d: %s", command, args, code, errOut)
	}
	return out
}

// rest returns govmomi's vapi/rest client logged in as user.
func (h *harness) rest(user, password string) *rest.Client {
	h.t.Helper()
	u, err := soap.ParseURL(h.srv.URL + "/sdk")
	if err != nil {
		h.t.Fatal(err)
	}
	vc, err := vim25.NewClient(h.ctx, soap.NewClient(u, true))
	if err != nil {
		h.t.Fatal(err)
	}
	c := rest.NewClient(vc)
	if err := c.Login(h.ctx, url.UserPassword(user, password)); err != nil {
		h.t.Fatalf("rest login as %s: %v", user, err)
	}
	return c
}

func (s *fakeSupervisors) WatchChanges(context.Context, func(string)) {}
func (s *fakeSupervisors) KubernetesChanged(string)                   {}
func (f fakeVMClasses) WatchChanges(context.Context, func(string))    {}
