package inventory_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/store"
)

// BenchmarkStart measures building and serving the default inventory.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		inv, err := inventory.Start(ctx, inventory.Config{})
		if err != nil {
			b.Fatal(err)
		}
		inv.Close()
	}
}

// BenchmarkSOAPChange measures one SOAP call that changes the inventory (a pool's reservation),
// kept in memory only and kept durable: the difference is what the store costs per change.
func BenchmarkSOAPChange(b *testing.B) {
	for _, durable := range []bool{false, true} {
		name := "memory"
		if durable {
			name = "durable"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			cfg := inventory.Config{}
			if durable {
				dir := b.TempDir()
				st, err := store.Open(ctx, store.Config{DataDir: filepath.Join(dir, "store")})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				cfg.Store, cfg.Dir = st, filepath.Join(dir, "inventory")
			}
			inv, err := inventory.Start(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer inv.Close()
			pool, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
			if err != nil {
				b.Fatal(err)
			}
			child, err := pool.Create(ctx, "bench", types.DefaultResourceConfigSpec())
			if err != nil {
				b.Fatal(err)
			}
			spec := types.DefaultResourceConfigSpec()
			var i int64
			for b.Loop() {
				i++
				spec.CpuAllocation.Reservation = &i
				if err := child.UpdateConfig(ctx, "", &spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeptLookups measures the lookups that namespace, Supervisor, VM class and VM checks and
// the realisation of namespaces in Kubernetes make on every request, while nothing they read
// changes: the storage policies (read once through PBM) and the content libraries with their items
// (read once through the vAPI services), each kept until a change.
func BenchmarkKeptLookups(b *testing.B) {
	ctx := context.Background()
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer inv.Close()
	for _, bc := range []struct {
		name   string
		lookup func() error
	}{
		{"storage policies", func() error { _, err := inv.StoragePolicies(ctx); return err }},
		{"content libraries", func() error { _, err := inv.ContentLibraries(ctx); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.lookup(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
