package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/vmop"
)

// wcpdProcess is `wcpd serve` running as a child of the test.
type wcpdProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer // whole once the process has exited
}

// startServe runs `wcpd serve` on dataDir with the Kubernetes side on, and waits for its banner.
// env is added to the process's environment (a later value of a variable wins).
func startServe(t *testing.T, dataDir string, env ...string) *wcpdProcess {
	t.Helper()
	return serveWith(t, []string{"--data-dir", dataDir, "--task-duration", "200ms", "--log-level", "warn"}, env...)
}

// serveWith runs `wcpd serve` on a port of its own with args and the administrator's password of
// servertest, and waits for its banner.
func serveWith(t *testing.T, args []string, env ...string) *wcpdProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "WCPD_TEST_AS_COMMAND=1", "WCPD_ADMIN_PASSWORD="+servertest.AdminPassword), env...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "wcpd is ready at ") {
		t.Fatalf("no banner: %q; stderr: %s", lines.Text(), stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return &wcpdProcess{cmd: cmd, url: strings.Fields(strings.TrimPrefix(lines.Text(), "wcpd is ready at "))[0], stderr: stderr}
}

var insecureHTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// call sends a request to wcpd and returns the status and body.
func (w *wcpdProcess) call(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("vmware-api-session-id", token)
	}
	res, err := insecureHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// kubeLogin runs `wcpd login` as the administrator into kubeconfig and returns a client for the
// Supervisor on cluster once its API server is ready.
func (w *wcpdProcess) kubeLogin(t *testing.T, kubeconfig, cluster string) kubernetes.Interface {
	t.Helper()
	servertest.Eventually(t, "the Supervisor's API server is ready", 2*time.Minute, func(ctx context.Context) (bool, error) {
		var out, errOut bytes.Buffer
		t.Setenv("WCPD_PASSWORD", servertest.AdminPassword)
		if code := run([]string{"login", "--server", w.url, "-u", servertest.Admin, "--insecure-skip-tls-verify", "--kubeconfig", kubeconfig}, &out, &errOut); code != 0 {
			return false, nil
		}
		return strings.Contains(out.String(), "Contexts: "), nil
	})
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKubernetesSurvivesKill9: wcpd killed with SIGKILL takes its Kubernetes servers with it; started
// again on the same data dir, the Supervisor's API server comes back at the same address with the
// same objects, and the controllers converge without duplicates.
func TestKubernetesSurvivesKill9(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	w := startServe(t, dataDir)
	token := w.adminSession(t)
	const cluster = "domain-c9"
	w.enableSupervisor(t, token, cluster)
	ns := map[string]any{"cluster": cluster, "namespace": "persistent",
		"resource_spec": map[string]any{"pod_count": 7},
		"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "OWNER"}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"},
			"content_libraries": []any{"8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"}}}
	if s, b := w.call(t, "POST", "/api/vcenter/namespaces/instances", token, ns); s != 204 {
		t.Fatalf("namespace: %d %s", s, b)
	}
	kube := w.kubeLogin(t, kubeconfig, cluster)
	ctx := context.Background()
	var uid string
	servertest.Eventually(t, "the namespace's quota exists", time.Minute, func(ctx context.Context) (bool, error) {
		q, err := kube.CoreV1().ResourceQuotas("persistent").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		uid = string(q.UID)
		return true, nil
	})
	if _, err := kube.CoreV1().ConfigMaps("persistent").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := clientcmd.LoadFromFile(kubeconfig)
	endpoint := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server
	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	vms, err := client.New(restCfg, client.Options{Scheme: vmop.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	// A VirtualMachine whose deploy the kill may interrupt.
	photon := vmop.ImageName(inventory.ItemID("8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01", "photon-5.0-x86_64"))
	survivor := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "persistent"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon}}
	servertest.Eventually(t, "the VirtualMachine is admitted", time.Minute, func(ctx context.Context) (bool, error) {
		err := vms.Create(ctx, survivor)
		return err == nil, err
	})
	// A folder made through /sdk by hand.
	vc := w.vim25(t)
	dc, err := find.NewFinder(vc).Datacenter(ctx, "Datacenter")
	if err != nil {
		t.Fatal(err)
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	handmade, err := folders.VmFolder.CreateFolder(ctx, "handmade")
	if err != nil {
		t.Fatal(err)
	}

	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()
	servertest.Eventually(t, "the API server died with wcpd", time.Minute, func(context.Context) (bool, error) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "https://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil, nil
	})

	w = startServe(t, dataDir)
	kube = w.kubeLogin(t, kubeconfig, cluster)
	cfg, _ = clientcmd.LoadFromFile(kubeconfig)
	if again := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server; again != endpoint {
		t.Fatalf("the API server moved from %s to %s", endpoint, again)
	}
	q, err := kube.CoreV1().ResourceQuotas("persistent").Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{})
	if err != nil || string(q.UID) != uid {
		t.Fatalf("the quota after the restart: %v (uid %s, was %s)", err, q.GetUID(), uid)
	}
	if _, err := kube.CoreV1().ConfigMaps("persistent").Get(ctx, "mine", metav1.GetOptions{}); err != nil {
		t.Fatalf("the user's ConfigMap after the restart: %v", err)
	}
	rbs, err := kube.RbacV1().RoleBindings("persistent").List(ctx, metav1.ListOptions{LabelSelector: "wcpd.vmware.com/managed-by=wcpd"})
	if err != nil || len(rbs.Items) != 2 {
		t.Fatalf("managed RoleBindings after the restart: %d, %v; want edit and namespace-owner", len(rbs.Items), err)
	}

	// The inventory is durable: the hand-made folder is the same object, and the VirtualMachine,
	// whose deploy the kill may have cut short, converges to exactly one VM.
	vc = w.vim25(t)
	if f, err := find.NewFinder(vc).Folder(ctx, "/Datacenter/vm/handmade"); err != nil || f.Reference() != handmade.Reference() {
		t.Fatalf("the hand-made folder after the restart: %v, %v (was %s)", f, err, handmade.Reference())
	}
	if restCfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil { // the new login's token
		t.Fatal(err)
	}
	if vms, err = client.New(restCfg, client.Options{Scheme: vmop.Scheme()}); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, "the VirtualMachine has one powered-on VM", time.Minute, func(ctx context.Context) (bool, error) {
		if err := vms.Get(ctx, client.ObjectKeyFromObject(survivor), survivor); err != nil || survivor.Status.UniqueID == "" {
			return false, err
		}
		found, err := find.NewFinder(vc).VirtualMachineList(ctx, "/Datacenter/vm/Namespaces/persistent/survivor")
		return err == nil && len(found) == 1 && found[0].Reference().Value == survivor.Status.UniqueID &&
			survivor.Status.PowerState == vmopv1.VirtualMachinePowerStateOn, nil
	})

	// Killed again once the VM exists, wcpd comes back with that very VM.
	vmID, biosUUID := survivor.Status.UniqueID, survivor.Status.BiosUUID
	restart := func() {
		t.Helper()
		if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = w.cmd.Wait()
		w = startServe(t, dataDir)
		w.kubeLogin(t, kubeconfig, cluster)
		if restCfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
			t.Fatal(err)
		}
		if vms, err = client.New(restCfg, client.Options{Scheme: vmop.Scheme()}); err != nil {
			t.Fatal(err)
		}
		vc = w.vim25(t)
	}
	restart()
	found, err := find.NewFinder(vc).VirtualMachineList(ctx, "/Datacenter/vm/Namespaces/persistent/*")
	if err != nil || len(found) != 1 || found[0].Reference().Value != vmID {
		t.Fatalf("the namespace's VMs after the second restart: %v, %v; want only %s", found, err, vmID)
	}
	servertest.Eventually(t, "the VirtualMachine reports its VM again", time.Minute, func(ctx context.Context) (bool, error) {
		err := vms.Get(ctx, client.ObjectKeyFromObject(survivor), survivor)
		return err == nil && survivor.Status.PowerState == vmopv1.VirtualMachinePowerStateOn, err
	})
	if survivor.Status.UniqueID != vmID || survivor.Status.BiosUUID != biosUUID {
		t.Errorf("the VM after the second restart: %s (BIOS UUID %s), was %s (%s)",
			survivor.Status.UniqueID, survivor.Status.BiosUUID, vmID, biosUUID)
	}

	// Killed right after a power change is asked for: the same VM ends up off.
	servertest.Eventually(t, "the power-off is accepted", time.Minute, func(ctx context.Context) (bool, error) {
		if err := vms.Get(ctx, client.ObjectKeyFromObject(survivor), survivor); err != nil {
			return false, err
		}
		survivor.Spec.PowerState = vmopv1.VirtualMachinePowerStateOff
		return vms.Update(ctx, survivor) == nil, nil
	})
	restart()
	servertest.Eventually(t, "the VM is off and the same", time.Minute, func(ctx context.Context) (bool, error) {
		err := vms.Get(ctx, client.ObjectKeyFromObject(survivor), survivor)
		return err == nil && survivor.Status.PowerState == vmopv1.VirtualMachinePowerStateOff && survivor.Status.UniqueID == vmID, err
	})

	// Killed right after a delete is asked for: the VM and the VirtualMachine both go.
	if err := vms.Delete(ctx, survivor); err != nil {
		t.Fatal(err)
	}
	restart()
	servertest.Eventually(t, "the VirtualMachine and its VM are gone", time.Minute, func(ctx context.Context) (bool, error) {
		err := vms.Get(ctx, client.ObjectKeyFromObject(survivor), survivor)
		found, ferr := find.NewFinder(vc).VirtualMachineList(ctx, "/Datacenter/vm/Namespaces/persistent/*")
		var notFound *find.NotFoundError
		return apierrors.IsNotFound(err) && (errors.As(ferr, &notFound) || (ferr == nil && len(found) == 0)), nil
	})
}

