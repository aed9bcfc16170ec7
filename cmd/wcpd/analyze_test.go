package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/resources"
	"github.com/wcpd/wcpd/internal/servertest"
)

// seedTree is seed 003's Namespaces pool: three 24 GB control-plane VMs and two namespaces, on
// 126.14 GB.
const seedTree = `{"capacity": {"cpu_mhz": 60000, "memory_mb": 129167},
 "children": [{"name": "Namespaces", "type": "RESOURCE_POOL", "children": [
   {"name": "SupervisorControlPlaneVM (1)", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
   {"name": "SupervisorControlPlaneVM (2)", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
   {"name": "SupervisorControlPlaneVM (3)", "type": "VM", "cpu_count": 4, "memory_mb": 24576},
   {"name": "frank-ns", "type": "RESOURCE_POOL"},
   {"name": "vmware-system-registry", "type": "RESOURCE_POOL"}]}]}`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "tree.json")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func analyzeCmd(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"analyze"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func lineStarting(t *testing.T, out, section, prefix string) string {
	t.Helper()
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, section) {
			in = true
		}
		if in && strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line %q in section %s:\n%s", prefix, section, out)
	return ""
}

func TestAnalyzeFilePrintsTheSeedTables(t *testing.T) {
	t.Parallel()
	out, errOut, code := analyzeCmd("-f", writeFile(t, seedTree))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "CPU: capacity 60.00 GHz") || !strings.Contains(out, "\nMEMORY: capacity 126.14 GB, reserved 0 MB\n") {
		t.Errorf("headers:\n%s", out)
	}
	vm := lineStarting(t, out, "MEMORY", "  SupervisorControlPlaneVM (1)")
	for _, want := range []string{"245,760", "23.08% █████░", "24.00 GB", "SIZE"} {
		if !strings.Contains(vm, want) {
			t.Errorf("control-plane row lacks %q: %q", want, vm)
		}
	}
	ns := lineStarting(t, out, "MEMORY", "  frank-ns")
	if !strings.Contains(ns, "15.38%") || !strings.Contains(ns, "27.07 GB") {
		t.Errorf("namespace row: %q", ns)
	}

	// The same from standard input, as JSON.
	stdin := os.Stdin
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	go func() { _, _ = w.WriteString(seedTree); w.Close() }()
	out, errOut, code = analyzeCmd("-f", "-", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res drs.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Children[0].Children[3].MemoryEntitlementMB != 27720 {
		t.Fatalf("JSON output %v: %s", err, out)
	}
}

func TestAnalyzeFileNamesBadFields(t *testing.T) {
	t.Parallel()
	cases := []struct{ tree, want string }{
		{`{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [{"name": "p", "type": "RESOURCE_POOL", "shares": {"level": "HUGE"}}]}`,
			`children[0].shares.level: invalid value "HUGE": must be LOW, NORMAL, HIGH or CUSTOM`},
		{`{"capacity": {"cpu_mhz": 1, "memory_mb": 1}, "children": [], "colour": "red"}`, `colour: no such field`},
		{`{"capacity": {"cpu_mhz": 1`, "not well-formed JSON"},
	}
	for _, tc := range cases {
		_, errOut, code := analyzeCmd("-f", writeFile(t, tc.tree))
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
		}
	}
	if _, errOut, code := analyzeCmd("-f", filepath.Join(t.TempDir(), "missing.json")); code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

func TestAnalyzeUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"-f", "a.json", "--server", "https://x"},
		{"--server", "https://x"},
		{"-f", "a.json", "--cluster", "domain-c9"},
		{"-f", "a.json", "extra"},
		{"--bogus"},
	} {
		if _, errOut, code := analyzeCmd(args...); code != 2 || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with the usage", args, code, errOut)
		}
	}
	if out, _, code := analyzeCmd("-h"); code != 0 || out != "" {
		t.Errorf("-h: exit %d", code)
	}
}

