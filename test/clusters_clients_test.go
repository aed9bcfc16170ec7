package test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"

	"github.com/wcpd/wcpd/internal/servertest"
)

const lbTestCA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

func clPtr[T any](v T) *T { return &v }

// TestClustersGovmomiClient drives enablement through govmomi's vapi/namespace client, unchanged:
// the compatibility lookups, the 7.0 EnableCluster / ListClusters / DisableCluster cycle, the 8.0
// EnableOnComputeCluster with its summary and topology, and the cluster network calls.
//
// It does not run in parallel: govmomi's EnableCluster prints its spec to os.Stdout, which govctest
// swaps for a pipe while a govc command runs, so in parallel the print would land in another test's
// govc output.
func TestClustersGovmomiClient(t *testing.T) {
	env := servertest.New(t)
	ctx := context.Background()
	m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))

	switches, err := m.ListCompatibleDistributedSwitches(ctx, clusterA)
	if err != nil || len(switches) != 1 || !switches[0].Compatible || switches[0].DistributedSwitch == "" {
		t.Fatalf("ListCompatibleDistributedSwitches: %+v %v", switches, err)
	}
	edges, err := m.ListCompatibleEdgeClusters(ctx, clusterA, switches[0].DistributedSwitch)
	if err != nil || len(edges) != 1 || edges[0].DisplayName != "edge-cluster-01" || !edges[0].Compatible {
		t.Fatalf("ListCompatibleEdgeClusters: %+v %v", edges, err)
	}
	if _, err := m.ListCompatibleDistributedSwitches(ctx, "domain-c404"); !rest.IsStatusError(err, http.StatusNotFound) {
		t.Fatalf("compatible switches of an unknown cluster: %v", err)
	}

	// 7.0: EnableCluster with vSphere networking and an Avi load balancer.
	spec := &namespace.EnableClusterSpec{
		SizeHint:        &namespace.SmallSizingHint,
		ServiceCidr:     &namespace.Cidr{Address: "10.96.0.0", Prefix: 22},
		NetworkProvider: &namespace.VSphereNetworkProvider,
		WorkloadNetworksSpec: &namespace.WorkloadNetworksEnableSpec{SupervisorPrimaryWorkloadNetwork: &namespace.NetworksCreateSpec{
			Network: "workload-primary", NetworkProvider: &namespace.VSphereNetworkProvider,
			VSphereNetwork: &namespace.VsphereDVPGNetworkCreateSpec{PortGroup: portgroupWork, Gateway: "10.31.0.1", SubnetMask: "255.255.255.0",
				AddressRanges: []namespace.IpRange{{Address: "10.31.0.10", Count: 64}}},
		}},
		LoadBalancerConfigSpec: &namespace.LoadBalancerConfigSpec{Id: "avi-lb", Provider: &namespace.AviLoadBalancerProvider,
			AddressRanges: []namespace.IpRange{{Address: "10.41.0.10", Count: 20}},
			AviConfigCreateSpec: &namespace.AviConfigCreateSpec{Server: &namespace.LoadBalancersServer{Host: "avi.example.com", Port: 443},
				Username: "admin", Password: "avi-secret", CertificateAuthorityChain: lbTestCA}},
		MasterManagementNetwork: &namespace.MasterManagementNetwork{Mode: &namespace.StaticRangeIpAssignmentMode, Network: portgroupMgmt,
			AddressRange: &namespace.AddressRange{StartingAddress: "10.21.0.10", AddressCount: 5, SubnetMask: "255.255.255.0", Gateway: "10.21.0.1"}},
		MasterDNS:              []string{"10.0.0.53"},
		MasterStoragePolicy:    policyGold,
		EphemeralStoragePolicy: policySilver,
		ImageStorage:           namespace.ImageStorageSpec{StoragePolicy: policyGold},
	}
	if err := m.EnableCluster(ctx, clusterA, spec); err != nil {
		t.Fatalf("EnableCluster: %v", err)
	}
	seen := map[string]bool{}
	for i := 0; i < 10 && !seen["RUNNING"]; i++ {
		list, err := m.ListClusters(ctx)
		if err != nil || len(list) != 1 || list[0].ID != clusterA || list[0].ConfigStatus == nil {
			t.Fatalf("ListClusters: %+v %v", list, err)
		}
		seen[list[0].ConfigStatus.String()] = true
		env.Settle(3 * time.Second)
	}
	if !seen["CONFIGURING"] || !seen["RUNNING"] {
		t.Fatalf("ListClusters went through %v, want CONFIGURING then RUNNING", seen)
	}
	if err := m.EnableCluster(ctx, clusterA, spec); !govmomiErrorIs(err, "ALREADY_EXISTS") {
		t.Fatalf("EnableCluster on an enabled cluster: %v", err)
	}

	// The cluster network calls.
	nets, err := m.ListClusterNetworks(ctx, clusterA)
	if err != nil || len(nets) != 1 || nets[0].Network != "workload-primary" || nets[0].VsphereNetwork == nil || nets[0].VsphereNetwork.Portgroup != portgroupWork {
		t.Fatalf("ListClusterNetworks: %+v %v", nets, err)
	}
	err = m.CreateClusterNetwork(ctx, clusterA, &namespace.NetworkCreateSpec{Network: "extra", NetworkProvider: namespace.VSphereNetworkProvider,
		VsphereNetwork: &namespace.VsphereNetworkCreateSpec{Portgroup: portgroupWork, Gateway: "10.32.0.1", SubnetMask: "255.255.255.0",
			AddressRanges: []namespace.IpRange{{Address: "10.32.0.10", Count: 10}}}})
	if err != nil {
		t.Fatalf("CreateClusterNetwork: %v", err)
	}
	// Overlapping the primary network's range is refused.
	err = m.CreateClusterNetwork(ctx, clusterA, &namespace.NetworkCreateSpec{Network: "clash", NetworkProvider: namespace.VSphereNetworkProvider,
		VsphereNetwork: &namespace.VsphereNetworkCreateSpec{Portgroup: portgroupWork, Gateway: "10.31.0.1", SubnetMask: "255.255.255.0",
			AddressRanges: []namespace.IpRange{{Address: "10.31.0.20", Count: 5}}}})
	if !govmomiErrorIs(err, "INVALID_ARGUMENT") || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("CreateClusterNetwork overlapping the primary network: %v", err)
	}
	got, err := m.GetClusterNetwork(ctx, clusterA, "extra")
	if err != nil || got.VsphereNetwork == nil || got.VsphereNetwork.Gateway != "10.32.0.1" {
		t.Fatalf("GetClusterNetwork: %+v %v", got, err)
	}
	if err := m.UpdateClusterNetwork(ctx, clusterA, "extra", &namespace.NetworkUpdateSpec{NetworkProvider: namespace.VSphereNetworkProvider,
		VsphereNetwork: &namespace.VsphereDVPGNetworkSetSpec{AddressRanges: []namespace.IpRange{{Address: "10.32.0.100", Count: 20}}}}); err != nil {
		t.Fatalf("UpdateClusterNetwork: %v", err)
	}
	got, _ = m.GetClusterNetwork(ctx, clusterA, "extra")
	if got.VsphereNetwork.AddressRanges[0].Address != "10.32.0.100" || got.VsphereNetwork.Gateway != "10.32.0.1" {
		t.Fatalf("after UpdateClusterNetwork (a merge): %+v", got.VsphereNetwork)
	}
	if err := m.SetClusterNetwork(ctx, clusterA, "extra", &namespace.NetworkSetSpec{NetworkProvider: namespace.VSphereNetworkProvider,
		VsphereNetwork: &namespace.VsphereDVPGNetworkSetSpec{Portgroup: portgroupWork, Gateway: "10.33.0.1", SubnetMask: "255.255.255.0",
			AddressRanges: []namespace.IpRange{{Address: "10.33.0.10", Count: 5}}}}); err != nil {
		t.Fatalf("SetClusterNetwork: %v", err)
	}
	got, _ = m.GetClusterNetwork(ctx, clusterA, "extra")
	if got.VsphereNetwork.Gateway != "10.33.0.1" {
		t.Fatalf("after SetClusterNetwork: %+v", got.VsphereNetwork)
	}
	if err := m.DeleteClusterNetwork(ctx, clusterA, "workload-primary"); !govmomiErrorIs(err, "RESOURCE_IN_USE") {
		t.Fatalf("deleting the primary workload network: %v", err)
	}
	if err := m.DeleteClusterNetwork(ctx, clusterA, "extra"); err != nil {
		t.Fatalf("DeleteClusterNetwork: %v", err)
	}
	if _, err := m.GetClusterNetwork(ctx, clusterA, "extra"); !rest.IsStatusError(err, http.StatusNotFound) {
		t.Fatalf("GetClusterNetwork after delete: %v", err)
	}

	if err := m.DisableCluster(ctx, clusterA); err != nil {
		t.Fatalf("DisableCluster: %v", err)
	}
	if list, _ := m.ListClusters(ctx); len(list) != 1 || list[0].ConfigStatus.String() != "REMOVING" {
		t.Fatalf("ListClusters after DisableCluster: %+v", list)
	}
	advance(env, 25*time.Second)
	if list, err := m.ListClusters(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListClusters once disabled: %+v %v", list, err)
	}

	// 8.0: EnableOnComputeCluster, then the summary and topology of the Supervisor id it answers.
	dhcp := false
	sup, err := m.EnableOnComputeCluster(ctx, clusterB, &namespace.EnableOnComputeClusterSpec{
		Name: "supervisor-b",
		ControlPlane: namespace.ControlPlane{
			Network: namespace.ControlPlaneNetwork{
				Backing: namespace.Backing{Backing: "NETWORK", Network: clPtr(portgroupMgmt)},
				IPManagement: &namespace.IPManagement{DHCPEnabled: &dhcp, GatewayAddress: clPtr("10.22.0.1/24"),
					IPAssignments: &[]namespace.IPAssignment{{Ranges: []namespace.IPRange{{Address: "10.22.0.10", Count: 5}}}}},
				Services: &namespace.Services{DNS: &namespace.DNS{Servers: []string{"10.0.0.53"}}},
			},
			Size:          clPtr("TINY"),
			StoragePolicy: clPtr(policyGold),
		},
		Workloads: namespace.Workloads{
			Network: namespace.WorkloadNetwork{NetworkType: "VSPHERE", VSphere: &namespace.NetworkVSphere{DVPG: portgroupWork},
				IPManagement: &namespace.IPManagement{DHCPEnabled: &dhcp, GatewayAddress: clPtr("10.34.0.1/24"),
					IPAssignments: &[]namespace.IPAssignment{{Ranges: []namespace.IPRange{{Address: "10.34.0.10", Count: 100}}}}}},
			Edge: namespace.Edge{Provider: clPtr("HAPROXY"), LoadBalancerAddressRanges: &[]namespace.IPRange{{Address: "10.42.0.10", Count: 20}},
				HAProxy: &namespace.HAProxy{Servers: []namespace.EdgeServer{{Host: "10.42.0.2", Port: 5556}}, Username: "admin", Password: "pw", CertificateAuthorityChain: lbTestCA}},
		},
	})
	if err != nil || sup == "" {
		t.Fatalf("EnableOnComputeCluster: %q %v", sup, err)
	}
	summary, err := m.GetSupervisorSummary(ctx, sup)
	if err != nil || summary.Name != "supervisor-b" || summary.ConfigStatus.String() != "CONFIGURING" {
		t.Fatalf("GetSupervisorSummary while enabling: %+v %v", summary, err)
	}
	env.Settle(10 * time.Second)
	summary, err = m.GetSupervisorSummary(ctx, sup)
	if err != nil || summary.ConfigStatus.String() != "RUNNING" || summary.KubernetesStatus.String() != "READY" ||
		summary.Stats.MemoryCapacity == 0 || summary.Stats.MemoryUsed < 3*8192 {
		t.Fatalf("GetSupervisorSummary once running: %+v %v", summary, err)
	}
	topo, err := m.GetSupervisorTopology(ctx, sup)
	if err != nil || len(topo) != 1 || topo[0].Zone != "zone-"+clusterB || len(topo[0].Clusters) != 1 || topo[0].Clusters[0] != clusterB {
		t.Fatalf("GetSupervisorTopology: %+v %v", topo, err)
	}
	summaries, err := m.GetSupervisorSummaries(ctx)
	if err != nil || len(summaries.Items) != 1 || summaries.Items[0].Supervisor != sup {
		t.Fatalf("GetSupervisorSummaries: %+v %v", summaries, err)
	}
	// The 7.0 view of the same Supervisor.
	info := getSupervisorInfo(t, env, env.AdminToken(), clusterB)
	if info.APIServerManagementEP != "10.22.0.10" || info.SizeHint != "TINY" || info.NetworkProvider != "VSPHERE_NETWORK" ||
		len(info.LoadBalancers) != 1 || info.LoadBalancers[0].Provider != "HA_PROXY" {
		t.Fatalf("clusters.get of the 8.0 Supervisor: %+v", info)
	}
	if _, err := m.GetSupervisorSummary(ctx, "no-such-supervisor"); !rest.IsStatusError(err, http.StatusNotFound) {
		t.Fatalf("summary of an unknown Supervisor: %v", err)
	}
}

