package services

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// fakeSupervisors is platform.Supervisors with Supervisors the test sets.
type fakeSupervisors struct {
	mu sync.Mutex
	m  map[string]platform.SupervisorState
}

func (s *fakeSupervisors) set(cluster, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == "" {
		delete(s.m, cluster)
		return
	}
	s.m[cluster] = platform.SupervisorState{Cluster: cluster, ID: "sup-" + cluster, ConfigStatus: status}
}

func (s *fakeSupervisors) Supervisor(id string) (platform.SupervisorState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sup := range s.m {
		if sup.Cluster == id || sup.ID == id {
			return sup, true
		}
	}
	return platform.SupervisorState{}, false
}

func (s *fakeSupervisors) List() []platform.SupervisorState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []platform.SupervisorState
	for _, sup := range s.m {
		out = append(out, sup)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}

// fakeNamespaces records the system namespaces the family creates and removes.
type fakeNamespaces struct {
	mu         sync.Mutex
	m          map[string]map[string]bool // cluster -> names
	elsewhere  map[string]bool            // names taken on other clusters
	failCreate error
}

func (n *fakeNamespaces) OnCluster(cluster string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for name := range n.m[cluster] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (n *fakeNamespaces) RemoveAllOnCluster(_ context.Context, cluster string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.m, cluster)
	return nil
}

func (n *fakeNamespaces) CreateSystem(_ context.Context, cluster, name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failCreate != nil {
		return n.failCreate
	}
	if n.elsewhere[name] {
		return vapi.NewError(vapi.ErrorAlreadyExists, "test.taken", "Namespace "+name+" exists on another cluster.")
	}
	if n.m[cluster] == nil {
		n.m[cluster] = map[string]bool{}
	}
	n.m[cluster][name] = true
	return nil
}

func (n *fakeNamespaces) RemoveSystem(_ context.Context, cluster, name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.m[cluster], name)
	return nil
}

func (n *fakeNamespaces) OfferingVMClass(string) []string             { return nil }
func (n *fakeNamespaces) ForgetVMClass(context.Context, string) error { return nil }

// fakeFaults arms one fault per operation and target.
type fakeFaults struct {
	mu    sync.Mutex
	armed map[string]platform.Fault
}

func (f *fakeFaults) arm(op, target string, fault platform.Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed[op+"/"+target] = fault
}

func (f *fakeFaults) Take(op, target string) (platform.Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fault, ok := f.armed[op+"/"+target]
	delete(f.armed, op+"/"+target)
	return fault, ok
}

// harness runs the family on a real embedded store with a fake clock and fakes of the contracts of
// the clusters and namespaces families. Clusters domain-c9, domain-c39 and domain-c69 exist.
type harness struct {
	t       *testing.T
	dataDir string
	clock   *clock.Fake
	st      *store.Store
	f       *Family
	reg     *vapi.Registry
	group   *controller.Group
	stop    context.CancelFunc
	sups    *fakeSupervisors
	nss     *fakeNamespaces
	faults  *fakeFaults
}

const taskDuration = 10 * time.Second

var testStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, dataDir: t.TempDir(), clock: clock.NewFake(testStart),
		sups:   &fakeSupervisors{m: map[string]platform.SupervisorState{}},
		nss:    &fakeNamespaces{m: map[string]map[string]bool{}},
		faults: &fakeFaults{armed: map[string]platform.Fault{}}}
	h.start()
	return h
}

// start opens the store on the harness's data dir and starts a new family on it, as a wcpd start does.
func (h *harness) start() {
	h.t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: h.dataDir})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
	h.group = &controller.Group{}
	deps := &platform.Deps{Store: st, Clock: h.clock, TaskDuration: taskDuration, Controllers: h.group, DataDir: h.dataDir,
		Families: &platform.Families{Supervisors: h.sups, Namespaces: h.nss, Faults: h.faults}}
	h.f = New(deps)
	h.f.clusterExists = func(_ context.Context, id string) (bool, error) {
		return id == "domain-c9" || id == "domain-c39" || id == "domain-c69", nil
	}
	h.reg = vapi.NewRegistry()
	h.f.Register(h.reg)
	if err := h.f.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.group.Run(runCtx)
	h.t.Cleanup(h.close)
}

// close stops the controllers and the store, as a wcpd stop does.
func (h *harness) close() {
	if h.st == nil {
		return
	}
	h.stop()
	_ = h.st.Close()
	h.st = nil
}

// restart stops everything and starts again on the same data dir.
func (h *harness) restart() {
	h.t.Helper()
	h.close()
	h.start()
}

// settle lets the controllers progress by d of fake time (controller.Group.Settle).
func (h *harness) settle(d time.Duration) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.group.Settle(ctx, h.clock, d); err != nil {
		h.t.Fatal(err)
	}
}

