package kubeapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vmop"
)

// Timings of the realiser.
const (
	// resyncEvery is how often the realiser looks at what has no watch of its own (content library
	// items changed through govc or the vAPI, storage policy names), and brings every namespace
	// round when that changed.
	resyncEvery = 30 * time.Second
	// expectCreateFor is how long the realiser leaves the creation of a Kubernetes Namespace to the
	// user whose kubectl request made its vSphere Namespace (admission.go).
	expectCreateFor = 30 * time.Second
	// terminatingPoll is how often a Namespace that Kubernetes is still finalising is looked at.
	terminatingPoll = time.Second
)

// realiser keeps every vSphere Namespace realised in its Supervisor's API server, level-triggered:
// a key "<cluster>/<namespace>" is reconciled when the vSphere Namespace, one of its VM classes or
// one of its Kubernetes objects changes, and when content libraries or storage policies change
// (looked at every resyncEvery). Keys "<cluster>/" sweep the
// Supervisor's storage classes.
type realiser struct {
	m *Manager
	// shards reconcile keys in parallel; a key always goes to the same shard, so it is never
	// reconciled twice at once.
	shards []*controller.Controller

	// unwatched is a digest of the libraries and storage policies as last seen (unwatchedChanged);
	// only the resync goroutine touches it.
	unwatched [sha256.Size]byte

	mu           sync.Mutex
	releasedKeys map[string]bool      // keys whose Kubernetes Namespace is gone while their vSphere one goes
	expected     map[string]time.Time // keys whose Namespace a kubectl request is creating, since when
	// descriptors keeps what each library item's descriptor says, by item id, until the libraries
	// change (unwatchedChanged).
	descriptors map[string]inventory.ImageDetails
}

func newRealiser(m *Manager) *realiser {
	r := &realiser{m: m, releasedKeys: map[string]bool{}, expected: map[string]time.Time{},
		descriptors: map[string]inventory.ImageDetails{}}
	for n := range realiserShards {
		r.shards = append(r.shards, controller.New(fmt.Sprintf("kubernetes-namespaces-%d", n), controller.Func(r.reconcile), clock.Real{}, m.log))
	}
	return r
}

// realiserShards is how many namespaces are realised at once: the work is mostly waiting on the
// API server, which serves requests in parallel.
const realiserShards = 8

// enqueue asks for a key to be reconciled by its shard.
func (r *realiser) enqueue(k string) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(k))
	r.shards[h.Sum32()%uint32(len(r.shards))].Enqueue(k)
}

func key(cluster, name string) string { return cluster + "/" + name }

// start follows the vSphere side: namespaces and VM classes.
func (r *realiser) start(ctx context.Context) {
	for _, c := range r.shards {
		go c.Run(ctx)
	}
	fams := r.m.deps.Families
	fams.Namespaces.WatchChanges(ctx, r.namespaceChanged)
	fams.VMClasses.WatchChanges(ctx, func(id string) {
		for _, ns := range fams.Namespaces.OfferingVMClass(id) {
			r.namespaceChanged(ns)
		}
	})
	go func() {
		t := time.NewTicker(resyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !r.unwatchedChanged(ctx) {
					continue
				}
				for _, c := range r.m.readyClusters() {
					r.enqueueCluster(c)
				}
			}
		}
	}()
}

// namespaceChanged enqueues a vSphere Namespace on its Supervisor, or on every Supervisor when it
// is gone (its cluster is no longer known).
func (r *realiser) namespaceChanged(name string) {
	if rz, ok := r.m.deps.Families.Namespaces.Realisation(name); ok {
		r.enqueue(key(rz.Cluster, name))
		return
	}
	for _, c := range r.m.readyClusters() {
		r.enqueue(key(c, name))
	}
}

// enqueueCluster brings every namespace of a Supervisor round, and its storage classes.
func (r *realiser) enqueueCluster(cluster string) {
	for _, ns := range r.m.deps.Families.Namespaces.OnCluster(cluster) {
		r.enqueue(key(cluster, ns))
	}
	r.enqueue(key(cluster, ""))
}

