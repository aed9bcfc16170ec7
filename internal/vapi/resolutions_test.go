package vapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Past the bound on kept resolutions, a new target is resolved as it was before any were kept, and
// the kept ones still answer: a client naming ever new paths (one per namespace of thousands) gets
// every answer right and holds no more memory than the bound.
func TestTargetsPastTheKeptOnesStillResolve(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	for _, op := range reg.Operations() {
		op.Handler = func(c *Call) (any, error) { return c.Op.ID() + " " + c.Path("namespace"), nil }
		op.Status = http.StatusOK
	}
	api := testAPI(reg, allowAll{})
	f := &fixture{srv: httptest.NewServer(api)}
	defer f.srv.Close()
	token := login(t, f.srv.URL, "u", "pw")
	ask := func(method string, i int) {
		t.Helper()
		r := f.do(t, method, fmt.Sprintf("/api/vcenter/namespaces/instances/ns-%d", i), token, "")
		want := fmt.Sprintf("com.vmware.vcenter.namespaces.instances.get ns-%d", i)
		if method == http.MethodDelete {
			want = fmt.Sprintf("com.vmware.vcenter.namespaces.instances.delete ns-%d", i)
		}
		var got string
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil || got != want {
			t.Fatalf("%s ns-%d: status %d, body %s; want %q", method, i, r.status, r.body, want)
		}
	}
	// A target longer than the bound on a kept one (a query as long as the header limit allows, say)
	// is answered and not kept.
	long := "/api/vcenter/namespaces/instances/ns-0?pad=" + strings.Repeat("x", maxResolvedTarget)
	if r := f.do(t, http.MethodGet, long, token, ""); r.status != http.StatusOK || string(r.body) != `"com.vmware.vcenter.namespaces.instances.get ns-0"` {
		t.Fatalf("GET with a long query: status %d, body %s", r.status, r.body)
	}
	api.resolutions.mu.RLock()
	if n := len(api.resolutions.byTarget); n != 0 {
		t.Errorf("a target of %d bytes was kept", len(long))
	}
	api.resolutions.mu.RUnlock()
	for i := range maxResolutions + 10 {
		ask(http.MethodGet, i)
	}
	for _, i := range []int{0, maxResolutions - 1, maxResolutions, maxResolutions + 9} {
		ask(http.MethodGet, i)
		ask(http.MethodDelete, i)
	}
	api.resolutions.mu.RLock()
	if n := len(api.resolutions.byTarget); n != maxResolutions {
		t.Errorf("%d resolutions kept, want the bound, %d", n, maxResolutions)
	}
	api.resolutions.mu.RUnlock()

	// An operation added later at a literal path takes it over from the parameter that resolved it.
	reg.Extend(Binding{Service: "com.example.test", Name: "get", Method: http.MethodGet, Path: "/vcenter/namespaces/instances/ns-0", Status: http.StatusOK},
		func(c *Call) (any, error) { return c.Op.ID(), nil }, false)
	r := f.do(t, http.MethodGet, "/api/vcenter/namespaces/instances/ns-0", token, "")
	if r.status != http.StatusOK || string(r.body) != `"com.example.test.get"` {
		t.Fatalf("GET ns-0 once an operation has that path: status %d, body %s", r.status, r.body)
	}
}
