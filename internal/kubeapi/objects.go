package kubeapi

import (
	"context"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	vmopv1common "github.com/vmware-tanzu/vm-operator/api/v1alpha5/common"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vmop"
)

// Labels and annotations on the objects wcpd keeps in a Supervisor's API server. Only objects with
// managedLabel are ever changed or deleted by wcpd; everything else belongs to the users.
const (
	managedLabel        = "wcpd.vmware.com/managed-by"
	managedValue        = "wcpd"
	vsphereNamespaceKey = "wcpd.vmware.com/vsphere-namespace"
	storagePolicyKey    = "wcpd.vmware.com/storage-policy"
	libraryItemKey      = vmop.LibraryItemAnnotation
	fieldOwner          = "wcpd"
)

// Names of the per-namespace objects.
const (
	quotaName      = "vsphere-namespace-quota"
	limitRangeName = "vsphere-namespace-limits"
	// defaultClassController is what seed 004 says an empty spec.controllerName means.
	defaultClassController = "vmoperator.vmware.com/vsphere"
	// csiProvisioner is the vSphere CSI driver's name, which a Supervisor's storage classes name.
	csiProvisioner = "csi.vsphere.vmware.com"
)

// managedMeta is the metadata of an object wcpd keeps (namespace "" for cluster-scoped ones).
func managedMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{managedLabel: managedValue}}
}

// apply writes obj with server-side apply as wcpd's field manager, forcing ownership: whatever a
// user changed in the fields wcpd sets is put back, and fields wcpd does not set are left alone.
func apply(ctx context.Context, c client.Client, obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return err
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: raw}
	u.SetGroupVersionKind(gvk)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}

// quotaResources maps the limits of a namespace's resource_spec that Kubernetes quotas express to
// their quota resource names; CPU and memory are handled apart (units).
var quotaResources = map[string]corev1.ResourceName{
	"pod_count":                     corev1.ResourcePods,
	"service_count":                 corev1.ResourceServices,
	"deployment_count":              "count/deployments.apps",
	"daemon_set_count":              "count/daemonsets.apps",
	"replica_set_count":             "count/replicasets.apps",
	"replication_controller_count":  corev1.ResourceReplicationControllers,
	"stateful_set_count":            "count/statefulsets.apps",
	"config_map_count":              corev1.ResourceConfigMaps,
	"secret_count":                  corev1.ResourceSecrets,
	"persistent_volume_claim_count": corev1.ResourcePersistentVolumeClaims,
	"job_count":                     "count/jobs.batch",
}

// cpuQuantity turns MHz into Kubernetes CPU at the resource model's speed of one vCPU
// (drs.DefaultCPUMHzPerVCPU): 1000 MHz is 500m.
func cpuQuantity(mhz int64) resource.Quantity {
	return *resource.NewMilliQuantity(mhz*1000/drs.DefaultCPUMHzPerVCPU, resource.DecimalSI)
}

// mibQuantity turns MiB into a byte quantity.
func mibQuantity(mib int64) resource.Quantity {
	return *resource.NewQuantity(mib<<20, resource.BinarySI)
}

// desiredQuota is the namespace's ResourceQuota, nil when it sets no limit Kubernetes enforces.
// classes maps each storage policy id to its storage class name.
func desiredQuota(rz platform.NamespaceRealisation, classes map[string]string) *corev1.ResourceQuota {
	hard := corev1.ResourceList{}
	for field, v := range rz.Quota {
		if name, ok := quotaResources[field]; ok {
			hard[name] = *resource.NewQuantity(v, resource.DecimalSI)
		}
	}
	if v, ok := rz.Quota["cpu_limit"]; ok {
		hard[corev1.ResourceLimitsCPU] = cpuQuantity(v)
	}
	if v, ok := rz.Quota["memory_limit"]; ok {
		hard[corev1.ResourceLimitsMemory] = mibQuantity(v)
	}
	if v, ok := rz.Quota["storage_request_limit"]; ok {
		hard[corev1.ResourceRequestsStorage] = mibQuantity(v)
	}
	for _, s := range rz.Storage {
		if s.LimitMiB != nil && classes[s.Policy] != "" {
			hard[corev1.ResourceName(classes[s.Policy]+".storageclass.storage.k8s.io/requests.storage")] = mibQuantity(*s.LimitMiB)
		}
	}
	if len(hard) == 0 {
		return nil
	}
	return &corev1.ResourceQuota{ObjectMeta: managedMeta(quotaName, rz.Name), Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

// desiredLimitRange carries the namespace's default container requests and limits, nil when none
// is set.
func desiredLimitRange(rz platform.NamespaceRealisation) *corev1.LimitRange {
	item := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{}, DefaultRequest: corev1.ResourceList{}}
	if v, ok := rz.Quota["cpu_limit_default"]; ok {
		item.Default[corev1.ResourceCPU] = cpuQuantity(v)
	}
	if v, ok := rz.Quota["memory_limit_default"]; ok {
		item.Default[corev1.ResourceMemory] = mibQuantity(v)
	}
	if v, ok := rz.Quota["cpu_request_default"]; ok {
		item.DefaultRequest[corev1.ResourceCPU] = cpuQuantity(v)
	}
	if v, ok := rz.Quota["memory_request_default"]; ok {
		item.DefaultRequest[corev1.ResourceMemory] = mibQuantity(v)
	}
	if len(item.Default) == 0 && len(item.DefaultRequest) == 0 {
		return nil
	}
	return &corev1.LimitRange{ObjectMeta: managedMeta(limitRangeName, rz.Name), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{item}}}
}

