// Command bench measures wcpd against govmomi's simulator (vcsim, with its namespace simulator, in a
// process of its own) and a bare Go HTTPS server answering fixed bytes (the ceiling this machine
// allows), all driven by the same load generator in one run on one machine. It is a program, not a
// test: run it with `go run ./bench` and it writes docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const adminPassword = "Bench-Pw-1!"

func main() {
	clients := flag.Int("clients", 32, "concurrent keep-alive clients")
	requests := flag.Int("requests", 20000, "requests per scenario and target")
	bigNamespaces := flag.Int("big-namespaces", 10000, "namespaces stored for the at-size measurements (0 skips them)")
	bigClasses := flag.Int("big-classes", 1000, "VM classes stored for the at-size measurements")
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown report to write (empty: stdout only)")
	flag.Parse()
	if err := run(*clients, *requests, *bigNamespaces, *bigClasses, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// proc is one server process under test.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	ready time.Duration
}

func (p *proc) stop() {
	if p == nil || p.cmd == nil {
		return
	}
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// rssMB reads the process's resident set size.
func (p *proc) rssMB() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// start runs bin with args and waits until a line of its stdout satisfies urlOf, then until
// readyPath answers 200.
func start(name, bin string, env []string, urlOf func(line string) string, readyPath string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = io.Discard
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u := urlOf(lines.Text()); u != "" {
			p.url = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if p.url == "" {
		p.stop()
		return nil, fmt.Errorf("%s printed no URL", name)
	}
	c := newClient(1)
	for deadline := time.Now().Add(30 * time.Second); ; {
		res, err := c.Get(p.url + readyPath)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not ready after 30 s", name)
		}
		time.Sleep(2 * time.Millisecond) // polling a separate process's readiness; not a test
	}
	p.ready = time.Since(began)
	return p, nil
}

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns * 2,
	}}
}

// request describes one request of a scenario; body is re-read for every send.
type request struct {
	method, path string
	header       http.Header
	body         []byte
	want         int // expected status when wcpd answers; any 2xx counts as success under load
}

func (r request) build(base string) *http.Request {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, _ := http.NewRequest(r.method, base+r.path, body)
	for k, v := range r.header {
		req.Header[k] = v
	}
	return req
}

func do(c *http.Client, base string, r request) (int, []byte, error) {
	res, err := c.Do(r.build(base))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// result of one scenario on one target.
type result struct {
	target, scenario string
	rps              float64
	p50, p99         time.Duration
	bytes            int
	errors           int64
	note             string
}

// load sends n operations with `clients` concurrent workers over keep-alive connections; an
// operation is one or more requests (next(i) returns them), timed together.
func load(base string, clients, n int, next func(i int) []request) result {
	c := newClient(clients)
	var (
		counter atomic.Int64
		errs    atomic.Int64
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, n)
		size    int
	)
	// Warm the connections and the server.
	for i := 0; i < clients; i++ {
		for _, r := range next(-1 - i) {
			_, _, _ = do(c, base, r)
		}
	}
	began := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, n/clients+1)
			for {
				i := int(counter.Add(1)) - 1
				if i >= n {
					break
				}
				t0 := time.Now()
				for _, r := range next(i) {
					status, body, err := do(c, base, r)
					if err != nil || status/100 != 2 {
						errs.Add(1)
					} else if i == 0 {
						mu.Lock()
						size = len(body)
						mu.Unlock()
					}
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	return result{rps: float64(n) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), bytes: size, errors: errs.Load()}
}

func basic(user, pass string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return http.Header{"Authorization": r.Header["Authorization"]}
}

func session(c *http.Client, base, user, pass string) (string, error) {
	status, body, err := do(c, base, request{method: "POST", path: "/rest/com/vmware/cis/session", header: basic(user, pass)})
	if err != nil {
		return "", err
	}
	var v struct{ Value string }
	if status != 200 || json.Unmarshal(body, &v) != nil || v.Value == "" {
		return "", fmt.Errorf("login: %d %s", status, body)
	}
	return v.Value, nil
}

