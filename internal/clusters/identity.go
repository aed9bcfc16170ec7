package clusters

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// A Supervisor's identity providers (namespace_management.supervisors.identity.providers) are the
// upstream OIDC issuers its users may log in with besides vCenter Single Sign-On. They are part of
// the Supervisor's record: they survive restarts, appear in its support bundle and go with it when
// it is disabled. vCenter allows one provider per Supervisor; the Info has no status, so a change
// takes effect when the request returns. The client secret is checked and then dropped: wcpd never
// talks to the issuer, and a secret it does not keep cannot leak through a get, the store or a
// support bundle.

// IdentityProviderCreateSpec is supervisors.identity.Providers.CreateSpec. The reference spells
// issuer_URL and client_ID with capitals; the lower-case spellings are accepted too.
type IdentityProviderCreateSpec struct {
	DisplayName                   string            `json:"display_name"`
	IssuerURL                     string            `json:"issuer_URL" vapi:"alias=issuer_url"`
	UsernameClaim                 *string           `json:"username_claim,omitempty"`
	GroupsClaim                   *string           `json:"groups_claim,omitempty"`
	ClientID                      string            `json:"client_ID" vapi:"alias=client_id"`
	ClientSecret                  string            `json:"client_secret"`
	CertificateAuthorityData      *string           `json:"certificate_authority_data,omitempty"`
	AdditionalScopes              []string          `json:"additional_scopes,omitempty"`
	AdditionalAuthorizeParameters map[string]string `json:"additional_authorize_parameters,omitempty"`
}

// Validate checks every field of a create.
func (s IdentityProviderCreateSpec) Validate(path string, errs *vapi.FieldErrors) {
	checkDisplayName(s.DisplayName, path+".display_name", errs)
	checkIssuerURL(s.IssuerURL, path+".issuer_URL", errs)
	checkClaim(s.UsernameClaim, path+".username_claim", errs)
	checkClaim(s.GroupsClaim, path+".groups_claim", errs)
	checkClientID(s.ClientID, path+".client_ID", errs)
	checkClientSecret(s.ClientSecret, path+".client_secret", errs)
	if s.CertificateAuthorityData != nil {
		checkCertificateAuthorityData(*s.CertificateAuthorityData, path+".certificate_authority_data", errs)
	}
	checkScopes(s.AdditionalScopes, path+".additional_scopes", errs)
	checkAuthorizeParameters(s.AdditionalAuthorizeParameters, path+".additional_authorize_parameters", errs)
}

// info is the provider a create or set describes, without its secret.
func (s IdentityProviderCreateSpec) info(id string) IdentityProviderInfo {
	return IdentityProviderInfo{Provider: id, DisplayName: s.DisplayName, IssuerURL: s.IssuerURL,
		UsernameClaim: s.UsernameClaim, GroupsClaim: s.GroupsClaim, ClientID: s.ClientID,
		CertificateAuthorityData: s.CertificateAuthorityData,
		AdditionalScopes:         nonEmptyList(s.AdditionalScopes), AdditionalAuthorizeParameters: nonEmptyMap(s.AdditionalAuthorizeParameters)}
}

// IdentityProviderSetSpec is supervisors.identity.Providers.SetSpec: the same fields as a create,
// replacing the whole configuration (what it omits is cleared).
type IdentityProviderSetSpec IdentityProviderCreateSpec

// Validate checks every field of a set.
func (s IdentityProviderSetSpec) Validate(path string, errs *vapi.FieldErrors) {
	IdentityProviderCreateSpec(s).Validate(path, errs)
}

