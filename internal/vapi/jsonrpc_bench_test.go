package vapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/auth"
)

// BenchmarkJSONRPC is an invoke on POST /api served in process (no network, no TLS), as the
// official SDKs send it: a login with user_pass (the SDKs' first call) and a kept read with a
// session. What it measures is the protocol's own cost (the envelope, the security context, the
// typed answer) next to BenchmarkKeptRead's REST read.
func BenchmarkJSONRPC(b *testing.B) {
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "list", func(*Call) (any, error) { return []any{}, nil })
	reg.Keep("namespaces.instances", "list")
	api := testAPI(reg, roleIdentity{})
	api.KeptInputs = func() KeptInputs { return KeptInputs{} }
	token := api.Sessions.Create(auth.Principal{Name: "admin", Domain: auth.Domain}).ID
	invoke := func(service, operation, security string) string {
		return `{"jsonrpc":"2.0","method":"invoke","id":"1","params":{"serviceId":"` + service + `","operationId":"` + operation +
			`","input":{"STRUCTURE":{"operation-input":{}}},"ctx":{"appCtx":{"opId":"1"},"securityCtx":` + security + `}}}`
	}
	for _, bc := range []struct{ name, body, want string }{
		{"session create", invoke("com.vmware.cis.session", "create",
			`{"schemeId":"com.vmware.vapi.std.security.user_pass","userName":"admin","password":"pw"}`), `"SECRET"`},
		{"kept list", invoke("com.vmware.vcenter.namespaces.instances", "list",
			`{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":"`+token+`"}`), `"output":[]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			base := httptest.NewRequest("POST", "/api", nil)
			base.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				req := *base // the request made once; only its body is new
				req.Body = io.NopCloser(strings.NewReader(bc.body))
				api.ServeHTTP(w, &req)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), bc.want) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
