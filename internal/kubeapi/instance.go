package kubeapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/wcpd/wcpd/internal/pki"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vmop"
	"github.com/wcpd/wcpd/internal/vmservice"
)

// Timings of a Supervisor's API server.
const (
	readyTimeout   = 2 * time.Minute  // from spawn to /readyz answering 200
	maxRestartWait = 30 * time.Second // longest wait between two starts after failures
	readyPoll      = 100 * time.Millisecond
)

// wcpdUser is the identity wcpd itself has in every Supervisor's API server (client certificate,
// in system:masters).
const wcpdUser = vmservice.ControllerUser

// instance runs the Kubernetes control plane of one Supervisor: kube-apiserver and
// kube-controller-manager as child processes, restarted when they fail, with their state under
// <data-dir>/kubernetes/supervisors/<cluster> and in etcd under the Supervisor's own prefix.
type instance struct {
	m       *Manager
	cluster string
	dir     string
	port    int
	ca      *pki.Authority

	config *rest.Config // wcpd's own client configuration (admin certificate)
	kube   kubernetes.Interface
	client client.Client // the same, with VM Operator's types
	// dynamic and mapper apply and read the workloads of Supervisor Services (workloads.go).
	dynamic dynamic.Interface
	mapper  meta.ResettableRESTMapper

	mu    sync.Mutex
	state platform.KubernetesAPIServer
	// informers are the realiser's caches of this API server while it runs (realize.go).
	informers *caches

	cancel context.CancelFunc
	done   chan struct{}
}

// endpoint is where clients on this machine reach the API server.
func (i *instance) endpoint() string { return "https://127.0.0.1:" + strconv.Itoa(i.port) }

// newInstance prepares the Supervisor's directory, certificate authority, port and clients; it
// starts nothing.
func (m *Manager) newInstance(cluster string) (*instance, error) {
	dir := m.supervisorDir(cluster)
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return nil, err
	}
	ca, err := pki.LoadOrCreateAuthority(pkiDir, "ca", "Supervisor "+cluster+" CA")
	if err != nil {
		return nil, err
	}
	port, err := stablePort(filepath.Join(dir, "port"))
	if err != nil {
		return nil, err
	}
	i := &instance{m: m, cluster: cluster, dir: dir, port: port, ca: ca}
	i.state = platform.KubernetesAPIServer{Endpoint: i.endpoint(), CA: ca.CertPEM}
	admin, err := ca.Client(wcpdUser, "system:masters")
	if err != nil {
		return nil, err
	}
	i.config = &rest.Config{
		Host: i.endpoint(), QPS: 500, Burst: 1000, Timeout: 30 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM, CertData: admin.CertPEM, KeyData: admin.KeyPEM},
	}
	if i.kube, err = kubernetes.NewForConfig(i.config); err != nil {
		return nil, err
	}
	if i.client, err = client.New(i.config, client.Options{Scheme: vmop.Scheme()}); err != nil {
		return nil, err
	}
	if i.dynamic, err = dynamic.NewForConfig(i.config); err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(i.config)
	if err != nil {
		return nil, err
	}
	i.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return i, nil
}

// stablePort reads the port kept in file, or picks a free one and keeps it there: the endpoint
// written into users' kubeconfigs stays the same across restarts.
func stablePort(file string) (int, error) {
	if b, err := os.ReadFile(file); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p < 65536 {
			return p, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p, pki.WriteFiles(map[string][]byte{file: []byte(strconv.Itoa(p) + "\n")})
}

func (i *instance) caches() *caches {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.informers
}

func (i *instance) setCaches(c *caches) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.informers = c
}

// snapshot returns the API server's state.
func (i *instance) snapshot() platform.KubernetesAPIServer {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.state
}

// set changes the state and tells the clusters family, which reports it on the Supervisor.
func (i *instance) set(ready bool, problem string) {
	i.mu.Lock()
	changed := i.state.Ready != ready || i.state.Problem != problem
	i.state.Ready, i.state.Problem = ready, problem
	i.mu.Unlock()
	if !changed {
		return
	}
	if problem != "" {
		i.m.log.Warn("Supervisor Kubernetes API server problem", "cluster", i.cluster, "problem", problem)
	} else if ready {
		i.m.log.Info("Supervisor Kubernetes API server ready", "cluster", i.cluster, "endpoint", i.endpoint())
	}
	if s := i.m.deps.Families.Supervisors; s != nil {
		s.KubernetesChanged(i.cluster)
	}
}

