package vapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
	if n := len(api.resolutions.byKey); n != 0 {
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
	if n := len(api.resolutions.byKey); n != maxResolutions {
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

// An invoke on JSON-RPC with the same operation and input as one before is resolved as that one
// was, and one with another input as its own; past the bound, and for an input longer than a kept
// one, invokes are resolved as they were before any were kept; an input that does not resolve is
// refused every time and not kept.
func TestInvokesPastTheKeptInputsStillResolve(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	var given atomic.Value // what the last call's handler was given
	reg.Handle("namespaces.access", "delete", func(c *Call) (any, error) {
		given.Store(c.Path("namespace") + " " + c.Path("domain") + " " + c.Path("subject") + " " + c.Query("type"))
		return nil, nil
	})
	api := testAPI(reg, allowAll{})
	f := &fixture{srv: httptest.NewServer(api)}
	defer f.srv.Close()
	token := login(t, f.srv.URL, "u", "pw")
	invoke := func(input string) (result json.RawMessage) {
		t.Helper()
		body := `{"jsonrpc":"2.0","method":"invoke","id":"1","params":{"serviceId":"com.vmware.vcenter.namespaces.access","operationId":"delete",` +
			`"input":{"STRUCTURE":{"operation-input":` + input + `}},"ctx":{"securityCtx":{"schemeId":"` + SchemeSessionID + `","sessionId":"` + token + `"}}}}`
		r := f.do(t, http.MethodPost, "/api", "", body)
		var answer struct{ Result json.RawMessage }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &answer) != nil || answer.Result == nil {
			t.Fatalf("invoke with %s: status %d, body %s", input, r.status, r.body)
		}
		return answer.Result
	}
	remove := func(i int, subjectType string) {
		t.Helper()
		given.Store("")
		input := fmt.Sprintf(`{"namespace":"ns-%d","domain":"vsphere.local","subject":"user-%d","type":"%s"}`, i, i, subjectType)
		if result := invoke(input); string(result) != `{"output":null}` {
			t.Fatalf("delete of ns-%d's %s entry: %s", i, subjectType, result)
		}
		if want := fmt.Sprintf("ns-%d vsphere.local user-%d %s", i, i, subjectType); given.Load() != want {
			t.Fatalf("the handler was given %q, want %q", given.Load(), want)
		}
	}
	kept := func() int {
		api.rpcResolutions.mu.RLock()
		defer api.rpcResolutions.mu.RUnlock()
		return len(api.rpcResolutions.byKey)
	}

	// An input that does not resolve (no subject) is refused, each time, and not kept.
	for range 2 {
		if result := invoke(`{"namespace":"ns-0","domain":"vsphere.local","type":"USER"}`); !strings.Contains(string(result), "invalid_argument") {
			t.Fatalf("an input without its subject: %s", result)
		}
	}
	// An input longer than a kept one is resolved and not kept.
	long := fmt.Sprintf(`{"namespace":"ns-0","domain":"vsphere.local","subject":"%s","type":"USER"}`, strings.Repeat("x", maxResolvedInput))
	invoke(long)
	if given.Load() != "ns-0 vsphere.local "+strings.Repeat("x", maxResolvedInput)+" USER" {
		t.Fatalf("the long input's handler was given %q", given.Load())
	}
	if n := kept(); n != 0 {
		t.Fatalf("%d inputs kept after only a refused one and one too long", n)
	}
	for i := range maxResolutions + 10 {
		remove(i, "USER")
	}
	for _, i := range []int{0, maxResolutions - 1, maxResolutions, maxResolutions + 9} {
		remove(i, "USER")
		remove(i, "GROUP")
	}
	if n := kept(); n != maxResolutions {
		t.Errorf("%d inputs kept, want the bound, %d", n, maxResolutions)
	}
}