// call invokes an operation of the family as the /api protocol would, body encoded as JSON.
func (h *harness) call(service, op string, params map[string]string, body any) (any, error) {
	h.t.Helper()
	id := vapi.ServicePrefix + "namespace_management.supervisor_services"
	if service != "" {
		id += "." + service
	}
	operation, ok := h.reg.Lookup(id + "." + op)
	if !ok {
		h.t.Fatalf("no operation %s.%s", id, op)
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			h.t.Fatal(err)
		}
	}
	c := vapi.NewCall(context.Background(), operation, auth.Principal{Name: "administrator", Domain: "vsphere.local"}, params, nil, raw)
	return operation.Handler(c)
}

// must fails the test if err is not nil.
func (h *harness) must(v any, err error) any {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// wantError fails the test unless err is a vAPI error of type want whose messages mention every
// string of mention.
func wantError(t *testing.T, err error, want vapi.ErrorType, mention ...string) {
	t.Helper()
	ve, ok := err.(*vapi.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want %s", err, err, want)
	}
	if ve.Type != want {
		t.Fatalf("error = %v, want %s", ve, want)
	}
	text, _ := json.Marshal(ve.Messages)
	for _, m := range mention {
		if !strings.Contains(string(text), m) {
			t.Fatalf("error %s does not mention %q", text, m)
		}
	}
}

// trustKey generates a key, writes its public half into the harness's trust store and returns it.
func trustKey(t *testing.T, dataDir, name string, ecdsaKey bool) crypto.Signer {
	t.Helper()
	var signer crypto.Signer
	var err error
	if ecdsaKey {
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, "trust")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return signer
}

// sign appends a signature document to payload as docs/services.md describes it, independently of
// the family's own signing code.
func sign(t *testing.T, signer crypto.Signer, payload string) string {
	t.Helper()
	if !strings.HasSuffix(payload, "\n") {
		payload += "\n"
	}
	var sig []byte
	var alg string
	var err error
	switch k := signer.(type) {
	case ed25519.PrivateKey:
		alg, sig = "ed25519", ed25519.Sign(k, []byte(payload))
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256([]byte(payload))
		alg = "ecdsa-p256-sha256"
		sig, err = ecdsa.SignASN1(rand.Reader, k, digest[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return payload + fmt.Sprintf("---\napiVersion: signing.wcpd.io/v1\nkind: ContentSignature\nalgorithm: %s\nsignature: %s\n",
		alg, base64.StdEncoding.EncodeToString(sig))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// carvelContent is a Carvel package of service id at version.
func carvelContent(id, version string) string {
	return fmt.Sprintf(`apiVersion: data.packaging.carvel.dev/v1alpha1
kind: PackageMetadata
metadata:
  name: %[1]s
spec:
  displayName: Service %[1]s
  shortDescription: Test service %[1]s.
---
apiVersion: data.packaging.carvel.dev/v1alpha1
kind: Package
metadata:
  name: %[1]s.%[2]s
spec:
  refName: %[1]s
  version: %[2]s
  template:
    spec:
      fetch:
      - imgpkgBundle:
          image: registry.example/%[1]s:%[2]s
      deploy:
      - kapp: {}
`, id, version)
}

// vsphereContent is a content in the vSphere application service format.
func vsphereContent(id, version, eula string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s-operator
---
apiVersion: appplatform.wcp.vmware.com/v1alpha1
kind: SupervisorService
metadata:
  name: %[1]s
spec:
  serviceId: %[1]s
  label: Service %[1]s
  description: Test service %[1]s in the vSphere format.
  eula: %[3]q
  versions: [%[2]q]
`, id, version, eula)
}

// registerCarvel registers (or adds a version to) a Carvel service without trust, activated.
func (h *harness) registerCarvel(id, version string) {
	h.t.Helper()
	spec := map[string]any{"carvel_spec": map[string]any{"content": b64(carvelContent(id, version))}}
	if _, ok := h.f.services.Get(id); ok {
		h.must(h.call("versions", "create", map[string]string{"supervisorService": id}, spec))
		return
	}
	h.must(h.call("", "create", nil, map[string]any{"carvel_spec": map[string]any{"version_spec": spec["carvel_spec"]}}))
}

func (s *fakeSupervisors) WatchChanges(context.Context, func(string)) {}
func (s *fakeSupervisors) KubernetesChanged(string)                   {}

func (n *fakeNamespaces) Realisation(string) (platform.NamespaceRealisation, bool) {
	return platform.NamespaceRealisation{}, false
}
func (n *fakeNamespaces) WatchChanges(context.Context, func(string))             {}
func (n *fakeNamespaces) ReportKubernetes(context.Context, string, string) error { return nil }
func (n *fakeNamespaces) KubernetesReleased(string)                              {}
