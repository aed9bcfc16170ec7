package main

// The reads scenario: every read operation of the vCenter API reference (every GET, and the checks
// it binds as a POST), served by wcpd on a realistic state, against a ceiling process replaying
// wcpd's own answers byte for byte, and against vcsim where it serves the same operation.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/reference"
)

// readsSetup is what the reads scenario works with: the running servers and how to start a ceiling.
type readsSetup struct {
	wcpd, vcsim *proc
	ceilingBin  string
	dataDir     string // where the recorded answers are written
	cert, key   string // the ceiling's TLS pair (wcpd's)
	wTok, vTok  string
	clients     int
	d           time.Duration // per target and operation
}

// readRow is one read operation's measurement.
type readRow struct {
	operation, path string
	status, bytes   int
	wcpd, ceiling   result
	vcsim           *result // nil where vcsim does not serve the operation
	vcsimBytes      int     // the size of vcsim's answer, which is its own
	note            string  // why the operation was not measured, when it was not
}

// readTurns is how many rounds each read operation's targets take, rotating which goes first: as
// many as the default -read-duration allows (wrk counts whole seconds), so that each ratio pairs
// measurements taken close together (rateRatio).
const readTurns = 4

// The ids the reads state is made of, on the default inventory.
const (
	readsNamespace = "bench-reads"
	readsService   = "bench-svc"
	readsVersion   = "1.0.0"
	readsTemplate  = "bench-template"
	goldPolicy     = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	photonLibrary  = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"
	readsCluster   = "domain-c9"
)

