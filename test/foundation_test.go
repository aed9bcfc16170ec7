package test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25/soap"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/store"
)

func TestGovmomiRestClientSessionsAndAuthorization(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	env.AddUser("reader", "Reader-pw-1", auth.RoleReadOnly)
	ctx := context.Background()

	c := env.REST(ctx, servertest.Admin, servertest.AdminPassword)
	s, err := c.Session(ctx)
	if err != nil || s == nil {
		t.Fatalf("Session: %v %v", s, err)
	}
	if s.User != `VSPHERE.LOCAL\administrator` || s.Created.IsZero() || s.LastAccessed.Before(s.Created) {
		t.Fatalf("session %+v", s)
	}
	// GET of the legacy session path is the same as its POST ?~action=get.
	for _, r := range []servertest.Response{
		env.Do("GET", "/rest/com/vmware/cis/session", c.SessionID(), nil),
		env.Do("POST", "/rest/com/vmware/cis/session?~action=get", c.SessionID(), nil),
	} {
		if r.Status != 200 || !strings.Contains(string(r.Body), `"value":{"user":"VSPHERE.LOCAL\\administrator"`) {
			t.Fatalf("the session on /rest: %d %s", r.Status, r.Body)
		}
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Session(ctx); err != nil || s != nil {
		t.Fatalf("after Logout the session is still there: %v %v", s, err)
	}

	// Wrong password: the login fails with 401.
	bad := rest.NewClient(env.Vim25(ctx))
	if err := bad.Login(ctx, url.UserPassword(servertest.Admin, "wrong")); err == nil || !rest.IsStatusError(err, http.StatusUnauthorized) {
		t.Fatalf("login with a wrong password: %v", err)
	}

	// A read-only user may read but not enable a Supervisor: 403 UNAUTHORIZED.
	reader := env.REST(ctx, "reader@vsphere.local", "Reader-pw-1")
	enable := reader.Resource("/api/vcenter/namespace-management/clusters/domain-c9").WithParam("action", "enable")
	err = reader.Do(ctx, enable.Request(http.MethodPost, map[string]any{}), nil)
	if err == nil || !rest.IsStatusError(err, http.StatusForbidden) {
		t.Fatalf("enable as read-only user: %v", err)
	}
	token := env.Login("reader", "Reader-pw-1")
	r := env.Do("POST", "/api/vcenter/namespace-management/clusters/domain-c9?action=enable", token, "{}")
	if r.Status != 403 || r.ErrorType() != "UNAUTHORIZED" || !strings.Contains(string(r.Body), "Namespaces.Manage") {
		t.Fatalf("enable as read-only user: %d %s", r.Status, r.Body)
	}
	// Without a session: 401 UNAUTHENTICATED, on both protocols.
	r = env.Do("GET", "/api/vcenter/namespaces/instances", "", nil)
	if r.Status != 401 || r.ErrorType() != "UNAUTHENTICATED" {
		t.Fatalf("no session: %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", "/rest/vcenter/namespaces/instances", "", nil)
	if r.Status != 401 || !strings.Contains(string(r.Body), `"type":"com.vmware.vapi.std.errors.unauthenticated"`) {
		t.Fatalf("no session on /rest: %d %s", r.Status, r.Body)
	}
	// Health and metrics.
	if r := env.Do("GET", "/healthz", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"ready"`) {
		t.Fatalf("healthz: %d %s", r.Status, r.Body)
	}
	// Metrics need a user holding System.Read: a session or Basic credentials (Prometheus).
	if m := env.Do("GET", "/metrics", "", nil); m.Status != 401 || m.ErrorType() != "UNAUTHENTICATED" {
		t.Fatalf("metrics without credentials: %d %s", m.Status, m.Body)
	}
	env.AddUser("nobody", "Nobody-pw-1!", "")
	if m := env.Do("GET", "/metrics", env.Login("nobody@vsphere.local", "Nobody-pw-1!"), nil); m.Status != 403 {
		t.Fatalf("metrics for a user without System.Read: %d %s", m.Status, m.Body)
	}
	req, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
	req.SetBasicAuth(servertest.Admin, servertest.AdminPassword)
	if res, err := env.HTTP.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics with Basic credentials: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	m := env.Do("GET", "/metrics", env.AdminToken(), nil)
	if m.Status != 200 || !strings.Contains(string(m.Body), `wcpd_requests_total{operation="com.vmware.vcenter.namespace_management.clusters.enable",status="403"} 2`) ||
		!strings.Contains(string(m.Body), `wcpd_request_duration_seconds_bucket{operation="com.vmware.cis.session.create"`) {
		t.Fatalf("metrics do not count the requests:\n%s", m.Body)
	}
}

func TestGovcSeesTheInventory(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	out := env.AdminGovc("ls", "/Datacenter/host")
	for _, c := range []string{"/Datacenter/host/Cluster-A", "/Datacenter/host/Cluster-B", "/Datacenter/host/Edge-Single"} {
		if !strings.Contains(out, c+"\n") {
			t.Errorf("govc ls does not show %s:\n%s", c, out)
		}
	}
	out = env.AdminGovc("storage.policy.ls")
	for _, p := range []string{"wcpd-gold", "wcpd-silver"} {
		if !strings.Contains(out, p) {
			t.Errorf("govc storage.policy.ls does not show %s:\n%s", p, out)
		}
	}
	out = env.AdminGovc("library.ls")
	if n := len(strings.Fields(out)); n < 2 {
		t.Errorf("govc library.ls shows %d libraries:\n%s", n, out)
	}
	// Tagging is the simulator's own vAPI service, reached with the same login.
	env.AdminGovc("tags.category.create", "-m", "zone")
	env.AdminGovc("tags.create", "-c", "zone", "zone-a")
	env.AdminGovc("tags.attach", "-c", "zone", "zone-a", "/Datacenter/host/Cluster-A")
	if out := env.AdminGovc("tags.attached.ls", "-r", "/Datacenter/host/Cluster-A"); !strings.Contains(out, "zone-a") {
		t.Errorf("govc tags.attached.ls does not show the attached tag:\n%s", out)
	}
	// The SDK checks wcpd's identity: a wrong password is refused.
	if _, errOut, code := env.Govc(servertest.Admin, "wrong", "ls", "/"); code == 0 || !strings.Contains(strings.ToLower(errOut), "login") {
		t.Errorf("govc with a wrong password: exit %d, %s", code, errOut)
	}
}

// record is what the restart test keeps in the store.
type record struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

const childEnv = "WCPD_RESTART_CHILD_DATA_DIR"

// TestRestartChild is the child half of TestRestartAfterKill: it starts a server, writes, reports and
// waits to be killed.
func TestRestartChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestRestartAfterKill")
	}
	env := servertest.New(t, servertest.WithDataDir(dir))
	coll, err := store.NewCollection[record](env.Server.Store, "restart-test")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := coll.Put(context.Background(), fmt.Sprintf("r%02d", i), record{Name: "written before the kill", Count: i}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("WRITTEN")
	// Stay up until the parent kills this process (or, should the parent die, its end of stdin closes).
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRestartChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	written := false
	for lines.Scan() {
		if lines.Text() == "WRITTEN" {
			written = true
			break
		}
	}
	if !written {
		_ = cmd.Process.Kill()
		t.Fatal("child never reported its writes")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	certBefore, err := os.ReadFile(filepath.Join(dir, "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}

	env := servertest.New(t, servertest.WithDataDir(dir))
	coll, err := store.NewCollection[record](env.Server.Store, "restart-test")
	if err != nil {
		t.Fatal(err)
	}
	got := coll.List()
	if len(got) != 20 {
		t.Fatalf("after kill -9 and restart: %d records, want 20", len(got))
	}
	for i, r := range got {
		if r.Value.Count != i || r.Value.Name != "written before the kill" {
			t.Fatalf("record %s = %+v", r.Key, r.Value)
		}
	}
	// The certificate survives too: clients that pinned it keep working.
	certAfter, _ := os.ReadFile(filepath.Join(dir, "tls", "server.crt"))
	if sha256.Sum256(certBefore) != sha256.Sum256(certAfter) {
		t.Fatal("the self-signed certificate changed across the restart")
	}
	// And the administrator can still log in.
	env.AdminToken()
}

func TestTLSOnly(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	res, err := http.Get(strings.Replace(env.URL, "https://", "http://", 1) + "/healthz")
	if err == nil {
		defer res.Body.Close()
		if res.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d", res.StatusCode)
		}
	}
	u, _ := soap.ParseURL(env.URL + "/sdk")
	if u.Scheme != "https" {
		t.Fatalf("server URL %s is not https", env.URL)
	}
}

// govc commands are process-wide singletons; a flag given to one run must not reach the next.
func TestGovcRunsDoNotShareFlags(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	for _, vm := range []string{"flags-a", "flags-b"} {
		env.AdminGovc("vm.create", "-on=false", "-pool", "/Datacenter/host/Cluster-A/Resources", "-ds", "SharedDatastore", "-net", "DPG-Workload", vm)
	}
	env.AdminGovc("vm.change", "-vm", "/Datacenter/vm/flags-a", "-e", "first.key=1")
	env.AdminGovc("vm.change", "-vm", "/Datacenter/vm/flags-b", "-e", "second.key=2")
	out := env.AdminGovc("vm.info", "-e", "/Datacenter/vm/flags-b")
	if !strings.Contains(out, "second.key") || strings.Contains(out, "first.key") {
		t.Fatalf("flags-b's extraConfig after two vm.change runs:\n%s", out)
	}
}

func TestPublicMetrics(t *testing.T) {
	t.Parallel()
	env := servertest.New(t, servertest.WithConfig(func(c *server.Config) { c.MetricsPublic = true }))
	if m := env.Do("GET", "/metrics", "", nil); m.Status != 200 || !strings.Contains(string(m.Body), "go_goroutines") {
		t.Fatalf("metrics with --metrics-public: %d %.200s", m.Status, m.Body)
	}
}
