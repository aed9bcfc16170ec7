package vapi

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
)

type level string

func (level) EnumValues() []string { return []string{"LOW", "NORMAL", "HIGH"} }

type storageSpec struct {
	Policy string `json:"policy"`
	Limit  *int64 `json:"limit,omitempty"`
}

type createSpec struct {
	Cluster     string            `json:"cluster"`
	Namespace   string            `json:"namespace"`
	Description *string           `json:"description,omitempty"`
	Storage     []storageSpec     `json:"storage_specs,omitempty"`
	Level       level             `json:"level,omitempty"`
	MemoryMB    *int64            `json:"memory_MB,omitempty" vapi:"alias=memory_mb"`
	Labels      map[string]string `json:"labels,omitempty"`
}

type roleIdentity struct{}

func (roleIdentity) Login(user, password string) (auth.Principal, error) {
	if password != "pw" {
		return auth.Principal{}, auth.ErrBadCredentials
	}
	return auth.Principal{Name: user, Domain: auth.Domain}, nil
}

func (roleIdentity) HasPrivilege(p auth.Principal, priv auth.Privilege) bool {
	return p.Name == "admin" || priv == auth.SystemRead || priv == auth.PrivilegeNone
}

type fixture struct {
	srv   *httptest.Server
	clock *clock.Fake
	got   *createSpec
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))}
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "create", func(c *Call) (any, error) {
		var spec createSpec
		if err := c.Bind("spec", &spec); err != nil {
			return nil, err
		}
		f.got = &spec
		return nil, nil
	})
	reg.Handle("namespaces.instances", "get", func(c *Call) (any, error) {
		if c.Path("namespace") == "boom" {
			panic("handler bug")
		}
		return map[string]string{"namespace": c.Path("namespace")}, nil
	})
	reg.Handle("namespace_management.cluster_compatibility", "list", func(c *Call) (any, error) {
		var filter struct {
			Compatible      *bool   `json:"compatible,omitempty"`
			NetworkProvider *string `json:"network_provider,omitempty"`
		}
		given, err := c.BindOptional("filter", &filter)
		if err != nil {
			return nil, err
		}
		return map[string]any{"given": given, "filter": filter}, nil
	})
	api := &API{
		Registry: reg, Sessions: NewSessions(f.clock, 30*time.Minute), Identity: roleIdentity{},
		Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry()),
	}
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

type reply struct {
	status int
	body   []byte
	header http.Header
}