// attach follows a Supervisor's API server while ctx lasts: its Namespaces and wcpd's objects in
// it, so that drift is repaired and orphans removed.
func (r *realiser) attach(ctx context.Context, i *instance) {
	onChange := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		o, ok := obj.(metav1.Object)
		if !ok {
			return
		}
		ns := o.GetNamespace()
		if _, isNS := obj.(*corev1.Namespace); isNS {
			ns = o.GetName()
		}
		if ns == "" {
			r.enqueue(key(i.cluster, ""))
			return
		}
		r.enqueue(key(i.cluster, ns))
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    onChange,
		UpdateFunc: func(_, n any) { onChange(n) },
		DeleteFunc: onChange,
	}
	all := informers.NewSharedInformerFactory(i.kube, 10*time.Minute)
	managed := informers.NewSharedInformerFactoryWithOptions(i.kube, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = managedLabel + "=" + managedValue }))
	_, _ = all.Core().V1().Namespaces().Informer().AddEventHandler(handler)
	_, _ = managed.Core().V1().ResourceQuotas().Informer().AddEventHandler(handler)
	_, _ = managed.Core().V1().LimitRanges().Informer().AddEventHandler(handler)
	_, _ = managed.Rbac().V1().RoleBindings().Informer().AddEventHandler(handler)
	_, _ = managed.Storage().V1().StorageClasses().Informer().AddEventHandler(handler)
	all.Start(ctx.Done())
	managed.Start(ctx.Done())
	go func() {
		// Reconciles read through these caches, so they start once the caches are filled.
		all.WaitForCacheSync(ctx.Done())
		managed.WaitForCacheSync(ctx.Done())
		if ctx.Err() != nil {
			return
		}
		i.setCaches(&caches{
			namespaces:  all.Core().V1().Namespaces().Lister(),
			quotas:      managed.Core().V1().ResourceQuotas().Lister(),
			limitRanges: managed.Core().V1().LimitRanges().Lister(),
			bindings:    managed.Rbac().V1().RoleBindings().Lister(),
		})
		context.AfterFunc(ctx, func() { i.setCaches(nil) })
		r.enqueueCluster(i.cluster)
	}()
}

// caches are the informer caches of a Supervisor's API server the realiser reads: every Namespace,
// and wcpd's own quotas, limit ranges and role bindings.
type caches struct {
	namespaces  corelisters.NamespaceLister
	quotas      corelisters.ResourceQuotaLister
	limitRanges corelisters.LimitRangeLister
	bindings    rbaclisters.RoleBindingLister
}

// forgetCluster drops what the realiser remembers of a Supervisor that is gone.
func (r *realiser) forgetCluster(cluster string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.releasedKeys {
		if strings.HasPrefix(k, cluster+"/") {
			delete(r.releasedKeys, k)
		}
	}
}

// released reports whether the Kubernetes Namespace of a vSphere Namespace being removed is gone.
func (r *realiser) released(cluster, name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.releasedKeys[key(cluster, name)]
}

// expectCreate notes (at non-zero since) or forgets that a kubectl request is creating the
// Kubernetes Namespace of a new vSphere Namespace.
func (r *realiser) expectCreate(cluster, name string, since time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since.IsZero() {
		delete(r.expected, key(cluster, name))
	} else {
		r.expected[key(cluster, name)] = since
	}
}

func (r *realiser) awaitingUser(k string) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	since, ok := r.expected[k]
	if !ok {
		return 0, false
	}
	if left := expectCreateFor - time.Since(since); left > 0 {
		return left, true
	}
	delete(r.expected, k)
	return 0, false
}

func (r *realiser) setReleased(k string, released bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if released {
		r.releasedKeys[k] = true
	} else {
		delete(r.releasedKeys, k)
	}
}

