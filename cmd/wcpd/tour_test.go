package main

// Examples are tests. TestDocsExamplesRun runs every shell example of README.md and docs/*.md, one
// subtest per document, as a reader would: the document's blocks in order, in one bash that stops
// at the first failing command, in a directory of its own that stands for the repository's root,
// against a wcpd of its own. The rules a document follows:
//
//   - A fenced block is run when its language is sh, bash or shell. Output and file contents are
//     fenced with their language (json, yaml, go, python, text, ...) and never run. A fence without
//     a language fails the test: say what the block is.
//   - A block indented four spaces is a shell example.
//   - `<!-- not run: REASON -->` on the line before a block (or the line before that, when blank)
//     skips it; the document says why in its text too. Keep these rare.
//   - A command `… go run ./cmd/wcpd serve …` starts wcpd as a reader does in another terminal: the
//     test stops the wcpd it started before, starts this one in the background (on a free port,
//     simulated work taking 200 ms) and waits until it answers. A block whose first line is a
//     comment starting `# with wcpd stopped` runs after wcpd is stopped, as by Ctrl-C.
//   - A document whose first example is not a serve command runs against a wcpd started as the
//     README's tour starts it (`WCPD_ADMIN_PASSWORD='VMware1!' go run ./cmd/wcpd serve`).
//   - `<!-- examples continue FILE -->` makes a document go on where FILE's examples left off: the
//     same wcpd and directory (kubeconfig, files written). The document says so in its text, and
//     its first example logs in again, since shell variables do not carry over.
//   - A command may print a vAPI error only when a comment on its line names the status and the
//     error type (`# no session: 401 UNAUTHENTICATED`); the test counts them.
//
// `go run ./cmd/wcpd` is this test binary and `go run ./cmd/govc` (or govc) govc built from
// ./cmd/govc; https://127.0.0.1:8443 is the test's wcpd.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/syncbuf"
)

// docBlock is one code block of a markdown file.
type docBlock struct {
	line    int    // where it starts, 1-based
	lang    string // the fence's language; "indented" for an indented block
	text    string
	skipped string // the reason given by a `<!-- not run: … -->` marker
}

// shellLanguages are the fence languages of blocks that run.
var shellLanguages = []string{"sh", "bash", "shell"}

var (
	notRunMarker   = regexp.MustCompile(`^<!-- not run: (.+?) -->$`)
	continueMarker = regexp.MustCompile(`(?m)^<!-- examples continue (\S+) -->$`)
	// serveCommand is a line that starts wcpd, with its environment assignments and flags.
	serveCommand = regexp.MustCompile(`^((?:[A-Z_]+=\S+ )*)go run \./cmd/wcpd serve\b(.*)$`)
	// expectedError is a comment announcing the vAPI error a command prints on purpose.
	expectedError = regexp.MustCompile(`#.*\b[1-5][0-9][0-9] [A-Z][A-Z_]+\b`)
)

// markdownBlocks returns the code blocks of a markdown document, fenced and indented, in order.
func markdownBlocks(doc string) []docBlock {
	lines := strings.Split(doc, "\n")
	var blocks []docBlock
	skipReason := func(start int) string {
		for i := start - 1; i >= 0 && i >= start-2; i-- {
			if m := notRunMarker.FindStringSubmatch(strings.TrimSpace(lines[i])); m != nil {
				return m[1]
			}
			if strings.TrimSpace(lines[i]) != "" {
				break
			}
		}
		return ""
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "```"):
			start, lang := i, strings.TrimSpace(strings.TrimPrefix(line, "```"))
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				body = append(body, lines[i])
			}
			blocks = append(blocks, docBlock{line: start + 1, lang: lang, text: strings.Join(body, "\n"), skipped: skipReason(start)})
		case strings.HasPrefix(line, "    ") && (i == 0 || strings.TrimSpace(lines[i-1]) == ""):
			start := i
			var body []string
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "    ") || strings.TrimSpace(lines[i]) == ""); i++ {
				body = append(body, strings.TrimPrefix(lines[i], "    "))
			}
			i--
			for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
				body = body[:len(body)-1]
			}
			blocks = append(blocks, docBlock{line: start + 1, lang: "indented", text: strings.Join(body, "\n"), skipped: skipReason(start)})
		}
	}
	return blocks
}

