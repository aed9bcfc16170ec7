package server

import (
	"github.com/wcpd/wcpd/internal/clustermodules"
	"github.com/wcpd/wcpd/internal/clusters"
	"github.com/wcpd/wcpd/internal/inventoryapi"
	"github.com/wcpd/wcpd/internal/kubeapi"
	"github.com/wcpd/wcpd/internal/namespaces"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/resources"
	"github.com/wcpd/wcpd/internal/selfservice"
	"github.com/wcpd/wcpd/internal/services"
	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vmclasses"
	"github.com/wcpd/wcpd/internal/zones"
)

// newFamilies builds every API family on d, in an order where each family's contract exists
// before the families that use it start.
func newFamilies(d *platform.Deps, kube kubeapi.Config) ([]platform.Family, *kubeapi.Manager) {
	if d.Families == nil {
		d.Families = &platform.Families{}
	}
	k := kubeapi.New(d, kube)
	return []platform.Family{
		clusters.New(d),
		namespaces.New(d),
		selfservice.New(d),
		vmclasses.New(d),
		services.New(d),
		resources.New(d),
		inventoryapi.New(d),
		zones.New(d),
		clustermodules.New(d),
		k, // last: it follows the other families' records from its start
	}, k
}

// NewRegistry returns the registry with every family's handlers attached, without starting
// anything: the coverage command uses it.
func NewRegistry() *vapi.Registry {
	r := vapi.NewRegistry()
	families, _ := newFamilies(&platform.Deps{}, kubeapi.Config{})
	for _, f := range families {
		f.Register(r)
	}
	return r
}
