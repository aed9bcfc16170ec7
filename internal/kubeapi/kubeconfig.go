package kubeapi

import (
	"net/url"
	"sort"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// MergeLogin adds what a login answered to a kubeconfig, as `kubectl vsphere login` does: for each
// ready Supervisor a cluster (named by its address, with its CA embedded), a user entry holding the
// token, a context for the Supervisor named by its address, and a context per namespace the user
// may reach, named after the namespace. Entries of earlier logins to the same Supervisors are
// replaced; everything else in cfg is kept. It returns the contexts written, sorted, and sets the
// current context to the only namespace context when there is exactly one, else to the first
// Supervisor's.
func MergeLogin(cfg *clientcmdapi.Config, info LoginInfo) []string {
	var written, namespaceContexts []string
	for _, s := range info.Supervisors {
		if !s.Ready {
			continue
		}
		u, err := url.Parse(s.Server)
		if err != nil {
			continue
		}
		clusterName := u.Host
		userName := "wcp:" + u.Host + ":" + info.User
		cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: s.Server, CertificateAuthorityData: []byte(s.CertificateAuthority)}
		cfg.AuthInfos[userName] = &clientcmdapi.AuthInfo{Token: info.SessionID}
		cfg.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: userName}
		written = append(written, clusterName)
		for _, ns := range s.Namespaces {
			cfg.Contexts[ns] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: userName, Namespace: ns}
			written = append(written, ns)
			namespaceContexts = append(namespaceContexts, ns)
		}
	}
	switch {
	case len(namespaceContexts) == 1:
		cfg.CurrentContext = namespaceContexts[0]
	case len(written) > 0:
		cfg.CurrentContext = written[0]
	}
	sort.Strings(written)
	return written
}
