package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The namespace.service.version.* commands; govctest registers the other govc commands.
	_ "github.com/vmware/govmomi/cli/namespace/service/version"
	"github.com/vmware/govmomi/vapi/namespace"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/servertest"
)

const svcPath = "/api/vcenter/namespace-management/supervisor-services"

// --- content and signatures, built as docs/services.md describes them ---

// svcCarvelYAML is a Carvel package (PackageMetadata + Package) of service id at version.
func svcCarvelYAML(id, version string) string {
	return fmt.Sprintf(`apiVersion: data.packaging.carvel.dev/v1alpha1
kind: PackageMetadata
metadata:
  name: %[1]s
spec:
  displayName: %[1]s operator
  shortDescription: Runs the %[1]s operator.
---
apiVersion: data.packaging.carvel.dev/v1alpha1
kind: Package
metadata:
  name: %[1]s.%[2]s
spec:
  refName: %[1]s
  version: %[2]s
  template:
    spec:
      fetch:
      - imgpkgBundle:
          image: registry.example.com/%[1]s:%[2]s
      deploy:
      - kapp: {}
`, id, version)
}

// svcVsphereYAML is a content in the vSphere application service format, with a EULA if eula is set.
func svcVsphereYAML(id, version, eula string) string {
	s := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s-system
---
apiVersion: appplatform.wcp.vmware.com/v1alpha1
kind: SupervisorService
metadata:
  name: %[1]s
spec:
  serviceId: %[1]s
  label: %[1]s (vSphere)
  description: The %[1]s service, version %[2]s.
  versions: [%[2]q]
`, id, version)
	if eula != "" {
		s += "  eula: " + eula + "\n"
	}
	return s
}

// svcCustomYAML is plain Kubernetes YAML.
const svcCustomYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: custom-operator
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: custom-operator
  namespace: custom-operator
spec:
  replicas: 1
  selector:
    matchLabels: {app: custom-operator}
  template:
    metadata:
      labels: {app: custom-operator}
    spec:
      containers:
      - name: manager
        image: registry.example.com/custom-operator:1.0.0
`

// svcTrustKey generates an Ed25519 (or ECDSA P-256) key and puts its public half in the server's trust
// store, <data-dir>/trust/<name>.pem.
func svcTrustKey(t *testing.T, env *servertest.Env, name string, useECDSA bool) any {
	t.Helper()
	var priv, pub any
	if useECDSA {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, k.Public()
	} else {
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, p
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(env.Server.DataDir(), "trust")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv
}

// signed appends the signature document: the signature covers every byte before its "---" line.
func svcSign(t *testing.T, key any, payload string) string {
	t.Helper()
	var alg string
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		alg, sig = "ed25519", ed25519.Sign(k, []byte(payload))
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256([]byte(payload))
		var err error
		if sig, err = ecdsa.SignASN1(rand.Reader, k, digest[:]); err != nil {
			t.Fatal(err)
		}
		alg = "ecdsa-p256-sha256"
	}
	return payload + "---\napiVersion: signing.wcpd.io/v1\nkind: ContentSignature\nalgorithm: " + alg +
		"\nsignature: " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

func svcB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// --- wire shapes a client reads ---

type svcSummary struct {
	SupervisorService string `json:"supervisor_service"`
	DisplayName       string `json:"display_name"`
	State             string `json:"state"`
}

type svcInfo struct {
	DisplayName                  string  `json:"display_name"`
	State                        string  `json:"state"`
	Description                  *string `json:"description"`
	MustBeInstalled              bool    `json:"must_be_installed"`
	HasDefaultVersionsRegistered bool    `json:"has_default_versions_registered"`
}

type svcVersionSummary struct {
	Version     string `json:"version"`
	DisplayName string `json:"display_name"`
	State       string `json:"state"`
	Description string `json:"description"`
}

type svcVersionInfo struct {
	DisplayName         string  `json:"display_name"`
	Description         string  `json:"description"`
	EULA                *string `json:"EULA"`
	ContentType         string  `json:"content_type"`
	Content             string  `json:"content"`
	TrustVerified       bool    `json:"trust_verified"`
	State               string  `json:"state"`
	RegisteredByDefault bool    `json:"registered_by_default"`
}

// svcClient is the admin's view of the catalogue over HTTP.
type svcClient struct {
	t     *testing.T
	env   *servertest.Env
	token string
}

func (c svcClient) do(method, path string, body any) servertest.Response {
	c.t.Helper()
	return c.env.Do(method, path, c.token, body)
}

// ok sends a request that must succeed with status.
func (c svcClient) ok(status int, method, path string, body any) servertest.Response {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	return r
}

// fails sends a request that must fail with the error type, its messages mentioning every string of
// mention.
func (c svcClient) fails(errType string, method, path string, body any, mention ...string) {
	c.t.Helper()
	r := c.do(method, path, body)
	status := map[string]int{"NOT_FOUND": 404, "UNAUTHORIZED": 403}[errType]
	if status == 0 {
		status = 400
	}
	if r.Status != status || r.ErrorType() != errType {
		c.t.Fatalf("%s %s: %d %s, want %d %s", method, path, r.Status, r.Body, status, errType)
	}
	for _, m := range mention {
		if !strings.Contains(string(r.Body), m) {
			c.t.Fatalf("%s %s: error %s does not mention %q", method, path, r.Body, m)
		}
	}
}

func (c svcClient) service(id string) (svcInfo, int) {
	c.t.Helper()
	var info svcInfo
	r := c.do("GET", svcPath+"/"+id, nil)
	if r.Status == 200 {
		r.JSON(c.t, &info)
	}
	return info, r.Status
}

func (c svcClient) version(id, version string) svcVersionInfo {
	c.t.Helper()
	var info svcVersionInfo
	c.ok(200, "GET", svcPath+"/"+id+"/versions/"+version, nil).JSON(c.t, &info)
	return info
}

func (c svcClient) versions(id string) map[string]string {
	c.t.Helper()
	var list []svcVersionSummary
	c.ok(200, "GET", svcPath+"/"+id+"/versions", nil).JSON(c.t, &list)
	out := map[string]string{}
	for _, v := range list {
		out[v.Version] = v.State
	}
	return out
}

func (c svcClient) createCarvel(id, version string) {
	c.t.Helper()
	c.ok(201, "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{"content": svcB64(svcCarvelYAML(id, version))}}})
}

func (c svcClient) addCarvelVersion(id, version string) {
	c.t.Helper()
	c.ok(201, "POST", svcPath+"/"+id+"/versions", map[string]any{"carvel_spec": map[string]any{"content": svcB64(svcCarvelYAML(id, version))}})
}

func newSvcClient(t *testing.T) svcClient {
	env := servertest.New(t)
	return svcClient{t: t, env: env, token: env.AdminToken()}
}

// sub is the same client for a subtest, failures reported to it.
func (c svcClient) sub(t *testing.T) svcClient {
	return svcClient{t: t, env: c.env.For(t), token: c.token}
}

// --- the catalogue ---

func TestSupervisorServicesCatalogue(t *testing.T) {
	t.Parallel()
	root := newSvcClient(t)
	key := svcTrustKey(t, root.env, "provider", false)
	ecKey := svcTrustKey(t, root.env, "provider-ecdsa", true)

	t.Run("built-in services pass their own checks", func(t *testing.T) {
		c := root.sub(t)
		var list []svcSummary
		c.ok(200, "GET", svcPath, nil).JSON(t, &list)
		found := map[string]svcSummary{}
		for _, s := range list {
			found[s.SupervisorService] = s
		}
		for _, id := range []string{"tkg.vsphere.vmware.com", "velero.vsphere.vmware.com"} {
			if found[id].State != "ACTIVATED" || found[id].DisplayName == "" {
				t.Fatalf("built-in service %s: %+v in %s", id, found[id], list)
			}
		}
		tkg, _ := c.service("tkg.vsphere.vmware.com")
		velero, _ := c.service("velero.vsphere.vmware.com")
		if !tkg.MustBeInstalled || !tkg.HasDefaultVersionsRegistered || velero.MustBeInstalled || !velero.HasDefaultVersionsRegistered {
			t.Fatalf("tkg %+v, velero %+v", tkg, velero)
		}
		v := c.version("velero.vsphere.vmware.com", "1.6.1")
		content, err := base64.StdEncoding.DecodeString(v.Content)
		if err != nil || v.ContentType != "CARVEL_APPS_YAML" || !v.TrustVerified || !v.RegisteredByDefault || v.State != "ACTIVATED" ||
			!strings.Contains(string(content), "kind: PackageMetadata") || !strings.Contains(string(content), "kind: ContentSignature") {
			t.Fatalf("velero 1.6.1: %+v\n%s", v, content)
		}
		// The content checks out with check_content too, and the key that signed it is in the trust store.
		var res struct {
			Status string `json:"status"`
			Carvel struct {
				SupervisorService string `json:"supervisor_service"`
				Version           string `json:"version"`
			} `json:"carvel_apps_check_result"`
		}
		c.ok(200, "POST", svcPath+"?action=checkContent", map[string]any{"spec": map[string]any{"content": v.Content}}).JSON(t, &res)
		if res.Status != "VALID" || res.Carvel.SupervisorService != "velero.vsphere.vmware.com" || res.Carvel.Version != "1.6.1" {
			t.Fatalf("check_content of a built-in: %+v", res)
		}
		if pems, _ := filepath.Glob(filepath.Join(c.env.Server.DataDir(), "trust", "wcpd-builtin-*.pem")); len(pems) != 1 {
			t.Fatalf("built-in trust key files: %v", pems)
		}
		// Default versions stay: not deletable even when deactivated, so the service stays too.
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svcPath+"/velero.vsphere.vmware.com/versions/1.6.1?action=deactivate", nil, "last ACTIVATED version")
		c.ok(204, "PATCH", svcPath+"/velero.vsphere.vmware.com?action=deactivate", nil)
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svcPath+"/velero.vsphere.vmware.com/versions/1.6.1", nil, "registered by default")
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svcPath+"/velero.vsphere.vmware.com", nil, "1.6.1")
		c.ok(204, "PATCH", svcPath+"/velero.vsphere.vmware.com?action=activate", nil)
		// The service every Supervisor runs cannot be deactivated.
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svcPath+"/tkg.vsphere.vmware.com?action=deactivate", nil, "must be installed")
	})

	t.Run("custom content, signed or not", func(t *testing.T) {
		c := root.sub(t)
		customSpec := func(id, version, content string, trusted *bool) map[string]any {
			vs := map[string]any{"version": version, "display_name": "Custom " + version, "description": "A custom operator.", "content": content}
			if trusted != nil {
				vs["trusted_provider"] = *trusted
			}
			return map[string]any{"custom_spec": map[string]any{"supervisor_service": id, "display_name": "Custom operator", "version_spec": vs}}
		}
		no := false
		// trusted_provider unset means true: unsigned content is refused, and nothing is stored.
		c.fails("INVALID_ARGUMENT", "POST", svcPath, customSpec("custom-op", "1.0.0", svcB64(svcCustomYAML), nil),
			"spec.custom_spec.version_spec.content", "is not signed", "trusted_provider")
		if _, status := c.service("custom-op"); status != 404 {
			t.Fatalf("a refused create left the service behind: %d", status)
		}
		// Signed with a trusted key (Ed25519 or ECDSA P-256) it is registered and verified.
		c.ok(201, "POST", svcPath, customSpec("custom-op", "1.0.0", svcB64(svcSign(t, key, svcCustomYAML)), nil))
		if v := c.version("custom-op", "1.0.0"); !v.TrustVerified || v.ContentType != "CUSTOM_YAML" || v.DisplayName != "Custom 1.0.0" || v.State != "ACTIVATED" {
			t.Fatalf("signed custom version: %+v", v)
		}
		c.ok(201, "POST", svcPath+"/custom-op/versions", map[string]any{"custom_spec": map[string]any{
			"version": "1.1.0", "display_name": "Custom 1.1.0", "content": svcB64(svcSign(t, ecKey, svcCustomYAML))}})
		if v := c.version("custom-op", "1.1.0"); !v.TrustVerified {
			t.Fatalf("ECDSA-signed version: %+v", v)
		}
		// One byte changed after signing and the signature no longer verifies.
		tampered := strings.Replace(svcSign(t, key, svcCustomYAML), "replicas: 1", "replicas: 2", 1)
		c.fails("INVALID_ARGUMENT", "POST", svcPath+"/custom-op/versions", map[string]any{"custom_spec": map[string]any{
			"version": "1.2.0", "display_name": "x", "content": svcB64(tampered)}}, "spec.custom_spec.content", "no key of the trust store")
		// Signed with a key the administrator never trusted: refused too.
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		c.fails("INVALID_ARGUMENT", "POST", svcPath+"/custom-op/versions", map[string]any{"custom_spec": map[string]any{
			"version": "1.2.0", "display_name": "x", "content": svcB64(svcSign(t, stranger, svcCustomYAML))}}, "spec.custom_spec.content")
		// trusted_provider false registers it, untrusted.
		c.ok(201, "POST", svcPath, customSpec("custom-untrusted", "0.1.0", svcB64(svcCustomYAML), &no))
		if v := c.version("custom-untrusted", "0.1.0"); v.TrustVerified {
			t.Fatalf("untrusted version: %+v", v)
		}
		got, _ := base64.StdEncoding.DecodeString(c.version("custom-untrusted", "0.1.0").Content)
		if string(got) != svcCustomYAML {
			t.Fatalf("content did not round-trip:\n%s", got)
		}
		// A duplicate is ALREADY_EXISTS, for services and versions.
		c.fails("ALREADY_EXISTS", "POST", svcPath, customSpec("custom-untrusted", "0.1.0", svcB64(svcCustomYAML), &no), "custom-untrusted")
		c.fails("ALREADY_EXISTS", "POST", svcPath+"/custom-untrusted/versions", map[string]any{"custom_spec": map[string]any{
			"version": "0.1.0", "display_name": "again", "content": svcB64(svcCustomYAML), "trusted_provider": false}}, "0.1.0")
	})

	t.Run("bad input names the field", func(t *testing.T) {
		c := root.sub(t)
		no := false
		custom := func(id, version, name, content string) map[string]any {
			return map[string]any{"custom_spec": map[string]any{"supervisor_service": id, "display_name": name,
				"version_spec": map[string]any{"version": version, "display_name": name, "content": content, "trusted_provider": no}}}
		}
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("bad-b64", "1.0.0", "x", "%%%not base64"),
			"spec.custom_spec.version_spec.content", "not valid base64")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("bad-yaml", "1.0.0", "x", svcB64("key: [unclosed\n")),
			"spec.custom_spec.version_spec.content", "not valid YAML")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("Bad_Service", "1.0.0", "x", svcB64(svcCustomYAML)),
			"spec.custom_spec.supervisor_service", "Bad_Service")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("-dash", "1.0.0", "x", svcB64(svcCustomYAML)), "spec.custom_spec.supervisor_service")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom(strings.Repeat("a", 64), "1.0.0", "x", svcB64(svcCustomYAML)),
			"spec.custom_spec.supervisor_service", "at most 63")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("good-id", "1.0.0.", "x", svcB64(svcCustomYAML)),
			"spec.custom_spec.version_spec.version", "1.0.0.")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, custom("good-id", "1.0.0", "", svcB64(svcCustomYAML)),
			"spec.custom_spec.display_name", "spec.custom_spec.version_spec.display_name")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{}, "spec", "exactly one of")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{
			"carvel_spec":  map[string]any{"version_spec": map[string]any{"content": svcB64(svcCarvelYAML("a", "1.0.0"))}},
			"vsphere_spec": map[string]any{"version_spec": map[string]any{"content": svcB64(svcVsphereYAML("a", "1.0.0", ""))}}}, "exactly one of")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{}}},
			"spec.carvel_spec.version_spec.content")
		// The identifiers inside a content follow the same rule.
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCarvelYAML("Bad.Carvel", "1.0.0"))}}}, "spec.carvel_spec.version_spec.content", "metadata.name", "Bad.Carvel")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCarvelYAML("ok.carvel", "1.0.0+vmware.1"))}}}, "spec.version", "1.0.0+vmware.1")
		// A content in another format than its spec field says.
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"vsphere_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCarvelYAML("c", "1.0.0")), "trusted_provider": false}}}, "spec.vsphere_spec.version_spec.content", "Carvel package")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCustomYAML)}}}, "spec.carvel_spec.version_spec.content", "Package and PackageMetadata")
		// Unknown fields are refused by name.
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCarvelYAML("c", "1.0.0")), "trusted_provider": true}}}, "spec.carvel_spec.version_spec.trusted_provider", "no such field")
		// Nothing of it was registered.
		for _, id := range []string{"bad-b64", "bad-yaml", "good-id", "a", "c", "ok.carvel"} {
			if _, status := c.service(id); status != 404 {
				t.Errorf("refused service %s exists: %d", id, status)
			}
		}
	})

	t.Run("vSphere format and EULA", func(t *testing.T) {
		c := root.sub(t)
		content := svcB64(svcSign(t, key, svcVsphereYAML("minio", "2.0.0", "You agree to the MinIO terms.")))
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"vsphere_spec": map[string]any{"version_spec": map[string]any{"content": content}}},
			"spec.vsphere_spec.version_spec.accept_EULA", "EULA")
		c.fails("INVALID_ARGUMENT", "POST", svcPath, map[string]any{"vsphere_spec": map[string]any{"version_spec": map[string]any{"content": content, "accept_EULA": false}}},
			"spec.vsphere_spec.version_spec.accept_EULA")
		c.ok(201, "POST", svcPath, map[string]any{"vsphere_spec": map[string]any{"version_spec": map[string]any{"content": content, "accept_EULA": true}}})
		info, _ := c.service("minio")
		v := c.version("minio", "2.0.0")
		if info.DisplayName != "minio (vSphere)" || info.State != "ACTIVATED" || v.EULA == nil || *v.EULA != "You agree to the MinIO terms." ||
			v.ContentType != "VSPHERE_APPS_YAML" || !v.TrustVerified || v.Description != "The minio service, version 2.0.0." {
			t.Fatalf("minio: %+v %+v", info, v)
		}
		// A version's content must be of its own service.
		c.fails("INVALID_ARGUMENT", "POST", svcPath+"/minio/versions", map[string]any{"vsphere_spec": map[string]any{
			"content": svcB64(svcSign(t, key, svcVsphereYAML("other", "2.1.0", ""))), "accept_EULA": true}}, "spec.vsphere_spec.content", "other")
		c.ok(201, "POST", svcPath+"/minio/versions", map[string]any{"vsphere_spec": map[string]any{
			"content": svcB64(svcSign(t, key, svcVsphereYAML("minio", "2.1.0", ""))), "accept_EULA": true}})
		if got := c.versions("minio"); len(got) != 2 || got["2.1.0"] != "ACTIVATED" {
			t.Fatalf("minio versions %v", got)
		}
	})

	t.Run("check_content reports without registering", func(t *testing.T) {
		c := root.sub(t)
		type result struct {
			Status      string `json:"status"`
			ContentType string `json:"content_type"`
			Vsphere     *struct {
				SupervisorService string `json:"supervisor_service"`
				Version           string `json:"version"`
				DisplayName       string `json:"display_name"`
				EULA              string `json:"eula"`
			} `json:"vsphere_apps_check_result"`
			Carvel *struct {
				SupervisorService string `json:"supervisor_service"`
				Version           string `json:"version"`
				DisplayName       string `json:"display_name"`
				Description       string `json:"description"`
			} `json:"carvel_apps_check_result"`
			Warnings []map[string]any `json:"warning_messages"`
			Errors   []map[string]any `json:"error_messages"`
		}
		check := func(content string) (r result) {
			t.Helper()
			c.ok(200, "POST", svcPath+"?action=checkContent", map[string]any{"spec": map[string]any{"content": content}}).JSON(t, &r)
			return r
		}
		r := check(svcB64(svcCarvelYAML("checked.example.com", "3.1.4")))
		if r.Status != "VALID" || r.ContentType != "CARVEL_APPS_YAML" || r.Carvel == nil || r.Carvel.SupervisorService != "checked.example.com" ||
			r.Carvel.Version != "3.1.4" || r.Carvel.DisplayName != "checked.example.com operator" || r.Carvel.Description != "Runs the checked.example.com operator." {
			t.Fatalf("carvel: %+v", r)
		}
		// Unsigned vSphere content is valid, with a warning that it can only be registered as untrusted.
		r = check(svcB64(svcVsphereYAML("checked-vsphere", "1.0.0", "Terms.")))
		if r.Status != "VALID_WITH_WARNINGS" || r.ContentType != "VSPHERE_APPS_YAML" || r.Vsphere == nil || r.Vsphere.EULA != "Terms." ||
			r.Vsphere.Version != "1.0.0" || len(r.Warnings) != 1 || !strings.Contains(fmt.Sprint(r.Warnings), "trusted_provider") {
			t.Fatalf("unsigned vsphere: %+v", r)
		}
		if r = check(svcB64(svcSign(t, key, svcVsphereYAML("checked-vsphere", "1.0.0", "")))); r.Status != "VALID" {
			t.Fatalf("signed vsphere: %+v", r)
		}
		if r = check(svcB64(svcCustomYAML)); r.Status != "VALID" || r.ContentType != "CUSTOM_YAML" || r.Vsphere != nil || r.Carvel != nil {
			t.Fatalf("custom: %+v", r)
		}
		// A check follows the trust store at the next check: a content signed by a key the store
		// loses, gains and has replaced in place (a file of the same size) is asked twice each time,
		// so that an answer kept across the change would show.
		later := svcTrustKey(t, c.env, "later", false)
		laterFile := filepath.Join(c.env.Server.DataDir(), "trust", "later.pem")
		laterPEM, err := os.ReadFile(laterFile)
		if err != nil {
			t.Fatal(err)
		}
		signedLater := svcB64(svcSign(t, later, svcVsphereYAML("checked-later", "1.0.0", "")))
		if err := os.Remove(laterFile); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if r = check(signedLater); r.Status != "VALID_WITH_WARNINGS" {
				t.Fatalf("signed by a key the store does not hold: %+v", r)
			}
		}
		if err := os.WriteFile(laterFile, laterPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if r = check(signedLater); r.Status != "VALID" {
				t.Fatalf("signed by a key put in the store: %+v", r)
			}
		}
		svcTrustKey(t, c.env, "later", false) // another key, in the same file, of the same size
		if r = check(signedLater); r.Status != "VALID_WITH_WARNINGS" {
			t.Fatalf("signed by a key replaced in the store: %+v", r)
		}
		if err := os.Remove(laterFile); err != nil {
			t.Fatal(err)
		}
		// Every problem is listed.
		bad := strings.Replace(svcCarvelYAML("Bad_Id", "x.y-"), "displayName: Bad_Id operator", "displayName: ''", 1)
		r = check(svcB64(bad))
		if r.Status != "INVALID" || len(r.Errors) < 3 || !strings.Contains(fmt.Sprint(r.Errors), "Bad_Id") || !strings.Contains(fmt.Sprint(r.Errors), "x.y-") ||
			!strings.Contains(fmt.Sprint(r.Errors), "spec.displayName") {
			t.Fatalf("bad carvel: %+v", r)
		}
		if r = check(svcB64("key: [unclosed")); r.Status != "INVALID" || !strings.Contains(fmt.Sprint(r.Errors), "not valid YAML") {
			t.Fatalf("broken YAML: %+v", r)
		}
		if r = check("***"); r.Status != "INVALID" || !strings.Contains(fmt.Sprint(r.Errors), "base64") {
			t.Fatalf("broken base64: %+v", r)
		}
		c.fails("INVALID_ARGUMENT", "POST", svcPath+"?action=checkContent", map[string]any{"spec": map[string]any{}}, "spec.content")
		for _, id := range []string{"checked.example.com", "checked-vsphere"} {
			if _, status := c.service(id); status != 404 {
				t.Fatalf("check_content registered %s", id)
			}
		}
	})

	t.Run("service states", func(t *testing.T) {
		c := root.sub(t)
		const id = "states.example.com"
		svc := svcPath + "/" + id
		c.createCarvel(id, "1.0.0")
		if info, _ := c.service(id); info.State != "ACTIVATED" || info.HasDefaultVersionsRegistered || info.MustBeInstalled {
			t.Fatalf("new service: %+v", info)
		}
		// An unsigned Carvel package is registered, not trust-verified.
		if v := c.version(id, "1.0.0"); v.TrustVerified || v.RegisteredByDefault || v.ContentType != "CARVEL_APPS_YAML" || v.State != "ACTIVATED" {
			t.Fatalf("new version: %+v", v)
		}
		// A version is created while the service is ACTIVATED...
		c.addCarvelVersion(id, "1.1.0")
		// ...and the last ACTIVATED version of an ACTIVATED service cannot be deactivated; others can.
		c.ok(204, "PATCH", svc+"/versions/1.0.0?action=deactivate", nil)
		c.ok(204, "PATCH", svc+"/versions/1.0.0?action=deactivate", nil) // again: already so
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svc+"/versions/1.1.0?action=deactivate", nil, "1.1.0", "last ACTIVATED version")
		// A version is deleted only when DEACTIVATED.
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svc+"/versions/1.1.0", nil, "1.1.0", "ACTIVATED")
		c.ok(204, "DELETE", svc+"/versions/1.0.0", nil)
		c.fails("NOT_FOUND", "GET", svc+"/versions/1.0.0", nil, "1.0.0")
		c.fails("NOT_FOUND", "DELETE", svc+"/versions/1.0.0", nil, "1.0.0")
		// An ACTIVATED service is not deactivated twice, nor activated again.
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svc+"?action=activate", nil, "already ACTIVATED")
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svc, nil, "deactivate it")
		// Deactivating the service deactivates its versions; then no version is added or activated.
		c.ok(204, "PATCH", svc+"?action=deactivate", nil)
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svc+"?action=deactivate", nil, "already DEACTIVATED")
		if info, _ := c.service(id); info.State != "DEACTIVATED" {
			t.Fatalf("after deactivate: %+v", info)
		}
		if got := c.versions(id); got["1.1.0"] != "DEACTIVATED" {
			t.Fatalf("versions after deactivating the service: %v", got)
		}
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "POST", svc+"/versions", map[string]any{"carvel_spec": map[string]any{"content": svcB64(svcCarvelYAML(id, "1.2.0"))}}, "DEACTIVATED")
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svc+"/versions/1.1.0?action=activate", nil, "DEACTIVATED")
		// Activating the service activates them again.
		c.ok(204, "PATCH", svc+"?action=activate", nil)
		if got := c.versions(id); got["1.1.0"] != "ACTIVATED" {
			t.Fatalf("versions after activating the service: %v", got)
		}
		c.ok(204, "PATCH", svc+"/versions/1.1.0?action=activate", nil)
		// A service is deleted once DEACTIVATED and without versions; deleting the last version leaves it.
		c.ok(204, "PATCH", svc+"?action=deactivate", nil)
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svc, nil, "1.1.0")
		c.ok(204, "DELETE", svc+"/versions/1.1.0", nil)
		if info, status := c.service(id); status != 200 || info.State != "DEACTIVATED" {
			t.Fatalf("after deleting the last version: %d %+v", status, info)
		}
		if got := c.versions(id); len(got) != 0 {
			t.Fatalf("versions left: %v", got)
		}
		c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PATCH", svc+"?action=activate", nil, "no versions")
		c.ok(204, "DELETE", svc, nil)
		c.fails("NOT_FOUND", "GET", svc, nil, id)
		c.fails("NOT_FOUND", "DELETE", svc, nil, id)
		c.fails("NOT_FOUND", "GET", svc+"/versions", nil, id)
		c.fails("NOT_FOUND", "POST", svc+"/versions", map[string]any{"carvel_spec": map[string]any{"content": svcB64(svcCarvelYAML(id, "1.2.0"))}}, id)
	})

	t.Run("update and the legacy protocol", func(t *testing.T) {
		c := root.sub(t)
		c.createCarvel("renamed.example.com", "1.0.0")
		c.ok(204, "PATCH", svcPath+"/renamed.example.com", map[string]any{"display_name": "Renamed", "description": "Now described."})
		if info, _ := c.service("renamed.example.com"); info.DisplayName != "Renamed" || info.Description == nil || *info.Description != "Now described." {
			t.Fatalf("after update: %+v", info)
		}
		c.ok(204, "PATCH", svcPath+"/renamed.example.com", map[string]any{"description": "Only this."})
		if info, _ := c.service("renamed.example.com"); info.DisplayName != "Renamed" || *info.Description != "Only this." {
			t.Fatalf("after a partial update: %+v", info)
		}
		c.fails("INVALID_ARGUMENT", "PATCH", svcPath+"/renamed.example.com", map[string]any{"display_name": ""}, "spec.display_name")
		c.fails("NOT_FOUND", "PATCH", svcPath+"/nope", map[string]any{"display_name": "x"}, "nope")
		// /rest wraps inputs and results.
		c.ok(201, "POST", "/rest/vcenter/namespace-management/supervisor-services",
			map[string]any{"spec": map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{"content": svcB64(svcCarvelYAML("legacy.example.com", "1.0.0"))}}}})
		var wrapped struct {
			Value svcInfo `json:"value"`
		}
		c.ok(200, "GET", "/rest/vcenter/namespace-management/supervisor-services/legacy.example.com", nil).JSON(t, &wrapped)
		if wrapped.Value.DisplayName != "legacy.example.com operator" {
			t.Fatalf("legacy get: %+v", wrapped)
		}
	})

	t.Run("privileges", func(t *testing.T) {
		c := root.sub(t)
		c.env.AddUser("svc-reader", "Reader-pw-1", auth.RoleReadOnly)
		reader := svcClient{t: t, env: c.env, token: c.env.Login("svc-reader", "Reader-pw-1")}
		reader.ok(200, "GET", svcPath, nil)
		reader.ok(200, "GET", svcPath+"/velero.vsphere.vmware.com/versions", nil)
		reader.fails("UNAUTHORIZED", "POST", svcPath, map[string]any{"carvel_spec": map[string]any{"version_spec": map[string]any{
			"content": svcB64(svcCarvelYAML("reader.example.com", "1.0.0"))}}}, "SupervisorServices.Manage")
		reader.fails("UNAUTHORIZED", "PATCH", svcPath+"/velero.vsphere.vmware.com?action=deactivate", nil)
	})
}