// IdentityProviderUpdateSpec is supervisors.identity.Providers.UpdateSpec: what it omits is kept;
// unset_* removes an optional value.
type IdentityProviderUpdateSpec struct {
	DisplayName                   *string           `json:"display_name,omitempty"`
	IssuerURL                     *string           `json:"issuer_URL,omitempty" vapi:"alias=issuer_url"`
	UsernameClaim                 *string           `json:"username_claim,omitempty"`
	UnsetUsernameClaim            *bool             `json:"unset_username_claim,omitempty"`
	GroupsClaim                   *string           `json:"groups_claim,omitempty"`
	UnsetGroupsClaim              *bool             `json:"unset_groups_claim,omitempty"`
	ClientID                      *string           `json:"client_ID,omitempty" vapi:"alias=client_id"`
	ClientSecret                  *string           `json:"client_secret,omitempty"`
	CertificateAuthorityData      *string           `json:"certificate_authority_data,omitempty"`
	UnsetCertificateAuthorityData *bool             `json:"unset_certificate_authority_data,omitempty"`
	AdditionalScopes              []string          `json:"additional_scopes,omitempty"`
	AdditionalAuthorizeParameters map[string]string `json:"additional_authorize_parameters,omitempty"`
}

// Validate checks the fields an update gives, and that it does not both set and unset a value.
func (s IdentityProviderUpdateSpec) Validate(path string, errs *vapi.FieldErrors) {
	if s.DisplayName != nil {
		checkDisplayName(*s.DisplayName, path+".display_name", errs)
	}
	if s.IssuerURL != nil {
		checkIssuerURL(*s.IssuerURL, path+".issuer_URL", errs)
	}
	checkClaim(s.UsernameClaim, path+".username_claim", errs)
	checkUnset(s.UnsetUsernameClaim, s.UsernameClaim != nil, path, "username_claim", errs)
	checkClaim(s.GroupsClaim, path+".groups_claim", errs)
	checkUnset(s.UnsetGroupsClaim, s.GroupsClaim != nil, path, "groups_claim", errs)
	if s.ClientID != nil {
		checkClientID(*s.ClientID, path+".client_ID", errs)
	}
	if s.ClientSecret != nil {
		checkClientSecret(*s.ClientSecret, path+".client_secret", errs)
	}
	if s.CertificateAuthorityData != nil {
		checkCertificateAuthorityData(*s.CertificateAuthorityData, path+".certificate_authority_data", errs)
	}
	checkUnset(s.UnsetCertificateAuthorityData, s.CertificateAuthorityData != nil, path, "certificate_authority_data", errs)
	checkScopes(s.AdditionalScopes, path+".additional_scopes", errs)
	checkAuthorizeParameters(s.AdditionalAuthorizeParameters, path+".additional_authorize_parameters", errs)
}

// apply returns cur changed as the update says. An empty additional_scopes or
// additional_authorize_parameters removes them.
func (s IdentityProviderUpdateSpec) apply(cur IdentityProviderInfo) IdentityProviderInfo {
	next := cur
	if s.DisplayName != nil {
		next.DisplayName = *s.DisplayName
	}
	if s.IssuerURL != nil {
		next.IssuerURL = *s.IssuerURL
	}
	next.UsernameClaim = updated(cur.UsernameClaim, s.UsernameClaim, s.UnsetUsernameClaim)
	next.GroupsClaim = updated(cur.GroupsClaim, s.GroupsClaim, s.UnsetGroupsClaim)
	if s.ClientID != nil {
		next.ClientID = *s.ClientID
	}
	next.CertificateAuthorityData = updated(cur.CertificateAuthorityData, s.CertificateAuthorityData, s.UnsetCertificateAuthorityData)
	if s.AdditionalScopes != nil {
		next.AdditionalScopes = nonEmptyList(s.AdditionalScopes)
	}
	if s.AdditionalAuthorizeParameters != nil {
		next.AdditionalAuthorizeParameters = nonEmptyMap(s.AdditionalAuthorizeParameters)
	}
	return next
}

// updated is the new value of an optional field an update may set (given) or remove (unset).
func updated(cur, given *string, unset *bool) *string {
	switch {
	case unset != nil && *unset:
		return nil
	case given != nil:
		v := *given
		return &v
	}
	return cur
}

