package test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestInventoryAPI: a newcomer finds every id an EnableSpec needs through vCenter's inventory API
// (/api/vcenter/cluster, datacenter, datastore, folder, host, network, resource-pool,
// storage/policies), with the reference's filters, on /api, /rest and JSON-RPC; what govc changes
// shows at once; bad filters and unknown ids are refused naming them.
func TestInventoryAPI(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	list := func(path string, query url.Values) []map[string]any {
		t.Helper()
		if len(query) > 0 {
			path += "?" + query.Encode()
		}
		r := env.Do("GET", "/api/vcenter/"+path, admin, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var out []map[string]any
		r.JSON(t, &out)
		return out
	}
	field := func(items []map[string]any, key string) []string {
		var out []string
		for _, it := range items {
			out = append(out, it[key].(string))
		}
		return out
	}

	clusters := list("cluster", nil)
	if got := field(clusters, "name"); !slices.Equal(got, []string{"Cluster-A", "Cluster-B", "Edge-Single"}) {
		t.Fatalf("clusters: %v", clusters)
	}
	if clusters[0]["cluster"] != clusterA || clusters[0]["ha_enabled"] != true || clusters[2]["ha_enabled"] != false {
		t.Fatalf("clusters: %v", clusters)
	}
	if got := field(list("cluster", url.Values{"names": {"Cluster-B"}}), "name"); !slices.Equal(got, []string{"Cluster-B"}) {
		t.Fatalf("clusters named Cluster-B: %v", got)
	}
	var cl map[string]any
	env.Do("GET", "/api/vcenter/cluster/"+clusterA, admin, nil).JSON(t, &cl)
	if cl["name"] != "Cluster-A" || cl["resource_pool"] == "" {
		t.Fatalf("cluster get: %v", cl)
	}

	dcs := list("datacenter", nil)
	if len(dcs) != 1 || dcs[0]["name"] != "Datacenter" {
		t.Fatalf("datacenters: %v", dcs)
	}
	dc := dcs[0]["datacenter"].(string)
	var dcInfo map[string]string
	env.Do("GET", "/api/vcenter/datacenter/"+dc, admin, nil).JSON(t, &dcInfo)
	if dcInfo["name"] != "Datacenter" || dcInfo["vm_folder"] == "" || dcInfo["host_folder"] == dcInfo["vm_folder"] {
		t.Fatalf("datacenter get: %v", dcInfo)
	}
	if got := list("cluster", url.Values{"datacenters": {dc}, "folders": {dcInfo["host_folder"]}}); len(got) != 3 {
		t.Fatalf("clusters in the datacenter's host folder: %v", got)
	}

	stores := list("datastore", url.Values{"types": {"VMFS"}})
	if len(stores) != 1 || stores[0]["name"] != "SharedDatastore" || stores[0]["capacity"] != float64(10240<<30) {
		t.Fatalf("VMFS datastores: %v", stores)
	}
	if got := list("datastore", url.Values{"types": {"NFS"}}); len(got) != 0 {
		t.Fatalf("NFS datastores: %v", got)
	}
	var ds map[string]any
	env.Do("GET", "/api/vcenter/datastore/"+stores[0]["datastore"].(string), admin, nil).JSON(t, &ds)
	if ds["type"] != "VMFS" || ds["accessible"] != true || ds["multiple_host_access"] != true {
		t.Fatalf("datastore get: %v", ds)
	}

	hosts := list("host", url.Values{"clusters": {clusterA}})
	if len(hosts) != 3 || hosts[0]["connection_state"] != "CONNECTED" || hosts[0]["power_state"] != "POWERED_ON" {
		t.Fatalf("Cluster-A's hosts: %v", hosts)
	}
	if got := list("host", url.Values{"standalone": {"true"}}); len(got) != 0 {
		t.Fatalf("standalone hosts: %v", got)
	}

	nets := list("network", url.Values{"types": {"DISTRIBUTED_PORTGROUP"}, "names": {"DPG-Management", "DPG-Workload"}})
	if got := field(nets, "network"); !slices.Equal(got, []string{servertest.PortgroupManagement, servertest.PortgroupWorkload}) {
		t.Fatalf("workload and management port groups: %v", nets)
	}

	pools := list("resource-pool", url.Values{"clusters": {clusterA}})
	if len(pools) != 1 || pools[0]["resource_pool"] != cl["resource_pool"] {
		t.Fatalf("Cluster-A's pools: %v (its root pool is %v)", pools, cl["resource_pool"])
	}
	policies := list("storage/policies", nil)
	if got := field(policies, "policy"); !slices.Contains(got, policyGold) || !slices.Contains(got, policySilver) {
		t.Fatalf("storage policies: %v", policies)
	}

	// A folder made with govc is listed at once, under its parent.
	env.AdminGovc("folder.create", "/Datacenter/vm/team-folders")
	folders := list("folder", url.Values{"type": {"VIRTUAL_MACHINE"}, "parent_folders": {dcInfo["vm_folder"]}})
	if got := field(folders, "name"); !slices.Equal(got, []string{"team-folders"}) {
		t.Fatalf("VM folders under the datacenter's: %v", folders)
	}

	// The legacy /rest form and JSON-RPC answer the same.
	var legacy struct {
		Value []map[string]any `json:"value"`
	}
	env.Do("GET", "/rest/vcenter/cluster?names=Cluster-A", admin, nil).JSON(t, &legacy)
	if len(legacy.Value) != 1 || legacy.Value[0]["cluster"] != clusterA {
		t.Fatalf("/rest clusters: %v", legacy)
	}
	rpc := env.JSONRPC()
	rpc.UseSession(admin)
	out, err := rpc.Invoke(context.Background(), "com.vmware.vcenter.network", "list",
		map[string]any{"filter": map[string]any{"names": []string{"DPG-Workload"}}})
	if got, _ := json.Marshal(out); err != nil || string(got) != `[{"name":"DPG-Workload","network":"`+servertest.PortgroupWorkload+`","type":"DISTRIBUTED_PORTGROUP"}]` {
		t.Fatalf("network list over JSON-RPC: %s %v", got, err)
	}

	// VMs: made with govc, listed, unregistered, registered again from their file, deleted (on
	// /rest too, as govmomi's library sync does).
	env.AdminGovc("vm.create", "-on=false", "-c", "2", "-m", "2048", "-ds", "SharedDatastore", "-pool", "/Datacenter/host/Cluster-A/Resources", "-net", "DPG-Workload", "api-vm")
	vms := list("vm", url.Values{"names": {"api-vm"}, "power_states": {"POWERED_OFF"}, "clusters": {clusterA}})
	if len(vms) != 1 || vms[0]["cpu_count"] != float64(2) || vms[0]["memory_size_MiB"] != float64(2048) {
		t.Fatalf("api-vm: %v", vms)
	}
	vm := vms[0]["vm"].(string)
	if r := env.Do("POST", "/api/vcenter/vm/"+vm+"?action=unregister", admin, nil); r.Status != 204 {
		t.Fatalf("unregister: %d %s", r.Status, r.Body)
	}
	if got := list("vm", url.Values{"names": {"api-vm"}}); len(got) != 0 {
		t.Fatalf("after unregister: %v", got)
	}
	r := env.Do("POST", "/api/vcenter/vm?action=register", admin, map[string]any{"spec": map[string]any{
		"datastore_path": "[SharedDatastore] api-vm/api-vm.vmx",
		"placement":      map[string]any{"folder": dcInfo["vm_folder"], "cluster": clusterA}}})
	var again string
	if r.Status != 201 || json.Unmarshal(r.Body, &again) != nil || again == vm {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	expectError(t, env.Do("POST", "/api/vcenter/vm?action=register", admin, map[string]any{"spec": map[string]any{
		"datastore_path": "[SharedDatastore] nothing/nothing.vmx"}}), 404, "NOT_FOUND", "nothing.vmx")
	if got := list("vm", url.Values{"vms": {again}}); len(got) != 1 || got[0]["name"] != "api-vm" {
		t.Fatalf("the registered VM: %v", got)
	}
	env.AdminGovc("vm.power", "-on", "api-vm")
	expectError(t, env.Do("DELETE", "/api/vcenter/vm/"+again, admin, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", again, "POWERED_ON")
	env.AdminGovc("vm.power", "-off", "api-vm")
	if r := env.Do("DELETE", "/rest/vcenter/vm/"+again, admin, nil); r.Status != 200 {
		t.Fatalf("delete on /rest: %d %s", r.Status, r.Body)
	}
	if got := list("vm", url.Values{"names": {"api-vm"}}); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	expectError(t, env.Do("DELETE", "/api/vcenter/vm/"+again, admin, nil), 404, "NOT_FOUND", again)

	// Refusals name what is wrong.
	expectError(t, env.Do("GET", "/api/vcenter/cluster/domain-c404", admin, nil), 404, "NOT_FOUND", "domain-c404")
	expectError(t, env.Do("GET", "/api/vcenter/resource-pool/resgroup-404", admin, nil), 404, "NOT_FOUND", "resgroup-404")
	expectError(t, env.Do("GET", "/api/vcenter/datastore?types=TAPE", admin, nil), 400, "INVALID_ARGUMENT", "TAPE")
	expectError(t, env.Do("GET", "/api/vcenter/cluster", "", nil), 401, "UNAUTHENTICATED")
}
