package inventory_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/inventory"
)

func TestCustomInventoryFile(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, []byte(labYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, inventory.Config{File: path})

	if out := s.mustGovc(t, "ls", "/Lab/host"); out != "/Lab/host/Lab-1\n/Lab/host/Lab-2\n" {
		t.Errorf("ls /Lab/host = %q", out)
	}
	clusters, err := s.inv.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) != 2 {
		t.Fatalf("clusters = %+v", clusters)
	}
	lab1, lab2 := clusters[0], clusters[1]
	if lab1.HostCount != 2 || lab1.DRSEnabled || lab1.HAEnabled || lab1.TotalCPUMHz != 2*4*3000 {
		t.Errorf("Lab-1 = %+v", lab1)
	}
	// Listed hosts: an explicit one, and one taking host_defaults but its own memory.
	big, small := lab2.Hosts[0], lab2.Hosts[1]
	if big.Name != "big.lab" || big.CPUCores != 96 || big.CPUMHz != 2000 || big.MemoryBytes != 2048<<30 {
		t.Errorf("big.lab = %+v", big)
	}
	if small.Name != "esx-04.wcpd.local" || small.CPUCores != 4 || small.CPUMHz != 3000 || small.MemoryBytes != 128<<30 {
		t.Errorf("second Lab-2 host = %+v", small)
	}
	if len(lab1.DistributedSwitches) != 0 || len(lab2.DistributedSwitches) != 1 {
		t.Errorf("switch reach: Lab-1 %v, Lab-2 %v", lab1.DistributedSwitches, lab2.DistributedSwitches)
	}
	ds, err := s.inv.Datastores(ctx)
	if err != nil || len(ds) != 1 || len(ds[0].Hosts) != 2 {
		t.Errorf("datastores = %+v, %v", ds, err)
	}
	if out := s.mustGovc(t, "storage.policy.ls", "lab-policy"); !strings.HasPrefix(out, "11111111-2222-4333-8444-000000000001") {
		t.Errorf("storage.policy.ls lab-policy = %q", out)
	}
}

func TestBrokenInventoryNamesTheField(t *testing.T) {
	t.Parallel()
	valid := "datacenter: DC\nclusters: [{name: C, hosts: 1}]\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown field", "datacenter: DC\nclusters: [{name: C, hots: 1}]\n", `unknown field "hots"`},
		{"wrong type", "datacenter: DC\nclusters: [{name: C, hosts: 1, drs: maybe}]\n", "drs"},
		{"hosts neither count nor list", "datacenter: DC\nclusters: [{name: C, hosts: many}]\n", "hosts: want a host count or a list"},
		{"unknown host field", "datacenter: DC\nclusters: [{name: C, hosts: [{cpus: 4}]}]\n", `unknown field "cpus"`},
		{"no datacenter", "clusters: [{name: C, hosts: 1}]\n", "datacenter: is required"},
		{"no clusters", "datacenter: DC\n", "clusters: at least one cluster is required"},
		{"zero hosts", "datacenter: DC\nclusters: [{name: C, hosts: 0}]\n", "clusters[0].hosts: host count must be between 1 and 64, got 0"},
		{"bad MHz", "datacenter: DC\nclusters: [{name: C, hosts: [{mhz: 99}]}]\n", "clusters[0].hosts[0].mhz: must be between 500 and 6000, got 99"},
		{"bad default", valid + "host_defaults: {memory_gib: -1}\n", "host_defaults.memory_gib: must be between 1 and 24576, got -1"},
		{"slash in name", "datacenter: DC\nclusters: [{name: a/b, hosts: 1}]\n", `clusters[0].name: must not contain '/', got "a/b"`},
		{"duplicate cluster", "datacenter: DC\nclusters: [{name: C, hosts: 1}, {name: C, hosts: 1}]\n", `clusters[1].name: duplicate cluster name "C"`},
		{"duplicate host", "datacenter: DC\nclusters: [{name: C, hosts: 1}, {name: D, hosts: [{name: esx-01.wcpd.local}]}]\n",
			`clusters[1].hosts[0].name: duplicate host name "esx-01.wcpd.local"`},
		{"unknown switch cluster", valid + "switches: [{name: S, clusters: [Nope]}]\n", `switches[0].clusters[0]: no cluster named "Nope"`},
		{"policy id", valid + "storage_policies: [{id: gold, name: gold}]\n", `storage_policies[0].id: must be a UUID`},
		{"duplicate id", valid + "datastores: [{name: ds, capacity_gib: 1}]\nstorage_policies: [{id: 11111111-2222-4333-8444-000000000001, name: p}]\n" +
			"content_libraries: [{id: 11111111-2222-4333-8444-000000000001, name: l}]\n", "content_libraries[0].id: duplicate id"},
		{"library without datastore", valid + "content_libraries: [{id: 11111111-2222-4333-8444-000000000001, name: l}]\n", "content_libraries[0].datastore: a content library needs a datastore"},
		{"subscribed library", valid + "datastores: [{name: ds, capacity_gib: 1}]\ncontent_libraries: [{id: 11111111-2222-4333-8444-000000000001, name: l, type: SUBSCRIBED}]\n",
			`content_libraries[0].type: only LOCAL libraries can be embedded, got "SUBSCRIBED"`},
		{"free above capacity", valid + "datastores: [{name: ds, capacity_gib: 10, free_gib: 11}]\n", "datastores[0].free_gib: must be between 0 and capacity_gib (10), got 11"},
		{"too many threads", "datacenter: DC\nclusters: [{name: C, hosts: 64}]\nhost_defaults: {sockets: 8, cores_per_socket: 128}\n",
			"clusters[0].hosts: 131072 hardware threads in total; vSphere counts at most 32767 per cluster"},
		{"vlan", valid + "switches: [{name: S, clusters: [C], port_groups: [{name: P, vlan: 5000}]}]\n", "switches[0].port_groups[0].vlan: must be between 0 and 4094, got 5000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := inventory.ParseSpec([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSpec error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := inventory.ParseSpec([]byte(valid)); err != nil {
		t.Errorf("the valid base document fails: %v", err)
	}

	// Start reports the file and the field.
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(cases[6].yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := inventory.Start(context.Background(), inventory.Config{File: path})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "clusters[0].hosts") {
		t.Errorf("Start with a broken file: %v", err)
	}
}

func TestExampleFileIsTheBuiltInDefault(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../docs/inventory-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := os.ReadFile("default-inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, builtin) {
		t.Error("docs/inventory-example.yaml differs from internal/inventory/default-inventory.yaml; copy one over the other")
	}
}
