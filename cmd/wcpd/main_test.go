package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/vapi"
)

// TestMain lets the test binary act as the wcpd command, so tests run the real process.
func TestMain(m *testing.M) {
	if os.Getenv("WCPD_TEST_AS_COMMAND") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func command(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WCPD_TEST_AS_COMMAND=1", "WCPD_ADMIN_PASSWORD=")
	cmd.Dir = t.TempDir()
	return cmd
}

func TestServeStartsPrintsBannerAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	cmd := command(t, "serve", "--listen", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := bufio.NewScanner(stdout)
	var banner []string
	for lines.Scan() {
		banner = append(banner, lines.Text())
		if strings.Contains(lines.Text(), "password ") {
			break
		}
	}
	text := strings.Join(banner, "\n")
	if len(banner) == 0 || !strings.HasPrefix(banner[0], "wcpd is ready at https://127.0.0.1:") {
		t.Fatalf("banner:\n%s\nstderr:\n%s", text, stderr.String())
	}
	if !strings.Contains(text, "administrator@vsphere.local") || !strings.Contains(text, "generated on first start") {
		t.Fatalf("banner does not say who logs in and where the password comes from:\n%s", text)
	}
	url := strings.Fields(strings.TrimPrefix(banner[0], "wcpd is ready at "))[0]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "wcpd-data", "identity.yaml")); err != nil {
		t.Fatalf("default data dir not used: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("no shutdown log line:\n%s", stderr.String())
	}
}

// TestJSONLogsWriteEveryRequestAsJSON: with --log-format json, the line of every request is a JSON
// object with the request's operation, method, status and duration, as slog's JSON handler writes.
func TestJSONLogsWriteEveryRequestAsJSON(t *testing.T) {
	t.Parallel()
	w := serveWith(t, []string{"--data-dir", t.TempDir(), "--log-format", "json", "--kubernetes=false"})
	status, _ := w.call(t, "GET", "/api/vcenter/namespaces/instances", w.adminSession(t), nil)
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Wait(); err != nil { // the lines are all written once wcpd has exited
		t.Fatalf("exit after SIGTERM: %v\n%s", err, w.stderr)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(w.stderr.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, line)
		}
		if entry["msg"] != "request" || entry["path"] != "/api/vcenter/namespaces/instances" {
			continue
		}
		found = true
		if entry["operation"] != "com.vmware.vcenter.namespaces.instances.list" || entry["status"] != float64(status) ||
			entry["method"] != "GET" || entry["level"] != "INFO" || entry["user"] == "" {
			t.Errorf("request line %s, want the list's operation, GET, its user and status %d", line, status)
		}
		if d, ok := entry["duration"].(float64); !ok || d <= 0 {
			t.Errorf("request line %s: the duration is not a positive number of nanoseconds", line)
		}
	}
	if !found {
		t.Fatalf("no request line for the list:\n%s", w.stderr)
	}
}

func TestCoverageListsEveryOperation(t *testing.T) {
	t.Parallel()
	out, err := command(t, "coverage").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	// 101 of vSphere 8.0U2, register_vm (8.0U3), and those of vCenter's inventory API and zones.
	n := 102 + len(vapi.NeighbourOperations())
	if len(lines) != n+1 || !strings.HasSuffix(lines[n], fmt.Sprintf("%d of %d operations implemented", n, n)) {
		t.Fatalf("coverage output has %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if !strings.Contains(string(out), "com.vmware.vcenter.namespaces.instances.create") {
		t.Fatal("coverage does not name operations")
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
