package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The pods scenario: vSphere Pods on a Supervisor of a wcpd of its own — one pod created → Running
// (its pod VM powered on), many pods in many namespaces realised, and the live resource analysis of
// the cluster at that size. It runs alone (-scenarios pods) and replaces its section of the report.

// podsPerNS is how many pods each namespace gets in the at-once measurement (-pods-per-namespace).
var podsPerNS = 100

const (
	podSamples    = 50 // pods created one at a time to time them
	podNamespaces = 10
	podClients    = 16
	liveSamples   = 20 // live analyses timed at size
)

func runPods(out string) error {
	tmp, err := os.MkdirTemp("", "wcpd-pods-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wcpdBin, _, _, err := build(tmp)
	if err != nil {
		return err
	}
	began := time.Now()
	rows, err := podRows(wcpdBin, filepath.Join(tmp, "data"))
	if err != nil {
		rows = append(rows, "| vSphere Pods | not measured: "+err.Error()+" |")
	}
	var b strings.Builder
	b.WriteString("## vSphere Pods\n\n")
	fmt.Fprintf(&b, "`go run ./bench -scenarios pods` on %s, %d cores (%s, %s), load average %s when it began (other work shares the machine).\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverages())
	b.WriteString("A wcpd of its own (`--task-duration 1ms`) with a Supervisor on Cluster-A (3 hosts). Pods are created\n")
	b.WriteString("through client-go as the administrator, BestEffort (one container, no requests); \"Running\" is when\n")
	b.WriteString("the pod's status says Running with an address, which the Spherelet writes once the pod VM is powered on.\n")
	fmt.Fprintf(&b, "The whole scenario took %.0f s. Issue 13's targets: 1 s median per pod, 1,000 pods in 60 s, the live\n", time.Since(began).Seconds())
	b.WriteString("analysis at that size in 50 ms. The live analysis reads every VM of the cluster through the inventory's\n")
	b.WriteString("property collector over in-process SOAP (most of that time is encoding and decoding the XML) and keeps\n")
	b.WriteString("what it read until the inventory changes.\n\n")
	b.WriteString("| measure | value |\n|---|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	report := b.String()
	fmt.Print(report)
	if out == "" {
		return err
	}
	if werr := writeReport(out, report); werr != nil {
		return werr
	}
	return err
}

func podRows(bin, dir string) ([]string, error) {
	w, err := startWcpdWith(bin, dir)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	c := newClient(podClients)
	tok, err := session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return nil, err
	}
	if err := prepareWcpdNamespaces(c, w.url, tok, 0); err != nil {
		return nil, err
	}
	var names []string
	for i := range podNamespaces {
		names = append(names, fmt.Sprintf("pods-%02d", i))
	}
	for _, name := range names {
		status, body, err := do(c, w.url, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
			body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": name,
				"access_list": []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "EDIT"}}})})
		if err != nil || status != 204 {
			return nil, fmt.Errorf("namespace %s: %d %s %v", name, status, body, err)
		}
	}
	var kube kubernetes.Interface
	if err := waitForEvery(2*time.Minute, 50*time.Millisecond, func() (bool, error) {
		info, err := kubeLogin(c, w.url)
		if err != nil || len(info.Supervisors) != 1 || !info.Supervisors[0].Ready {
			return false, nil
		}
		sup := info.Supervisors[0]
		kube, err = kubernetes.NewForConfig(&rest.Config{Host: sup.Server, BearerToken: info.SessionID, QPS: 2000, Burst: 2000,
			TLSClientConfig: rest.TLSClientConfig{CAData: []byte(sup.CertificateAuthority)}})
		return err == nil, err
	}); err != nil {
		return nil, fmt.Errorf("the API server did not become ready: %w", err)
	}
	ctx := context.Background()
	newPod := func(ns, name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1.0"}}}}
	}
	running := func(ns, name string) bool {
		p, err := kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
	}
	// The namespaces are realised (their service accounts exist) once a probe pod is admitted.
	for _, ns := range names {
		if err := waitForEvery(2*time.Minute, 50*time.Millisecond, func() (bool, error) {
			_, err := kube.CoreV1().Pods(ns).Create(ctx, newPod(ns, "probe"), metav1.CreateOptions{})
			return err == nil, nil
		}); err != nil {
			return nil, fmt.Errorf("no pod could be made in %s: %w", ns, err)
		}
	}
	for _, ns := range names {
		if err := waitForEvery(2*time.Minute, 10*time.Millisecond, func() (bool, error) { return running(ns, "probe"), nil }); err != nil {
			return nil, fmt.Errorf("the probe pod of %s never ran: %w", ns, err)
		}
	}

	var lat []time.Duration
	for i := range podSamples {
		name := fmt.Sprintf("one-%02d", i)
		t0 := time.Now()
		if _, err := kube.CoreV1().Pods(names[0]).Create(ctx, newPod(names[0], name), metav1.CreateOptions{}); err != nil {
			return nil, err
		}
		if err := waitForEvery(time.Minute, 2*time.Millisecond, func() (bool, error) { return running(names[0], name), nil }); err != nil {
			return nil, fmt.Errorf("pod %s: %w", name, err)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rows := []string{fmt.Sprintf("| one pod created → Running (scheduled, pod VM created and powered on, status written), median / p99 of %d | %.0f ms / %.0f ms |",
		podSamples, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))}

	t0 := time.Now()
	var wg sync.WaitGroup
	work := make(chan [2]string)
	errs := make(chan error, podClients)
	for range podClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range work {
				if _, err := kube.CoreV1().Pods(job[0]).Create(ctx, newPod(job[0], job[1]), metav1.CreateOptions{}); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range podsPerNS {
		for _, ns := range names {
			work <- [2]string{ns, fmt.Sprintf("many-%03d", i)}
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return rows, err
	}
	accepted := time.Since(t0)
	total := podNamespaces*podsPerNS + podSamples + podNamespaces
	if err := waitForEvery(10*time.Minute, 5*time.Second, func() (bool, error) {
		list, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		up, phases := 0, map[string]int{}
		for _, p := range list.Items {
			if !strings.HasPrefix(p.Namespace, "pods-") {
				continue
			}
			phase := string(p.Status.Phase)
			if p.Spec.NodeName == "" {
				phase += " (unscheduled)"
			}
			phases[phase]++
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				up++
			}
		}
		fmt.Fprintf(os.Stderr, "pods after %.0f s: %v\n", time.Since(t0).Seconds(), phases)
		return up >= total, nil
	}); err != nil {
		return rows, fmt.Errorf("%d pods not realised: %w", podNamespaces*podsPerNS, err)
	}
	rows = append(rows, fmt.Sprintf("| %d pods in %d namespaces created at once (%d clients): all accepted / all Running as pod VMs | %.1f s / %.1f s |",
		podNamespaces*podsPerNS, podNamespaces, podClients, accepted.Seconds(), time.Since(t0).Seconds()))

	// The first analysis after the pods were made reads the cluster from the inventory; the next
	// ones, the inventory unchanged, analyse the tree it kept.
	var live []time.Duration
	for range liveSamples + 1 {
		t := time.Now()
		status, body, err := do(c, w.url, request{method: "GET", path: "/api/wcpd/clusters/domain-c9/resources", header: withSession(tok)})
		if err != nil || status != http.StatusOK {
			return rows, fmt.Errorf("live analysis: %d %s %v", status, body, err)
		}
		live = append(live, time.Since(t))
	}
	first, rest := live[0], live[1:]
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	rows = append(rows, fmt.Sprintf("| live analysis of the cluster with %d pod VMs (GET /api/wcpd/clusters/{cluster}/resources): the first after the pods were made / median and max of the next %d | %.0f ms / %.0f ms, %.0f ms |",
		total, liveSamples, ms(first), ms(rest[len(rest)/2]), ms(rest[len(rest)-1])))
	pid := w.pid()
	rows = append(rows, fmt.Sprintf("| RSS (private) with %d pods: wcpd / kube-apiserver / kube-scheduler | %.0f (%.0f) MB / %.0f (%.0f) MB / %.0f (%.0f) MB |",
		total, w.rssMB(), anonOf(pid), childMB(pid, "kube-apiserver", rssOf), childMB(pid, "kube-apiserver", anonOf),
		childMB(pid, "kube-scheduler", rssOf), childMB(pid, "kube-scheduler", anonOf)))
	return rows, nil
}
