// Command bench measures wcpd against govmomi's simulator (vcsim, with its namespace simulator, in a
// process of its own) and a bare Go HTTPS server answering the same bytes (the ceiling this machine
// allows), all driven by wrk, in a process of its own too (wrk.go), in one run on one machine. It is
// a program, not a test: run it with `go run ./bench` and it writes docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const adminPassword = "Bench-Pw-1!"

func main() {
	clients := flag.Int("clients", 32, "keep-alive connections wrk keeps open (its -c)")
	duration := flag.Duration("duration", 8*time.Second, "how long wrk loads each target in each HTTP scenario (split into rounds)")
	readDuration := flag.Duration("read-duration", 4*time.Second, "how long wrk loads each target for each read operation (reads scenario, split into rounds)")
	bigNamespaces := flag.Int("big-namespaces", 10000, "namespaces stored for the at-size measurements (0 skips them)")
	bigClasses := flag.Int("big-classes", 1000, "VM classes stored for the at-size measurements")
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown report to write (empty: stdout only)")
	scenarios := flag.String("scenarios", "login,list,get,reads,changes,create,size,kubernetes",
		"comma-separated scenarios to run: login, list, get, create (each against the three servers), reads (every read operation of the reference against its same-bytes ceiling), changes (a read costly to make while a namespace changes), size (wcpd at size), kubernetes (the Supervisors' Kubernetes API); or soak alone (-soak long, bench/soak.go), or pods alone (vSphere Pods, bench/pods.go)")
	flag.IntVar(&kubeNamespaces, "kube-namespaces", 1000, "namespaces realised at once in the Kubernetes measurements")
	soakFor := flag.Duration("soak", 20*time.Minute, "how long the soak scenario runs")
	flag.IntVar(&podsPerNS, "pods-per-namespace", 100, "pods per namespace (of 10) created at once in the pods scenario")
	pprofFlag := flag.Bool("pprof", false, "start wcpd with --pprof and print how to profile it while the load runs")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the clients' own logging is not what is measured
	switch {
	case *clients < 1:
		fmt.Fprintf(os.Stderr, "bench: -clients %d: want at least 1 connection\n", *clients)
		os.Exit(2)
	case *duration < rounds*time.Second || *readDuration < readTurns*time.Second:
		fmt.Fprintf(os.Stderr, "bench: -duration %v, -read-duration %v: want %ds and %ds or more: a second or more for each round (wrk counts whole seconds)\n",
			*duration, *readDuration, rounds, readTurns)
		os.Exit(2)
	}
	want := map[string]bool{}
	for _, sc := range strings.Split(*scenarios, ",") {
		switch sc = strings.TrimSpace(sc); sc {
		case "login", "list", "get", "reads", "changes", "create", "size", "kubernetes", "soak", "pods":
			want[sc] = true
		case "":
		default:
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q\n", sc)
			os.Exit(2)
		}
	}
	if !want["size"] {
		*bigNamespaces = 0
	}
	wcpdExtraArgs = nil
	if *pprofFlag {
		wcpdExtraArgs = []string{"--pprof"}
	}
	if want["pods"] {
		// vSphere Pods run alone too, on a wcpd of their own, and replace their section.
		if len(want) > 1 {
			fmt.Fprintln(os.Stderr, "bench: the pods scenario runs alone")
			os.Exit(2)
		}
		if err := runPods(*out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if want["soak"] {
		// The soak runs alone (the machine is its own) and replaces its section of the report.
		if len(want) > 1 {
			fmt.Fprintln(os.Stderr, "bench: the soak scenario runs alone")
			os.Exit(2)
		}
		if err := runSoak(*soakFor, *out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*clients, *duration, *readDuration, *bigNamespaces, *bigClasses, *out, want); err != nil {
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
	// stopped is set by the first stop.
	stopped bool
}

func (p *proc) stop() {
	if p == nil || p.cmd == nil || p.stopped {
		return
	}
	p.stopped = true
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

// pid is the process's id (0 when there is no process).
func (p *proc) pid() int {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// rssMB reads the process's resident set size.
func (p *proc) rssMB() float64 { return rssOf(p.pid()) }

// rssOf reads the resident set size of process pid, in MB.
func rssOf(pid int) float64 { return statusMB(pid, "VmRSS:") }

// anonOf reads the resident anonymous memory of process pid, in MB: what it holds that no other
// process shares (RSS also counts the pages of the executable, which wcpd and its Kubernetes
// children map from one file and share).
func anonOf(pid int) float64 { return statusMB(pid, "RssAnon:") }

// statusMB reads a kB figure of /proc/<pid>/status, in MB.
func statusMB(pid int, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// start runs bin with args and waits until a line of its stdout satisfies urlOf, then until
// readyPath answers 200 (with no readyPath, the line says the process is ready).
func start(name, bin string, env []string, urlOf func(line string) string, readyPath string, args ...string) (*proc, error) {
	return startWritingTo(nil, name, bin, env, urlOf, readyPath, args...)
}

// startWritingTo is start with the process's standard error going to stderr (nil: nowhere).
func startWritingTo(stderr *os.File, name, bin string, env []string, urlOf func(line string) string, readyPath string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if stderr != nil { // a file, not a writer: the process writes to it itself, not through a pipe to this one
		cmd.Stderr = stderr
	}
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
	if readyPath != "" {
		if err := waitReady(p.url + readyPath); err != nil {
			p.stop()
			return nil, fmt.Errorf("%s %w", name, err)
		}
	}
	p.ready = time.Since(began)
	return p, nil
}

// waitReady polls url until it answers 200, for 30 s at most.
func waitReady(url string) error {
	c := newClient(1)
	defer c.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); ; {
		res, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("not ready after 30 s")
		}
		time.Sleep(2 * time.Millisecond) // polling a separate process's readiness; not a test
	}
}

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns * 2,
	}}
}

// rpcTarget names wcpd's JSON-RPC endpoint among the targets.
const rpcTarget = "wcpd JSON-RPC"

// loggedTarget names the wcpd that writes a log line for every request.
const loggedTarget = "wcpd, request lines"

// startLoggedWcpd starts a wcpd of its own in dir at wcpd's default log level, its logs going to a
// file there.
func startLoggedWcpd(bin, dir string) (*proc, error) {
	logs, err := os.Create(filepath.Join(dir, "logged.log"))
	if err != nil {
		return nil, err
	}
	defer logs.Close() // the process has its own descriptor
	return startWcpdLogging(logs, "info", bin, filepath.Join(dir, "logged"), "--kubernetes=false")
}

// jsonRPC is one vAPI JSON-RPC invoke on POST /api, as the official SDKs send it. Its answer is HTTP
// 200 whatever the outcome, so the load counts only answers that carry an output.
func jsonRPC(service, operation, inputFields string, securityCtx map[string]any) request {
	body := mustJSON(map[string]any{"jsonrpc": "2.0", "method": "invoke", "id": "1", "params": map[string]any{
		"serviceId": service, "operationId": operation,
		"input": json.RawMessage(`{"STRUCTURE":{"operation-input":` + inputFields + `}}`),
		"ctx":   map[string]any{"appCtx": map[string]any{"opId": "1"}, "securityCtx": securityCtx},
	}})
	return request{method: "POST", path: "/api", header: http.Header{"Content-Type": {"application/json"}}, body: body, want: 200, rpc: true}
}

func userPassContext(user, pass string) map[string]any {
	return map[string]any{"schemeId": "com.vmware.vapi.std.security.user_pass", "userName": user, "password": pass}
}

func sessionContext(id string) map[string]any {
	return map[string]any{"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": id}
}

// request describes one request of a scenario; body is re-read for every send.
type request struct {
	method, path string
	header       http.Header
	body         []byte
	want         int // expected status when wcpd answers; any 2xx counts as success under load
	// rpc marks a JSON-RPC invoke: success is an answer with a result output, not the status.
	rpc bool
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
	overtaken        int64 // create+delete: DELETEs that went out before their POST was answered
	note             string

	n       int64             // requests answered
	elapsed time.Duration     // time they took
	lat     []weightedLatency // the latency distribution, as weighted points
	// roundRates and roundP99s are the rate and the p99 of each round of the measurement, in the
	// order the rounds ran.
	roundRates []float64
	roundP99s  []time.Duration
	// cpu is the CPU time (user and system) the server's process spent during the rounds whose
	// requests cpuRequests counts: the rounds in which its CPU time could be read (compare).
	cpu         time.Duration
	cpuRequests int64
}

// cpuPerRequest is the CPU time the server's process spent per request it answered, in µs; ok is
// false when it was not read.
func (r result) cpuPerRequest() (us float64, ok bool) { return cpuPerRequestUS(r.cpu, r.cpuRequests) }

// rateRatio is how a's rate compares with b's, measured in the same rounds: the median of the
// ratios of the two rates round by round. Each round measures the two one right after the other,
// so a burst of other work on the shared machine moves one round's ratio, not the result, as it
// would a ratio of the totals (which is what is left when the rounds do not pair up).
func rateRatio(a, b result) float64 {
	if len(a.roundRates) == 0 || len(a.roundRates) != len(b.roundRates) {
		return a.rps / b.rps
	}
	ratios := make([]float64, len(a.roundRates))
	for i := range ratios {
		ratios[i] = a.roundRates[i] / b.roundRates[i]
	}
	return median(ratios)
}

// p99Gap is how much a's p99 exceeds b's, measured in the same rounds: the median of the differences
// of the two p99s round by round, for the reason rateRatio takes the median of the rates' ratios (a
// burst of other work lengthens the tail of the server measured during it). When the rounds do not
// pair up, it is the difference of the p99s over all rounds.
func p99Gap(a, b result) time.Duration {
	if len(a.roundP99s) == 0 || len(a.roundP99s) != len(b.roundP99s) {
		return a.p99 - b.p99
	}
	gaps := make([]time.Duration, len(a.roundP99s))
	for i := range gaps {
		gaps[i] = a.roundP99s[i] - b.roundP99s[i]
	}
	return median(gaps)
}

// median of xs (sorted in place): the middle value, or the mean of the two middle ones.
func median[T float64 | time.Duration](xs []T) T {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[n/2]
}

// weightedLatency is one point of a latency distribution standing for weight requests: wrk reports
// each run's distribution as quantiles, and the rounds of a measurement are merged from those.
type weightedLatency struct {
	latency time.Duration
	weight  float64
}

// summarised fills rps, p50 and p99 from n, elapsed and lat.
func (r result) summarised() result {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i].latency < r.lat[j].latency })
	if r.elapsed > 0 {
		r.rps = float64(r.n) / r.elapsed.Seconds()
	}
	r.p50, r.p99 = percentile(r.lat, 0.50), percentile(r.lat, 0.99)
	return r
}