// readsServiceContent is the benchmark's Supervisor Service's content, base64 as the API takes it.
var readsServiceContent = base64.StdEncoding.EncodeToString([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-operator\n"))

// measureReads sets the state up, records wcpd's answer to every read operation of the reference,
// and measures each against a ceiling that replays those answers.
func measureReads(s readsSetup) ([]readRow, error) {
	services, _, err := reference.Load()
	if err != nil {
		return nil, err
	}
	c := newClient(4)
	defer c.CloseIdleConnections()
	values, err := prepareReadState(c, s.wcpd.url, s.wTok, s.cert)
	if err != nil {
		return nil, fmt.Errorf("setting the state up: %w", err)
	}
	vcsimValues := vcsimReadValues(c, s.vcsim.url, s.vTok)

	type read struct {
		row   readRow
		wcpd  request
		vcsim *request
	}
	var reads []read
	var answers []recordedAnswer
	for _, svc := range services {
		for _, op := range svc.Ops {
			name := strings.TrimPrefix(svc.Iface, "com.vmware.vcenter.") + " " + op.Name
			body, postRead := postReadBody(name, values)
			if op.HTTP != "GET" && !postRead {
				continue
			}
			path, err := readPath(op, values)
			if err != nil {
				reads = append(reads, read{row: readRow{operation: name, path: "/api" + op.URL, note: "not measured: " + err.Error()}})
				continue
			}
			r := request{method: op.HTTP, path: path, header: withSession(s.wTok), body: body}
			answer, err := record(c, s.wcpd.url, r)
			if err != nil {
				return nil, err
			}
			r.want = answer.Status
			rd := read{row: readRow{operation: name, path: path, status: answer.Status, bytes: len(answer.Body)}, wcpd: r}
			answers = append(answers, answer)
			if vpath, err := readPath(op, vcsimValues); err == nil && !postRead {
				vr := request{method: "GET", path: vpath, header: withSession(s.vTok), want: 200}
				// vcsim answers some paths under the ones it serves with an empty 200: not the operation.
				if status, answer, err := do(c, s.vcsim.url, vr); err == nil && status == 200 && len(answer) > 0 {
					rd.vcsim, rd.row.vcsimBytes = &vr, len(answer)
				}
			}
			reads = append(reads, rd)
		}
	}
	ceiling, err := startReplayingCeiling(s.ceilingBin, s.cert, s.key, filepath.Join(s.dataDir, "read-answers.json"), answers)
	if err != nil {
		return nil, err
	}
	defer ceiling.stop()

	rows := make([]readRow, 0, len(reads))
	for _, rd := range reads {
		row := rd.row
		if row.note != "" {
			rows = append(rows, row)
			continue
		}
		contenders := []contender{
			{name: "wcpd", base: s.wcpd.url, pid: s.wcpd.pid(), script: fixedScript(rd.wcpd)},
			{name: "ceiling", base: ceiling.url, pid: ceiling.pid(), script: fixedScript(rd.wcpd)},
		}
		if rd.vcsim != nil {
			contenders = append(contenders, contender{name: "vcsim", base: s.vcsim.url, pid: s.vcsim.pid(), script: fixedScript(*rd.vcsim)})
		}
		got := compare(s.clients, s.d, readTurns, contenders)
		row.wcpd, row.ceiling = got[0], got[1]
		if rd.vcsim != nil {
			row.vcsim = &got[2]
		}
		fmt.Fprintf(os.Stderr, "read %-70s %3d %6d B  wcpd %7.0f req/s %s p99 %-9v ceiling %7.0f req/s %s p99 %-9v errors %d/%d\n",
			row.operation, row.status, row.bytes, row.wcpd.rps, cpuCell(row.wcpd), row.wcpd.p99.Round(time.Microsecond),
			row.ceiling.rps, cpuCell(row.ceiling), row.ceiling.p99.Round(time.Microsecond), row.wcpd.errors, row.ceiling.errors)
		rows = append(rows, row)
	}
	return rows, nil
}

// postReadBody is the body a read the reference binds as a POST is asked with, by the operation's
// name in the rows, and whether the operation is one: the checks of compatibility (a filter, or
// none for every distributed switch) and of a Supervisor Service's content (the benchmark's own
// service). Every other POST of the reference writes.
func postReadBody(name string, values map[string]string) ([]byte, bool) {
	switch name {
	case "namespace_management.networks.nsx.distributed_switches.compatibility check":
		return nil, true
	case "namespace_management.networks.nsx.edges.compatibility check":
		return mustJSON(map[string]any{"filter": map[string]any{"distributed_switch": []string{values["distributed_switch"]}}}), true
	case "namespace_management.storage.profiles check":
		return mustJSON(map[string]any{"zones": []string{"zone-" + values["cluster"]}}), true
	case "namespace_management.supervisor_services check_content":
		return mustJSON(map[string]any{"spec": map[string]any{"content": readsServiceContent}}), true
	}
	return nil, false
}

// readPath is the operation's path under /api with its path variables and query parameters taken
// from values (by the reference's parameter names), and the action that selects it; the time
// series asks for the last ten minutes of the cluster.
func readPath(op reference.Op, values map[string]string) (string, error) {
	path := op.URL
	for placeholder, param := range op.PathVars {
		v, ok := values[param]
		if !ok {
			return "", fmt.Errorf("no value for {%s}", placeholder)
		}
		path = strings.ReplaceAll(path, "{"+placeholder+"}", url.PathEscape(v))
	}
	q := url.Values{}
	for param, name := range op.Query {
		v, ok := values[param]
		if !ok {
			return "", fmt.Errorf("no value for ?%s", name)
		}
		q.Set(name, v)
	}
	if strings.HasSuffix(op.URL, "/stats/time-series") {
		cluster, ok := values["cluster"]
		if !ok {
			return "", fmt.Errorf("no cluster for the time series")
		}
		now := time.Now().Unix()
		q.Set("obj_type", "CLUSTER")
		q.Set("cluster", cluster)
		q.Set("start", strconv.FormatInt(now-600, 10))
		q.Set("end", strconv.FormatInt(now, 10))
	}
	if action := op.Dispatch["action"]; action != "" {
		q.Set("action", action)
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return "/api" + path, nil
}

// prepareReadState gives the Supervisor on Cluster-A (enabled by prepareWcpdNamespaces) what its reads
// answer about in use: a namespace with access, storage, a quota, VM classes and a content library; a
// Supervisor Service installed on it; an identity provider; an active self-service template. It
// returns the value of each path variable and query parameter of the reads.
func prepareReadState(c *http.Client, base, tok, caFile string) (map[string]string, error) {
	// send expects the status want, or any 2xx when want is 0.
	send := func(method, path string, body any, want int) ([]byte, error) {
		r := request{method: method, path: path, header: withSession(tok)}
		if body != nil {
			r.body = mustJSON(body)
		}
		status, answer, err := do(c, base, r)
		if err != nil {
			return nil, err
		}
		if status != want && (want != 0 || status/100 != 2) {
			return nil, fmt.Errorf("%s %s: %d %.300s", method, path, status, answer)
		}
		return answer, nil
	}
	if _, err := send("POST", "/api/vcenter/namespaces/instances", map[string]any{
		"cluster": readsCluster, "namespace": readsNamespace, "description": "read by the benchmark",
		"resource_spec": map[string]any{"memory_limit": 8192, "memory_limit_default": 512, "pod_count": 20},
		"storage_specs": []any{map[string]any{"policy": goldPolicy, "limit": 10240}},
		"access_list":   []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local", "role": "OWNER"}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small", "guaranteed-medium"},
			"content_libraries": []any{photonLibrary}},
	}, 0); err != nil {
		return nil, err
	}
	if _, err := send("POST", "/api/vcenter/namespace-management/supervisor-services", map[string]any{
		"custom_spec": map[string]any{"supervisor_service": readsService, "display_name": "Benchmark service",
			"description": "A service for the benchmark to read.", "version_spec": map[string]any{
				"version": readsVersion, "display_name": "Benchmark service 1.0.0", "content": readsServiceContent, "trusted_provider": false}},
	}, 0); err != nil {
		return nil, err
	}
	if _, err := send("POST", "/api/vcenter/namespace-management/clusters/"+readsCluster+"/supervisor-services",
		map[string]any{"supervisor_service": readsService, "version": readsVersion}, 0); err != nil {
		return nil, err
	}
	if _, err := send("POST", "/api/vcenter/namespaces/namespace-templates/clusters/"+readsCluster, map[string]any{
		"template":      readsTemplate,
		"resource_spec": map[string]any{"memory_limit": 4096, "cpu_limit": 2000},
		"storage_specs": []any{map[string]any{"policy": goldPolicy}},
		"permissions":   []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local"}},
	}, 0); err != nil {
		return nil, err
	}
	if _, err := send("POST", "/api/vcenter/namespaces/namespace-self-service/"+readsCluster+"?action=activate", nil, 0); err != nil {
		return nil, err
	}
	var summaries struct {
		Items []struct {
			Supervisor string `json:"supervisor"`
		} `json:"items"`
	}
	raw, err := send("GET", "/api/vcenter/namespace-management/supervisors/summaries", nil, 200)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &summaries); err != nil || len(summaries.Items) == 0 {
		return nil, fmt.Errorf("no Supervisor in the summaries: %.200s", raw)
	}
	supervisor := summaries.Items[0].Supervisor
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	raw, err = send("POST", "/api/vcenter/namespace-management/supervisors/"+supervisor+"/identity/providers", map[string]any{
		"display_name": "Okta", "issuer_URL": "https://example.okta.com/oauth2/default",
		"username_claim": "email", "groups_claim": "groups", "client_ID": "0oa1b2c3d4e5", "client_secret": "bench-secret",
		"certificate_authority_data": string(ca), "additional_scopes": []any{"email", "groups"},
	}, 200)
	if err != nil {
		return nil, err
	}
	var provider string
	if err := json.Unmarshal(raw, &provider); err != nil {
		return nil, fmt.Errorf("identity provider create answered %.200s", raw)
	}
	var switches []struct {
		DistributedSwitch string `json:"distributed_switch"`
	}
	raw, err = send("GET", "/api/vcenter/namespace-management/networks/nsx/distributed-switches", nil, 200)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &switches); err != nil || len(switches) == 0 {
		return nil, fmt.Errorf("no distributed switch: %.200s", raw)
	}
	// What was made settles in the background (the namespace's pool, self-service, the install):
	// the reads are measured once it has, so they answer the same as long as nothing else changes.
	settled := func(path, want string) func() (bool, error) {
		return func() (bool, error) {
			raw, err := send("GET", path, nil, 200)
			return err == nil && strings.Contains(string(raw), want), err
		}
	}
	for _, wait := range []func() (bool, error){
		settled("/api/vcenter/namespaces/instances/"+readsNamespace, `"config_status":"RUNNING"`),
		settled("/api/vcenter/namespaces/namespace-self-service/"+readsCluster, `"status":"RUNNING"`),
		settled("/api/vcenter/namespace-management/clusters/"+readsCluster+"/supervisor-services/"+readsService, `"config_status":"CONFIGURED"`),
	} {
		if err := waitForEvery(time.Minute, 50*time.Millisecond, wait); err != nil {
			return nil, err
		}
	}
	return map[string]string{
		"cluster": readsCluster, "supervisor": supervisor, "namespace": readsNamespace,
		"domain": "vsphere.local", "subject": "administrator", "type": "USER",
		"provider": provider, "supervisorService": readsService, "version": readsVersion,
		"id": "haproxy", "network": "primary", "vm_class": "best-effort-small", "template": readsTemplate,
		"distributed_switch": switches[0].DistributedSwitch,
	}, nil
}

