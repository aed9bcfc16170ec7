package test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/servertest"
)

// clError is a vAPI error body.
type clError struct {
	ErrorType string `json:"error_type"`
	Messages  []struct {
		ID             string   `json:"id"`
		DefaultMessage string   `json:"default_message"`
		Args           []string `json:"args"`
	} `json:"messages"`
}

func (e clError) text() string {
	var b strings.Builder
	for _, m := range e.Messages {
		b.WriteString(m.DefaultMessage)
		b.WriteString("\n")
	}
	return b.String()
}

func expectClError(t *testing.T, r servertest.Response, status int, errorType string, wants ...string) clError {
	t.Helper()
	var e clError
	_ = json.Unmarshal(r.Body, &e)
	if r.Status != status || e.ErrorType != errorType {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, errorType)
	}
	for _, w := range wants {
		if !strings.Contains(e.text(), w) {
			t.Fatalf("error does not mention %q:\n%s", w, e.text())
		}
	}
	return e
}

// specWith returns the default enable spec with changes applied (dotted paths; nil deletes).
func specWith(octet int, changes map[string]any) map[string]any {
	spec := vsphereEnableSpec(octet)
	for path, v := range changes {
		parts := strings.Split(path, ".")
		m := spec
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		if v == nil {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = v
		}
	}
	return spec
}

