package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wcpd/wcpd/internal/pki"
)

// TLSFiles name a client certificate, its key and the CA that signed the etcd servers' certificates.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// IsZero reports whether no file is named.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// config builds the client TLS configuration, nil when no file is named.
func (f TLSFiles) config() (*tls.Config, error) {
	if f.IsZero() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("store: an etcd client certificate needs both its certificate and key files")
	}
	if f.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("store: etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("store: etcd CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("store: etcd CA %s holds no PEM certificate", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// embeddedPKI keeps the embedded etcd's CA in dir and issues, at every start, its serving
// certificate and the client certificate other processes present.
func embeddedPKI(dir string) (client, server TLSFiles, err error) {
	ca, err := pki.LoadOrCreateAuthority(dir, "ca", "wcpd etcd CA")
	if err != nil {
		return client, server, err
	}
	serving, err := ca.Serving("wcpd-etcd")
	if err != nil {
		return client, server, err
	}
	peer, err := ca.Client("wcpd")
	if err != nil {
		return client, server, err
	}
	client = TLSFiles{CertFile: filepath.Join(dir, "client.crt"), KeyFile: filepath.Join(dir, "client.key"), CAFile: filepath.Join(dir, "ca.crt")}
	server = TLSFiles{CertFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key"), CAFile: client.CAFile}
	err = pki.WriteFiles(map[string][]byte{
		client.CertFile: peer.CertPEM, client.KeyFile: peer.KeyPEM,
		server.CertFile: serving.CertPEM, server.KeyFile: serving.KeyPEM,
	})
	return client, server, err
}
