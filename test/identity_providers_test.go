package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/servertest"
)

// providerInfo is supervisors.identity.Providers.Info as a client decodes it; Secret catches a
// client_secret that must never be sent.
type providerInfo struct {
	Provider                      string            `json:"provider"`
	DisplayName                   string            `json:"display_name"`
	IssuerURL                     string            `json:"issuer_URL"`
	UsernameClaim                 *string           `json:"username_claim"`
	GroupsClaim                   *string           `json:"groups_claim"`
	ClientID                      string            `json:"client_ID"`
	CertificateAuthorityData      *string           `json:"certificate_authority_data"`
	AdditionalScopes              []string          `json:"additional_scopes"`
	AdditionalAuthorizeParameters map[string]string `json:"additional_authorize_parameters"`
	Secret                        *string           `json:"client_secret"`
}

type providerSummary struct {
	Provider    string `json:"provider"`
	DisplayName string `json:"display_name"`
}

const providerSecret = "0kta-Client-Secret-value"

// testCAPEM is a self-signed CA certificate, PEM-encoded, as an identity provider's trust root.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Test IdP CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func oktaProvider(ca string) map[string]any {
	return map[string]any{
		"display_name":                    "Okta",
		"issuer_URL":                      "https://example.okta.com/oauth2/default",
		"username_claim":                  "email",
		"groups_claim":                    "groups",
		"client_ID":                       "0oa1b2c3d4e5",
		"client_secret":                   providerSecret,
		"certificate_authority_data":      ca,
		"additional_scopes":               []any{"email", "groups"},
		"additional_authorize_parameters": map[string]any{"orgLink": "/csp/gateway/am/api/orgs/org-1"},
	}
}

// supervisorIDNamed finds a Supervisor's id in the 8.0 summaries.
func supervisorIDNamed(t *testing.T, env *servertest.Env, token, name string) string {
	t.Helper()
	var sums struct {
		Items []struct {
			Supervisor string `json:"supervisor"`
			Info       struct {
				Name string `json:"name"`
			} `json:"info"`
		} `json:"items"`
	}
	env.Do("GET", nmPath+"/supervisors/summaries", token, nil).JSON(t, &sums)
	for _, it := range sums.Items {
		if it.Info.Name == name {
			return it.Supervisor
		}
	}
	t.Fatalf("no Supervisor %s in the summaries: %+v", name, sums)
	return ""
}

