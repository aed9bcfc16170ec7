package kube

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/wcpd/wcpd/internal/servertest"
)

// widgetService is the content of a custom Supervisor Service: a CRD, the Deployment of its
// operator (replicas of it) and, when withConfig, a ConfigMap.
func widgetService(replicas int, withConfig bool) string {
	s := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: widget-operator
spec:
  replicas: %d
  selector:
    matchLabels: {app: widget-operator}
  template:
    metadata:
      labels: {app: widget-operator}
    spec:
      containers:
      - name: operator
        image: registry.example/widget-operator:1.0
        resources:
          requests: {cpu: 250m, memory: 256Mi}
`, replicas)
	if withConfig {
		s += `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: widget-config
data:
  mode: fast
`
	}
	return s
}

// TestSupervisorServiceRuns: a custom Supervisor Service whose content is a CRD and a Deployment,
// installed on a Supervisor, has its CRD served and its operator's pods run as pod VMs, and is
// CONFIGURED only then; set to a version without the ConfigMap removes it and scales the
// operator; uninstalled, its objects, pods, pod VMs and namespace are gone.
func TestSupervisorServiceRuns(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	ctx := context.Background()
	const svcPath = "/api/vcenter/namespace-management/supervisor-services"
	untrusted := false
	register := func(method, path string, body map[string]any) {
		t.Helper()
		if r := env.Do(method, path, admin, body); r.Status/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}
	register("POST", svcPath, map[string]any{"custom_spec": map[string]any{"supervisor_service": "widgets.example.com",
		"display_name": "Widgets", "version_spec": map[string]any{"version": "1.0.0", "display_name": "Widgets 1.0.0",
			"content": base64.StdEncoding.EncodeToString([]byte(widgetService(1, true))), "trusted_provider": untrusted}}})
	register("POST", svcPath+"/widgets.example.com/versions", map[string]any{"custom_spec": map[string]any{
		"version": "2.0.0", "display_name": "Widgets 2.0.0",
		"content": base64.StdEncoding.EncodeToString([]byte(widgetService(2, false))), "trusted_provider": untrusted}})

	onCluster := "/api/vcenter/namespace-management/clusters/" + clusterA + "/supervisor-services"
	register("POST", onCluster, map[string]any{"supervisor_service": "widgets.example.com", "version": "1.0.0"})
	var install struct {
		ConfigStatus     string `json:"config_status"`
		CurrentVersion   string `json:"current_version"`
		ServiceNamespace string `json:"service_namespace"`
		Messages         []struct {
			DefaultMessage string `json:"default_message"`
		} `json:"messages"`
	}
	// configured waits for the install to be CONFIGURED at version.
	configured := func(version string) {
		t.Helper()
		eventually(t, "the install is CONFIGURED at "+version, func(ctx context.Context) (bool, error) {
			env.Settle(5 * time.Second)
			r := env.Do("GET", onCluster+"/widgets.example.com", admin, nil)
			if r.Status != 200 {
				return false, fmt.Errorf("install: %d %s", r.Status, r.Body)
			}
			r.JSON(t, &install)
			return install.ConfigStatus == "CONFIGURED" && install.CurrentVersion == version, nil
		})
	}
	configured("1.0.0")

	root := adminKube(t, env)
	dyn, err := dynamic.NewForConfig(root.config)
	if err != nil {
		t.Fatal(err)
	}
	ns := install.ServiceNamespace
	if ns == "" {
		t.Fatal("the install names no service namespace")
	}
	// The CRD is served: a Widget can be made.
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	if _, err := dyn.Resource(widgets).Namespace(ns).Create(ctx, widgetObject("w1"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("a Widget in %s: %v", ns, err)
	}
	// The operator runs as a pod VM.
	d, err := root.kube.AppsV1().Deployments(ns).Get(ctx, "widget-operator", metav1.GetOptions{})
	if err != nil || d.Status.ReadyReplicas != 1 {
		t.Fatalf("the operator after CONFIGURED: %v, %d ready", err, d.Status.ReadyReplicas)
	}
	vc := adminVim25(t, ctx, env)
	pods, err := root.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=widget-operator"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("operator pods: %v %d", err, len(pods.Items))
	}
	if _, ok := podVMIn(t, ctx, vc, ns, pods.Items[0].Name); !ok {
		t.Errorf("the operator's pod %s has no pod VM", pods.Items[0].Name)
	}
	if _, err := root.kube.CoreV1().ConfigMaps(ns).Get(ctx, "widget-config", metav1.GetOptions{}); err != nil {
		t.Errorf("the ConfigMap of 1.0.0: %v", err)
	}

	// Version 2.0.0: two operators, no ConfigMap.
	register("PUT", onCluster+"/widgets.example.com", map[string]any{"version": "2.0.0"})
	configured("2.0.0")
	if d, err := root.kube.AppsV1().Deployments(ns).Get(ctx, "widget-operator", metav1.GetOptions{}); err != nil || d.Status.ReadyReplicas != 2 {
		t.Errorf("the operator after 2.0.0: %v", err)
	}
	if _, err := root.kube.CoreV1().ConfigMaps(ns).Get(ctx, "widget-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap 2.0.0 dropped: %v", err)
	}

	// Uninstalled: all gone.
	if r := env.Do("DELETE", onCluster+"/widgets.example.com", admin, nil); r.Status != 204 {
		t.Fatalf("uninstall: %d %s", r.Status, r.Body)
	}
	eventually(t, "the service and everything it made are gone", func(ctx context.Context) (bool, error) {
		env.Settle(5 * time.Second)
		if r := env.Do("GET", onCluster+"/widgets.example.com", admin, nil); r.Status != 404 {
			return false, nil
		}
		_, crdErr := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1",
			Resource: "customresourcedefinitions"}).Get(ctx, "widgets.example.com", metav1.GetOptions{})
		_, nsErr := root.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		_, hasVM := podVMIn(t, ctx, vc, ns, pods.Items[0].Name)
		return apierrors.IsNotFound(crdErr) && apierrors.IsNotFound(nsErr) && !hasVM, nil
	})
}

// builtinInstall is the install of the Supervisor Service every Supervisor runs.
type builtinInstall struct {
	ConfigStatus     string `json:"config_status"`
	ServiceNamespace string `json:"service_namespace"`
	Messages         []struct {
		Severity string `json:"severity"`
	} `json:"messages"`
}

// builtinConfigured waits until the service every Supervisor runs is CONFIGURED on cluster A: its
// pod runs, so the Supervisor's pools hold all they will.
func builtinConfigured(t *testing.T, env *servertest.Env, admin string) builtinInstall {
	t.Helper()
	onCluster := "/api/vcenter/namespace-management/clusters/" + clusterA + "/supervisor-services/tkg.vsphere.vmware.com"
	var install builtinInstall
	eventually(t, "the TKG service is CONFIGURED", func(ctx context.Context) (bool, error) {
		env.Settle(10 * time.Second)
		r := env.Do("GET", onCluster, admin, nil)
		if r.Status == 200 {
			r.JSON(t, &install)
		}
		return install.ConfigStatus == "CONFIGURED", nil
	})
	return install
}

// TestBuiltinServiceRuns: the Supervisor Service every Supervisor runs is applied when it is
// installed, and its controller runs as a vSphere Pod.
func TestBuiltinServiceRuns(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	install := builtinConfigured(t, env, admin)
	if len(install.Messages) != 1 || install.Messages[0].Severity != "INFO" {
		t.Errorf("messages: %+v", install.Messages)
	}
	root := adminKube(t, env)
	d, err := root.kube.AppsV1().Deployments(install.ServiceNamespace).Get(context.Background(), "tkg-controller-manager", metav1.GetOptions{})
	if err != nil || d.Status.ReadyReplicas != 1 {
		t.Fatalf("the TKG controller: %v", err)
	}
}

// adminKube is the administrator's clients of the Supervisor on cluster A.
func adminKube(t *testing.T, env *servertest.Env) clients {
	t.Helper()
	info := login(t, env, servertest.Admin, servertest.AdminPassword)
	return userClients(t, supervisorOf(t, info, clusterA), info.SessionID)
}

func widgetObject(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name}, "spec": map[string]any{"size": 3}}}
}
