package vmservice

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/platform"
)

// Addresses come from the Supervisor's own ranges (the primary workload network for VMs, the load
// balancers' ranges for services); what is in use is read back from the objects' statuses, so an
// address is free again once its VM or service is gone, and nothing but the statuses need be kept.
// Allocations of one Supervisor are serialised, each written to its object's status before the
// next: two objects never get one address.

// lockCluster serialises the address allocations of one Supervisor; the returned func unlocks.
func (c *Controller) lockCluster(cluster string) func() {
	c.mu.Lock()
	l, ok := c.allocating[cluster]
	if !ok {
		l = &sync.Mutex{}
		c.allocating[cluster] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// pickAddress returns the first address of ranges not in used.
func pickAddress(ranges []platform.AddressRange, used map[string]bool) (string, bool) {
	for _, r := range ranges {
		a, err := netip.ParseAddr(r.Address)
		if err != nil {
			continue
		}
		for i := int64(0); i < r.Count && a.IsValid(); i, a = i+1, a.Next() {
			if !used[a.String()] {
				return a.String(), true
			}
		}
	}
	return "", false
}

// primaryIP is the VM's reported address, "" for none.
func primaryIP(vm *vmopv1.VirtualMachine) string {
	if vm.Status.Network == nil {
		return ""
	}
	return vm.Status.Network.PrimaryIP4
}

// assignVMAddress gives a powered-on VM an address of the workload network; the caller holds the
// cluster's allocation lock until the status is written.
func (c *Controller) assignVMAddress(ctx context.Context, cluster string, cl client.Client, vm *vmopv1.VirtualMachine) error {
	sup, ok := c.fams.Supervisors.Supervisor(cluster)
	if !ok || len(sup.WorkloadAddresses) == 0 {
		return nil // no static range (DHCP or NSX): no address to report
	}
	var all vmopv1.VirtualMachineList
	if err := cl.List(ctx, &all); err != nil {
		return err
	}
	used := map[string]bool{}
	for i := range all.Items {
		if ip := primaryIP(&all.Items[i]); ip != "" {
			used[ip] = true
		}
	}
	ip, ok := pickAddress(sup.WorkloadAddresses, used)
	if !ok {
		return fmt.Errorf("the workload network of the Supervisor on %s has no address left", cluster)
	}
	if vm.Status.Network == nil {
		vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{}
	}
	vm.Status.Network.PrimaryIP4 = ip
	return nil
}