func withSession(token string) http.Header {
	return http.Header{"Vmware-Api-Session-Id": {token}, "Content-Type": {"application/json"}}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// unsupported reports whether a response says wcpd does not implement the operation yet.
func unsupported(body []byte) bool {
	return bytes.Contains(body, []byte(`"UNSUPPORTED"`)) && bytes.Contains(body, []byte("does not implement"))
}

func build(dir string) (wcpd, vcsim, ceiling string, err error) {
	wcpd, vcsim, ceiling = filepath.Join(dir, "wcpd"), filepath.Join(dir, "vcsim"), filepath.Join(dir, "ceiling")
	for pkg, bin := range map[string]string{"./cmd/wcpd": wcpd, "./bench/vcsim": vcsim, "./bench/ceiling": ceiling} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return "", "", "", fmt.Errorf("building %s: %w", pkg, err)
		}
	}
	return wcpd, vcsim, ceiling, nil
}

func startWcpd(bin, dataDir string) (*proc, error) {
	return start("wcpd", bin, []string{"WCPD_ADMIN_PASSWORD=" + adminPassword},
		func(line string) string {
			if u, ok := strings.CutPrefix(line, "wcpd is ready at "); ok {
				return strings.Fields(u)[0]
			}
			return ""
		}, "/healthz", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "error", "--task-duration", "1ms")
}

func startVcsim(bin string) (*proc, error) {
	return start("vcsim", bin, nil, func(line string) string {
		if strings.HasPrefix(line, "https://") {
			u := strings.TrimSuffix(line, "/sdk")
			if at := strings.LastIndex(u, "@"); at >= 0 {
				u = "https://" + u[at+1:]
			}
			return u
		}
		return ""
	}, "/about")
}