// TestClustersGovc drives the Supervisor through govc in process: namespace.cluster.enable (NSX
// networking, looked up through the compatibility APIs), namespace.cluster.ls -l,
// namespace.logs.download and namespace.cluster.disable, and checks the control plane with govc ls.
func TestClustersGovc(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	env.AdminGovc("namespace.cluster.enable", "-cluster", "Cluster-B",
		"-service-cidr", "10.96.0.0/23", "-pod-cidrs", "10.244.0.0/20",
		"-workload-network.ingress-cidrs", "10.0.0.64/26", "-workload-network.egress-cidrs", "10.0.0.128/26",
		"-workload-network.edge-cluster", "edge-cluster-01", "-size", "TINY",
		"-mgmt-network.network", "DPG-Management", "-mgmt-network.starting-address", "10.0.1.10",
		"-mgmt-network.subnet-mask", "255.255.255.0", "-mgmt-network.gateway", "10.0.1.1",
		"-control-plane-dns", "10.10.10.10", "-control-plane-dns-names", "wcp.example.com",
		"-control-plane-storage-policy", "wcpd-gold", "-ephemeral-storage-policy", "wcpd-gold", "-image-storage-policy", "wcpd-silver")
	if out := env.AdminGovc("namespace.cluster.ls", "-l"); !strings.Contains(out, "/Datacenter/host/Cluster-B") || !strings.Contains(out, "CONFIGURING") {
		t.Fatalf("namespace.cluster.ls -l while enabling:\n%s", out)
	}
	env.Settle(10 * time.Second)
	out := env.AdminGovc("namespace.cluster.ls", "-l")
	if fields := strings.Fields(out); len(fields) != 3 || fields[0] != "/Datacenter/host/Cluster-B" || fields[1] != "RUNNING" || fields[2] != "READY" {
		t.Fatalf("namespace.cluster.ls -l once running:\n%s", out)
	}
	info := getSupervisorInfo(t, env, env.AdminToken(), clusterB)
	if info.NetworkProvider != "NSXT_CONTAINER_PLUGIN" || info.APIServerClusterEndpoint != "10.0.0.65" {
		t.Fatalf("the NSX Supervisor govc enabled: %+v", info)
	}

	// The Namespaces pool under the cluster's root pool, the three VMs in it.
	if out := env.AdminGovc("ls", "/Datacenter/host/Cluster-B/Resources/*"); !strings.Contains(out, "/Datacenter/host/Cluster-B/Resources/Namespaces\n") {
		t.Fatalf("govc ls of Cluster-B's root pool:\n%s", out)
	}
	vms := env.AdminGovc("ls", "/Datacenter/vm/Namespaces/cluster-b")
	for _, n := range []string{"SupervisorControlPlaneVM (1)", "SupervisorControlPlaneVM (2)", "SupervisorControlPlaneVM (3)"} {
		if !strings.Contains(vms, n) {
			t.Fatalf("govc ls of the Supervisor's VM folder:\n%s", vms)
		}
	}
	if out := env.AdminGovc("object.collect", "-s", "/Datacenter/host/Cluster-B/Resources/Namespaces", "vm"); strings.Count(out, "VirtualMachine:") != 3 {
		t.Fatalf("the Namespaces pool does not hold the three VMs: %s", out)
	}
	if out := env.AdminGovc("vm.info", "/Datacenter/vm/Namespaces/cluster-b/SupervisorControlPlaneVM (2)"); !strings.Contains(out, "poweredOn") || !strings.Contains(out, "2 vCPU") || !strings.Contains(out, "8192MB") {
		t.Fatalf("a TINY control plane VM:\n%s", out)
	}

	// The support bundle is a real tar with wcpd's state and log of this Supervisor.
	file := filepath.Join(t.TempDir(), "bundle.tar")
	env.AdminGovc("namespace.logs.download", "-cluster", "Cluster-B", file)
	entries := readBundle(t, file)
	for _, name := range []string{"README.txt", "supervisor.json", "cluster-info.json", "control-plane.json", "wcpd.log"} {
		if _, ok := entries["wcp-support-bundle-"+clusterB+"/"+name]; !ok {
			t.Fatalf("bundle lacks %s: %v", name, tarNames(entries))
		}
	}
	if log := entries["wcp-support-bundle-"+clusterB+"/wcpd.log"]; !strings.Contains(log, "enable requested") || !strings.Contains(log, "is running Kubernetes") {
		t.Fatalf("wcpd.log of the bundle:\n%s", log)
	}
	if cp := entries["wcp-support-bundle-"+clusterB+"/control-plane.json"]; strings.Count(cp, "SupervisorControlPlaneVM") != 3 {
		t.Fatalf("control-plane.json of the bundle:\n%s", cp)
	}

	env.AdminGovc("namespace.cluster.disable", "-cluster", "Cluster-B")
	advance(env, 25*time.Second)
	if out := env.AdminGovc("namespace.cluster.ls"); strings.TrimSpace(out) != "" {
		t.Fatalf("namespace.cluster.ls after disable:\n%s", out)
	}
	if out, _, _ := env.Govc(servertest.Admin, servertest.AdminPassword, "ls", "/Datacenter/vm/Namespaces/cluster-b"); strings.TrimSpace(out) != "" {
		t.Fatalf("control plane VMs left after disable:\n%s", out)
	}
	if out := env.AdminGovc("ls", "/Datacenter/host/Cluster-B/Resources/*"); strings.Contains(out, "Namespaces") {
		t.Fatalf("Namespaces pool left after disable:\n%s", out)
	}
}

// govmomiErrorIs reports whether a govmomi error carries a vAPI error of type errorType (govmomi's REST
// client returns 400 answers as plain errors holding the body).
func govmomiErrorIs(err error, errorType string) bool {
	return err != nil && strings.Contains(err.Error(), `"error_type":"`+errorType+`"`)
}

func readBundle(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the bundle: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(b)
	}
	return out
}

func tarNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
