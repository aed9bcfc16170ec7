// Package servertest starts whole wcpd servers inside tests: each on a random loopback port with its
// own data dir and a fake clock, with helpers for the clients the tests drive (plain HTTP, govmomi's
// vapi/rest client, govc).
package servertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vapi/jsonrpc"
)

// AdminPassword is the administrator's password in every test server.
const AdminPassword = "Admin-Pw-1!"

// Admin is the administrator's login name.
const Admin = "administrator@vsphere.local"

// Start is the clock's starting point in every test server.
var Start = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// Env is one running test server.
type Env struct {
	T      testing.TB
	Server *server.Server
	URL    string
	Clock  *clock.Fake
	HTTP   *http.Client
}

// Option adjusts the server's Config before it starts.
type Option func(*server.Config)

// WithDataDir keeps state in dir (for restart tests).
func WithDataDir(dir string) Option { return func(c *server.Config) { c.DataDir = dir } }

// WithKubernetes runs the Supervisors' Kubernetes API servers as children of the test binary, whose
// TestMain must call kubeproc.RunIfChild before anything else.
func WithKubernetes() Option {
	return func(c *server.Config) {
		exe, err := os.Executable()
		if err == nil {
			c.Kubernetes.Executable = exe
		}
	}
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	fake := clock.NewFake(Start)
	cfg := server.Config{
		Listen:        "127.0.0.1:0",
		DataDir:       t.TempDir(),
		AdminPassword: AdminPassword,
		Clock:         fake,
		TaskDuration:  10 * time.Second,
	}
	if os.Getenv("WCPD_TEST_LOG") == "1" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting wcpd: %v", err)
	}
	env := &Env{T: t, Server: srv, URL: srv.URL(), Clock: fake, HTTP: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}}
	// Cleanups run last-registered first: record what was exercised, drop idle client connections
	// (the server's shutdown would wait for them), then stop the server.
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			// A server that does not stop has a request or a controller stuck: say where, since
			// such a failure is rare and may not come back when the test runs again. Every
			// server of the package's tests is in the dump, so it is cut at a few MB.
			var stacks bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 2)
			if stacks.Len() > 4<<20 {
				stacks.Truncate(4 << 20)
				stacks.WriteString("\n[cut at 4 MB]")
			}
			t.Errorf("stopping wcpd: %v; the goroutines of the test binary:\n%s", err, stacks.String())
		}
	})
	t.Cleanup(env.HTTP.CloseIdleConnections)
	t.Cleanup(func() { recordOperations(t, srv) })
	return env
}

// AddUser adds a vsphere.local user with password and grants it role globally ("" grants nothing).
// Groups listed are created if needed and get the user as a member.
func (e *Env) AddUser(name, password, role string, groups ...string) {
	e.T.Helper()
	err := e.Server.Identity.Update(func(f *auth.File) error {
		f.AddUser(name, password, role, groups...)
		return nil
	})
	if err != nil {
		e.T.Fatalf("adding user %s: %v", name, err)
	}
}

// Login opens an /api session and returns its token.
func (e *Env) Login(user, password string) string {
	e.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/session", nil)
	req.SetBasicAuth(user, password)
	res := e.do(req)
	if res.Status != http.StatusCreated {
		e.T.Fatalf("login %s: %d %s", user, res.Status, res.Body)
	}
	var token string
	if err := json.Unmarshal(res.Body, &token); err != nil {
		e.T.Fatalf("login %s: %s: %v", user, res.Body, err)
	}
	return token
}

// AdminToken logs in as the administrator.
func (e *Env) AdminToken() string { return e.Login(Admin, AdminPassword) }