// reconcile realises one namespace (or sweeps a Supervisor's storage classes).
func (r *realiser) reconcile(ctx context.Context, k string) (controller.Result, error) {
	cluster, name, _ := strings.Cut(k, "/")
	i, ok := r.m.instance(cluster)
	if !ok || !i.snapshot().Ready {
		return controller.Result{}, nil // attach brings everything round once it is ready
	}
	lc := i.caches()
	if lc == nil {
		return controller.Result{}, nil // likewise, once its caches are filled
	}
	if name == "" {
		return controller.Result{}, r.sweepStorageClasses(ctx, i)
	}
	nsAPI := r.m.deps.Families.Namespaces
	rz, exists := nsAPI.Realisation(name)
	if !exists || rz.Removing || rz.Cluster != cluster {
		return r.release(ctx, i, lc, k, name, exists && rz.Removing && rz.Cluster == cluster)
	}
	r.setReleased(k, false)

	current, err := lc.namespaces.Get(name)
	switch {
	case apierrors.IsNotFound(err):
		if left, waiting := r.awaitingUser(k); waiting {
			return controller.Result{RequeueAfter: min(left, time.Second)}, nil
		}
	case err != nil:
		return controller.Result{}, err
	case current.DeletionTimestamp != nil:
		// Deleted behind wcpd's back (an administrator with system:masters): it is made again
		// once Kubernetes has finished with it.
		return controller.Result{RequeueAfter: terminatingPoll}, nil
	default:
		r.expectCreate(cluster, name, time.Time{})
	}
	var trouble []string
	if err := apply(ctx, i.client, namespaceMeta(name)); err != nil {
		if invalid(err) {
			return controller.Result{}, nsAPI.ReportKubernetes(ctx, name, fmt.Sprintf("The Kubernetes Namespace %s cannot be created: %v", name, apiMessage(err)))
		}
		return controller.Result{}, err
	}

	classes, missing, err := r.storageClasses(ctx, i, rz.Storage)
	if err != nil {
		return controller.Result{}, err
	}
	trouble = append(trouble, missing...)
	var want []client.Object
	if q := desiredQuota(rz, classes); q != nil {
		want = append(want, q)
	}
	if lr := desiredLimitRange(rz); lr != nil {
		want = append(want, lr)
	}
	for _, rb := range desiredRoleBindings(rz) {
		want = append(want, rb)
	}
	for _, id := range rz.VMClasses {
		c, ok := r.m.deps.Families.VMClasses.VMClass(id)
		if !ok {
			trouble = append(trouble, "VM class "+id+" does not exist")
			continue
		}
		want = append(want, desiredVMClass(name, c))
	}
	images, missing, err := r.images(ctx, rz.ContentLibraries)
	if err != nil {
		return controller.Result{}, err
	}
	trouble = append(trouble, missing...)
	for _, it := range images {
		want = append(want, desiredImage(name, it))
	}

	for _, o := range want {
		if err := apply(ctx, i.client, o); err != nil {
			if invalid(err) {
				trouble = append(trouble, fmt.Sprintf("%T %s: %s", o, o.GetName(), apiMessage(err)))
				continue
			}
			return controller.Result{}, err
		}
	}
	if err := r.setImageStatus(ctx, i, name, images); err != nil {
		return controller.Result{}, err
	}
	if err := r.prune(ctx, i, lc, name, want); err != nil {
		return controller.Result{}, err
	}
	problem := ""
	if len(trouble) > 0 {
		problem = "Parts of the namespace cannot be realised in the Supervisor's Kubernetes API: " + problems(trouble) + "."
	}
	if err := nsAPI.ReportKubernetes(ctx, name, problem); err != nil {
		return controller.Result{}, err
	}
	if len(rz.Storage) > 0 {
		r.enqueue(key(cluster, ""))
	}
	return controller.Result{}, nil
}

// release deletes the Kubernetes Namespace of a vSphere Namespace that is gone or going (only one
// wcpd made) and, once Kubernetes has finalised it, tells the namespaces family.
func (r *realiser) release(ctx context.Context, i *instance, lc *caches, k, name string, removing bool) (controller.Result, error) {
	ns, err := lc.namespaces.Get(name)
	gone := apierrors.IsNotFound(err)
	if err != nil && !gone {
		return controller.Result{}, err
	}
	if !gone && ns.Labels[managedLabel] != managedValue {
		gone = true // not wcpd's: never touched
	}
	if gone {
		r.setReleased(k, true)
		if removing {
			r.m.deps.Families.Namespaces.KubernetesReleased(name)
		}
		return controller.Result{}, nil
	}
	r.setReleased(k, false)
	if ns.DeletionTimestamp == nil {
		policy := metav1.DeletePropagationBackground
		if err := i.client.Delete(ctx, ns, &client.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
			return controller.Result{}, err
		}
	}
	// The informer brings the key back when the Namespace goes; the poll is a safety net.
	return controller.Result{RequeueAfter: terminatingPoll}, nil
}

