package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docBlocks returns the shell blocks (indented four spaces) of the section of a markdown file that
// starts with heading, up to the next heading of its level or above, with the indentation taken off.
func docBlocks(t *testing.T, file, heading string) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("../..", file))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no section %q", file, heading)
	}
	level := strings.Index(heading, " ")
	var blocks, cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for _, line := range strings.Split(section, "\n") {
		if l := strings.Index(line, "# "); strings.HasPrefix(line, "#") && l >= 0 && l+1 <= level {
			break // the next section of the same level or above
		}
		switch {
		case strings.HasPrefix(line, "    "):
			cur = append(cur, strings.TrimPrefix(line, "    "))
		case strings.TrimSpace(line) == "":
		default:
			flush()
		}
	}
	flush()
	return blocks
}

// runBlocks runs shell blocks as one script against the wcpd at url, in a shell that stops at the
// first failure, and answers what it printed. `go run ./cmd/wcpd` is this binary; govc, when a
// block needs it, is built from ./cmd/govc.
func runBlocks(t *testing.T, url string, blocks []string, govc bool) string {
	t.Helper()
	bin := t.TempDir()
	shim := "#!/bin/sh\nWCPD_TEST_AS_COMMAND=1 exec " + os.Args[0] + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "wcpd"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	if govc {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, "govc"), "./cmd/govc")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building govc: %v\n%s", err, out)
		}
	}
	script := strings.Join(blocks, "\n")
	script = strings.ReplaceAll(script, "https://127.0.0.1:8443", url)
	script = strings.ReplaceAll(script, "go run ./cmd/wcpd", "wcpd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, "bash", "-x", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home,
		"KUBECONFIG=", "WCPD_TEST_AS_COMMAND=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the commands failed: %v\n%s", err, out)
	}
	return string(out)
}

// TestReadmeTourRuns runs the README's five-minute tour as its reader would, against a wcpd started
// as the tour's first command says: every command of every block, in order, in one shell that stops
// at the first failure — curl, govc (built from ./cmd/govc, as the tour says to install it), `wcpd
// login` and kubectl — so the tour cannot rot. The only vAPI error it may print is the one it
// shows on purpose (a request without a session).
func TestReadmeTourRuns(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed (.ci/run installs it)")
	}
	blocks := docBlocks(t, "README.md", "## A five-minute tour")
	const serve = "WCPD_ADMIN_PASSWORD='VMware1!' go run ./cmd/wcpd serve"
	if len(blocks) < 2 || blocks[0] != serve {
		t.Fatalf("the tour does not start with %q: %q", serve, blocks)
	}
	w := startServe(t, filepath.Join(t.TempDir(), "data"), "WCPD_ADMIN_PASSWORD=VMware1!")
	text := runBlocks(t, w.url, blocks[1:], true)
	if n := strings.Count(text, `"error_type"`); n != 1 {
		t.Errorf("the tour printed %d vAPI errors, want only the one it shows on purpose:\n%s", n, text)
	}
	for _, want := range []string{
		"/Datacenter/host/Cluster-A",    // govc ls
		`"name":"web-01"`,               // the VM the tour creates, as get answers it
		"esx-01.wcpd.local",             // kubectl get nodes
		`deployment "web" successfully`, // the Deployment's pods run as pod VMs
		"/Datacenter/vm/Namespaces/demo/web-",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the tour's output lacks %q:\n%s", want, text)
		}
	}
}

// TestSupervisorsNSXEnableRuns runs docs/supervisors.md's complete NSX enable as written: the
// Supervisor it makes is RUNNING with NSX networking and its endpoint where the doc says.
func TestSupervisorsNSXEnableRuns(t *testing.T) {
	blocks := docBlocks(t, "docs/supervisors.md", "### A complete enable with NSX")
	if len(blocks) != 1 {
		t.Fatalf("the section has %d blocks, want the one", len(blocks))
	}
	w := startServe(t, filepath.Join(t.TempDir(), "data"), "WCPD_ADMIN_PASSWORD=VMware1!")
	text := runBlocks(t, w.url, blocks, false)
	for _, want := range []string{`"config_status":"RUNNING"`, `"network_provider":"NSXT_CONTAINER_PLUGIN"`,
		`"api_server_cluster_endpoint":"10.50.0.1"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the enable's output lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, `"error_type"`) {
		t.Errorf("the enable printed an error:\n%s", text)
	}
}
