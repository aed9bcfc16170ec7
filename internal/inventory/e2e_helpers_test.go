package inventory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/inventory"
)

// testServer is a stand-in for wcpd's HTTPS listener: the inventory's SOAP
// and vAPI handlers plus a minimal session endpoint (the real one belongs to
// wcpd's server package).
type testServer struct {
	inv      *inventory.Inventory
	ts       *httptest.Server
	sessions *sessionStandIn
	// govc runs commands as user "administrator" with password "secret".
	govc govctest.Target
}

const (
	testUser     = "administrator@vsphere.local"
	testPassword = "secret"
)

func checkTestLogin(user, password string) bool {
	return user == testUser && password == testPassword
}

func startTestServer(t *testing.T, cfg inventory.Config) *testServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg.ValidLogin == nil {
		cfg.ValidLogin = checkTestLogin
	}
	inv, err := inventory.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(inv.Close)

	sessions := &sessionStandIn{valid: cfg.ValidLogin, tokens: map[string]string{}}
	mux := http.NewServeMux()
	inv.Mount(mux, sessions.require)
	mux.HandleFunc("/rest/com/vmware/cis/session", sessions.rest)
	mux.HandleFunc("/api/session", sessions.api)
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)

	u, _ := url.Parse(ts.URL)
	u.Path = "/sdk"
	u.User = url.UserPassword(testUser, testPassword)
	return &testServer{inv: inv, ts: ts, sessions: sessions, govc: govctest.Target{URL: u.String()}}
}

// govc runs a command and fails the test if it does not succeed.
func (s *testServer) mustGovc(t *testing.T, command string, args ...string) string {
	t.Helper()
	out, errOut, code := s.govc.Run(command, args...)
	if code != 0 {
		t.Fatalf("govc %s %v: exit %d\nstdout: %s\nstderr: %s", command, args, code, out, errOut)
	}
	return out
}

// sessionStandIn hands out vAPI session tokens the way wcpd's session
// service does, and requires one on the routes it guards.
type sessionStandIn struct {
	valid func(user, password string) bool

	mu     sync.Mutex
	tokens map[string]string // token -> user
}

func (s *sessionStandIn) login(w http.ResponseWriter, r *http.Request) (string, bool) {
	user, password, ok := r.BasicAuth()
	if !ok || !s.valid(user, password) {
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[token] = user
	s.mu.Unlock()
	return token, true
}

func (s *sessionStandIn) user(r *http.Request) (string, bool) {
	token := r.Header.Get("vmware-api-session-id")
	if token == "" {
		if c, err := r.Cookie("vmware-api-session-id"); err == nil {
			token = c.Value
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.tokens[token]
	return user, ok
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// rest serves /rest/com/vmware/cis/session (values wrapped in {"value": ...}).
func (s *sessionStandIn) rest(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Query().Get("~action") == "get":
		if user, ok := s.user(r); ok {
			writeJSON(w, map[string]any{"value": map[string]string{"user": user}})
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	case r.Method == http.MethodPost:
		if token, ok := s.login(w, r); ok {
			writeJSON(w, map[string]string{"value": token})
		}
	case r.Method == http.MethodDelete:
		s.mu.Lock()
		delete(s.tokens, r.Header.Get("vmware-api-session-id"))
		s.mu.Unlock()
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// api serves /api/session (bare JSON values).
func (s *sessionStandIn) api(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		if token, ok := s.login(w, r); ok {
			writeJSON(w, token)
		}
	case http.MethodGet:
		if user, ok := s.user(r); ok {
			writeJSON(w, map[string]string{"user": user})
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.tokens, r.Header.Get("vmware-api-session-id"))
		s.mu.Unlock()
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (s *sessionStandIn) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.user(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
