package vmservice

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/platform"
)

// Addresses come from the Supervisor's own ranges (the primary workload network for VMs, the load
// balancers' ranges for services); what is in use is read from the objects' statuses in the
// informers' caches, so an address is free again once its VM or service is gone, and nothing but
// the statuses need be kept. Allocations of one Supervisor are serialised, and an address handed
// out stays taken for a while even before the caches show it: two objects never get one address.

// recentFor is how long an address handed out counts as taken whatever the caches say: far longer
// than a status write takes to reach them.
const recentFor = time.Minute

// addressBook is what one Supervisor's allocations read.
type addressBook struct {
	vms, services cache.GenericLister
	recent        map[string]time.Time // address → when it was handed out; under the cluster's lock
}

// used lists the addresses in use: those in the statuses read by statusIPs, and those handed out
// lately.
func (b *addressBook) used(l cache.GenericLister, statusIPs func(u *unstructured.Unstructured) []string) (map[string]bool, error) {
	objs, err := l.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok {
			for _, ip := range statusIPs(u) {
				used[ip] = true
			}
		}
	}
	for ip, at := range b.recent {
		if time.Since(at) > recentFor {
			delete(b.recent, ip)
		} else {
			used[ip] = true
		}
	}
	return used, nil
}

func (c *Controller) book(cluster string) *addressBook {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.books[cluster]
}

func vmIPs(u *unstructured.Unstructured) []string {
	ip, _, _ := unstructured.NestedString(u.Object, "status", "network", "primaryIP4")
	return []string{ip}
}

func serviceIPs(u *unstructured.Unstructured) []string {
	ingress, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
	var out []string
	for _, in := range ingress {
		if m, ok := in.(map[string]any); ok {
			if ip, ok := m["ip"].(string); ok {
				out = append(out, ip)
			}
		}
	}
	return out
}

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
func (c *Controller) assignVMAddress(cluster string, vm *vmopv1.VirtualMachine) error {
	sup, ok := c.fams.Supervisors.Supervisor(cluster)
	if !ok || len(sup.WorkloadAddresses) == 0 {
		return nil // no static range (DHCP or NSX): no address to report
	}
	book := c.book(cluster)
	if book == nil {
		return fmt.Errorf("VM Service is not following the Supervisor on %s", cluster)
	}
	used, err := book.used(book.vms, vmIPs)
	if err != nil {
		return err
	}
	ip, ok := pickAddress(sup.WorkloadAddresses, used)
	if !ok {
		return fmt.Errorf("the workload network of the Supervisor on %s has no address left", cluster)
	}
	book.recent[ip] = time.Now()
	if vm.Status.Network == nil {
		vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{}
	}
	vm.Status.Network.PrimaryIP4 = ip
	return nil
}