// TestClustersEnableValidation sends enable specs that are wrong in one way each and checks the
// error names the field and the value, and that nothing is stored.
func TestClustersEnableValidation(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enable := func(cluster string, spec any) servertest.Response {
		return env.Do("POST", nmPath+"/clusters/"+cluster+"?action=enable", token, spec)
	}
	cases := []struct {
		name    string
		spec    map[string]any
		status  int
		errType string
		wants   []string
	}{
		{"vSphere networking without workload networks", specWith(1, map[string]any{"workload_networks_spec": nil}), 400, "INVALID_ARGUMENT",
			[]string{"spec.workload_networks_spec is missing"}},
		{"NSX provider with vSphere networking's specs", specWith(1, map[string]any{"network_provider": "NSXT_CONTAINER_PLUGIN"}), 400, "INVALID_ARGUMENT",
			[]string{"spec.ncp_cluster_network_spec is missing", "spec.workload_networks_spec: is only valid with network_provider VSPHERE_NETWORK"}},
		{"a service CIDR with host bits", specWith(1, map[string]any{"service_cidr": map[string]any{"address": "10.96.0.1", "prefix": 23}}), 400, "INVALID_ARGUMENT",
			[]string{`"10.96.0.1/23" for spec.service_cidr`, "did you mean 10.96.0.0/23"}},
		{"a service CIDR overlapping the workload network", specWith(1, map[string]any{"service_cidr": map[string]any{"address": "10.30.1.0", "prefix": 24}}), 400, "INVALID_ARGUMENT",
			[]string{"overlaps spec.service_cidr"}},
		{"too few management addresses", specWith(1, map[string]any{"master_management_network.address_range.address_count": 3}), 400, "INVALID_ARGUMENT",
			[]string{`"3" for spec.master_management_network.address_range.address_count`, "at least 5"}},
		{"a gateway outside the management subnet", specWith(1, map[string]any{"master_management_network.address_range.gateway": "10.99.0.1"}), 400, "INVALID_ARGUMENT",
			[]string{`"10.99.0.1" for spec.master_management_network.address_range.gateway`}},
		{"an unknown storage policy", specWith(1, map[string]any{"ephemeral_storage_policy": "no-such-policy"}), 400, "INVALID_ARGUMENT",
			[]string{`"no-such-policy" for spec.ephemeral_storage_policy`}},
		{"an unknown content library", specWith(1, map[string]any{"default_kubernetes_service_content_library": "11111111-2222-4333-8444-555555555555"}), 400, "INVALID_ARGUMENT",
			[]string{"spec.default_kubernetes_service_content_library: is not a content library"}},
		{"an unknown size", specWith(1, map[string]any{"size_hint": "HUGE"}), 400, "INVALID_ARGUMENT",
			[]string{`"HUGE" for spec.size_hint`, "TINY, SMALL, MEDIUM, LARGE"}},
		{"an unknown port group", specWith(1, map[string]any{"master_management_network.network": "dvportgroup-999"}), 400, "INVALID_ARGUMENT",
			[]string{`"dvportgroup-999" for spec.master_management_network.network`}},
		{"the uplink port group", specWith(1, map[string]any{"workload_networks_spec.supervisor_primary_workload_network.vsphere_network.portgroup": "dvportgroup-84"}), 400, "INVALID_ARGUMENT",
			[]string{"spec.workload_networks_spec.supervisor_primary_workload_network.vsphere_network.portgroup", "uplink"}},
		{"an unknown field", specWith(1, map[string]any{"master_dns": []any{"10.0.0.1"}}), 400, "INVALID_ARGUMENT",
			[]string{"spec.master_dns: no such field"}},
		{"HAProxy without a password and with a bad CA", specWith(1, map[string]any{
			"load_balancer_config_spec.ha_proxy_config_create_spec.password":                    "",
			"load_balancer_config_spec.ha_proxy_config_create_spec.certificate_authority_chain": "not a certificate"}), 400, "INVALID_ARGUMENT",
			[]string{"ha_proxy_config_create_spec.password: must not be empty", "certificate_authority_chain: must hold PEM-encoded CA certificates"}},
		{"HAProxy with Avi's configuration", specWith(1, map[string]any{"load_balancer_config_spec.avi_config_create_spec": map[string]any{
			"server": map[string]any{"host": "avi", "port": 443}, "username": "a", "password": "b", "certificate_authority_chain": lbTestCA}}), 400, "INVALID_ARGUMENT",
			[]string{"spec.load_balancer_config_spec.avi_config_create_spec", "only valid with provider AVI"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectClError(t, enable(clusterA, tc.spec), tc.status, tc.errType, tc.wants...)
		})
	}
	t.Run("an unknown cluster", func(t *testing.T) {
		expectClError(t, enable("domain-c404", vsphereEnableSpec(1)), 404, "NOT_FOUND", "domain-c404")
	})
	t.Run("the single-host cluster", func(t *testing.T) {
		expectClError(t, enable(clusterEdge, vsphereEnableSpec(1)), 400, "UNSUPPORTED",
			"vSphere HA is not enabled on cluster Edge-Single", "1 usable ESXi host", "No vSphere Distributed Switch")
	})
	t.Run("the legacy /rest protocol", func(t *testing.T) {
		r := env.Do("POST", "/rest/vcenter/namespace-management/clusters/"+clusterA+"?~action=enable", token,
			map[string]any{"spec": specWith(1, map[string]any{"size_hint": "HUGE"})})
		if r.Status != 400 || !strings.Contains(string(r.Body), `"type":"com.vmware.vapi.std.errors.invalid_argument"`) || !strings.Contains(string(r.Body), "spec.size_hint") {
			t.Fatalf("/rest enable with a bad size: %d %s", r.Status, r.Body)
		}
	})
	// None of the failures stored anything.
	if r := env.Do("GET", nmPath+"/clusters", token, nil); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("failed enables left Supervisors behind: %s", r.Body)
	}
	if out := env.AdminGovc("ls", "/Datacenter/host/Cluster-A/Resources/*"); strings.Contains(out, "Namespaces") {
		t.Fatalf("failed enables touched the inventory:\n%s", out)
	}
}