// start runs the control plane until stop.
func (i *instance) start() {
	ctx, cancel := context.WithCancel(context.Background())
	i.cancel, i.done = cancel, make(chan struct{})
	go func() {
		defer close(i.done)
		wait := time.Second
		for {
			began := time.Now()
			err := i.runOnce(ctx)
			if ctx.Err() != nil {
				i.set(false, "")
				return
			}
			i.set(false, err.Error())
			if time.Since(began) > 5*maxRestartWait {
				wait = time.Second // it ran fine for a while: this is a new failure, not a loop
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, maxRestartWait)
		}
	}()
}

// stop ends the control plane and waits for its processes to exit.
func (i *instance) stop() {
	if i.cancel != nil {
		i.cancel()
		<-i.done
	}
}

// runOnce starts the API server, waits for it, installs wcpd's objects, starts the controller
// manager and then watches both until ctx ends or the API server exits; it returns why it stopped.
func (i *instance) runOnce(ctx context.Context) error {
	args, err := i.apiServerArgs()
	if err != nil {
		return err
	}
	api, err := startChild(i.m.cfg.Executable, "kube-apiserver", args, filepath.Join(i.dir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	defer api.stop()
	if err := i.waitReady(ctx, api); err != nil {
		return err
	}
	if err := i.bootstrap(ctx); err != nil {
		return fmt.Errorf("installing wcpd's objects in the API server: %w", err)
	}
	kcmArgs, err := i.controllerManagerArgs()
	if err != nil {
		return err
	}
	kcm, err := startChild(i.m.cfg.Executable, "kube-controller-manager", kcmArgs, filepath.Join(i.dir, "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	defer func() { kcm.stop() }()
	schedArgs, err := i.schedulerArgs()
	if err != nil {
		return err
	}
	sched, err := startChild(i.m.cfg.Executable, "kube-scheduler", schedArgs, filepath.Join(i.dir, "kube-scheduler.log"))
	if err != nil {
		return err
	}
	defer func() { sched.stop() }()

	runCtx, stopRealising := context.WithCancel(ctx)
	defer stopRealising()
	i.m.realiser.attach(runCtx, i)
	if err := i.m.vms.Attach(runCtx, i.cluster, i.client, i.config); err != nil {
		return fmt.Errorf("following VirtualMachines: %w", err)
	}
	if err := i.m.pods.Attach(runCtx, i.cluster, i.kube); err != nil {
		return fmt.Errorf("following pods: %w", err)
	}
	i.set(true, "")
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-api.exited:
			return errors.New(api.failure())
		case <-kcm.exited:
			if kcm, err = i.restartChild(ctx, kcm, kcmArgs); err != nil {
				return err
			}
		case <-sched.exited:
			if sched, err = i.restartChild(ctx, sched, schedArgs); err != nil {
				return err
			}
		}
	}
}

// restartChild starts an exited controller manager or scheduler again, a second after it exited.
func (i *instance) restartChild(ctx context.Context, exited *child, args []string) (*child, error) {
	i.m.log.Warn(exited.command+" exited; starting it again", "cluster", i.cluster, "why", exited.failure())
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}
	return startChild(i.m.cfg.Executable, exited.command, args, exited.logPath)
}

// waitReady polls /readyz with wcpd's certificate until it answers 200, the process exits or the
// time runs out.
func (i *instance) waitReady(ctx context.Context, api *child) error {
	cert, err := tls.X509KeyPair(i.config.CertData, i.config.KeyData)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: i.ca.Pool(), Certificates: []tls.Certificate{cert}}}}
	defer hc.CloseIdleConnections()
	deadline := time.After(readyTimeout)
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-api.exited:
			return errors.New(api.failure())
		case <-deadline:
			return fmt.Errorf("kube-apiserver did not become ready within %s: %s", readyTimeout, logTail(api.logPath, 2))
		case <-tick.C:
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, i.endpoint()+"/readyz", nil)
			if res, err := hc.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
	}
}

// etcdPrefix is where the Supervisor's API server keeps its objects, below wcpd's store prefix.
func (m *Manager) etcdPrefix(cluster string) string { return "kube/" + cluster + "/" }