// vcsimReadValues finds, in vcsim, values for the path variables of the reads it may serve: a
// namespace and a VM class made for the purpose (and as many namespaces as wcpd has, for the lists),
// its first Supervisor Service and version.
func vcsimReadValues(c *http.Client, base, tok string) map[string]string {
	// vcsim lists no cluster, but makes namespaces on its first (as the list scenario does).
	values := map[string]string{"vm_class": "best-effort-small", "namespace": readsNamespace, "cluster": "domain-c1"}
	for _, name := range append([]string{readsNamespace}, namespaceNames(100)...) {
		_, _, _ = do(c, base, request{method: "POST", path: "/api/vcenter/namespaces/instances", header: withSession(tok),
			body: mustJSON(map[string]any{"cluster": "domain-c1", "namespace": name, "description": "benchmark namespace"})})
	}
	first := func(path, field string) string {
		_, raw, err := do(c, base, request{method: "GET", path: path, header: withSession(tok)})
		var items []map[string]any
		if err != nil || json.Unmarshal(raw, &items) != nil || len(items) == 0 {
			return ""
		}
		s, _ := items[0][field].(string)
		return s
	}
	_, _, _ = do(c, base, request{method: "POST", path: "/api/vcenter/namespace-management/virtual-machine-classes", header: withSession(tok),
		body: mustJSON(map[string]any{"id": "best-effort-small", "cpu_count": 2, "memory_mb": 4096})})
	if v := first("/api/vcenter/namespace-management/supervisor-services", "supervisor_service"); v != "" {
		values["supervisorService"] = v
		if ver := first("/api/vcenter/namespace-management/supervisor-services/"+v+"/versions", "version"); ver != "" {
			values["version"] = ver
		}
	}
	return values
}

