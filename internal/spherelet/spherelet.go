// Package spherelet owns vSphere Pods on the Supervisors' Kubernetes API (issue 13). It does what
// the Spherelet on every ESXi host of a Supervisor does: each host of the Supervisor's cluster is a
// Kubernetes Node (capacity from the host, Ready while the host is connected and out of
// maintenance mode, its Lease renewed as a kubelet renews it), and each pod the upstream
// kube-scheduler binds to a node becomes a pod VM — a CRX VM in the namespace's resource pool on
// that host, sized, shared and reserved by the resource model's rules (drs.AllocatePod) — whose
// state the pod's status reports. Containers are not executed: the runtime is simulated, so a pod
// is Running once its VM is powered on, and logs, exec, attach and port-forward answer that they
// are not available (runtime.go). docs/vsphere-pods.md describes it.
package spherelet

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
)

// shards is how many pods are realised at once.
const shards = 4

// resync is how often the nodes are brought up to date with their hosts, their leases renewed,
// and the pod VMs compared with the pods (orphans removed, lost VMs reported): well inside the
// node controller's grace period (40 s) for the leases.
const resync = 10 * time.Second

// Controller runs the Spherelets of every Supervisor.
type Controller struct {
	inv  *inventory.Inventory
	fams *platform.Families
	log  *slog.Logger
	// kubeletPort is where the API servers reach the nodes' kubelet API (runtime.go).
	kubeletPort int

	shards *controller.Sharded

	mu   sync.Mutex
	sups map[string]*supervisor // by primary cluster, while its API server runs
}

// supervisor is what the Spherelets of one Supervisor follow.
type supervisor struct {
	cluster string
	kube    kubernetes.Interface
	pods    corelisters.PodLister
	nodes   corelisters.NodeLister
	synced  func() bool

	mu sync.Mutex
	// hostOfNode maps each node to its host's MoRef id, as last synced.
	hostOfNode map[string]string
	// vmOfPod remembers the pod VM of each pod (by UID) once made or found, and podOfVM the pod
	// ("<namespace>/<name>") of each such VM.
	vmOfPod map[string]string
	podOfVM map[string]string
	// recentIPs are addresses handed out lately, taken whatever the pod cache says yet.
	recentIPs map[string]time.Time
}

// New builds the controller; kubeletPort is where the API servers reach the nodes' kubelet API.
func New(inv *inventory.Inventory, fams *platform.Families, log *slog.Logger, kubeletPort int) *Controller {
	c := &Controller{inv: inv, fams: fams, log: log.With("controller", "spherelet"), kubeletPort: kubeletPort,
		sups: map[string]*supervisor{}}
	// Real time: the work waits on real processes (the API servers).
	c.shards = controller.NewSharded("spherelet", shards, controller.Func(c.dispatch), clock.Real{}, log)
	return c
}

// Start runs the workers until ctx ends.
func (c *Controller) Start(ctx context.Context) {
	c.shards.Run(ctx)
}

func (c *Controller) enqueue(key string) { c.shards.Enqueue(key) }

// podKey is "<cluster>/<namespace>/<name>".
func podKey(cluster, namespace, name string) string { return cluster + "/" + namespace + "/" + name }

// Attach runs the Spherelets of a Supervisor while ctx lasts: its hosts become nodes, and its
// pods bound to them become pod VMs.
func (c *Controller) Attach(ctx context.Context, cluster string, kube kubernetes.Interface) error {
	factory := informers.NewSharedInformerFactory(kube, 10*time.Minute)
	pods := factory.Core().V1().Pods()
	nodes := factory.Core().V1().Nodes()
	s := &supervisor{cluster: cluster, kube: kube, pods: pods.Lister(), nodes: nodes.Lister(),
		hostOfNode: map[string]string{}, vmOfPod: map[string]string{}, podOfVM: map[string]string{}, recentIPs: map[string]time.Time{}}
	onPod := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			c.enqueue(podKey(cluster, p.Namespace, p.Name))
		}
	}
	podInformer := pods.Informer()
	if _, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onPod, UpdateFunc: func(_, n any) { onPod(n) }, DeleteFunc: onPod,
	}); err != nil {
		return err
	}
	nodeInformer := nodes.Informer()
	s.synced = func() bool { return podInformer.HasSynced() && nodeInformer.HasSynced() }
	c.mu.Lock()
	c.sups[cluster] = s
	c.mu.Unlock()
	context.AfterFunc(ctx, func() {
		c.mu.Lock()
		if c.sups[cluster] == s {
			delete(c.sups, cluster)
		}
		c.mu.Unlock()
	})
	// A pod VM removed behind the pod's back fails its pod at once (the inventory tells of it as
	// it happens); the sweep would find it within resync.
	stop := c.inv.OnVMChange(func(ch inventory.VMChange) {
		if ch.Removed {
			if pod, ok := s.podOf(ch.VM.Value); ok {
				c.enqueue(cluster + "/" + pod)
			}
		}
	})
	context.AfterFunc(ctx, stop)
	factory.Start(ctx.Done())
	go c.follow(ctx, s)
	return nil
}

// follow keeps the nodes and their leases current and the pod VMs in step with the pods, every
// resync, once the caches are filled.
func (c *Controller) follow(ctx context.Context, s *supervisor) {
	if !cache.WaitForCacheSync(ctx.Done(), s.synced) {
		return
	}
	tick := time.NewTicker(resync)
	defer tick.Stop()
	for {
		if err := c.syncNodes(ctx, s); err != nil && ctx.Err() == nil {
			c.log.Warn("bringing the nodes up to date", "cluster", s.cluster, "err", err)
		}
		if err := c.sweep(ctx, s); err != nil && ctx.Err() == nil {
			c.log.Warn("comparing pod VMs with pods", "cluster", s.cluster, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (c *Controller) supervisor(cluster string) *supervisor {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sups[cluster]
}

// dispatch realises the pod of a key.
func (c *Controller) dispatch(ctx context.Context, key string) (controller.Result, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return controller.Result{}, nil
	}
	s := c.supervisor(parts[0])
	if s == nil {
		return controller.Result{}, nil
	}
	return c.reconcilePod(ctx, s, parts[1], parts[2])
}
