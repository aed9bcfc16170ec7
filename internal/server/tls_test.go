package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
)

func presentedCert(t *testing.T, url string) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}

func TestBroughtCertificateIsServed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM, err := server.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "my.crt"), filepath.Join(dir, "my.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := servertest.New(t, func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	block, _ := pem.Decode(certPEM)
	if !bytes.Equal(presentedCert(t, env.URL), block.Bytes) {
		t.Fatal("the server does not present the certificate it was given")
	}
	if _, err := os.Stat(filepath.Join(env.Server.DataDir(), "tls", "server.crt")); !os.IsNotExist(err) {
		t.Fatalf("a self-signed pair was generated although one was given: %v", err)
	}
}

func TestSelfSignedCertificateIsKept(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	raw, err := os.ReadFile(filepath.Join(env.Server.DataDir(), "tls", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if !bytes.Equal(presentedCert(t, env.URL), block.Bytes) {
		t.Fatal("the presented certificate is not the one kept in the data dir")
	}
}
