package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/kubeapi"
	"github.com/wcpd/wcpd/internal/vmop"
)

// kubeNamespaces is how many namespaces the Kubernetes measurements realise at once (-kube-namespaces).
var kubeNamespaces int

// kubeLatencySamples is how many namespaces are created one at a time to time their realisation.
const kubeLatencySamples = 50

// kubernetesRows measures the Supervisor's Kubernetes API on a wcpd of its own: memory without and
// with a Supervisor, RUNNING → API ready, one namespace realised (median, p99), and many at once.
func kubernetesRows(bin, dir string, many int) ([]string, error) {
	var rows []string
	off, err := startWcpdWith(bin, dir+"-off", "--kubernetes=false")
	if err != nil {
		return nil, err
	}
	time.Sleep(2 * time.Second) // let start-up garbage settle before reading memory; not a test
	rssOff := off.rssMB()
	off.stop()

	w, err := startWcpdWith(bin, dir)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	time.Sleep(2 * time.Second)
	rows = append(rows,
		fmt.Sprintf("| RSS of wcpd with no Supervisor, --kubernetes=false / default | %.0f MB / %.0f MB |", rssOff, w.rssMB()))

	c := newClient(16)
	tok, err := session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return rows, err
	}
	if err := prepareWcpdNamespaces(c, w.url, tok, 0); err != nil {
		return rows, err
	}
	running := time.Now()
	var info kubeapi.LoginInfo
	if err := waitForEvery(2*time.Minute, 20*time.Millisecond, func() (bool, error) {
		info, err = kubeLogin(c, w.url)
		return err == nil && len(info.Supervisors) == 1 && info.Supervisors[0].Ready, err
	}); err != nil {
		return rows, fmt.Errorf("the API server did not become ready: %w", err)
	}
	rows = append(rows, fmt.Sprintf("| Supervisor RUNNING → its Kubernetes API ready (login reports it) | %.2f s |", time.Since(running).Seconds()))
	sup := info.Supervisors[0]
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: sup.Server, BearerToken: info.SessionID, QPS: 1000, Burst: 1000,
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte(sup.CertificateAuthority)}})
	if err != nil {
		return rows, err
	}
	time.Sleep(5 * time.Second) // the controller manager starts its controllers; not a test
	pid := w.pid()
	apiRSS, kcmRSS := childMB(pid, "kube-apiserver", rssOf), childMB(pid, "kube-controller-manager", rssOf)
	apiAnon, kcmAnon := childMB(pid, "kube-apiserver", anonOf), childMB(pid, "kube-controller-manager", anonOf)
	rows = append(rows,
		fmt.Sprintf("| memory per Supervisor, idle: kube-apiserver + kube-controller-manager, RSS | %.0f MB + %.0f MB = %.0f MB |", apiRSS, kcmRSS, apiRSS+kcmRSS),
		fmt.Sprintf("| ... of which private (RssAnon; the rest is the shared wcpd executable's pages, %.0f MB, one copy for wcpd and all its children) | %.0f MB + %.0f MB = %.0f MB |",
			apiRSS-apiAnon, apiAnon, kcmAnon, apiAnon+kcmAnon))

	// One at a time: vCenter API create → quota and RoleBinding readable in Kubernetes.
	var lat []time.Duration
	for i := 0; i < kubeLatencySamples; i++ {
		name := fmt.Sprintf("one-%03d", i)
		began := time.Now()
		if err := createNamespace(c, w.url, tok, name); err != nil {
			return rows, err
		}
		if err := waitForEvery(time.Minute, 2*time.Millisecond, func() (bool, error) { return realised(kube, name), nil }); err != nil {
			return rows, fmt.Errorf("namespace %s not realised: %w", name, err)
		}
		lat = append(lat, time.Since(began))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rows = append(rows, fmt.Sprintf("| one namespace created through the vCenter API → its Namespace, quota and RoleBinding in Kubernetes, median / p99 of %d | %.0f ms / %.0f ms |",
		kubeLatencySamples, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])))

	// Many at once.
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, many)
	work := make(chan int)
	for k := 0; k < 16; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createNamespace(c, w.url, tok, fmt.Sprintf("many-%04d", i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < many; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return rows, err
	}
	accepted := time.Since(began)
	if err := waitForEvery(10*time.Minute, 200*time.Millisecond, func() (bool, error) {
		q, err := kube.CoreV1().ResourceQuotas("").List(context.Background(), metav1.ListOptions{LabelSelector: "wcpd.vmware.com/managed-by=wcpd"})
		return err == nil && len(q.Items) >= many+kubeLatencySamples, err
	}); err != nil {
		return rows, fmt.Errorf("%d namespaces not realised: %w", many, err)
	}
	rows = append(rows, fmt.Sprintf("| %d namespaces created through the vCenter API (16 clients): all accepted / all realised in Kubernetes | %.1f s / %.1f s |",
		many, accepted.Seconds(), time.Since(began).Seconds()))
	vmRows, err := vmServiceRows(c, w.url, tok, sup, info.SessionID, pid)
	rows = append(rows, vmRows...)
	if err != nil {
		return rows, err
	}
	rows = append(rows, fmt.Sprintf("| RSS (private) with %d namespaces realised: wcpd / kube-apiserver / kube-controller-manager | %.0f (%.0f) MB / %.0f (%.0f) MB / %.0f (%.0f) MB |",
		many+kubeLatencySamples, w.rssMB(), anonOf(pid), childMB(pid, "kube-apiserver", rssOf), childMB(pid, "kube-apiserver", anonOf),
		childMB(pid, "kube-controller-manager", rssOf), childMB(pid, "kube-controller-manager", anonOf)))
	return rows, nil
}