// merge combines results of the same scenario and target measured in turns.
func merge(parts ...result) result {
	var out result
	for _, p := range parts {
		out.n += p.n
		out.elapsed += p.elapsed
		out.errors += p.errors
		out.overtaken += p.overtaken
		out.cpu += p.cpu
		out.cpuRequests += p.cpuRequests
		out.lat = append(out.lat, p.lat...)
		if p.elapsed > 0 {
			out.roundRates = append(out.roundRates, float64(p.n)/p.elapsed.Seconds())
			out.roundP99s = append(out.roundP99s, p.summarised().p99)
		}
		if out.bytes == 0 {
			out.bytes = p.bytes
		}
	}
	return out.summarised()
}

// percentile of a distribution sorted by latency.
func percentile(sorted []weightedLatency, p float64) time.Duration {
	var total float64
	for _, l := range sorted {
		total += l.weight
	}
	var seen float64
	for _, l := range sorted {
		if seen += l.weight; seen >= total*p {
			return l.latency
		}
	}
	return 0
}

// rounds is how many turns each scenario's servers take: the machine is shared, so a burst of
// other work should not fall on one server's whole measurement, and the shorter the turns, the
// closer in time the servers a ratio compares were measured (rateRatio).
const rounds = 8

// contender is one server measured in a scenario.
type contender struct {
	name string
	base string
	// pid is the server's process, whose CPU time is read around each round (0: not known).
	pid int
	// script is the wrk script of the scenario (fixedScript, createDeleteScript); it gets the round's
	// number as its argument.
	script string
	// sample, when set, is sent once before the load to record the answer's size.
	sample *request
	// afterRound, when set, runs after each of the contender's rounds (to remove what it left).
	afterRound func()
	// during, when set, runs beside each of the contender's rounds, in a goroutine of its own, until
	// stop is closed; the round ends once it has returned.
	during func(stop <-chan struct{})
}

