package resources

import (
	"context"
	"fmt"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
)

// BenchmarkFirstReadAfterAChange measures what the first request after an inventory change
// pays: every op changes one namespace pool's shares through SOAP (not timed), then reads the
// namespaces' figures (what a list of namespaces asks; only the changed namespace is read again)
// or runs the live analysis (the whole cluster is read again). The trees are a Supervisor's
// Namespaces pool with 10,000 namespace pools, and one with 1,000 powered-on pod VMs in 10
// namespaces.
func BenchmarkFirstReadAfterAChange(b *testing.B) {
	for _, size := range []struct {
		name             string
		namespaces, pods int
	}{{"10000-namespaces", 10000, 0}, {"1000-pods", 10, 1000}} {
		b.Run(size.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			inv, err := inventory.Start(ctx, inventory.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer inv.Close()
			c := inv.Client()
			finder := find.NewFinder(c)
			dc, err := finder.Datacenter(ctx, "Datacenter")
			if err != nil {
				b.Fatal(err)
			}
			finder.SetDatacenter(dc)
			folders, err := dc.Folders(ctx)
			if err != nil {
				b.Fatal(err)
			}
			root, err := finder.ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
			if err != nil {
				b.Fatal(err)
			}
			nsPool, err := root.Create(ctx, "Namespaces", types.DefaultResourceConfigSpec())
			if err != nil {
				b.Fatal(err)
			}
			var pools []*object.ResourcePool
			for i := range size.namespaces {
				p, err := nsPool.Create(ctx, fmt.Sprintf("ns-%05d", i), types.DefaultResourceConfigSpec())
				if err != nil {
					b.Fatal(err)
				}
				pools = append(pools, p)
			}
			for i := range size.pods {
				spec := types.VirtualMachineConfigSpec{Name: fmt.Sprintf("pod-%04d", i), NumCPUs: 1, MemoryMB: 512,
					GuestId: podGuestID, Files: &types.VirtualMachineFileInfo{VmPathName: "[SharedDatastore]"}}
				task, err := folders.VmFolder.CreateVM(ctx, spec, pools[i%len(pools)], nil)
				if err != nil {
					b.Fatal(err)
				}
				info, err := task.WaitForResult(ctx)
				if err != nil {
					b.Fatal(err)
				}
				on, err := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference)).PowerOn(ctx)
				if err == nil {
					err = on.Wait(ctx)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			sups := fakeSupervisors{clusterA: {Cluster: clusterA, ID: "supervisor-a", Name: "supervisor-a",
				ConfigStatus: platform.StatusRunning, NamespacesPool: nsPool.Reference().Value}}
			f := New(&platform.Deps{Inventory: inv, Clock: clock.Real{}, Controllers: &controller.Group{},
				Families: &platform.Families{Supervisors: sups}})

			// afterEachChange times read, each time right after a pool's shares changed (the
			// change itself is not timed): the first read after an inventory change.
			levels := []types.SharesLevel{types.SharesLevelHigh, types.SharesLevelNormal}
			afterEachChange := func(b *testing.B, read func() error) {
				i := 0
				for b.Loop() {
					b.StopTimer()
					spec := types.DefaultResourceConfigSpec()
					spec.CpuAllocation.Shares.Level = levels[i%2]
					if err := pools[0].UpdateConfig(ctx, "", &spec); err != nil {
						b.Fatal(err)
					}
					i++
					b.StartTimer()
					if err := read(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("namespace-figures", func(b *testing.B) {
				afterEachChange(b, func() error {
					fig, err := f.NamespaceConsumption(ctx, clusterA)
					if err == nil && len(fig.ByName) != size.namespaces {
						err = fmt.Errorf("%d namespaces' figures, want %d", len(fig.ByName), size.namespaces)
					}
					return err
				})
			})
			b.Run("live-analysis", func(b *testing.B) {
				afterEachChange(b, func() error {
					s, err := f.readSupervisor(ctx, clusterA)
					if err == nil {
						_, err = s.analyse(s.roots)
					}
					return err
				})
			})
		})
	}
}
