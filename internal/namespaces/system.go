package namespaces

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// The platform.Namespaces contract, for the clusters, services and vmclasses families.
var _ platform.Namespaces = (*Family)(nil)

// OnCluster lists the names of the namespaces on cluster, system namespaces and namespaces being
// removed included.
func (f *Family) OnCluster(cluster string) []string {
	var out []string
	for _, r := range f.records.ListShared() {
		if r.Value.Cluster == cluster {
			out = append(out, r.Key)
		}
	}
	return out
}

// RemoveAllOnCluster starts removing every namespace of cluster, whose Supervisor is being disabled.
func (f *Family) RemoveAllOnCluster(ctx context.Context, cluster string) error {
	why := fmt.Sprintf("The Supervisor on cluster %s is being disabled; its namespaces are removed with it.", cluster)
	for _, name := range f.OnCluster(cluster) {
		if err := f.mutateStatus(ctx, name, func(r *record) { f.markRemoving(r, why) }, true); err != nil {
			return fmt.Errorf("removing namespace %s: %w", name, err)
		}
	}
	return nil
}

// CreateSystem creates the system namespace name on cluster, for a Supervisor Service. System
// namespaces are listed and read like any other namespace (vCenter shows a service's namespace in
// its namespace list) and have a resource pool, but only their service changes or removes them:
// set, update, delete and access changes through the API answer UNAUTHORIZED. Creating one that
// exists is not an error; a namespace of that name that is not this cluster's system namespace is.
func (f *Family) CreateSystem(ctx context.Context, cluster, name string) error {
	if p := nameProblem(name); p != "" {
		return vapi.InvalidArgument("namespace", name, p)
	}
	if r, ok := f.records.Get(name); ok {
		return f.existingSystem(&r.Value, cluster)
	}
	sup, ok := f.supervisorOf(cluster)
	if !ok || sup.Cluster != cluster {
		return notEnabled("cluster", cluster)
	}
	if sup.ConfigStatus == platform.StatusRemoving {
		return requireRunning("cluster", sup)
	}
	err := f.insert(ctx, newNamespace{name: name, sup: sup, system: true,
		spec: nsSpec{Description: "System namespace of a Supervisor Service"}})
	var ve *vapi.Error
	if errors.As(err, &ve) && ve.Type == vapi.ErrorAlreadyExists {
		if r, ok := f.records.Get(name); ok {
			return f.existingSystem(&r.Value, cluster)
		}
	}
	return err
}

// existingSystem answers CreateSystem for a name that is taken.
func (f *Family) existingSystem(r *record, cluster string) error {
	switch {
	case !r.System || r.Cluster != cluster:
		return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.namespaces.system_taken",
			fmt.Sprintf("Namespace %q already exists and is not the system namespace of cluster %s.", r.Name, cluster), r.Name, cluster)
	case r.removing():
		return vapi.NewError(vapi.ErrorNotAllowedInState, "wcpd.namespaces.system_removing",
			fmt.Sprintf("System namespace %q is still being removed; create it again once it is gone.", r.Name), r.Name)
	}
	return nil
}

// RemoveSystem starts removing the system namespace name of cluster; one that is gone is not an
// error.
func (f *Family) RemoveSystem(ctx context.Context, cluster, name string) error {
	r, ok := f.records.Get(name)
	if !ok {
		return nil
	}
	if !r.Value.System || r.Value.Cluster != cluster {
		return vapi.NewError(vapi.ErrorInvalidArgument, "wcpd.namespaces.not_system",
			fmt.Sprintf("Namespace %q is not a system namespace of cluster %s.", name, cluster), name, cluster)
	}
	return f.mutateStatus(ctx, name, func(r *record) { f.markRemoving(r, "") }, true)
}

// OfferingVMClass lists the namespaces whose vm_service_spec offers the VM class id.
func (f *Family) OfferingVMClass(id string) []string {
	return slices.Clone(f.offerings.of(f.records)[id])
}

// offerings indexes which namespaces offer which VM class, rebuilt when the namespaces change (a
// get of a VM class asks, and would otherwise go through every namespace).
type offerings struct {
	mu      sync.Mutex
	built   bool
	rev     int64
	byClass map[string][]string // class id → namespaces, sorted; read-only once built
}

func (o *offerings) of(records *store.Collection[record]) map[string][]string {
	rev := records.Revision() // read first: records taken after it are at least as new
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.built && o.rev == rev {
		return o.byClass
	}
	byClass := map[string][]string{}
	for _, r := range records.ListShared() { // sorted by name
		if v := r.Value.Spec.VMServiceSpec; v != nil {
			for _, id := range v.VMClasses {
				byClass[id] = append(byClass[id], r.Key)
			}
		}
	}
	o.built, o.rev, o.byClass = true, rev, byClass
	return byClass
}

// ForgetVMClass takes the deleted VM class id out of every namespace's vm_service_spec.
func (f *Family) ForgetVMClass(ctx context.Context, id string) error {
	for _, name := range f.OfferingVMClass(id) {
		_, err := f.records.Mutate(ctx, name, func(r *record) error {
			_, err := r.changeSpec(func(s *nsSpec) error {
				if s.VMServiceSpec != nil {
					v := *s.VMServiceSpec
					v.VMClasses = slices.DeleteFunc(slices.Clone(v.VMClasses), func(c string) bool { return c == id })
					if len(v.VMClasses) == 0 {
						v.VMClasses = nil
					}
					s.VMServiceSpec = &v
				}
				return nil
			})
			return err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("taking VM class %s out of namespace %s: %w", id, name, err)
		}
		f.ctl.Enqueue(name)
	}
	return nil
}