// IdentityProviderInfo is supervisors.identity.Providers.Info; it is also what the Supervisor's
// record keeps of each provider.
type IdentityProviderInfo struct {
	Provider                      string            `json:"provider"`
	DisplayName                   string            `json:"display_name"`
	IssuerURL                     string            `json:"issuer_URL"`
	UsernameClaim                 *string           `json:"username_claim,omitempty"`
	GroupsClaim                   *string           `json:"groups_claim,omitempty"`
	ClientID                      string            `json:"client_ID"`
	CertificateAuthorityData      *string           `json:"certificate_authority_data,omitempty"`
	AdditionalScopes              []string          `json:"additional_scopes,omitempty"`
	AdditionalAuthorizeParameters map[string]string `json:"additional_authorize_parameters,omitempty"`
}

// IdentityProviderSummary is supervisors.identity.Providers.Summary.
type IdentityProviderSummary struct {
	Provider    string `json:"provider"`
	DisplayName string `json:"display_name"`
}

// maxIdentityProviders is how many providers a Supervisor may have: vCenter documents that only a
// single identity provider can be created, and answers a second create with UNSUPPORTED.
const maxIdentityProviders = 1

// reservedAuthorizeParameters are the parameters the Supervisor itself sends in its authorize
// request (OAuth 2.0 authorization code flow with PKCE, OpenID Connect): additional parameters
// must not override them.
var reservedAuthorizeParameters = map[string]bool{
	"response_type": true, "scope": true, "client_id": true, "redirect_uri": true,
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true,
}

func checkDisplayName(name, field string, errs *vapi.FieldErrors) {
	switch {
	case strings.TrimSpace(name) == "":
		errs.Add(field, name, "must not be empty")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		errs.Add(field, name, "must not contain control characters")
	}
}

// checkIssuerURL holds the issuer to OpenID Connect Discovery's definition: an https URL with a
// host and optionally a port and path, without query or fragment, since the discovery document is
// read from <issuer>/.well-known/openid-configuration.
func checkIssuerURL(raw, field string, errs *vapi.FieldErrors) {
	u, err := url.Parse(raw)
	switch {
	case strings.TrimSpace(raw) == "":
		errs.Add(field, raw, "must not be empty")
	case err != nil:
		errs.Add(field, raw, "is not a URL")
	case u.Scheme != "https":
		errs.Add(field, raw, "must be an https URL (the issuer's discovery document is fetched over HTTPS)")
	case u.Opaque != "" || u.Hostname() == "":
		errs.Add(field, raw, "must name the issuer's host, as in https://idp.example.com/oauth2")
	case u.User != nil:
		errs.Add(field, raw, "must not carry a user name or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		errs.Add(field, raw, "must not have a query or fragment")
	case u.Port() != "" && !validPort(u.Port()):
		errs.Add(field, raw, "has a port outside 1-65535")
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// isVSChar reports whether s is made of the characters OAuth 2.0 allows in a client id or secret
// (RFC 6749 appendix A: printable ASCII and space).
func isVSChar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func checkClientID(id, field string, errs *vapi.FieldErrors) {
	switch {
	case strings.TrimSpace(id) == "":
		errs.Add(field, id, "must not be empty")
	case !isVSChar(id):
		errs.Add(field, id, "may only hold printable ASCII characters")
	}
}

// checkClientSecret never shows the secret in its messages.
func checkClientSecret(secret, field string, errs *vapi.FieldErrors) {
	switch {
	case secret == "":
		errs.Add(field, "", "must not be empty")
	case !isVSChar(secret):
		errs.Add(field, "(not shown)", "may only hold printable ASCII characters")
	}
}

// checkClaim checks an optional claim name: a JSON member name of the ID token, not empty and
// without white space.
func checkClaim(claim *string, field string, errs *vapi.FieldErrors) {
	if claim == nil {
		return
	}
	switch {
	case *claim == "":
		errs.Add(field, "", "must not be empty; leave it unset to use the default")
	case strings.IndexFunc(*claim, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		errs.Add(field, *claim, "must be a claim name, without white space")
	}
}

// checkUnset refuses an update that sets a value and removes it at once.
func checkUnset(unset *bool, given bool, path, name string, errs *vapi.FieldErrors) {
	if unset != nil && *unset && given {
		errs.Add(path+".unset_"+name, true, "cannot be true while "+path+"."+name+" is given")
	}
}

// checkCertificateAuthorityData requires PEM-encoded X.509 certificates and nothing else.
func checkCertificateAuthorityData(data, field string, errs *vapi.FieldErrors) {
	shown := abbreviate(data)
	rest := []byte(data)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			errs.Add(field, shown, fmt.Sprintf("PEM block %d is a %q, not a CERTIFICATE", n, b.Type))
			return
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			errs.Add(field, shown, fmt.Sprintf("PEM block %d is not an X.509 certificate: %v", n, err))
			return
		}
	}
	switch {
	case n == 0:
		errs.Add(field, shown, "must hold PEM-encoded certificates (-----BEGIN CERTIFICATE-----)")
	case strings.TrimSpace(string(rest)) != "":
		errs.Add(field, shown, "holds text that is not a PEM-encoded certificate")
	}
}

// abbreviate keeps long values (certificates) readable in error messages.
func abbreviate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// checkScopes requires OAuth 2.0 scope tokens (RFC 6749 section 3.3), each listed once.
func checkScopes(scopes []string, field string, errs *vapi.FieldErrors) {
	seen := map[string]bool{}
	for i, s := range scopes {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case s == "":
			errs.Add(f, s, "must not be empty")
		case !isScopeToken(s):
			errs.Add(f, s, `must be one scope: printable ASCII without spaces, '"' or '\'`)
		case seen[s]:
			errs.Add(f, s, "is listed more than once")
		}
		seen[s] = true
	}
}

func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// checkAuthorizeParameters requires parameter names without white space that the Supervisor does
// not send itself. Keys are checked in order so the answer does not vary.
func checkAuthorizeParameters(params map[string]string, field string, errs *vapi.FieldErrors) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := field + "[" + strconv.Quote(k) + "]"
		switch {
		case k == "":
			errs.Add(field, k, "a parameter name must not be empty")
		case strings.IndexFunc(k, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			errs.Add(field, k, "a parameter name must not contain white space")
		case reservedAuthorizeParameters[strings.ToLower(k)]:
			errs.Add(field, k, "is set by the Supervisor itself in the authorize request and cannot be overridden")
		case strings.IndexFunc(params[k], unicode.IsControl) >= 0:
			errs.Add(f, params[k], "must not contain control characters")
		}
	}
}