// runs reports whether a block is a shell example.
func (b docBlock) runs() bool { return b.lang == "indented" || slices.Contains(shellLanguages, b.lang) }

// docExamples is what a document's shell examples become.
type docExamples struct {
	script         string   // one script, "" when the document has no example to run
	expectedErrors int      // the vAPI errors its commands announce
	skipped        []string // where a block is not run, and why
	problems       []string // blocks breaking the rules
}

// docScript turns a document's shell examples into one script. Unless the document continues
// another, the script starts wcpd first when its first command does not.
func docScript(name, doc string, continues bool) docExamples {
	var ex docExamples
	var parts []string
	startsServer := false
	for _, b := range markdownBlocks(doc) {
		switch {
		case b.lang == "":
			ex.problems = append(ex.problems, fmt.Sprintf("%s:%d: a fenced block without a language: fence shell examples with sh, anything else with its language or text", name, b.line))
			continue
		case !b.runs():
			continue
		case b.skipped != "":
			ex.skipped = append(ex.skipped, fmt.Sprintf("%s:%d: %s", name, b.line, b.skipped))
			continue
		}
		var lines []string
		for i, line := range strings.Split(b.text, "\n") {
			if m := serveCommand.FindStringSubmatch(line); m != nil {
				line = m[1] + "wcpd_test_serve" + m[2]
				startsServer = startsServer || len(parts) == 0 && len(lines) == 0
			}
			if i == 0 && strings.HasPrefix(line, "# with wcpd stopped") {
				lines = append(lines, "wcpd_test_stop")
			}
			if expectedError.MatchString(line) {
				ex.expectedErrors++
			}
			lines = append(lines, line)
		}
		parts = append(parts, fmt.Sprintf("# %s:%d\n%s", name, b.line, strings.Join(lines, "\n")))
	}
	if len(parts) == 0 {
		return ex
	}
	if !continues && !startsServer {
		parts = append([]string{"WCPD_ADMIN_PASSWORD='VMware1!' wcpd_test_serve"}, parts...)
	}
	ex.script = strings.Join(parts, "\n")
	ex.script = strings.ReplaceAll(ex.script, "go run ./cmd/wcpd", "wcpd")
	ex.script = strings.ReplaceAll(ex.script, "go run ./cmd/govc", "govc")
	return ex
}

// serverControl is the script's prelude: how it starts and stops wcpd in the background.
const serverControl = `
wcpd_test_stop() {
  local pid
  pid=$(cat "$WCPD_TEST_PIDFILE" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  : >"$WCPD_TEST_PIDFILE"
}
wcpd_test_serve() {
  wcpd_test_stop
  wcpd serve "$@" --listen "$WCPD_TEST_LISTEN" --task-duration 200ms --log-level warn >>"$WCPD_TEST_LOG" 2>&1 &
  echo $! >"$WCPD_TEST_PIDFILE"
  for _ in $(seq 1200); do
    curl -skf -o /dev/null "https://$WCPD_TEST_LISTEN/healthz" && return 0
    kill -0 $! 2>/dev/null || { echo "wcpd exited:"; tail -20 "$WCPD_TEST_LOG"; return 1; }
    sleep 0.1
  done
  echo "wcpd did not answer within two minutes"; return 1
}
`

// docRun is the place where a chain of documents runs: a directory standing for the repository's
// root, the address of its wcpd and the file holding that wcpd's process id.
type docRun struct {
	dir, listen, pidFile, log string
}

// newDocRun makes a directory for a chain of documents and picks the address its wcpd will listen
// on. The wcpd started there is stopped when the test t ends.
func newDocRun(t *testing.T) *docRun {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	r := &docRun{dir: dir, listen: listen, pidFile: filepath.Join(dir, ".wcpd-test.pid"), log: filepath.Join(dir, ".wcpd-test.log")}
	t.Cleanup(r.stop)
	return r
}

