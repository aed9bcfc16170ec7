package kube

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1a3 "github.com/vmware-tanzu/vm-operator/api/v1alpha3"
	vmopv1a3common "github.com/vmware-tanzu/vm-operator/api/v1alpha3/common"
)

// TestVirtualMachineBecomesAVM is the VM Service slice built so far (issue 12): a DevOps user with
// EDIT applies seed 004's v1alpha3 VirtualMachine with the vGPU class and cloud-init, and the VM is
// deployed from the image's library item into the namespace's pool with the class's CPU, memory,
// vGPU device and the user data; power follows spec.powerState; a class that is not bound is said
// in a condition; deleting the VirtualMachine deletes the VM.
func TestVirtualMachineBecomesAVM(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	env.AddUser("devops", devopsPW, "")
	vgpu, err := os.ReadFile("../../internal/vmclasses/testdata/seed004-vgpu.json")
	if err != nil {
		t.Fatal(err)
	}
	class := map[string]any{"id": "vgpu-class", "cpu_count": 2, "memory_MB": 4096, "config_spec": json.RawMessage(vgpu)}
	if r := env.Do("POST", "/api/vcenter/namespace-management/virtual-machine-classes", admin, class); r.Status/100 != 2 {
		t.Fatalf("class: %d %s", r.Status, r.Body)
	}
	ns := map[string]any{"cluster": clusterA, "namespace": "vms",
		"storage_specs":   []any{map[string]any{"policy": policyGold}},
		"access_list":     []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "EDIT"}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"vgpu-class"}, "content_libraries": []any{libraryVM}}}
	if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, ns); r.Status != 204 {
		t.Fatalf("namespace: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second) // the namespace's resource pool
	info := login(t, env, "devops@vsphere.local", devopsPW)
	devops := userClients(t, supervisorOf(t, info, clusterA), info.SessionID)
	ctx := context.Background()

	var image string
	eventually(t, "the photon image is in namespace vms", func(ctx context.Context) (bool, error) {
		var images vmopv1a3.VirtualMachineImageList
		if err := devops.ctrl.List(ctx, &images, client.InNamespace("vms")); err != nil {
			return false, err
		}
		for _, img := range images.Items {
			if img.Status.Name == "photon-5.0-x86_64" {
				image = img.Name
			}
		}
		return image != "", nil
	})
	userData := "#cloud-config\nhostname: vm-one\n"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vm-one-cloud-init", Namespace: "vms"}, StringData: map[string]string{"user-data": userData}}
	eventually(t, "devops may create Secrets in vms", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Create(ctx, secret)
		return err == nil || apierrors.IsAlreadyExists(err), err
	})
	vm := &vmopv1a3.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Name: "vm-one", Namespace: "vms", Labels: map[string]string{"app": "web"}},
		Spec: vmopv1a3.VirtualMachineSpec{
			ClassName: "vgpu-class", ImageName: image, StorageClass: "wcpd-gold",
			PowerState: vmopv1a3.VirtualMachinePowerStateOn,
			Bootstrap: &vmopv1a3.VirtualMachineBootstrapSpec{CloudInit: &vmopv1a3.VirtualMachineBootstrapCloudInitSpec{
				RawCloudConfig: &vmopv1a3common.SecretKeySelector{Name: secret.Name, Key: "user-data"}}},
		},
	}
	if err := devops.ctrl.Create(ctx, vm); err != nil {
		t.Fatalf("creating the VirtualMachine: %v", err)
	}
	eventually(t, "the VirtualMachine reports a powered-on VM", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm)
		return err == nil && vm.Status.UniqueID != "" && vm.Status.PowerState == vmopv1a3.VirtualMachinePowerStateOn, err
	})
	if vm.Status.BiosUUID == "" || vm.Status.InstanceUUID == "" || !meta.IsStatusConditionTrue(vm.Status.Conditions, "VirtualMachineCreated") {
		t.Errorf("status: %+v", vm.Status)
	}

	vc := adminVim25(t, ctx, env)
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vm.Status.UniqueID}
	var m mo.VirtualMachine
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, ref, []string{"config", "resourcePool", "runtime.powerState"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.Hardware.NumCPU != 2 || m.Config.Hardware.MemoryMB != 4096 {
		t.Errorf("hardware: %d CPUs, %d MB; want the class's 2 and 4096", m.Config.Hardware.NumCPU, m.Config.Hardware.MemoryMB)
	}
	vgpuFound := false
	for _, d := range m.Config.Hardware.Device {
		if pci, ok := d.(*types.VirtualPCIPassthrough); ok {
			if b, ok := pci.Backing.(*types.VirtualPCIPassthroughVmiopBackingInfo); ok && b.Vgpu == "my-vgpu-profile" {
				vgpuFound = true
			}
		}
	}
	if !vgpuFound {
		t.Errorf("the VM has no vGPU device of profile my-vgpu-profile")
	}
	extra := map[string]string{}
	for _, o := range m.Config.ExtraConfig {
		if v := o.GetOptionValue(); v != nil {
			extra[v.Key], _ = v.Value.(string)
		}
	}
	if extra["guestinfo.userdata"] != base64.StdEncoding.EncodeToString([]byte(userData)) || extra["guestinfo.userdata.encoding"] != "base64" {
		t.Errorf("cloud-init user data not in guestinfo: %v", extra)
	}
	var pool mo.ResourcePool
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, *m.ResourcePool, []string{"name"}, &pool); err != nil || pool.Name != "vms" {
		t.Errorf("the VM is in pool %q (%v), want the namespace's pool vms", pool.Name, err)
	}

	// An address from the workload network once powered on, and a load-balanced service with an
	// external address from the load balancer's range.
	eventually(t, "vm-one has an address of the workload network", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm)
		return err == nil && vm.Status.Network != nil && strings.HasPrefix(vm.Status.Network.PrimaryIP4, "10.30.1."), err
	})
	vmIP := vm.Status.Network.PrimaryIP4
	web := &vmopv1a3.VirtualMachineService{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineServiceSpec{Type: vmopv1a3.VirtualMachineServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "web"},
			Ports:    []vmopv1a3.VirtualMachineServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: 8080}}}}
	if err := devops.ctrl.Create(ctx, web); err != nil {
		t.Fatalf("creating the VirtualMachineService: %v", err)
	}
	eventually(t, "the service has an external address and the VM behind it", func(ctx context.Context) (bool, error) {
		if err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(web), web); err != nil {
			return false, err
		}
		var svc corev1.Service
		var ep corev1.Endpoints
		if err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(web), &svc); err != nil {
			return false, err
		}
		if err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(web), &ep); err != nil {
			return false, err
		}
		in := web.Status.LoadBalancer.Ingress
		return len(in) == 1 && strings.HasPrefix(in[0].IP, "10.40.1.") && svc.Spec.Type == corev1.ServiceTypeLoadBalancer &&
			len(svc.Status.LoadBalancer.Ingress) == 1 && svc.Status.LoadBalancer.Ingress[0].IP == in[0].IP &&
			len(ep.Subsets) == 1 && len(ep.Subsets[0].Addresses) == 1 && ep.Subsets[0].Addresses[0].IP == vmIP && ep.Subsets[0].Ports[0].Port == 8080, nil
	})
	if err := devops.ctrl.Delete(ctx, web); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Service goes with the VirtualMachineService", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(web), &corev1.Service{})
		return apierrors.IsNotFound(err), nil
	})

	vm.Spec.PowerState = vmopv1a3.VirtualMachinePowerStateOff
	if err := devops.ctrl.Update(ctx, vm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the VM is powered off", func(ctx context.Context) (bool, error) {
		state, err := object.NewVirtualMachine(vc, ref).PowerState(ctx)
		return state == types.VirtualMachinePowerStatePoweredOff, err
	})

	// Publishing the VM to the namespace's writable library makes a new image of it.
	if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/vms", admin, map[string]any{
		"content_libraries": []any{map[string]any{"content_library": libraryVM, "writable": true}}}); r.Status != 204 {
		t.Fatalf("making the library writable: %d %s", r.Status, r.Body)
	}
	pub := &vmopv1a3.VirtualMachinePublishRequest{ObjectMeta: metav1.ObjectMeta{Name: "vm-one", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachinePublishRequestSpec{Target: vmopv1a3.VirtualMachinePublishRequestTarget{
			Item: vmopv1a3.VirtualMachinePublishRequestTargetItem{Name: "vm-one-golden"}}}}
	eventually(t, "the publish request is accepted", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Create(ctx, pub)
		return err == nil || apierrors.IsAlreadyExists(err), err
	})
	eventually(t, "vm-one is published and its image is in the namespace", func(ctx context.Context) (bool, error) {
		if err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(pub), pub); err != nil || !pub.Status.Ready {
			return false, err
		}
		var img vmopv1a3.VirtualMachineImage
		err := devops.ctrl.Get(ctx, client.ObjectKey{Namespace: "vms", Name: pub.Status.ImageName}, &img)
		return err == nil && img.Status.Name == "vm-one-golden", nil
	})

	// A guaranteed class reserves the VM's memory, and the live resource analysis shows it.
	if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/vms", admin, map[string]any{"vm_service_spec": map[string]any{
		"vm_classes": []any{"vgpu-class", "guaranteed-small"}, "content_libraries": []any{libraryVM}}}); r.Status != 204 {
		t.Fatalf("adding guaranteed-small: %d %s", r.Status, r.Body)
	}
	guaranteed := &vmopv1a3.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm-guaranteed", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineSpec{ClassName: "guaranteed-small", ImageName: image, PowerState: vmopv1a3.VirtualMachinePowerStateOn}}
	eventually(t, "a VirtualMachine of guaranteed-small is admitted", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Create(ctx, guaranteed)
		return err == nil || apierrors.IsAlreadyExists(err), err
	})
	eventually(t, "the live analysis shows vm-guaranteed's memory reservation", func(ctx context.Context) (bool, error) {
		r := env.Do("GET", "/api/wcpd/clusters/"+clusterA+"/resources", admin, nil)
		var node struct {
			Name             string            `json:"name"`
			MemoryReservedMB int64             `json:"memory_reserved_mb"`
			Children         []json.RawMessage `json:"children"`
		}
		var find func(raw []byte) bool
		find = func(raw []byte) bool {
			var n = node
			if json.Unmarshal(raw, &n) != nil {
				return false
			}
			if n.Name == "vm-guaranteed" {
				return n.MemoryReservedMB == 4096
			}
			for _, c := range n.Children {
				if find(c) {
					return true
				}
			}
			return false
		}
		var res struct {
			Children []json.RawMessage `json:"children"`
		}
		if err := json.Unmarshal(r.Body, &res); err != nil {
			return false, err
		}
		for _, c := range res.Children {
			if find(c) {
				return true, nil
			}
		}
		return false, nil
	})
	if err := devops.ctrl.Delete(ctx, guaranteed); err != nil {
		t.Fatal(err)
	}

	// A resource policy: a child pool with its reservation and limit, a folder, and the VMs that
	// name it inside them.
	admin8s := adminClients(t, env)
	policy := &vmopv1a3.VirtualMachineSetResourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: "tier", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineSetResourcePolicySpec{Folder: "tier-folder", ResourcePool: vmopv1a3.ResourcePoolSpec{Name: "tier-pool",
			Reservations: vmopv1a3.VirtualMachineResourceSpec{Memory: resource.MustParse("2Gi")},
			Limits:       vmopv1a3.VirtualMachineResourceSpec{Cpu: resource.MustParse("2")}}}}
	if err := admin8s.ctrl.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the policy has its pool", func(ctx context.Context) (bool, error) {
		err := admin8s.ctrl.Get(ctx, client.ObjectKeyFromObject(policy), policy)
		return err == nil && len(policy.Status.ResourcePools) == 1, err
	})
	poolRef := types.ManagedObjectReference{Type: "ResourcePool", Value: policy.Status.ResourcePools[0].ChildResourcePoolMoID}
	var tierPool mo.ResourcePool
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, poolRef, []string{"name", "config", "parent"}, &tierPool); err != nil {
		t.Fatal(err)
	}
	if tierPool.Name != "tier-pool" || *tierPool.Config.MemoryAllocation.Reservation != 2048 || *tierPool.Config.CpuAllocation.Limit != 4000 {
		t.Errorf("the policy's pool: %s, memory reservation %d MB, CPU limit %d MHz; want tier-pool, 2048, 4000",
			tierPool.Name, *tierPool.Config.MemoryAllocation.Reservation, *tierPool.Config.CpuAllocation.Limit)
	}
	member := &vmopv1a3.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm-tier", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineSpec{ClassName: "vgpu-class", ImageName: image, PowerState: vmopv1a3.VirtualMachinePowerStateOff,
			Reserved: &vmopv1a3.VirtualMachineReservedSpec{ResourcePolicyName: "tier"}}}
	if err := admin8s.ctrl.Create(ctx, member); err != nil {
		t.Fatal(err)
	}
	eventually(t, "vm-tier is in the policy's pool", func(ctx context.Context) (bool, error) {
		if err := admin8s.ctrl.Get(ctx, client.ObjectKeyFromObject(member), member); err != nil || member.Status.UniqueID == "" {
			return false, err
		}
		var m mo.VirtualMachine
		err := property.DefaultCollector(vc).RetrieveOne(ctx, types.ManagedObjectReference{Type: "VirtualMachine", Value: member.Status.UniqueID}, []string{"resourcePool"}, &m)
		return err == nil && m.ResourcePool != nil && *m.ResourcePool == poolRef, err
	})
	for _, o := range []client.Object{member, policy} {
		if err := admin8s.ctrl.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the policy's pool goes with it", func(ctx context.Context) (bool, error) {
		err := admin8s.ctrl.Get(ctx, client.ObjectKeyFromObject(policy), policy)
		var gone mo.ResourcePool
		perr := property.DefaultCollector(vc).RetrieveOne(ctx, poolRef, []string{"name"}, &gone)
		return apierrors.IsNotFound(err) && perr != nil, nil
	})

	// Refused at admission, with the field and the reason, and nothing made.
	for _, tc := range []struct {
		name string
		spec vmopv1a3.VirtualMachineSpec
		want string
	}{
		{"vm-unbound", vmopv1a3.VirtualMachineSpec{ClassName: "best-effort-large", ImageName: image}, `spec.className: VM class "best-effort-large" is not available in namespace vms`},
		{"vm-no-image", vmopv1a3.VirtualMachineSpec{ClassName: "vgpu-class", ImageName: "vmi-0123456789abcdef0"}, `spec.image: VirtualMachineImage "vmi-0123456789abcdef0" is not available`},
		{"vm-other-storage", vmopv1a3.VirtualMachineSpec{ClassName: "vgpu-class", ImageName: image, StorageClass: "wcpd-silver"}, `spec.storageClass: storage class "wcpd-silver" is not one of namespace vms`},
	} {
		err := devops.ctrl.Create(ctx, &vmopv1a3.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: "vms"}, Spec: tc.spec})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal saying %q", tc.name, err, tc.want)
		}
	}
	// Over the namespace's memory limit: 3 VMs of 4096 MiB do not fit in 10240 MiB.
	if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/vms", admin, map[string]any{"resource_spec": map[string]any{"memory_limit": 10240}}); r.Status != 204 {
		t.Fatalf("limit: %d %s", r.Status, r.Body)
	}
	second := &vmopv1a3.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm-two", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineSpec{ClassName: "vgpu-class", ImageName: image, PowerState: vmopv1a3.VirtualMachinePowerStateOff}}
	if err := devops.ctrl.Create(ctx, second); err != nil {
		t.Fatalf("a second VM within the limit: %v", err)
	}
	third := &vmopv1a3.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm-three", Namespace: "vms"},
		Spec: vmopv1a3.VirtualMachineSpec{ClassName: "vgpu-class", ImageName: image}}
	if err := devops.ctrl.Create(ctx, third); err == nil || !strings.Contains(err.Error(), "over the namespace's memory limit of 10240 MiB") {
		t.Errorf("a third VM over the memory limit: %v", err)
	}
	// The class lists the VMs that use it, and cannot go while they do.
	eventually(t, "vgpu-class lists its VMs", func(ctx context.Context) (bool, error) {
		var info struct {
			VMs []string `json:"vms"`
		}
		env.Do("GET", "/api/vcenter/namespace-management/virtual-machine-classes/vgpu-class", admin, nil).JSON(t, &info)
		return len(info.VMs) == 2, nil
	})
	if r := env.Do("DELETE", "/api/vcenter/namespace-management/virtual-machine-classes/vgpu-class", admin, nil); r.Status/100 != 2 {
		t.Fatalf("delete class: %d %s", r.Status, r.Body)
	}
	var classInfo struct {
		ConfigStatus string `json:"config_status"`
	}
	env.Do("GET", "/api/vcenter/namespace-management/virtual-machine-classes/vgpu-class", admin, nil).JSON(t, &classInfo)
	if classInfo.ConfigStatus != "REMOVING" {
		t.Errorf("a class in use by VirtualMachines after delete: %q, want REMOVING", classInfo.ConfigStatus)
	}
	unbound := second
	for _, o := range []client.Object{vm, unbound} {
		if err := devops.ctrl.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the VirtualMachines and the VM are gone", func(ctx context.Context) (bool, error) {
		err := devops.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), &vmopv1a3.VirtualMachine{})
		var gone mo.VirtualMachine
		perr := property.DefaultCollector(vc).RetrieveOne(ctx, ref, []string{"name"}, &gone)
		return apierrors.IsNotFound(err) && perr != nil, nil
	})
}