// TestClustersCompatibility checks that compatibility is computed from the inventory, with reasons,
// and that the filters work as query parameters and as a JSON body.
func TestClustersCompatibility(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	type summary struct {
		Cluster    string `json:"cluster"`
		Compatible bool   `json:"compatible"`
		Reasons    []struct {
			DefaultMessage string `json:"default_message"`
		} `json:"incompatibility_reasons"`
	}
	list := func(query string, body any) map[string]summary {
		t.Helper()
		r := env.Do("GET", nmPath+"/cluster-compatibility"+query, token, body)
		if r.Status != 200 {
			t.Fatalf("cluster-compatibility%s: %d %s", query, r.Status, r.Body)
		}
		var out []summary
		r.JSON(t, &out)
		m := map[string]summary{}
		for _, s := range out {
			m[s.Cluster] = s
		}
		return m
	}
	reasons := func(s summary) string {
		var parts []string
		for _, r := range s.Reasons {
			parts = append(parts, r.DefaultMessage)
		}
		return strings.Join(parts, " | ")
	}

	all := list("", nil)
	if len(all) != 3 || !all[clusterA].Compatible || !all[clusterB].Compatible || all[clusterEdge].Compatible {
		t.Fatalf("default compatibility: %+v", all)
	}
	for _, want := range []string{"vSphere HA is not enabled", "1 usable ESXi host", "No vSphere Distributed Switch"} {
		if !strings.Contains(reasons(all[clusterEdge]), want) {
			t.Fatalf("Edge-Single's reasons lack %q: %s", want, reasons(all[clusterEdge]))
		}
	}
	if only := list("?compatible=true&network_provider=VSPHERE_NETWORK", nil); len(only) != 2 || only[clusterEdge].Cluster != "" {
		t.Fatalf("compatible=true as query parameters: %+v", only)
	}
	if only := list("", map[string]any{"filter": map[string]any{"compatible": true}}); len(only) != 2 {
		t.Fatalf("compatible=true as a JSON body: %+v", only)
	}
	if r := env.Do("GET", nmPath+"/cluster-compatibility?network_provider=NSX", token, nil); r.ErrorType() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "filter.network_provider") {
		t.Fatalf("a bad provider filter: %d %s", r.Status, r.Body)
	}

	// A host in maintenance mode makes Cluster-A too small, at once.
	env.AdminGovc("host.maintenance.enter", "/Datacenter/host/Cluster-A/esx-02.wcpd.local")
	if a := list("", nil)[clusterA]; a.Compatible || !strings.Contains(reasons(a), "2 usable ESXi host") {
		t.Fatalf("Cluster-A with a host in maintenance: %+v", a)
	}
	env.AdminGovc("host.maintenance.exit", "/Datacenter/host/Cluster-A/esx-02.wcpd.local")

	// Switches: NSX names them by UUID, vSphere networking by MoRef with the usable port groups.
	var nsxSwitches, vsSwitches []struct {
		DistributedSwitch  string   `json:"distributed_switch"`
		Compatible         bool     `json:"compatible"`
		CompatibleNetworks []string `json:"compatible_networks"`
	}
	env.Do("GET", nmPath+"/distributed-switch-compatibility?cluster="+clusterA+"&compatible=true", token, nil).JSON(t, &nsxSwitches)
	env.Do("GET", nmPath+"/distributed-switch-compatibility?cluster="+clusterA+"&network_provider=VSPHERE_NETWORK", token, nil).JSON(t, &vsSwitches)
	if len(nsxSwitches) != 1 || len(nsxSwitches[0].DistributedSwitch) != 36 || len(vsSwitches) != 1 || vsSwitches[0].DistributedSwitch != distributedSwi ||
		strings.Join(vsSwitches[0].CompatibleNetworks, ",") != portgroupMgmt+","+portgroupWork {
		t.Fatalf("switch compatibility: NSX %+v, vSphere %+v", nsxSwitches, vsSwitches)
	}
	expectClError(t, env.Do("GET", nmPath+"/distributed-switch-compatibility", token, nil), 400, "INVALID_ARGUMENT", "cluster is missing")
	expectClError(t, env.Do("GET", nmPath+"/nsx-tier0-gateways?distributed_switch=dvs-404", token, nil), 404, "NOT_FOUND", "dvs-404")
	if r := env.Do("GET", nmPath+"/nsx-tier0-gateways?distributed_switch="+nsxSwitches[0].DistributedSwitch, token, nil); !strings.Contains(string(r.Body), `"display_name":"tier0-gateway-01"`) {
		t.Fatalf("tier-0 gateways of the switch: %s", r.Body)
	}

	// The NSX model: without an edge cluster NSX networking is impossible, vSphere networking is not.
	var edges []struct {
		EdgeCluster string `json:"edge_cluster"`
	}
	env.Do("GET", "/api/wcpd/nsx/edge-clusters", token, nil).JSON(t, &edges)
	if len(edges) != 1 {
		t.Fatalf("seeded NSX edge clusters: %+v", edges)
	}
	env.AddUser("reader", "Reader-pw-1", auth.RoleReadOnly)
	reader := env.Login("reader", "Reader-pw-1")
	expectClError(t, env.Do("DELETE", "/api/wcpd/nsx/edge-clusters/"+edges[0].EdgeCluster, reader, nil), 403, "UNAUTHORIZED", "Global.Settings")
	if r := env.Do("DELETE", "/api/wcpd/nsx/edge-clusters/"+edges[0].EdgeCluster, token, nil); r.Status != 204 {
		t.Fatalf("deleting the edge cluster: %d %s", r.Status, r.Body)
	}
	if a := list("", nil)[clusterA]; a.Compatible || !strings.Contains(reasons(a), "No NSX edge cluster") {
		t.Fatalf("Cluster-A for NSX without an edge cluster: %+v", a)
	}
	if a := list("?network_provider=VSPHERE_NETWORK", nil)[clusterA]; !a.Compatible {
		t.Fatalf("Cluster-A for vSphere networking without an edge cluster: %+v", a)
	}
	expectClError(t, env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, map[string]any{
		"size_hint": "TINY", "service_cidr": map[string]any{"address": "10.96.0.0", "prefix": 23}, "network_provider": "NSXT_CONTAINER_PLUGIN",
		"ncp_cluster_network_spec":  map[string]any{"pod_cidrs": []any{}, "ingress_cidrs": []any{}, "egress_cidrs": []any{}},
		"master_management_network": vsphereEnableSpec(1)["master_management_network"], "master_storage_policy": policyGold,
		"ephemeral_storage_policy": policyGold, "image_storage": map[string]any{"storage_policy": policyGold},
	}), 400, "UNSUPPORTED", "No NSX edge cluster")
	// An edge cluster without a tier-0 gateway is listed as incompatible, with the reason. (The
	// check, a kept read, is asked before it exists too: its answer must not be sent again after.)
	edgesCheck := func() string {
		t.Helper()
		return string(env.Do("POST", nmPath+"/networks/nsx/edges?action=check_compatibility&distributed_switch="+distributedSwi, token, nil).Body)
	}
	if before := edgesCheck(); strings.Contains(before, "edge-no-t0") || edgesCheck() != before {
		t.Fatalf("nsx edges check before the edge cluster exists: %s", before)
	}
	r := env.Do("POST", "/api/wcpd/nsx/edge-clusters", token, map[string]any{"display_name": "edge-no-t0", "distributed_switches": []string{distributedSwi}})
	if r.Status != 201 {
		t.Fatalf("creating an edge cluster: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", nmPath+"/edge-cluster-compatibility?cluster="+clusterA+"&distributed_switch="+distributedSwi, token, nil); !strings.Contains(string(r.Body), `"compatible":false`) || !strings.Contains(string(r.Body), "has no tier-0 gateway") {
		t.Fatalf("edge compatibility: %s", r.Body)
	}
	if after := edgesCheck(); !strings.Contains(after, `"name":"edge-no-t0","compatible":false`) {
		t.Fatalf("nsx edges check: %s", after)
	}
	if r := env.Do("POST", nmPath+"/networks/nsx/distributed-switches?action=check_compatibility&zones=zone-"+clusterA, token, nil); !strings.Contains(string(r.Body), `"name":"DSwitch","compatible":false`) {
		t.Fatalf("nsx switches check: %d %s", r.Status, r.Body)
	}

	// 8.0 views: zones, storage profiles.
	var v2 struct {
		Compatible    bool `json:"compatible"`
		ZoneSummaries []struct {
			Zone       string `json:"zone"`
			Compatible bool   `json:"compatible"`
		} `json:"zone_summaries"`
	}
	env.Do("GET", nmPath+"/cluster-compatibility/v2?zones=zone-"+clusterA+"&network_provider=VSPHERE", token, nil).JSON(t, &v2)
	if !v2.Compatible || len(v2.ZoneSummaries) != 1 || v2.ZoneSummaries[0].Zone != "zone-"+clusterA {
		t.Fatalf("list_v2 of one zone: %+v", v2)
	}
	env.Do("GET", nmPath+"/cluster-compatibility/v2?zones=zone-"+clusterA+"&zones=zone-"+clusterB+"&network_provider=VSPHERE", token, nil).JSON(t, &v2)
	if v2.Compatible || len(v2.ZoneSummaries) != 2 {
		t.Fatalf("list_v2 of two zones (a Supervisor takes one or three): %+v", v2)
	}
	expectClError(t, env.Do("GET", nmPath+"/cluster-compatibility/v2?zones=zone-x", token, nil), 400, "INVALID_ARGUMENT", "zone-x")
	profilesCheck := func() string {
		t.Helper()
		r := env.Do("POST", nmPath+"/storage/profiles?action=check_compatibility", token, map[string]any{"zones": []string{"zone-" + clusterA}})
		if r.Status != 200 {
			t.Fatalf("storage profiles: %d %s", r.Status, r.Body)
		}
		return string(r.Body)
	}
	for range 2 { // the second would be the kept answer
		if got := profilesCheck(); !strings.Contains(got, `"profile":"`+policyGold+`","profile_name":"wcpd-gold","compatible":true,"items":[{"zone":"zone-domain-c9","datastores":["datastore-79"]}]`) ||
			strings.Contains(got, "wcpd-checked") {
			t.Fatalf("storage profiles: %s", got)
		}
	}
	// A policy made through PBM, as govc makes it, is in the next check.
	env.AdminGovc("storage.policy.create", "-z", "wcpd-checked")
	if got := profilesCheck(); !strings.Contains(got, `"profile_name":"wcpd-checked"`) {
		t.Fatalf("storage profiles after govc made wcpd-checked: %s", got)
	}
	expectClError(t, env.Do("POST", nmPath+"/storage/profiles?action=check_compatibility", token, map[string]any{}), 400, "INVALID_ARGUMENT", "filter.zones is missing")

	if r := env.Do("GET", nmPath+"/capability", token, nil); strings.TrimSpace(string(r.Body)) != `{"namespaces_supported":true,"namespaces_licensed":true}` {
		t.Fatalf("hosts_config: %s", r.Body)
	}
	var sizes map[string]struct {
		MasterVMInfo struct{ Count, CoresPerSocket, Memory, Capacity int64 } `json:"master_vm_info"`
	}
	env.Do("GET", nmPath+"/cluster-size-info", token, nil).JSON(t, &sizes)
	if len(sizes) != 4 || sizes["TINY"].MasterVMInfo.Count != 2 || sizes["TINY"].MasterVMInfo.Memory != 8192 || sizes["LARGE"].MasterVMInfo.Count != 16 ||
		sizes["LARGE"].MasterVMInfo.Memory != 32768 || sizes["SMALL"].MasterVMInfo.Capacity != 32768 {
		t.Fatalf("cluster_size_info: %+v", sizes)
	}
	_ = time.Second
}