// stop ends the wcpd the run's scripts started (its Kubernetes servers end with it).
func (r *docRun) stop() {
	b, _ := os.ReadFile(r.pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// run runs a script in the run's directory, with the README's address (127.0.0.1:8443) made the
// run's, and returns what it printed on standard output; on a failure it fails the test with the
// whole trace and wcpd's log.
func (r *docRun) run(t *testing.T, bin, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	script = strings.ReplaceAll(script, "127.0.0.1:8443", r.listen)
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", serverControl+"set -x\n"+script)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+r.dir,
		"KUBECONFIG=", "WCPD_TEST_AS_COMMAND=", "WCPD_ADMIN_PASSWORD=", "WCPD_PASSWORD=",
		"WCPD_TEST_LISTEN="+r.listen, "WCPD_TEST_PIDFILE="+r.pidFile, "WCPD_TEST_LOG="+r.log)
	// The script's own process group, so that a timeout ends everything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, all syncbuf.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, &all)
	cmd.Stderr = &all
	if err := cmd.Run(); err != nil {
		serverLog, _ := os.ReadFile(r.log)
		t.Fatalf("the examples failed: %v\n%s\n--- wcpd's log:\n%s", err, all.String(), serverLog)
	}
	return stdout.String()
}

// testBin makes the directory put first on the examples' PATH: `wcpd` runs this test binary as
// the command, `govc` is built from ./cmd/govc.
func testBin(t *testing.T) string {
	t.Helper()
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
	return bin
}

// docOutputs are what some documents' examples must print, beyond running without a failure.
var docOutputs = map[string][]string{
	"README.md": {
		"/Datacenter/host/Cluster-A",    // govc ls
		`"name":"web-01"`,               // the VM the tour creates, as get answers it
		"esx-01.wcpd.local",             // kubectl get nodes
		`deployment "web" successfully`, // the Deployment's pods run as pod VMs
		"/Datacenter/vm/Namespaces/demo/web-",
	},
	"docs/supervisors.md": {
		`"network_provider":"VSPHERE_NETWORK"`, `"network_provider":"NSXT_CONTAINER_PLUGIN"`,
		`"api_server_cluster_endpoint":"10.40.1.10"`, // HAProxy: the first virtual IP
		`"api_server_cluster_endpoint":"10.50.0.1"`,  // NSX: the first ingress address
	},
	"docs/namespaces.md":     {`"namespace":"demo"`, "best-effort-small"},
	"docs/inventory.md":      {"/Datacenter/host/Cluster-A", `"name":"web-01"`, "Name:           web-01"},
	"docs/jsonrpc.md":        {`"SECRET"`},
	"docs/kubernetes.md":     {`"ready":true`},
	"docs/resource-model.md": {"MEMORY: capacity", `"counter":"cpu_used_mhz"`},
	"docs/services.md":       {`"trust_verified":true`},
	"docs/vmclasses.md":      {`"vms":["vm-`},
	"docs/vmservice.md":      {"guestinfo.userdata", "vmi-"},
	"docs/operations.md":     {`{"items":[]}`, `{"items":[{"zone":"kept"`}, // gone after the reset, back after the restore
}

// TestDocsExamplesRun runs every shell example of README.md and docs/*.md (the rules are at the
// top of this file), so that no example can rot: a wrong id, a missing step or a changed answer
// fails here.
func TestDocsExamplesRun(t *testing.T) {
	for _, tool := range []string{"kubectl", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs it)", tool)
		}
	}
	names, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "../../")
	}
	names = append([]string{"README.md"}, names...)
	docs := map[string]string{}
	continues := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("../..", n))
		if err != nil {
			t.Fatal(err)
		}
		docs[n] = string(b)
		if m := continueMarker.FindStringSubmatch(string(b)); m != nil {
			if _, ok := docs[m[1]]; !ok && !slices.Contains(names, m[1]) {
				t.Fatalf("%s continues %s, which is not a document", n, m[1])
			}
			continues[n] = m[1]
		}
	}
	// A document runs after the one it continues: order by the length of the chain, then by name.
	depth := func(n string) int {
		d := 0
		for seen := map[string]bool{}; continues[n] != "" && !seen[n]; n = continues[n] {
			seen[n] = true
			d++
		}
		return d
	}
	sort.SliceStable(names, func(i, j int) bool { return depth(names[i]) < depth(names[j]) })
	root := func(n string) string {
		for range len(names) {
			if continues[n] == "" {
				break
			}
			n = continues[n]
		}
		return n
	}

	bin := testBin(t)
	parent := t
	runs := map[string]*docRun{}
	passed := map[string]bool{}
	for i, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".md"), func(t *testing.T) {
			ex := docScript(name, docs[name], continues[name] != "")
			for _, p := range ex.problems {
				t.Error(p)
			}
			if t.Failed() {
				return
			}
			for _, s := range ex.skipped {
				t.Logf("not run: %s", s)
			}
			script, wantErrors := ex.script, ex.expectedErrors
			if script == "" {
				passed[name] = true
				t.Skip("no shell examples")
			}
			run := runs[continues[name]]
			if base := continues[name]; base == "" {
				run = newDocRun(parent)
			} else if !passed[base] {
				t.Skipf("continues %s, whose examples did not all run", base)
			}
			if run == nil { // the document continued has no examples to leave anything behind
				run = newDocRun(parent)
			}
			runs[name] = run
			start := time.Now()
			out := run.run(t, bin, script)
			t.Logf("%s's examples ran in %v", name, time.Since(start).Round(time.Millisecond))
			if testing.Verbose() {
				t.Logf("what they printed:\n%s", out)
			}
			if n := strings.Count(out, `"error_type"`); n != wantErrors {
				t.Errorf("the examples printed %d vAPI errors, want %d (the ones their comments announce):\n%s", n, wantErrors, out)
			}
			for _, want := range docOutputs[name] {
				if !strings.Contains(out, want) {
					t.Errorf("the examples' output lacks %s:\n%s", want, out)
				}
			}
			passed[name] = !t.Failed()
		})
		// A wcpd with its Supervisors' API servers holds hundreds of MB: stop it once no document
		// left continues where this one ends.
		if r := runs[name]; r != nil && !slices.ContainsFunc(names[i+1:], func(n string) bool { return root(n) == root(name) }) {
			r.stop()
		}
	}
}

