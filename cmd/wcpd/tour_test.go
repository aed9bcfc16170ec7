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

// tourBlocks returns the shell blocks (indented four spaces) of the README's section that starts
// with heading, up to the next section of the same level, with the indentation taken off.
func tourBlocks(t *testing.T, heading string) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for _, line := range strings.Split(section, "\n") {
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

// TestReadmeTourRuns runs the README's five-minute tour as its reader would, against a wcpd started
// as the tour's first command says: every command of every block, in order, in one shell that stops
// at the first failure — curl, govc (built from ./cmd/govc, as the tour says to install it), `wcpd
// login` and kubectl — so the tour cannot rot. The only vAPI error it may print is the one it
// shows on purpose (a request without a session).
func TestReadmeTourRuns(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed (.ci/run installs it)")
	}
	blocks := tourBlocks(t, "## A five-minute tour")
	const serve = "WCPD_ADMIN_PASSWORD='VMware1!' go run ./cmd/wcpd serve"
	if len(blocks) < 2 || blocks[0] != serve {
		t.Fatalf("the tour does not start with %q: %q", serve, blocks)
	}
	w := startServe(t, filepath.Join(t.TempDir(), "data"), "WCPD_ADMIN_PASSWORD=VMware1!")

	// The tour's commands: `go run ./cmd/wcpd` is this binary, govc the one ./cmd/govc builds.
	bin := t.TempDir()
	shim := "#!/bin/sh\nWCPD_TEST_AS_COMMAND=1 exec " + os.Args[0] + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "wcpd"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "govc"), "./cmd/govc")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building govc: %v\n%s", err, out)
	}

	script := strings.Join(blocks[1:], "\n")
	script = strings.ReplaceAll(script, "https://127.0.0.1:8443", w.url)
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
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	text := string(out)
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
