package servertest

import (
	"strconv"
	"time"
)

// Ids of the default inventory (docs/inventory.md) that an EnableSpec names.
const (
	PortgroupManagement = "dvportgroup-87"
	PortgroupWorkload   = "dvportgroup-88"
	PolicyGold          = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
)

// VSphereEnableSpec is a valid EnableSpec for a vSphere-networked Supervisor with an HAProxy load
// balancer on the default inventory; octet keeps the address ranges of two Supervisors apart.
func VSphereEnableSpec(octet int) map[string]any {
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
					"portgroup":      PortgroupWorkload,
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
			"network": PortgroupManagement,
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
		"master_storage_policy":    PolicyGold,
		"ephemeral_storage_policy": PolicyGold,
		"image_storage":            map[string]any{"storage_policy": PolicyGold},
	}
}

// EnableSupervisor enables a Supervisor on cluster with VSphereEnableSpec(octet) and settles until
// it is RUNNING.
func (e *Env) EnableSupervisor(token, cluster string, octet int) {
	e.T.Helper()
	r := e.Do("POST", "/api/vcenter/namespace-management/clusters/"+cluster+"?action=enable", token, VSphereEnableSpec(octet))
	if r.Status != 204 {
		e.T.Fatalf("enable %s: %d %s", cluster, r.Status, r.Body)
	}
	for i := 0; i < 20; i++ {
		e.Settle(30 * time.Second)
		var info struct {
			ConfigStatus string `json:"config_status"`
		}
		g := e.Do("GET", "/api/vcenter/namespace-management/clusters/"+cluster, token, nil)
		g.JSON(e.T, &info)
		if info.ConfigStatus == "RUNNING" {
			return
		}
		if info.ConfigStatus == "ERROR" {
			e.T.Fatalf("enable %s ended in ERROR: %s", cluster, g.Body)
		}
	}
	e.T.Fatalf("Supervisor on %s not RUNNING after 10 minutes of simulated time", cluster)
}
