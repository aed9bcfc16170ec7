package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestMain lets the test binary run as govc when a test starts it so.
func TestMain(m *testing.M) {
	if os.Getenv("WCPD_GOVC_AS_COMMAND") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// TestGovcAgainstWcpd runs this govc as a user would, against a wcpd: it logs in with the
// environment's credentials, lists the inventory, and names its govmomi release.
func TestGovcAgainstWcpd(t *testing.T) {
	env := servertest.New(t)
	govc := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "WCPD_GOVC_AS_COMMAND=1", "GOVC_URL="+env.URL+"/sdk", "GOVC_INSECURE=1",
			"GOVC_USERNAME="+servertest.Admin, "GOVC_PASSWORD="+servertest.AdminPassword, "GOVC_PERSIST_SESSION=false",
			"HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("govc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := govc("ls", "/Datacenter/host"); !strings.Contains(out, "/Datacenter/host/Cluster-A") {
		t.Errorf("govc ls: %s", out)
	}
	if out := govc("version"); !strings.HasPrefix(out, "govc 0.") || strings.HasPrefix(out, "govc 0.0.0") {
		t.Errorf("govc version: %s", out)
	}
}
