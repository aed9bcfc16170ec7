package services

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"strings"
	"testing"
)

func TestIDRule(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		"a": true, "my-service": true, "velero.vsphere.vmware.com": true, "1.0.0": true, "v2-beta.1": true,
		"": false, "-a": false, "a-": false, ".a": false, "a.": false, "My-Service": false, "a_b": false, "a b": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false, "1.0.0+vmware.1": false,
	} {
		if got := idProblem(id) == ""; got != ok {
			t.Errorf("idProblem(%q) = %q, want valid=%v", id, idProblem(id), ok)
		}
	}
}

func TestParseContentRecognisesFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		content   string
		format    string
		meta      versionMeta
		wantIssue string // substring of the problems, "" for none
	}{
		{name: "carvel", content: carvelContent("keda.example.com", "2.13.1"), format: contentCarvel,
			meta: versionMeta{Service: "keda.example.com", Version: "2.13.1", DisplayName: "Service keda.example.com", Description: "Test service keda.example.com."}},
		{name: "vsphere", content: vsphereContent("minio", "1.0.0", "Use it well."), format: contentVsphere,
			meta: versionMeta{Service: "minio", Version: "1.0.0", DisplayName: "Service minio", Description: "Test service minio in the vSphere format.", EULA: "Use it well."}},
		{name: "vsphere in a labelled ConfigMap", format: contentVsphere, content: `apiVersion: v1
kind: ConfigMap
metadata:
  name: sample
  namespace: kube-system
  labels:
    appplatform.vmware.com/kind: supervisorservice
data:
  sample.yaml: |-
    apiVersion: appplatform.wcp.vmware.com/v1alpha1
    kind: SupervisorService
    metadata:
      name: sample
    spec:
      serviceId: sample
      label: Sample Service
      version: 1.0.1
`, meta: versionMeta{Service: "sample", Version: "1.0.1", DisplayName: "Sample Service"}},
		{name: "custom", content: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n", format: contentCustom},
		{name: "not YAML", content: "key: [unclosed\n", format: "", wantIssue: "is not valid YAML"},
		{name: "empty", content: "# nothing\n", format: "", wantIssue: "holds no YAML document"},
		{name: "carvel with a bad id", content: carvelContent("Bad_ID", "1.0.0"), format: contentCarvel, wantIssue: `PackageMetadata metadata.name "Bad_ID" must consist`},
		{name: "carvel without Package", format: contentCarvel, wantIssue: "holds 0 Package documents",
			content: "apiVersion: data.packaging.carvel.dev/v1alpha1\nkind: PackageMetadata\nmetadata:\n  name: a\nspec:\n  displayName: A\n"},
		{name: "carvel refName mismatch", format: contentCarvel, wantIssue: `spec.refName "other" must name the PackageMetadata`,
			content: strings.Replace(carvelContent("a", "1.0.0"), "refName: a", "refName: other", 1)},
		{name: "vsphere with two versions", format: contentVsphere, wantIssue: "lists several versions",
			content: strings.Replace(vsphereContent("a", "1.0.0", ""), `versions: ["1.0.0"]`, `versions: ["1.0.0", "2.0.0"]`, 1)},
		{name: "vsphere without label", format: contentVsphere, wantIssue: "spec.label must not be empty",
			content: strings.Replace(vsphereContent("a", "1.0.0", ""), "label: Service a", "label: ''", 1)},
	}
	for _, tc := range tests {
		c := parseContent([]byte(tc.content))
		var issues []string
		for _, p := range append(c.problems, c.formatProblems...) {
			issues = append(issues, contentMessage("spec.content", p).DefaultMessage)
		}
		all := strings.Join(issues, "; ")
		if c.format != tc.format {
			t.Errorf("%s: format %q, want %q (%s)", tc.name, c.format, tc.format, all)
		}
		if tc.wantIssue == "" && all != "" {
			t.Errorf("%s: unexpected problems: %s", tc.name, all)
		}
		if tc.wantIssue != "" && !strings.Contains(all, tc.wantIssue) {
			t.Errorf("%s: problems %q do not mention %q", tc.name, all, tc.wantIssue)
		}
		if tc.wantIssue == "" && c.meta != tc.meta {
			t.Errorf("%s: meta %+v, want %+v", tc.name, c.meta, tc.meta)
		}
	}
}

func TestSignatureScheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ed := trustKey(t, dir, "ed", false)
	ec := trustKey(t, dir, "ec", true)
	keys, skipped := trustStore{dir: dir + "/trust"}.keys()
	if len(keys) != 2 || len(skipped) != 0 {
		t.Fatalf("keys %d, skipped %v", len(keys), skipped)
	}
	payload := carvelContent("a", "1.0.0")
	for name, signer := range map[string]crypto.Signer{"ed25519": ed, "ecdsa": ec} {
		signed := sign(t, signer, payload)
		c := parseContent([]byte(signed))
		if len(c.problems) > 0 || c.signature == nil {
			t.Fatalf("%s: problems %v, signature %v", name, c.problems, c.signature)
		}
		if string(c.payload) != payload {
			t.Fatalf("%s: payload is not the bytes before the signature:\n%q", name, c.payload)
		}
		if why := verify(c, keys, "trust"); why != "" {
			t.Fatalf("%s: %s", name, why)
		}
		// One changed byte and it no longer verifies.
		tampered := parseContent([]byte(strings.Replace(signed, "version: 1.0.0", "version: 1.0.1", 1)))
		if why := verify(tampered, keys, "trust"); !strings.Contains(why, "no key of the trust store") {
			t.Fatalf("%s: tampered content: %q", name, why)
		}
	}
	// A key outside the store does not count, nor does an unsigned content.
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	if why := verify(parseContent([]byte(sign(t, stranger, payload))), keys, "trust"); !strings.Contains(why, "no key of the trust store") {
		t.Fatalf("stranger's key: %q", why)
	}
	if why := verify(parseContent([]byte(payload)), keys, "trust"); why != "is not signed" {
		t.Fatalf("unsigned: %q", why)
	}
	// A malformed signature document is a problem of the content.
	bad := payload + "---\napiVersion: signing.wcpd.io/v1\nkind: ContentSignature\nalgorithm: rsa\nsignature: '%%'\n"
	c := parseContent([]byte(bad))
	if len(c.problems) != 2 || !strings.Contains(c.problems[0].String(), "algorithm") {
		t.Fatalf("malformed signature: %v", c.problems)
	}
	// Keys on other curves are skipped, saying why.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pemBytes, _ := publicKeyPEM(p384.Public())
	other := t.TempDir()
	if err := os.WriteFile(other+"/p384.pem", pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if keys, skipped := (trustStore{dir: other}).keys(); len(keys) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "P-384") {
		t.Fatalf("P-384 key: %v %v", keys, skipped)
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	ordered := []string{"0.9", "1.0", "1.0.0", "1.2", "1.9.0", "1.10.0", "2.0.0-beta", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			got := compareVersions(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("compareVersions(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}
