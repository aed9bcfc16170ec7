package test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
)

const zonesPath = "/api/vcenter/consumption-domains/zones"

// zonalSpec is an enable_on_zones spec on the default inventory's networks.
func zonalSpec(name string, zones ...string) map[string]any {
	return map[string]any{
		"zones": zones, "name": name,
		"control_plane": map[string]any{"size": "SMALL", "storage_policy": policyGold, "network": map[string]any{
			"backing": map[string]any{"backing": "NETWORK", "network": servertest.PortgroupManagement},
			"ip_management": map[string]any{"dhcp_enabled": false, "gateway_address": "10.70.0.1/24",
				"ip_assignments": []any{map[string]any{"ranges": []any{map[string]any{"address": "10.70.0.10", "count": 8}}}}}}},
		"workloads": map[string]any{
			"network": map[string]any{"network_type": "VSPHERE", "vsphere": map[string]any{"dvpg": servertest.PortgroupWorkload},
				"ip_management": map[string]any{"dhcp_enabled": false, "gateway_address": "10.71.0.1/24",
					"ip_assignments": []any{map[string]any{"assignee": "NODE", "ranges": []any{map[string]any{"address": "10.71.0.10", "count": 100}}}}}},
			"edge": map[string]any{"provider": "NSX_ADVANCED", "load_balancer_address_ranges": []any{map[string]any{"address": "10.72.0.10", "count": 10}},
				"nsx_advanced": map[string]any{"server": map[string]any{"host": "avi.lab", "port": 443}, "username": "admin", "password": "pw", "certificate_authority_chain": lbTestCA}},
		},
	}
}

