package vmservice

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/controller"
)

// enqueueServices brings every VirtualMachineService of a namespace round.
func (c *Controller) enqueueServices(ctx context.Context, cluster string, cl client.Client, namespace string) error {
	var list vmopv1.VirtualMachineServiceList
	if err := cl.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	for _, s := range list.Items {
		c.enqueue(key(kindService, cluster, namespace, s.Name))
	}
	return nil
}

// reconcileService realises a VirtualMachineService as VM Operator does: a Kubernetes Service of
// the same name and type, without a selector, and Endpoints holding the addresses of the powered-on
// VMs its selector picks; a LoadBalancer service gets an external address from the Supervisor's
// load balancer ranges, in its status and the Service's. Both objects are owned by the
// VirtualMachineService, so Kubernetes' garbage collector removes them with it, and its address is
// free again.
func (c *Controller) reconcileService(ctx context.Context, cluster string, cl client.Client, namespace, name string) (controller.Result, error) {
	var vs vmopv1.VirtualMachineService
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &vs); err != nil {
		return controller.Result{}, client.IgnoreNotFound(err)
	}
	if vs.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	var vms vmopv1.VirtualMachineList
	if err := cl.List(ctx, &vms, client.InNamespace(namespace)); err != nil {
		return controller.Result{}, err
	}
	selector := labels.SelectorFromSet(vs.Spec.Selector)
	var addresses []corev1.EndpointAddress
	for i := range vms.Items {
		vm := &vms.Items[i]
		if len(vs.Spec.Selector) == 0 || !selector.Matches(labels.Set(vm.Labels)) {
			continue
		}
		if ip := primaryIP(vm); ip != "" && vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn {
			addresses = append(addresses, corev1.EndpointAddress{IP: ip,
				TargetRef: &corev1.ObjectReference{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachine", Namespace: namespace, Name: vm.Name, UID: vm.UID}})
		}
	}

	svc := &corev1.Service{}
	svc.Name, svc.Namespace = name, namespace
	if _, err := controllerutil.CreateOrUpdate(ctx, cl, svc, func() error {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
		if vs.Spec.Type == vmopv1.VirtualMachineServiceTypeLoadBalancer {
			svc.Spec.Type = corev1.ServiceTypeLoadBalancer
			svc.Spec.LoadBalancerSourceRanges = vs.Spec.LoadBalancerSourceRanges
		}
		svc.Spec.Ports = nil
		for _, p := range vs.Spec.Ports {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: corev1.Protocol(p.Protocol),
				Port: p.Port, TargetPort: intstr.FromInt32(p.TargetPort)})
		}
		return controllerutil.SetControllerReference(&vs, svc, cl.Scheme())
	}); err != nil {
		return controller.Result{}, fmt.Errorf("Service %s/%s: %w", namespace, name, err)
	}
	ep := &corev1.Endpoints{}
	ep.Name, ep.Namespace = name, namespace
	if _, err := controllerutil.CreateOrUpdate(ctx, cl, ep, func() error {
		ep.Subsets = nil
		if len(addresses) > 0 {
			subset := corev1.EndpointSubset{Addresses: addresses}
			for _, p := range vs.Spec.Ports {
				subset.Ports = append(subset.Ports, corev1.EndpointPort{Name: p.Name, Port: p.TargetPort, Protocol: corev1.Protocol(p.Protocol)})
			}
			ep.Subsets = []corev1.EndpointSubset{subset}
		}
		return controllerutil.SetControllerReference(&vs, ep, cl.Scheme())
	}); err != nil {
		return controller.Result{}, fmt.Errorf("Endpoints %s/%s: %w", namespace, name, err)
	}
	if vs.Spec.Type != vmopv1.VirtualMachineServiceTypeLoadBalancer {
		return controller.Result{}, nil
	}
	return controller.Result{}, c.externalAddress(ctx, cluster, cl, &vs, svc)
}

// externalAddress gives a LoadBalancer service its address (the one asked for in loadBalancerIP when
// free) and reports it on both objects.
func (c *Controller) externalAddress(ctx context.Context, cluster string, cl client.Client, vs *vmopv1.VirtualMachineService, svc *corev1.Service) error {
	ip := ""
	if in := vs.Status.LoadBalancer.Ingress; len(in) > 0 {
		ip = in[0].IP
	}
	if ip == "" {
		defer c.lockCluster(cluster)() // held until the address is in the status
		sup, ok := c.fams.Supervisors.Supervisor(cluster)
		if !ok || len(sup.LoadBalancerAddresses) == 0 {
			return nil // NSX or no load balancer ranges: nothing to hand out
		}
		book := c.book(cluster)
		if book == nil {
			return fmt.Errorf("VM Service is not following the Supervisor on %s", cluster)
		}
		used, err := book.used(book.services, serviceIPs)
		if err != nil {
			return err
		}
		if want := vs.Spec.LoadBalancerIP; want != "" && !used[want] {
			ip = want
		} else if ip, ok = pickAddress(sup.LoadBalancerAddresses, used); !ok {
			return fmt.Errorf("the load balancer ranges of the Supervisor on %s have no address left", cluster)
		}
		book.recent[ip] = time.Now()
		vs.Status.LoadBalancer.Ingress = []vmopv1.LoadBalancerIngress{{IP: ip}}
		if err := cl.Status().Update(ctx, vs); err != nil {
			return err
		}
	}
	if in := svc.Status.LoadBalancer.Ingress; len(in) == 1 && in[0].IP == ip {
		return nil
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if err := cl.Status().Update(ctx, svc); err != nil && !apierrors.IsConflict(err) {
		return err
	}
	return nil
}
