package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
)

// Ids of the default inventory (docs/inventory.md).
const (
	clusterA       = "domain-c9"
	clusterB       = "domain-c39"
	clusterEdge    = "domain-c69"
	policyGold     = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	policySilver   = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c02"
	portgroupMgmt  = "dvportgroup-87"
	portgroupWork  = "dvportgroup-88"
	distributedSwi = "dvs-82"
)

// vsphereEnableSpec is a valid EnableSpec for a vSphere-networked Supervisor with an HAProxy load
// balancer on the default inventory; octet keeps the address ranges of two Supervisors apart.
func vsphereEnableSpec(octet int) map[string]any {
	net := func(last int) string { return "10.20." + strconv.Itoa(octet) + "." + strconv.Itoa(last) }
	return map[string]any{
		"size_hint":        "TINY",
		"service_cidr":     map[string]any{"address": "10.96.0.0", "prefix": 23},
		"network_provider": "VSPHERE_NETWORK",
		"workload_networks_spec": map[string]any{
			"supervisor_primary_workload_network": map[string]any{
				"network":          "primary",
				"network_provider": "VSPHERE_NETWORK",
				"vsphere_network": map[string]any{
					"portgroup":      portgroupWork,
					"address_ranges": []any{map[string]any{"address": "10.30." + strconv.Itoa(octet) + ".10", "count": 100}},
					"gateway":        "10.30." + strconv.Itoa(octet) + ".1",
					"subnet_mask":    "255.255.255.0",
				},
			},
		},
		"load_balancer_config_spec": map[string]any{
			"id":             "haproxy-" + strconv.Itoa(octet),
			"provider":       "HA_PROXY",
			"address_ranges": []any{map[string]any{"address": "10.40." + strconv.Itoa(octet) + ".10", "count": 50}},
			"ha_proxy_config_create_spec": map[string]any{
				"servers":                     []any{map[string]any{"host": "10.40." + strconv.Itoa(octet) + ".2", "port": 5556}},
				"username":                    "admin",
				"password":                    "haproxy-secret",
				"certificate_authority_chain": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			},
		},
		"master_management_network": map[string]any{
			"network": portgroupMgmt,
			"mode":    "STATICRANGE",
			"address_range": map[string]any{
				"starting_address": net(10),
				"address_count":    5,
				"subnet_mask":      "255.255.255.0",
				"gateway":          net(1),
			},
		},
		"master_DNS":               []any{"10.0.0.53"},
		"worker_DNS":               []any{"10.0.0.53"},
		"master_NTP_servers":       []any{"pool.ntp.org"},
		"master_storage_policy":    policyGold,
		"ephemeral_storage_policy": policyGold,
		"image_storage":            map[string]any{"storage_policy": policyGold},
	}
}

// enableSupervisor enables a Supervisor on cluster and settles until it is RUNNING. While wcpd does
// not implement enable yet, the calling test is skipped, saying so.
func enableSupervisor(t *testing.T, env *servertest.Env, token, cluster string, octet int) {
	t.Helper()
	r := env.Do("POST", "/api/vcenter/namespace-management/clusters/"+cluster+"?action=enable", token, vsphereEnableSpec(octet))
	if r.ErrorType() == "UNSUPPORTED" && strings.Contains(string(r.Body), "does not implement") {
		t.Skip("skipped: wcpd does not implement Supervisor enable yet")
	}
	if r.Status != 204 {
		t.Fatalf("enable %s: %d %s", cluster, r.Status, r.Body)
	}
	for i := 0; i < 20; i++ {
		env.Settle(30 * time.Second)
		var info struct {
			ConfigStatus string `json:"config_status"`
		}
		g := env.Do("GET", "/api/vcenter/namespace-management/clusters/"+cluster, token, nil)
		g.JSON(t, &info)
		if info.ConfigStatus == "RUNNING" {
			return
		}
		if info.ConfigStatus == "ERROR" {
			t.Fatalf("enable %s ended in ERROR: %s", cluster, g.Body)
		}
	}
	t.Fatalf("Supervisor on %s not RUNNING after 10 minutes of simulated time", cluster)
}
