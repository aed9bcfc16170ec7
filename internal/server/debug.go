package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// pprofPrefix is where `wcpd serve --pprof` serves Go's profiles (a wcpd extension; vCenter has
// nothing like it).
const pprofPrefix = "/debug/pprof/"

// ProfilingPrivilege is what a caller of /debug/pprof/ must hold: profiles show what the process
// does with every request and a profile run costs CPU, so they are for administrators.
const ProfilingPrivilege = auth.GlobalSettings

// mountProfiles serves Go's runtime profiles under /debug/pprof/ for administrators, who
// authenticate with a vAPI session (header or cookie) or, for `go tool pprof`, with HTTP Basic
// credentials in the URL.
func (s *Server) mountProfiles(mux *http.ServeMux) {
	profiles := http.NewServeMux()
	profiles.HandleFunc(pprofPrefix, pprof.Index) // also serves the named profiles: heap, goroutine, allocs, ...
	profiles.HandleFunc(pprofPrefix+"cmdline", pprof.Cmdline)
	profiles.HandleFunc(pprofPrefix+"profile", pprof.Profile)
	profiles.HandleFunc(pprofPrefix+"symbol", pprof.Symbol)
	profiles.HandleFunc(pprofPrefix+"trace", pprof.Trace)
	mux.Handle(pprofPrefix, s.requirePrivilege(ProfilingPrivilege, "Profiles", profiles))
}

// MetricsPrivilege is what a caller of /metrics must hold unless --metrics-public is given.
const MetricsPrivilege = auth.SystemRead

// requirePrivilege lets through callers holding priv, who authenticate with a vAPI session
// (header or cookie) or HTTP Basic credentials (as `go tool pprof` and Prometheus send them).
func (s *Server) requirePrivilege(priv auth.Privilege, what string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.caller(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="wcpd"`)
			vapi.WriteError(w, vapi.NewError(vapi.ErrorUnauthenticated, "wcpd.unauthenticated.privileged",
				what+" need a user holding "+string(priv)+": send a session ("+vapi.SessionHeader+") or HTTP Basic credentials.",
				r.URL.Path, string(priv)))
			return
		}
		if !s.Identity.HasPrivilege(p, priv) {
			vapi.WriteError(w, vapi.NewError(vapi.ErrorUnauthorized, "wcpd.unauthorized",
				"User "+p.String()+" does not have the privilege "+string(priv)+" needed for "+r.URL.Path+".",
				p.String(), string(priv), r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// caller is who sent r: the user of its vAPI session, or of its Basic credentials.
func (s *Server) caller(r *http.Request) (auth.Principal, bool) {
	id := r.Header.Get(vapi.SessionHeader)
	if id == "" {
		if c, err := r.Cookie(vapi.SessionHeader); err == nil {
			id = c.Value
		}
	}
	if id != "" {
		sess, ok := s.Sessions.Touch(id)
		return sess.Principal, ok
	}
	if user, password, ok := r.BasicAuth(); ok {
		return s.Identity.Authenticate(user, password)
	}
	return auth.Principal{}, false
}
