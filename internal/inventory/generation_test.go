package inventory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
)

// TestGenerationMovesOnEveryChangeAndOnlyThen: reads through either client leave the generation
// where it is; a change through the internal client, through govc on the public listener, and a
// change the simulator makes in place without announcing it (a pool's UpdateConfig) each move it
// by the time the caller has its answer.
func TestGenerationMovesOnEveryChangeAndOnlyThen(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	ctx := context.Background()
	c := s.inv.Client()

	read := func() {
		t.Helper()
		v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"ResourcePool", "VirtualMachine"}, true)
		if err != nil {
			t.Fatal(err)
		}
		var pools []mo.ResourcePool
		if err := v.Retrieve(ctx, []string{"ResourcePool"}, []string{"name", "config"}, &pools); err != nil {
			t.Fatal(err)
		}
		if err := v.Destroy(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.inv.Clusters(ctx); err != nil {
			t.Fatal(err)
		}
	}
	read()
	before := s.inv.Generation()
	read()
	s.mustGovc(t, "ls", "/Datacenter/host")
	s.mustGovc(t, "pool.info", "/Datacenter/host/Cluster-A/Resources")
	if got := s.inv.Generation(); got != before {
		t.Fatalf("reads moved the generation from %d to %d", before, got)
	}

	pool, err := find.NewFinder(c).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	child, err := pool.Create(ctx, "generation-test", types.DefaultResourceConfigSpec())
	if err != nil {
		t.Fatal(err)
	}
	created := s.inv.Generation()
	if created <= before {
		t.Fatalf("creating a pool left the generation at %d", created)
	}

	spec := types.DefaultResourceConfigSpec()
	limit := int64(1234)
	spec.CpuAllocation.Limit = &limit
	if err := child.UpdateConfig(ctx, "", &spec); err != nil {
		t.Fatal(err)
	}
	updated := s.inv.Generation()
	// Two moves at least: one as the method starts, one once it has answered.
	if updated < created+2 {
		t.Fatalf("UpdateConfig moved the generation from %d to %d; want two moves at least", created, updated)
	}

	s.mustGovc(t, "pool.change", "-cpu.limit", "2000", "/Datacenter/host/Cluster-A/Resources/generation-test")
	if got := s.inv.Generation(); got < updated+2 {
		t.Fatalf("govc pool.change moved the generation from %d to %d; want two moves at least", updated, got)
	}
}

// TestClustersFollowChanges: Clusters, kept between calls, shows a host entering maintenance mode
// through govc at the next call, and hands out copies its callers may change.
func TestClustersFollowChanges(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	ctx := context.Background()
	clusterA := func() inventory.Cluster {
		t.Helper()
		all, err := s.inv.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			if c.Name == "Cluster-A" {
				return c
			}
		}
		t.Fatal("no Cluster-A")
		return inventory.Cluster{}
	}
	before := clusterA()
	before.Hosts[0].Name = "changed by a caller"
	again := clusterA()
	if again.Hosts[0].Name == "changed by a caller" || again.EffectiveCPUMHz != before.EffectiveCPUMHz {
		t.Fatalf("a second call answered %+v", again.Hosts[0])
	}
	s.mustGovc(t, "host.maintenance.enter", "/Datacenter/host/Cluster-A/"+again.Hosts[0].Name)
	after := clusterA()
	if !after.Hosts[0].MaintenanceMode || after.EffectiveCPUMHz >= before.EffectiveCPUMHz {
		t.Fatalf("after %s entered maintenance mode: %+v, effective %d MHz (was %d)",
			after.Hosts[0].Name, after.Hosts[0], after.EffectiveCPUMHz, before.EffectiveCPUMHz)
	}
}

// TestTopologyGenerationMovesForTopologyOnly: pools coming, changing and going and VMs powering
// on and off leave the topology generation where it is; a host entering maintenance mode (a task
// on a host) moves it. (Creating or destroying a VM changes its folder, which counts.)
func TestTopologyGenerationMovesForTopologyOnly(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	s.mustGovc(t, "vm.create", "-pool", "/Datacenter/host/Cluster-A/Resources", "-ds", "SharedDatastore",
		"-net", "DPG-Workload", "-on=false", "topology-vm")
	before := s.inv.TopologyGeneration()
	all := s.inv.Generation()
	s.mustGovc(t, "pool.create", "/Datacenter/host/Cluster-A/Resources/topology-test")
	s.mustGovc(t, "pool.change", "-cpu.limit", "2000", "/Datacenter/host/Cluster-A/Resources/topology-test")
	s.mustGovc(t, "vm.power", "-on", "topology-vm")
	s.mustGovc(t, "vm.power", "-off", "topology-vm")
	s.mustGovc(t, "pool.destroy", "/Datacenter/host/Cluster-A/Resources/topology-test")
	if got := s.inv.TopologyGeneration(); got != before {
		t.Fatalf("pools and VM power moved the topology generation from %d to %d", before, got)
	}
	if s.inv.Generation() == all {
		t.Fatal("pools and VM power did not move the generation")
	}
	hosts := strings.Fields(s.mustGovc(t, "ls", "/Datacenter/host/Cluster-A"))
	var host string
	for _, h := range hosts {
		if !strings.HasSuffix(h, "/Resources") {
			host = h
			break
		}
	}
	s.mustGovc(t, "host.maintenance.enter", host)
	if got := s.inv.TopologyGeneration(); got < before+2 {
		t.Fatalf("a host entering maintenance mode moved the topology generation from %d to %d; want two moves at least", before, got)
	}
}