// apiServerArgs are kube-apiserver's flags; the files they name are written afresh.
func (i *instance) apiServerArgs() ([]string, error) {
	pkiDir := filepath.Join(i.dir, "pki")
	serving, err := i.ca.Serving("kube-apiserver", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local")
	if err != nil {
		return nil, err
	}
	saKey, saPub, err := pki.LoadOrCreateSigningKey(pkiDir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		filepath.Join(pkiDir, "apiserver.crt"):            serving.CertPEM,
		filepath.Join(pkiDir, "apiserver.key"):            serving.KeyPEM,
		filepath.Join(pkiDir, "ca-bundle.crt"):            i.ca.CertPEM,
		filepath.Join(pkiDir, "token-webhook.kubeconfig"): webhookKubeconfig(i.m.webhooks.url("/authenticate"), i.m.webhooks.ca.CertPEM),
	}
	if err := pki.WriteFiles(files); err != nil {
		return nil, err
	}
	args := []string{
		"--etcd-servers=" + strings.Join(i.m.deps.Store.Endpoints(), ","),
		"--etcd-prefix=" + i.m.deps.Store.Prefix() + i.m.etcdPrefix(i.cluster) + "registry",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(i.port),
		"--tls-cert-file=" + filepath.Join(pkiDir, "apiserver.crt"),
		"--tls-private-key-file=" + filepath.Join(pkiDir, "apiserver.key"),
		"--client-ca-file=" + filepath.Join(pkiDir, "ca-bundle.crt"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + saPub,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		"--authorization-mode=RBAC",
		"--authentication-token-webhook-config-file=" + filepath.Join(pkiDir, "token-webhook.kubeconfig"),
		"--authentication-token-webhook-version=v1",
		// kube-apiserver keeps every successful token review for 10 s whatever this says (a fixed
		// cache over all token authenticators); the webhook's own cache is set to match, so a token
		// dies within 10 s of logout or session expiry instead of the default 2 minutes.
		"--authentication-token-webhook-cache-ttl=10s",
		// The advertised address is loopback, which the endpoints reconciler refuses to publish.
		"--endpoint-reconciler-type=none",
		// Every node's kubelet API is wcpd's (internal/spherelet), at the address the nodes report.
		"--kubelet-preferred-address-types=InternalIP",
		"--cert-dir=" + pkiDir,
		"--profiling=false",
		"--v=1",
	}
	// The embedded etcd takes only clients with its certificate; an external one may too.
	tlsFiles := i.m.deps.Store.ClientTLSFiles()
	for flag, file := range map[string]string{"--etcd-certfile=": tlsFiles.CertFile, "--etcd-keyfile=": tlsFiles.KeyFile, "--etcd-cafile=": tlsFiles.CAFile} {
		if file != "" {
			args = append(args, flag+file)
		}
	}
	return args, nil
}

// schedulerArgs are kube-scheduler's flags: the upstream scheduler places the Supervisor's pods on
// its nodes (the ESXi hosts, internal/spherelet).
func (i *instance) schedulerArgs() ([]string, error) {
	pkiDir := filepath.Join(i.dir, "pki")
	sched, err := i.ca.Client("system:kube-scheduler")
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(pkiDir, "scheduler.kubeconfig")
	if err := pki.WriteFiles(map[string][]byte{kubeconfig: clientKubeconfig(i.endpoint(), i.ca.CertPEM, sched)}); err != nil {
		return nil, err
	}
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--v=1",
	}, nil
}

// controllerManagerArgs are kube-controller-manager's flags.
func (i *instance) controllerManagerArgs() ([]string, error) {
	pkiDir := filepath.Join(i.dir, "pki")
	kcm, err := i.ca.Client("system:kube-controller-manager")
	if err != nil {
		return nil, err
	}
	saKey, _, err := pki.LoadOrCreateSigningKey(pkiDir)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(pkiDir, "controller-manager.kubeconfig")
	if err := pki.WriteFiles(map[string][]byte{kubeconfig: clientKubeconfig(i.endpoint(), i.ca.CertPEM, kcm)}); err != nil {
		return nil, err
	}
	flexDir := filepath.Join(i.dir, "flexvolume")
	if err := os.MkdirAll(flexDir, 0o700); err != nil {
		return nil, err
	}
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--service-account-private-key-file=" + saKey,
		"--root-ca-file=" + filepath.Join(pkiDir, "ca.crt"),
		"--use-service-account-credentials=true",
		"--cluster-signing-cert-file=" + filepath.Join(pkiDir, "ca.crt"),
		"--cluster-signing-key-file=" + filepath.Join(pkiDir, "ca.key"),
		// Without it the controller manager creates a plugin directory under /usr/libexec.
		"--flex-volume-plugin-dir=" + flexDir,
		"--v=1",
	}, nil
}