// Against a real server: a cluster without a Supervisor is the server's NOT_FOUND, a wrong
// password its UNAUTHENTICATED, both said on stderr.
func TestAnalyzeServerErrors(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	_, errOut, code := analyzeCmd("--server", env.URL, "-k", "--cluster", "domain-c69",
		"--user", servertest.Admin, "--password", servertest.AdminPassword)
	if code != 1 || !strings.Contains(errOut, "404 NOT_FOUND") || !strings.Contains(errOut, "domain-c69 has no Supervisor") {
		t.Errorf("cluster without a Supervisor: exit %d, %q", code, errOut)
	}
	_, errOut, code = analyzeCmd("--server", env.URL, "-k", "--cluster", "domain-c9", "--password", "wrong")
	if code != 1 || !strings.Contains(errOut, "UNAUTHENTICATED") {
		t.Errorf("wrong password: exit %d, %q", code, errOut)
	}
	// Without -k the self-signed certificate is refused.
	_, errOut, code = analyzeCmd("--server", env.URL, "--cluster", "domain-c9", "--password", servertest.AdminPassword)
	if code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("without -k: exit %d, %q", code, errOut)
	}
}

// A stand-in server answers with what the resources family encodes, so the command's requests
// and rendering are checked while Supervisor enable does not exist yet (test/resources_test.go
// covers the real thing).
func TestAnalyzeServerRendersLiveAndWhatIf(t *testing.T) {
	// Not parallel: it sets WCPD_PASSWORD.
	live := resources.LiveAnalysis{Cluster: "domain-c9", Capacity: drs.Capacity{CPUMHz: 60000, MemoryMB: 129167, CPUMHzPerVCPU: 2000},
		Children: []resources.LiveNode{{ID: "resgroup-89", NodeResult: drs.NodeResult{Name: "Namespaces", Type: drs.KindResourcePool,
			MemoryShares: 163840, MemorySharePercent: 100, MemoryEntitlementMB: 129167, MemoryBound: drs.BoundLimit}}}}
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/session", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me@vsphere.local" || p != "from-env" {
			http.Error(w, `{"error_type":"UNAUTHENTICATED","messages":[]}`, 401)
			return
		}
		_, _ = w.Write([]byte(`"token-1"`))
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("vmware-api-session-id"))
		switch r.Method {
		case http.MethodGet:
			_ = json.NewEncoder(w).Encode(live)
		case http.MethodPost:
			var spec resources.WhatIfSpec
			if err := json.NewDecoder(r.Body).Decode(&spec); err != nil || len(spec.Changes) != 1 {
				http.Error(w, "bad body", 400)
				return
			}
			_ = json.NewEncoder(w).Encode(resources.WhatIfResult{Before: live, After: live, Changes: []resources.NodeChange{{
				Path: "Namespaces/new-namespace-1", Type: drs.KindResourcePool, Change: "ADDED",
				After: &resources.Figures{MemoryEntitlementMB: 20000, MemorySharePercent: 10.53}}}})
		}
	})
	ts := httptest.NewTLSServer(mux)
	defer ts.Close()
	t.Setenv("WCPD_PASSWORD", "from-env")

	out, errOut, code := analyzeCmd("--server", ts.URL, "-k", "--cluster", "domain-c9", "--user", "me@vsphere.local")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if row := lineStarting(t, out, "MEMORY", "Namespaces"); !strings.Contains(row, "126.14 GB") || !strings.Contains(row, "LIMIT") {
		t.Errorf("live row: %q", row)
	}
	out, errOut, code = analyzeCmd("--server", ts.URL, "-k", "--cluster", "domain-c9", "--user", "me@vsphere.local",
		"--change", writeFile(t, `{"changes": [{"action": "ADD_NAMESPACES", "count": 1}]}`))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if row := lineStarting(t, out, "CHANGES (1)", "Namespaces/new-namespace-1"); !strings.Contains(row, "ADDED") || !strings.Contains(row, "20000") {
		t.Errorf("change row: %q", row)
	}
	want := []string{"GET /api/wcpd/clusters/domain-c9/resources token-1", "DELETE /api/session token-1",
		"POST /api/wcpd/clusters/domain-c9/resources token-1", "DELETE /api/session token-1"}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
