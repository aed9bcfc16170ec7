package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSelfServiceThroughKubectl: a DevOps user named in the self-service template creates a
// namespace with client-go (as `kubectl create namespace` does) and it is a vSphere Namespace with
// the template's settings and the user as OWNER; an outsider is refused with the reason; the owner
// deletes it the same way.
func TestSelfServiceThroughKubectl(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	env.AddUser("devops", devopsPW, "")
	env.AddUser("outsider", devopsPW, "")
	template := map[string]any{
		"template":      "devops-template",
		"resource_spec": map[string]any{"cpu_limit": 8000, "memory_limit": 16384},
		"storage_specs": []any{map[string]any{"policy": policyGold}},
		"permissions":   []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local"}},
	}
	const ss = "/api/vcenter/namespaces/namespace-self-service/" + clusterA
	if r := env.Do("POST", ss+"?action=activateWithTemplate", admin, template); r.Status != 204 {
		t.Fatalf("activateWithTemplate: %d %s", r.Status, r.Body)
	}
	for i := 0; ; i++ {
		var st struct{ Status string }
		env.Do("GET", ss, admin, nil).JSON(t, &st)
		if st.Status == "RUNNING" {
			break
		}
		if i == 10 {
			t.Fatalf("self-service is %s, not RUNNING", st.Status)
		}
		env.Settle(10 * time.Second)
	}

	devopsLogin := login(t, env, "devops@vsphere.local", devopsPW)
	devops := userClients(t, supervisorOf(t, devopsLogin, clusterA), devopsLogin.SessionID)
	ctx := context.Background()
	if _, err := devops.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "devops-ns"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the DevOps user's namespace create: %v", err)
	}
	var got struct {
		SelfService  bool `json:"self_service_namespace"`
		ResourceSpec struct {
			CPULimit    int64 `json:"cpu_limit"`
			MemoryLimit int64 `json:"memory_limit"`
		} `json:"resource_spec"`
		AccessList []struct{ Subject, Role string } `json:"access_list"`
	}
	r := env.Do("GET", "/api/vcenter/namespaces/instances/devops-ns", admin, nil)
	r.JSON(t, &got)
	if !got.SelfService || got.ResourceSpec.CPULimit != 8000 || got.ResourceSpec.MemoryLimit != 16384 ||
		len(got.AccessList) != 1 || got.AccessList[0].Subject != "devops" || got.AccessList[0].Role != "OWNER" {
		t.Fatalf("the vSphere Namespace made through kubectl: %s", r.Body)
	}
	eventually(t, "the owner may work in devops-ns", func(ctx context.Context) (bool, error) {
		_, err := devops.kube.CoreV1().ConfigMaps("devops-ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), err
	})

	outsiderLogin := login(t, env, "outsider@vsphere.local", devopsPW)
	outsider := userClients(t, supervisorOf(t, outsiderLogin, clusterA), outsiderLogin.SessionID)
	_, err := outsider.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outsider-ns"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "vCenter refused creating the vSphere Namespace outsider-ns") {
		t.Fatalf("an outsider's namespace create: %v, want Forbidden with vCenter's reason", err)
	}
	if r := env.Do("GET", "/api/vcenter/namespaces/instances/outsider-ns", admin, nil); r.Status != 404 {
		t.Fatalf("the refused namespace exists in vCenter: %d %s", r.Status, r.Body)
	}
	if err := outsider.kube.CoreV1().Namespaces().Delete(ctx, "devops-ns", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("an outsider deleting devops-ns: %v, want Forbidden", err)
	}

	if err := devops.kube.CoreV1().Namespaces().Delete(ctx, "devops-ns", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("the owner's namespace delete: %v", err)
	}
	eventually(t, "devops-ns is gone from vCenter and Kubernetes", func(ctx context.Context) (bool, error) {
		env.Settle(10 * time.Second)
		gone := env.Do("GET", "/api/vcenter/namespaces/instances/devops-ns", admin, nil).Status == 404
		_, err := devops.kube.CoreV1().Namespaces().Get(ctx, "devops-ns", metav1.GetOptions{})
		return gone && (apierrors.IsNotFound(err) || apierrors.IsForbidden(err)), nil
	})
}