// kubernetesSection renders the rows.
func kubernetesSection(rows []string, load string) string {
	var b strings.Builder
	b.WriteString("\n## The Supervisor's Kubernetes API\n\n")
	b.WriteString(sectionStamp(load))
	b.WriteString("A wcpd of its own (`--task-duration 1ms`), after the servers above stopped. The namespaces carry a\n")
	b.WriteString("pod-count limit and an access entry, so each is a Namespace, a ResourceQuota and RoleBindings in\n")
	b.WriteString("Kubernetes; \"realised\" is when the administrator's client-go reads all three. RSS is resident memory\n")
	b.WriteString("as Linux reports it, per process. The VM Service rows create VirtualMachines of best-effort-xsmall from\n")
	b.WriteString("the photon image through client-go and wait until their status shows a powered-on VM with an address.\n\n")
	b.WriteString("| measure | value |\n|---|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	return b.String()
}

func kubeLogin(c *http.Client, base string) (kubeapi.LoginInfo, error) {
	var info kubeapi.LoginInfo
	req, _ := http.NewRequest(http.MethodPost, base+"/api/wcpd/kubernetes/login", nil)
	req.SetBasicAuth("administrator@vsphere.local", adminPassword)
	res, err := c.Do(req)
	if err != nil {
		return info, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return info, fmt.Errorf("login: %s", res.Status)
	}
	return info, json.NewDecoder(res.Body).Decode(&info)
}

func createNamespace(c *http.Client, base, tok, name string) error {
	status, body, err := do(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
		body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": name,
			"resource_spec": map[string]any{"pod_count": 10},
			"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "EDIT"}}})})
	if err != nil {
		return err
	}
	if status != 204 {
		return fmt.Errorf("create namespace %s: %d %s", name, status, body)
	}
	return nil
}

// realised reports whether the namespace's Namespace, quota and RoleBinding exist.
func realised(kube kubernetes.Interface, name string) bool {
	ctx := context.Background()
	if _, err := kube.CoreV1().ResourceQuotas(name).Get(ctx, "vsphere-namespace-quota", metav1.GetOptions{}); err != nil {
		return false
	}
	rbs, err := kube.RbacV1().RoleBindings(name).List(ctx, metav1.ListOptions{LabelSelector: "wcpd.vmware.com/managed-by=wcpd"})
	return err == nil && len(rbs.Items) > 0
}

// childMB sums measure over parent's children started as command.
func childMB(parent int, command string, measure func(pid int) float64) float64 {
	total := 0.0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The parent pid is the fourth field, after the command in parentheses.
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		fields := strings.Fields(string(rest))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) < 2 || args[1] != command {
			continue
		}
		total += measure(pid)
	}
	return total
}

// waitForEvery polls done every interval until it reports true, fails, or timeout passes.
func waitForEvery(timeout, interval time.Duration, done func() (bool, error)) error {
	for deadline := time.Now().Add(timeout); ; {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not done after %v", timeout)
		}
		time.Sleep(interval) // polling other processes; not a test
	}
}

// vmServiceSamples is how many VirtualMachines are created one at a time to time them, and vmBatch
// how many at once.
const (
	vmServiceSamples = 20
	vmBatch          = 500
)

