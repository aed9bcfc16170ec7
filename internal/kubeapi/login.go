package kubeapi

import (
	"net/http"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vapi"
)

// loginBinding is wcpd's Kubernetes login, an extension vCenter lacks (on a real Supervisor,
// `kubectl vsphere login` asks the Supervisor itself): POST /api/wcpd/kubernetes/login with HTTP Basic
// credentials (or a session header) answers a token for the Supervisors' API servers and where
// they are. `wcpd login` uses it to write a kubeconfig.
var loginBinding = vapi.Binding{Service: "com.wcpd.kubernetes", Name: "login", Method: http.MethodPost,
	Path: "/wcpd/kubernetes/login", Status: http.StatusOK}

// LoginInfo is the login's answer.
type LoginInfo struct {
	// SessionID is the bearer token; it is a vCenter API session, so it also works as the
	// vmware-api-session-id header, expires when idle as sessions do and dies at logout.
	SessionID string `json:"session_id"`
	// User and Groups are the Kubernetes identity the token carries.
	User        string           `json:"user"`
	Groups      []string         `json:"groups"`
	Supervisors []SupervisorInfo `json:"supervisors"`
}

// SupervisorInfo is one Supervisor's Kubernetes API as the login reports it.
type SupervisorInfo struct {
	Cluster string `json:"cluster"`
	ID      string `json:"supervisor"`
	Name    string `json:"name"`
	// Server is the API server's address on this machine; CertificateAuthority the PEM
	// certificate that signed its serving certificate.
	Server               string `json:"server"`
	CertificateAuthority string `json:"certificate_authority"`
	Ready                bool   `json:"ready"`
	Problem              string `json:"problem,omitempty"`
	// Namespaces are the vSphere Namespaces the user has a role in (every namespace for an
	// administrator).
	Namespaces []string `json:"namespaces"`
}

func (m *Manager) login(c *vapi.Call) (any, error) {
	if m.cfg.Executable == "" {
		return nil, vapi.NewError(vapi.ErrorUnsupported, "wcpd.kubernetes.off",
			"This wcpd runs without the Supervisors' Kubernetes API (serve --kubernetes=false).")
	}
	var sess *vapi.Session
	if user, pass, ok := c.Request.BasicAuth(); ok {
		p, err := m.deps.Identity.Login(user, pass)
		if err != nil {
			return nil, vapi.LoginError(user, err)
		}
		sess = m.deps.Sessions.Create(p)
	} else if id := c.Request.Header.Get(vapi.SessionHeader); id != "" {
		s, ok := m.deps.Sessions.Touch(id)
		if !ok {
			return nil, vapi.NewError(vapi.ErrorUnauthenticated, "wcpd.unauthenticated.session_invalid",
				"The session is unknown or has expired; log in again.")
		}
		sess = &s
	} else {
		return nil, vapi.NewError(vapi.ErrorUnauthenticated, "wcpd.unauthenticated.no_credentials",
			"Log in with HTTP Basic authentication (user and password) or a vmware-api-session-id header.")
	}
	u := m.userInfo(sess.Principal)
	out := LoginInfo{SessionID: sess.ID, User: u.Username, Groups: u.Groups, Supervisors: []SupervisorInfo{}}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	admin := m.administrator(sess.Principal)
	for _, s := range m.deps.Families.Supervisors.List() {
		st, ok := m.APIServer(s.Cluster)
		if !ok {
			continue
		}
		info := SupervisorInfo{Cluster: s.Cluster, ID: s.ID, Name: s.Name, Server: st.Endpoint,
			CertificateAuthority: string(st.CA), Ready: st.Ready, Problem: st.Problem, Namespaces: []string{}}
		for _, ns := range m.deps.Families.Namespaces.OnCluster(s.Cluster) {
			rz, ok := m.deps.Families.Namespaces.Realisation(ns)
			if ok && !rz.Removing && (admin || hasRole(rz, sess.Principal)) {
				info.Namespaces = append(info.Namespaces, ns)
			}
		}
		out.Supervisors = append(out.Supervisors, info)
	}
	return out, nil
}

// hasRole reports whether an access entry of the namespace names p or one of its groups.
func hasRole(rz platform.NamespaceRealisation, p auth.Principal) bool {
	for _, a := range rz.Access {
		if !strings.EqualFold(a.Domain, p.Domain) {
			continue
		}
		if (a.SubjectType == "USER" && strings.EqualFold(a.Subject, p.Name)) || (a.SubjectType == "GROUP" && p.InGroup(a.Subject)) {
			return true
		}
	}
	return false
}
