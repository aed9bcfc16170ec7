package kubeapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/wcpd/wcpd/internal/platform"
)

// Workloads: what other families (Supervisor Services) apply to a Supervisor's API server, by
// server-side apply as kubectl apply --server-side does, and how they learn whether it runs.

// errNotRunning is the answer while the Supervisor's API server does not run.
var errNotRunning = errors.New("the Supervisor's Kubernetes API server is not ready")

// workloadClients are the running API server's dynamic client and REST mapper, made once with
// the instance (the mapper keeps what discovery told it; restMapping asks again for a kind it
// does not know).
func (m *Manager) workloadClients(cluster string) (dynamic.Interface, meta.ResettableRESTMapper, error) {
	i, ok := m.instance(cluster)
	if !ok || !i.snapshot().Ready {
		return nil, nil, errNotRunning
	}
	return i.dynamic, i.mapper, nil
}

// restMapping maps a kind to its resource, asking discovery again once for a kind the mapper does
// not know (a CRD applied since).
func restMapping(mapper meta.ResettableRESTMapper, gk schema.GroupKind, version string) (*meta.RESTMapping, error) {
	mapping, err := mapper.RESTMapping(gk, version)
	if meta.IsNoMatchError(err) {
		mapper.Reset()
		mapping, err = mapper.RESTMapping(gk, version)
	}
	return mapping, err
}

// ApplyWorkloads implements platform.Kubernetes: every document is decoded as one Kubernetes
// object (a List's items are taken one by one); namespaced objects that name no namespace go into
// namespace. CustomResourceDefinitions are applied first, so the objects of their kinds apply in
// the same call once the API server serves them.
func (m *Manager) ApplyWorkloads(ctx context.Context, cluster, namespace, owner string, docs [][]byte) ([]platform.ObjectRef, error) {
	objs, err := decodeObjects(docs)
	if err != nil {
		return nil, err
	}
	dyn, mapper, err := m.workloadClients(cluster)
	if err != nil {
		return nil, err
	}
	// CRDs first: the other objects may be of their kinds.
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolRank(!isCRD(a)) - boolRank(!isCRD(b))
	})
	var refs []platform.ObjectRef
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		mapping, err := restMapping(mapper, gvk.GroupKind(), gvk.Version)
		if err != nil {
			return refs, fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var res dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(namespace)
			}
			res = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
		} else {
			obj.SetNamespace("")
		}
		data, err := obj.MarshalJSON()
		if err != nil {
			return refs, err
		}
		force := true
		if _, err := res.Patch(ctx, obj.GetName(), k8stypes.ApplyPatchType, data, metav1.PatchOptions{FieldManager: owner, Force: &force}); err != nil {
			return refs, fmt.Errorf("applying %s %s: %w", gvk.Kind, qualifiedName(obj.GetNamespace(), obj.GetName()), err)
		}
		refs = append(refs, platform.ObjectRef{APIVersion: obj.GetAPIVersion(), Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()})
		if isCRD(obj) {
			if err := m.waitEstablished(ctx, dyn, obj.GetName()); err != nil {
				return refs, err
			}
		}
	}
	return refs, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isCRD(obj *unstructured.Unstructured) bool {
	return obj.GroupVersionKind().GroupKind() == schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitEstablished waits until the CRD is served, for the objects of its kind that follow it.
func (m *Manager) waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	w, err := dyn.Resource(crdResource).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if u, ok := ev.Object.(*unstructured.Unstructured); ok && conditionTrue(u, "Established") {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("CustomResourceDefinition %s was not established", name)
}

// DeleteWorkloads implements platform.Kubernetes: objects already gone are not an error.
func (m *Manager) DeleteWorkloads(ctx context.Context, cluster string, refs []platform.ObjectRef) error {
	dyn, mapper, err := m.workloadClients(cluster)
	if err != nil {
		return err
	}
	var errs []error
	// In reverse: the objects of a CRD's kind go before the CRD.
	for _, ref := range slices.Backward(refs) {
		res, err := resourceOf(dyn, mapper, ref)
		if meta.IsNoMatchError(err) {
			continue // its kind went with its CRD
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		policy := metav1.DeletePropagationBackground
		err = res.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s %s: %w", ref.Kind, qualifiedName(ref.Namespace, ref.Name), err))
		}
	}
	return errors.Join(errs...)
}

// WorkloadsReady implements platform.Kubernetes: CRDs must be established, Deployments,
// StatefulSets and ReplicaSets have all their replicas ready and up to date, DaemonSets all their
// pods, Jobs must have succeeded; other objects are ready once they exist.
func (m *Manager) WorkloadsReady(ctx context.Context, cluster string, refs []platform.ObjectRef) (bool, string, error) {
	dyn, mapper, err := m.workloadClients(cluster)
	if err != nil {
		return false, "", err
	}
	for _, ref := range refs {
		res, err := resourceOf(dyn, mapper, ref)
		if err != nil {
			return false, "", err
		}
		obj, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, fmt.Sprintf("%s %s does not exist", ref.Kind, qualifiedName(ref.Namespace, ref.Name)), nil
		}
		if err != nil {
			return false, "", err
		}
		if why := notReady(obj); why != "" {
			return false, fmt.Sprintf("%s %s %s", ref.Kind, qualifiedName(ref.Namespace, ref.Name), why), nil
		}
	}
	return true, "", nil
}

// notReady says why an object is not ready, "" when it is.
func notReady(obj *unstructured.Unstructured) string {
	num := func(fields ...string) int64 {
		v, _, _ := unstructured.NestedInt64(obj.Object, fields...)
		return v
	}
	desired := func() int64 {
		if v, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); found {
			return v
		}
		return 1
	}
	switch obj.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		if !conditionTrue(obj, "Established") {
			return "is not established yet"
		}
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		want := desired()
		if ready, updated := num("status", "readyReplicas"), num("status", "updatedReplicas"); ready < want || (obj.GetKind() != "ReplicaSet" && updated < want) {
			return fmt.Sprintf("has %d of %d replicas ready", ready, want)
		}
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		if want, ready := num("status", "desiredNumberScheduled"), num("status", "numberReady"); ready < want {
			return fmt.Sprintf("has %d of %d pods ready", ready, want)
		}
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		if !conditionTrue(obj, "Complete") {
			return "has not completed"
		}
	}
	return ""
}

func resourceOf(dyn dynamic.Interface, mapper meta.ResettableRESTMapper, ref platform.ObjectRef) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	mapping, err := restMapping(mapper, schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return dyn.Resource(mapping.Resource).Namespace(ref.Namespace), nil
	}
	return dyn.Resource(mapping.Resource), nil
}

func conditionTrue(obj *unstructured.Unstructured, condition string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == condition && m["status"] == "True" {
			return true
		}
	}
	return false
}

// decodeObjects reads each document as one object, or a List of them; empty documents are skipped
// and one that is no Kubernetes object is an error naming it.
func decodeObjects(docs [][]byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, doc := range docs {
		if strings.TrimSpace(string(doc)) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("document %d is not YAML: %w", i+1, err)
		}
		if m == nil {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" || (obj.GetName() == "" && !obj.IsList()) {
			return nil, fmt.Errorf("document %d is not a Kubernetes object: it needs apiVersion, kind and metadata.name", i+1)
		}
		if obj.IsList() {
			if err := obj.EachListItem(func(o runtime.Object) error {
				out = append(out, o.(*unstructured.Unstructured))
				return nil
			}); err != nil {
				return nil, fmt.Errorf("document %d: %w", i+1, err)
			}
			continue
		}
		out = append(out, obj)
	}
	return out, nil
}

func qualifiedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
