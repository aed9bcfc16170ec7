package namespaces

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wcpd/wcpd/internal/platform"
)

// This file is the namespaces family's side of the Supervisor's Kubernetes API (issue 11): what the
// Kubernetes side reads of a namespace, the changes it follows, and what it reports back.

// Realisation implements platform.Namespaces.
func (f *Family) Realisation(name string) (platform.NamespaceRealisation, bool) {
	if f.records == nil {
		return platform.NamespaceRealisation{}, false
	}
	rec, ok := f.records.Get(name)
	if !ok {
		return platform.NamespaceRealisation{}, false
	}
	r := &rec.Value
	out := platform.NamespaceRealisation{
		Name: r.Name, Cluster: r.Cluster, Removing: r.removing(), Quota: quotaFigures(r.Spec.ResourceSpec),
	}
	for _, a := range r.Spec.AccessList {
		out.Access = append(out.Access, platform.NamespaceAccess{SubjectType: string(a.SubjectType), Subject: a.Subject,
			Domain: a.Domain, Role: string(a.Role)})
	}
	for _, s := range r.Spec.StorageSpecs {
		out.Storage = append(out.Storage, platform.NamespaceStorage{Policy: s.Policy, LimitMiB: s.Limit})
	}
	if vs := r.Spec.VMServiceSpec; vs != nil {
		out.VMClasses = append(out.VMClasses, vs.VMClasses...)
	}
	for _, l := range r.Spec.libraries() {
		out.ContentLibraries = append(out.ContentLibraries, l.ContentLibrary)
		if l.Writable {
			out.WritableLibraries = append(out.WritableLibraries, l.ContentLibrary)
		}
	}
	if n := r.Spec.NamespaceNetwork; n != nil && n.Network != nil {
		for _, c := range n.Network.NamespaceNetworkCidrs {
			out.NetworkCIDRs = append(out.NetworkCIDRs, fmt.Sprintf("%s/%d", c.Address, c.Prefix))
		}
	}
	return out, true
}

// quotaFigures lists the limits that are set, under their wire names.
func quotaFigures(q *ResourceQuota) map[string]int64 {
	out := map[string]int64{}
	if q == nil {
		return out
	}
	raw, _ := json.Marshal(q) // a struct of *int64 fields always encodes
	_ = json.Unmarshal(raw, &out)
	return out
}

// WatchChanges implements platform.Namespaces.
func (f *Family) WatchChanges(ctx context.Context, fn func(name string)) {
	f.records.WatchKeys(ctx, fn)
}

// ReportKubernetes implements platform.Namespaces: the problem is kept in the namespace's status
// and shown among its messages until cleared.
func (f *Family) ReportKubernetes(ctx context.Context, name, problem string) error {
	return f.mutateStatus(ctx, name, func(r *record) { r.Status.KubernetesProblem = problem }, false)
}

// KubernetesReleased implements platform.Namespaces.
func (f *Family) KubernetesReleased(name string) { f.ctl.Enqueue(name) }

// kubernetesHolds reports whether the Supervisor's Kubernetes API still holds the namespace, which
// then waits before its removal finishes.
func (f *Family) kubernetesHolds(r *record) bool {
	k := f.deps.Families.Kubernetes
	return k != nil && !k.NamespaceReleased(r.Cluster, r.Name)
}

// kubernetesMessage is the message a problem realising the namespace in Kubernetes shows as.
func kubernetesMessage(problem string) Message {
	return Message{Severity: "ERROR", Details: &LocalizableMessage{ID: "wcpd.namespaces.kubernetes",
		DefaultMessage: problem, Args: []string{problem}}}
}
