package inventory_test

import (
	"context"
	"testing"

	"github.com/wcpd/wcpd/internal/inventory"
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
