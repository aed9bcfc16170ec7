package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1a3 "github.com/vmware-tanzu/vm-operator/api/v1alpha3"

	"github.com/wcpd/wcpd/internal/servertest"
)

const devopsPW = "Devops-pw-1!"

// TestVSphereNamespacesInKubernetes is the main scenario: namespaces made through the
// vCenter API with limits, storage, access and VM classes appear in the Supervisor's Kubernetes API
// as a DevOps user with EDIT sees them through client-go, and RBAC follows the access list.
func TestVSphereNamespacesInKubernetes(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	env.AddUser("devops", devopsPW, "")

	vgpu, err := os.ReadFile("../../internal/vmclasses/testdata/seed004-vgpu.json")
	if err != nil {
		t.Fatal(err)
	}
	vgpuClass := map[string]any{"id": "vgpu-class", "cpu_count": 2, "memory_MB": 4096, "config_spec": json.RawMessage(vgpu)}
	if r := env.Do("POST", "/api/vcenter/namespace-management/virtual-machine-classes", admin, vgpuClass); r.Status != 204 && r.Status != 201 && r.Status != 200 {
		t.Fatalf("creating the vGPU class: %d %s", r.Status, r.Body)
	}
	storageLimit := int64(10240)
	team := map[string]any{
		"cluster": clusterA, "namespace": "team-a",
		"resource_spec": map[string]any{"cpu_limit": 4000, "memory_limit": 8192, "pod_count": 20,
			"config_map_count": 30, "cpu_request_default": 500, "memory_limit_default": 1024},
		"storage_specs": []any{map[string]any{"policy": policyGold, "limit": storageLimit}},
		"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "EDIT"}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small", "vgpu-class"},
			"content_libraries": []any{libraryVM}},
	}
	for _, body := range []map[string]any{team, {"cluster": clusterA, "namespace": "team-b"}} {
		if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, body); r.Status != 204 {
			t.Fatalf("creating %s: %d %s", body["namespace"], r.Status, r.Body)
		}
	}

	info := login(t, env, "devops@vsphere.local", devopsPW)
	if info.User != "sso:devops@vsphere.local" {
		t.Fatalf("login user %q, want sso:devops@vsphere.local", info.User)
	}
	sup := supervisorOf(t, info, clusterA)
	if !sup.Ready || len(sup.Namespaces) != 1 || sup.Namespaces[0] != "team-a" {
		t.Fatalf("the DevOps user's Supervisor: %+v (want ready, namespaces [team-a])", sup)
	}
	devops := userClients(t, sup, info.SessionID)

	t.Run("quota, limits and storage class", func(t *testing.T) {
		var quota *corev1.ResourceQuota
		eventually(t, "the ResourceQuota of team-a exists", func(ctx context.Context) (bool, error) {
			q, err := devops.kube.CoreV1().ResourceQuotas("team-a").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
			quota = q
			return err == nil, err
		})
		want := map[corev1.ResourceName]string{
			"limits.cpu": "2", "limits.memory": "8Gi", "pods": "20", "configmaps": "30",
			"wcpd-gold.storageclass.storage.k8s.io/requests.storage": "10Gi",
		}
		for name, v := range want {
			got := quota.Spec.Hard[name]
			if got.Cmp(resource.MustParse(v)) != 0 {
				t.Errorf("quota %s = %s, want %s (hard: %v)", name, got.String(), v, quota.Spec.Hard)
			}
		}
		lr, err := devops.kube.CoreV1().LimitRanges("team-a").Get(context.Background(), "vsphere-namespace-limits", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("LimitRange: %v", err)
		}
		item := lr.Spec.Limits[0]
		if item.DefaultRequest.Cpu().String() != "250m" || item.Default.Memory().String() != "1Gi" {
			t.Errorf("LimitRange defaults: request %v, limit %v; want cpu 250m, memory 1Gi", item.DefaultRequest, item.Default)
		}
		sc, err := devops.kube.StorageV1().StorageClasses().Get(context.Background(), "wcpd-gold", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the DevOps user cannot read storage class wcpd-gold: %v", err)
		}
		if sc.Parameters["storagePolicyID"] != policyGold {
			t.Errorf("storage class parameters %v, want storagePolicyID %s", sc.Parameters, policyGold)
		}
	})

	t.Run("role binding and RBAC", func(t *testing.T) {
		eventually(t, "devops may create ConfigMaps in team-a", func(ctx context.Context) (bool, error) {
			_, err := devops.kube.CoreV1().ConfigMaps("team-a").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), err
		})
		rbs, err := adminClients(t, env).kube.RbacV1().RoleBindings("team-a").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, rb := range rbs.Items {
			if rb.RoleRef.Name == "edit" && len(rb.Subjects) == 1 && rb.Subjects[0].Name == "sso:devops@vsphere.local" && rb.Subjects[0].Kind == "User" {
				found = true
			}
		}
		if !found {
			t.Errorf("no RoleBinding of edit to sso:devops@vsphere.local in team-a: %+v", rbs.Items)
		}
		_, err = devops.kube.CoreV1().ConfigMaps("team-b").Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "settings"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("creating a ConfigMap in team-b, where devops has no role: %v, want Forbidden", err)
		}
		if _, err := devops.kube.CoreV1().Secrets("team-b").List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("listing Secrets in team-b: %v, want Forbidden", err)
		}
	})

	t.Run("VM classes and images", func(t *testing.T) {
		var class vmopv1a3.VirtualMachineClass
		eventually(t, "VirtualMachineClass vgpu-class in team-a (v1alpha3)", func(ctx context.Context) (bool, error) {
			err := devops.ctrl.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "vgpu-class"}, &class)
			return err == nil, err
		})
		var wantSpec bytes.Buffer
		if err := json.Compact(&wantSpec, vgpu); err != nil {
			t.Fatal(err)
		}
		var gotSpec bytes.Buffer
		if err := json.Compact(&gotSpec, class.Spec.ConfigSpec); err != nil {
			t.Fatalf("spec.configSpec is not JSON: %v: %s", err, class.Spec.ConfigSpec)
		}
		if !jsonEqual(t, gotSpec.Bytes(), wantSpec.Bytes()) {
			t.Errorf("spec.configSpec:\n got %s\nwant %s", gotSpec.Bytes(), wantSpec.Bytes())
		}
		if class.Spec.ControllerName != "vmoperator.vmware.com/vsphere" || class.Spec.Hardware.Cpus != 2 {
			t.Errorf("class spec: controller %q, cpus %d", class.Spec.ControllerName, class.Spec.Hardware.Cpus)
		}
		var classes vmopv1a3.VirtualMachineClassList
		if err := devops.ctrl.List(context.Background(), &classes, client.InNamespace("team-a")); err != nil {
			t.Fatal(err)
		}
		if len(classes.Items) != 2 {
			t.Errorf("team-a has %d VM classes, want 2 (best-effort-small, vgpu-class)", len(classes.Items))
		}
		var images vmopv1a3.VirtualMachineImageList
		eventually(t, "the images of library wcpd-vm-images in team-a", func(ctx context.Context) (bool, error) {
			err := devops.ctrl.List(ctx, &images, client.InNamespace("team-a"))
			return err == nil && len(images.Items) == 3, err
		})
		for _, img := range images.Items {
			if !strings.HasPrefix(img.Name, "vmi-") || img.Status.Name == "" {
				t.Errorf("image %s: status name %q", img.Name, img.Status.Name)
			}
		}
	})

	t.Run("drift is repaired", func(t *testing.T) {
		cfg := adminClients(t, env)
		ctx := context.Background()
		rbs, err := cfg.kube.RbacV1().RoleBindings("team-a").List(ctx, metav1.ListOptions{LabelSelector: "wcpd.vmware.com/managed-by=wcpd"})
		if err != nil || len(rbs.Items) == 0 {
			t.Fatalf("managed RoleBindings: %v %v", rbs, err)
		}
		name := rbs.Items[0].Name
		if err := cfg.kube.RbacV1().RoleBindings("team-a").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the deleted RoleBinding is back", func(ctx context.Context) (bool, error) {
			_, err := cfg.kube.RbacV1().RoleBindings("team-a").Get(ctx, name, metav1.GetOptions{})
			return err == nil, nil
		})
		q, err := cfg.kube.CoreV1().ResourceQuotas("team-a").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("1000")
		if _, err := cfg.kube.CoreV1().ResourceQuotas("team-a").Update(ctx, q, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the edited quota is put back to 20 pods", func(ctx context.Context) (bool, error) {
			q, err := cfg.kube.CoreV1().ResourceQuotas("team-a").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			pods := q.Spec.Hard[corev1.ResourcePods]
			return pods.Value() == 20, nil
		})
		// A ConfigMap the user made is never touched.
		if _, err := devops.kube.CoreV1().ConfigMaps("team-a").Get(ctx, "settings", metav1.GetOptions{}); err != nil {
			t.Errorf("the user's own ConfigMap: %v", err)
		}
	})

	t.Run("changes through the vCenter API follow", func(t *testing.T) {
		ctx := context.Background()
		patch := map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"vgpu-class"}, "content_libraries": []any{libraryVM}},
			"resource_spec": map[string]any{"pod_count": 5}}
		if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/team-a", admin, patch); r.Status != 204 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		eventually(t, "best-effort-small leaves team-a and the quota has 5 pods", func(ctx context.Context) (bool, error) {
			var c vmopv1a3.VirtualMachineClass
			err := devops.ctrl.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "best-effort-small"}, &c)
			q, qerr := devops.kube.CoreV1().ResourceQuotas("team-a").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
			if qerr != nil {
				return false, qerr
			}
			pods := q.Spec.Hard[corev1.ResourcePods]
			return apierrors.IsNotFound(err) && pods.Value() == 5, nil
		})
		// Access removed: the binding goes, and so does the user's access.
		if r := env.Do("DELETE", "/api/vcenter/namespaces/instances/team-a/access/vsphere.local/devops?type=USER", admin, nil); r.Status != 204 {
			t.Fatalf("access delete: %d %s", r.Status, r.Body)
		}
		eventually(t, "devops loses access to team-a", func(ctx context.Context) (bool, error) {
			_, err := devops.kube.CoreV1().ConfigMaps("team-a").List(ctx, metav1.ListOptions{})
			return apierrors.IsForbidden(err), nil
		})
		_ = ctx
	})

	t.Run("what cannot be realised is reported on the namespace", func(t *testing.T) {
		silver := "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c02"
		body := map[string]any{"cluster": clusterA, "namespace": "team-c", "storage_specs": []any{map[string]any{"policy": silver}}}
		if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, body); r.Status != 204 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		env.AdminGovc("storage.policy.rm", "wcpd-silver")
		if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/team-c", admin, map[string]any{"description": "after the policy went"}); r.Status != 204 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		eventually(t, "team-c's messages name the missing storage policy", func(ctx context.Context) (bool, error) {
			r := env.Do("GET", "/api/vcenter/namespaces/instances/team-c", admin, nil)
			return strings.Contains(string(r.Body), "storage policy "+silver+" does not exist"), nil
		})
	})

	t.Run("tokens", func(t *testing.T) {
		forged := userClients(t, sup, "0123456789abcdef0123456789abcdef")
		if _, err := forged.kube.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
			t.Errorf("a forged token: %v, want Unauthorized", err)
		}
		if r := env.Do("DELETE", "/api/session", info.SessionID, nil); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		// kube-apiserver remembers a token for up to 10 s (its fixed token cache).
		eventually(t, "the logged-out token is refused", func(ctx context.Context) (bool, error) {
			_, err := devops.kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
			return apierrors.IsUnauthorized(err), nil
		})
	})

	t.Run("the Supervisor reports its API server", func(t *testing.T) {
		var sup struct {
			KubernetesStatus string `json:"kubernetes_status"`
			Conditions       []struct {
				Type, Status string
			} `json:"conditions"`
		}
		env.Do("GET", "/api/vcenter/namespace-management/clusters/"+clusterA, admin, nil).JSON(t, &sup)
		ok := false
		for _, c := range sup.Conditions {
			ok = ok || (c.Type == "KubernetesAPIServerReady" && c.Status == "TRUE")
		}
		if sup.KubernetesStatus != "READY" || !ok {
			t.Errorf("Supervisor: %+v, want kubernetes_status READY and KubernetesAPIServerReady TRUE", sup)
		}
	})

	t.Run("deleting a namespace deletes its Kubernetes Namespace first", func(t *testing.T) {
		cfg := adminClients(t, env)
		if r := env.Do("DELETE", "/api/vcenter/namespaces/instances/team-b", admin, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		eventually(t, "team-b is gone from Kubernetes", func(ctx context.Context) (bool, error) {
			_, err := cfg.kube.CoreV1().Namespaces().Get(ctx, "team-b", metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		eventually(t, "team-b is gone from vCenter", func(ctx context.Context) (bool, error) {
			env.Settle(10 * time.Second)
			return env.Do("GET", "/api/vcenter/namespaces/instances/team-b", admin, nil).Status == 404, nil
		})
	})
}

// adminClients logs the administrator in to the Supervisor.
func adminClients(t *testing.T, env *servertest.Env) clients {
	info := login(t, env, servertest.Admin, servertest.AdminPassword)
	return userClients(t, supervisorOf(t, info, clusterA), info.SessionID)
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
