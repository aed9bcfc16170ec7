package vmservice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/admission"
	"github.com/wcpd/wcpd/internal/drs"
)

// ControllerUser is the Kubernetes user VM Service writes as (wcpd's own client certificate).
const ControllerUser = "wcpd"

// maxVMName is the longest name vSphere gives a VM.
const maxVMName = 80

// AdmissionHandler serves the validating webhook for VirtualMachines at a path ending in the
// Supervisor's cluster ({cluster} in the mux pattern). The API server sends the object as v1alpha5
// whatever version the client used (matchPolicy Equivalent).
func (c *Controller) AdmissionHandler() http.Handler {
	return admission.Handler(func(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) *metav1.Status {
		msg, err := c.admit(ctx, cluster, req)
		switch {
		case err != nil:
			return admission.Refuse(http.StatusInternalServerError, "", err.Error())
		case msg != "":
			return admission.Refuse(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, msg)
		}
		return nil
	})
}

// admit returns why a VirtualMachine is refused, "" when it is not.
func (c *Controller) admit(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) (string, error) {
	cl := c.client(cluster)
	if cl == nil {
		return "", fmt.Errorf("VM Service is not following the Supervisor on %s yet; try again", cluster)
	}
	if admission.Trusted(req.UserInfo, ControllerUser) {
		return "", nil // VM Service's own writes (finalizers) and Kubernetes' garbage collector
	}
	var vm vmopv1.VirtualMachine
	if err := json.Unmarshal(req.Object.Raw, &vm); err != nil {
		return "the object is not a VirtualMachine: " + err.Error(), nil
	}
	if vm.DeletionTimestamp != nil {
		return "", nil // finalizer removal and status on the way out
	}
	var problems []string
	if req.Operation == admissionv1.Update {
		var old vmopv1.VirtualMachine
		if err := json.Unmarshal(req.OldObject.Raw, &old); err == nil {
			if imageOf(&old) != imageOf(&vm) {
				problems = append(problems, fmt.Sprintf("spec.image: the image of a VirtualMachine cannot change (it was %s)", imageOf(&old)))
			}
			if old.Spec.StorageClass != vm.Spec.StorageClass {
				problems = append(problems, fmt.Sprintf("spec.storageClass: cannot change (it was %q)", old.Spec.StorageClass))
			}
			if p := restartProblem(&old, &vm); p != "" {
				problems = append(problems, p)
			}
		}
	} else {
		if len(vm.Name) > maxVMName {
			problems = append(problems, fmt.Sprintf("metadata.name: %q is longer than the %d characters vSphere allows a VM name", vm.Name, maxVMName))
		}
		if p := restartProblem(nil, &vm); p != "" {
			problems = append(problems, p)
		}
	}
	if b := vm.Spec.Bootstrap; b != nil {
		switch {
		case b.CloudInit != nil && (b.LinuxPrep != nil || b.Sysprep != nil):
			problems = append(problems, "spec.bootstrap: cloudInit cannot be used with linuxPrep or sysprep")
		case b.LinuxPrep != nil && b.Sysprep != nil:
			problems = append(problems, "spec.bootstrap: linuxPrep and sysprep cannot be used together")
		case b.Sysprep != nil && b.Sysprep.Sysprep != nil && b.Sysprep.RawSysprep != nil:
			problems = append(problems, "spec.bootstrap.sysprep: sysprep and rawSysprep cannot be used together")
		}
		if p := customizationProblem(b); p != "" {
			problems = append(problems, p)
		}
	}
	var class vmopv1.VirtualMachineClass
	err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Spec.ClassName}, &class)
	switch {
	case vm.Spec.ClassName == "" || apierrors.IsNotFound(err):
		problems = append(problems, fmt.Sprintf("spec.className: VM class %q is not available in namespace %s", vm.Spec.ClassName, vm.Namespace))
	case err != nil:
		return "", err
	}
	if _, problem, err := c.imageItem(ctx, cl, &vm); err != nil {
		return "", err
	} else if problem != "" {
		problems = append(problems, problem)
	}
	if problem := c.storageProblem(ctx, &vm); problem != "" {
		problems = append(problems, problem)
	}
	if err == nil && req.Operation == admissionv1.Create {
		problem, lerr := c.limitProblem(ctx, cl, &vm, &class)
		if lerr != nil {
			return "", lerr
		}
		if problem != "" {
			problems = append(problems, problem)
		}
	}
	return strings.Join(problems, "; "), nil
}

