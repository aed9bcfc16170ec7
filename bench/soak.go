package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
)

// The soak scenario: wcpd under mixed traffic for a long while (vCenter API reads and writes,
// /sdk changes, logins, and hostile or failing requests injected on purpose), watched for growth
// of memory, goroutines and open files, for 5xx answers nobody provoked, and for lost writes:
// every write wcpd acknowledged is read back at the end, and again after a kill -9 and a restart.

// soakStats counts what the soak's clients did and saw.
type soakStats struct {
	ops        atomic.Int64 // requests and calls answered
	unexpected atomic.Int64 // 5xx (or transport errors) on requests that were not injected faults
	injected   atomic.Int64 // injected faults sent
	mu         sync.Mutex
	failures   []string // the first unexpected failures, for the report
}

func (s *soakStats) fail(format string, args ...any) {
	s.unexpected.Add(1)
	s.mu.Lock()
	if len(s.failures) < 10 {
		s.failures = append(s.failures, fmt.Sprintf(format, args...))
	}
	s.mu.Unlock()
}

// soakLedger is what wcpd acknowledged: the state each written object must be found in.
type soakLedger struct {
	mu      sync.Mutex
	classes map[string]string // VM class id → description ("" once deleted)
	spaces  map[string]bool   // namespace → present (false once its delete was accepted)
	folders map[string]bool   // folder name → present
}

// soakSample is one reading of the process.
type soakSample struct {
	at    time.Duration
	rssMB float64
	// anonMB and fileMB split RSS into anonymous memory (Go's heap, stacks, runtime) and
	// file-backed pages (the 230 MB binary's code as it is run, and etcd's database, which it maps);
	// heapMB is the Go heap in use and dbMB the size of etcd's database file.
	anonMB, fileMB, heapMB, dbMB float64
	goroutines, fds, ops         float64
	unexpected, injected         int64
}

func runSoak(duration time.Duration, out string) error {
	tmp, err := os.MkdirTemp("", "wcpd-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wcpdBin, _, _, err := build(tmp)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(tmp, "data")
	w, err := startWcpd(wcpdBin, dataDir)
	if err != nil {
		return err
	}
	defer func() { w.stop() }()
	c := newClient(16)
	tok, err := session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return err
	}
	if err := prepareWcpdNamespaces(c, w.url, tok, 0); err != nil {
		return err
	}

	stats := &soakStats{}
	ledger := &soakLedger{classes: map[string]string{}, spaces: map[string]bool{}, folders: map[string]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	worker := func(n int, fn func(ctx context.Context, id int)) {
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); fn(ctx, i) }()
		}
	}
	worker(2, func(ctx context.Context, id int) { soakClasses(ctx, c, w.url, tok, id, stats, ledger) })
	worker(1, func(ctx context.Context, id int) { soakNamespaces(ctx, c, w.url, tok, id, stats, ledger) })
	worker(2, func(ctx context.Context, id int) { soakReads(ctx, c, w.url, tok, stats) })
	worker(2, func(ctx context.Context, id int) { soakSDK(ctx, w.url, id, stats, ledger) })
	worker(1, func(ctx context.Context, id int) { soakLogins(ctx, c, w.url, stats) })
	worker(1, func(ctx context.Context, id int) { soakFaults(ctx, c, w.url, tok, stats) })

	began := time.Now()
	var samples []soakSample
	read := func() {
		pid := w.pid()
		var db float64
		if fi, err := os.Stat(filepath.Join(dataDir, "etcd", "member", "snap", "db")); err == nil {
			db = float64(fi.Size()) / 1e6
		}
		samples = append(samples, soakSample{at: time.Since(began), rssMB: w.rssMB(),
			anonMB: anonOf(pid), fileMB: statusMB(pid, "RssFile:"), heapMB: metric(c, w.url, "go_memstats_heap_inuse_bytes") / 1e6, dbMB: db,
			goroutines: metric(c, w.url, "go_goroutines"), fds: float64(openFiles(pid)),
			ops: float64(stats.ops.Load()), unexpected: stats.unexpected.Load(), injected: stats.injected.Load()})
		s := samples[len(samples)-1]
		fmt.Fprintf(os.Stderr, "soak %6s  rss %6.1f MB (anon %6.1f, file %6.1f; heap %6.1f; etcd db %6.1f)  goroutines %5.0f  fds %4.0f  ops %8.0f  5xx %d  injected %d\n",
			s.at.Round(time.Second), s.rssMB, s.anonMB, s.fileMB, s.heapMB, s.dbMB, s.goroutines, s.fds, s.ops, s.unexpected, s.injected)
	}
	read()
	tick := time.NewTicker(10 * time.Second)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			read()
		}
	}
	tick.Stop()
	wg.Wait()
	read()

	lostBefore := soakVerify(c, w.url, tok, ledger)
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
	w.stopped = true
	w, err = startWcpd(wcpdBin, dataDir)
	if err != nil {
		return fmt.Errorf("restart after kill -9: %w", err)
	}
	tok, err = session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return err
	}
	lostAfter := soakVerify(c, w.url, tok, ledger)
	return writeSoakReport(out, duration, samples, stats, ledger, lostBefore, lostAfter)
}

