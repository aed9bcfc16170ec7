package clusters

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/vapi"
)

// validProvider is a complete create spec as a client sends it.
func validProvider(t *testing.T) map[string]any {
	t.Helper()
	ca := selfSignedPEM("10.0.0.1", nil, time.Now())
	if ca == "" {
		t.Fatal("could not make a test certificate")
	}
	return map[string]any{
		"display_name":                    "Okta",
		"issuer_URL":                      "https://example.okta.com/oauth2/default",
		"username_claim":                  "email",
		"groups_claim":                    "groups",
		"client_ID":                       "0oa1b2c3d4",
		"client_secret":                   "top-secret-value",
		"certificate_authority_data":      ca + ca, // a chain of two
		"additional_scopes":               []any{"email", "groups", "offline_access"},
		"additional_authorize_parameters": map[string]any{"orgLink": "/csp/gateway/am/api/orgs/long-form-org-id"},
	}
}

func decodeCreate(t *testing.T, body map[string]any) (IdentityProviderCreateSpec, error) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var spec IdentityProviderCreateSpec
	return spec, vapi.DecodeJSON(data, "spec", &spec)
}

// allMessages is every message of a vAPI error, one per line.
func allMessages(err error) string {
	if err == nil {
		return ""
	}
	var out []string
	for _, m := range vapi.AsError(err).Messages {
		out = append(out, m.DefaultMessage)
	}
	return strings.Join(out, "\n")
}

func TestIdentityProviderCreateSpecValidation(t *testing.T) {
	spec, err := decodeCreate(t, validProvider(t))
	if err != nil {
		t.Fatalf("a valid spec was refused: %v", err)
	}
	if info := spec.info("p-1"); info.IssuerURL != "https://example.okta.com/oauth2/default" || info.ClientID != "0oa1b2c3d4" ||
		*info.UsernameClaim != "email" || len(info.AdditionalScopes) != 3 {
		t.Fatalf("decoded: %+v", info)
	}
	// The lower-case spellings of issuer_URL and client_ID are accepted as well.
	lower := validProvider(t)
	lower["issuer_url"], lower["client_id"] = lower["issuer_URL"], lower["client_ID"]
	delete(lower, "issuer_URL")
	delete(lower, "client_ID")
	if _, err := decodeCreate(t, lower); err != nil {
		t.Fatalf("lower-case spellings: %v", err)
	}

	for _, tc := range []struct {
		name  string
		field string
		value any // nil deletes the field
		want  string
	}{
		{"plain http issuer", "issuer_URL", "http://idp.example.com", `"http://idp.example.com" for spec.issuer_URL: must be an https URL`},
		{"issuer without host", "issuer_URL", "https:///path", `spec.issuer_URL: must name the issuer's host`},
		{"issuer with query", "issuer_URL", "https://idp.example.com/?tenant=a", `spec.issuer_URL: must not have a query or fragment`},
		{"issuer with fragment", "issuer_URL", "https://idp.example.com/#x", `spec.issuer_URL: must not have a query or fragment`},
		{"issuer with credentials", "issuer_URL", "https://u:p@idp.example.com", `must not carry a user name or password`},
		{"issuer port out of range", "issuer_URL", "https://idp.example.com:70000", `spec.issuer_URL: has a port outside 1-65535`},
		{"issuer not a URL", "issuer_URL", "https://idp example.com", `spec.issuer_URL: is not a URL`},
		{"missing issuer", "issuer_URL", nil, "Required field spec.issuer_URL is missing"},
		{"blank display name", "display_name", "  ", `spec.display_name: must not be empty`},
		{"display name with a newline", "display_name", "Ok\nta", `spec.display_name: must not contain control characters`},
		{"missing client id", "client_ID", nil, "Required field spec.client_ID is missing"},
		{"empty client id", "client_ID", "", `spec.client_ID: must not be empty`},
		{"client id with non-ASCII", "client_ID", "clïent", `spec.client_ID: may only hold printable ASCII`},
		{"missing secret", "client_secret", nil, "Required field spec.client_secret is missing"},
		{"empty secret", "client_secret", "", `spec.client_secret: must not be empty`},
		{"empty username claim", "username_claim", "", `spec.username_claim: must not be empty`},
		{"groups claim with a space", "groups_claim", "my groups", `"my groups" for spec.groups_claim: must be a claim name`},
		{"CA data not PEM", "certificate_authority_data", "MIIBIjANBg", `spec.certificate_authority_data: must hold PEM-encoded certificates`},
		{"CA data a private key", "certificate_authority_data", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", `PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{"CA data garbage certificate", "certificate_authority_data", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", `PEM block 1 is not an X.509 certificate`},
		{"CA data with trailing text", "certificate_authority_data", selfSignedPEM("10.0.0.1", nil, time.Now()) + "junk", `holds text that is not a PEM-encoded certificate`},
		{"two scopes in one", "additional_scopes", []any{"email", "openid profile"}, `"openid profile" for spec.additional_scopes[1]: must be one scope`},
		{"empty scope", "additional_scopes", []any{""}, `spec.additional_scopes[0]: must not be empty`},
		{"scope twice", "additional_scopes", []any{"email", "email"}, `"email" for spec.additional_scopes[1]: is listed more than once`},
		{"reserved authorize parameter", "additional_authorize_parameters", map[string]any{"redirect_uri": "https://evil"}, `"redirect_uri" for spec.additional_authorize_parameters: is set by the Supervisor itself`},
		{"reserved parameter in upper case", "additional_authorize_parameters", map[string]any{"STATE": "x"}, `"STATE" for spec.additional_authorize_parameters: is set by the Supervisor`},
		{"parameter name with a space", "additional_authorize_parameters", map[string]any{"org link": "x"}, `must not contain white space`},
		{"parameter value with a newline", "additional_authorize_parameters", map[string]any{"prompt": "a\nb"}, `spec.additional_authorize_parameters["prompt"]: must not contain control characters`},
		{"unknown field", "client_secret_hash", "x", `spec.client_secret_hash: no such field`},
		{"secret of the wrong type", "client_secret", true, `spec.client_secret: expected a string`},
	} {
		body := validProvider(t)
		if tc.value == nil {
			delete(body, tc.field)
		} else {
			body[tc.field] = tc.value
		}
		_, err := decodeCreate(t, body)
		e := vapi.AsError(err)
		if err == nil || e.Type != vapi.ErrorInvalidArgument || !strings.Contains(allMessages(err), tc.want) {
			t.Errorf("%s: got %v, want INVALID_ARGUMENT with %q", tc.name, err, tc.want)
		}
	}
}

