// Package vmservice owns VM Service on the Supervisors' Kubernetes API (issue 12): it realises VM
// Operator's VirtualMachines as VMs in the embedded vSphere inventory — deployed from the image's
// content library item into the namespace's resource pool and VM folder, sized by the VM class and
// reconfigured with its configSpec, powered as spec.powerState says — and reports what it made in
// the VirtualMachine's status and conditions, as VM Operator does. A finalizer keeps the object
// until its VM is gone. docs/vmservice.md describes what is realised and what is not yet.
package vmservice

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
)

// Finalizer is the finalizer VM Operator puts on a VirtualMachine until its VM is deleted.
const Finalizer = "vmoperator.vmware.com/virtualmachine"

// shards is how many VirtualMachines are reconciled at once.
const shards = 4

// The resources the controller follows (their storage version).
var (
	virtualMachines        = schema.GroupVersionResource{Group: "vmoperator.vmware.com", Version: "v1alpha5", Resource: "virtualmachines"}
	virtualMachineServices = schema.GroupVersionResource{Group: "vmoperator.vmware.com", Version: "v1alpha5", Resource: "virtualmachineservices"}
	publishRequests        = schema.GroupVersionResource{Group: "vmoperator.vmware.com", Version: "v1alpha5", Resource: "virtualmachinepublishrequests"}
	resourcePolicies       = schema.GroupVersionResource{Group: "vmoperator.vmware.com", Version: "v1alpha5", Resource: "virtualmachinesetresourcepolicies"}
)

// Kinds of keys: "<kind>/<cluster>/<namespace>/<name>"; servicesOf's keys name no object and bring
// every VirtualMachineService of the namespace round (their VMs changed).
const (
	kindVM         = "vm"
	kindService    = "svc"
	kindServicesOf = "svcs"
	kindPublish    = "pub"
	kindPolicy     = "policy"
)

// Controller realises the VirtualMachines of every Supervisor.
type Controller struct {
	inv  *inventory.Inventory
	fams *platform.Families
	log  *slog.Logger

	shards *controller.Sharded

	mu      sync.Mutex
	clients map[string]client.Client // by Supervisor (primary cluster), while its API server runs
	// allocating serialises address allocations per Supervisor, and books remembers what each
	// handed out and what its informers see in use (addresses.go).
	allocating map[string]*sync.Mutex
	books      map[string]*addressBook
	// imagesChanged asks for a namespace's images to be realised again (a VM was published).
	imagesChanged func(namespace string)
	// owners maps each VM VM Service made to its VirtualMachine's key (drift.go).
	owners map[types.ManagedObjectReference]string
	// restarted is when each VirtualMachine (by UID) was last restarted (power.go).
	restarted map[k8stypes.UID]time.Time
}

// New builds the controller; Start runs it. imagesChanged is called when a namespace's libraries
// gained an item (a published VM), so its images are realised at once.
func New(inv *inventory.Inventory, fams *platform.Families, log *slog.Logger, imagesChanged func(namespace string)) *Controller {
	c := &Controller{inv: inv, fams: fams, log: log.With("controller", "vmservice"), clients: map[string]client.Client{},
		imagesChanged: imagesChanged,
		allocating:    map[string]*sync.Mutex{}, books: map[string]*addressBook{},
		owners: map[types.ManagedObjectReference]string{}, restarted: map[k8stypes.UID]time.Time{}}
	// Real time: the work waits on real processes (the API servers), not the simulated clock.
	c.shards = controller.NewSharded("vmservice", shards, controller.Func(c.dispatch), clock.Real{}, log)
	return c
}

// Start runs the workers, and follows the inventory's VMs, until ctx ends.
func (c *Controller) Start(ctx context.Context) {
	c.shards.Run(ctx)
	go c.followInventory(ctx)
}

func (c *Controller) enqueue(key string) { c.shards.Enqueue(key) }

// Attach follows the VirtualMachines of a Supervisor's API server while ctx lasts.
func (c *Controller) Attach(ctx context.Context, cluster string, cl client.Client, cfg *rest.Config) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.clients[cluster] = cl
	c.mu.Unlock()
	context.AfterFunc(ctx, func() {
		c.mu.Lock()
		delete(c.clients, cluster)
		delete(c.books, cluster)
		c.mu.Unlock()
	})
	factory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 10*time.Minute)
	follow := func(gvr schema.GroupVersionResource, keys func(ns, name string) []string) error {
		onChange := func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				for _, k := range keys(u.GetNamespace(), u.GetName()) {
					c.enqueue(k)
				}
			}
		}
		_, err := factory.ForResource(gvr).Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: onChange, UpdateFunc: func(_, n any) { onChange(n) }, DeleteFunc: onChange,
		})
		return err
	}
	c.mu.Lock()
	c.books[cluster] = &addressBook{vms: factory.ForResource(virtualMachines).Lister(),
		services: factory.ForResource(virtualMachineServices).Lister(), recent: map[string]time.Time{}}
	c.mu.Unlock()
	err = follow(virtualMachines, func(ns, name string) []string {
		return []string{key(kindVM, cluster, ns, name), key(kindServicesOf, cluster, ns, "")}
	})
	if err == nil {
		err = follow(virtualMachineServices, func(ns, name string) []string { return []string{key(kindService, cluster, ns, name)} })
	}
	if err == nil {
		err = follow(resourcePolicies, func(ns, name string) []string { return []string{key(kindPolicy, cluster, ns, name)} })
	}
	if err == nil {
		err = follow(publishRequests, func(ns, name string) []string { return []string{key(kindPublish, cluster, ns, name)} })
	}
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	return nil
}

func (c *Controller) client(cluster string) client.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clients[cluster]
}

func key(kind, cluster, namespace, name string) string {
	return kind + "/" + cluster + "/" + namespace + "/" + name
}

// splitKey parses "<kind>/<cluster>/<namespace>/<name>".
func splitKey(k string) (kind, cluster, namespace, name string, ok bool) {
	parts := strings.SplitN(k, "/", 4)
	if len(parts) != 4 {
		return "", "", "", "", false
	}
	return parts[0], parts[1], parts[2], parts[3], true
}

// dispatch sends a key to the reconcile of its kind.
func (c *Controller) dispatch(ctx context.Context, k string) (controller.Result, error) {
	kind, cluster, namespace, name, ok := splitKey(k)
	cl := c.client(cluster)
	if !ok || cl == nil {
		return controller.Result{}, nil
	}
	switch kind {
	case kindVM:
		return c.reconcile(ctx, cluster, cl, namespace, name)
	case kindService:
		return c.reconcileService(ctx, cluster, cl, namespace, name)
	case kindPolicy:
		return c.reconcilePolicy(ctx, cluster, cl, namespace, name)
	case kindPublish:
		return c.reconcilePublish(ctx, cluster, cl, namespace, name)
	case kindServicesOf:
		return controller.Result{}, c.enqueueServices(ctx, cluster, cl, namespace)
	}
	return controller.Result{}, nil
}