func nonEmptyList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return append([]string(nil), l...)
}

func nonEmptyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func findIdentityProvider(s supervisor, id string) (int, bool) {
	for i, p := range s.IdentityProviders {
		if p.Provider == id {
			return i, true
		}
	}
	return -1, false
}

// identitySupervisor finds the Supervisor named by the path, by Supervisor id (as the API
// documents) or by cluster.
func (f *Family) identitySupervisor(c *vapi.Call) (supervisor, error) {
	id := c.Path("supervisor")
	s, ok := f.lookup(id)
	if !ok {
		return s, vapi.NotFound("Supervisor", id)
	}
	return s, nil
}

func (f *Family) identityProviderList(c *vapi.Call) (any, error) {
	s, err := f.identitySupervisor(c)
	if err != nil {
		return nil, err
	}
	out := make([]IdentityProviderSummary, 0, len(s.IdentityProviders))
	for _, p := range s.IdentityProviders {
		out = append(out, IdentityProviderSummary{Provider: p.Provider, DisplayName: p.DisplayName})
	}
	return out, nil
}

func (f *Family) identityProviderGet(c *vapi.Call) (any, error) {
	s, err := f.identitySupervisor(c)
	if err != nil {
		return nil, err
	}
	i, ok := findIdentityProvider(s, c.Path("provider"))
	if !ok {
		return nil, vapi.NotFound("Identity provider", c.Path("provider"))
	}
	return s.IdentityProviders[i], nil
}