// The writers cycle over a fixed set of names, so what wcpd holds stays the same size and
// growth in memory is growth, not data.
const soakNames = 40

// soakClasses creates, edits and deletes VM classes in turn, noting what was acknowledged.
func soakClasses(ctx context.Context, c *http.Client, base, tok string, id int, stats *soakStats, l *soakLedger) {
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("soak-%d-%d", id, n%soakNames)
		l.mu.Lock()
		desc, exists := l.classes[name]
		l.mu.Unlock()
		path := "/api/vcenter/namespace-management/virtual-machine-classes"
		switch {
		case !exists || desc == "":
			body := mustJSON(map[string]any{"id": name, "cpu_count": 1 + n%4, "memory_MB": 512})
			if soakDo(c, base, request{method: "POST", path: path, header: withSession(tok), body: body}, stats, 204) {
				l.set(func() { l.classes[name] = "-" })
			}
		case (n/soakNames)%3 != 2:
			desc := "edited " + strconv.Itoa(n)
			if soakDo(c, base, request{method: "PATCH", path: path + "/" + name, header: withSession(tok),
				body: mustJSON(map[string]any{"description": desc})}, stats, 204) {
				l.set(func() { l.classes[name] = desc })
			}
		default:
			if soakDo(c, base, request{method: "DELETE", path: path + "/" + name, header: withSession(tok)}, stats, 204) {
				l.set(func() { l.classes[name] = "" })
			}
		}
	}
}

// soakNamespaces creates namespaces on the Supervisor and deletes them again in turn.
func soakNamespaces(ctx context.Context, c *http.Client, base, tok string, id int, stats *soakStats, l *soakLedger) {
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("soak-ns-%d-%d", id, n%soakNames)
		l.mu.Lock()
		present := l.spaces[name]
		l.mu.Unlock()
		if !present {
			// Refused while an earlier namespace of that name is still being removed.
			if soakDo(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
				body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": name})}, stats, 204) {
				l.set(func() { l.spaces[name] = true })
			}
		} else if soakDo(c, base, request{method: "DELETE", path: "/api/vcenter/namespaces/instances/" + name,
			header: withSession(tok)}, stats, 204) {
			l.set(func() { l.spaces[name] = false })
		}
	}
}

// soakReads lists and gets what the writers make.
func soakReads(ctx context.Context, c *http.Client, base, tok string, stats *soakStats) {
	paths := []string{"/api/vcenter/namespaces/instances", "/api/vcenter/namespace-management/virtual-machine-classes",
		"/api/vcenter/namespace-management/clusters", "/api/vcenter/namespace-management/clusters/domain-c9",
		"/api/vcenter/namespaces/instances/v2"}
	for n := 0; ctx.Err() == nil; n++ {
		soakDo(c, base, request{method: "GET", path: paths[n%len(paths)], header: withSession(tok)}, stats, 200)
	}
}