// fixed is a contender that sends r over and over to server.
func fixed(name string, server *proc, r request) contender {
	return contender{name: name, base: server.url, pid: server.pid(), script: fixedScript(r), sample: &r}
}

// compare measures the contenders for d each with wrk, in rounds: every round gives each a share of
// d, in an order that rotates from round to round. A contender wrk cannot measure is reported
// with the reason in its note.
func compare(clients int, d time.Duration, turns int, contenders []contender) []result {
	parts := make([][]result, len(contenders))
	failures := make([]error, len(contenders))
	// The size of each answer is taken before the load, when the ceiling's is.
	sizes := make([]int, len(contenders))
	probe := newClient(1)
	for i, c := range contenders {
		if c.sample != nil {
			if status, body, err := do(probe, c.base, *c.sample); err == nil && status/100 == 2 {
				sizes[i] = len(body)
			}
		}
	}
	probe.CloseIdleConnections()
	for r := 0; r < turns; r++ {
		for k := range contenders {
			i := (k + r) % len(contenders)
			c := contenders[i]
			if failures[i] != nil {
				continue
			}
			// The server's CPU time is read right before and after wrk, before afterRound's cleanup,
			// so it covers the round's requests and what the process did meanwhile, nothing else.
			cpuBefore, readBefore := processCPU(c.pid)
			stop, beside := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(beside)
				if c.during != nil {
					c.during(stop)
				}
			}()
			res, err := runWrk(c.base, c.script, clients, d/time.Duration(turns), strconv.Itoa(r))
			close(stop)
			<-beside
			if cpuAfter, readAfter := processCPU(c.pid); readBefore && readAfter && err == nil {
				res.cpu, res.cpuRequests = cpuAfter-cpuBefore, res.n
			}
			if c.afterRound != nil {
				c.afterRound()
			}
			if err != nil {
				failures[i] = err
				continue
			}
			parts[i] = append(parts[i], res)
		}
	}
	out := make([]result, len(contenders))
	for i, c := range contenders {
		if failures[i] != nil {
			// The note goes in a table cell: wrk's first line says enough.
			why, _, _ := strings.Cut(strings.TrimSpace(failures[i].Error()), "\n")
			out[i] = result{target: c.name, note: "not measured: " + strings.TrimSpace(why)}
			continue
		}
		out[i] = merge(parts[i]...)
		out[i].target, out[i].bytes = c.name, sizes[i]
	}
	return out
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

// wcpdExtraArgs are added to `wcpd serve` (--pprof with -pprof).
var wcpdExtraArgs []string

func startWcpd(bin, dataDir string) (*proc, error) {
	return startWcpdWith(bin, dataDir, "--kubernetes=false")
}

// startWcpdWith starts `wcpd serve` on dataDir with extra flags. The vCenter API scenarios run with
// --kubernetes=false: the Supervisors' Kubernetes servers would share the machine with the load
// (they are measured on their own, kube.go).
func startWcpdWith(bin, dataDir string, extra ...string) (*proc, error) {
	return startWcpdLogging(nil, "error", bin, dataDir, extra...)
}

// startWcpdLogging starts `wcpd serve` with its logs at level going to logs (nil: nowhere). The
// scenarios run at "error", so what they measure does not include the request's log line; the
// get scenario also measures a wcpd at "info" (wcpd's default) writing it to a file.
func startWcpdLogging(logs *os.File, level, bin, dataDir string, extra ...string) (*proc, error) {
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", level,
		"--task-duration", "1ms"}, append(extra, wcpdExtraArgs...)...)
	p, err := startWritingTo(logs, "wcpd", bin, []string{"WCPD_ADMIN_PASSWORD=" + adminPassword},
		func(line string) string {
			if u, ok := strings.CutPrefix(line, "wcpd is ready at "); ok {
				return strings.Fields(u)[0]
			}
			return ""
		}, "/healthz", args...)
	if err == nil && len(wcpdExtraArgs) > 0 {
		u := url.URL{Scheme: "https+insecure", Host: strings.TrimPrefix(p.url, "https://"), Path: "/debug/pprof/profile",
			RawQuery: "seconds=5", User: url.UserPassword("administrator@vsphere.local", adminPassword)}
		fmt.Fprintf(os.Stderr, "wcpd (pid %d) profiles: go tool pprof '%s'\n", p.pid(), u.String())
	}
	return p, err
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

