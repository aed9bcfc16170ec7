package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/spherelet"
)

// podsNamespace makes the vSphere Namespace "pods" on cluster A, with EDIT for devops and the
// resource_spec given (nil for none), and returns devops's and the administrator's clients once
// its resource pool exists.
func podsNamespace(t *testing.T, env *servertest.Env, admin string, resourceSpec map[string]any) (devops, root clients) {
	t.Helper()
	env.AddUser("devops", devopsPW, "")
	ns := map[string]any{"cluster": clusterA, "namespace": "pods",
		"storage_specs": []any{map[string]any{"policy": policyGold}},
		"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "EDIT"}}}
	if resourceSpec != nil {
		ns["resource_spec"] = resourceSpec
	}
	if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, ns); r.Status != 204 {
		t.Fatalf("namespace: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second) // the namespace's resource pool
	info := login(t, env, "devops@vsphere.local", devopsPW)
	devops = userClients(t, supervisorOf(t, info, clusterA), info.SessionID)
	rootInfo := login(t, env, servertest.Admin, servertest.AdminPassword)
	root = userClients(t, supervisorOf(t, rootInfo, clusterA), rootInfo.SessionID)
	return devops, root
}

func container(name string, req, lim corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.example/web:1.0",
		Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}
}

func resources(cpu, memory string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		l[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	return l
}

// podVM is the VM of a pod of namespace "pods" as govmomi reads it.
func podVM(t *testing.T, ctx context.Context, vc *vim25.Client, name string) (mo.VirtualMachine, bool) {
	t.Helper()
	return podVMIn(t, ctx, vc, "pods", name)
}

// podVMIn is the VM of a pod of namespace as govmomi reads it.
func podVMIn(t *testing.T, ctx context.Context, vc *vim25.Client, namespace, name string) (mo.VirtualMachine, bool) {
	t.Helper()
	vm, err := find.NewFinder(vc, true).VirtualMachine(ctx, "/Datacenter/vm/Namespaces/"+namespace+"/"+name)
	if err != nil {
		return mo.VirtualMachine{}, false
	}
	var m mo.VirtualMachine
	err = property.DefaultCollector(vc).RetrieveOne(ctx, vm.Reference(), []string{"name", "config", "runtime", "resourcePool"}, &m)
	if fault.Is(err, &types.ManagedObjectNotFound{}) {
		return mo.VirtualMachine{}, false // removed since it was found
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, true
}

// TestPodsRunAsPodVMs is seed 003's compute model, deployed: the hosts of the Supervisor's
// cluster are its nodes; pods of each QoS class placed by kube-scheduler become pod VMs on their
// node's host, in the namespace's resource pool, sized, shared and reserved by the seed's rules;
// the pods run; logs say the runtime is simulated; a pod VM removed behind the pod's back fails
// the pod; deleting a pod removes its VM.
func TestPodsRunAsPodVMs(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	devops, root := podsNamespace(t, env, admin, nil)
	ctx := context.Background()
	vc := adminVim25(t, ctx, env)

	// Every host of Cluster-A is a Ready node of the host's size.
	var nodes *corev1.NodeList
	eventually(t, "the three hosts are Ready nodes", func(ctx context.Context) (bool, error) {
		var err error
		nodes, err = root.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 3 {
			return false, err
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) || len(n.Spec.Taints) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	n := nodes.Items[0]
	if !strings.HasPrefix(n.Name, "esx-0") || n.Labels[spherelet.HostLabel] == "" || n.Labels[spherelet.ZoneLabel] != "zone-"+clusterA {
		t.Errorf("node %s labels = %v", n.Name, n.Labels)
	}
	if cpu, mem := n.Status.Capacity.Cpu().Value(), n.Status.Capacity.Memory().Value(); cpu != 32 || mem != 512<<30 {
		t.Errorf("node %s capacity = %d CPUs, %d bytes; want the host's 32 cores and 512 GiB", n.Name, cpu, mem)
	}
	if n.Status.NodeInfo.KubeletVersion != spherelet.KubeletVersion {
		t.Errorf("kubelet version = %q", n.Status.NodeInfo.KubeletVersion)
	}

	// Seed 003's three classes of pod.
	pods := map[string]*corev1.Pod{
		"best-effort": {Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", nil, nil)}}},
		"burstable": {Spec: corev1.PodSpec{Containers: []corev1.Container{
			container("web", resources("500m", "1Gi"), resources("1", "2Gi"))}}},
		"guaranteed": {Spec: corev1.PodSpec{Containers: []corev1.Container{
			container("web", resources("2", "4Gi"), resources("2", "4Gi"))}}},
	}
	for name, p := range pods {
		p.Name, p.Namespace = name, "pods"
		eventually(t, "devops creates pod "+name, func(ctx context.Context) (bool, error) {
			_, err := devops.kube.CoreV1().Pods("pods").Create(ctx, p, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), nil
		})
	}
	running := map[string]*corev1.Pod{}
	for name := range pods {
		eventually(t, "pod "+name+" runs", func(ctx context.Context) (bool, error) {
			p, err := devops.kube.CoreV1().Pods("pods").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			running[name] = p
			return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && podReady(p), nil
		})
	}
	if ip := running["burstable"].Status.PodIP; ip == running["guaranteed"].Status.PodIP || !strings.HasPrefix(ip, "10.244.") {
		t.Errorf("pod addresses: %s and %s", ip, running["guaranteed"].Status.PodIP)
	}

	const mhz = 2600 // Cluster-A's cores
	want := map[string]struct {
		cpus                int32
		memoryMB            int32
		resMHz, resMB       int64
		limitMHz, limitMB   int64
		cpuShares, memShare int32
	}{
		// 1 vCPU / 512 MB, nothing reserved, no limit, 1000 CPU and 5120 memory shares.
		"best-effort": {1, 512, 0, 0, -1, -1, 1000, 5120},
		// The largest of request and limit (1 CPU, 2 GiB) plus the memory padding; requests reserved.
		"burstable": {1, 2048 + 64, mhz / 2, 1024, mhz, 2048 + 64, 1000, 21120},
		// Requests equal limits: everything reserved.
		"guaranteed": {2, 4096 + 64, 2 * mhz, 4096, 2 * mhz, 4096 + 64, 2000, 41600},
	}
	var nsPool mo.ResourcePool
	nsPoolRef, err := find.NewFinder(vc, true).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/pods")
	if err != nil {
		t.Fatal(err)
	}
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, nsPoolRef.Reference(), []string{"name"}, &nsPool); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		vm, ok := podVM(t, ctx, vc, name)
		if !ok {
			t.Fatalf("no pod VM for pod %s", name)
		}
		cfg := vm.Config
		if cfg.GuestId != spherelet.PodGuestID || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			t.Errorf("%s: guest %s, power %s", name, cfg.GuestId, vm.Runtime.PowerState)
		}
		if cfg.Hardware.NumCPU != w.cpus || cfg.Hardware.MemoryMB != w.memoryMB {
			t.Errorf("%s: %d vCPU / %d MB, want %d / %d", name, cfg.Hardware.NumCPU, cfg.Hardware.MemoryMB, w.cpus, w.memoryMB)
		}
		c, m := cfg.CpuAllocation, cfg.MemoryAllocation
		if *c.Reservation != w.resMHz || *m.Reservation != w.resMB || *c.Limit != w.limitMHz || *m.Limit != w.limitMB {
			t.Errorf("%s: reservation %d MHz / %d MB, limit %d MHz / %d MB; want %d / %d, %d / %d", name,
				*c.Reservation, *m.Reservation, *c.Limit, *m.Limit, w.resMHz, w.resMB, w.limitMHz, w.limitMB)
		}
		if c.Shares.Level != types.SharesLevelNormal || c.Shares.Shares != w.cpuShares || m.Shares.Shares != w.memShare {
			t.Errorf("%s: shares %s %d CPU / %d memory, want normal %d / %d", name, c.Shares.Level, c.Shares.Shares, m.Shares.Shares, w.cpuShares, w.memShare)
		}
		if vm.ResourcePool == nil || *vm.ResourcePool != nsPoolRef.Reference() {
			t.Errorf("%s: in pool %v, want the namespace's %v", name, vm.ResourcePool, nsPoolRef.Reference())
		}
		var host mo.HostSystem
		if err := property.DefaultCollector(vc).RetrieveOne(ctx, *vm.Runtime.Host, []string{"name"}, &host); err != nil {
			t.Fatal(err)
		}
		if host.Name != running[name].Spec.NodeName {
			t.Errorf("%s: VM on host %s, pod on node %s", name, host.Name, running[name].Spec.NodeName)
		}
	}

	// Logs and exec have no process to reach, and say so.
	_, err = devops.kube.CoreV1().Pods("pods").GetLogs("burstable", &corev1.PodLogOptions{}).Stream(ctx)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "simulated runtime") {
		t.Errorf("logs: %v", err)
	}

	exec, err := remotecommand.NewSPDYExecutor(devops.config, "POST", devops.kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace("pods").Name("burstable").SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: "web", Command: []string{"ls"}, Stdout: true}, scheme.ParameterCodec).URL())
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout})
	if err == nil || !strings.Contains(err.Error(), "simulated runtime") {
		t.Errorf("exec: %v", err)
	}

	// A pod VM removed behind the pod's back: the pod fails as on a lost node.
	lost, _ := podVM(t, ctx, vc, "best-effort")
	lostVM := object.NewVirtualMachine(vc, lost.Self)
	if task, err := lostVM.PowerOff(ctx); err != nil || task.Wait(ctx) != nil {
		t.Fatalf("power off: %v", err)
	}
	if task, err := lostVM.Destroy(ctx); err != nil || task.Wait(ctx) != nil {
		t.Fatalf("destroy: %v", err)
	}
	eventually(t, "the pod whose VM was removed fails", func(ctx context.Context) (bool, error) {
		p, err := devops.kube.CoreV1().Pods("pods").Get(ctx, "best-effort", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodFailed && p.Status.Reason == spherelet.ReasonPodVMLost, err
	})

	// Deleting a pod removes its VM first.
	if err := devops.kube.CoreV1().Pods("pods").Delete(ctx, "guaranteed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted pod and its VM are gone", func(ctx context.Context) (bool, error) {
		_, err := devops.kube.CoreV1().Pods("pods").Get(ctx, "guaranteed", metav1.GetOptions{})
		_, hasVM := podVM(t, ctx, vc, "guaranteed")
		return apierrors.IsNotFound(err) && !hasVM, nil
	})
}

