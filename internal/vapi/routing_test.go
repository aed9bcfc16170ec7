package vapi

import (
	"encoding/json"
	"errors"
	"github.com/wcpd/wcpd/internal/vapi/idl"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/reference"
)

// loadReference reads the reference operation list kept beside the repository, or skips the test.
func loadReference(t *testing.T) []reference.Service {
	t.Helper()
	services, path, err := reference.Load()
	if errors.Is(err, reference.ErrAbsent) {
		t.Skipf("reference %s is absent: the catalog cannot be checked against it here", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return services
}

func TestCatalogMatchesReference(t *testing.T) {
	t.Parallel()
	services := loadReference(t)
	reg := NewRegistry()
	seen := map[string]bool{}
	n := 0
	for _, svc := range services {
		for _, ref := range svc.Ops {
			n++
			id := svc.Iface + "." + ref.Name
			seen[id] = true
			op, ok := reg.Lookup(id)
			if !ok {
				t.Errorf("%s: missing from the catalog", id)
				continue
			}
			if op.Method != ref.HTTP || op.Path != ref.URL || op.Action != ref.Dispatch["action"] {
				t.Errorf("%s: catalog has %s %s action=%q, reference %s %s action=%q",
					id, op.Method, op.Path, op.Action, ref.HTTP, ref.URL, ref.Dispatch["action"])
			}
			body := ""
			if ref.BodyPar != nil {
				body = *ref.BodyPar
			}
			if op.Body != body {
				t.Errorf("%s: body parameter %q, reference %q", id, op.Body, body)
			}
			for _, q := range ref.Query {
				if !contains(op.Query, q) {
					t.Errorf("%s: query parameter %q not declared", id, q)
				}
			}
			void := ref.Output == "void"
			switch {
			case void && op.Status == http.StatusOK, !void && op.Status == http.StatusNoContent:
				t.Errorf("%s: status %d does not fit output %s", id, op.Status, ref.Output)
			}
		}
	}
	if n != 101 {
		t.Errorf("reference lists %d operations, expected 101", n)
	}
	// Every other declared operation must be one vSphere added later, and none of those may be in
	// the 8.0U2 reference.
	later := map[string]bool{}
	for _, l := range OperationsAfter8U2() {
		later[l.ID] = true
		if seen[l.ID] {
			t.Errorf("%s: declared as added after 8.0U2 (%s) but the 8.0U2 reference has it", l.ID, l.Since)
		}
	}
	for _, id := range NeighbourOperations() {
		later[id] = true // held to the neighbours reference by TestNeighbourOperationsMatchTheReference
	}
	for _, op := range reg.Operations() {
		if !seen[op.ID()] && !later[op.ID()] {
			t.Errorf("%s: in the catalog but not in the reference", op.ID())
		}
	}
}

// TestNeighbourOperationsMatchTheReference holds the declared inventory operations to the
// neighbours reference's metadata: method, path and parameters where the REST binding puts them.
func TestNeighbourOperationsMatchTheReference(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	for _, id := range NeighbourOperations() {
		op, _ := reg.Lookup(id)
		mop, ok := idl.Default().Operation(op.ServiceID(), op.Name)
		if !ok {
			t.Errorf("%s: not in the neighbours reference", id)
			continue
		}
		if op.Method != mop.HTTP || op.Path != mop.URL {
			t.Errorf("%s: catalog has %s %s, reference %s %s", id, op.Method, op.Path, mop.HTTP, mop.URL)
		}
		for _, p := range mop.Params {
			inPath := false
			for _, param := range mop.PathVars {
				inPath = inPath || param == p.Name
			}
			if !inPath && !contains(op.Wrapped, p.Name) && op.Body != p.Name {
				t.Errorf("%s: parameter %s is neither in the path nor a body input", id, p.Name)
			}
		}
		if (mop.Output == "void") != (op.Status == http.StatusNoContent) {
			t.Errorf("%s: status %d does not fit output %s", id, op.Status, mop.Output)
		}
	}
}

// laterReference transcribes reference §4 for the operations added after 8.0U2 that the catalog
// declares: release, method, path, body parameter and success status.
var laterReference = map[string]struct {
	since, method, path, body string
	status                    int
}{
	"com.vmware.vcenter.namespaces.instances.register_vm": {"8.0U3", "POST", "/vcenter/namespaces/instances/{namespace}/registervm", "spec", 200},
}

// TestLaterOperationsRoute holds each operation added after 8.0U2 to reference §4 and sends it over
// HTTP on /api and /rest, checking that it reaches its own entry with its path parameters bound and
// that the 8.0U2 operations beside it still reach theirs.
func TestLaterOperationsRoute(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	laterOps := OperationsAfter8U2()
	if len(laterOps) != len(laterReference) {
		t.Errorf("%d operations declared as added after 8.0U2, reference §4 transcribed for %d", len(laterOps), len(laterReference))
	}
	for _, l := range laterOps {
		ref, ok := laterReference[l.ID]
		op, declared := reg.Lookup(l.ID)
		switch {
		case !ok:
			t.Errorf("%s: not in reference §4 as transcribed here", l.ID)
		case !declared:
			t.Errorf("%s: not in the registry", l.ID)
		case l.Since != ref.since || op.Method != ref.method || op.Path != ref.path || op.Body != ref.body || op.Status != ref.status:
			t.Errorf("%s: declared %s %s %s body %q status %d, reference §4 %s %s %s body %q status %d", l.ID,
				l.Since, op.Method, op.Path, op.Body, op.Status, ref.since, ref.method, ref.path, ref.body, ref.status)
		}
	}
	type echo struct {
		ID     string            `json:"id"`
		Params map[string]string `json:"params"`
	}
	for _, op := range reg.Operations() {
		op.Handler = func(c *Call) (any, error) { return echo{c.Op.ID(), paramMap(c.params)}, nil }
		op.Status = http.StatusOK
	}
	srv := httptest.NewServer(testAPI(reg, allowAll{}))
	defer srv.Close()
	token := login(t, srv.URL, "u", "pw")
	send := func(method, u string) (int, echo, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader("{}"))
		req.Header.Set(SessionHeader, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var got echo
		if strings.Contains(u, "/rest/") {
			var wrapped struct{ Value echo }
			_ = json.Unmarshal(raw, &wrapped)
			got = wrapped.Value
		} else {
			_ = json.Unmarshal(raw, &got)
		}
		return res.StatusCode, got, raw
	}
	for _, l := range laterOps {
		op, ok := reg.Lookup(l.ID)
		if !ok {
			continue
		}
		path, want := concretePath(op.Path)
		for _, prefix := range []string{"/api", "/rest"} {
			status, got, raw := send(op.Method, srv.URL+prefix+path)
			if status != http.StatusOK || got.ID != l.ID {
				t.Errorf("%s %s%s: status %d, body %s; want operation %s", op.Method, prefix, path, status, raw, l.ID)
				continue
			}
			for k, v := range want {
				if got.Params[k] != v {
					t.Errorf("%s%s: path parameter %s = %q, want %q", prefix, path, k, got.Params[k], v)
				}
			}
		}
	}
	// register_vm's path sits below a namespace's: the namespace's own operations still answer there,
	// and another verb on the new path is refused as a known path with another method.
	if status, got, raw := send("GET", srv.URL+"/api/vcenter/namespaces/instances/registervm"); status != http.StatusOK || got.ID != "com.vmware.vcenter.namespaces.instances.get" || got.Params["namespace"] != "registervm" {
		t.Errorf("GET of a namespace named registervm: %d %s", status, raw)
	}
	if status, _, raw := send("GET", srv.URL+"/api/vcenter/namespaces/instances/ns-1/registervm"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET .../registervm: %d %s, want 405", status, raw)
	}
}

// concretePath fills a template's variables with recognisable values.
func concretePath(tmpl string) (string, map[string]string) {
	want := map[string]string{}
	var out []string
	for _, seg := range strings.Split(tmpl, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			v := "val-" + strings.ToLower(name)
			want[name] = v
			seg = v
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/"), want
}

type allowAll struct{}

func (allowAll) Login(user, password string) (auth.Principal, error) {
	return roleIdentity{}.Login(user, password)
}
func (allowAll) HasPrivilege(auth.Principal, auth.Privilege) bool { return true }

// TestEveryReferenceOperationRoutes sends each of the reference's operations over HTTP on /api and
// /rest and checks that it reaches its own registry entry with its path parameters bound. Every
// request goes twice, the second time once all the others have gone: from the resolutions kept by
// target (resolutions.go), which must tell apart the operations one path serves by method and
// action, and keep each target's parameters whatever requests came between.
func TestEveryReferenceOperationRoutes(t *testing.T) {
	t.Parallel()
	services := loadReference(t)
	reg := NewRegistry()
	type echo struct {
		ID     string            `json:"id"`
		Params map[string]string `json:"params"`
	}
	for _, op := range reg.Operations() {
		op.Handler = func(c *Call) (any, error) { return echo{c.Op.ID(), paramMap(c.params)}, nil }
		op.Status = http.StatusOK
	}
	api := testAPI(reg, allowAll{})
	srv := httptest.NewServer(api)
	defer srv.Close()
	token := login(t, srv.URL, "u", "pw")
	// Each reference operation on /api and on /rest, with its action where it has one.
	type request struct {
		method, url, id string
		legacy          bool
		want            map[string]string // path parameters
	}
	var requests []request
	for _, svc := range services {
		for _, ref := range svc.Ops {
			path, want := concretePath(ref.URL)
			for _, legacy := range []bool{false, true} {
				u, actionKey := srv.URL+"/api"+path, "?action="
				if legacy {
					u, actionKey = srv.URL+"/rest"+path, "?~action="
				}
				if a := ref.Dispatch["action"]; a != "" {
					u += actionKey + a
				}
				requests = append(requests, request{ref.HTTP, u, svc.Iface + "." + ref.Name, legacy, want})
			}
		}
	}
	// routed sends r and reports whether it reached its operation with its parameters bound.
	routed := func(r request) bool {
		req, _ := http.NewRequest(r.method, r.url, nil)
		req.Header.Set(SessionHeader, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got echo
		if r.legacy {
			var wrapped struct{ Value echo }
			err = json.Unmarshal(raw, &wrapped)
			got = wrapped.Value
		} else {
			err = json.Unmarshal(raw, &got)
		}
		if res.StatusCode != http.StatusOK || err != nil || got.ID != r.id {
			t.Errorf("%s %s: status %d, body %s; want operation %s", r.method, r.url, res.StatusCode, raw, r.id)
			return false
		}
		for k, v := range r.want {
			if got.Params[k] != v {
				t.Errorf("%s: path parameter %s = %q, want %q", r.url, k, got.Params[k], v)
			}
		}
		return true
	}
	n := 0
	for range 2 {
		for _, r := range requests {
			if routed(r) {
				n++
			}
		}
	}
	if n != 404 {
		t.Errorf("%d of 404 requests routed", n)
	}
}

// paramMap is a call's path parameters by name, as the routing tests compare them.
func paramMap(params PathParams) map[string]string {
	m := map[string]string{}
	for _, p := range params {
		m[p.Name] = p.Value
	}
	return m
}

// A path parameter is the request's segment unescaped once: an escaped percent sign stays a
// percent sign, and an escaped slash stays inside its segment.
func TestPathParametersAreUnescapedOnce(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	for _, op := range reg.Operations() {
		op.Handler = func(c *Call) (any, error) { return paramMap(c.params), nil }
		op.Status = http.StatusOK
	}
	f := &fixture{srv: httptest.NewServer(testAPI(reg, allowAll{}))}
	defer f.srv.Close()
	token := login(t, f.srv.URL, "u", "pw")
	for escaped, want := range map[string]string{
		"ns-1":      "ns-1",
		"a%2541":    "a%41",
		"a%2Fb":     "a/b",
		"caf%C3%A9": "café",
	} {
		r := f.do(t, http.MethodGet, "/api/vcenter/namespaces/instances/"+escaped, token, "")
		var got map[string]string
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil || got["namespace"] != want {
			t.Errorf("GET .../instances/%s: status %d, body %s; want the namespace parameter %q", escaped, r.status, r.body, want)
		}
	}
}

// TestAQueryParameterSelectsAnOperation: of two operations at the same path, method and action, the
// one that Requires a query parameter answers when the request has it, and the other when it does
// not (a content library item's file get, ?name=, and the list of its files).
func TestAQueryParameterSelectsAnOperation(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	path := "/content/library/item/{libraryItemId}/file"
	for _, b := range []Binding{
		{Service: "com.vmware.content.library.item.file", Name: "list", Method: "GET", Path: path, Status: http.StatusOK},
		{Service: "com.vmware.content.library.item.file", Name: "get", Method: "GET", Path: path, Requires: "name", Status: http.StatusOK},
	} {
		reg.Extend(b, func(c *Call) (any, error) { return c.Op.ID() + " of " + c.Path("libraryItemId"), nil }, true)
	}
	for target, want := range map[string]string{
		"/content/library/item/i1/file":            "com.vmware.content.library.item.file.list of i1",
		"/content/library/item/i1/file?other=x":    "com.vmware.content.library.item.file.list of i1",
		"/content/library/item/i1/file?name=a.ovf": "com.vmware.content.library.item.file.get of i1",
		"/content/library/item/i1/file?x=1&name=":  "com.vmware.content.library.item.file.get of i1",
	} {
		u, _ := url.Parse(target)
		op, params, err := reg.Resolve("GET", u.Path, "", u.Query(), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got := op.ID() + " of " + paramMap(params)["libraryItemId"]; got != want {
			t.Errorf("%s routes to %s, want %s", target, got, want)
		}
	}
}