// TestPodsSurviveKill9: pods keep their pod VMs across a kill -9 of wcpd (the same VMs, no
// duplicates), and the VM of a pod removed just before the kill — an orphan the crash left — is
// removed after the restart.
func TestPodsSurviveKill9(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	w := startServe(t, dataDir)
	token := w.adminSession(t)
	const cluster = "domain-c9"
	w.enableSupervisor(t, token, cluster)
	ns := map[string]any{"cluster": cluster, "namespace": "pods",
		"access_list": []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "OWNER"}}}
	if s, b := w.call(t, "POST", "/api/vcenter/namespaces/instances", token, ns); s != 204 {
		t.Fatalf("namespace: %d %s", s, b)
	}
	kube := w.kubeLogin(t, kubeconfig, cluster)
	ctx := context.Background()
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1.0"}}}}}}
	servertest.Eventually(t, "the Deployment is made", time.Minute, func(ctx context.Context) (bool, error) {
		_, err := kube.AppsV1().Deployments("pods").Create(ctx, d, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	// podVMs maps the names of the VMs in the namespace's folder to their ids.
	podVMs := func(vc *vim25.Client) map[string]string {
		found, err := find.NewFinder(vc).VirtualMachineList(ctx, "/Datacenter/vm/Namespaces/pods/*")
		var notFound *find.NotFoundError
		if err != nil && !errors.As(err, &notFound) {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, vm := range found {
			out[vm.Name()] = vm.Reference().Value
		}
		return out
	}
	// running is the Deployment's pods once both run, each with its VM.
	running := func(vc *vim25.Client) (pods []string, vms map[string]string) {
		servertest.Eventually(t, "two pods run as pod VMs", 2*time.Minute, func(ctx context.Context) (bool, error) {
			list, err := kube.CoreV1().Pods("pods").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return false, nil
			}
			pods, vms = nil, podVMs(vc)
			for _, p := range list.Items {
				if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || vms[p.Name] == "" {
					return false, nil
				}
				pods = append(pods, p.Name)
			}
			return len(pods) == 2 && len(vms) == 2, nil
		})
		return pods, vms
	}
	pods, before := running(w.vim25(t))

	// One pod removed at once (no grace), and wcpd killed before its VM could go.
	if err := kube.CoreV1().Pods("pods").Delete(ctx, pods[0], metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()

	w = startServe(t, dataDir)
	kube = w.kubeLogin(t, kubeconfig, cluster)
	after, vms := running(w.vim25(t))
	if vms[pods[1]] != before[pods[1]] {
		t.Errorf("pod %s's VM after the restart is %s, was %s", pods[1], vms[pods[1]], before[pods[1]])
	}
	if id, ok := vms[pods[0]]; ok {
		t.Errorf("the VM %s of the removed pod %s is still there (pods now %v)", id, pods[0], after)
	}
}

// enableSupervisor enables a Supervisor on cluster and waits until it is RUNNING.
func (w *wcpdProcess) enableSupervisor(t *testing.T, token, cluster string) {
	t.Helper()
	if s, b := w.call(t, "POST", "/api/vcenter/namespace-management/clusters/"+cluster+"?action=enable", token, servertest.VSphereEnableSpec(1)); s != 204 {
		t.Fatalf("enable: %d %s", s, b)
	}
	servertest.Eventually(t, "the Supervisor is RUNNING", time.Minute, func(ctx context.Context) (bool, error) {
		_, b := w.call(t, "GET", "/api/vcenter/namespace-management/clusters/"+cluster, token, nil)
		return strings.Contains(string(b), `"config_status":"RUNNING"`), nil
	})
}

// adminSession logs in to the vCenter API as the administrator and returns the session id.
func (w *wcpdProcess) adminSession(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", w.url+"/api/session", nil)
	req.SetBasicAuth(servertest.Admin, servertest.AdminPassword)
	res, err := insecureHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var token string
	if err := json.Unmarshal(body, &token); err != nil {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	return token
}

// vim25 logs in to the inventory's /sdk as the administrator.
func (w *wcpdProcess) vim25(t *testing.T) *vim25.Client {
	t.Helper()
	ctx := context.Background()
	u, err := soap.ParseURL(w.url + "/sdk")
	if err != nil {
		t.Fatal(err)
	}
	c, err := vim25.NewClient(ctx, soap.NewClient(u, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(servertest.Admin, servertest.AdminPassword)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUserCommandsOnARunningServer: `wcpd user add` and `wcpd user rm` on the data dir of a running
// server take effect there without a restart.
func TestUserCommandsOnARunningServer(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	w := startServe(t, dataDir)
	login := func() int {
		req, _ := http.NewRequest("POST", w.url+"/api/session", nil)
		req.SetBasicAuth("carol@vsphere.local", "Carol-pw-1!")
		res, err := insecureHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	var out, errOut bytes.Buffer
	if code := runIdentity("user", []string{"add", "carol", "--role", "ReadOnly", "--data-dir", dataDir}, strings.NewReader("Carol-pw-1!\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut.String())
	}
	servertest.Eventually(t, "carol can log in", 30*time.Second, func(context.Context) (bool, error) { return login() == 201, nil })
	if code := runIdentity("user", []string{"ls", "--data-dir", dataDir}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "carol@vsphere.local\t\tReadOnly") {
		t.Fatalf("user ls: %d %q %s", code, out.String(), errOut.String())
	}
	if code := runIdentity("user", []string{"rm", "carol", "--data-dir", dataDir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("user rm: %d %s", code, errOut.String())
	}
	servertest.Eventually(t, "carol can no longer log in", 30*time.Second, func(context.Context) (bool, error) { return login() == 401, nil })
}