// TestZones: an administrator makes a vSphere Zone, associates Cluster-A with it, finds it
// compatible by zone, enables a Supervisor on it with enable_on_zones and reads the zone back from
// both topologies; the zone and its association cannot go while the Supervisor uses them, and can
// once it is disabled. Zones are kept in the store, served on /api and JSON-RPC.
func TestZones(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	assoc := zonesPath + "/cluster/west/associations"

	r := env.Do("POST", zonesPath, token, map[string]any{"zone": "west", "description": "west wing"})
	if r.Status != 201 || string(r.Body) != `"west"` {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	expectError(t, env.Do("POST", zonesPath, token, map[string]any{"zone": "west"}), 400, "ALREADY_EXISTS", "west")
	expectError(t, env.Do("POST", zonesPath, token, map[string]any{"zone": "West_Wing"}), 400, "INVALID_ARGUMENT", "spec.zone", "West_Wing")
	var info map[string]string
	env.Do("GET", zonesPath+"/west", token, nil).JSON(t, &info)
	if info["description"] != "west wing" {
		t.Fatalf("get: %v", info)
	}
	expectError(t, env.Do("GET", zonesPath+"/east", token, nil), 404, "NOT_FOUND", "east")

	// One cluster per zone: the second is refused in failed_clusters, the first is done.
	var status struct {
		Success        bool `json:"success"`
		FailedClusters map[string]struct {
			ErrorType string `json:"error_type"`
		} `json:"failed_clusters"`
	}
	env.Do("POST", assoc+"?action=add", token, []string{clusterA, clusterB, "domain-c404"}).JSON(t, &status)
	if status.Success || status.FailedClusters[clusterB].ErrorType != "INVALID_ARGUMENT" ||
		status.FailedClusters["domain-c404"].ErrorType != "NOT_FOUND" || len(status.FailedClusters) != 2 {
		t.Fatalf("add: %+v", status)
	}
	var held []string
	env.Do("GET", assoc, token, nil).JSON(t, &held)
	if len(held) != 1 || held[0] != clusterA {
		t.Fatalf("the zone holds %v", held)
	}
	var all struct {
		Associations []struct{ Zone, Cluster string } `json:"associations"`
	}
	env.Do("GET", "/api/vcenter/consumption-domains/zone-associations/cluster?clusters="+clusterA, token, nil).JSON(t, &all)
	if len(all.Associations) != 1 || all.Associations[0].Zone != "west" {
		t.Fatalf("associations of Cluster-A: %+v", all)
	}

	// Compatibility by zone; Cluster-A's own zone name no longer stands for it.
	var compat struct {
		ZoneSummaries []struct {
			Zone             string                     `json:"zone"`
			ClusterSummaries []struct{ Cluster string } `json:"cluster_summaries"`
		} `json:"zone_summaries"`
	}
	env.Do("GET", nmPath+"/cluster-compatibility/v2?zones=west", token, nil).JSON(t, &compat)
	if len(compat.ZoneSummaries) != 1 || compat.ZoneSummaries[0].Zone != "west" || compat.ZoneSummaries[0].ClusterSummaries[0].Cluster != clusterA {
		t.Fatalf("compatibility of zone west: %+v", compat)
	}
	expectError(t, env.Do("POST", nmPath+"/supervisors?action=enable_on_zones", token, zonalSpec("old-name", "zone-"+clusterA)),
		400, "INVALID_ARGUMENT", "spec.zones[0]", "zone-"+clusterA)

	r = env.Do("POST", nmPath+"/supervisors?action=enable_on_zones", token, zonalSpec("in-the-west", "west"))
	var sup string
	if r.Status != 200 || json.Unmarshal(r.Body, &sup) != nil {
		t.Fatalf("enable_on_zones: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second)
	var topo []struct {
		Zone     string   `json:"zone"`
		Clusters []string `json:"clusters"`
	}
	env.Do("GET", nmPath+"/supervisors/"+sup+"/topology", token, nil).JSON(t, &topo)
	if len(topo) != 1 || topo[0].Zone != "west" || topo[0].Clusters[0] != clusterA {
		t.Fatalf("Supervisor topology: %+v", topo)
	}
	var clusterZone string
	env.Do("GET", nmPath+"/clusters/"+clusterA+"/topology", token, nil).JSON(t, &clusterZone)
	if clusterZone != "west" {
		t.Fatalf("cluster topology: %q", clusterZone)
	}

	// In use: neither the zone nor its association can go; nor can Cluster-B's own zone change
	// under a Supervisor.
	expectError(t, env.Do("DELETE", zonesPath+"/west", token, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "west", clusterA)
	env.Do("POST", assoc+"?action=remove", token, []string{clusterA}).JSON(t, &status)
	if status.Success || status.FailedClusters[clusterA].ErrorType != "NOT_ALLOWED_IN_CURRENT_STATE" {
		t.Fatalf("remove while in use: %+v", status)
	}

	// Over JSON-RPC, typed as the official SDKs read it.
	rpc := env.JSONRPC()
	rpc.UseSession(token)
	list, err := rpc.Invoke(context.Background(), "com.vmware.vcenter.consumption_domains.zones", "list", nil)
	if got, _ := json.Marshal(list); err != nil || string(got) != `{"items":[{"info":{"description":"west wing"},"zone":"west"}]}` {
		t.Fatalf("zones over JSON-RPC: %s %v", got, err)
	}

	// Once the Supervisor is gone, so can the association and the zone be.
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	advance(env, 25*time.Second)
	env.Do("POST", assoc+"?action=remove", token, []string{clusterA}).JSON(t, &status)
	if !status.Success {
		t.Fatalf("remove after disable: %+v", status)
	}
	if r := env.Do("DELETE", zonesPath+"/west", token, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	var left struct {
		Items []any `json:"items"`
	}
	env.Do("GET", zonesPath, token, nil).JSON(t, &left)
	if len(left.Items) != 0 || !strings.Contains(string(env.Do("GET", nmPath+"/cluster-compatibility/v2?zones=zone-"+clusterA, token, nil).Body), `"zone":"zone-`+clusterA) {
		t.Fatalf("after deleting the zone, Cluster-A is its own zone again: %v", left)
	}
}