// Response is what a request got back.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// JSON decodes the body into v, failing the test when it does not decode.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// ErrorType is the error_type of a vAPI error body ("" if the body is not one).
func (r Response) ErrorType() string {
	var e struct {
		Type string `json:"error_type"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Type
}

// Do sends a request with the session token (if any) and a JSON body (if not nil: a string or []byte
// is sent as is, anything else is encoded).
func (e *Env) Do(method, path, token string, body any) Response {
	e.T.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		e.T.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("vmware-api-session-id", token)
	}
	return e.do(req)
}

func (e *Env) do(req *http.Request) Response {
	e.T.Helper()
	res, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	out := Response{Status: res.StatusCode, Body: raw, Header: res.Header}
	e.checkTyped(req, out)
	return out
}

// checkTyped holds every JSON answer of a Supervisor operation to the operation's vAPI type: typed
// as the JSON-RPC endpoint types it and decoded strictly, as the official SDKs decode it. So every
// REST test also proves its answers would reach an SDK over JSON-RPC.
func (e *Env) checkTyped(req *http.Request, res Response) {
	path := req.URL.EscapedPath()
	if !strings.HasPrefix(path, "/api/vcenter/") {
		return
	}
	// A void operation answers no body; anything else answers JSON (a file answer is not typed).
	if len(res.Body) > 0 && !strings.Contains(res.Header.Get("Content-Type"), "json") {
		return
	}
	op, _, err := e.Server.Registry.Resolve(req.Method, strings.TrimPrefix(path, "/api"), req.URL.Query().Get("action"), req.URL.Query(), nil)
	if err != nil {
		return
	}
	if err := vapi.CheckAnswer(op.ID(), res.Body, res.Status >= 400); err != nil {
		e.T.Errorf("the answer of %s (%d %s) would not decode in an official SDK over JSON-RPC: %v", op.ID(), res.Status, res.Body, err)
		return
	}
	recordTyped(op.ID())
	if res.Status >= 400 {
		if declared, known := vapi.DeclaresError(op.ID(), res.ErrorType()); known && !declared {
			recordUndeclaredError(op.ID(), res.ErrorType())
		}
	}
}

// typedTransport applies checkTyped to the answers a client such as govmomi's gets.
type typedTransport struct {
	env  *Env
	base http.RoundTripper
}

func (t typedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	t.env.checkTyped(req, Response{Status: res.StatusCode, Body: raw, Header: res.Header})
	return res, nil
}

// Vim25 returns a govmomi SOAP client for the server's /sdk (not logged in).
func (e *Env) Vim25(ctx context.Context) *vim25.Client {
	e.T.Helper()
	u, err := soap.ParseURL(e.URL + "/sdk")
	if err != nil {
		e.T.Fatal(err)
	}
	c, err := vim25.NewClient(ctx, soap.NewClient(u, true))
	if err != nil {
		e.T.Fatalf("vim25 client: %v", err)
	}
	return c
}

// REST returns govmomi's vapi/rest client logged in as user.
func (e *Env) REST(ctx context.Context, user, password string) *rest.Client {
	e.T.Helper()
	c := rest.NewClient(e.Vim25(ctx))
	c.Transport = typedTransport{env: e, base: c.Transport}
	if err := c.Login(ctx, url.UserPassword(user, password)); err != nil {
		e.T.Fatalf("rest login as %s: %v", user, err)
	}
	return c
}

// Govc runs govc in process against the server's /sdk as user.
func (e *Env) Govc(user, password, command string, args ...string) (stdout, stderr string, code int) {
	u, _ := url.Parse(e.URL + "/sdk")
	u.User = url.UserPassword(user, password)
	return govctest.Target{URL: u.String()}.Run(command, args...)
}

// AdminGovc runs govc as the administrator and fails the test if it fails.
func (e *Env) AdminGovc(command string, args ...string) string {
	e.T.Helper()
	out, errOut, code := e.Govc(Admin, AdminPassword, command, args...)
	if code != 0 {
		e.T.Fatalf("govc %s %v: exit %d: %s", command, args, code, errOut)
	}
	return out
}

// Settle lets asynchronous work (enable, install, removal) progress without sleeping: it waits until
// every controller is idle, advances the fake clock by d, and waits again. Waiting first matters: a
// reconcile still running would otherwise schedule its next step from the advanced time.
func (e *Env) Settle(d time.Duration) {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Server.Controllers.Settle(ctx, e.Clock, d); err != nil {
		e.T.Fatalf("controllers did not settle: %v", err)
	}
}

// For returns the same server reporting failures to t, so parallel subtests can share one server.
func (e *Env) For(t testing.TB) *Env {
	c := *e
	c.T = t
	return &c
}

// Eventually polls cond until it holds, failing t when timeout passes first. It is for waiting on
// real processes and real time (the Supervisors' Kubernetes servers), where there is no clock to
// advance; a cond error is remembered and reported, not fatal.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not so after %s (last error: %v)", what, timeout, last)
	}
}

// WithConfig lets a test change any field of the server's Config.
func WithConfig(fn func(c *server.Config)) Option { return Option(fn) }

// JSONRPC returns a vAPI JSON-RPC client of the server's POST /api (not logged in).
func (e *Env) JSONRPC() *jsonrpc.Client { return jsonrpc.New(e.URL, e.HTTP) }
