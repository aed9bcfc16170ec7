package test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vapi/cluster"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestClusterModules: govmomi's vapi/cluster client (as VM Operator uses it for anti-affinity)
// makes a module on Cluster-A, adds two of its VMs, is refused a VM of another cluster, removes one
// and deletes the module; /api answers the same modules in its own paths.
func TestClusterModules(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	ctx := context.Background()
	m := cluster.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	token := env.AdminToken()
	for _, vm := range []struct{ name, cluster string }{{"web-1", "Cluster-A"}, {"web-2", "Cluster-A"}, {"elsewhere", "Cluster-B"}} {
		env.AdminGovc("vm.create", "-on=false", "-ds", "SharedDatastore", "-net", "DPG-Workload",
			"-pool", "/Datacenter/host/"+vm.cluster+"/Resources", vm.name)
	}
	ref := func(name string) mo.Reference {
		vm, err := find.NewFinder(cfVimLogin(t, env)).VirtualMachine(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return vm
	}
	web1, web2, elsewhere := ref("web-1"), ref("web-2"), ref("elsewhere")

	id, err := m.CreateModule(ctx, object.NewClusterComputeResource(nil, types.ManagedObjectReference{Type: "ClusterComputeResource", Value: clusterA}))
	if err != nil || id == "" {
		t.Fatalf("CreateModule: %q %v", id, err)
	}
	if ok, err := m.AddModuleMembers(ctx, id, web1, web2); err != nil || !ok {
		t.Fatalf("AddModuleMembers: %v %v", ok, err)
	}
	// A VM of another cluster, or one already a member, is refused without changing anything.
	if ok, err := m.AddModuleMembers(ctx, id, elsewhere); err != nil || ok {
		t.Fatalf("adding a VM of Cluster-B: %v %v", ok, err)
	}
	if ok, _ := m.AddModuleMembers(ctx, id, web1); ok {
		t.Fatal("adding a member twice succeeded")
	}
	members, err := m.ListModuleMembers(ctx, id)
	if err != nil || len(members) != 2 {
		t.Fatalf("ListModuleMembers: %v %v", members, err)
	}
	if ok, err := m.RemoveModuleMembers(ctx, id, web1); err != nil || !ok {
		t.Fatalf("RemoveModuleMembers: %v %v", ok, err)
	}

	// The same module on /api.
	var list struct {
		Summaries []struct{ Cluster, Module string } `json:"summaries"`
	}
	env.Do("GET", "/api/vcenter/cluster/modules", token, nil).JSON(t, &list)
	if len(list.Summaries) != 1 || list.Summaries[0].Module != id || list.Summaries[0].Cluster != clusterA {
		t.Fatalf("modules on /api: %+v", list)
	}
	var vms struct {
		VMs []string `json:"vms"`
	}
	env.Do("GET", "/api/vcenter/cluster/modules/"+id+"/vm", token, nil).JSON(t, &vms)
	if !slices.Equal(vms.VMs, []string{web2.Reference().Value}) {
		t.Fatalf("members on /api: %v", vms)
	}
	r := env.Do("POST", "/api/vcenter/cluster/modules", token, map[string]any{"cluster": "domain-c404"})
	expectError(t, r, 400, "INVALID_ARGUMENT", "spec.cluster", "domain-c404")
	var status struct{ Success bool }
	raw, _ := json.Marshal(map[string]any{"vms": []string{web1.Reference().Value}})
	env.Do("POST", "/api/vcenter/cluster/modules/"+id+"/vm?action=add", token, raw).JSON(t, &status)
	if !status.Success {
		t.Fatal("adding web-1 back on /api failed")
	}

	if err := m.DeleteModule(ctx, id); err != nil {
		t.Fatal(err)
	}
	if mods, err := m.ListModules(ctx); err != nil || len(mods) != 0 {
		t.Fatalf("after delete: %v %v", mods, err)
	}
	expectError(t, env.Do("GET", "/api/vcenter/cluster/modules/"+id+"/vm", token, nil), 404, "NOT_FOUND", id)
}