func getProvider(t *testing.T, env *servertest.Env, token, path string) providerInfo {
	t.Helper()
	r := env.Do("GET", path, token, nil)
	if r.Status != 200 {
		t.Fatalf("get %s: %d %s", path, r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "client_secret") || strings.Contains(string(r.Body), providerSecret) {
		t.Fatalf("get answered the client secret: %s", r.Body)
	}
	var p providerInfo
	r.JSON(t, &p)
	return p
}

func listProviders(t *testing.T, env *servertest.Env, token, path string) []providerSummary {
	t.Helper()
	r := env.Do("GET", path, token, nil)
	if r.Status != 200 {
		t.Fatalf("list %s: %d %s", path, r.Status, r.Body)
	}
	var out []providerSummary
	r.JSON(t, &out)
	if out == nil {
		t.Fatalf("list answered %s, want a JSON array", r.Body)
	}
	return out
}

// supervisorConfigStatus is the config_status of the Supervisor on cluster, "" when there is none.
func supervisorConfigStatus(t *testing.T, env *servertest.Env, token, cluster string) string {
	t.Helper()
	r := env.Do("GET", nmPath+"/clusters/"+cluster, token, nil)
	if r.Status != 200 {
		return ""
	}
	var info struct {
		ConfigStatus string `json:"config_status"`
	}
	r.JSON(t, &info)
	return info.ConfigStatus
}

// asJSON shows a value in failure messages as the wire has it (pointers included).
func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestIdentityProviders covers a Supervisor's identity provider through its life: create (one per
// Supervisor), get without the secret, list, update (merge, unset), set (replace), refusals that
// change nothing, privileges, the legacy /rest protocol, a restart, Supervisor states, and the
// providers going with a disabled Supervisor.
func TestIdentityProviders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := servertest.New(t, servertest.WithDataDir(dir))
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 1)
	sup := supervisorIDNamed(t, env, token, "cluster-a")
	base := nmPath + "/supervisors/" + sup + "/identity/providers"
	ca := testCAPEM(t)
	ptr := func(s string) *string { return &s }

	if got := listProviders(t, env, token, base); len(got) != 0 {
		t.Fatalf("a new Supervisor has providers: %+v", got)
	}

	// Create answers 200 with the new id as a JSON string.
	r := env.Do("POST", base, token, oktaProvider(ca))
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var id string
	r.JSON(t, &id)
	if !uuidPattern.MatchString(id) {
		t.Fatalf("create answered %s, want a provider id", r.Body)
	}
	one := base + "/" + id
	created := getProvider(t, env, token, one)
	want := providerInfo{Provider: id, DisplayName: "Okta", IssuerURL: "https://example.okta.com/oauth2/default",
		UsernameClaim: ptr("email"), GroupsClaim: ptr("groups"), ClientID: "0oa1b2c3d4e5", CertificateAuthorityData: &ca,
		AdditionalScopes: []string{"email", "groups"}, AdditionalAuthorizeParameters: map[string]string{"orgLink": "/csp/gateway/am/api/orgs/org-1"}}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("get after create:\n got %s\nwant %s", asJSON(created), asJSON(want))
	}
	if got := listProviders(t, env, token, base); len(got) != 1 || got[0] != (providerSummary{id, "Okta"}) {
		t.Fatalf("list: %+v", got)
	}
	// The Supervisor may also be named by its cluster.
	if got := listProviders(t, env, token, nmPath+"/supervisors/"+clusterA+"/identity/providers"); len(got) != 1 || got[0].Provider != id {
		t.Fatalf("list by cluster: %+v", got)
	}

	// vCenter supports one identity provider per Supervisor.
	second := oktaProvider(ca)
	second["display_name"] = "Azure AD"
	expectError(t, env.Do("POST", base, token, second), 400, "UNSUPPORTED", id, "supports only one")

	t.Run("refusals change nothing", func(t *testing.T) {
		env := env.For(t)
		for _, tc := range []struct {
			method, field string
			value         any // nil removes the field
			words         []string
		}{
			{"POST", "issuer_URL", "http://example.okta.com", []string{"spec.issuer_URL", "http://example.okta.com", "https URL"}},
			{"POST", "issuer_URL", "https://example.okta.com/?x=1", []string{"spec.issuer_URL", "query or fragment"}},
			{"POST", "client_ID", nil, []string{"Required field spec.client_ID is missing"}},
			{"POST", "client_secret", "", []string{"spec.client_secret", "must not be empty"}},
			{"POST", "certificate_authority_data", "not a certificate", []string{"spec.certificate_authority_data", "not a certificate", "PEM"}},
			{"POST", "groups_claim", "my groups", []string{"spec.groups_claim", "my groups"}},
			{"POST", "additional_scopes", []any{"openid profile"}, []string{"spec.additional_scopes[0]", "openid profile"}},
			{"POST", "additional_authorize_parameters", map[string]any{"redirect_uri": "https://evil.example.com"}, []string{"spec.additional_authorize_parameters", "redirect_uri"}},
			{"PUT", "client_secret", nil, []string{"Required field spec.client_secret is missing"}},
			{"PUT", "display_name", "", []string{"spec.display_name", "must not be empty"}},
			{"PUT", "issuer_URL", "ftp://example.okta.com", []string{"spec.issuer_URL", "ftp://example.okta.com"}},
		} {
			body := oktaProvider(ca)
			if tc.value == nil {
				delete(body, tc.field)
			} else {
				body[tc.field] = tc.value
			}
			path := base
			if tc.method == "PUT" {
				path = one
			}
			r := env.Do(tc.method, path, token, body)
			expectError(t, r, 400, "INVALID_ARGUMENT", tc.words...)
			if strings.Contains(string(r.Body), providerSecret) {
				t.Fatalf("an error showed the client secret: %s", r.Body)
			}
		}
		for _, body := range []map[string]any{
			{"groups_claim": "roles", "unset_groups_claim": true},
			{"display_name": "Renamed", "issuer_URL": "https://idp.example.com/#frag"},
			{"client_secret": "bad\nsecret"},
			{"client_ID": "x", "no_such_field": 1},
		} {
			r := env.Do("PATCH", one, token, body)
			if r.Status != 400 || r.ErrorType() != "INVALID_ARGUMENT" || strings.Contains(string(r.Body), "bad\\nsecret") {
				t.Fatalf("update %v: %d %s", body, r.Status, r.Body)
			}
		}
		if got := getProvider(t, env, token, one); !reflect.DeepEqual(got, want) {
			t.Fatalf("a refused request changed the provider:\n got %s\nwant %s", asJSON(got), asJSON(want))
		}
	})

	t.Run("not found", func(t *testing.T) {
		env := env.For(t)
		const ghost = "00000000-0000-0000-0000-000000000000"
		expectError(t, env.Do("GET", base+"/"+ghost, token, nil), 404, "NOT_FOUND", ghost)
		expectError(t, env.Do("PATCH", base+"/"+ghost, token, map[string]any{"display_name": "x"}), 404, "NOT_FOUND", ghost)
		expectError(t, env.Do("PUT", base+"/"+ghost, token, oktaProvider(ca)), 404, "NOT_FOUND", ghost)
		expectError(t, env.Do("DELETE", base+"/"+ghost, token, nil), 404, "NOT_FOUND", ghost)
		other := nmPath + "/supervisors/" + ghost + "/identity/providers"
		expectError(t, env.Do("GET", other, token, nil), 404, "NOT_FOUND", ghost)
		expectError(t, env.Do("GET", other+"/"+id, token, nil), 404, "NOT_FOUND", ghost)
		expectError(t, env.Do("DELETE", other+"/"+id, token, nil), 404, "NOT_FOUND", ghost)
		// vCenter answers a create for a Supervisor that does not exist with UNSUPPORTED.
		expectError(t, env.Do("POST", other, token, oktaProvider(ca)), 400, "UNSUPPORTED", ghost)
		expectError(t, env.Do("POST", nmPath+"/supervisors/"+clusterEdge+"/identity/providers", token, oktaProvider(ca)), 400, "UNSUPPORTED", clusterEdge)
	})

	t.Run("privileges", func(t *testing.T) {
		env := env.For(t)
		env.AddUser("idp-reader", "Reader-pw-1", auth.RoleReadOnly)
		reader := env.Login("idp-reader", "Reader-pw-1")
		if got := getProvider(t, env, reader, one); got.Provider != id {
			t.Fatalf("a reader's get: %+v", got)
		}
		listProviders(t, env, reader, base)
		expectError(t, env.Do("POST", base, reader, oktaProvider(ca)), 403, "UNAUTHORIZED")
		expectError(t, env.Do("PATCH", one, reader, map[string]any{"display_name": "x"}), 403, "UNAUTHORIZED")
		expectError(t, env.Do("PUT", one, reader, oktaProvider(ca)), 403, "UNAUTHORIZED")
		expectError(t, env.Do("DELETE", one, reader, nil), 403, "UNAUTHORIZED")
		expectError(t, env.Do("GET", one, "", nil), 401, "UNAUTHENTICATED")
	})

	// Update merges: what it names changes, unset_* removes, the rest stays.
	if r := env.Do("PATCH", one, token, map[string]any{
		"display_name": "Okta (prod)", "unset_username_claim": true, "groups_claim": "roles",
		"unset_certificate_authority_data": true, "client_secret": "rotated-secret",
	}); r.Status != 204 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	want.DisplayName, want.UsernameClaim, want.GroupsClaim, want.CertificateAuthorityData = "Okta (prod)", nil, ptr("roles"), nil
	if got := getProvider(t, env, token, one); !reflect.DeepEqual(got, want) {
		t.Fatalf("get after update:\n got %s\nwant %s", asJSON(got), asJSON(want))
	}
	if got := listProviders(t, env, token, base); got[0].DisplayName != "Okta (prod)" {
		t.Fatalf("list after update: %+v", got)
	}

	// Set replaces: what it omits is cleared. The legacy /rest protocol wraps the spec.
	if r := env.Do("PUT", strings.Replace(one, "/api/", "/rest/", 1), token, map[string]any{"spec": map[string]any{
		"display_name": "Entra ID", "issuer_URL": "https://login.microsoftonline.com/tenant-1/v2.0",
		"client_ID": "app-1", "client_secret": "entra-secret", "certificate_authority_data": ca,
	}}); r.Status != 200 && r.Status != 204 {
		t.Fatalf("set over /rest: %d %s", r.Status, r.Body)
	}
	want = providerInfo{Provider: id, DisplayName: "Entra ID", IssuerURL: "https://login.microsoftonline.com/tenant-1/v2.0",
		ClientID: "app-1", CertificateAuthorityData: &ca}
	if got := getProvider(t, env, token, one); !reflect.DeepEqual(got, want) {
		t.Fatalf("get after set:\n got %s\nwant %s", asJSON(got), asJSON(want))
	}
	var legacy struct {
		Value providerInfo `json:"value"`
	}
	env.Do("GET", strings.Replace(one, "/api/", "/rest/", 1), token, nil).JSON(t, &legacy)
	if !reflect.DeepEqual(legacy.Value, want) {
		t.Fatalf("get over /rest: %+v", legacy)
	}

	// Delete, then a new provider may be registered (with a new id).
	if r := env.Do("DELETE", one, token, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	expectError(t, env.Do("GET", one, token, nil), 404, "NOT_FOUND")
	if got := listProviders(t, env, token, base); len(got) != 0 {
		t.Fatalf("list after delete: %+v", got)
	}
	// Creates racing for the free place: exactly one wins, the others are told the limit.
	results := make(chan servertest.Response, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- env.Do("POST", base, token, oktaProvider(ca))
		}()
	}
	wg.Wait()
	close(results)
	var id2 string
	for r := range results {
		switch {
		case r.Status == 200 && id2 == "":
			r.JSON(t, &id2)
		case r.Status == 400 && r.ErrorType() == "UNSUPPORTED":
		default:
			t.Fatalf("racing creates: %d %s (winner so far %q)", r.Status, r.Body, id2)
		}
	}
	if id2 == "" || id2 == id {
		t.Fatalf("racing creates: winner %q (the deleted one was %s)", id2, id)
	}
	if got := listProviders(t, env, token, base); len(got) != 1 || got[0].Provider != id2 {
		t.Fatalf("list after racing creates: %+v", got)
	}
	want = created
	want.Provider = id2

	// A Supervisor being enabled takes no provider until it is RUNNING; reads work.
	if r := env.Do("POST", nmPath+"/clusters/"+clusterB+"?action=enable", token, vsphereEnableSpec(2)); r.Status != 204 {
		t.Fatalf("enable %s: %d %s", clusterB, r.Status, r.Body)
	}
	supB := supervisorIDNamed(t, env, token, "cluster-b")
	baseB := nmPath + "/supervisors/" + supB + "/identity/providers"
	expectError(t, env.Do("POST", baseB, token, oktaProvider(ca)), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "CONFIGURING")
	if got := listProviders(t, env, token, baseB); len(got) != 0 {
		t.Fatalf("list on a CONFIGURING Supervisor: %+v", got)
	}

	// The provider is stored: a restart keeps it.
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	env = servertest.New(t, servertest.WithDataDir(dir))
	token = env.AdminToken()
	two := base + "/" + id2
	if got := getProvider(t, env, token, two); !reflect.DeepEqual(got, want) {
		t.Fatalf("get after a restart:\n got %s\nwant %s", asJSON(got), asJSON(want))
	}

	// A disable that fails leaves the Supervisor in ERROR: no changes then, and enabling it again
	// (a retry of the same Supervisor) keeps its provider.
	if r := env.Do("POST", "/api/wcpd/faults", token, map[string]any{"operation": "disable", "target": clusterA,
		"mode": "ERROR", "message": "VM deletion failed"}); r.Status != 200 && r.Status != 201 && r.Status != 204 {
		t.Fatalf("arming a disable fault: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	for i := 0; i < 10 && supervisorConfigStatus(t, env, token, clusterA) != "ERROR"; i++ {
		env.Settle(10 * time.Second)
	}
	expectError(t, env.Do("PUT", two, token, oktaProvider(ca)), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "ERROR")
	enableSupervisor(t, env, token, clusterA, 1)
	if got := getProvider(t, env, token, two); !reflect.DeepEqual(got, want) {
		t.Fatalf("get after enabling the failed Supervisor again:\n got %s\nwant %s", asJSON(got), asJSON(want))
	}

	// Disabling the Supervisor: no changes while it is REMOVING, and its providers go with it.
	if r := env.Do("POST", nmPath+"/clusters/"+clusterA+"?action=disable", token, nil); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	expectError(t, env.Do("PATCH", two, token, map[string]any{"display_name": "x"}), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "REMOVING")
	expectError(t, env.Do("DELETE", two, token, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "REMOVING")
	if got := getProvider(t, env, token, two); !reflect.DeepEqual(got, want) {
		t.Fatalf("a refused change while REMOVING changed the provider: %+v", got)
	}
	for i := 0; i < 10 && supervisorConfigStatus(t, env, token, clusterA) != ""; i++ {
		env.Settle(10 * time.Second)
	}
	expectError(t, env.Do("GET", base, token, nil), 404, "NOT_FOUND", sup)
	expectError(t, env.Do("GET", two, token, nil), 404, "NOT_FOUND", sup)
}
