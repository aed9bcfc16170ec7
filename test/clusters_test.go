package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
)

// supervisorInfo is the part of Clusters.Info the tests read.
type supervisorInfo struct {
	SizeHint                 string   `json:"size_hint"`
	ConfigStatus             string   `json:"config_status"`
	KubernetesStatus         string   `json:"kubernetes_status"`
	APIServerManagementEP    string   `json:"api_server_management_endpoint"`
	APIServerClusterEndpoint string   `json:"api_server_cluster_endpoint"`
	APIServers               []string `json:"api_servers"`
	NetworkProvider          string   `json:"network_provider"`
	MasterDNS                []string `json:"master_DNS"`
	WorkerDNS                []string `json:"worker_DNS"`
	MasterNTPServers         []string `json:"master_NTP_servers"`
	LoginBanner              *string  `json:"login_banner"`
	Messages                 []struct {
		Severity string `json:"severity"`
		Details  struct {
			ID             string `json:"id"`
			DefaultMessage string `json:"default_message"`
		} `json:"details"`
	} `json:"messages"`
	Conditions []struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"conditions"`
	StatSummary struct {
		CPUUsed         int64 `json:"cpu_used"`
		CPUCapacity     int64 `json:"cpu_capacity"`
		MemoryUsed      int64 `json:"memory_used"`
		MemoryCapacity  int64 `json:"memory_capacity"`
		StorageUsed     int64 `json:"storage_used"`
		StorageCapacity int64 `json:"storage_capacity"`
	} `json:"stat_summary"`
	WorkloadNetworks *struct {
		Primary struct {
			Network string `json:"network"`
		} `json:"supervisor_primary_workload_network"`
	} `json:"workload_networks"`
	LoadBalancers []struct {
		ID       string `json:"id"`
		Provider string `json:"provider"`
	} `json:"load_balancers"`
}

const nmPath = "/api/vcenter/namespace-management"

func getSupervisorInfo(t *testing.T, env *servertest.Env, token, cluster string) supervisorInfo {
	t.Helper()
	r := env.Do("GET", nmPath+"/clusters/"+cluster, token, nil)
	if r.Status != 200 {
		t.Fatalf("get %s: %d %s", cluster, r.Status, r.Body)
	}
	var info supervisorInfo
	r.JSON(t, &info)
	return info
}

func TestClustersEnableGetListDisable(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()

	// Not enabled yet: get answers UNSUPPORTED, an unknown cluster NOT_FOUND, list is empty.
	if r := env.Do("GET", nmPath+"/clusters/"+clusterA, token, nil); r.Status != 400 || r.ErrorType() != "UNSUPPORTED" {
		t.Fatalf("get before enable: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", nmPath+"/clusters/domain-c999", token, nil); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
		t.Fatalf("get of an unknown cluster: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", nmPath+"/clusters", token, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("list before enable: %d %s", r.Status, r.Body)
	}

	r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, vsphereEnableSpec(1))
	if r.Status != 204 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	info := getSupervisorInfo(t, env, token, clusterA)
	if info.ConfigStatus != "CONFIGURING" || len(info.Messages) == 0 || info.Messages[0].Severity != "INFO" {
		t.Fatalf("right after enable: %+v", info)
	}
	// Enabling again while it is being configured: ALREADY_EXISTS.
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=enable", token, vsphereEnableSpec(1)); r.Status != 400 || r.ErrorType() != "ALREADY_EXISTS" {
		t.Fatalf("second enable: %d %s", r.Status, r.Body)
	}
	// Half way: still CONFIGURING, with the progress of a later step.
	env.Settle(5 * time.Second)
	half := getSupervisorInfo(t, env, token, clusterA)
	if half.ConfigStatus != "CONFIGURING" || half.Messages[0].Details.DefaultMessage == info.Messages[0].Details.DefaultMessage {
		t.Fatalf("half way: %+v", half)
	}
	env.Settle(5 * time.Second)
	info = getSupervisorInfo(t, env, token, clusterA)
	if info.ConfigStatus != "RUNNING" || info.KubernetesStatus != "READY" {
		t.Fatalf("after the task duration: %+v", info)
	}
	if info.APIServerManagementEP != "10.20.1.10" || strings.Join(info.APIServers, ",") != "10.20.1.11,10.20.1.12,10.20.1.13" ||
		info.APIServerClusterEndpoint != "10.40.1.10" {
		t.Fatalf("endpoints: %+v", info)
	}
	for _, c := range info.Conditions {
		if c.Status != "TRUE" {
			t.Fatalf("condition %+v not TRUE when RUNNING", c)
		}
	}
	// Stats come from the inventory: the three powered-on TINY VMs use memory, the hosts offer more.
	if st := info.StatSummary; st.CPUUsed <= 0 || st.CPUUsed >= st.CPUCapacity || st.MemoryUsed < 3*8192 || st.MemoryUsed >= st.MemoryCapacity || st.StorageCapacity <= 0 {
		t.Fatalf("stats: %+v", info.StatSummary)
	}
	if info.WorkloadNetworks == nil || info.WorkloadNetworks.Primary.Network != "primary" || len(info.LoadBalancers) != 1 || info.LoadBalancers[0].Provider != "HA_PROXY" {
		t.Fatalf("networks and load balancers: %+v", info)
	}
	// The load balancer's password is never shown back.
	raw := env.Do("GET", nmPath+"/clusters/"+clusterA, token, nil)
	if strings.Contains(string(raw.Body), "haproxy-secret") || strings.Contains(string(raw.Body), "password") {
		t.Fatalf("get shows the load balancer password: %s", raw.Body)
	}

	var list []struct {
		Cluster, ClusterName, ConfigStatus, KubernetesStatus string
	}
	lr := env.Do("GET", nmPath+"/clusters", token, nil)
	if err := json.Unmarshal(lr.Body, &list); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lr.Body), `"cluster":"domain-c9","cluster_name":"Cluster-A"`) || !strings.Contains(string(lr.Body), `"config_status":"RUNNING"`) {
		t.Fatalf("list: %s", lr.Body)
	}

	// govc sees the Namespaces pool and the three control plane VMs in it.
	if out := env.AdminGovc("object.collect", "-s", "/Datacenter/host/Cluster-A/Resources/Namespaces", "vm"); strings.Count(out, "VirtualMachine:") != 3 {
		t.Fatalf("the Namespaces pool holds: %s", out)
	}
	out := env.AdminGovc("ls", "/Datacenter/vm/Namespaces/cluster-a")
	for i := 1; i <= 3; i++ {
		if !strings.Contains(out, fmt.Sprintf("SupervisorControlPlaneVM (%d)", i)) {
			t.Fatalf("govc ls of the Supervisor's VM folder:\n%s", out)
		}
	}

	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if got := getSupervisorInfo(t, env, token, clusterA); got.ConfigStatus != "REMOVING" {
		t.Fatalf("after disable: %+v", got)
	}
	advance(env, 25*time.Second)
	if r := env.Do("GET", nmPath+"/clusters/"+clusterA, token, nil); r.Status != 400 || r.ErrorType() != "UNSUPPORTED" {
		t.Fatalf("get after disable: %d %s", r.Status, r.Body)
	}
	out, _, _ = env.Govc(servertest.Admin, servertest.AdminPassword, "ls", "/Datacenter/host/Cluster-A/Resources")
	if strings.Contains(out, "Namespaces") {
		t.Fatalf("the Namespaces pool is still there after disable:\n%s", out)
	}
}

// advance moves the clock one second at a time, letting the controllers act at every step: the way
// to let work that polls (a disable waiting for namespaces) progress as it would in real time.
func advance(env *servertest.Env, d time.Duration) {
	env.T.Helper()
	env.Settle(0)
	for ; d > 0; d -= time.Second {
		env.Settle(time.Second)
	}
}
