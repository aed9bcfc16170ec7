// Package clusters owns Supervisor enablement and the cluster-level services of namespace_management
// (issue 3). This is a placeholder until that work lands.
package clusters

import (
	"context"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Family is the clusters API family.
type Family struct{ deps *platform.Deps }

// New builds the family.
func New(d *platform.Deps) *Family { return &Family{deps: d} }

// Register attaches the family's handlers.
func (f *Family) Register(*vapi.Registry) {}

// Start starts the family's controllers.
func (f *Family) Start(context.Context) error { return nil }