// cleanupNamespaces deletes the namespaces named with prefix and waits until the list shows none.
func cleanupNamespaces(c *http.Client, base, tok, prefix string) {
	names := func() []string {
		_, raw, err := do(c, base, request{method: "GET", path: "/api/vcenter/namespaces/instances", header: withSession(tok)})
		var list []struct {
			Namespace string `json:"namespace"`
		}
		if err != nil || json.Unmarshal(raw, &list) != nil {
			return nil
		}
		var out []string
		for _, ns := range list {
			if strings.HasPrefix(ns.Namespace, prefix) {
				out = append(out, ns.Namespace)
			}
		}
		return out
	}
	for _, name := range names() {
		_, _, _ = do(c, base, request{method: "DELETE", path: "/api/vcenter/namespaces/instances/" + name, header: withSession(tok)})
	}
	_ = waitForEvery(2*time.Minute, 50*time.Millisecond, func() (bool, error) { return len(names()) == 0, nil })
}

// readsSection renders the table of the reads, with how many meet the targets.
func readsSection(rows []readRow, load string, clients int, d time.Duration) string {
	var b strings.Builder
	b.WriteString("\n## Every read operation\n\n")
	b.WriteString(sectionStamp(load))
	b.WriteString("Every read operation of the reference (vcenter-api-8.0U2.json): every GET, and the checks it binds as a\n")
	b.WriteString("POST (`check`, `check_content`), asked with a filter or the content to check. Served by the wcpd above\n")
	b.WriteString("on a Supervisor with 101 namespaces, one of them with an access entry, storage, a quota, VM classes and\n")
	b.WriteString("a content library, an installed Supervisor Service, an identity provider and an active self-service\n")
	b.WriteString("template. `ceiling` is\n")
	b.WriteString("one process replaying wcpd's recorded answer to each of these requests: the same status, headers and\n")
	fmt.Fprintf(&b, "body, byte for byte. wrk loads each target for %v per operation (%d connections, in %d rounds that\n", d, clients, readTurns)
	b.WriteString("rotate which goes first). vcsim is measured where it answers the same operation with 200 and a body; its\n")
	b.WriteString("answer is its own (its size in brackets), on 101 namespaces too. A ratio of rates is the median of the\n")
	b.WriteString("ratios round by round, and the p99 difference the median of the differences round by round; req/s and\n")
	b.WriteString("the p99s are over all rounds, and so is `CPU per request, wcpd / ceiling`: the user and system time each\n")
	b.WriteString("process spent during the operation's rounds, over the requests it answered (whatever else the process\n")
	b.WriteString("did meanwhile included). It moves less than the rates, which also depend on how the cores were shared\n")
	b.WriteString("with wrk and other work.\n\n")
	b.WriteString("| operation | status | bytes | wcpd req/s | ceiling req/s | wcpd / ceiling | CPU per request, wcpd / ceiling | wcpd p99 | ceiling p99 | p99 difference | vcsim req/s | wcpd / vcsim | errors |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var ratios []float64
	atCeiling, p99Close, p99CloseOverall, measured := 0, 0, 0, 0
	for _, r := range rows {
		if r.note != "" || r.wcpd.rps == 0 || r.ceiling.rps == 0 {
			note := r.note
			if note == "" {
				note = strings.TrimSpace(r.wcpd.note + " " + r.ceiling.note)
			}
			fmt.Fprintf(&b, "| %s | – | – | – | – | – | – | – | – | – | – | – | %s |\n", r.operation, note)
			continue
		}
		measured++
		ratio := rateRatio(r.wcpd, r.ceiling)
		ratios = append(ratios, ratio)
		if ratio >= 0.9 {
			atCeiling++
		}
		gap := p99Gap(r.wcpd, r.ceiling)
		if gap <= time.Millisecond {
			p99Close++
		}
		if r.wcpd.p99-r.ceiling.p99 <= time.Millisecond {
			p99CloseOverall++
		}
		vRate, vRatio := "–", "–"
		if r.vcsim != nil && r.vcsim.rps > 0 {
			vRate, vRatio = fmt.Sprintf("%.0f (%d B)", r.vcsim.rps, r.vcsimBytes), fmt.Sprintf("%.2f", rateRatio(r.wcpd, *r.vcsim))
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %.0f | %.0f | %.2f | %s | %.2f ms | %.2f ms | %.2f ms | %s | %s | %d |\n",
			r.operation, r.status, r.bytes, r.wcpd.rps, r.ceiling.rps, ratio, cpuRatioCell(r.wcpd, r.ceiling),
			ms(r.wcpd.p99), ms(r.ceiling.p99), ms(gap), vRate, vRatio, r.wcpd.errors)
	}
	if measured > 0 {
		middle := median(ratios) // sorts them
		fmt.Fprintf(&b, "\n%d of %d reads measured; %d at 0.9 of their ceiling or more (median ratio %.2f, lowest %.2f); %d with a p99\n",
			measured, len(rows), atCeiling, middle, ratios[0], p99Close)
		fmt.Fprintf(&b, "within 1 ms of the ceiling's by the median of the rounds (%d by the p99s over all rounds). `errors` counts\n", p99CloseOverall)
		b.WriteString("wcpd's answers that were not the recorded status.\n")
	}
	return b.String()
}
