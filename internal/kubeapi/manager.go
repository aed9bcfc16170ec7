// Package kubeapi owns the Supervisor's Kubernetes API (issue 11): for every RUNNING Supervisor it
// runs the upstream kube-apiserver, kube-controller-manager and kube-scheduler (child processes of
// the wcpd binary, internal/kubeproc) on wcpd's etcd under a prefix of the Supervisor's own, with a certificate
// authority per Supervisor kept in the data dir; it lets vCenter users in with their vCenter
// credentials (the login extension and a TokenReview webhook), admits namespaces created and
// deleted through kubectl as self-service, and realises every vSphere Namespace in it — Namespace,
// ResourceQuota, LimitRange, RoleBindings, StorageClasses, VM classes and images — repairing
// drift; it applies what Supervisor Services install (workloads.go), and runs VM Service
// (internal/vmservice) and the Spherelets (internal/spherelet) against each API server.
// docs/kubernetes.md describes it.
package kubeapi

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/admission"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/spherelet"
	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vmop"
	"github.com/wcpd/wcpd/internal/vmservice"
)

// Config turns the Kubernetes side on.
type Config struct {
	// Executable is a program that runs the upstream servers when started as `<Executable>
	// kube-apiserver …` (internal/kubeproc): the wcpd binary, or a test binary whose TestMain calls
	// kubeproc.RunIfChild. Empty turns the Kubernetes side off.
	Executable string
}

// Manager is the Supervisor Kubernetes API family.
type Manager struct {
	deps *platform.Deps
	cfg  Config
	log  *slog.Logger

	webhooks *webhooks
	realiser *realiser
	// vms realises VM Operator's VirtualMachines (internal/vmservice).
	vms *vmservice.Controller
	// pods runs the Spherelets: hosts as nodes, pods as pod VMs (internal/spherelet).
	pods *spherelet.Controller
	// supervisors reconciles, per primary cluster, whether its control plane runs.
	supervisors *controller.Controller

	mu        sync.Mutex
	instances map[string]*instance // by primary cluster
	stopAll   context.CancelFunc
}

// New builds the family; with the Kubernetes side on, it offers platform.Kubernetes.
func New(d *platform.Deps, cfg Config) *Manager {
	m := &Manager{deps: d, cfg: cfg, instances: map[string]*instance{}}
	if d.Families != nil && cfg.Executable != "" {
		d.Families.Kubernetes = m
	}
	return m
}

// Enabled reports whether the Kubernetes side is on.
func (m *Manager) Enabled() bool { return m.cfg.Executable != "" }

// Register attaches the login extension.
func (m *Manager) Register(r *vapi.Registry) {
	r.Extend(loginBinding, m.login, true)
}

// kubernetesDir holds the Kubernetes side's state in the data dir.
func (m *Manager) kubernetesDir() string { return filepath.Join(m.deps.DataDir, "kubernetes") }

// supervisorDir holds one Supervisor's certificates, port and logs.
func (m *Manager) supervisorDir(cluster string) string {
	return filepath.Join(m.kubernetesDir(), "supervisors", cluster)
}

// Start opens the webhook listener and starts the control plane of every Supervisor that should
// have one; Supervisors that went while wcpd was down have their leftovers removed.
func (m *Manager) Start(ctx context.Context) error {
	if m.cfg.Executable == "" {
		return nil
	}
	m.log = m.deps.Logger.With("component", "kubernetes")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /authenticate", m.serveTokenReview)
	mux.Handle("POST /convert", vmop.ConversionHandler())
	mux.Handle("POST /admit/namespaces/{cluster}", admission.Handler(m.namespaceAdmission))
	// The realiser exists by the time a VM is published.
	m.vms = vmservice.New(m.deps.Inventory, m.deps.Families, m.log, func(ns string) { m.realiser.namespaceChanged(ns) })
	mux.Handle("POST /admit/virtualmachines/{cluster}", m.vms.AdmissionHandler())
	mux.Handle("POST /mutate/virtualmachines/{cluster}", m.vms.MutationHandler())
	for _, p := range spherelet.KubeletPaths {
		mux.Handle(p, spherelet.RuntimeHandler())
	}
	var err error
	if m.webhooks, err = startWebhooks(m.kubernetesDir(), mux); err != nil {
		return err
	}
	m.pods = spherelet.New(m.deps.Inventory, m.deps.Families, m.log, m.webhooks.port())
	runCtx, cancel := context.WithCancel(context.Background())
	m.stopAll = cancel
	// The Kubernetes side waits on real processes, so it runs on real time and outside the
	// controller group the tests settle with the fake clock.
	m.supervisors = controller.New("kubernetes-supervisors", controller.Func(m.reconcileSupervisor), clock.Real{}, m.log)
	m.realiser = newRealiser(m)
	go m.supervisors.Run(runCtx)
	m.realiser.start(runCtx)
	m.vms.Start(runCtx)
	m.pods.Start(runCtx)
	m.deps.Families.Supervisors.WatchChanges(runCtx, m.supervisors.Enqueue)
	for _, s := range m.deps.Families.Supervisors.List() {
		m.supervisors.Enqueue(s.Cluster)
	}
	entries, _ := os.ReadDir(filepath.Join(m.kubernetesDir(), "supervisors"))
	for _, e := range entries {
		m.supervisors.Enqueue(e.Name())
	}
	return nil
}

