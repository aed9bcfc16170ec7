// Package clustermodules owns vCenter's cluster modules (issue 14): groups of VMs of one cluster
// that DRS keeps on different hosts, which VM Operator's VirtualMachineSetResourcePolicy and
// govmomi's vapi/cluster client create. Modules and their members are kept in the store. They are
// not in the 8.0U2 bindings, so their shapes are those govmomi's client sends and reads: on /rest
// (/rest/vcenter/cluster/modules, members under /rest/vcenter/cluster/modules/vm/{module}/members)
// and on /api (/api/vcenter/cluster/modules, members under …/modules/{module}/vm). Without
// interface metadata they are not served over JSON-RPC.
package clustermodules

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/vim25/mo"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// service is the vAPI service of cluster modules.
const service = "com.vmware.vcenter.cluster.modules"

// module is a stored cluster module, keyed by its id.
type module struct {
	Cluster string   `json:"cluster"`
	VMs     []string `json:"vms"`
}

// Family serves cluster modules.
type Family struct {
	deps    *platform.Deps
	modules *store.Collection[module]
	// membersMu makes member changes one at a time: each checks every VM before changing any.
	membersMu sync.Mutex
}

// New returns the family.
func New(d *platform.Deps) *Family { return &Family{deps: d} }

// Register declares and handles the operations (they are not in the vCenter catalog).
func (f *Family) Register(r *vapi.Registry) {
	base := "/vcenter/cluster/modules"
	r.Extend(vapi.Binding{Service: service, Name: "create", Method: "POST", Path: base, Body: "spec", Status: 201, Privilege: auth.NamespacesManage}, f.create, false)
	r.Extend(vapi.Binding{Service: service, Name: "list", Method: "GET", Path: base, Status: 200, Privilege: auth.SystemRead}, f.list, false)
	r.Extend(vapi.Binding{Service: service, Name: "delete", Method: "DELETE", Path: base + "/{module}", Status: 204, Privilege: auth.NamespacesManage}, f.delete, false)
	members := base + "/{module}/vm"
	legacyMembers := base + "/vm/{module}/members" // govmomi's path
	r.Extend(vapi.Binding{Service: service + ".vm", Name: "list", Method: "GET", Path: members, AltPaths: []string{legacyMembers}, Status: 200, Privilege: auth.SystemRead}, f.members, false)
	r.Extend(vapi.Binding{Service: service + ".vm", Name: "add", Method: "POST", Path: members, AltPaths: []string{legacyMembers}, Action: "add", Body: "members", Status: 200, Privilege: auth.NamespacesManage}, f.add, false)
	r.Extend(vapi.Binding{Service: service + ".vm", Name: "remove", Method: "POST", Path: members, AltPaths: []string{legacyMembers}, Action: "remove", Body: "members", Status: 200, Privilege: auth.NamespacesManage}, f.remove, false)
	// Modules are records in the store: the API keeps the answers of their reads.
	r.Keep(service, "list")
	r.Keep(service+".vm", "list")
}

// Start opens the store collection.
func (f *Family) Start(context.Context) error {
	var err error
	f.modules, err = store.NewCollection[module](f.deps.Store, "cluster-modules")
	return err
}

// CreateSpec is the cluster a module is made on.
type CreateSpec struct {
	Cluster string `json:"cluster"`
}

// Summary is one module.
type Summary struct {
	Cluster string `json:"cluster"`
	Module  string `json:"module"`
}

// SummaryList is the list's answer.
type SummaryList struct {
	Summaries []Summary `json:"summaries"`
}

// Members are VM ids.
type Members struct {
	VMs []string `json:"vms"`
}

// Status says whether a change of members was made.
type Status struct {
	Success bool `json:"success"`
}

func (f *Family) create(c *vapi.Call) (any, error) {
	var spec CreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if _, err := f.deps.Inventory.Cluster(c.Ctx, spec.Cluster); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, vapi.InvalidArgument("spec.cluster", spec.Cluster, "no cluster has this id")
		}
		return nil, err
	}
	id := uuid.NewString()
	if _, err := f.modules.Create(c.Ctx, id, module{Cluster: spec.Cluster, VMs: []string{}}); err != nil {
		return nil, err
	}
	return id, nil
}

func (f *Family) list(*vapi.Call) (any, error) {
	out := SummaryList{Summaries: []Summary{}}
	for _, r := range f.modules.ListShared() {
		out.Summaries = append(out.Summaries, Summary{Cluster: r.Value.Cluster, Module: r.Key})
	}
	sort.Slice(out.Summaries, func(i, j int) bool { return out.Summaries[i].Module < out.Summaries[j].Module })
	return out, nil
}

func (f *Family) lookup(id string) (store.Record[module], error) {
	r, ok := f.modules.Get(id)
	if !ok {
		return r, vapi.NotFound("Cluster module", id)
	}
	return r, nil
}

func (f *Family) delete(c *vapi.Call) (any, error) {
	r, err := f.lookup(c.Path("module"))
	if err != nil {
		return nil, err
	}
	if err := f.modules.Delete(c.Ctx, r.Key, r.Revision); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

func (f *Family) members(c *vapi.Call) (any, error) {
	r, err := f.lookup(c.Path("module"))
	if err != nil {
		return nil, err
	}
	return Members{VMs: append([]string{}, r.Value.VMs...)}, nil
}

func (f *Family) add(c *vapi.Call) (any, error) { return f.change(c, true) }

func (f *Family) remove(c *vapi.Call) (any, error) { return f.change(c, false) }

// change adds or removes the VMs of the body. As vCenter, it answers success false, changing
// nothing, when one of them cannot be added (not a VM of the module's cluster, or already a member)
// or removed (not a member).
func (f *Family) change(c *vapi.Call, add bool) (any, error) {
	var m Members
	if err := c.Bind("members", &m); err != nil {
		return nil, err
	}
	f.membersMu.Lock()
	defer f.membersMu.Unlock()
	r, err := f.lookup(c.Path("module"))
	if err != nil {
		return nil, err
	}
	var inCluster map[string]bool
	if add {
		if inCluster, err = f.clusterVMs(c.Ctx, r.Value.Cluster); err != nil {
			return nil, err
		}
	}
	vms := slices.Clone(r.Value.VMs)
	for _, vm := range m.VMs {
		member := slices.Contains(vms, vm)
		switch {
		case add && (member || !inCluster[vm]), !add && !member:
			return Status{Success: false}, nil
		case add:
			vms = append(vms, vm)
		default:
			vms = slices.DeleteFunc(vms, func(x string) bool { return x == vm })
		}
	}
	_, err = f.modules.Mutate(c.Ctx, r.Key, func(v *module) error {
		v.VMs = vms
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, vapi.NotFound("Cluster module", r.Key)
	}
	if err != nil {
		return nil, err
	}
	return Status{Success: true}, nil
}

// clusterVMs is the set of VMs running on the cluster's hosts.
func (f *Family) clusterVMs(ctx context.Context, cluster string) (map[string]bool, error) {
	cl, err := f.deps.Inventory.Cluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	hosts := map[string]bool{}
	for _, h := range cl.Hosts {
		hosts[h.ID] = true
	}
	var vms []mo.VirtualMachine
	if err := f.deps.Inventory.Retrieve(ctx, "VirtualMachine", []string{"runtime.host"}, &vms); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, vm := range vms {
		if vm.Runtime.Host != nil && hosts[vm.Runtime.Host.Value] {
			out[vm.Self.Value] = true
		}
	}
	return out, nil
}