// changeIdentityProviders applies change to the Supervisor named by the path, which must be
// RUNNING. change runs on the record as the store has it (again if a controller wrote it
// meanwhile); when it fails nothing is written. missing is the error for a Supervisor that does
// not exist.
func (f *Family) changeIdentityProviders(ctx context.Context, ref string, missing error, change func(s *supervisor) error) error {
	r, ok := f.lookupRecord(ref)
	if !ok {
		return missing
	}
	_, err := f.supervisors.Mutate(ctx, r.Key, func(s *supervisor) error {
		if s.ID != r.Value.ID {
			// Disabled and enabled again since it was looked up: another Supervisor.
			return missing
		}
		if s.ConfigStatus != platform.StatusRunning {
			return vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.identity_provider.supervisor_state",
				"The Supervisor %s is %s; its identity providers can be changed once it is RUNNING.", s.Name, s.ConfigStatus)
		}
		return change(s)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return missing
	case errors.Is(err, store.ErrConflict):
		return concurrentChange(r.Key)
	}
	return err
}

func (f *Family) identityProviderCreate(c *vapi.Call) (any, error) {
	var spec IdentityProviderCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	ref := c.Path("supervisor")
	// vCenter documents UNSUPPORTED, not NOT_FOUND, for a create on a Supervisor that does not exist.
	missing := vapi.Errorf(vapi.ErrorUnsupported, "wcpd.identity_provider.no_supervisor",
		"There is no Supervisor %s to register an identity provider with.", ref)
	id := uuid.NewString()
	err := f.changeIdentityProviders(c.Ctx, ref, missing, func(s *supervisor) error {
		if len(s.IdentityProviders) >= maxIdentityProviders {
			p := s.IdentityProviders[0]
			return vapi.Errorf(vapi.ErrorUnsupported, "wcpd.identity_provider.limit",
				"The Supervisor %s already has an identity provider (%s, %q) and supports only one: change it with set or update, or delete it first.",
				s.Name, p.Provider, p.DisplayName)
		}
		s.IdentityProviders = append(s.IdentityProviders, spec.info(id))
		s.logEvent(f.now(), "info", fmt.Sprintf("identity provider %s (%q, issuer %s) registered", id, spec.DisplayName, spec.IssuerURL))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return id, nil
}

// changeIdentityProvider replaces one provider of a RUNNING Supervisor with what next makes of it.
func (f *Family) changeIdentityProvider(c *vapi.Call, verb string, next func(cur IdentityProviderInfo) IdentityProviderInfo) error {
	ref, id := c.Path("supervisor"), c.Path("provider")
	return f.changeIdentityProviders(c.Ctx, ref, vapi.NotFound("Supervisor", ref), func(s *supervisor) error {
		i, ok := findIdentityProvider(*s, id)
		if !ok {
			return vapi.NotFound("Identity provider", id)
		}
		providers := append([]IdentityProviderInfo(nil), s.IdentityProviders...)
		providers[i] = next(providers[i])
		s.IdentityProviders = providers
		s.logEvent(f.now(), "info", fmt.Sprintf("identity provider %s %s", id, verb))
		return nil
	})
}

func (f *Family) identityProviderSet(c *vapi.Call) (any, error) {
	var spec IdentityProviderSetSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	return nil, f.changeIdentityProvider(c, "replaced (set)", func(cur IdentityProviderInfo) IdentityProviderInfo {
		return IdentityProviderCreateSpec(spec).info(cur.Provider)
	})
}

func (f *Family) identityProviderUpdate(c *vapi.Call) (any, error) {
	var spec IdentityProviderUpdateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	return nil, f.changeIdentityProvider(c, "updated", spec.apply)
}

func (f *Family) identityProviderDelete(c *vapi.Call) (any, error) {
	ref, id := c.Path("supervisor"), c.Path("provider")
	return nil, f.changeIdentityProviders(c.Ctx, ref, vapi.NotFound("Supervisor", ref), func(s *supervisor) error {
		i, ok := findIdentityProvider(*s, id)
		if !ok {
			return vapi.NotFound("Identity provider", id)
		}
		s.IdentityProviders = append(s.IdentityProviders[:i:i], s.IdentityProviders[i+1:]...)
		s.logEvent(f.now(), "info", "identity provider "+id+" deleted")
		return nil
	})
}