func TestIdentityProviderErrorsNeverShowTheSecret(t *testing.T) {
	body := validProvider(t)
	body["client_secret"] = "hunter2\x7fsecret" // DEL is not allowed in a client secret
	_, err := decodeCreate(t, body)
	if err == nil {
		t.Fatal("a secret with a control character was accepted")
	}
	b, _ := json.Marshal(vapi.AsError(err))
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "spec.client_secret") {
		t.Fatalf("the error must name the field but not show the secret: %s", b)
	}
}

func TestIdentityProviderUpdate(t *testing.T) {
	str := func(s string) *string { return &s }
	yes, no := true, false
	cur := IdentityProviderInfo{Provider: "p-1", DisplayName: "Okta", IssuerURL: "https://a.example.com", ClientID: "c1",
		UsernameClaim: str("email"), GroupsClaim: str("groups"), CertificateAuthorityData: str("PEM"),
		AdditionalScopes: []string{"email"}, AdditionalAuthorizeParameters: map[string]string{"k": "v"}}

	// An empty update changes nothing.
	if got := (IdentityProviderUpdateSpec{}).apply(cur); !reflect.DeepEqual(got, cur) {
		t.Fatalf("empty update: %+v", got)
	}
	got := IdentityProviderUpdateSpec{
		DisplayName: str("Okta prod"), UnsetUsernameClaim: &yes, GroupsClaim: str("roles"), UnsetGroupsClaim: &no,
		UnsetCertificateAuthorityData: &yes, AdditionalScopes: []string{}, ClientSecret: str("new"),
	}.apply(cur)
	want := IdentityProviderInfo{Provider: "p-1", DisplayName: "Okta prod", IssuerURL: "https://a.example.com", ClientID: "c1",
		GroupsClaim: str("roles"), AdditionalAuthorizeParameters: map[string]string{"k": "v"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("update:\n got %+v\nwant %+v", got, want)
	}
	if *cur.GroupsClaim != "groups" || len(cur.AdditionalScopes) != 1 {
		t.Fatalf("apply changed the stored value it was given: %+v", cur)
	}

	// Setting and unsetting one value at once is refused, naming the unset_ field.
	for _, tc := range []struct{ body, want string }{
		{`{"groups_claim":"g","unset_groups_claim":true}`, `"true" for spec.unset_groups_claim: cannot be true while spec.groups_claim is given`},
		{`{"username_claim":"u","unset_username_claim":true}`, `spec.unset_username_claim: cannot be true`},
		{`{"certificate_authority_data":"x","unset_certificate_authority_data":true}`, `spec.unset_certificate_authority_data: cannot be true`},
		{`{"issuer_URL":"http://a"}`, `spec.issuer_URL: must be an https URL`},
		{`{"client_secret":""}`, `spec.client_secret: must not be empty`},
		{`{"display_name":""}`, `spec.display_name: must not be empty`},
	} {
		var spec IdentityProviderUpdateSpec
		err := vapi.DecodeJSON([]byte(tc.body), "spec", &spec)
		if err == nil || !strings.Contains(allMessages(err), tc.want) {
			t.Errorf("update %s: %v, want %q", tc.body, err, tc.want)
		}
	}
	var spec IdentityProviderUpdateSpec
	if err := vapi.DecodeJSON([]byte(`{"groups_claim":"g","unset_groups_claim":false}`), "spec", &spec); err != nil {
		t.Errorf("unset false with a value is a plain change: %v", err)
	}
}

func TestIdentityProviderSetSpecIsACreateSpec(t *testing.T) {
	data, _ := json.Marshal(validProvider(t))
	var set IdentityProviderSetSpec
	if err := vapi.DecodeJSON(data, "spec", &set); err != nil {
		t.Fatalf("set: %v", err)
	}
	if err := vapi.DecodeJSON([]byte(`{"display_name":"x","issuer_URL":"https://a","client_ID":"c"}`), "spec", &set); err == nil ||
		!strings.Contains(err.Error(), "Required field spec.client_secret is missing") {
		t.Fatalf("set without a secret: %v", err)
	}
}
