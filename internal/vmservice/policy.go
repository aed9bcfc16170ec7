package vmservice

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/drs"
)

// policyFinalizer keeps a VirtualMachineSetResourcePolicy until its pool and folder are removed.
const policyFinalizer = "vmoperator.vmware.com/virtualmachinesetresourcepolicy"

// reconcilePolicy realises a VirtualMachineSetResourcePolicy: a child resource pool of the
// namespace's pool with the policy's reservations and limits, and a VM folder in the namespace's
// folder; VMs that name the policy (spec.reserved.resourcePolicyName) are deployed into them.
func (c *Controller) reconcilePolicy(ctx context.Context, cluster string, cl client.Client, namespace, name string) (controller.Result, error) {
	var p vmopv1.VirtualMachineSetResourcePolicy
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &p); err != nil {
		return controller.Result{}, client.IgnoreNotFound(err)
	}
	if p.DeletionTimestamp != nil {
		if !controllerutil.ContainsFinalizer(&p, policyFinalizer) {
			return controller.Result{}, nil
		}
		if err := c.removePolicy(ctx, cluster, &p); err != nil {
			return controller.Result{}, err
		}
		controllerutil.RemoveFinalizer(&p, policyFinalizer)
		return controller.Result{}, client.IgnoreNotFound(cl.Update(ctx, &p))
	}
	if controllerutil.AddFinalizer(&p, policyFinalizer) {
		return controller.Result{}, cl.Update(ctx, &p)
	}
	before := p.Status.DeepCopy()
	pool, err := c.policyPool(ctx, cluster, &p, true)
	if err != nil {
		return controller.Result{}, err
	}
	if p.Spec.Folder != "" {
		if _, _, err := c.namespaceFolderPath(ctx, cluster, namespace, true, p.Spec.Folder); err != nil {
			return controller.Result{}, err
		}
	}
	p.Status.ResourcePools = nil
	if pool != "" {
		p.Status.ResourcePools = []vmopv1.ResourcePoolStatus{{ClusterMoID: cluster, ChildResourcePoolMoID: pool}}
	}
	if !equality.Semantic.DeepEqual(before, &p.Status) {
		return controller.Result{}, cl.Status().Update(ctx, &p)
	}
	return controller.Result{}, nil
}

// allocation turns a policy's reservation and limit into a pool's allocation (CPU quantities as
// Kubernetes CPUs, at the resource model's speed of a vCPU).
func allocation(res, lim resource.Quantity, cpu bool) types.ResourceAllocationInfo {
	toUnits := func(q resource.Quantity) int64 {
		if cpu {
			return q.MilliValue() * drs.DefaultCPUMHzPerVCPU / 1000
		}
		return q.Value() >> 20
	}
	reservation, limit, expandable := toUnits(res), int64(-1), true
	if !lim.IsZero() {
		limit = toUnits(lim)
	}
	return types.ResourceAllocationInfo{Reservation: &reservation, Limit: &limit, ExpandableReservation: &expandable,
		Shares: &types.SharesInfo{Level: types.SharesLevelNormal}}
}

// policyPool makes (with create) or finds the policy's pool under the namespace's pool, and brings
// its allocation to the policy's; "" when the policy names no pool.
func (c *Controller) policyPool(ctx context.Context, cluster string, p *vmopv1.VirtualMachineSetResourcePolicy, create bool) (string, error) {
	rp := p.Spec.ResourcePool
	if rp.Name == "" {
		return "", nil
	}
	nsPool, err := c.namespacePool(ctx, cluster, p.Namespace)
	if err != nil {
		return "", err
	}
	vc := c.inv.Client()
	spec := types.ResourceConfigSpec{
		CpuAllocation:    allocation(rp.Reservations.Cpu, rp.Limits.Cpu, true),
		MemoryAllocation: allocation(rp.Reservations.Memory, rp.Limits.Memory, false),
	}
	child, err := object.NewSearchIndex(vc).FindChild(ctx, nsPool, rp.Name)
	if err != nil {
		return "", err
	}
	if child != nil && child.Reference().Type == "ResourcePool" {
		pool := object.NewResourcePool(vc, child.Reference())
		return child.Reference().Value, pool.UpdateConfig(ctx, "", &spec)
	}
	if !create {
		return "", nil
	}
	pool, err := object.NewResourcePool(vc, nsPool).Create(ctx, rp.Name, spec)
	if err != nil {
		return "", fmt.Errorf("creating resource pool %s of policy %s: %w", rp.Name, p.Name, err)
	}
	return pool.Reference().Value, nil
}

// removePolicy deletes the policy's pool and folder (once no VM is in them).
func (c *Controller) removePolicy(ctx context.Context, cluster string, p *vmopv1.VirtualMachineSetResourcePolicy) error {
	if pool, err := c.policyPool(ctx, cluster, p, false); err != nil {
		return err
	} else if pool != "" {
		task, err := object.NewResourcePool(c.inv.Client(), types.ManagedObjectReference{Type: "ResourcePool", Value: pool}).Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return fmt.Errorf("deleting resource pool %s of policy %s: %w", p.Spec.ResourcePool.Name, p.Name, err)
		}
	}
	if p.Spec.Folder != "" {
		folder, found, err := c.namespaceFolderPath(ctx, cluster, p.Namespace, false, p.Spec.Folder)
		if err != nil || !found {
			return err
		}
		task, err := folder.Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		return err
	}
	return nil
}
