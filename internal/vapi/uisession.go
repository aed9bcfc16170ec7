package vapi

import (
	"net/http"

	"github.com/wcpd/wcpd/internal/auth"
)

// The web UI's session service, a wcpd extension vCenter lacks (docs/ui.md). A browser page cannot
// keep a session token where a script injected into it could not read it, so the UI logs in with
// POST /api/wcpd/ui/session, which opens an ordinary API session exactly as POST /api/session does
// and hands its id back as an HttpOnly cookie. The API then takes that cookie as the session, but
// only from requests that also carry UIHeader: SameSite=Strict already keeps the cookie off
// cross-site requests, and a cross-site form cannot add a custom header either.
const (
	// UISessionCookie is the cookie that carries a UI session's id.
	UISessionCookie = "wcpd_ui_session"
	// UIHeader (with the value "1") marks a request from the UI, the only kind whose
	// UISessionCookie counts.
	UIHeader = "X-Wcpd-UI"
	// uiSessionPath is the UI session service's path below /api.
	uiSessionPath = "/wcpd/ui/session"
	// uiSessionService is its service id in logs and metrics.
	uiSessionService = "com.wcpd.ui.session"
)

// UISessionInfo is the answer of GET (and POST) /api/wcpd/ui/session: who is logged in and what the
// UI should offer them. Every call the UI makes is still checked by the API; this only lets the UI
// hide what would be refused.
type UISessionInfo struct {
	// User is the user as user@domain; SessionUser as vCenter shows it (DOMAIN\user).
	User        string   `json:"user"`
	SessionUser string   `json:"session_user"`
	Groups      []string `json:"groups"`
	// Privileges are the global privileges the user holds, by vCenter id.
	Privileges []auth.Privilege `json:"privileges"`
	// May answers, per UI capability, whether the API would allow the operation behind it
	// (uiCapabilities).
	May map[string]bool `json:"may"`
	// DevOps is true for a user without global read access: it reaches only the namespaces where
	// it holds a role (namespaces-user lists them), and the namespace operations check that role.
	DevOps bool `json:"devops"`
}

// uiCapabilities name what the UI may offer, each decided by the privilege of one operation of the
// registry: the answer follows the operation's declaration rather than a second table of
// privileges.
var uiCapabilities = []struct{ name, operation string }{
	{"read_inventory", "com.vmware.vcenter.namespace_management.clusters.list"},
	{"manage_supervisors", "com.vmware.vcenter.namespace_management.clusters.enable"},
	{"upgrade_supervisors", "com.vmware.vcenter.namespace_management.software.clusters.upgrade"},
	{"manage_namespaces", "com.vmware.vcenter.namespaces.instances.create_v2"},
	{"manage_vm_classes", "com.vmware.vcenter.namespace_management.virtual_machine_classes.create"},
	{"manage_self_service", "com.vmware.vcenter.namespaces.namespace_self_service.activate"},
	{"manage_services", "com.vmware.vcenter.namespace_management.supervisor_services.create"},
}

// uiSessionInfo describes sess for the UI.
func (a *API) uiSessionInfo(sess Session) UISessionInfo {
	p := sess.Principal
	info := UISessionInfo{User: p.String(), SessionUser: p.SessionUser(), Groups: append([]string{}, p.Groups...),
		Privileges: []auth.Privilege{}, May: map[string]bool{}}
	for _, priv := range auth.AllPrivileges {
		if a.Identity.HasPrivilege(p, priv) {
			info.Privileges = append(info.Privileges, priv)
		}
	}
	for _, c := range uiCapabilities {
		op, ok := a.Registry.Lookup(c.operation)
		info.May[c.name] = ok && a.authorize(p, op) == nil
	}
	info.DevOps = !info.May["read_inventory"]
	return info
}

// uiSessionCookie is the cookie that carries id; maxAge -1 clears it.
func uiSessionCookie(id string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: UISessionCookie, Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
}

// uiHeaderKey is UIHeader as net/http keeps header names (see sessionHeaderKey).
var uiHeaderKey = http.CanonicalHeaderKey(UIHeader)

// uiSessionID is the session id a UI request carries in its cookie, or "" when the request is not
// marked as the UI's.
func uiSessionID(r *http.Request) string {
	if headerValue(r.Header, uiHeaderKey) != "1" {
		return ""
	}
	c, err := r.Cookie(UISessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// serveUISession answers /api/wcpd/ui/session: POST logs in (HTTP Basic, as POST /api/session) and
// sets the cookie, GET describes the session, DELETE ends it and clears the cookie.
func (a *API) serveUISession(x *exchange) {
	r := x.r
	name := sessionOps[r.Method]
	if name == "" {
		a.refuseSessionMethod(x)
		return
	}
	x.opID = uiSessionService + "." + name
	switch name {
	case "create":
		sess, err := a.login(x)
		if err != nil {
			a.writeError(x, err)
			return
		}
		http.SetCookie(&x.w, uiSessionCookie(sess.ID, 0))
		a.writeResult(x, http.StatusCreated, a.uiSessionInfo(*sess))
	case "get":
		sess, err := a.authenticate(x)
		if err != nil {
			a.writeError(x, err)
			return
		}
		a.writeResult(x, http.StatusOK, a.uiSessionInfo(sess))
	case "delete":
		// The cookie goes whatever the session's state: a page logging out of an expired session
		// must not keep it.
		http.SetCookie(&x.w, uiSessionCookie("", -1))
		sess, err := a.authenticate(x)
		if err != nil {
			a.writeError(x, err)
			return
		}
		a.Sessions.Delete(sess.ID)
		a.writeResult(x, http.StatusNoContent, nil)
	}
}
