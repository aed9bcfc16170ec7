package services

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The trust scheme (docs/services.md): a signed content ends with a signature document, the last
// document of the YAML stream, separated by a line "---". The signature covers every byte before
// that line, exactly as sent. Keys are PEM public keys or certificates the administrator puts in
// <data-dir>/trust/*.pem; they are read at every verification, so adding a key needs no restart.
const (
	signatureAPIVersion = "signing.wcpd.io/v1"
	signatureKind       = "ContentSignature"
	algEd25519          = "ed25519"
	algECDSAP256SHA256  = "ecdsa-p256-sha256"
	trustDirName        = "trust"
)

// signatureDoc is the signature document.
type signatureDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Algorithm  string `yaml:"algorithm"`
	// KeyID optionally names the key: the hex SHA-256 of its DER SubjectPublicKeyInfo.
	KeyID     string `yaml:"keyID"`
	Signature string `yaml:"signature"`

	sig []byte // decoded Signature
}

// splitSignature finds the signature document: the text after the last line "---", if that text is
// one ContentSignature document. It returns the signed bytes (everything before that line) and the
// signature, or the whole content and nil when the content is not signed.
func splitSignature(raw []byte) (payload []byte, sig *signatureDoc, problems []problem) {
	sep, after := -1, -1
	for start := 0; start <= len(raw); {
		nl := bytes.IndexByte(raw[start:], '\n')
		end := len(raw)
		if nl >= 0 {
			end = start + nl
		}
		if string(bytes.TrimRight(raw[start:end], " \t\r")) == "---" {
			sep, after = start, min(end+1, len(raw))
		}
		if nl < 0 {
			break
		}
		start = end + 1
	}
	if sep < 0 {
		return raw, nil, nil
	}
	docs, err := yamlDocuments(raw[after:])
	if err != nil || len(docs) != 1 || header(docs[0]).Kind != signatureKind {
		return raw, nil, nil
	}
	const where = "signature document"
	var doc signatureDoc
	if err := docs[0].Decode(&doc); err != nil {
		return raw, nil, []problem{{where: where, reason: "is unreadable: " + err.Error()}}
	}
	if doc.APIVersion != signatureAPIVersion {
		problems = append(problems, problem{where: where + " apiVersion", value: doc.APIVersion, reason: "must be " + signatureAPIVersion})
	}
	if doc.Algorithm != algEd25519 && doc.Algorithm != algECDSAP256SHA256 {
		problems = append(problems, problem{where: where + " algorithm", value: doc.Algorithm,
			reason: "must be " + algEd25519 + " or " + algECDSAP256SHA256})
	}
	if doc.sig, err = base64.StdEncoding.DecodeString(strings.TrimSpace(doc.Signature)); err != nil || len(doc.sig) == 0 {
		problems = append(problems, problem{where: where + " signature", value: doc.Signature, reason: "must be a non-empty base64 signature"})
	}
	payload = raw[:sep]
	if len(bytes.TrimSpace(payload)) == 0 {
		problems = append(problems, problem{where: where, reason: "has nothing before it to sign"})
	}
	if len(problems) > 0 {
		return raw, nil, problems
	}
	return payload, &doc, nil
}

// trustedKey is one public key of the trust store.
type trustedKey struct {
	id   string // hex SHA-256 of the DER SubjectPublicKeyInfo
	pub  any    // ed25519.PublicKey or *ecdsa.PublicKey on P-256
	file string
}

// keyID is the identifier of a public key in signature documents.
func keyID(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// trustStore reads the administrator's keys from dir.
type trustStore struct{ dir string }

// files lists the key files of the store, in name order: every file keys reads, and every file
// the kept checks' watch follows (trustwatch.go).
func (t trustStore) files() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(t.dir, "*.pem"))
	sort.Strings(files)
	return files, err
}

// keys reads every usable key of the store; skipped lists files and blocks it could not use, so the
// log can say why a key the administrator added does not count.
func (t trustStore) keys() (keys []trustedKey, skipped []string) {
	if t.dir == "" {
		return nil, nil
	}
	files, _ := t.files()
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			var pub any
			switch block.Type {
			case "PUBLIC KEY":
				pub, err = x509.ParsePKIXPublicKey(block.Bytes)
			case "CERTIFICATE":
				var cert *x509.Certificate
				if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
					pub = cert.PublicKey
				}
			default:
				skipped = append(skipped, fmt.Sprintf("%s: PEM block %q is neither a PUBLIC KEY nor a CERTIFICATE", file, block.Type))
				continue
			}
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", file, err))
				continue
			}
			switch k := pub.(type) {
			case ed25519.PublicKey:
			case *ecdsa.PublicKey:
				if k.Curve != elliptic.P256() {
					skipped = append(skipped, fmt.Sprintf("%s: ECDSA key on %s; only P-256 is used", file, k.Curve.Params().Name))
					continue
				}
			default:
				skipped = append(skipped, fmt.Sprintf("%s: %T keys are not used; use Ed25519 or ECDSA P-256", file, pub))
				continue
			}
			id, err := keyID(pub)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", file, err))
				continue
			}
			keys = append(keys, trustedKey{id: id, pub: pub, file: file})
		}
	}
	return keys, skipped
}

// verify checks the content's signature against keys. It returns "" when a trusted key verifies
// it, else why not.
func verify(c *content, keys []trustedKey, dir string) string {
	if c.signature == nil {
		return "is not signed"
	}
	if len(keys) == 0 {
		return fmt.Sprintf("is signed, but the trust store %s holds no usable key", dir)
	}
	s := c.signature
	tried := 0
	for _, k := range keys {
		if s.KeyID != "" && !strings.EqualFold(s.KeyID, k.id) {
			continue
		}
		switch pub := k.pub.(type) {
		case ed25519.PublicKey:
			if s.Algorithm != algEd25519 {
				continue
			}
			tried++
			if ed25519.Verify(pub, c.payload, s.sig) {
				return ""
			}
		case *ecdsa.PublicKey:
			if s.Algorithm != algECDSAP256SHA256 {
				continue
			}
			tried++
			digest := sha256.Sum256(c.payload)
			if ecdsa.VerifyASN1(pub, digest[:], s.sig) {
				return ""
			}
		}
	}
	if tried == 0 {
		if s.KeyID != "" {
			return fmt.Sprintf("is signed with key %s, which is not in the trust store %s", s.KeyID, dir)
		}
		return fmt.Sprintf("is signed with %s, but the trust store %s holds no such key", s.Algorithm, dir)
	}
	return fmt.Sprintf("has a signature that no key of the trust store %s verifies (was the content changed after signing?)", dir)
}

// signEd25519 appends a signature document over payload made with priv (for the built-in services).
func signEd25519(payload []byte, priv ed25519.PrivateKey) ([]byte, error) {
	if !bytes.HasSuffix(payload, []byte("\n")) {
		payload = append(append([]byte(nil), payload...), '\n')
	}
	id, err := keyID(priv.Public())
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(priv, payload)
	doc := fmt.Sprintf("---\napiVersion: %s\nkind: %s\nalgorithm: %s\nkeyID: %s\nsignature: %s\n",
		signatureAPIVersion, signatureKind, algEd25519, id, base64.StdEncoding.EncodeToString(sig))
	return append(append([]byte(nil), payload...), doc...), nil
}

// publicKeyPEM encodes a public key for the trust store.
func publicKeyPEM(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
