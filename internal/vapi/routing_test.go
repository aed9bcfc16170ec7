package vapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/reference"
)

// loadReference reads the reference operation list kept beside the repository, or skips the test.
func loadReference(t *testing.T) []reference.Service {
	t.Helper()
	services, path, err := reference.Load()
	if errors.Is(err, reference.ErrAbsent) {
		t.Skipf("reference %s is absent: the catalog cannot be checked against it here", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return services
}

func TestCatalogMatchesReference(t *testing.T) {
	t.Parallel()
	services := loadReference(t)
	reg := NewRegistry()
	seen := map[string]bool{}
	n := 0
	for _, svc := range services {
		for _, ref := range svc.Ops {
			n++
			id := svc.Iface + "." + ref.Name
			seen[id] = true
			op, ok := reg.Lookup(id)
			if !ok {
				t.Errorf("%s: missing from the catalog", id)
				continue
			}
			if op.Method != ref.HTTP || op.Path != ref.URL || op.Action != ref.Dispatch["action"] {
				t.Errorf("%s: catalog has %s %s action=%q, reference %s %s action=%q",
					id, op.Method, op.Path, op.Action, ref.HTTP, ref.URL, ref.Dispatch["action"])
			}
			body := ""
			if ref.BodyPar != nil {
				body = *ref.BodyPar
			}
			if op.Body != body {
				t.Errorf("%s: body parameter %q, reference %q", id, op.Body, body)
			}
			for _, q := range ref.Query {
				if !contains(op.Query, q) {
					t.Errorf("%s: query parameter %q not declared", id, q)
				}
			}
			void := ref.Output == "void"
			switch {
			case void && op.Status == http.StatusOK, !void && op.Status == http.StatusNoContent:
				t.Errorf("%s: status %d does not fit output %s", id, op.Status, ref.Output)
			}
		}
	}
	if n != 101 {
		t.Errorf("reference lists %d operations, expected 101", n)
	}
	for _, op := range reg.Operations() {
		if !seen[op.ID()] {
			t.Errorf("%s: in the catalog but not in the reference", op.ID())
		}
	}
}

// concretePath fills a template's variables with recognisable values.
func concretePath(tmpl string) (string, map[string]string) {
	want := map[string]string{}
	var out []string
	for _, seg := range strings.Split(tmpl, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			v := "val-" + strings.ToLower(name)
			want[name] = v
			seg = v
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/"), want
}

type allowAll struct{}

func (allowAll) Authenticate(user, password string) (auth.Principal, bool) {
	return auth.Principal{Name: user, Domain: auth.Domain}, password == "pw"
}
func (allowAll) HasPrivilege(auth.Principal, auth.Privilege) bool { return true }

// TestEveryReferenceOperationRoutes sends each of the reference's operations over HTTP on /api and
// /rest and checks that it reaches its own registry entry with its path parameters bound.
func TestEveryReferenceOperationRoutes(t *testing.T) {
	t.Parallel()
	services := loadReference(t)
	reg := NewRegistry()
	type echo struct {
		ID     string            `json:"id"`
		Params map[string]string `json:"params"`
	}
	for _, op := range reg.Operations() {
		op.Handler = func(c *Call) (any, error) { return echo{c.Op.ID(), c.params}, nil }
		op.Status = http.StatusOK
	}
	api := testAPI(reg, allowAll{})
	srv := httptest.NewServer(api)
	defer srv.Close()
	token := login(t, srv.URL, "u", "pw")
	n := 0
	for _, svc := range services {
		for _, ref := range svc.Ops {
			id := svc.Iface + "." + ref.Name
			path, want := concretePath(ref.URL)
			for _, legacy := range []bool{false, true} {
				u := srv.URL + "/api" + path
				if legacy {
					u = srv.URL + "/rest" + path
				}
				if a := ref.Dispatch["action"]; a != "" {
					if legacy {
						u += "?~action=" + a
					} else {
						u += "?action=" + a
					}
				}
				req, _ := http.NewRequest(ref.HTTP, u, nil)
				req.Header.Set(SessionHeader, token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var got echo
				if legacy {
					var wrapped struct{ Value echo }
					err = json.Unmarshal(raw, &wrapped)
					got = wrapped.Value
				} else {
					err = json.Unmarshal(raw, &got)
				}
				if res.StatusCode != http.StatusOK || err != nil || got.ID != id {
					t.Errorf("%s %s: status %d, body %s; want operation %s", ref.HTTP, u, res.StatusCode, raw, id)
					continue
				}
				for k, v := range want {
					if got.Params[k] != v {
						t.Errorf("%s: path parameter %s = %q, want %q", u, k, got.Params[k], v)
					}
				}
				n++
			}
		}
	}
	if n != 202 {
		t.Errorf("%d of 202 requests routed", n)
	}
}