// recordedAnswer is one answer of wcpd's for a ceiling to replay, in the form bench/ceiling reads.
type recordedAnswer struct {
	Method string      `json:"method"`
	Path   string      `json:"path"` // with its query, as sent
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// record sends r to base and returns the answer, for a ceiling to replay.
func record(c *http.Client, base string, r request) (recordedAnswer, error) {
	res, err := c.Do(r.build(base))
	if err != nil {
		return recordedAnswer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return recordedAnswer{Method: r.method, Path: r.path, Status: res.StatusCode, Header: res.Header, Body: body}, err
}

// startReplayingCeiling starts the ceiling server with wcpd's TLS pair, replaying answers (written to
// file for it) byte for byte: the same status, headers and body for the same method and path.
func startReplayingCeiling(bin, cert, key, file string, answers []recordedAnswer) (*proc, error) {
	if err := os.WriteFile(file, mustJSON(answers), 0o644); err != nil {
		return nil, err
	}
	return start("ceiling", bin, nil, func(line string) string {
		if strings.HasPrefix(line, "https://") {
			return line
		}
		return ""
	}, "", "-cert", cert, "-key", key, "-answers", file) // listening once it prints its URL
}

func run(clients int, d, readD time.Duration, bigNS, bigClasses int, out string, want map[string]bool) error {
	if err := checkWrk(); err != nil {
		return err
	}
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
	cert, key := filepath.Join(fresh, "tls", "server.crt"), filepath.Join(fresh, "tls", "server.key")

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
		r.target, r.scenario = target, scenario
		if r.note == "" {
			r.note = note
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%-8s %-28s %9.0f req/s  CPU/req %-9s p50 %-10v p99 %-10v %6d B  errors %d %s\n",
			target, scenario, r.rps, cpuCell(r), r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.bytes, r.errors, r.note)
	}
	// The ceiling of a scenario is a process of its own replaying wcpd's answer to the request it
	// stands for, recorded before the load: the same status, headers and body, byte for byte. It
	// runs for its scenario's measurement only.
	var ceiling *proc
	defer func() { ceiling.stop() }()
	startCeiling := func(like request) (contender, error) {
		answer, err := record(setup, w.url, like)
		if err == nil && answer.Status/100 != 2 {
			err = fmt.Errorf("wcpd answered %d %.80s", answer.Status, answer.Body)
		}
		if err == nil {
			ceiling, err = startReplayingCeiling(ceilingBin, cert, key, filepath.Join(tmp, "ceiling-answer.json"), []recordedAnswer{answer})
		}
		if err != nil {
			return contender{}, err
		}
		return fixed("ceiling", ceiling, like), nil
	}
	ceilingFor := func(scenario string, like request) []contender {
		c, err := startCeiling(like)
		if err != nil {
			add(result{}, "ceiling", scenario, "not measured: "+err.Error())
			return nil
		}
		return []contender{c}
	}
	measure := func(scenario string, contenders []contender, notes map[string]string) {
		for _, r := range compare(clients, d, rounds, contenders) {
			add(r, r.target, scenario, notes[r.target])
		}
		ceiling.stop()
	}
	const sameBytes = "wcpd's answer replayed: same status, headers and body"
	// The load average when each section began: other work shares the machine.
	loads := map[string]string{"http": loadAverages()}

	// 1. Session login.
	login := func(user, pass string) request {
		return request{method: "POST", path: "/rest/com/vmware/cis/session", header: basic(user, pass), want: 200}
	}
	if want["login"] {
		wLogin := login("administrator@vsphere.local", adminPassword)
		rpcLogin := jsonRPC("com.vmware.cis.session", "create", `{}`, userPassContext("administrator@vsphere.local", adminPassword))
		measure("session login", append([]contender{
			fixed("wcpd", w, wLogin),
			fixed(rpcTarget, w, rpcLogin),
			fixed("vcsim", v, login("user", "pass")),
		}, ceilingFor("session login", wLogin)...), map[string]string{"ceiling": sameBytes})
	}

	// wcpd's namespaces and the Supervisor they need are made once, for the list, the reads and
	// create+delete.
	var wcpdNamespaces error
	if want["list"] || want["create"] || want["reads"] || want["changes"] {
		wcpdNamespaces = prepareWcpdNamespaces(setup, w.url, wTok, 100)
	}

	// 2. List 100 namespaces.
	list := func(tok string) request {
		return request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok), want: 200}
	}
	if want["list"] {
		for _, name := range namespaceNames(100) {
			_, _, _ = do(setup, v.url, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(vTok),
				body: mustJSON(map[string]any{"cluster": "domain-c1", "namespace": name, "description": "benchmark namespace"})})
		}
		contenders := append([]contender{fixed("vcsim", v, list(vTok))}, ceilingFor("list 100 namespaces", list(wTok))...)
		rpcList := jsonRPC("com.vmware.vcenter.namespaces.instances", "list", `{}`, sessionContext(wTok))
		if wcpdNamespaces == nil {
			contenders = append([]contender{fixed("wcpd", w, list(wTok)), fixed(rpcTarget, w, rpcList)}, contenders...)
		} else {
			add(result{}, "wcpd", "list 100 namespaces", "not measured: "+wcpdNamespaces.Error())
		}
		measure("list 100 namespaces", contenders, map[string]string{"ceiling": sameBytes,
			"wcpd": "also lists the Supervisor's system namespace (101)", rpcTarget: "the same list, typed as JSON-RPC answers it"})
	}

	// 3. GET one VM class.
	getClass := func(tok string) request {
		return request{method: "GET", path: "/api/vcenter/namespace-management/virtual-machine-classes/best-effort-small", header: withSession(tok), want: 200}
	}
	if want["get"] {
		_, _, _ = do(setup, v.url, request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(vTok),
			body: mustJSON(map[string]any{"id": "best-effort-small", "cpu_count": 2, "memory_mb": 4096})})
		contenders := append([]contender{fixed("vcsim", v, getClass(vTok))}, ceilingFor("get one VM class", getClass(wTok))...)
		if status, body, _ := do(setup, w.url, getClass(wTok)); status == 200 {
			contenders = append([]contender{fixed("wcpd", w, getClass(wTok))}, contenders...)
		} else {
			add(result{}, "wcpd", "get one VM class", fmt.Sprintf("not measured: %d %.80s", status, body))
		}
		// The same read from a second wcpd that writes every request's line, as wcpd does by
		// default, to a file: what the line costs. It runs only for this scenario.
		logged, err := startLoggedWcpd(wcpdBin, tmp)
		if err == nil {
			var lTok string
			if lTok, err = session(setup, logged.url, "administrator@vsphere.local", adminPassword); err == nil {
				contenders = append(contenders, fixed(loggedTarget, logged, getClass(lTok)))
			}
		}
		if err != nil {
			add(result{}, loggedTarget, "get one VM class", "not measured: "+err.Error())
		}
		measure("get one VM class", contenders, map[string]string{"ceiling": sameBytes,
			loggedTarget: "`--log-level info` (the default): a line for every request, written to a file"})
		logged.stop()
	}

	// 4. Every read operation of the reference against its same-bytes ceiling (reads.go).
	var readRows []readRow
	if want["reads"] {
		loads["reads"] = loadAverages()
		err := wcpdNamespaces
		if err == nil {
			readRows, err = measureReads(readsSetup{wcpd: w, vcsim: v, ceilingBin: ceilingBin, dataDir: tmp,
				cert: filepath.Join(fresh, "tls", "server.crt"), key: filepath.Join(fresh, "tls", "server.key"),
				wTok: wTok, vTok: vTok, clients: clients, d: readD})
		}
		if err != nil {
			readRows = []readRow{{operation: "every read", note: "not measured: " + err.Error()}}
		}
	}

	// 5. A read that is costly to make while a namespace changes (changes.go), after the reads, whose
	// answers the changes would otherwise drop while they were measured.
	var changeResults []result
	var changes, changeFailures atomic.Int64
	if want["changes"] {
		loads["changes"] = loadAverages()
		check := storageCheck(wTok, "domain-c9")
		if wcpdNamespaces != nil {
			changeResults = []result{{target: changingTarget, note: "not measured: " + wcpdNamespaces.Error()}}
		} else {
			changing := fixed(changingTarget, w, check)
			changing.during = func(stop <-chan struct{}) {
				changeEvery(setup, w.url, wTok, namespaceNames(1)[0], changeInterval, stop, &changes, &changeFailures)
			}
			contenders := []contender{changing, fixed(quietTarget, w, check)}
			c, err := startCeiling(check)
			if err == nil {
				contenders = append(contenders, c)
			}
			changeResults = compare(clients, d, rounds, contenders)
			if err != nil {
				changeResults = append(changeResults, result{target: "ceiling", note: "not measured: " + err.Error()})
			}
			ceiling.stop()
		}
	}

	// 6. Create then delete a namespace: not compared with the ceiling, which does no work. What a
	// round leaves (createDeleteLag) is removed before the next.
	createDelete := func(name string, server *proc, tok, cluster string) contender {
		prefix := "cd-" + strings.ReplaceAll(name, " ", "")
		return contender{name: name, base: server.url, pid: server.pid(), script: createDeleteScript(tok, cluster, prefix),
			afterRound: func() { cleanupNamespaces(setup, server.url, tok, prefix+"-") }}
	}
	if want["create"] {
		contenders := []contender{createDelete("vcsim", v, vTok, "domain-c1")}
		if wcpdNamespaces == nil {
			contenders = append([]contender{createDelete("wcpd", w, wTok, "domain-c9")}, contenders...)
		} else {
			add(result{}, "wcpd", "create+delete namespace", "not measured: "+wcpdNamespaces.Error())
		}
		for _, r := range compare(clients, d, rounds, contenders) {
			note := "a map insert and delete"
			if r.target == "wcpd" {
				note = "validates, stores in etcd, creates and removes a resource pool"
			}
			if r.overtaken > 0 {
				note += fmt.Sprintf("; %d DELETEs overtook their POST (404, not counted as errors)", r.overtaken)
			}
			add(r, r.target, "create+delete namespace", note)
		}
	}

	// 7. Start-up and size. The start-up section's last row is the start with a data dir at size,
	// which only the size scenario measures: a run without it writes no start-up section and so
	// leaves the one the last run with it wrote, rather than replace it with one lacking that row.
	var startup, sizeRows []string
	if bigNS > 0 {
		startup = []string{fmt.Sprintf("| wcpd, fresh data dir | %.0f ms |", ms(w.ready)), fmt.Sprintf("| vcsim (simulator alone) | %.0f ms |", ms(v.ready))}
		w.stop() // the at-size server gets the machine to itself
		v.stop()
		loads["size"] = loadAverages()
		rows, err := atSize(wcpdBin, filepath.Join(tmp, "big"), bigNS, bigClasses)
		if err != nil {
			sizeRows = append(sizeRows, "| at size | not measured: "+err.Error()+" |")
		} else {
			startup = append(startup, rows[0])
			sizeRows = rows[1:]
		}
	}
	report := render(results, readRows, loads, startup, sizeRows, clients, d, readD)
	if len(changeResults) > 0 {
		report += "\n" + changesSection(changeResults, loads["changes"], clients, d, changes.Load(), changeFailures.Load())
	}
	if want["kubernetes"] {
		w.stop()
		v.stop()
		loads["kubernetes"] = loadAverages()
		rows, err := kubernetesRows(wcpdBin, filepath.Join(tmp, "kube"), kubeNamespaces)
		if err != nil {
			rows = append(rows, "| Kubernetes | not measured: "+err.Error()+" |")
		}
		report += kubernetesSection(rows, loads["kubernetes"])
	}
	fmt.Print(report)
	if out != "" {
		return writeReport(out, report)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuCell is r's CPU per request for a table, "–" when it was not read.
func cpuCell(r result) string {
	us, ok := r.cpuPerRequest()
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.1f µs", us)
}

// cpuRatioCell is a's CPU per request over b's for a table, "–" when either was not read.
func cpuRatioCell(a, b result) string {
	aUS, aOK := a.cpuPerRequest()
	bUS, bOK := b.cpuPerRequest()
	if !aOK || !bOK || bUS == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", aUS/bUS)
}

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
	// The services every Supervisor must run are installed by a pass every 10 s, each with a
	// namespace and a resource pool of its own: wait for them, so that work (and the change it
	// makes to every kept answer) does not land among the measurements.
	if err := waitFor(time.Minute, func() (bool, error) { return mustRunServicesInstalled(c, base, tok, "domain-c9") }); err != nil {
		return fmt.Errorf("the services every Supervisor runs were not installed: %w", err)
	}
	for _, name := range namespaceNames(count) {
		status, body, err := do(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
			body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": name, "description": "benchmark namespace"})})
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
	// Creation goes on in the background (each namespace gets its resource pool): measure once it
	// is done, so that work does not share the machine with the measurements.
	if count > 0 {
		if err := waitFor(5*time.Minute, func() (bool, error) { return allRunning(c, base, tok, "ns-", count) }); err != nil {
			return fmt.Errorf("namespaces not RUNNING: %w", err)
		}
	}
	return nil
}

// namespaceNames are the names of the namespaces the scenarios list: ns-000, ns-001, ...
func namespaceNames(count int) []string {
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("ns-%03d", i)
	}
	return names
}

// enableSpec is a valid vSphere-networked EnableSpec for the default inventory.
func enableSpec() map[string]any {
	const gold = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	return map[string]any{
		"size_hint": "TINY", "service_cidr": map[string]any{"address": "10.96.0.0", "prefix": 23},
		"network_provider": "VSPHERE_NETWORK",
		"workload_networks_spec": map[string]any{"supervisor_primary_workload_network": map[string]any{
			"network": "primary", "network_provider": "VSPHERE_NETWORK",
			"vsphere_network": map[string]any{"portgroup": "dvportgroup-88", "gateway": "10.30.0.1", "subnet_mask": "255.255.252.0",
				"address_ranges": []any{map[string]any{"address": "10.30.0.10", "count": 1000}}}}},
		"load_balancer_config_spec": map[string]any{"id": "haproxy", "provider": "HA_PROXY",
			"address_ranges": []any{map[string]any{"address": "10.40.0.10", "count": 50}},
			"ha_proxy_config_create_spec": map[string]any{"servers": []any{map[string]any{"host": "10.40.0.2", "port": 5556}},
				"username": "admin", "password": "secret", "certificate_authority_chain": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
		"master_management_network": map[string]any{"network": "dvportgroup-87", "mode": "STATICRANGE",
			"address_range": map[string]any{"starting_address": "10.20.0.10", "address_count": 5, "subnet_mask": "255.255.255.0", "gateway": "10.20.0.1"}},
		"master_storage_policy": gold, "ephemeral_storage_policy": gold, "image_storage": map[string]any{"storage_policy": gold},
	}
}

// atSize stores many namespaces and VM classes through the API, then measures the server at that
// size: memory, list latency, and a restart (readiness, and how long until every namespace's
// resource pool is checked again in the durable inventory).
func atSize(bin, dir string, namespaces, classes int) ([]string, error) {
	w, err := startWcpd(bin, dir)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	c := newClient(16)
	tok, err := session(c, w.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return nil, err
	}
	if err := prepareWcpdNamespaces(c, w.url, tok, 0); err != nil {
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
	began := time.Now()
	parallel(namespaces, func(i int) request {
		return request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok), want: 204,
			body: mustJSON(map[string]any{"cluster": "domain-c9", "namespace": fmt.Sprintf("big-%05d", i), "description": "stored for the at-size benchmark"})}
	})
	created := time.Since(began)
	parallel(classes, func(i int) request {
		return request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(tok), want: 204,
			body: mustJSON(map[string]any{"id": fmt.Sprintf("bench-class-%04d", i), "cpu_count": 2, "memory_MB": 2048})}
	})
	if failed.Load() > 0 {
		return nil, fmt.Errorf("%d creates failed, first: %v", failed.Load(), firstErr.Load())
	}
	// Creation is asynchronous: each namespace gets its pool, then goes RUNNING.
	if err := waitFor(10*time.Minute, func() (bool, error) {
		return allRunning(c, w.url, tok, "big-", namespaces)
	}); err != nil {
		return nil, fmt.Errorf("namespaces not RUNNING: %w", err)
	}
	running := time.Since(began)
	listLatency := func(w *proc, tok string) ([]time.Duration, error) {
		var lat []time.Duration
		for i := 0; i < 20; i++ {
			t0 := time.Now()
			status, _, err := do(c, w.url, request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok)})
			if err != nil || status != 200 {
				return nil, fmt.Errorf("list at size: %d %v", status, err)
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat, nil
	}
	lat, err := listLatency(w, tok)
	if err != nil {
		return nil, err
	}
	changed, err := listAfterEachChange(c, w.url, tok, "big-00000", 20)
	if err != nil {
		return nil, err
	}
	rss, anon := w.rssMB(), anonOf(w.pid())
	w.stop()

	w2, err := startWcpd(bin, dir)
	if err != nil {
		return nil, err
	}
	defer w2.stop()
	restarted := time.Now().Add(-w2.ready)
	tok2, err := session(c, w2.url, "administrator@vsphere.local", adminPassword)
	if err != nil {
		return nil, err
	}
	var poolsBack time.Duration
	if err := waitFor(10*time.Minute, func() (bool, error) {
		n, err := namespacePools(w2.url)
		return n >= namespaces, err
	}); err != nil {
		return nil, fmt.Errorf("pools after the restart: %w", err)
	}
	poolsBack = time.Since(restarted)
	lat2, err := listLatency(w2, tok2)
	if err != nil {
		return nil, err
	}
	rss2, anon2 := w2.rssMB(), anonOf(w2.pid())
	size := fmt.Sprintf("%d namespaces and %d VM classes", namespaces, classes)
	return []string{
		fmt.Sprintf("| wcpd, %s stored | %.0f ms |", size, ms(w2.ready)),
		fmt.Sprintf("| creating %d namespaces through the API (16 clients): all accepted | %.1f s |", namespaces, created.Seconds()),
		fmt.Sprintf("| ... until every one has its resource pool and is RUNNING | %.1f s |", running.Seconds()),
		fmt.Sprintf("| RSS with %s, once all are RUNNING (anonymous + file-backed) | %.0f MB (%.0f + %.0f) |", size, rss, anon, rss-anon),
		fmt.Sprintf("| list of %d namespaces, median of 20 | %.1f ms |", namespaces, ms(lat[len(lat)/2])),
		fmt.Sprintf("| list of %d namespaces, slowest of 20 | %.1f ms |", namespaces, ms(lat[len(lat)-1])),
		fmt.Sprintf("| the first list after a change to the inventory (one namespace pool's CPU shares, through /sdk), median of 20 (slowest) | %.1f ms (%.1f ms) |",
			ms(changed[len(changed)/2]), ms(changed[len(changed)-1])),
		fmt.Sprintf("| after a restart with %s: every namespace's pool back in the inventory | %.1f s |", size, poolsBack.Seconds()),
		fmt.Sprintf("| after a restart: RSS once the pools are back (anonymous + file-backed) | %.0f MB (%.0f + %.0f) |", rss2, anon2, rss2-anon2),
		fmt.Sprintf("| after a restart: list of %d namespaces, median of 20 (slowest) | %.1f ms (%.1f ms) |", namespaces,
			ms(lat2[len(lat2)/2]), ms(lat2[len(lat2)-1])),
	}, nil
}

// waitFor polls done every 200 ms until it reports true, fails, or timeout passes.
func waitFor(timeout time.Duration, done func() (bool, error)) error {
	return waitForEvery(timeout, 200*time.Millisecond, done)
}

// mustRunServicesInstalled reports whether every Supervisor Service marked must_be_installed is
// installed and CONFIGURED on cluster.
func mustRunServicesInstalled(c *http.Client, base, tok, cluster string) (bool, error) {
	get := func(path string, into any) error {
		status, body, err := do(c, base, request{method: "GET", path: path, header: withSession(tok)})
		if err != nil || status != 200 {
			return fmt.Errorf("GET %s: %d %v %.200s", path, status, err, body)
		}
		return json.Unmarshal(body, into)
	}
	var services []struct {
		ID string `json:"supervisor_service"`
	}
	if err := get("/api/vcenter/namespace-management/supervisor-services", &services); err != nil {
		return false, err
	}
	var installs []struct {
		ID     string `json:"supervisor_service"`
		Status string `json:"config_status"`
	}
	if err := get("/api/vcenter/namespace-management/clusters/"+cluster+"/supervisor-services", &installs); err != nil {
		return false, err
	}
	configured := map[string]bool{}
	for _, in := range installs {
		configured[in.ID] = in.Status == "CONFIGURED"
	}
	for _, svc := range services {
		var info struct {
			MustBeInstalled bool `json:"must_be_installed"`
		}
		if err := get("/api/vcenter/namespace-management/supervisor-services/"+url.PathEscape(svc.ID), &info); err != nil {
			return false, err
		}
		if info.MustBeInstalled && !configured[svc.ID] {
			return false, nil
		}
	}
	return true, nil
}

// allRunning reports whether the list shows count namespaces named with prefix, all RUNNING.
func allRunning(c *http.Client, base, tok, prefix string, count int) (bool, error) {
	status, body, err := do(c, base, request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok)})
	if err != nil || status != 200 {
		return false, fmt.Errorf("list: %d %v", status, err)
	}
	var list []struct {
		Namespace    string `json:"namespace"`
		ConfigStatus string `json:"config_status"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return false, err
	}
	running := 0
	for _, ns := range list {
		if ns.ConfigStatus == "RUNNING" && strings.HasPrefix(ns.Namespace, prefix) {
			running++
		}
	}
	return running >= count, nil
}

// sdkClient logs in to wcpd's /sdk as the administrator, as govc would.
func sdkClient(ctx context.Context, base string) (*govmomi.Client, error) {
	u, err := soap.ParseURL(base + "/sdk")
	if err != nil {
		return nil, err
	}
	u.User = url.UserPassword("administrator@vsphere.local", adminPassword)
	return govmomi.NewClient(ctx, u, true)
}

// listAfterEachChange changes the CPU shares of namespace's pool through /sdk, then times the
// first namespace list after the change, rounds times.
func listAfterEachChange(c *http.Client, base, tok, namespace string, rounds int) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vc, err := sdkClient(ctx, base)
	if err != nil {
		return nil, err
	}
	defer func() { _ = vc.Logout(ctx) }()
	pool, err := find.NewFinder(vc.Client).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces/"+namespace)
	if err != nil {
		return nil, err
	}
	var p mo.ResourcePool
	if err := pool.Properties(ctx, pool.Reference(), []string{"config"}, &p); err != nil {
		return nil, err
	}
	levels := []types.SharesLevel{types.SharesLevelHigh, types.SharesLevelNormal}
	var lat []time.Duration
	for i := range rounds {
		spec := p.Config
		spec.CpuAllocation.Shares = &types.SharesInfo{Level: levels[i%2]}
		if err := pool.UpdateConfig(ctx, "", &spec); err != nil {
			return nil, fmt.Errorf("changing %s's shares: %w", namespace, err)
		}
		t0 := time.Now()
		status, _, err := do(c, base, request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok)})
		if err != nil || status != 200 {
			return nil, fmt.Errorf("list after a change: %d %v", status, err)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, nil
}

// namespacePools counts the pools under Cluster-A's Namespaces pool, through wcpd's /sdk as govc
// would see them (0 while that pool is not there yet).
func namespacePools(base string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := sdkClient(ctx, base)
	if err != nil {
		return 0, err
	}
	defer func() { _ = c.Logout(ctx) }()
	pool, err := find.NewFinder(c.Client).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources/Namespaces")
	if err != nil {
		var nf *find.NotFoundError
		if errors.As(err, &nf) {
			return 0, nil
		}
		return 0, err
	}
	var p mo.ResourcePool
	if err := pool.Properties(ctx, pool.Reference(), []string{"resourcePool"}, &p); err != nil {
		return 0, err
	}
	return len(p.ResourcePool), nil
}

// loadAverage is the machine's load average (1, 5, 15 minutes) now.
func loadAverages() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " / ")
}

// loadAtStart is the machine's load average when the run began.
var loadAtStart = loadAverages()

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

func render(results []result, readRows []readRow, loads map[string]string, startup, sizeRows []string, clients int, d, readD time.Duration) string {
	var b strings.Builder
	b.WriteString(reportPreamble())
	if len(results) > 0 {
		b.WriteString("## Against vcsim and the ceiling\n\n")
		b.WriteString(sectionStamp(loads["http"]))
		b.WriteString("All three servers ran on this machine in one run, each in its own process, and wrk drove them from\n")
		fmt.Fprintf(&b, "a process of its own on the same machine: keep-alive HTTPS, %d connections on %d threads (`wrk -c %d -t %d`),\n", clients, wrkThreads, clients, wrkThreads)
		fmt.Fprintf(&b, "for %v per scenario and server, in %d rounds that rotate which server goes first. A Lua script per\n", d, rounds)
		b.WriteString("scenario sets the method, headers (the session id) and body; for create+delete it alternates the\n")
		b.WriteString("POST of a new namespace and the DELETE of one created earlier, and req/s counts both. `errors` counts\n")
		b.WriteString("failed connections, timeouts and answers outside 2xx (for JSON-RPC, answers without an output).\n")
		b.WriteString("`ceiling` is a bare Go HTTPS server that replays wcpd's answer to the same request, recorded before\n")
		b.WriteString("the load: the same status, headers (the session cookie and request id included) and body, byte for\n")
		b.WriteString("byte. It is the most this machine allows for that response. Compare the figures as ratios within the run.\n")
		b.WriteString("In the second table, a ratio of rates is the median of the ratios round by round (each round measures the\n")
		b.WriteString("servers one right after the other), so a burst of other work during one round does not decide it; the\n")
		b.WriteString("difference of the p99s is likewise the median of the differences round by round (the first table's p99\n")
		b.WriteString("is over all rounds).\n")
		b.WriteString("`CPU/req` is the user and system time of the server's process during its rounds, over the requests it\n")
		b.WriteString("answered; it includes whatever else the process did meanwhile (its garbage collector, background work).\n")
		b.WriteString("It moves less than the rates on a shared machine, which also depend on how the cores were shared with\n")
		b.WriteString("wrk and other work: the two ratios of a server to the ceiling differ for that reason.\n")
		b.WriteString("In the second table, the ratio of CPU per request is of the totals over all rounds.\n\n")
		b.WriteString("| scenario | target | req/s | CPU/req | p50 | p99 | bytes | errors | note |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n")
		byKey := map[string]result{}
		for _, r := range results {
			byKey[r.target+"/"+r.scenario] = r
			if r.rps == 0 {
				fmt.Fprintf(&b, "| %s | %s | – | – | – | – | – | – | %s |\n", r.scenario, r.target, r.note)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %.2f ms | %.2f ms | %d | %d | %s |\n",
				r.scenario, r.target, r.rps, cpuCell(r), ms(r.p50), ms(r.p99), r.bytes, r.errors, r.note)
		}
		b.WriteString("\nwcpd runs at `--log-level error` in every scenario, so no request writes a log line; `" + loggedTarget + "`\n")
		b.WriteString("is a second wcpd at `--log-level info`, wcpd's default, writing the line of every request to a file.\n")
		b.WriteString("`" + rpcTarget + "` is wcpd answering the same operation as vAPI JSON-RPC on `POST /api`, the official SDKs'\n")
		b.WriteString("protocol (docs/jsonrpc.md).\n")
		b.WriteString("\n| scenario | wcpd / vcsim | wcpd / ceiling | CPU per request, wcpd / ceiling | JSON-RPC / REST | with request lines / without | wcpd p99 − ceiling p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
		seen := map[string]bool{}
		for _, r := range results {
			if seen[r.scenario] {
				continue
			}
			seen[r.scenario] = true
			wr, vr, cr, jr := byKey["wcpd/"+r.scenario], byKey["vcsim/"+r.scenario], byKey["ceiling/"+r.scenario], byKey[rpcTarget+"/"+r.scenario]
			lr := byKey[loggedTarget+"/"+r.scenario]
			ratio := func(a, b result) string {
				if a.rps == 0 || b.rps == 0 {
					return "–"
				}
				return fmt.Sprintf("%.2f", rateRatio(a, b))
			}
			gapCell := "–"
			if wr.rps > 0 && cr.rps > 0 {
				gapCell = fmt.Sprintf("%.2f ms", ms(p99Gap(wr, cr)))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.scenario, ratio(wr, vr), ratio(wr, cr), cpuRatioCell(wr, cr), ratio(jr, wr), ratio(lr, wr), gapCell)
		}
	}
	if len(readRows) > 0 {
		b.WriteString(readsSection(readRows, loads["reads"], clients, readD))
	}
	if len(startup) > 0 {
		b.WriteString("\n## Start-up to ready\n\n" + sectionStamp(loadAtStart) + "| server | time |\n|---|---:|\n")
		for _, s := range startup {
			b.WriteString(s + "\n")
		}
	}
	if len(sizeRows) > 0 {
		b.WriteString("\n## At size\n\n")
		b.WriteString(sectionStamp(loads["size"]))
		b.WriteString("A wcpd of its own, after the servers above stopped: namespaces and VM classes created through the API,\n")
		b.WriteString("then the server restarted on the same data. RSS is the process's resident memory as Linux reports it.\n\n")
		b.WriteString("| measure | value |\n|---|---:|\n")
		for _, s := range sizeRows {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}