// TestDocsScriptRules checks the rules TestDocsExamplesRun reads documents by, on a document that
// uses each of them.
func TestDocsScriptRules(t *testing.T) {
	doc := strings.Join([]string{
		"# A doc", "",
		"    export W=https://127.0.0.1:8443", "    curl -sk $W/api/session   # no session: 401 UNAUTHENTICATED", "",
		"```json", `{"not": "run"}`, "```", "",
		"<!-- not run: needs etcdctl -->", "",
		"    etcdctl get /", "",
		"```sh", "# with wcpd stopped (Ctrl-C)", "cp -a wcpd-data backup", "```", "",
		"    WCPD_ADMIN_PASSWORD='x' go run ./cmd/wcpd serve --data-dir d", "",
		"```", "no language", "```", "",
	}, "\n")
	ex := docScript("doc.md", doc, false)
	if len(ex.problems) != 1 || !strings.Contains(ex.problems[0], "doc.md:21: a fenced block without a language") {
		t.Errorf("problems: %q, want the fence without a language at line 21", ex.problems)
	}
	if len(ex.skipped) != 1 || ex.skipped[0] != "doc.md:12: needs etcdctl" {
		t.Errorf("skipped: %q, want the etcdctl block", ex.skipped)
	}
	if ex.expectedErrors != 1 {
		t.Errorf("expected errors: %d, want the one announced", ex.expectedErrors)
	}
	for _, want := range []string{
		"WCPD_ADMIN_PASSWORD='VMware1!' wcpd_test_serve\n# doc.md:3\nexport W=https://127.0.0.1:8443", // a wcpd as the tour's
		"# doc.md:14\nwcpd_test_stop\n# with wcpd stopped",
		"WCPD_ADMIN_PASSWORD='x' wcpd_test_serve --data-dir d",
	} {
		if !strings.Contains(ex.script, want) {
			t.Errorf("the script lacks %q:\n%s", want, ex.script)
		}
	}
	for _, unwanted := range []string{`{"not": "run"}`, "etcdctl", "no language", "go run"} {
		if strings.Contains(ex.script, unwanted) {
			t.Errorf("the script has %q:\n%s", unwanted, ex.script)
		}
	}
	if ex := docScript("doc.md", doc, true); strings.HasPrefix(ex.script, "WCPD_ADMIN_PASSWORD") {
		t.Errorf("a document that continues another starts a wcpd of its own:\n%s", ex.script)
	}
	if ex := docScript("doc.md", "    go run ./cmd/wcpd serve\n", false); ex.script != "# doc.md:1\nwcpd_test_serve" {
		t.Errorf("a document starting with its own serve: %q", ex.script)
	}
}