// soakSDK makes and removes folders through /sdk with govmomi, and reads the inventory.
func soakSDK(ctx context.Context, base string, id int, stats *soakStats, l *soakLedger) {
	u, _ := url.Parse(base + "/sdk")
	u.User = url.UserPassword("administrator@vsphere.local", adminPassword)
	vc, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		stats.fail("/sdk login: %v", err)
		return
	}
	defer func() { _ = vc.Logout(context.Background()) }()
	finder := find.NewFinder(vc.Client)
	dc, err := finder.Datacenter(ctx, "Datacenter")
	if err != nil {
		stats.fail("/sdk datacenter: %v", err)
		return
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		stats.fail("/sdk folders: %v", err)
		return
	}
	made := map[string]*object.Folder{}
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("soak-folder-%d-%d", id, n%soakNames)
		if f := made[name]; f != nil {
			err := destroy(ctx, f)
			stats.ops.Add(1)
			if err != nil {
				if ctx.Err() == nil {
					stats.fail("/sdk Destroy %s: %v", name, err)
				} else {
					l.set(func() { delete(l.folders, name) })
				}
				continue
			}
			delete(made, name)
			l.set(func() { l.folders[name] = false })
			continue
		}
		f, err := folders.VmFolder.CreateFolder(ctx, name)
		stats.ops.Add(1)
		if err != nil {
			if ctx.Err() == nil {
				stats.fail("/sdk CreateFolder %s: %v", name, err)
			} else {
				// Cut off by the end of the soak: it may or may not have been made.
				l.set(func() { delete(l.folders, name) })
			}
			continue
		}
		made[name] = f
		l.set(func() { l.folders[name] = true })
		if _, err := finder.FolderList(ctx, "/Datacenter/vm/*"); err != nil && ctx.Err() == nil {
			stats.fail("/sdk list folders: %v", err)
		}
		stats.ops.Add(1)
	}
}

func destroy(ctx context.Context, f *object.Folder) error {
	task, err := f.Destroy(ctx)
	if err != nil {
		return err
	}
	return task.Wait(ctx)
}

// soakLogins logs in and out of the vCenter API.
func soakLogins(ctx context.Context, c *http.Client, base string, stats *soakStats) {
	for ctx.Err() == nil {
		tok, err := session(c, base, "administrator@vsphere.local", adminPassword)
		stats.ops.Add(1)
		if err != nil {
			if ctx.Err() == nil {
				stats.fail("login: %v", err)
			}
			continue
		}
		soakDo(c, base, request{method: "DELETE", path: "/api/session", header: withSession(tok)}, stats, 204)
	}
}

// soakFaults sends, once a second, one of the failures a server meets: a wrong password, a body
// cut off half way, malformed JSON, a SOAP request that is not XML, an operation on what does not
// exist, and an armed fault that makes a Supervisor enable end in ERROR. Their answers are not
// counted as unexpected; wcpd must stay up and keep answering the others.
func soakFaults(ctx context.Context, c *http.Client, base, tok string, stats *soakStats) {
	host := strings.TrimPrefix(base, "https://")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		stats.injected.Add(1)
		switch n % 6 {
		case 0:
			_, _ = session(c, base, "nobody@vsphere.local", "wrong")
		case 1:
			if conn, err := tls.Dial("tcp", host, &tls.Config{InsecureSkipVerify: true}); err == nil {
				fmt.Fprintf(conn, "POST /api/vcenter/namespaces/instances HTTP/1.1\r\nHost: %s\r\nvmware-api-session-id: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"clus", host, tok)
				_ = conn.Close()
			}
		case 2:
			_, _, _ = do(c, base, request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(tok), body: []byte(`{"id": "broken", `)})
		case 3:
			_, _, _ = do(c, base, request{method: "POST", path: "/sdk", header: map[string][]string{"Content-Type": {"text/xml"}}, body: []byte("<not-soap")})
		case 4:
			_, _, _ = do(c, base, request{method: "DELETE", path: "/api/vcenter/namespaces/instances/no-such-namespace", header: withSession(tok)})
		case 5:
			// Cluster-B's enable fails on purpose; the failed Supervisor is then taken away again.
			if n%12 == 5 {
				_, _, _ = do(c, base, request{method: "POST", path: "/api/wcpd/faults", header: withSession(tok),
					body: mustJSON(map[string]any{"operation": "enable", "target": "domain-c39", "mode": "ERROR", "message": "injected by the soak"})})
				status, body, _ := do(c, base, request{method: "POST", path: "/api/vcenter/namespace-management/clusters/domain-c39?action=enable",
					header: withSession(tok), body: mustJSON(clusterBEnableSpec())})
				if n == 5 {
					fmt.Fprintf(os.Stderr, "soak: enabling Cluster-B with a fault armed: %d %s\n", status, truncate(body, 300))
				}
			} else {
				_, _, _ = do(c, base, request{method: "POST", path: "/api/vcenter/namespace-management/clusters/domain-c39?action=disable", header: withSession(tok)})
			}
		}
	}
}