// Close stops every Supervisor's control plane (their data stays) and the webhook listener.
func (m *Manager) Close() {
	if m.stopAll == nil {
		return
	}
	m.mu.Lock()
	all := make([]*instance, 0, len(m.instances))
	for _, i := range m.instances {
		all = append(all, i)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, i := range all {
		wg.Add(1)
		go func() { defer wg.Done(); i.stop() }()
	}
	wg.Wait()
	m.stopAll()
	m.webhooks.close()
}

// reconcileSupervisor runs the control plane of a Supervisor that is RUNNING (or was running
// before and is now being changed or removed), and removes it with its data once the Supervisor
// is gone.
func (m *Manager) reconcileSupervisor(ctx context.Context, cluster string) (controller.Result, error) {
	st, ok := m.deps.Families.Supervisors.Supervisor(cluster)
	ok = ok && st.Cluster == cluster
	_, statErr := os.Stat(m.supervisorDir(cluster))
	ranBefore := statErr == nil
	want := ok && (st.ConfigStatus == platform.StatusRunning || ranBefore)

	m.mu.Lock()
	inst := m.instances[cluster]
	m.mu.Unlock()
	switch {
	case want && inst == nil:
		inst, err := m.newInstance(cluster)
		if err != nil {
			return controller.Result{}, err
		}
		m.mu.Lock()
		m.instances[cluster] = inst
		m.mu.Unlock()
		inst.start()
		m.deps.Families.Supervisors.KubernetesChanged(cluster)
	case !want && inst != nil:
		inst.stop()
		m.mu.Lock()
		delete(m.instances, cluster)
		m.mu.Unlock()
		m.realiser.forgetCluster(cluster)
	}
	if !ok && ranBefore {
		// The Supervisor is gone: its Kubernetes objects and certificates go with it.
		if err := m.deps.Store.DeletePrefix(ctx, m.etcdPrefix(cluster)); err != nil {
			return controller.Result{}, err
		}
		if err := os.RemoveAll(m.supervisorDir(cluster)); err != nil {
			return controller.Result{}, err
		}
		m.log.Info("removed the Kubernetes API server of a disabled Supervisor", "cluster", cluster)
	}
	return controller.Result{}, nil
}

// instance returns the running control plane of the Supervisor on cluster.
func (m *Manager) instance(cluster string) (*instance, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.instances[cluster]
	return i, ok
}

// APIServer implements platform.Kubernetes.
func (m *Manager) APIServer(cluster string) (platform.KubernetesAPIServer, bool) {
	i, ok := m.instance(cluster)
	if !ok {
		return platform.KubernetesAPIServer{}, false
	}
	return i.snapshot(), true
}

// NamespaceReleased implements platform.Kubernetes. A Supervisor whose API server has failed does
// not hold its namespaces' removal up: the realiser deletes what is left once it runs again.
func (m *Manager) NamespaceReleased(cluster, namespace string) bool {
	i, ok := m.instance(cluster)
	if !ok {
		return true
	}
	if st := i.snapshot(); !st.Ready && st.Problem != "" {
		return true
	}
	return m.realiser.released(cluster, namespace)
}

// readyClusters lists the clusters whose API servers are ready, sorted.
func (m *Manager) readyClusters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for c, i := range m.instances {
		if i.snapshot().Ready {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// WaitReady blocks until the API server of the Supervisor on cluster is ready, or ctx ends (for
// tests and the benchmark program).
func (m *Manager) WaitReady(ctx context.Context, cluster string) (platform.KubernetesAPIServer, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if st, ok := m.APIServer(cluster); ok && st.Ready {
			return st, nil
		}
		select {
		case <-ctx.Done():
			st, _ := m.APIServer(cluster)
			if st.Problem != "" {
				return st, context.Cause(ctx)
			}
			return st, ctx.Err()
		case <-t.C:
		}
	}
}
