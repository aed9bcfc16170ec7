package test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/server"
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

// withArchiveDatastore runs the server on the default inventory plus a second datastore that only
// Cluster-B's hosts mount, for moving VMs between datastores.
func withArchiveDatastore(t *testing.T) servertest.Option {
	t.Helper()
	base, err := os.ReadFile("../docs/inventory-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(string(base), "\nswitches:", "  - name: ArchiveDatastore\n    type: NFS\n    capacity_gib: 2048\n    clusters: [Cluster-B]\n\nswitches:", 1)
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(c *server.Config) { c.InventoryFile = path }
}

// TestVMLifecycleAPI: a user makes a VM with a disk and two NICs through vCenter's VM API, reads it
// back as vCenter shows it, clones it running, moves the clone to another cluster's host and
// datastore (checked through govmomi), instant-clones the running copy (with the API and with
// govc), and meets the refusals vCenter gives: an unknown guest OS, an unknown datastore, a taken
// name, an unknown VM, an instant clone of a stopped VM. JSON-RPC answers the same.
func TestVMLifecycleAPI(t *testing.T) {
	t.Parallel()
	env := servertest.New(t, withArchiveDatastore(t))
	admin := env.AdminToken()
	ctx := context.Background()
	first := func(path string) map[string]any {
		t.Helper()
		var out []map[string]any
		if r := env.Do("GET", "/api/vcenter/"+path, admin, nil); r.Status != 200 || json.Unmarshal(r.Body, &out) != nil || len(out) == 0 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		return out[0]
	}
	idOf := func(path, key string) string { return first(path)[key].(string) }
	var dc map[string]string
	env.Do("GET", "/api/vcenter/datacenter/"+idOf("datacenter", "datacenter"), admin, nil).JSON(t, &dc)
	folder := dc["vm_folder"]
	shared := idOf("datastore?names=SharedDatastore", "datastore")
	archive := idOf("datastore?names=ArchiveDatastore", "datastore")
	hostA := idOf("host?clusters="+clusterA, "host")
	clusterB := idOf("cluster?names=Cluster-B", "cluster")
	hostB := idOf("host?clusters="+clusterB, "host")
	workload := idOf("network?names=DPG-Workload", "network")
	standard := first("network?types=STANDARD_PORTGROUP")
	vmNetwork, vmNetworkName := standard["network"].(string), standard["name"].(string)
	placement := map[string]any{"folder": folder, "host": hostA, "datastore": shared}

	// Create: 4 vCPUs in 2 sockets, 8 GiB, a 20 GiB disk, a VMXNET3 NIC on the workload port group
	// and an E1000E one on the standard port group, booting from disk.
	r := env.Do("POST", "/api/vcenter/vm", admin, map[string]any{"spec": map[string]any{
		"guest_OS": "UBUNTU_64", "name": "web-01", "placement": placement, "hardware_version": "VMX_19",
		"cpu": map[string]any{"count": 4, "cores_per_socket": 2}, "memory": map[string]any{"size_MiB": 8192},
		"disks": []any{map[string]any{"new_vmdk": map[string]any{"name": "data", "capacity": 20 << 30}}},
		"nics": []any{
			map[string]any{"type": "VMXNET3", "start_connected": true, "backing": map[string]any{"type": "DISTRIBUTED_PORTGROUP", "network": workload}},
			map[string]any{"type": "E1000E", "backing": map[string]any{"type": "STANDARD_PORTGROUP", "network": vmNetwork}},
		},
		"boot_devices": []any{map[string]any{"type": "DISK"}},
	}})
	var vm string
	if r.Status != 201 || json.Unmarshal(r.Body, &vm) != nil || !strings.HasPrefix(vm, "vm-") {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	type nicInfo struct {
		Type    string         `json:"type"`
		State   string         `json:"state"`
		Backing map[string]any `json:"backing"`
		Start   bool           `json:"start_connected"`
	}
	type vmInfo struct {
		Name       string `json:"name"`
		GuestOS    string `json:"guest_OS"`
		PowerState string `json:"power_state"`
		Identity   struct {
			Name     string `json:"name"`
			BIOSUUID string `json:"bios_uuid"`
		} `json:"identity"`
		Hardware struct {
			Version string `json:"version"`
		} `json:"hardware"`
		CPU struct {
			Count          int `json:"count"`
			CoresPerSocket int `json:"cores_per_socket"`
		} `json:"cpu"`
		Memory struct {
			SizeMiB int `json:"size_MiB"`
		} `json:"memory"`
		Disks map[string]struct {
			Type     string         `json:"type"`
			Capacity int64          `json:"capacity"`
			SCSI     map[string]int `json:"scsi"`
			Backing  struct {
				VMDKFile string `json:"vmdk_file"`
			} `json:"backing"`
		} `json:"disks"`
		NICs         map[string]nicInfo `json:"nics"`
		SCSIAdapters map[string]struct {
			Type string `json:"type"`
		} `json:"scsi_adapters"`
		BootDevices []struct {
			Type  string   `json:"type"`
			Disks []string `json:"disks"`
		} `json:"boot_devices"`
	}
	get := func(id string) vmInfo {
		t.Helper()
		r := env.Do("GET", "/api/vcenter/vm/"+id, admin, nil)
		if r.Status != 200 {
			t.Fatalf("get %s: %d %s", id, r.Status, r.Body)
		}
		var info vmInfo
		r.JSON(t, &info)
		return info
	}
	nicsByNetwork := func(info vmInfo) map[string]nicInfo {
		out := map[string]nicInfo{}
		for _, n := range info.NICs {
			out[n.Backing["network"].(string)] = n
		}
		return out
	}
	info := get(vm)
	if info.Name != "web-01" || info.Identity.Name != "web-01" || info.GuestOS != "UBUNTU_64" || info.PowerState != "POWERED_OFF" ||
		info.Hardware.Version != "VMX_19" || info.CPU.Count != 4 || info.CPU.CoresPerSocket != 2 || info.Memory.SizeMiB != 8192 ||
		info.Identity.BIOSUUID == "" {
		t.Fatalf("get: %+v", info)
	}
	if len(info.Disks) != 1 || len(info.SCSIAdapters) != 1 || len(info.BootDevices) != 1 || info.BootDevices[0].Type != "DISK" {
		t.Fatalf("get: disks %+v, adapters %+v, boot %+v", info.Disks, info.SCSIAdapters, info.BootDevices)
	}
	for key, d := range info.Disks {
		if d.Type != "SCSI" || d.Capacity != 20<<30 || d.SCSI["bus"] != 0 || d.Backing.VMDKFile != "[SharedDatastore] web-01/data.vmdk" ||
			!slices.Equal(info.BootDevices[0].Disks, []string{key}) {
			t.Fatalf("disk %s: %+v (boot %+v)", key, d, info.BootDevices)
		}
	}
	nics := nicsByNetwork(info)
	if dv := nics[workload]; dv.Type != "VMXNET3" || dv.Backing["type"] != "DISTRIBUTED_PORTGROUP" || dv.Backing["distributed_switch_uuid"] == nil ||
		dv.Backing["network_name"] != nil || !dv.Start || dv.State != "NOT_CONNECTED" {
		t.Fatalf("the workload NIC: %+v", dv)
	}
	if std := nics[vmNetwork]; std.Type != "E1000E" || std.Backing["type"] != "STANDARD_PORTGROUP" || std.Backing["network_name"] != vmNetworkName || std.Start {
		t.Fatalf("the standard port group's NIC: %+v", std)
	}

	// Clone it, running, with the bare spec as body (vCenter's /api form).
	r = env.Do("POST", "/api/vcenter/vm?action=clone", admin, map[string]any{"source": vm, "name": "web-02", "power_on": true})
	var clone string
	if r.Status != 201 || json.Unmarshal(r.Body, &clone) != nil || clone == vm {
		t.Fatalf("clone: %d %s", r.Status, r.Body)
	}
	ci := get(clone)
	if ci.Name != "web-02" || ci.PowerState != "POWERED_ON" || ci.CPU.Count != 4 || ci.Memory.SizeMiB != 8192 || len(ci.Disks) != 1 ||
		nicsByNetwork(ci)[workload].State != "CONNECTED" || ci.Identity.BIOSUUID == info.Identity.BIOSUUID {
		t.Fatalf("the clone: %+v", ci)
	}

	// Move the running clone to Cluster-B's host and the datastore only Cluster-B mounts.
	vim := cfVimLogin(t, env)
	placedOn := func(ref types.ManagedObjectReference) mo.VirtualMachine {
		var vm mo.VirtualMachine
		if err := property.DefaultCollector(vim).RetrieveOne(ctx, ref, []string{"runtime.host", "datastore", "resourcePool"}, &vm); err != nil {
			t.Fatal(err)
		}
		return vm
	}
	cloneRef := types.ManagedObjectReference{Type: "VirtualMachine", Value: clone}
	was := placedOn(cloneRef)
	if r := env.Do("POST", "/api/vcenter/vm/"+clone+"?action=relocate", admin, map[string]any{"spec": map[string]any{
		"placement": map[string]any{"host": hostB, "datastore": archive}}}); r.Status != 204 {
		t.Fatalf("relocate: %d %s", r.Status, r.Body)
	}
	moved := placedOn(cloneRef)
	var clB map[string]string
	env.Do("GET", "/api/vcenter/cluster/"+clusterB, admin, nil).JSON(t, &clB)
	if moved.Runtime.Host.Value != hostB || len(moved.Datastore) != 1 || moved.Datastore[0].Value != archive || moved.ResourcePool.Value != clB["resource_pool"] {
		t.Fatalf("after relocate: host %v, datastores %v, pool %v", moved.Runtime.Host, moved.Datastore, moved.ResourcePool)
	}
	// The pool, host and datastore it left no longer list it; the ones it moved to do.
	lists := func(holder types.ManagedObjectReference) bool {
		var content []types.ObjectContent
		if err := property.DefaultCollector(vim).RetrieveOne(ctx, holder, []string{"vm"}, &content); err != nil {
			t.Fatal(err)
		}
		for _, p := range content[0].PropSet {
			if vms, ok := p.Val.(types.ArrayOfManagedObjectReference); ok {
				return slices.Contains(vms.ManagedObjectReference, cloneRef)
			}
		}
		return false
	}
	for _, left := range []types.ManagedObjectReference{*was.ResourcePool, *was.Runtime.Host, was.Datastore[0]} {
		if lists(left) {
			t.Errorf("%s still lists the VM relocated away from it", left)
		}
	}
	for _, joined := range []types.ManagedObjectReference{*moved.ResourcePool, *moved.Runtime.Host, moved.Datastore[0]} {
		if !lists(joined) {
			t.Errorf("%s does not list the VM relocated to it", joined)
		}
	}
	if got := get(clone); got.PowerState != "POWERED_ON" || got.Name != "web-02" {
		t.Fatalf("the relocated clone: %+v", got)
	}

	// Instant-clone the running clone with its NICs disconnected and a BIOS UUID of our own.
	const bios = "4210ab3c-1d2e-4f50-8a9b-0c1d2e3f4a5b"
	r = env.Do("POST", "/api/vcenter/vm?action=instant-clone", admin, map[string]any{"spec": map[string]any{
		"source": clone, "name": "web-03", "bios_uuid": bios, "disconnect_all_nics": true}})
	var instant string
	if r.Status != 201 || json.Unmarshal(r.Body, &instant) != nil {
		t.Fatalf("instant clone: %d %s", r.Status, r.Body)
	}
	ii := get(instant)
	if ii.Name != "web-03" || ii.PowerState != "POWERED_ON" || ii.Identity.BIOSUUID != bios || len(ii.NICs) != 2 {
		t.Fatalf("the instant clone: %+v", ii)
	}
	for key, n := range ii.NICs {
		if n.State != "NOT_CONNECTED" || n.Start {
			t.Fatalf("instant clone's NIC %s is connected: %+v", key, n)
		}
	}
	// The inventory's InstantClone_Task serves govc too.
	env.AdminGovc("vm.instantclone", "-vm", "web-02", "-ds", "ArchiveDatastore", "-pool", "/Datacenter/host/Cluster-B/Resources", "web-govc")
	if ids := idsNamed(t, env, admin, "web-govc"); len(ids) != 1 || get(ids[0]).PowerState != "POWERED_ON" {
		t.Fatalf("govc vm.instantclone: %v", ids)
	}

	// Refusals name what is wrong.
	create := func(mutate func(spec map[string]any)) servertest.Response {
		spec := map[string]any{"guest_OS": "UBUNTU_64", "name": "web-x", "placement": map[string]any{"folder": folder, "host": hostA, "datastore": shared}}
		mutate(spec)
		return env.Do("POST", "/api/vcenter/vm", admin, map[string]any{"spec": spec})
	}
	expectError(t, create(func(s map[string]any) { s["guest_OS"] = "TEMPLE_OS" }), 400, "INVALID_ARGUMENT", "spec.guest_OS", "TEMPLE_OS")
	expectError(t, create(func(s map[string]any) { s["placement"].(map[string]any)["datastore"] = "datastore-404" }), 404, "NOT_FOUND", "Datastore", "datastore-404")
	expectError(t, create(func(s map[string]any) { delete(s["placement"].(map[string]any), "folder") }), 400, "INVALID_ARGUMENT", "spec.placement.folder")
	expectError(t, create(func(s map[string]any) { s["name"] = "web-01" }), 400, "ALREADY_EXISTS", "web-01")
	expectError(t, create(func(s map[string]any) { s["placement"].(map[string]any)["datastore"] = archive }), 400, "INVALID_ARGUMENT", "spec.placement.datastore", hostA)
	expectError(t, create(func(s map[string]any) {
		s["nics"] = []any{map[string]any{"backing": map[string]any{"type": "STANDARD_PORTGROUP", "network": workload}}}
	}), 400, "INVALID_ARGUMENT", "spec.nics[0].backing.type")
	expectError(t, env.Do("GET", "/api/vcenter/vm/vm-404", admin, nil), 404, "NOT_FOUND", "vm-404")
	expectError(t, env.Do("POST", "/api/vcenter/vm?action=clone", admin, map[string]any{"source": vm, "name": "web-01"}), 400, "ALREADY_EXISTS", "web-01")
	expectError(t, env.Do("POST", "/api/vcenter/vm?action=clone", admin, map[string]any{"source": vm, "name": "web-04",
		"guest_customization_spec": map[string]any{"name": "no-such-spec"}}), 404, "NOT_FOUND", "no-such-spec")
	expectError(t, env.Do("POST", "/api/vcenter/vm?action=instant-clone", admin, map[string]any{"source": vm, "name": "web-05"}),
		400, "INVALID_ARGUMENT", "spec.source", "POWERED_OFF")
	expectError(t, env.Do("POST", "/api/vcenter/vm?action=clone&vmw-task=true", admin, map[string]any{"source": vm, "name": "web-06"}),
		400, "UNSUPPORTED", "vmw-task")
	if got := len(idsNamed(t, env, admin, "web-04", "web-05", "web-06", "web-x")); got != 0 {
		t.Fatalf("a refused request made %d VMs", got)
	}

	// JSON-RPC: get, create and clone, as the SDKs call them.
	rpc := env.JSONRPC()
	rpc.UseSession(admin)
	out, err := rpc.Invoke(ctx, "com.vmware.vcenter.VM", "get", map[string]any{"vm": vm})
	if got, _ := out.(map[string]any); err != nil || got["name"] != "web-01" || got["guest_OS"] != "UBUNTU_64" {
		t.Fatalf("get over JSON-RPC: %v %v", out, err)
	}
	out, err = rpc.Invoke(ctx, "com.vmware.vcenter.VM", "create", map[string]any{"spec": map[string]any{
		"guest_OS": "VMWARE_PHOTON_64", "name": "rpc-01", "placement": placement,
		"disks": []any{map[string]any{"type": "SATA", "new_vmdk": map[string]any{"capacity": 1 << 30}}}}})
	rpcVM, _ := out.(string)
	if err != nil || !strings.HasPrefix(rpcVM, "vm-") {
		t.Fatalf("create over JSON-RPC: %v %v", out, err)
	}
	if got := get(rpcVM); got.GuestOS != "VMWARE_PHOTON_64" || len(got.Disks) != 1 {
		t.Fatalf("the VM made over JSON-RPC: %+v", got)
	}
	out, err = rpc.Invoke(ctx, "com.vmware.vcenter.VM", "clone", map[string]any{"spec": map[string]any{"source": rpcVM, "name": "rpc-02"}})
	if id, _ := out.(string); err != nil || !strings.HasPrefix(id, "vm-") || get(id).Name != "rpc-02" {
		t.Fatalf("clone over JSON-RPC: %v %v", out, err)
	}

	// A template is not listed, but get answers it and clone deploys from it, as on vCenter.
	env.AdminGovc("vm.markastemplate", "web-01")
	if ids := idsNamed(t, env, admin, "web-01"); len(ids) != 0 || get(vm).Name != "web-01" {
		t.Fatalf("the template: listed as %v", ids)
	}
	r = env.Do("POST", "/api/vcenter/vm?action=clone", admin, map[string]any{"source": vm, "name": "web-07"})
	var fromTemplate string
	if r.Status != 201 || json.Unmarshal(r.Body, &fromTemplate) != nil || get(fromTemplate).Name != "web-07" {
		t.Fatalf("clone of the template: %d %s", r.Status, r.Body)
	}
}

// idsNamed lists the VMs with one of names.
func idsNamed(t *testing.T, env *servertest.Env, token string, names ...string) []string {
	t.Helper()
	var out []map[string]any
	env.Do("GET", "/api/vcenter/vm?"+url.Values{"names": names}.Encode(), token, nil).JSON(t, &out)
	var ids []string
	for _, vm := range out {
		ids = append(ids, vm["vm"].(string))
	}
	return ids
}