// soakDo sends r and reports whether it got want; a 5xx or a transport error is unexpected.
func soakDo(c *http.Client, base string, r request, stats *soakStats, want int) bool {
	status, body, err := do(c, base, r)
	stats.ops.Add(1)
	switch {
	case err != nil:
		if !strings.Contains(err.Error(), "context") {
			stats.fail("%s %s: %v", r.method, r.path, err)
		}
		return false
	case status >= 500:
		stats.fail("%s %s: %d %s", r.method, r.path, status, truncate(body, 200))
		return false
	}
	return status == want
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func (l *soakLedger) set(fn func()) {
	l.mu.Lock()
	fn()
	l.mu.Unlock()
}

// soakVerify reads back every acknowledged write; it returns those not found as acknowledged.
func soakVerify(c *http.Client, base, tok string, l *soakLedger) []string {
	var lost []string
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, desc := range l.classes {
		status, body, err := do(c, base, request{method: "GET", path: "/api/vcenter/namespace-management/virtual-machine-classes/" + name, header: withSession(tok)})
		switch {
		case err != nil:
			lost = append(lost, "class "+name+": "+err.Error())
		case desc == "" && status != 404:
			lost = append(lost, fmt.Sprintf("class %s: deleted, but GET answers %d", name, status))
		case desc != "" && status != 200:
			lost = append(lost, fmt.Sprintf("class %s: GET answers %d", name, status))
		case desc != "" && desc != "-":
			var info struct {
				Description string `json:"description"`
			}
			if json.Unmarshal(body, &info) != nil || info.Description != desc {
				lost = append(lost, fmt.Sprintf("class %s: description %q, want %q", name, info.Description, desc))
			}
		}
	}
	for name, present := range l.spaces {
		status, body, err := do(c, base, request{method: "GET", path: "/api/vcenter/namespaces/instances/" + name, header: withSession(tok)})
		switch {
		case err != nil:
			lost = append(lost, "namespace "+name+": "+err.Error())
		case present && status != 200:
			lost = append(lost, fmt.Sprintf("namespace %s: GET answers %d", name, status))
		case !present && status == 200 && !strings.Contains(string(body), `"REMOVING"`):
			lost = append(lost, fmt.Sprintf("namespace %s: deleted, but still there and not REMOVING", name))
		}
	}
	u, _ := url.Parse(base + "/sdk")
	u.User = url.UserPassword("administrator@vsphere.local", adminPassword)
	ctx := context.Background()
	vc, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return append(lost, "/sdk login: "+err.Error())
	}
	defer func() { _ = vc.Logout(ctx) }()
	found := map[string]bool{}
	list, err := find.NewFinder(vc.Client).FolderList(ctx, "/Datacenter/vm/*")
	if err != nil {
		return append(lost, "/sdk folders: "+err.Error())
	}
	for _, f := range list {
		found[f.Name()] = true
	}
	for name, present := range l.folders {
		if found[name] != present {
			lost = append(lost, fmt.Sprintf("folder %s: present %v, want %v", name, found[name], present))
		}
	}
	return lost
}

// metric reads one gauge from /metrics (as the administrator).
func metric(c *http.Client, base, name string) float64 {
	status, body, err := do(c, base, request{method: "GET", path: "/metrics", header: basic("administrator@vsphere.local", adminPassword)})
	if err != nil || status != 200 {
		return math.NaN()
	}
	lines := bufio.NewScanner(strings.NewReader(string(body)))
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return math.NaN()
}

// openFiles counts the process's open file descriptors.
func openFiles(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(entries)
}