// accessRoles are the ClusterRoles each namespace role is bound to.
var accessRoles = map[string][]string{
	"VIEW":  {"view"},
	"EDIT":  {"edit"},
	"OWNER": {"edit", roleNamespaceOwner},
}

// desiredRoleBindings binds each access entry's subject to the ClusterRoles of its role.
func desiredRoleBindings(rz platform.NamespaceRealisation) []*rbacv1.RoleBinding {
	var out []*rbacv1.RoleBinding
	for _, a := range rz.Access {
		kind := rbacv1.UserKind
		if a.SubjectType == "GROUP" {
			kind = rbacv1.GroupKind
		}
		subject := kubeName(a.Subject, a.Domain)
		for _, role := range accessRoles[a.Role] {
			name := "wcpd:" + strings.TrimPrefix(role, "wcpd:") + ":" + strings.ToLower(kind) + ":" + strings.TrimPrefix(subject, "sso:")
			out = append(out, &rbacv1.RoleBinding{
				ObjectMeta: managedMeta(name, rz.Name),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: kind, Name: subject}},
			})
		}
	}
	return out
}

// desiredStorageClass is the storage class of a storage policy.
func desiredStorageClass(name, policyID string) *storagev1.StorageClass {
	reclaim := corev1.PersistentVolumeReclaimDelete
	binding := storagev1.VolumeBindingImmediate
	expand := true
	meta := managedMeta(name, "")
	meta.Annotations = map[string]string{storagePolicyKey: policyID}
	return &storagev1.StorageClass{
		ObjectMeta:           meta,
		Provisioner:          csiProvisioner,
		Parameters:           map[string]string{"storagePolicyID": policyID},
		ReclaimPolicy:        &reclaim,
		VolumeBindingMode:    &binding,
		AllowVolumeExpansion: &expand,
	}
}

// desiredVMClass is the VirtualMachineClass of a VM class: its hardware, its reservations as
// requests, and its config_spec exactly as vCenter stores it.
func desiredVMClass(namespace string, c platform.VMClassState) *vmopv1.VirtualMachineClass {
	out := &vmopv1.VirtualMachineClass{
		ObjectMeta: managedMeta(c.ID, namespace),
		Spec: vmopv1.VirtualMachineClassSpec{
			ControllerName: defaultClassController,
			Description:    c.Description,
			Hardware:       vmopv1.VirtualMachineClassHardware{Cpus: c.CPUCount, Memory: mibQuantity(c.MemoryMB)},
			ConfigSpec:     c.ConfigSpec,
		},
	}
	if c.CPUReservation != nil && *c.CPUReservation > 0 {
		out.Spec.Policies.Resources.Requests.Cpu = *resource.NewMilliQuantity(c.CPUCount*10**c.CPUReservation, resource.DecimalSI)
	}
	if c.MemoryReservation != nil && *c.MemoryReservation > 0 {
		out.Spec.Policies.Resources.Requests.Memory = mibQuantity(c.MemoryMB * *c.MemoryReservation / 100)
	}
	return out
}

// libraryImage is an OVF item of a content library associated with a namespace.
type libraryImage struct {
	LibraryID, LibraryName, ItemID, ItemName, ItemType string
}

// desiredImage is the VirtualMachineImage of a library item.
func desiredImage(namespace string, it libraryImage) *vmopv1.VirtualMachineImage {
	meta := managedMeta(vmop.ImageName(it.ItemID), namespace)
	meta.Annotations = map[string]string{libraryItemKey: it.ItemID}
	return &vmopv1.VirtualMachineImage{
		ObjectMeta: meta,
		Spec: vmopv1.VirtualMachineImageSpec{
			ProviderRef: &vmopv1common.LocalObjectRef{APIVersion: "imageregistry.vmware.com/v1alpha1", Kind: "ContentLibraryItem", Name: it.ItemID},
		},
	}
}

// namespaceMeta is the Kubernetes Namespace of a vSphere Namespace.
func namespaceMeta(name string) *corev1.Namespace {
	meta := managedMeta(name, "")
	meta.Labels[vsphereNamespaceKey] = name
	return &corev1.Namespace{ObjectMeta: meta}
}

// problems joins what prevents parts of a namespace from being realised.
func problems(list []string) string {
	sort.Strings(list)
	return strings.Join(list, "; ")
}
