package kubeapi

import (
	"encoding/json"
	"net/http"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/wcpd/wcpd/internal/auth"
)

// administratorsGroup is the Kubernetes group of vCenter administrators: it is bound to
// cluster-admin in every Supervisor (bootstrap.go).
const administratorsGroup = "wcpd:administrators"

// maxReviewBytes bounds what the webhooks read of a request.
const maxReviewBytes = 1 << 20

// serveTokenReview answers the API servers' TokenReviews: a token is a vCenter API session of
// wcpd (the Kubernetes login makes one), so it expires as sessions do and dies at logout.
func (m *Manager) serveTokenReview(w http.ResponseWriter, r *http.Request) {
	var review authenticationv1.TokenReview
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReviewBytes)).Decode(&review); err != nil {
		http.Error(w, "the body is not a TokenReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	out := authenticationv1.TokenReview{TypeMeta: review.TypeMeta}
	if sess, ok := m.deps.Sessions.Touch(review.Spec.Token); ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: m.userInfo(sess.Principal)}
	} else {
		out.Status.Error = "the token is not a live wcpd session: log in again with wcpd login"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// kubeName is how a vCenter user or group (name within domain) appears in Kubernetes, as on a
// Supervisor: sso:<name>@<domain>, in lower case (vCenter compares names without case).
func kubeName(name, domain string) string {
	return "sso:" + strings.ToLower(name) + "@" + strings.ToLower(domain)
}

// userInfo is how a vCenter user appears in the Supervisors' Kubernetes APIs.
func (m *Manager) userInfo(p auth.Principal) authenticationv1.UserInfo {
	u := authenticationv1.UserInfo{Username: kubeName(p.Name, p.Domain), UID: strings.ToLower(p.String())}
	for _, g := range p.Groups {
		u.Groups = append(u.Groups, kubeName(g, p.Domain))
	}
	if m.administrator(p) {
		u.Groups = append(u.Groups, administratorsGroup)
	}
	return u
}

// administrator reports whether p holds what vCenter's Admin role holds: such users are cluster
// admins of every Supervisor.
func (m *Manager) administrator(p auth.Principal) bool {
	for _, priv := range auth.AllPrivileges {
		if !m.deps.Identity.HasPrivilege(p, priv) {
			return false
		}
	}
	return true
}

// principalOf finds the vCenter user behind a Kubernetes user name of the form sso:user@domain.
func (m *Manager) principalOf(username string) (auth.Principal, bool) {
	name, ok := strings.CutPrefix(username, "sso:")
	if !ok {
		return auth.Principal{}, false
	}
	p, err := m.deps.Identity.Principal(name)
	return p, err == nil
}