// --- govmomi and govc ---

func TestSupervisorServicesWithGovmomi(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	key := svcTrustKey(t, env, "provider", false)
	ctx := context.Background()
	m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))

	// A Carvel service, then a vSphere-format one (signed, EULA accepted).
	if err := m.CreateSupervisorService(ctx, &namespace.SupervisorService{CarvelService: &namespace.SupervisorServicesCarvelSpec{
		VersionSpec: namespace.CarvelVersionCreateSpec{Content: svcB64(svcCarvelYAML("gm.example.com", "1.0.0"))}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateSupervisorService(ctx, &namespace.SupervisorService{VsphereService: &namespace.SupervisorServicesVSphereSpec{
		VersionSpec: namespace.SupervisorServicesVSphereVersionCreateSpec{Content: svcB64(svcSign(t, key, svcVsphereYAML("gm-vsphere", "1.0.0", "Terms."))),
			AcceptEula: true}}}); err != nil {
		t.Fatal(err)
	}
	// govmomi leaves trusted_provider out when false, which means true: unsigned content is refused.
	err := m.CreateSupervisorService(ctx, &namespace.SupervisorService{VsphereService: &namespace.SupervisorServicesVSphereSpec{
		VersionSpec: namespace.SupervisorServicesVSphereVersionCreateSpec{Content: svcB64(svcVsphereYAML("gm-unsigned", "1.0.0", "")), TrustedProvider: false}}})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("unsigned vSphere content through govmomi: %v", err)
	}

	list, err := m.ListSupervisorServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range list {
		ids[s.ID] = s.State
	}
	if ids["gm.example.com"] != "ACTIVATED" || ids["gm-vsphere"] != "ACTIVATED" || ids["tkg.vsphere.vmware.com"] != "ACTIVATED" || len(ids) != 4 {
		t.Fatalf("ListSupervisorServices: %+v", list)
	}
	info, err := m.GetSupervisorService(ctx, "tkg.vsphere.vmware.com")
	if err != nil || !info.MustBeInstalled || !info.HasDefaultVersionsRegistered || info.Name != "Tanzu Kubernetes Grid Service" {
		t.Fatalf("GetSupervisorService(tkg): %+v %v", info, err)
	}

	if err := m.CreateSupervisorServiceVersion(ctx, "gm.example.com", &namespace.SupervisorServiceVersion{
		CarvelService: &namespace.CarvelVersionCreateSpec{Content: svcB64(svcCarvelYAML("gm.example.com", "1.1.0"))}}); err != nil {
		t.Fatal(err)
	}
	versions, err := m.ListSupervisorServiceVersions(ctx, "gm.example.com")
	if err != nil || len(versions) != 2 || versions[0].Version != "1.0.0" || versions[1].Version != "1.1.0" || versions[1].State != "ACTIVATED" {
		t.Fatalf("ListSupervisorServiceVersions: %+v %v", versions, err)
	}
	v, err := m.GetSupervisorServiceVersion(ctx, "gm-vsphere", "1.0.0")
	if err != nil || v.Eula != "Terms." || v.ContentType != "VSPHERE_APPS_YAML" || !v.TrustVerified || v.State != "ACTIVATED" {
		t.Fatalf("GetSupervisorServiceVersion: %+v %v", v, err)
	}
	if err := m.DeactivateSupervisorServiceVersion(ctx, "gm.example.com", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveSupervisorServiceVersion(ctx, "gm.example.com", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := m.ActivateSupervisorServiceVersion(ctx, "gm.example.com", "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveSupervisorService(ctx, "gm.example.com"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("removing an ACTIVATED service: %v", err)
	}
	if err := m.DeactivateSupervisorServices(ctx, "gm.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := m.ActivateSupervisorServices(ctx, "gm.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeactivateSupervisorServices(ctx, "gm.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveSupervisorServiceVersion(ctx, "gm.example.com", "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveSupervisorService(ctx, "gm.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetSupervisorService(ctx, "gm.example.com"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("removed service: %v", err)
	}
}

func TestSupervisorServicesWithGovc(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	key := svcTrustKey(t, env, "provider", true)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	govcFails := func(cmd string, args ...string) string {
		t.Helper()
		_, errOut, code := env.Govc(servertest.Admin, servertest.AdminPassword, cmd, args...)
		if code == 0 {
			t.Fatalf("govc %s %v succeeded", cmd, args)
		}
		return errOut
	}

	env.AdminGovc("namespace.service.create", write("carvel.yaml", svcCarvelYAML("govc.example.com", "1.0.0")))
	env.AdminGovc("namespace.service.create", "-spec-type", "vsphere", "-accept-eula",
		write("vsphere.yaml", svcSign(t, key, svcVsphereYAML("govc-vsphere", "1.0.0", "Agree."))))
	// Without -accept-eula the EULA is not accepted; without a signature the content is not trusted.
	if errOut := govcFails("namespace.service.create", "-spec-type", "vsphere",
		write("eula.yaml", svcSign(t, key, svcVsphereYAML("govc-eula", "1.0.0", "Agree.")))); !strings.Contains(errOut, "accept_EULA") {
		t.Fatalf("create without -accept-eula: %s", errOut)
	}
	if errOut := govcFails("namespace.service.create", "-spec-type", "vsphere",
		write("unsigned.yaml", svcVsphereYAML("govc-unsigned", "1.0.0", ""))); !strings.Contains(errOut, "is not signed") {
		t.Fatalf("create unsigned: %s", errOut)
	}

	out := env.AdminGovc("namespace.service.ls")
	for _, id := range []string{"govc.example.com", "govc-vsphere", "tkg.vsphere.vmware.com", "velero.vsphere.vmware.com"} {
		if !strings.Contains(out, id+"\n") {
			t.Fatalf("namespace.service.ls does not list %s:\n%s", id, out)
		}
	}
	if out := env.AdminGovc("namespace.service.ls", "-l"); !strings.Contains(out, "govc-vsphere (vSphere)") || !strings.Contains(out, "ACTIVATED") {
		t.Fatalf("namespace.service.ls -l:\n%s", out)
	}
	if out := env.AdminGovc("namespace.service.info", "govc.example.com"); !strings.Contains(out, "govc.example.com operator") || !strings.Contains(out, "ACTIVATED") {
		t.Fatalf("namespace.service.info:\n%s", out)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(env.AdminGovc("namespace.service.info", "-json", "tkg.vsphere.vmware.com")), &info); err != nil ||
		info["must_be_installed"] != true || info["has_default_versions_registered"] != true {
		t.Fatalf("namespace.service.info -json: %v %v", info, err)
	}

	env.AdminGovc("namespace.service.version.create", "govc.example.com", write("carvel-2.yaml", svcCarvelYAML("govc.example.com", "2.0.0")))
	var versions []map[string]any
	if err := json.Unmarshal([]byte(env.AdminGovc("namespace.service.version.ls", "-json", "govc.example.com")), &versions); err != nil ||
		len(versions) != 2 || versions[1]["version"] != "2.0.0" || versions[1]["state"] != "ACTIVATED" {
		t.Fatalf("namespace.service.version.ls -json: %v %v", versions, err)
	}
	if out := env.AdminGovc("namespace.service.version.ls", "-l", "govc.example.com"); !strings.Contains(out, "2.0.0") || !strings.Contains(out, "govc.example.com operator") {
		t.Fatalf("namespace.service.version.ls -l:\n%s", out)
	}
	var vinfo map[string]any
	if err := json.Unmarshal([]byte(env.AdminGovc("namespace.service.version.info", "-json", "govc-vsphere", "1.0.0")), &vinfo); err != nil ||
		vinfo["EULA"] != "Agree." || vinfo["trust_verified"] != true || vinfo["content_type"] != "VSPHERE_APPS_YAML" {
		t.Fatalf("namespace.service.version.info -json: %v %v", vinfo, err)
	}

	// The state rules as govc users meet them.
	if errOut := govcFails("namespace.service.version.rm", "govc.example.com", "1.0.0"); !strings.Contains(errOut, "deactivate it") {
		t.Fatalf("version.rm of an ACTIVATED version: %s", errOut)
	}
	env.AdminGovc("namespace.service.version.deactivate", "govc.example.com", "1.0.0")
	if errOut := govcFails("namespace.service.version.deactivate", "govc.example.com", "2.0.0"); !strings.Contains(errOut, "last ACTIVATED version") {
		t.Fatalf("deactivating the last version: %s", errOut)
	}
	env.AdminGovc("namespace.service.version.activate", "govc.example.com", "1.0.0")
	env.AdminGovc("namespace.service.version.deactivate", "govc.example.com", "1.0.0")
	env.AdminGovc("namespace.service.version.rm", "govc.example.com", "1.0.0")
	if errOut := govcFails("namespace.service.rm", "govc.example.com"); !strings.Contains(errOut, "deactivate it") {
		t.Fatalf("rm of an ACTIVATED service: %s", errOut)
	}
	env.AdminGovc("namespace.service.deactivate", "govc.example.com")
	if out := env.AdminGovc("namespace.service.info", "govc.example.com"); !strings.Contains(out, "DEACTIVATED") {
		t.Fatalf("after deactivate:\n%s", out)
	}
	env.AdminGovc("namespace.service.activate", "govc.example.com")
	env.AdminGovc("namespace.service.deactivate", "govc.example.com")
	env.AdminGovc("namespace.service.version.rm", "govc.example.com", "2.0.0")
	env.AdminGovc("namespace.service.rm", "govc.example.com")
	if out := env.AdminGovc("namespace.service.ls"); strings.Contains(out, "govc.example.com") {
		t.Fatalf("removed service still listed:\n%s", out)
	}
}

// --- installs on Supervisors ---

type svcInstallInfo struct {
	DesiredVersion    string  `json:"desired_version"`
	CurrentVersion    *string `json:"current_version"`
	ConfigStatus      string  `json:"config_status"`
	ServiceNamespace  *string `json:"service_namespace"`
	Prefix            *string `json:"prefix"`
	DisplayName       string  `json:"display_name"`
	YAMLServiceConfig *string `json:"yaml_service_config"`
	Messages          []struct {
		Severity string `json:"severity"`
		Details  struct {
			DefaultMessage string `json:"default_message"`
		} `json:"details"`
	} `json:"messages"`
}

func svcOnCluster(cluster string) string {
	return "/api/vcenter/namespace-management/clusters/" + cluster + "/supervisor-services"
}

func (c svcClient) install(cluster, service string) (svcInstallInfo, int) {
	c.t.Helper()
	var info svcInstallInfo
	r := c.do("GET", svcOnCluster(cluster)+"/"+service, nil)
	if r.Status == 200 {
		r.JSON(c.t, &info)
	}
	return info, r.Status
}

// namespaceNames lists the namespaces vCenter shows on cluster.
func (c svcClient) namespaceNames(cluster string) []string {
	c.t.Helper()
	var list []struct {
		Namespace string `json:"namespace"`
		Cluster   string `json:"cluster"`
	}
	c.ok(200, "GET", "/api/vcenter/namespaces/instances", nil).JSON(c.t, &list)
	var out []string
	for _, n := range list {
		if n.Cluster == cluster {
			out = append(out, n.Namespace)
		}
	}
	return out
}

func svcListed(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSupervisorServiceInstallNeedsASupervisor runs without enable: clusters that do not exist or
// have no Supervisor.
func TestSupervisorServiceInstallNeedsASupervisor(t *testing.T) {
	t.Parallel()
	c := newSvcClient(t)
	spec := map[string]any{"supervisor_service": "velero.vsphere.vmware.com", "version": "1.6.1"}
	c.fails("NOT_FOUND", "POST", svcOnCluster("domain-c404"), spec, "domain-c404")
	c.fails("NOT_FOUND", "GET", svcOnCluster("domain-c404"), nil, "domain-c404")
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "POST", svcOnCluster(clusterEdge), spec, clusterEdge, "no Supervisor")
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "GET", svcOnCluster(clusterEdge), nil, clusterEdge)
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "GET", svcOnCluster(clusterEdge)+"/velero.vsphere.vmware.com", nil, clusterEdge)
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "PUT", svcOnCluster(clusterEdge)+"/velero.vsphere.vmware.com", map[string]any{"version": "1.6.1"}, clusterEdge)
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svcOnCluster(clusterEdge)+"/velero.vsphere.vmware.com", nil, clusterEdge)
}

func TestSupervisorServiceInstallLifecycle(t *testing.T) {
	t.Parallel()
	c := newSvcClient(t)
	enableSupervisor(t, c.env, c.token, clusterA, 21)
	const id = "lifecycle.example.com"
	c.createCarvel(id, "1.0.0")
	c.addCarvelVersion(id, "2.0.0")

	// The service every Supervisor runs arrives by itself (wcpd looks for new Supervisors every 10 s,
	// then the install takes the task duration).
	c.env.Settle(time.Minute)
	c.env.Settle(time.Minute)
	if tkg, status := c.install(clusterA, "tkg.vsphere.vmware.com"); status != 200 || tkg.ConfigStatus != "CONFIGURED" ||
		tkg.ServiceNamespace == nil || !svcListed(c.namespaceNames(clusterA), *tkg.ServiceNamespace) {
		t.Fatalf("tkg on a new Supervisor: %d %+v", status, tkg)
	}
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svcOnCluster(clusterA)+"/tkg.vsphere.vmware.com", nil, "must be installed")

	// Not installable while deactivated; then installed with a configuration holding a password.
	c.ok(204, "PATCH", svcPath+"/"+id+"/versions/2.0.0?action=deactivate", nil)
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "2.0.0"}, "2.0.0", "DEACTIVATED")
	c.fails("NOT_FOUND", "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "9.9.9"}, "9.9.9")
	c.ok(204, "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "1.0.0",
		"service_config": map[string]string{"registryName": "harbor.example.com", "registryPassword": "hunter2"}})
	c.fails("ALREADY_EXISTS", "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "1.0.0"}, id)
	in, _ := c.install(clusterA, id)
	if in.ConfigStatus != "CONFIGURING" || in.DesiredVersion != "1.0.0" || in.CurrentVersion != nil {
		t.Fatalf("just installed: %+v", in)
	}
	c.env.Settle(time.Minute)
	in, _ = c.install(clusterA, id)
	if in.ConfigStatus != "CONFIGURED" || in.CurrentVersion == nil || *in.CurrentVersion != "1.0.0" || in.ServiceNamespace == nil || in.Prefix == nil ||
		in.DisplayName != id+" operator" {
		t.Fatalf("after settling: %+v", in)
	}
	ns := *in.ServiceNamespace
	if !svcListed(c.namespaceNames(clusterA), ns) {
		t.Fatalf("service namespace %s is not listed: %v", ns, c.namespaceNames(clusterA))
	}
	cfg, _ := base64.StdEncoding.DecodeString(*in.YAMLServiceConfig)
	if !strings.Contains(string(cfg), "harbor.example.com") || strings.Contains(string(cfg), "hunter2") {
		t.Fatalf("yaml_service_config shows %q", cfg)
	}
	var summaries []struct {
		SupervisorService string `json:"supervisor_service"`
		ConfigStatus      string `json:"config_status"`
	}
	c.ok(200, "GET", svcOnCluster(clusterA), nil).JSON(t, &summaries)
	if len(summaries) != 2 {
		t.Fatalf("list: %+v", summaries)
	}

	// A version installed on a Supervisor is not deleted.
	c.ok(204, "PATCH", svcPath+"/"+id+"/versions/2.0.0?action=activate", nil)
	c.ok(204, "PATCH", svcPath+"/"+id+"/versions/1.0.0?action=deactivate", nil)
	c.fails("NOT_ALLOWED_IN_CURRENT_STATE", "DELETE", svcPath+"/"+id+"/versions/1.0.0", nil, "installed", clusterA)

	// Upgrade with set.
	c.ok(204, "PUT", svcOnCluster(clusterA)+"/"+id, map[string]any{"version": "2.0.0"})
	if in, _ = c.install(clusterA, id); in.ConfigStatus != "CONFIGURING" || in.DesiredVersion != "2.0.0" || *in.CurrentVersion != "1.0.0" {
		t.Fatalf("upgrading: %+v", in)
	}
	c.env.Settle(time.Minute)
	if in, _ = c.install(clusterA, id); in.ConfigStatus != "CONFIGURED" || *in.CurrentVersion != "2.0.0" {
		t.Fatalf("after the upgrade: %+v", in)
	}
	c.ok(204, "DELETE", svcPath+"/"+id+"/versions/1.0.0", nil)

	// Uninstall: REMOVING, then gone with its namespace.
	c.ok(204, "DELETE", svcOnCluster(clusterA)+"/"+id, nil)
	if in, _ = c.install(clusterA, id); in.ConfigStatus != "REMOVING" {
		t.Fatalf("removing: %+v", in)
	}
	c.env.Settle(time.Minute)
	c.env.Settle(time.Minute)
	if _, status := c.install(clusterA, id); status != 404 {
		t.Fatalf("after removal: %d", status)
	}
	if svcListed(c.namespaceNames(clusterA), ns) {
		t.Fatalf("service namespace %s outlived the service", ns)
	}
}

func TestSupervisorServiceInstallFaultAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newSvcClientIn(t, dir)
	enableSupervisor(t, c.env, c.token, clusterA, 22)
	const id = "resume.example.com"
	c.createCarvel(id, "1.0.0")

	// An injected fault makes the install end in ERROR with its message; set retries it.
	c.ok(201, "POST", "/api/wcpd/faults", map[string]any{"operation": "install", "target": clusterA, "mode": "ERROR", "message": "registry unreachable"})
	c.ok(204, "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "1.0.0"})
	c.env.Settle(time.Minute)
	in, _ := c.install(clusterA, id)
	if in.ConfigStatus != "ERROR" || in.CurrentVersion != nil || len(in.Messages) != 1 || in.Messages[0].Severity != "ERROR" ||
		in.Messages[0].Details.DefaultMessage != "registry unreachable" {
		t.Fatalf("after an install fault: %+v", in)
	}
	c.ok(204, "PUT", svcOnCluster(clusterA)+"/"+id, map[string]any{"version": "1.0.0"})
	c.env.Settle(time.Minute)
	if in, _ = c.install(clusterA, id); in.ConfigStatus != "CONFIGURED" {
		t.Fatalf("retrying after the fault: %+v", in)
	}
	c.ok(204, "DELETE", svcOnCluster(clusterA)+"/"+id, nil)
	c.env.Settle(time.Minute)
	c.env.Settle(time.Minute)

	// A restart in the middle of an install resumes it.
	c.ok(204, "POST", svcOnCluster(clusterA), map[string]any{"supervisor_service": id, "version": "1.0.0"})
	c.env.Settle(time.Second)
	if in, _ := c.install(clusterA, id); in.ConfigStatus != "CONFIGURING" {
		t.Fatalf("before the restart: %+v", in)
	}
	if err := c.env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	c = newSvcClientIn(t, dir)
	if in, _ := c.install(clusterA, id); in.ConfigStatus != "CONFIGURING" {
		t.Fatalf("after the restart: %+v", in)
	}
	c.env.Settle(time.Minute)
	if in, _ := c.install(clusterA, id); in.ConfigStatus != "CONFIGURED" || in.CurrentVersion == nil || *in.CurrentVersion != "1.0.0" {
		t.Fatalf("the install did not resume: %+v", in)
	}
}

func newSvcClientIn(t *testing.T, dir string) svcClient {
	env := servertest.New(t, servertest.WithDataDir(dir))
	return svcClient{t: t, env: env, token: env.AdminToken()}
}
