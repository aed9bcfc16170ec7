package govctest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/inventory"
)

func TestRunCapturesOutputAndExitCode(t *testing.T) {
	t.Parallel()
	out, errOut, code := govctest.Run("version")
	if code != 0 || !strings.HasPrefix(out, "govc ") || errOut != "" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = govctest.Run("no.such.command")
	if code != 1 || out != "" || !strings.Contains(errOut, "Available commands:") {
		t.Errorf("unknown command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// target starts an inventory behind a TLS listener and returns a Target for it.
func target(t *testing.T, spec *inventory.Spec) govctest.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv, err := inventory.Start(ctx, inventory.Config{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inv.Close)
	mux := http.NewServeMux()
	for _, p := range inv.SOAPPatterns() {
		mux.Handle(p, inv.SOAPHandler())
	}
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL + "/sdk")
	u.User = url.UserPassword("user", "pass")
	return govctest.Target{URL: u.String()}
}

// Concurrent runs against different servers each get their own output.
func TestConcurrentRunsKeepTheirOutputApart(t *testing.T) {
	t.Parallel()
	lab, err := inventory.ParseSpec([]byte("datacenter: Lab\nclusters: [{name: C, hosts: 1}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]govctest.Target{
		"/Datacenter\n": target(t, inventory.DefaultSpec()),
		"/Lab\n":        target(t, lab),
	}
	var wg sync.WaitGroup
	for want, tgt := range targets {
		for range 4 {
			wg.Go(func() {
				out, errOut, code := tgt.Run("ls", "/")
				if code != 0 || out != want {
					t.Errorf("ls / = %q (exit %d, stderr %q), want %q", out, code, errOut, want)
				}
			})
		}
	}
	wg.Wait()
}

// govmomiHome is where govc would keep sessions and debug logs.
func govmomiHome() string {
	if home := os.Getenv("GOVMOMI_HOME"); home != "" {
		return home
	}
	return filepath.Join(os.Getenv("HOME"), ".govmomi")
}

func listing(dir string) []string {
	var names []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil {
			names = append(names, path)
		}
		return nil
	})
	return names
}

func TestTargetLeavesGovmomiHomeAlone(t *testing.T) {
	t.Parallel()
	tgt := target(t, inventory.DefaultSpec())
	before := listing(govmomiHome())
	if out, errOut, code := tgt.Run("ls", "/Datacenter/host"); code != 0 || !strings.Contains(out, "Cluster-A") {
		t.Fatalf("ls: exit %d, %q, %q", code, out, errOut)
	}
	if after := listing(govmomiHome()); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("%s changed:\nbefore %v\nafter  %v", govmomiHome(), before, after)
	}
}

func TestTargetRefusesGOVCEnvironment(t *testing.T) {
	// Not parallel: t.Setenv changes the process environment.
	t.Setenv("GOVC_DATACENTER", "Elsewhere")
	_, errOut, code := govctest.Target{URL: "https://user:pass@127.0.0.1:1/sdk"}.Run("ls")
	if code != 2 || !strings.Contains(errOut, "GOVC_DATACENTER") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