func imageOf(vm *vmopv1.VirtualMachine) string {
	if vm.Spec.Image != nil {
		return vm.Spec.Image.Kind + "/" + vm.Spec.Image.Name
	}
	return "VirtualMachineImage/" + vm.Spec.ImageName
}

// limitProblem says why one more VM of class would exceed the namespace's CPU or memory limit: the
// VMs of the namespace count with their classes' sizes.
func (c *Controller) limitProblem(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine, class *vmopv1.VirtualMachineClass) (string, error) {
	rz, ok := c.fams.Namespaces.Realisation(vm.Namespace)
	if !ok {
		return "", nil
	}
	memLimit, hasMem := rz.Quota["memory_limit"]
	cpuLimit, hasCPU := rz.Quota["cpu_limit"]
	if !hasMem && !hasCPU {
		return c.storageLimitProblem(ctx, cl, vm)
	}
	var vms vmopv1.VirtualMachineList
	if err := cl.List(ctx, &vms, client.InNamespace(vm.Namespace)); err != nil {
		return "", err
	}
	memMiB, cpuMHz := class.Spec.Hardware.Memory.Value()>>20, class.Spec.Hardware.Cpus*drs.DefaultCPUMHzPerVCPU
	for _, other := range vms.Items {
		if other.Name == vm.Name || other.DeletionTimestamp != nil {
			continue // being deleted: its resources are on their way back
		}
		var oc vmopv1.VirtualMachineClass
		if err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: other.Spec.ClassName}, &oc); err != nil {
			continue // a VM whose class went counts for nothing more than it can be given
		}
		memMiB += oc.Spec.Hardware.Memory.Value() >> 20
		cpuMHz += oc.Spec.Hardware.Cpus * drs.DefaultCPUMHzPerVCPU
	}
	if problem, err := c.storageLimitProblem(ctx, cl, vm); err != nil || problem != "" {
		return problem, err
	}
	switch {
	case hasMem && memMiB > memLimit:
		return fmt.Sprintf("spec.className: with this VM the VMs of namespace %s would need %d MiB of memory, over the namespace's memory limit of %d MiB", vm.Namespace, memMiB, memLimit), nil
	case hasCPU && cpuMHz > cpuLimit:
		return fmt.Sprintf("spec.className: with this VM the VMs of namespace %s would need %d MHz of CPU, over the namespace's CPU limit of %d MHz", vm.Namespace, cpuMHz, cpuLimit), nil
	}
	return "", nil
}

// storageLimitProblem says why one more VM would take the namespace past the limit of its storage
// class's policy: each VM of that class counts with the disks its image's descriptor declares.
func (c *Controller) storageLimitProblem(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine) (string, error) {
	if vm.Spec.StorageClass == "" {
		return "", nil
	}
	rz, ok := c.fams.Namespaces.Realisation(vm.Namespace)
	if !ok {
		return "", nil
	}
	classes, err := c.inv.StorageClassNames(ctx)
	if err != nil {
		return "", err
	}
	var limit *int64
	for _, s := range rz.Storage {
		if classes[s.Policy] == vm.Spec.StorageClass {
			limit = s.LimitMiB
		}
	}
	if limit == nil {
		return "", nil
	}
	disks := map[string]int64{} // by image item
	need := func(v *vmopv1.VirtualMachine) (int64, error) {
		item, problem, err := c.imageItem(ctx, cl, v)
		if err != nil || problem != "" {
			return 0, err
		}
		if mib, ok := disks[item]; ok {
			return mib, nil
		}
		d, err := c.inv.LibraryItemImage(ctx, item)
		if err != nil {
			return 0, nil // an image whose descriptor cannot be read counts for nothing
		}
		disks[item] = d.DiskMiB()
		return disks[item], nil
	}
	total, err := need(vm)
	if err != nil {
		return "", err
	}
	var vms vmopv1.VirtualMachineList
	if err := cl.List(ctx, &vms, client.InNamespace(vm.Namespace)); err != nil {
		return "", err
	}
	for i := range vms.Items {
		other := &vms.Items[i]
		if other.Name == vm.Name || other.DeletionTimestamp != nil || other.Spec.StorageClass != vm.Spec.StorageClass {
			continue
		}
		mib, err := need(other)
		if err != nil {
			return "", err
		}
		total += mib
	}
	if total > *limit {
		return fmt.Sprintf("spec.storageClass: with this VM the VMs of namespace %s would need %d MiB of storage class %s (their images' disks), over the namespace's limit of %d MiB for it",
			vm.Namespace, total, vm.Spec.StorageClass, *limit), nil
	}
	return "", nil
}