func run(clients, n, bigNS, bigClasses int, out string) error {
	tmp, err := os.MkdirTemp("", "wcpd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wcpdBin, vcsimBin, ceilingBin, err := build(tmp)
	if err != nil {
		return err
	}
	fresh := filepath.Join(tmp, "fresh")
	w, err := startWcpd(wcpdBin, fresh)
	if err != nil {
		return err
	}
	defer w.stop()
	v, err := startVcsim(vcsimBin)
	if err != nil {
		return err
	}
	defer v.stop()
	c, err := start("ceiling", ceilingBin, nil, func(line string) string {
		if strings.HasPrefix(line, "https://") {
			return line
		}
		return ""
	}, "/", "-cert", filepath.Join(fresh, "tls", "server.crt"), "-key", filepath.Join(fresh, "tls", "server.key"))
	if err != nil {
		return err
	}
	defer c.stop()

	setup := newClient(4)
	wTok, err := session(setup, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return fmt.Errorf("wcpd %w", err)
	}
	vTok, err := session(setup, v.url, "user", "pass")
	if err != nil {
		return fmt.Errorf("vcsim %w", err)
	}
	var results []result
	add := func(r result, target, scenario, note string) {
		r.target, r.scenario, r.note = target, scenario, note
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%-8s %-28s %9.0f req/s  p50 %-10v p99 %-10v %6d B  errors %d %s\n",
			target, scenario, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.bytes, r.errors, note)
	}
	ceilingFor := func(size int) func(int) []request {
		return func(int) []request {
			return []request{{method: "GET", path: "/?size=" + strconv.Itoa(size), want: 200}}
		}
	}

	// 1. Session login.
	login := func(user, pass string) func(int) []request {
		return func(int) []request {
			return []request{{method: "POST", path: "/rest/com/vmware/cis/session", header: basic(user, pass), want: 200}}
		}
	}
	rw := load(w.url, clients, n, login("administrator@vsphere.local", adminPassword))
	add(rw, "wcpd", "session login", "")
	add(load(v.url, clients, n, login("user", "pass")), "vcsim", "session login", "")
	add(load(c.url, clients, n, ceilingFor(rw.bytes+10)), "ceiling", "session login", "same bytes as wcpd's answer")

	// 2. List 100 namespaces.
	wcpdNamespaces := prepareWcpdNamespaces(setup, w.url, wTok, 100)
	for i := 0; i < 100; i++ {
		_, _, _ = do(setup, v.url, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(vTok),
			body: mustJSON(map[string]any{"cluster": "domain-c1", "namespace": fmt.Sprintf("ns-%03d", i), "description": "benchmark namespace"})})
	}
	list := func(tok string) func(int) []request {
		return func(int) []request {
			return []request{{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok), want: 200}}
		}
	}
	rw = result{}
	if wcpdNamespaces == nil {
		rw = load(w.url, clients, n, list(wTok))
		add(rw, "wcpd", "list 100 namespaces", "")
	} else {
		add(result{}, "wcpd", "list 100 namespaces", "not measured: "+wcpdNamespaces.Error())
	}
	rv := load(v.url, clients, n, list(vTok))
	add(rv, "vcsim", "list 100 namespaces", "")
	size := rw.bytes
	if size == 0 {
		size = rv.bytes
	}
	add(load(c.url, clients, n, ceilingFor(size)), "ceiling", "list 100 namespaces", "same bytes as wcpd's answer")

	// 3. GET one VM class.
	_, _, _ = do(setup, v.url, request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(vTok),
		body: mustJSON(map[string]any{"id": "best-effort-small", "cpu_count": 2, "memory_mb": 4096})})
	getClass := func(tok string) func(int) []request {
		return func(int) []request {
			return []request{{method: "GET", path: "/api/vcenter/namespace-management/virtual-machine-classes/best-effort-small", header: withSession(tok), want: 200}}
		}
	}
	status, body, _ := do(setup, w.url, getClass(wTok)(0)[0])
	rw = result{}
	if status == 200 {
		rw = load(w.url, clients, n, getClass(wTok))
		add(rw, "wcpd", "get one VM class", "")
	} else {
		add(result{}, "wcpd", "get one VM class", fmt.Sprintf("not measured: %d %.80s", status, body))
	}
	rv = load(v.url, clients, n, getClass(vTok))
	add(rv, "vcsim", "get one VM class", "")
	size = rw.bytes
	if size == 0 {
		size = rv.bytes
	}
	add(load(c.url, clients, n, ceilingFor(size)), "ceiling", "get one VM class", "same bytes as wcpd's answer")

	// 4. Create then delete a namespace.
	createDelete := func(base, tok, cluster string) func(int) []request {
		return func(i int) []request {
			name := fmt.Sprintf("cd-%d", i+clients+1)
			return []request{
				{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok), want: 204,
					body: mustJSON(map[string]any{"cluster": cluster, "namespace": name})},
				{method: "DELETE", path: "/api/vcenter/namespaces/instances/" + name, header: withSession(tok), want: 204},
			}
		}
	}
	cdN := n / 10
	if wcpdNamespaces == nil {
		add(load(w.url, clients, cdN, createDelete(w.url, wTok, "domain-c9")), "wcpd", "create+delete namespace",
			"validates, stores in etcd, creates and removes a resource pool")
	} else {
		add(result{}, "wcpd", "create+delete namespace", "not measured: "+wcpdNamespaces.Error())
	}
	rv = load(v.url, clients, cdN, createDelete(v.url, vTok, "domain-c1"))
	rv.note = "a map insert and delete"
	add(rv, "vcsim", "create+delete namespace", rv.note)

	// 5. Start-up and size.
	startup := []string{fmt.Sprintf("| wcpd, fresh data dir | %.0f ms |", ms(w.ready)), fmt.Sprintf("| vcsim (simulator alone) | %.0f ms |", ms(v.ready))}
	var sizeRows []string
	if bigNS > 0 {
		rows, err := atSize(wcpdBin, filepath.Join(tmp, "big"), bigNS, bigClasses)
		if err != nil {
			sizeRows = append(sizeRows, "| at size | not measured: "+err.Error()+" |")
		} else {
			startup = append(startup, rows[0])
			sizeRows = rows[1:]
		}
	}
	report := render(results, startup, sizeRows, clients, n)
	fmt.Print(report)
	if out != "" {
		return os.WriteFile(out, []byte(report), 0o644)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// prepareWcpdNamespaces enables a Supervisor on Cluster-A and creates count namespaces; it returns
// why it could not.
func prepareWcpdNamespaces(c *http.Client, base, tok string, count int) error {
	status, body, err := do(c, base, request{method: "POST", path: "/api/vcenter/namespace-management/clusters/domain-c9?action=enable",
		header: withSession(tok), body: mustJSON(enableSpec())})
	if err != nil {
		return err
	}
	if unsupported(body) {
		return errors.New("wcpd does not implement Supervisor enable yet")
	}
	if status != 204 && status != 400 {
		return fmt.Errorf("enable: %d %s", status, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, body, _ := do(c, base, request{method: "GET", path: "/api/vcenter/namespace-management/clusters/domain-c9", header: withSession(tok)})
		if bytes.Contains(body, []byte(`"config_status":"RUNNING"`)) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Supervisor not RUNNING: %s", body)
		}
		time.Sleep(10 * time.Millisecond) // waiting on another process; not a test
	}
	for i := 0; i < count; i++ {
		status, body, err := do(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
			body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": fmt.Sprintf("ns-%03d", i), "description": "benchmark namespace"})})
		if err != nil {
			return err
		}
		if unsupported(body) {
			return errors.New("wcpd does not implement namespace create yet")
		}
		if status != 204 {
			return fmt.Errorf("create namespace: %d %s", status, body)
		}
	}
	return nil
}

// enableSpec is a valid vSphere-networked EnableSpec for the default inventory.
func enableSpec() map[string]any {
	const gold = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	return map[string]any{
		"size_hint": "TINY", "service_cidr": map[string]any{"address": "10.96.0.0", "prefix": 23},
		"network_provider": "VSPHERE_NETWORK",
		"workload_networks_spec": map[string]any{"supervisor_primary_workload_network": map[string]any{
			"network": "primary", "network_provider": "VSPHERE_NETWORK",
			"vsphere_network": map[string]any{"portgroup": "dvportgroup-88", "gateway": "10.30.0.1", "subnet_mask": "255.255.255.0",
				"address_ranges": []any{map[string]any{"address": "10.30.0.10", "count": 100}}}}},
		"load_balancer_config_spec": map[string]any{"id": "haproxy", "provider": "HA_PROXY",
			"address_ranges": []any{map[string]any{"address": "10.40.0.10", "count": 50}},
			"ha_proxy_config_create_spec": map[string]any{"servers": []any{map[string]any{"host": "10.40.0.2", "port": 5556}},
				"username": "admin", "password": "secret", "certificate_authority_chain": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
		"master_management_network": map[string]any{"network": "dvportgroup-87", "mode": "STATICRANGE",
			"address_range": map[string]any{"starting_address": "10.20.0.10", "address_count": 5, "subnet_mask": "255.255.255.0", "gateway": "10.20.0.1"}},
		"master_storage_policy": gold, "ephemeral_storage_policy": gold, "image_storage": map[string]any{"storage_policy": gold},
	}
}

// atSize stores many namespaces and VM classes, then measures RSS, list latency and a restart.
func atSize(bin, dir string, namespaces, classes int) ([]string, error) {
	w, err := startWcpd(bin, dir)
	if err != nil {
		return nil, err
	}
	c := newClient(16)
	tok, err := session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		w.stop()
		return nil, err
	}
	if err := prepareWcpdNamespaces(c, w.url, tok, 0); err != nil {
		w.stop()
		return nil, err
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	parallel := func(count int, req func(i int) request) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for k := 0; k < 16; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < count; i = int(next.Add(1)) - 1 {
					r := req(i)
					if status, body, err := do(c, w.url, r); err != nil || status != r.want {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d %.100s %v", r.method, r.path, status, body, err))
					}
				}
			}()
		}
		wg.Wait()
	}
	parallel(namespaces, func(i int) request {
		return request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok), want: 204,
			body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": fmt.Sprintf("big-%05d", i), "description": "stored for the at-size benchmark"})}
	})
	parallel(classes, func(i int) request {
		return request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(tok), want: 204,
			body: mustJSON(map[string]any{"id": fmt.Sprintf("bench-class-%04d", i), "cpu_count": 2, "memory_MB": 2048})}
	})
	if failed.Load() > 0 {
		w.stop()
		return nil, fmt.Errorf("%d creates failed, first: %v", failed.Load(), firstErr.Load())
	}
	runtime.GC()
	rss := w.rssMB()
	var lat []time.Duration
	for i := 0; i < 20; i++ {
		t0 := time.Now()
		status, _, err := do(c, w.url, request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok)})
		if err != nil || status != 200 {
			w.stop()
			return nil, fmt.Errorf("list at size: %d %v", status, err)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	w.stop()
	w2, err := startWcpd(bin, dir)
	if err != nil {
		return nil, err
	}
	defer w2.stop()
	return []string{
		fmt.Sprintf("| wcpd, %d namespaces and %d VM classes stored | %.0f ms |", namespaces, classes, ms(w2.ready)),
		fmt.Sprintf("| RSS with %d namespaces and %d VM classes | %.0f MB |", namespaces, classes, rss),
		fmt.Sprintf("| list of %d namespaces, median of 20 | %.1f ms |", namespaces, ms(lat[len(lat)/2])),
		fmt.Sprintf("| list of %d namespaces, slowest of 20 | %.1f ms |", namespaces, ms(lat[len(lat)-1])),
	}, nil
}