// TestDeploymentScalesPodVMs: a Deployment of 3 reaches 3 ready replicas as pod VMs; scaled to 0,
// its pod VMs are removed. A host put into maintenance mode through govc makes its node
// unschedulable and not ready, and leaving it makes the node Ready again.
func TestDeploymentScalesPodVMs(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	devops, root := podsNamespace(t, env, admin, nil)
	ctx := context.Background()
	vc := adminVim25(t, ctx, env)

	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "pods"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", resources("250m", "256Mi"), nil)}}}}}
	eventually(t, "devops creates the Deployment", func(ctx context.Context) (bool, error) {
		_, err := devops.kube.AppsV1().Deployments("pods").Create(ctx, d, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	eventually(t, "3 ready replicas", func(ctx context.Context) (bool, error) {
		got, err := devops.kube.AppsV1().Deployments("pods").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.ReadyReplicas == 3, err
	})
	podList, err := devops.kube.CoreV1().Pods("pods").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(podList.Items) != 3 {
		t.Fatalf("pods: %v %d", err, len(podList.Items))
	}
	for _, p := range podList.Items {
		if _, ok := podVM(t, ctx, vc, p.Name); !ok {
			t.Errorf("pod %s has no pod VM", p.Name)
		}
	}

	zero := int32(0)
	eventually(t, "scale to 0", func(ctx context.Context) (bool, error) {
		got, err := devops.kube.AppsV1().Deployments("pods").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got.Spec.Replicas = &zero
		_, err = devops.kube.AppsV1().Deployments("pods").Update(ctx, got, metav1.UpdateOptions{})
		return err == nil, nil
	})
	eventually(t, "the pods and their VMs are gone", func(ctx context.Context) (bool, error) {
		left, err := devops.kube.CoreV1().Pods("pods").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil || len(left.Items) > 0 {
			return false, err
		}
		for _, p := range podList.Items {
			if _, ok := podVM(t, ctx, vc, p.Name); ok {
				return false, nil
			}
		}
		return true, nil
	})

	// Maintenance mode through govc.
	const host = "esx-02.wcpd.local"
	if _, stderr, code := env.Govc(servertest.Admin, servertest.AdminPassword, "host.maintenance.enter", "/Datacenter/host/Cluster-A/"+host); code != 0 {
		t.Fatalf("maintenance: %s", stderr)
	}
	eventually(t, "the host's node is unschedulable and not ready", func(ctx context.Context) (bool, error) {
		n, err := root.kube.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{})
		return err == nil && n.Spec.Unschedulable && !nodeReady(n), err
	})
	if _, stderr, code := env.Govc(servertest.Admin, servertest.AdminPassword, "host.maintenance.exit", "/Datacenter/host/Cluster-A/"+host); code != 0 {
		t.Fatalf("maintenance exit: %s", stderr)
	}
	eventually(t, "the node is schedulable and ready again", func(ctx context.Context) (bool, error) {
		n, err := root.kube.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{})
		return err == nil && !n.Spec.Unschedulable && nodeReady(n), err
	})

	// A host disconnected from vCenter: its node is not ready, and ready again once reconnected.
	if _, stderr, code := env.Govc(servertest.Admin, servertest.AdminPassword, "host.disconnect", "/Datacenter/host/Cluster-A/"+host); code != 0 {
		t.Fatalf("disconnect: %s", stderr)
	}
	eventually(t, "the disconnected host's node is not ready", func(ctx context.Context) (bool, error) {
		n, err := root.kube.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{})
		return err == nil && !nodeReady(n), err
	})
	if _, stderr, code := env.Govc(servertest.Admin, servertest.AdminPassword, "host.reconnect", "/Datacenter/host/Cluster-A/"+host); code != 0 {
		t.Fatalf("reconnect: %s", stderr)
	}
	eventually(t, "the reconnected host's node is ready", func(ctx context.Context) (bool, error) {
		n, err := root.kube.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{})
		return err == nil && nodeReady(n), err
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestPodQuotaDefaultsAndPlacement: the namespace's limits apply to pods as Kubernetes applies
// them — its default container request and limit (the LimitRange) fill in containers that set
// none, and the pod VM is sized and reserved from them; a pod over the namespace's memory limit is
// refused at admission with the quota's message; a pod that fits no host stays Pending with the
// scheduler's reason.
func TestPodQuotaDefaultsAndPlacement(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	devops, _ := podsNamespace(t, env, admin, map[string]any{
		"memory_limit": 4096, "memory_limit_default": 1024, "memory_request_default": 512, "cpu_request_default": 1000})
	ctx := context.Background()
	vc := adminVim25(t, ctx, env)
	pods := devops.kube.CoreV1().Pods("pods")

	plain := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "defaulted", Namespace: "pods"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", nil, nil)}}}
	eventually(t, "the namespace's defaults are in place and the pod is made", func(ctx context.Context) (bool, error) {
		_, err := pods.Create(ctx, plain, metav1.CreateOptions{})
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "must specify limits.memory") {
			return false, nil // the LimitRange is not realised yet
		}
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	eventually(t, "the defaulted pod runs", func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, "defaulted", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning, err
	})
	p, _ := pods.Get(ctx, "defaulted", metav1.GetOptions{})
	if p.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("QoS class %s, want Burstable from the namespace's defaults", p.Status.QOSClass)
	}
	vm, ok := podVM(t, ctx, vc, "defaulted")
	if !ok {
		t.Fatal("no pod VM")
	}
	// 1 GiB default limit plus padding; the 500m default request (1000 MHz at wcpd's 2 GHz per
	// CPU for namespace defaults) reserved at the cluster's 2600 MHz cores; 512 MiB reserved.
	cfg := vm.Config
	if cfg.Hardware.NumCPU != 1 || cfg.Hardware.MemoryMB != 1024+64 || *cfg.CpuAllocation.Reservation != 1300 ||
		*cfg.MemoryAllocation.Reservation != 512 || *cfg.MemoryAllocation.Limit != 1024+64 || *cfg.CpuAllocation.Limit != -1 {
		t.Errorf("pod VM: %d vCPU / %d MB, reservation %d MHz / %d MB, limit %d MHz / %d MB", cfg.Hardware.NumCPU, cfg.Hardware.MemoryMB,
			*cfg.CpuAllocation.Reservation, *cfg.MemoryAllocation.Reservation, *cfg.CpuAllocation.Limit, *cfg.MemoryAllocation.Limit)
	}

	// The LimitRange and the ResourceQuota are realised one after the other, and quota admission
	// holds a pod to a quota once the quota controller has written what it allows.
	eventually(t, "the namespace's quota is in force", func(ctx context.Context) (bool, error) {
		q, err := devops.kube.CoreV1().ResourceQuotas("pods").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		_, counted := q.Status.Hard[corev1.ResourceLimitsMemory]
		return counted, nil
	})
	big := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "too-big", Namespace: "pods"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", nil, resources("", "8Gi"))}}}
	_, err := pods.Create(ctx, big, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") {
		t.Errorf("a pod over the namespace's memory limit: %v", err)
	}

	huge := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "no-host", Namespace: "pods"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", resources("100", "1Gi"), resources("", "1Gi"))}}}
	if _, err := pods.Create(ctx, huge, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod that fits no host is Pending with the scheduler's reason", func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, "no-host", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				if !strings.Contains(c.Message, "Insufficient cpu") {
					t.Errorf("scheduler's message: %s", c.Message)
				}
				return p.Status.Phase == corev1.PodPending, nil
			}
		}
		return false, nil
	})
	if _, ok := podVM(t, ctx, vc, "no-host"); ok {
		t.Error("a pod no host can run has a pod VM")
	}

	// A namespace with a network of its own: its pods take their addresses from it.
	ownNet := map[string]any{"cluster": clusterA, "namespace": "own-net",
		"access_list": []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "EDIT"}},
		"namespace_network": map[string]any{"network_provider": "NSXT_CONTAINER_PLUGIN", "network": map[string]any{
			"namespace_network_cidrs": []any{map[string]any{"address": "10.50.7.0", "prefix": 24}}}}}
	if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, ownNet); r.Status != 204 {
		t.Fatalf("namespace own-net: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second)
	netPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "addressed", Namespace: "own-net"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("web", nil, nil)}}}
	eventually(t, "a pod in own-net is made", func(ctx context.Context) (bool, error) {
		_, err := devops.kube.CoreV1().Pods("own-net").Create(ctx, netPod, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	eventually(t, "the pod has an address of its namespace's network", func(ctx context.Context) (bool, error) {
		p, err := devops.kube.CoreV1().Pods("own-net").Get(ctx, "addressed", metav1.GetOptions{})
		if err != nil || p.Status.PodIP == "" {
			return false, err
		}
		if p.Status.PodIP != "10.50.7.2" {
			t.Errorf("pod address %s, want 10.50.7.2, the first of own-net's 10.50.7.0/24", p.Status.PodIP)
		}
		return true, nil
	})
}

// TestSeed003LiveAnalysisOfRealPods deploys seed 003's scenario — the Supervisor's control plane
// and namespaces, with a BestEffort, a Burstable and a Guaranteed pod in frank-ns — and checks
// that the live analysis of the cluster, read from the pod VMs the pods became, equals the
// what-if analysis of the same pods added to the tree as the model's pods (their containers):
// the Spherelet sizes, shares and reserves pod VMs by the model's own rules.
func TestSeed003LiveAnalysisOfRealPods(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	env.AddUser("devops", devopsPW, "")
	for _, name := range []string{"frank-ns", "registry"} {
		ns := map[string]any{"cluster": clusterA, "namespace": name,
			"storage_specs": []any{map[string]any{"policy": policyGold}},
			"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "EDIT"}}}
		if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, ns); r.Status != 204 {
			t.Fatalf("namespace %s: %d %s", name, r.Status, r.Body)
		}
	}
	builtinConfigured(t, env, admin)
	info := login(t, env, "devops@vsphere.local", devopsPW)
	devops := userClients(t, supervisorOf(t, info, clusterA), info.SessionID)

	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "cache"}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("redis", nil, nil)}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
			container("nginx", resources("500m", "1Gi"), resources("1", "2Gi")), container("sidecar", resources("100m", "128Mi"), nil)}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "cassandra-0"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
			container("cassandra", resources("2", "8Gi"), resources("2", "8Gi"))}}},
	}
	// The what-if: the same pods added to frank-ns as the model's pods, by their containers.
	var changes []any
	for _, p := range pods {
		var ctrs []any
		for _, c := range p.Spec.Containers {
			ctr := map[string]any{"name": c.Name}
			for key, l := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
				q := map[string]any{}
				if v, ok := l[corev1.ResourceCPU]; ok {
					q["cpu"] = v.String()
				}
				if v, ok := l[corev1.ResourceMemory]; ok {
					q["memory"] = v.String()
				}
				if len(q) > 0 {
					ctr[key] = q
				}
			}
			ctrs = append(ctrs, ctr)
		}
		changes = append(changes, map[string]any{"action": "ADD", "namespace": "frank-ns",
			"node": map[string]any{"name": p.Name, "type": "POD", "containers": ctrs}})
	}
	r := env.Do("POST", "/api/wcpd/clusters/"+clusterA+"/resources", admin, map[string]any{"changes": changes})
	if r.Status != 200 {
		t.Fatalf("what-if: %d %s", r.Status, r.Body)
	}
	var whatIf struct {
		After analysisTree `json:"after"`
	}
	r.JSON(t, &whatIf)

	for _, p := range pods {
		p.Namespace = "frank-ns"
		eventually(t, "devops creates pod "+p.Name, func(ctx context.Context) (bool, error) {
			_, err := devops.kube.CoreV1().Pods("frank-ns").Create(ctx, p, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), nil
		})
	}
	for _, p := range pods {
		eventually(t, "pod "+p.Name+" runs", func(ctx context.Context) (bool, error) {
			got, err := devops.kube.CoreV1().Pods("frank-ns").Get(ctx, p.Name, metav1.GetOptions{})
			return err == nil && got.Status.Phase == corev1.PodRunning, err
		})
	}
	r = env.Do("GET", "/api/wcpd/clusters/"+clusterA+"/resources", admin, nil)
	if r.Status != 200 {
		t.Fatalf("live: %d %s", r.Status, r.Body)
	}
	var live analysisTree
	r.JSON(t, &live)

	want, got := whatIf.After.flatten(), live.flatten()
	for path, w := range want {
		g, ok := got[path]
		if !ok {
			t.Errorf("%s: in the what-if, not in the live analysis", path)
			continue
		}
		if g != w {
			t.Errorf("%s:\n live    %+v\n what-if %+v", path, g, w)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s: in the live analysis, not in the what-if", path)
		}
	}
	if _, ok := got["Namespaces/frank-ns/cassandra-0"]; !ok {
		t.Fatalf("the live analysis has no pod cassandra-0: %v", got)
	}
}