func (f *fixture) do(t *testing.T, method, path, token, body string) reply {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	if token != "" {
		req.Header.Set(SessionHeader, token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, raw, res.Header}
}

func vapiError(t *testing.T, r reply) Error {
	t.Helper()
	var e Error
	if err := json.Unmarshal(r.body, &e); err != nil || e.Type == "" || len(e.Messages) == 0 {
		t.Fatalf("not a vAPI error (status %d): %s", r.status, r.body)
	}
	return e
}

func TestErrorsAreVAPIErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin := login(t, f.srv.URL, "admin", "pw")
	reader := login(t, f.srv.URL, "reader", "pw")
	cases := []struct {
		name, method, path, token, body string
		status                          int
		errType                         ErrorType
		mentions                        string
	}{
		{"no session", "GET", "/api/vcenter/namespaces/instances/ns1", "", "", 401, ErrorUnauthenticated, "session"},
		{"unknown session", "GET", "/api/vcenter/namespaces/instances/ns1", "nope", "", 401, ErrorUnauthenticated, "expired"},
		{"missing privilege", "POST", "/api/vcenter/namespaces/instances/v2", reader, `{}`, 403, ErrorUnauthorized, "Namespaces.Manage"},
		{"unknown path", "GET", "/api/vcenter/nothing-here", admin, "", 404, ErrorNotFound, "/vcenter/nothing-here"},
		{"outside api", "GET", "/other", admin, "", 404, ErrorNotFound, "/other"},
		{"wrong method", "PUT", "/api/vcenter/namespaces/instances", admin, "", 405, ErrorOperationNotFound, "GET, POST"},
		{"unknown action", "POST", "/api/vcenter/namespace-management/clusters/domain-c8?action=explode", admin, "", 404, ErrorOperationNotFound, "explode"},
		{"not implemented", "GET", "/api/vcenter/namespace-management/clusters", admin, "", 400, ErrorUnsupported, "not implement"},
		{"malformed json", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": `, 400, ErrorInvalidArgument, "well-formed"},
		{"wrong type", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": 7, "namespace": "a"}`, 400, ErrorInvalidArgument, "spec.cluster"},
		{"missing required", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": "domain-c8"}`, 400, ErrorInvalidArgument, "spec.namespace"},
		{"unknown field", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": "c", "namespace": "a", "colour": "red"}`, 400, ErrorInvalidArgument, "spec.colour"},
		{"bad enum", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": "c", "namespace": "a", "level": "EXTREME"}`, 400, ErrorInvalidArgument, "LOW, NORMAL, HIGH"},
		{"nested path", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": "c", "namespace": "a", "storage_specs": [{"policy": "p"}, {"limit": 1}]}`, 400, ErrorInvalidArgument, "spec.storage_specs[1].policy"},
		{"fraction for integer", "POST", "/api/vcenter/namespaces/instances", admin, `{"cluster": "c", "namespace": "a", "memory_MB": 1.5}`, 400, ErrorInvalidArgument, "spec.memory_MB"},
		{"missing body", "POST", "/api/vcenter/namespaces/instances", admin, "", 400, ErrorInvalidArgument, "spec"},
		{"panic", "GET", "/api/vcenter/namespaces/instances/boom", admin, "", 500, ErrorInternalServerError, "internal error"},
		{"action where none is taken", "GET", "/api/vcenter/namespaces/instances?action=explode", admin, "", 404, ErrorOperationNotFound, "take no action"},
		{"malformed wrapped body", "GET", "/api/vcenter/namespace-management/cluster-compatibility", admin, `[1`, 400, ErrorInvalidArgument, "The request body is not well-formed JSON"},
	}
	for _, c := range cases {
		r := f.do(t, c.method, c.path, c.token, c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		e := vapiError(t, r)
		if e.Type != c.errType {
			t.Errorf("%s: error_type %s, want %s", c.name, e.Type, c.errType)
		}
		if !strings.Contains(string(r.body), c.mentions) {
			t.Errorf("%s: message does not mention %q: %s", c.name, c.mentions, r.body)
		}
		if strings.Contains(string(r.body), "goroutine") || strings.Contains(string(r.body), "handler bug") {
			t.Errorf("%s: leaks internals: %s", c.name, r.body)
		}
		// A message names what it refers to: no empty name where one belongs.
		if msg := string(r.body); strings.Contains(msg, "  ") || strings.Contains(msg, ": .") || strings.Contains(msg, `""`) {
			t.Errorf("%s: a message with a name left empty: %s", c.name, msg)
		}
	}
}

func TestBodyForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin := login(t, f.srv.URL, "admin", "pw")
	r := f.do(t, "POST", "/api/vcenter/namespaces/instances", admin,
		`{"cluster": "domain-c8", "namespace": "ns1", "memory_mb": 512, "description": null, "labels": {"a": "b"}}`)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if f.got.Cluster != "domain-c8" || f.got.Namespace != "ns1" || f.got.MemoryMB == nil || *f.got.MemoryMB != 512 ||
		f.got.Description != nil || f.got.Labels["a"] != "b" {
		t.Fatalf("decoded %+v", f.got)
	}
	// The legacy protocol wraps the body parameter.
	r = f.do(t, "POST", "/rest/vcenter/namespaces/instances", admin, `{"spec": {"cluster": "domain-c9", "namespace": "ns2"}}`)
	if r.status != http.StatusOK || f.got.Cluster != "domain-c9" {
		t.Fatalf("legacy create: %d %s %+v", r.status, r.body, f.got)
	}
	// Filters as exploded query parameters and as a wrapped body (reference §5.3).
	r = f.do(t, "GET", "/api/vcenter/namespace-management/cluster-compatibility?compatible=true&network_provider=NSXT_CONTAINER_PLUGIN", admin, "")
	if r.status != 200 || !strings.Contains(string(r.body), `"given":true`) || !strings.Contains(string(r.body), `"compatible":true`) ||
		!strings.Contains(string(r.body), `"network_provider":"NSXT_CONTAINER_PLUGIN"`) {
		t.Fatalf("query filter: %d %s", r.status, r.body)
	}
	r = f.do(t, "GET", "/api/vcenter/namespace-management/cluster-compatibility", admin, `{"filter": {"compatible": false}}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"compatible":false`) {
		t.Fatalf("body filter: %d %s", r.status, r.body)
	}
	r = f.do(t, "GET", "/api/vcenter/namespace-management/cluster-compatibility?compatible=maybe", admin, "")
	if r.status != 400 || vapiError(t, r).Type != ErrorInvalidArgument || !strings.Contains(string(r.body), "filter.compatible") {
		t.Fatalf("bad query filter: %d %s", r.status, r.body)
	}
	r = f.do(t, "GET", "/api/vcenter/namespace-management/cluster-compatibility", admin, "")
	if r.status != 200 || !strings.Contains(string(r.body), `"given":false`) {
		t.Fatalf("no filter: %d %s", r.status, r.body)
	}
	// The legacy protocol wraps results and errors.
	r = f.do(t, "GET", "/rest/vcenter/namespaces/instances/ns1", admin, "")
	if r.status != 200 || string(r.body) != `{"value":{"namespace":"ns1"}}` {
		t.Fatalf("legacy get: %d %s", r.status, r.body)
	}
	r = f.do(t, "GET", "/rest/vcenter/namespaces/instances/ns1", "", "")
	var legacy struct {
		Type  string `json:"type"`
		Value Error  `json:"value"`
	}
	if err := json.Unmarshal(r.body, &legacy); err != nil || r.status != 401 ||
		legacy.Type != "com.vmware.vapi.std.errors.unauthenticated" || len(legacy.Value.Messages) == 0 {
		t.Fatalf("legacy error: %d %s", r.status, r.body)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Bad credentials.
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/session", nil)
	req.SetBasicAuth("admin", "wrong")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 401 || vapiError(t, reply{res.StatusCode, raw, nil}).Type != ErrorUnauthenticated {
		t.Fatalf("bad credentials: %d %s", res.StatusCode, raw)
	}

	token := login(t, f.srv.URL, "admin", "pw")
	f.clock.Advance(time.Minute)
	r := f.do(t, "GET", "/api/session", token, "")
	var info struct {
		User         string `json:"user"`
		Created      string `json:"created_time"`
		LastAccessed string `json:"last_accessed_time"`
	}
	if err := json.Unmarshal(r.body, &info); err != nil || r.status != 200 {
		t.Fatalf("session get: %d %s", r.status, r.body)
	}
	if info.User != `VSPHERE.LOCAL\admin` || info.Created != "2026-11-21T10:00:00.000Z" || info.LastAccessed != "2026-11-21T10:01:00.000Z" {
		t.Fatalf("session info %+v", info)
	}
	// Idle expiry: 29 minutes idle is fine, 31 is not.
	f.clock.Advance(29 * time.Minute)
	if r := f.do(t, "GET", "/api/session", token, ""); r.status != 200 {
		t.Fatalf("after 29 idle minutes: %d", r.status)
	}
	f.clock.Advance(31 * time.Minute)
	if r := f.do(t, "GET", "/api/session", token, ""); r.status != 401 {
		t.Fatalf("after 31 idle minutes: %d %s", r.status, r.body)
	}

	// Legacy login sets the cookie unless vmware-use-header-authn is sent; the cookie authenticates.
	req, _ = http.NewRequest("POST", f.srv.URL+"/rest/com/vmware/cis/session", nil)
	req.SetBasicAuth("admin", "pw")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	var wrapped struct{ Value string }
	if err := json.Unmarshal(raw, &wrapped); err != nil || res.StatusCode != 200 || wrapped.Value == "" {
		t.Fatalf("legacy login: %d %s", res.StatusCode, raw)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == SessionHeader {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != wrapped.Value {
		t.Fatalf("legacy login cookie: %v", res.Cookies())
	}
	req, _ = http.NewRequest("POST", f.srv.URL+"/rest/com/vmware/cis/session?~action=get", nil)
	req.AddCookie(cookie)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(raw), `"value":{"user":"VSPHERE.LOCAL\\admin"`) {
		t.Fatalf("legacy session get by cookie: %d %s", res.StatusCode, raw)
	}
	req, _ = http.NewRequest("POST", f.srv.URL+"/rest/com/vmware/cis/session", nil)
	req.SetBasicAuth("admin", "pw")
	req.Header.Set("vmware-use-header-authn", "true")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 0 {
		t.Fatalf("cookie set despite vmware-use-header-authn: %v", res.Cookies())
	}

	// Logout ends the session.
	if r := f.do(t, "DELETE", "/api/session", wrapped.Value, ""); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := f.do(t, "GET", "/api/session", wrapped.Value, ""); r.status != 401 {
		t.Fatalf("after logout: %d", r.status)
	}
}

// adminSessionTable is an empty session table with a 30-minute idle timeout on a fake clock, and a
// principal to open sessions for.
func adminSessionTable() (*clock.Fake, *Sessions, auth.Principal) {
	c := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	return c, NewSessions(c, 30*time.Minute), auth.Principal{Name: "admin", Domain: "vsphere.local"}
}

// TestSessionsLeaveTheTableAtALaterLogin: expired sessions are refused at once and leave the table
// at the first login once the idle timeout has passed since the last sweep (logins do not sweep
// the whole table every time).
func TestSessionsLeaveTheTableAtALaterLogin(t *testing.T) {
	t.Parallel()
	c, s, p := adminSessionTable()
	old := s.Create(p)
	for range 99 {
		s.Create(p)
	}
	if n := s.Count(); n != 100 {
		t.Fatalf("%d sessions after 100 logins", n)
	}
	c.Advance(31 * time.Minute)
	kept := s.Create(p) // sweeps: the timeout has passed since the first sweep
	if n := s.Count(); n != 1 {
		t.Fatalf("%d sessions after the idle timeout and a login, want only the new one", n)
	}
	if _, ok := s.Touch(old.ID); ok {
		t.Fatal("an expired session is still valid")
	}
	if _, ok := s.Touch(kept.ID); !ok {
		t.Fatal("the new session is not valid")
	}
	// Within the timeout nothing expires; the table grows with the logins and is swept as it doubles.
	for range 1000 {
		s.Create(p)
	}
	if n := s.Count(); n != 1001 {
		t.Fatalf("%d sessions after 1,001 live logins", n)
	}
}

// TestSessionsKeepWhoOpenedThemAsOthersExpire: the table numbers the principals it holds, and a
// sweep that drops some renumbers the rest; every live session still answers its own user and
// groups, and a token that is not 32 hex digits is no session.
func TestSessionsKeepWhoOpenedThemAsOthersExpire(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	s := NewSessions(c, 30*time.Minute)
	early := auth.Principal{Name: "early", Domain: "vsphere.local"}
	dev := auth.Principal{Name: "dev", Domain: "vsphere.local", Groups: []string{"devops"}}
	devMoreGroups := auth.Principal{Name: "dev", Domain: "vsphere.local", Groups: []string{"devops", "admins"}}
	s.Create(early)
	c.Advance(20 * time.Minute)
	a := s.Create(dev)
	b := s.Create(devMoreGroups)
	c.Advance(15 * time.Minute) // early's session is idle past the timeout; dev's are not
	s.Create(auth.Principal{Name: "late", Domain: "vsphere.local"})
	if n := s.Count(); n != 3 {
		t.Fatalf("%d sessions after the sweep, want dev's two and late's", n)
	}
	for _, c := range []struct {
		id   string
		want auth.Principal
	}{{a.ID, dev}, {b.ID, devMoreGroups}} {
		got, ok := s.Touch(c.id)
		if !ok || got.Principal.String() != c.want.String() || !slices.Equal(got.Principal.Groups, c.want.Groups) {
			t.Fatalf("session %s answers %+v (live %v), want %+v", c.id, got.Principal, ok, c.want)
		}
	}
	for _, bad := range []string{"", "zz", a.ID[:30], a.ID + "00", a.ID[:31] + "g", strings.ToUpper(a.ID)} {
		if _, ok := s.Touch(bad); ok {
			t.Fatalf("token %q found a session", bad)
		}
	}
}

// TestSessionIdsNameTheirSlotAndSecret: an id finds its session only with both its slot and its
// secret; an ended session's slot is refilled by a later login, and its id does not find the new
// session.
func TestSessionIdsNameTheirSlotAndSecret(t *testing.T) {
	t.Parallel()
	_, s, _ := adminSessionTable()
	a := s.Create(auth.Principal{Name: "a", Domain: "vsphere.local"})
	b := s.Create(auth.Principal{Name: "b", Domain: "vsphere.local"})
	parts := func(id string) (sessionSecret, uint32) {
		tok, ok := tokenOf(id)
		if !ok {
			t.Fatalf("id %q is not 32 lower-case hex digits", id)
		}
		return s.slotOf(tok)
	}
	secretA, slotA := parts(a.ID)
	_, slotB := parts(b.ID)
	if slotA == slotB {
		t.Fatalf("two sessions share slot %d", slotA)
	}
	idOf := func(secret sessionSecret, slot uint32) string {
		tok := s.tokenFor(secret, slot)
		return hex.EncodeToString(tok[:])
	}
	if idOf(secretA, slotA) != a.ID {
		t.Fatal("an id does not read back as its secret and slot")
	}
	wrongSecret := secretA
	wrongSecret[0] ^= 1
	for name, id := range map[string]string{
		"a's secret in b's slot":     idOf(secretA, slotB),
		"a wrong secret in a's slot": idOf(wrongSecret, slotA),
		"a slot past the table":      idOf(secretA, 1000),
	} {
		if got, ok := s.Touch(id); ok {
			t.Fatalf("%s found %s's session", name, got.Principal.Name)
		}
	}
	s.Delete(idOf(wrongSecret, slotA)) // ends nothing: the secret is wrong
	if got, ok := s.Touch(a.ID); !ok || got.Principal.Name != "a" {
		t.Fatalf("a's session after a delete with a wrong secret: %+v, %v", got.Principal, ok)
	}
	s.Delete(a.ID)
	c := s.Create(auth.Principal{Name: "c", Domain: "vsphere.local"})
	if _, slotC := parts(c.ID); slotC != slotA {
		t.Fatalf("c's session took slot %d, want a's freed slot %d", slotC, slotA)
	}
	if got, ok := s.Touch(a.ID); ok {
		t.Fatalf("a's ended id found %s's session in its old slot", got.Principal.Name)
	}
	if got, ok := s.Touch(c.ID); !ok || got.Principal.Name != "c" {
		t.Fatalf("c's session: %+v, %v", got.Principal, ok)
	}
	if got, ok := s.Touch(b.ID); !ok || got.Principal.Name != "b" {
		t.Fatalf("b's session: %+v, %v", got.Principal, ok)
	}
}

// TestSessionTableGivesBackABurst: once a burst of sessions has expired, a sweep gives their
// slots' memory back rather than keeping the table at its largest.
func TestSessionTableGivesBackABurst(t *testing.T) {
	t.Parallel()
	c, s, p := adminSessionTable()
	kept := s.Create(p)
	for range 10000 {
		s.Create(p)
	}
	c.Advance(20 * time.Minute)
	if _, ok := s.Touch(kept.ID); !ok {
		t.Fatal("the first session expired early")
	}
	c.Advance(20 * time.Minute) // the burst is idle past the timeout; the first session is not
	s.Create(p)                 // sweeps
	s.mu.Lock()
	slots, chunks := s.next, len(s.chunks)
	s.mu.Unlock()
	if n := s.Count(); n != 2 {
		t.Fatalf("%d sessions after the burst expired, want 2", n)
	}
	if slots > 2 || chunks != 1 {
		t.Fatalf("%d slots in %d chunks for 2 sessions after the burst expired", slots, chunks)
	}
	if _, ok := s.Touch(kept.ID); !ok {
		t.Fatal("the session kept in use was swept")
	}
}

// TestSessionTableHoldsNoPointers: the garbage collector skips a table without pointers, which is
// what keeps a server with many sessions cheap to collect.
func TestSessionTableHoldsNoPointers(t *testing.T) {
	t.Parallel()
	var hasPointers func(reflect.Type) bool
	hasPointers = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Array:
			return hasPointers(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if hasPointers(t.Field(i).Type) {
					return true
				}
			}
			return false
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return true
		}
		return false
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[sessionToken](), reflect.TypeFor[sessionSlot]()} {
		if hasPointers(typ) {
			t.Errorf("%v holds pointers", typ)
		}
	}
}

// The /rest login's cookie and answer are written without net/http's and encoding/json's general
// paths; they must be what those would write.
func TestLoginCookieAndTokenAreWhatTheLibrariesWrite(t *testing.T) {
	id := NewSessions(clock.NewFake(time.Now()), time.Hour).Create(auth.Principal{Name: "u", Domain: auth.Domain}).ID
	want := (&http.Cookie{Name: SessionHeader, Value: id, Path: "/rest", Secure: true, HttpOnly: true}).String()
	if got := legacySessionCookie(id); got != want {
		t.Fatalf("cookie %q, want %q", got, want)
	}
	quoted, _ := json.Marshal(id)
	if got := tokenJSON(id); string(got) != string(quoted) {
		t.Fatalf("token %s, want %s", got, quoted)
	}
}

// TestARequestCarriesNothingOfTheOneBefore serves, one after the other on one goroutine (where the
// exchange one request ended with is the next one's), an authenticated read, a JSON-RPC call that
// fails and a request for no operation: each request line shows that request's operation, user
// and error alone.
func TestARequestCarriesNothingOfTheOneBefore(t *testing.T) {
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "get", func(c *Call) (any, error) {
		return map[string]string{"namespace": c.Path("namespace"), "by": c.Principal.Name}, nil
	})
	var lines bytes.Buffer // written to within ServeHTTP: a handler that is not wcpd's own is called in place
	api := testAPI(reg, roleIdentity{})
	api.Logger = slog.New(slog.NewJSONHandler(&lines, nil))
	token := api.Sessions.Create(auth.Principal{Name: "admin", Domain: auth.Domain}).ID
	read := httptest.NewRequest(http.MethodGet, "/api/vcenter/namespaces/instances/ns-1", nil)
	read.Header.Set(SessionHeader, token)
	const failing = `{"jsonrpc":"2.0","method":"invoke","id":"1","params":{"serviceId":"com.vmware.vcenter.namespaces.instances",` +
		`"operationId":"get","input":{"STRUCTURE":{"operation-input":{"namespace":"ns-1"}}},"ctx":{"appCtx":{}}}}`
	type line struct{ Operation, User, Error string }
	want := []line{
		{"com.vmware.vcenter.namespaces.instances.get", "admin@vsphere.local", ""},
		{"com.vmware.vcenter.namespaces.instances.get", "", "UNAUTHENTICATED"},
		{"unresolved", "", ""},
	}
	for range 10 {
		lines.Reset()
		rpc := httptest.NewRequest(http.MethodPost, "/api", strings.NewReader(failing))
		rpc.Header.Set("Content-Type", "application/json")
		for _, r := range []*http.Request{read, rpc, httptest.NewRequest(http.MethodGet, "/api/vcenter/nothing-here", nil)} {
			api.ServeHTTP(httptest.NewRecorder(), r)
		}
		var got []line
		for _, raw := range bytes.Split(bytes.TrimSpace(lines.Bytes()), []byte("\n")) {
			var l line
			if err := json.Unmarshal(raw, &l); err != nil {
				t.Fatalf("request line %s: %v", raw, err)
			}
			got = append(got, l)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("request lines %+v, want %+v", got, want)
		}
	}
}