// storageClasses makes the storage class of each storage policy exist and maps policy ids to
// class names; policies that do not exist are reported.
func (r *realiser) storageClasses(ctx context.Context, i *instance, storage []platform.NamespaceStorage) (map[string]string, []string, error) {
	out := map[string]string{}
	if len(storage) == 0 {
		return out, nil, nil
	}
	classes, err := r.m.deps.Inventory.StorageClassNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, s := range storage {
		name, ok := classes[s.Policy]
		if !ok {
			missing = append(missing, "storage policy "+s.Policy+" does not exist")
			continue
		}
		if err := apply(ctx, i.client, desiredStorageClass(name, s.Policy)); err != nil {
			if invalid(err) {
				missing = append(missing, "storage class "+name+": "+apiMessage(err))
				continue
			}
			return nil, nil, err
		}
		out[s.Policy] = name
	}
	return out, missing, nil
}

// sweepStorageClasses deletes the storage classes wcpd made for policies no namespace of the
// Supervisor uses any more.
func (r *realiser) sweepStorageClasses(ctx context.Context, i *instance) error {
	used := map[string]bool{}
	for _, ns := range r.m.deps.Families.Namespaces.OnCluster(i.cluster) {
		if rz, ok := r.m.deps.Families.Namespaces.Realisation(ns); ok && !rz.Removing {
			for _, s := range rz.Storage {
				used[s.Policy] = true
			}
		}
	}
	var list storagev1.StorageClassList
	if err := i.client.List(ctx, &list, client.MatchingLabels{managedLabel: managedValue}); err != nil {
		return err
	}
	for idx := range list.Items {
		sc := &list.Items[idx]
		if !used[sc.Annotations[storagePolicyKey]] {
			if err := i.client.Delete(ctx, sc); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// images lists the OVF items of the namespace's content libraries.
func (r *realiser) images(ctx context.Context, libraries []string) ([]libraryImage, []string, error) {
	var out []libraryImage
	var missing []string
	for _, id := range libraries {
		lib, err := r.m.deps.Inventory.ContentLibrary(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			missing = append(missing, "content library "+id+" does not exist")
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, it := range lib.Items {
			if strings.EqualFold(it.Type, "ovf") || strings.EqualFold(it.Type, "ova") {
				out = append(out, libraryImage{LibraryID: lib.ID, LibraryName: lib.Name, ItemID: it.ID, ItemName: it.Name, ItemType: it.Type})
			}
		}
	}
	return out, missing, nil
}

// setImageStatus reports each image's item name, readiness and what its descriptor says (guest
// OS, hardware version, firmware, disks, product), as VM Operator does.
func (r *realiser) setImageStatus(ctx context.Context, i *instance, namespace string, images []libraryImage) error {
	for _, it := range images {
		img := &vmopv1.VirtualMachineImage{}
		img.Name, img.Namespace = vmop.ImageName(it.ItemID), namespace
		img.Status = vmopv1.VirtualMachineImageStatus{
			Name: it.ItemName, Type: "OVF", ProviderContentVersion: it.ItemID,
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "True",
				LastTransitionTime: metav1.Now(), Message: "Content library item " + it.ItemID + " of library " + it.LibraryName}},
		}
		if d, ok := r.imageDetails(ctx, it); ok {
			st := &img.Status
			st.OSInfo = vmopv1.VirtualMachineImageOSInfo{ID: d.OSID, Type: d.GuestOS, Version: d.OSVersion}
			st.Firmware = d.Firmware
			if d.HardwareVersion > 0 {
				st.HardwareVersion = ptr.To(d.HardwareVersion)
			}
			st.ProductInfo = vmopv1.VirtualMachineImageProductInfo{Product: d.Product, Vendor: d.Vendor, Version: d.Version}
			for _, disk := range d.Disks {
				st.Disks = append(st.Disks, vmopv1.VirtualMachineImageDiskInfo{Name: disk.Name,
					Requested: resource.NewQuantity(disk.CapacityBytes, resource.BinarySI)})
			}
		}
		if err := applyStatus(ctx, i.client, img); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// prune deletes wcpd's objects in a namespace that are no longer wanted.
func (r *realiser) prune(ctx context.Context, i *instance, lc *caches, namespace string, want []client.Object) error {
	keep := map[string]bool{}
	for _, o := range want {
		keep[fmt.Sprintf("%T/%s", o, o.GetName())] = true
	}
	var have []client.Object
	quotas, err := lc.quotas.ResourceQuotas(namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, o := range quotas {
		have = append(have, o)
	}
	ranges, err := lc.limitRanges.LimitRanges(namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, o := range ranges {
		have = append(have, o)
	}
	bindings, err := lc.bindings.RoleBindings(namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, o := range bindings {
		have = append(have, o)
	}
	// VM Operator's kinds have no typed informers here: they are listed from the API server.
	var classes vmopv1.VirtualMachineClassList
	var images vmopv1.VirtualMachineImageList
	for _, list := range []client.ObjectList{&classes, &images} {
		if err := i.client.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{managedLabel: managedValue}); err != nil {
			return err
		}
	}
	for idx := range classes.Items {
		have = append(have, &classes.Items[idx])
	}
	for idx := range images.Items {
		have = append(have, &images.Items[idx])
	}
	for _, o := range have {
		if keep[fmt.Sprintf("%T/%s", o, o.GetName())] {
			continue
		}
		if err := i.client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// applyStatus writes an object's status with server-side apply.
func applyStatus(ctx context.Context, c client.Client, obj client.Object) error {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": raw["status"]}}
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return err
	}
	u.SetGroupVersionKind(gvk)
	u.SetName(obj.GetName())
	u.SetNamespace(obj.GetNamespace())
	return c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}

// invalid reports whether the API server refused an object as such (retrying would not help).
func invalid(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err)
}

// apiMessage is the API server's own message of an error.
func apiMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return st.Status().Message
	}
	return err.Error()
}

// unwatchedChanged reports whether the content libraries (their items) or the storage policies
// changed since it last looked: one read of each, instead of realising every namespace again.
func (r *realiser) unwatchedChanged(ctx context.Context) bool {
	libs, err := r.m.deps.Inventory.ContentLibraries(ctx)
	if err != nil {
		return true // cannot tell: look at everything
	}
	classes, err := r.m.deps.Inventory.StorageClassNames(ctx)
	if err != nil {
		return true
	}
	raw, _ := json.Marshal(struct {
		Libraries []inventory.ContentLibrary
		Classes   map[string]string
	}{libs, classes})
	sum := sha256.Sum256(raw)
	changed := sum != r.unwatched
	r.unwatched = sum
	if changed {
		r.mu.Lock()
		clear(r.descriptors) // an item may have new content
		r.mu.Unlock()
	}
	return changed
}

// imageDetails reads what a library item's descriptor says, once per item until the libraries
// change; an item whose descriptor cannot be read has no details (and the log says why).
func (r *realiser) imageDetails(ctx context.Context, it libraryImage) (inventory.ImageDetails, bool) {
	r.mu.Lock()
	d, ok := r.descriptors[it.ItemID]
	r.mu.Unlock()
	if ok {
		return d, true
	}
	d, err := r.m.deps.Inventory.ItemImage(ctx, it.LibraryID, it.ItemID)
	if err != nil {
		r.m.log.Warn("reading a library item's OVF descriptor", "library", it.LibraryID, "item", it.ItemID, "err", err)
		return d, false
	}
	r.mu.Lock()
	r.descriptors[it.ItemID] = d
	r.mu.Unlock()
	return d, true
}