// vmServiceRows measures VM Service: a VirtualMachine applied → its VM powered on with an address
// (median, p99), vmBatch of them at once in one namespace, and wcpd's CPU at rest afterwards.
func vmServiceRows(c *http.Client, base, tok string, sup kubeapi.SupervisorInfo, token string, pid int) ([]string, error) {
	status, body, err := do(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
		body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": "vms",
			"access_list":     []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "EDIT"}},
			"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-xsmall"}, "content_libraries": []any{"8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"}}})})
	if err != nil || status != 204 {
		return nil, fmt.Errorf("the VM namespace: %d %s %v", status, body, err)
	}
	cl, err := client.New(&rest.Config{Host: sup.Server, BearerToken: token, QPS: 1000, Burst: 1000,
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte(sup.CertificateAuthority)}}, client.Options{Scheme: vmop.Scheme()})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	image := vmop.ImageName(inventory.ItemID("8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01", "photon-5.0-x86_64"))
	newVM := func(name string) *vmopv1.VirtualMachine {
		return &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "vms"},
			Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-xsmall", ImageName: image, PowerState: vmopv1.VirtualMachinePowerStateOn}}
	}
	ready := func(name string) bool {
		var vm vmopv1.VirtualMachine
		err := cl.Get(ctx, client.ObjectKey{Namespace: "vms", Name: name}, &vm)
		return err == nil && vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn && vm.Status.Network != nil && vm.Status.Network.PrimaryIP4 != ""
	}
	// The class and image reach the namespace first.
	if err := waitForEvery(time.Minute, 50*time.Millisecond, func() (bool, error) {
		return cl.Create(ctx, newVM("probe")) == nil, nil
	}); err != nil {
		return nil, fmt.Errorf("the first VirtualMachine was not admitted: %w", err)
	}
	if err := waitForEvery(time.Minute, 10*time.Millisecond, func() (bool, error) { return ready("probe"), nil }); err != nil {
		return nil, fmt.Errorf("the first VM never came up: %w", err)
	}
	var lat []time.Duration
	for i := 0; i < vmServiceSamples; i++ {
		name := fmt.Sprintf("one-%02d", i)
		began := time.Now()
		if err := cl.Create(ctx, newVM(name)); err != nil {
			return nil, err
		}
		if err := waitForEvery(time.Minute, 2*time.Millisecond, func() (bool, error) { return ready(name), nil }); err != nil {
			return nil, fmt.Errorf("VM %s: %w", name, err)
		}
		lat = append(lat, time.Since(began))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rows := []string{fmt.Sprintf("| one VirtualMachine applied → its VM powered on with an address, median / p99 of %d | %.0f ms / %.0f ms |",
		vmServiceSamples, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))}

	began := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for k := 0; k < 16; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_ = cl.Create(ctx, newVM(fmt.Sprintf("many-%03d", i)))
			}
		}()
	}
	for i := 0; i < vmBatch; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	// Listing 500 VirtualMachines is itself work for the API server: look every 2 s.
	if err := waitForEvery(10*time.Minute, 2*time.Second, func() (bool, error) {
		var list vmopv1.VirtualMachineList
		if err := cl.List(ctx, &list, client.InNamespace("vms")); err != nil {
			return false, err
		}
		up := 0
		for _, vm := range list.Items {
			if vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn && vm.Status.Network != nil && vm.Status.Network.PrimaryIP4 != "" {
				up++
			}
		}
		return up >= vmBatch+vmServiceSamples+1, nil
	}); err != nil {
		return rows, fmt.Errorf("%d VMs not realised: %w", vmBatch, err)
	}
	rows = append(rows, fmt.Sprintf("| %d VirtualMachines applied at once (16 clients) in one namespace → all powered on with addresses | %.1f s |", vmBatch, time.Since(began).Seconds()))
	time.Sleep(5 * time.Second) // let the last status writes settle; not a test
	cpu0, read0 := processCPU(pid)
	time.Sleep(10 * time.Second)
	atRest := "–" // not read
	if cpu1, read1 := processCPU(pid); read0 && read1 {
		atRest = fmt.Sprintf("%.1f %% of a core", (cpu1-cpu0).Seconds()*10)
	}
	rows = append(rows, fmt.Sprintf("| wcpd's CPU at rest with %d VirtualMachines (10 s) | %s |", vmBatch+vmServiceSamples+1, atRest))
	return rows, nil
}