// analysisTree is the part of a live or what-if analysis the comparison reads.
type analysisTree struct {
	Children []analysisNode `json:"children"`
}

type analysisNode struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Figures  analysisFigures
	Children []analysisNode `json:"children"`
}

// analysisFigures are what the model gives a node.
type analysisFigures struct {
	Type                                   string
	CPUShares, MemoryShares                int64
	CPUSharePercent, MemorySharePercent    float64
	CPUReservedMHz, MemoryReservedMB       int64
	CPUEntitlementMHz, MemoryEntitlementMB int64
	CPUBound, MemoryBound                  string
	SizeCPUCount, SizeMemoryMB             int64
}

func (n *analysisNode) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name                string  `json:"name"`
		Type                string  `json:"type"`
		CPUShares           int64   `json:"cpu_shares"`
		MemoryShares        int64   `json:"memory_shares"`
		CPUSharePercent     float64 `json:"cpu_share_percent"`
		MemorySharePercent  float64 `json:"memory_share_percent"`
		CPUReservedMHz      int64   `json:"cpu_reserved_mhz"`
		MemoryReservedMB    int64   `json:"memory_reserved_mb"`
		CPUEntitlementMHz   int64   `json:"cpu_entitlement_mhz"`
		MemoryEntitlementMB int64   `json:"memory_entitlement_mb"`
		CPUBound            string  `json:"cpu_bound"`
		MemoryBound         string  `json:"memory_bound"`
		Size                struct {
			CPUCount int64 `json:"cpu_count"`
			MemoryMB int64 `json:"memory_mb"`
		} `json:"size"`
		Children []analysisNode `json:"children"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	n.Name, n.Type, n.Children = raw.Name, raw.Type, raw.Children
	n.Figures = analysisFigures{Type: raw.Type, CPUShares: raw.CPUShares, MemoryShares: raw.MemoryShares,
		CPUSharePercent: raw.CPUSharePercent, MemorySharePercent: raw.MemorySharePercent,
		CPUReservedMHz: raw.CPUReservedMHz, MemoryReservedMB: raw.MemoryReservedMB,
		CPUEntitlementMHz: raw.CPUEntitlementMHz, MemoryEntitlementMB: raw.MemoryEntitlementMB,
		CPUBound: raw.CPUBound, MemoryBound: raw.MemoryBound, SizeCPUCount: raw.Size.CPUCount, SizeMemoryMB: raw.Size.MemoryMB}
	return nil
}

// flatten maps every node's path ("Namespaces/frank-ns/web") to its figures.
func (t analysisTree) flatten() map[string]analysisFigures {
	out := map[string]analysisFigures{}
	var walk func(prefix string, nodes []analysisNode)
	walk = func(prefix string, nodes []analysisNode) {
		for _, n := range nodes {
			out[prefix+n.Name] = n.Figures
			walk(prefix+n.Name+"/", n.Children)
		}
	}
	walk("", t.Children)
	return out
}