// slopePerHour fits a line to the samples of the second half and returns its slope per hour. The
// first half is warm-up: the simulator keeps finished tasks for ten minutes (then removes them),
// and etcd's history fills to its five minutes.
func slopePerHour(samples []soakSample, value func(soakSample) float64) float64 {
	from := len(samples) / 2
	var n, sx, sy, sxx, sxy float64
	for _, s := range samples[from:] {
		x, y := s.at.Hours(), value(s)
		if math.IsNaN(y) {
			continue
		}
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	if d := n*sxx - sx*sx; n >= 2 && d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return math.NaN()
}

func writeSoakReport(out string, duration time.Duration, samples []soakSample, stats *soakStats, l *soakLedger, lostBefore, lostAfter []string) error {
	first, last := samples[0], samples[len(samples)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "## Soak\n\n")
	fmt.Fprintf(&b, "`go run ./bench -scenarios soak -soak %s`: one wcpd (`--kubernetes=false --task-duration 1ms`) with a\n", duration)
	fmt.Fprintf(&b, "Supervisor on Cluster-A, for %s under mixed traffic from 9 clients at once: two create, edit and\n", duration)
	fmt.Fprintf(&b, "delete VM classes, one creates and deletes namespaces, two read (lists and gets), two create and\n")
	fmt.Fprintf(&b, "destroy folders through /sdk with govmomi, one logs in and out. The writers cycle over %d names\n", soakNames)
	fmt.Fprintf(&b, "each, so what wcpd holds stays the same size. Once a second comes an injected failure: a wrong\n")
	fmt.Fprintf(&b, "password, a body cut off half way, malformed JSON, a SOAP request that is not XML, a delete of what\n")
	fmt.Fprintf(&b, "does not exist, or (every 12 s) an enable of Cluster-B with a fault armed to end it in ERROR, and\n")
	fmt.Fprintf(&b, "its disable. Every acknowledged write is read back at the end, and again after kill -9 and a\n")
	fmt.Fprintf(&b, "restart. Slopes are fitted to the samples of the second half (the first fills the ten minutes\n")
	fmt.Fprintf(&b, "finished tasks are kept and etcd's five minutes of history). Machine: %s.\n\n", machine())
	fmt.Fprintf(&b, "| measure | start | end | slope per hour |\n|---|---:|---:|---:|\n")
	row := func(name string, v func(soakSample) float64, format string) {
		fmt.Fprintf(&b, "| %s | "+format+" | "+format+" | "+format+" |\n", name, v(first), v(last), slopePerHour(samples, v))
	}
	row("RSS (MB)", func(s soakSample) float64 { return s.rssMB }, "%.1f")
	row("… anonymous (MB)", func(s soakSample) float64 { return s.anonMB }, "%.1f")
	row("… file-backed: the binary's code, etcd's mapped database (MB)", func(s soakSample) float64 { return s.fileMB }, "%.1f")
	row("Go heap in use (MB)", func(s soakSample) float64 { return s.heapMB }, "%.1f")
	row("etcd database file (MB)", func(s soakSample) float64 { return s.dbMB }, "%.1f")
	row("goroutines", func(s soakSample) float64 { return s.goroutines }, "%.0f")
	row("open files", func(s soakSample) float64 { return s.fds }, "%.0f")
	l.mu.Lock()
	classes, spaces, folders := len(l.classes), len(l.spaces), len(l.folders)
	l.mu.Unlock()
	fmt.Fprintf(&b, "\n| measure | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| requests and calls answered | %d (%.0f/s) |\n", stats.ops.Load(), float64(stats.ops.Load())/duration.Seconds())
	fmt.Fprintf(&b, "| injected failures | %d |\n", stats.injected.Load())
	fmt.Fprintf(&b, "| 5xx answers or broken connections not injected | %d |\n", stats.unexpected.Load())
	fmt.Fprintf(&b, "| acknowledged writes checked (VM classes, namespaces, folders) | %d, %d, %d |\n", classes, spaces, folders)
	fmt.Fprintf(&b, "| not found as acknowledged, at the end | %d |\n", len(lostBefore))
	fmt.Fprintf(&b, "| not found as acknowledged, after kill -9 and a restart | %d |\n", len(lostAfter))
	for _, f := range stats.failures {
		fmt.Fprintf(&b, "\nUnexpected: %s\n", f)
	}
	for i, lost := range append(lostBefore, lostAfter...) {
		if i == 10 {
			break
		}
		fmt.Fprintf(&b, "\nLost: %s\n", lost)
	}
	report := b.String()
	fmt.Fprint(os.Stderr, report)
	if out == "" {
		return nil
	}
	// The soak replaces its own section of the report and leaves the rest as it was.
	return writeReport(out, report)
}

// clusterBEnableSpec enables Cluster-B beside Cluster-A's Supervisor, on address ranges of its own.
func clusterBEnableSpec() map[string]any {
	spec := enableSpec()
	wl := spec["workload_networks_spec"].(map[string]any)["supervisor_primary_workload_network"].(map[string]any)["vsphere_network"].(map[string]any)
	wl["address_ranges"] = []any{map[string]any{"address": "10.30.2.10", "count": 100}}
	lb := spec["load_balancer_config_spec"].(map[string]any)
	lb["address_ranges"] = []any{map[string]any{"address": "10.40.1.10", "count": 50}}
	mgmt := spec["master_management_network"].(map[string]any)["address_range"].(map[string]any)
	mgmt["starting_address"] = "10.20.0.100"
	return spec
}