func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
		if len(f) >= 2 {
			kb, _ := strconv.Atoi(f[1])
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/1024/1024)
		}
	}
	return fmt.Sprintf("%d cores (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func render(results []result, startup, sizeRows []string, clients, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nGenerated by `go run ./bench` on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s. All three servers ran on this machine in one run, each in its own process, driven\n", machine())
	fmt.Fprintf(&b, "by the same Go load generator (keep-alive HTTPS, %d concurrent clients, %d requests per scenario;\n", clients, n)
	b.WriteString("create+delete uses a tenth of that). `ceiling` is a bare Go HTTPS server answering the same\n")
	b.WriteString("number of bytes as wcpd's answer: the most this machine allows for that response. Figures from\n")
	b.WriteString("one run on a shared machine; compare them as ratios within the run.\n\n")
	b.WriteString("| scenario | target | req/s | p50 | p99 | bytes | errors | note |\n|---|---|---:|---:|---:|---:|---:|---|\n")
	byKey := map[string]result{}
	for _, r := range results {
		byKey[r.target+"/"+r.scenario] = r
		if r.rps == 0 {
			fmt.Fprintf(&b, "| %s | %s | – | – | – | – | – | %s |\n", r.scenario, r.target, r.note)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f ms | %.2f ms | %d | %d | %s |\n", r.scenario, r.target, r.rps, ms(r.p50), ms(r.p99), r.bytes, r.errors, r.note)
	}
	b.WriteString("\n| scenario | wcpd / vcsim | wcpd / ceiling |\n|---|---:|---:|\n")
	seen := map[string]bool{}
	for _, r := range results {
		if seen[r.scenario] {
			continue
		}
		seen[r.scenario] = true
		wr, vr, cr := byKey["wcpd/"+r.scenario], byKey["vcsim/"+r.scenario], byKey["ceiling/"+r.scenario]
		ratio := func(a, b result) string {
			if a.rps == 0 || b.rps == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", a.rps/b.rps)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.scenario, ratio(wr, vr), ratio(wr, cr))
	}
	b.WriteString("\n## Start-up to ready\n\n| server | time |\n|---|---:|\n")
	for _, s := range startup {
		b.WriteString(s + "\n")
	}
	if len(sizeRows) > 0 {
		b.WriteString("\n## At size\n\n| measure | value |\n|---|---:|\n")
		for _, s := range sizeRows {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}
