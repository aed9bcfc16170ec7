package vapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/logsink"
	"github.com/wcpd/wcpd/internal/syncbuf"
)

type uiFixture struct {
	srv   *httptest.Server
	clock *clock.Fake
	log   *syncbuf.Buffer
}

func newUIFixture(t *testing.T) *uiFixture {
	t.Helper()
	f := &uiFixture{clock: clock.NewFake(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)), log: &syncbuf.Buffer{}}
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "get", func(c *Call) (any, error) {
		return map[string]string{"namespace": c.Path("namespace")}, nil
	})
	reg.Handle("namespace_management.clusters", "enable", func(c *Call) (any, error) { return nil, nil })
	api := &API{
		Registry: reg, Sessions: NewSessions(f.clock, 30*time.Minute), Identity: roleIdentity{},
		Logger: slog.New(logsink.NewTextHandler(f.log, nil)).With("component", "api"), Metrics: NewMetrics(prometheus.NewRegistry()),
	}
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

// send makes a request as a browser page of the UI would: with the cookie (if any) and, when
// uiHeader, the X-Wcpd-UI header.
func (f *uiFixture) send(t *testing.T, method, path string, cookie *http.Cookie, uiHeader bool, basic ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if uiHeader {
		req.Header.Set(UIHeader, "1")
	}
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func uiCookie(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == UISessionCookie {
			return c
		}
	}
	return nil
}

func TestUISessionLoginCookieAndLogout(t *testing.T) {
	t.Parallel()
	f := newUIFixture(t)

	res, body := f.send(t, "POST", "/api/wcpd/ui/session", nil, true, "admin", "wrong")
	if res.StatusCode != 401 || uiCookie(res) != nil || vapiError(t, reply{res.StatusCode, body, nil}).Type != ErrorUnauthenticated {
		t.Fatalf("login with a wrong password: %d %v %s", res.StatusCode, res.Cookies(), body)
	}

	res, body = f.send(t, "POST", "/api/wcpd/ui/session", nil, true, "admin", "pw")
	cookie := uiCookie(res)
	if res.StatusCode != 201 || cookie == nil || cookie.Value == "" {
		t.Fatalf("login: %d %v %s", res.StatusCode, res.Cookies(), body)
	}
	if !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("the session cookie lacks a flag (HttpOnly, Secure, SameSite=Strict, Path=/): %s", res.Header.Get("Set-Cookie"))
	}
	var info UISessionInfo
	if err := json.Unmarshal(body, &info); err != nil || info.User != "admin@vsphere.local" || !info.May["manage_supervisors"] || info.DevOps {
		t.Fatalf("login answer: %s (%v)", body, err)
	}
	// The login is an API session like any other: its id works as the session header too, and the
	// request log names the operation and the user as for POST /api/session.
	if r := (&fixture{srv: f.srv}).do(t, "GET", "/api/session", cookie.Value, ""); r.status != 200 {
		t.Fatalf("the UI session as a session header: %d %s", r.status, r.body)
	}
	// The line is written before the answer leaves the server (net/http sends a short answer when
	// the handler returns), so it is there once the answer is.
	if !strings.Contains(f.log.String(), "msg=request component=api request_id=") ||
		!strings.Contains(f.log.String(), "operation=com.wcpd.ui.session.create user=admin@vsphere.local method=POST") {
		t.Fatalf("no request log line for the UI login:\n%s", f.log.String())
	}

	// The cookie counts only with X-Wcpd-UI: 1.
	const nsGet = "/api/vcenter/namespaces/instances/demo"
	if res, body := f.send(t, "GET", nsGet, cookie, true); res.StatusCode != 200 || !strings.Contains(string(body), `"demo"`) {
		t.Fatalf("a call with the cookie and the UI header: %d %s", res.StatusCode, body)
	}
	res, body = f.send(t, "GET", nsGet, cookie, false)
	if res.StatusCode != 401 || vapiError(t, reply{res.StatusCode, body, nil}).Messages[0].ID != "wcpd.unauthenticated.ui_header" {
		t.Fatalf("a call with the cookie but no UI header: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+nsGet, nil)
	req.AddCookie(cookie)
	req.Header.Set(UIHeader, "0")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("a call with the cookie and %s: 0: %v %v", UIHeader, res, err)
	} else {
		res.Body.Close()
	}

	res, body = f.send(t, "GET", "/api/wcpd/ui/session", cookie, true)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"user":"admin@vsphere.local"`) {
		t.Fatalf("session get: %d %s", res.StatusCode, body)
	}

	res, body = f.send(t, "DELETE", "/api/wcpd/ui/session", cookie, true)
	if cleared := uiCookie(res); res.StatusCode != 204 || cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Fatalf("logout: %d %v %s", res.StatusCode, res.Header.Values("Set-Cookie"), body)
	}
	for _, path := range []string{nsGet, "/api/wcpd/ui/session"} {
		res, body := f.send(t, "GET", path, cookie, true)
		if res.StatusCode != 401 || vapiError(t, reply{res.StatusCode, body, nil}).Messages[0].ID != "wcpd.unauthenticated.session_invalid" {
			t.Fatalf("GET %s after logout: %d %s", path, res.StatusCode, body)
		}
	}
}

func TestUISessionExpiresAndAnswersOnlyItsMethods(t *testing.T) {
	t.Parallel()
	f := newUIFixture(t)
	res, _ := f.send(t, "POST", "/api/wcpd/ui/session", nil, true, "reader", "pw")
	cookie := uiCookie(res)
	if cookie == nil {
		t.Fatalf("login: %d", res.StatusCode)
	}
	// roleIdentity gives a user other than admin System.Read alone: it reads but changes nothing,
	// and the API refuses what the answer says it may not do.
	_, body := f.send(t, "GET", "/api/wcpd/ui/session", cookie, true)
	var info UISessionInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	if !info.May["read_inventory"] || info.May["manage_supervisors"] || info.DevOps || len(info.Privileges) != 1 || info.Privileges[0] != "System.Read" {
		t.Fatalf("a reader's session: %s", body)
	}
	if res, body := f.send(t, "POST", "/api/vcenter/namespace-management/clusters/domain-c9?action=enable", cookie, true); res.StatusCode != 403 {
		t.Fatalf("a reader enabling a Supervisor through the UI: %d %s", res.StatusCode, body)
	}

	f.clock.Advance(31 * time.Minute)
	if res, body := f.send(t, "GET", "/api/wcpd/ui/session", cookie, true); res.StatusCode != 401 {
		t.Fatalf("after 31 idle minutes: %d %s", res.StatusCode, body)
	}
	if res, body := f.send(t, "PUT", "/api/wcpd/ui/session", cookie, true); res.StatusCode != 405 || res.Header.Get("Allow") == "" {
		t.Fatalf("PUT: %d %v %s", res.StatusCode, res.Header, body)
	}
}

// TestUICapabilitiesNameRegisteredOperations: each capability the UI session answers is decided by
// an operation of the catalog; a renamed operation must not silently answer false.
func TestUICapabilitiesNameRegisteredOperations(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	for _, c := range uiCapabilities {
		if _, ok := reg.Lookup(c.operation); !ok {
			t.Errorf("capability %s names %s, which the catalog does not declare", c.name, c.operation)
		}
	}
}
