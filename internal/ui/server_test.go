package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/vapi"
)

// uiClient calls a wcpd as the UI's pages do: the session cookie and the X-Wcpd-UI header.
type uiClient struct {
	t      *testing.T
	env    *servertest.Env
	cookie *http.Cookie
}

func (c *uiClient) call(method, path string, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.env.URL+path, strings.NewReader(body))
	req.Header.Set(vapi.UIHeader, "1")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	res, err := c.env.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// uiLogin logs in through the UI's session service; it returns the status and, on success, the
// client holding the cookie and the session's description.
func uiLogin(t *testing.T, env *servertest.Env, user, password string) (int, *uiClient, vapi.UISessionInfo) {
	t.Helper()
	req, _ := http.NewRequest("POST", env.URL+"/api/wcpd/ui/session", nil)
	req.SetBasicAuth(user, password)
	req.Header.Set(vapi.UIHeader, "1")
	res, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var info vapi.UISessionInfo
	c := &uiClient{t: t, env: env}
	for _, ck := range res.Cookies() {
		if ck.Name == vapi.UISessionCookie {
			c.cookie = ck
		}
	}
	if res.StatusCode == 201 {
		if err := json.Unmarshal(body, &info); err != nil || c.cookie == nil {
			t.Fatalf("login %s: %s %v (%v)", user, body, res.Cookies(), err)
		}
	}
	return res.StatusCode, c, info
}

// TestUIOnTheServer: wcpd serves the UI on its listener, sends a browser at / there, and the UI's
// session is the API's: the administrator may do everything, a DevOps user with a role on one
// namespace reaches that namespace through the same API calls and nothing else.
func TestUIOnTheServer(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	noRedirect := &http.Client{Transport: env.HTTP.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := noRedirect.Get(env.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = env.HTTP.Get(env.URL + "/ui/namespaces/demo")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "<html") || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /ui/namespaces/demo: %d %v %.200s", res.StatusCode, res.Header, page)
	}
	if r := env.Do("GET", "/no-such-page", "", nil); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
		t.Fatalf("an unknown path is still the API's 404: %d %s", r.Status, r.Body)
	}

	status, admin, info := uiLogin(t, env, servertest.Admin, servertest.AdminPassword)
	if status != 201 || info.User != "administrator@vsphere.local" || info.DevOps ||
		!info.May["manage_supervisors"] || !info.May["manage_namespaces"] || !info.May["manage_vm_classes"] || !info.May["manage_services"] ||
		len(info.Privileges) < 10 {
		t.Fatalf("administrator's UI session: %d %+v", status, info)
	}
	token := env.AdminToken()
	env.AddUser("devops1", "Devops-pw-1", "")
	env.EnableSupervisor(token, "domain-c9", 9)
	spec := `{"cluster": "domain-c9", "namespace": "team-a", "access_list": [{"subject_type": "USER",
		"subject": "devops1", "domain": "vsphere.local", "role": "EDIT"}]}`
	if status, body := admin.call("POST", "/api/vcenter/namespaces/instances", spec); status != 204 {
		t.Fatalf("creating a namespace through the UI's session: %d %s", status, body)
	}
	if status, body := admin.call("POST", "/api/vcenter/namespaces/instances", `{"cluster": "domain-c9", "namespace": "team-b", "colour": "red"}`); status != 400 || !strings.Contains(string(body), "colour") {
		t.Fatalf("a spec with an unknown field through the UI's session: %d %s", status, body)
	}

	status, devops, info := uiLogin(t, env, "devops1", "Devops-pw-1")
	if status != 201 || !info.DevOps || len(info.Privileges) != 0 || info.May["read_inventory"] || info.May["manage_namespaces"] {
		t.Fatalf("DevOps user's UI session: %d %+v", status, info)
	}
	if status, body := devops.call("GET", "/api/vcenter/namespaces-user/namespaces", ""); status != 200 || !strings.Contains(string(body), `"team-a"`) {
		t.Fatalf("the DevOps user's namespaces: %d %s", status, body)
	}
	if status, body := devops.call("PATCH", "/api/vcenter/namespaces/instances/team-a", `{"description": "ours"}`); status != 204 {
		t.Fatalf("EDIT changes the description: %d %s", status, body)
	}
	for _, refused := range []struct{ method, path, body string }{
		{"GET", "/api/vcenter/namespace-management/clusters", ""},
		{"PATCH", "/api/vcenter/namespaces/instances/team-a", `{"resource_spec": {"cpu_limit": 1000}}`},
		{"DELETE", "/api/vcenter/namespaces/instances/team-a", ""},
	} {
		if status, body := devops.call(refused.method, refused.path, refused.body); status != 403 {
			t.Errorf("DevOps user: %s %s answered %d %s, want 403", refused.method, refused.path, status, body)
		}
	}

	// The UI's logins are the API's: failures count toward the same lockout.
	env.AddUser("clumsy", "Clumsy-pw-1", "")
	for range 5 {
		if status, _, _ := uiLogin(t, env, "clumsy", "wrong"); status != 401 {
			t.Fatalf("a wrong password: %d", status)
		}
	}
	req, _ := http.NewRequest("POST", env.URL+"/api/session", nil)
	req.SetBasicAuth("clumsy", "Clumsy-pw-1")
	res, err = env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 401 || !strings.Contains(string(body), "locked") {
		t.Fatalf("after five failed UI logins, POST /api/session with the right password: %d %s", res.StatusCode, body)
	}

	if status, _ := admin.call("DELETE", "/api/wcpd/ui/session", ""); status != 204 {
		t.Fatalf("logout: %d", status)
	}
	if status, _ := admin.call("GET", "/api/vcenter/namespaces/instances", ""); status != 401 {
		t.Fatalf("after logout: %d", status)
	}
}
