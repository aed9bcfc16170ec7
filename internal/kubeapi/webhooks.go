package kubeapi

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/wcpd/wcpd/internal/pki"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// webhooks is wcpd's loopback HTTPS listener for the calls the Supervisors' API servers make to
// it: token reviews (who is this bearer token?), admission of namespaces (self-service) and the
// conversion of VM Operator's API versions. It has a certificate authority of its own, which the
// API servers are given.
type webhooks struct {
	ca  *pki.Authority
	ln  net.Listener
	srv *http.Server
}

// startWebhooks opens the listener on the port kept in the data dir (a new one when that is
// taken) and serves mux on it.
func startWebhooks(dir string, mux http.Handler) (*webhooks, error) {
	ca, err := pki.LoadOrCreateAuthority(dir, "webhook-ca", "wcpd webhooks CA")
	if err != nil {
		return nil, err
	}
	pair, err := ca.Serving("wcpd-webhooks")
	if err != nil {
		return nil, err
	}
	cert, err := pair.TLSCertificate()
	if err != nil {
		return nil, err
	}
	portFile := filepath.Join(dir, "webhook-port")
	port, err := stablePort(portFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		// Taken by someone else since: take another and keep it. The API servers are given the
		// new address when they start, and the objects that name it are written again then.
		_ = os.Remove(portFile)
		if port, err = stablePort(portFile); err != nil {
			return nil, err
		}
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			return nil, err
		}
	}
	w := &webhooks{ca: ca, ln: ln, srv: &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}}
	go func() { _ = w.srv.ServeTLS(ln, "", "") }()
	return w, nil
}

// url is the address of a path on the listener.
func (w *webhooks) url(path string) string {
	return "https://" + w.ln.Addr().String() + path
}

// port is the listener's port; the nodes report it as their kubelet's (internal/spherelet).
func (w *webhooks) port() int { return w.ln.Addr().(*net.TCPAddr).Port }

func (w *webhooks) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = w.srv.Close()
	}
}

// webhookKubeconfig is the kubeconfig kube-apiserver reads to reach a webhook at url.
func webhookKubeconfig(url string, caPEM []byte) []byte {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["wcpd"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["wcpd"] = &clientcmdapi.Context{Cluster: "wcpd", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "wcpd"
	out, _ := clientcmd.Write(*cfg) // a config built here always encodes
	return out
}

// clientKubeconfig is a kubeconfig for a client certificate.
func clientKubeconfig(server string, caPEM []byte, pair pki.KeyPair) []byte {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["supervisor"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["client"] = &clientcmdapi.AuthInfo{ClientCertificateData: pair.CertPEM, ClientKeyData: pair.KeyPEM}
	cfg.Contexts["supervisor"] = &clientcmdapi.Context{Cluster: "supervisor", AuthInfo: "client"}
	cfg.CurrentContext = "supervisor"
	out, _ := clientcmd.Write(*cfg)
	return out
}
