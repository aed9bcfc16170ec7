package namespaces

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/auth"
)

func accessPath(ns, domain, subject, typ string) string {
	p := instancesPath + "/" + ns + "/access/" + domain + "/" + subject
	if typ != "" {
		p += "?type=" + typ
	}
	return p
}

func TestAccessEntries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("devops1", "Devops-pw-1", "", "devs")
	h.addUser("devops2", "Devops-pw-2", "", "devs")
	h.addUser("loner", "Loner-pw-1", "")
	h.create("ns", nil)
	user := accessPath("ns", "vsphere.local", "devops1", "USER")

	t.Run("create, get, set, delete, each reflected in the namespace's access_list", func(t *testing.T) {
		h.must(204, "POST", user, h.admin, map[string]any{"role": "EDIT"})
		if got := decode[map[string]any](t, h.must(200, "GET", user, h.admin, nil)); !reflect.DeepEqual(got, map[string]any{"role": "EDIT", "inherited": false}) {
			t.Fatalf("get: %v", got)
		}
		want := []Access{{SubjectType: SubjectUser, Subject: "devops1", Domain: "vsphere.local", Role: RoleEdit}}
		if got := h.info("ns").AccessList; !reflect.DeepEqual(got, want) {
			t.Fatalf("access_list after create: %+v", got)
		}
		h.must(204, "POST", accessPath("ns", "vsphere.local", "devs", "GROUP"), h.admin, map[string]any{"role": "VIEW"})
		h.must(204, "PUT", user, h.admin, map[string]any{"role": "OWNER"})
		want = []Access{{SubjectType: SubjectUser, Subject: "devops1", Domain: "vsphere.local", Role: RoleOwner},
			{SubjectType: SubjectGroup, Subject: "devs", Domain: "vsphere.local", Role: RoleView}}
		if got := h.info("ns").AccessList; !reflect.DeepEqual(got, want) {
			t.Fatalf("access_list after set: %+v", got)
		}
		h.must(204, "DELETE", user, h.admin, nil)
		if got := h.info("ns").AccessList; !reflect.DeepEqual(got, want[1:]) {
			t.Fatalf("access_list after delete: %+v", got)
		}
		h.settle(0)
		if got := h.info("ns").ConfigStatus; got != StatusRunning {
			t.Fatalf("status after the access changes were applied: %s", got)
		}
	})

	t.Run("a user without an entry of its own inherits its group's role", func(t *testing.T) {
		got := decode[map[string]any](t, h.must(200, "GET", accessPath("ns", "vsphere.local", "devops2", "USER"), h.admin, nil))
		if !reflect.DeepEqual(got, map[string]any{"role": "VIEW", "inherited": true}) {
			t.Fatalf("get devops2: %v", got)
		}
	})

	cases := []struct {
		name, method, path string
		body               any
		status             int
		errType, names     string
	}{
		{"create on an existing principal", "POST", accessPath("ns", "vsphere.local", "devs", "GROUP"), map[string]any{"role": "EDIT"}, 400, "ALREADY_EXISTS", "devs"},
		{"get of a principal without access", "GET", accessPath("ns", "vsphere.local", "loner", "USER"), nil, 400, "UNSUPPORTED", "loner"},
		{"set of a user whose only role comes from a group", "PUT", accessPath("ns", "vsphere.local", "devops2", "USER"), map[string]any{"role": "EDIT"}, 400, "UNSUPPORTED", "devops2"},
		{"set of a principal without access", "PUT", accessPath("ns", "vsphere.local", "devops1", "USER"), map[string]any{"role": "VIEW"}, 400, "UNSUPPORTED", "devops1"},
		{"delete of a principal without access", "DELETE", accessPath("ns", "vsphere.local", "devops1", "USER"), nil, 400, "UNSUPPORTED", "devops1"},
		{"unknown user", "POST", accessPath("ns", "vsphere.local", "nobody", "USER"), map[string]any{"role": "VIEW"}, 400, "INVALID_ARGUMENT", "nobody"},
		{"user named as a group", "POST", accessPath("ns", "vsphere.local", "devops1", "GROUP"), map[string]any{"role": "VIEW"}, 400, "INVALID_ARGUMENT", `no group \"devops1\"`},
		{"foreign domain", "POST", accessPath("ns", "corp.example", "devops1", "USER"), map[string]any{"role": "VIEW"}, 400, "INVALID_ARGUMENT", "corp.example"},
		{"no type", "POST", accessPath("ns", "vsphere.local", "devops1", ""), map[string]any{"role": "VIEW"}, 400, "INVALID_ARGUMENT", "type"},
		{"bad type", "GET", accessPath("ns", "vsphere.local", "devops1", "ROBOT"), nil, 400, "INVALID_ARGUMENT", "ROBOT"},
		{"bad role", "POST", accessPath("ns", "vsphere.local", "devops1", "USER"), map[string]any{"role": "ADMIN"}, 400, "INVALID_ARGUMENT", "spec.role"},
		{"identity provider", "POST", accessPath("ns", "vsphere.local", "devops1", "USER"), map[string]any{"role": "VIEW", "identity_provider": "idp-1"}, 400, "INVALID_ARGUMENT", "spec.identity_provider"},
		{"unknown namespace", "POST", accessPath("missing", "vsphere.local", "devops1", "USER"), map[string]any{"role": "VIEW"}, 404, "NOT_FOUND", "missing"},
		{"get on an unknown namespace", "GET", accessPath("missing", "vsphere.local", "devops1", "USER"), nil, 404, "NOT_FOUND", "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.info("ns").AccessList
			r := h.do(tc.method, tc.path, h.admin, tc.body)
			if r.Status != tc.status || r.errorType() != tc.errType || !strings.Contains(string(r.Body), tc.names) {
				t.Fatalf("got %d %s, want %d %s naming %q", r.Status, r.Body, tc.status, tc.errType, tc.names)
			}
			if after := h.info("ns").AccessList; !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused request changed access_list: %+v -> %+v", before, after)
			}
		})
	}

	t.Run("no access change while the namespace is being removed", func(t *testing.T) {
		h.must(204, "DELETE", instancesPath+"/ns", h.admin, nil)
		r := h.do("POST", user, h.admin, map[string]any{"role": "VIEW"})
		if r.Status != 400 || r.errorType() != "NOT_ALLOWED_IN_CURRENT_STATE" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
}

// TestNamespaceRoles shows what users without global privileges can do through their roles: a
// viewer (USER entry, VIEW), an editor (through a GROUP entry, EDIT), an owner (OWNER), a stranger
// (no entry) and a reader (the global ReadOnly role, no entry).
func TestNamespaceRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("viewer", "Viewer-pw-1", "")
	h.addUser("editor", "Editor-pw-1", "", "editors")
	h.addUser("owner", "Owner-pw-1", "")
	h.addUser("stranger", "Stranger-pw-1", "")
	h.addUser("reader", "Reader-pw-1", auth.RoleReadOnly)
	h.create("shared", map[string]any{
		"description":   "shared",
		"resource_spec": map[string]any{"cpu_limit": 4000},
		"access_list": []any{
			map[string]any{"subject_type": "USER", "subject": "viewer", "domain": "vsphere.local", "role": "VIEW"},
			map[string]any{"subject_type": "GROUP", "subject": "editors", "domain": "vsphere.local", "role": "EDIT"},
			map[string]any{"subject_type": "USER", "subject": "owner", "domain": "vsphere.local", "role": "OWNER"},
		},
	})
	h.create("private", nil)
	tok := map[string]string{
		"viewer": h.login("viewer", "Viewer-pw-1"), "editor": h.login("editor@vsphere.local", "Editor-pw-1"),
		"owner": h.login("owner", "Owner-pw-1"), "stranger": h.login("stranger", "Stranger-pw-1"),
		"reader": h.login("reader", "Reader-pw-1"), "admin": h.admin,
	}

	t.Run("user view lists what each reaches, with the Supervisor's API endpoint", func(t *testing.T) {
		want := map[string][]UserSummary{
			"viewer": {{"shared", apiEndpoint}}, "editor": {{"shared", apiEndpoint}}, "owner": {{"shared", apiEndpoint}},
			"stranger": {}, "reader": {}, "admin": {{"private", apiEndpoint}, {"shared", apiEndpoint}},
		}
		for who, w := range want {
			got := decode[[]UserSummary](t, h.must(200, "GET", "/api/vcenter/namespaces-user/namespaces", tok[who], nil))
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s sees %+v, want %+v", who, got, w)
			}
		}
		// The legacy protocol and the filter: the administrator asks for the editors group.
		got := decode[struct{ Value []UserSummary }](t, h.must(200, "GET", "/rest/vcenter/namespaces-user/namespaces?groups=editors", h.admin, nil))
		if !reflect.DeepEqual(got.Value, []UserSummary{{"shared", apiEndpoint}}) {
			t.Errorf("filter groups=editors: %+v", got.Value)
		}
		got2 := decode[[]UserSummary](t, h.must(200, "GET", "/api/vcenter/namespaces-user/namespaces?username=viewer", tok["reader"], nil))
		if !reflect.DeepEqual(got2, []UserSummary{{"shared", apiEndpoint}}) {
			t.Errorf("reader asking for viewer's namespaces: %+v", got2)
		}
		if r := h.do("GET", "/api/vcenter/namespaces-user/namespaces?username=viewer", tok["stranger"], nil); r.Status != 403 || r.errorType() != "UNAUTHORIZED" {
			t.Errorf("stranger asking for viewer's namespaces: %d %s", r.Status, r.Body)
		}
	})

	type step struct {
		who, method, path string
		body              any
		status            int
		names             string // what a refusal must name
	}
	ns := instancesPath + "/shared"
	steps := []step{
		{"viewer", "GET", ns, nil, 200, ""},
		{"viewer", "GET", instancesPath + "/v2/shared", nil, 200, ""},
		{"editor", "GET", ns, nil, 200, ""},
		{"owner", "GET", ns, nil, 200, ""},
		{"reader", "GET", ns, nil, 200, ""},
		{"stranger", "GET", ns, nil, 403, "stranger@vsphere.local"},
		{"viewer", "GET", instancesPath + "/private", nil, 403, "System.Read"},
		{"viewer", "GET", instancesPath + "/missing", nil, 403, "System.Read"}, // no hint that it does not exist
		{"viewer", "GET", instancesPath, nil, 403, "System.Read"},
		{"reader", "GET", instancesPath, nil, 200, ""},
		{"viewer", "GET", accessPath("shared", "vsphere.local", "owner", "USER"), nil, 200, ""},
		{"stranger", "GET", accessPath("shared", "vsphere.local", "owner", "USER"), nil, 403, "System.Read"},
		{"viewer", "PATCH", ns, map[string]any{"description": "by viewer"}, 403, "Namespaces.Manage"},
		{"stranger", "PATCH", ns, map[string]any{"description": "by stranger"}, 403, "Namespaces.Manage"},
		{"reader", "PATCH", ns, map[string]any{"description": "by reader"}, 403, "Namespaces.Manage"},
		{"editor", "PATCH", ns, map[string]any{"description": "by editor"}, 204, ""},
		{"editor", "PATCH", ns, map[string]any{"resource_spec": map[string]any{"cpu_limit": 100000}}, 403, "spec.resource_spec"},
		{"editor", "PATCH", ns, map[string]any{"access_list": []any{}}, 403, "spec.access_list"},
		{"editor", "PATCH", ns, map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-8xlarge"}}}, 403, "spec.vm_service_spec"},
		{"editor", "PUT", ns, map[string]any{"description": "set by editor"}, 403, "spec.resource_spec"},
		{"editor", "DELETE", ns, nil, 403, "OWNER"},
		{"editor", "POST", accessPath("shared", "vsphere.local", "stranger", "USER"), map[string]any{"role": "VIEW"}, 403, "OWNER"},
		{"viewer", "DELETE", accessPath("shared", "vsphere.local", "viewer", "USER"), nil, 403, "OWNER"},
		{"owner", "PATCH", ns, map[string]any{"description": "by owner"}, 204, ""},
		{"owner", "POST", accessPath("shared", "vsphere.local", "stranger", "USER"), map[string]any{"role": "VIEW"}, 204, ""},
		{"stranger", "GET", ns, nil, 200, ""}, // now a viewer
	}
	for _, s := range steps {
		r := h.do(s.method, s.path, tok[s.who], s.body)
		if r.Status != s.status {
			t.Fatalf("%s %s %s: got %d %s, want %d", s.who, s.method, s.path, r.Status, r.Body, s.status)
		}
		if s.status == 403 && (r.errorType() != "UNAUTHORIZED" || !strings.Contains(string(r.Body), s.names)) {
			t.Fatalf("%s %s %s: refusal %s does not name %q", s.who, s.method, s.path, r.Body, s.names)
		}
	}
	info := h.info("shared")
	if info.Description != "by owner" || *info.ResourceSpec.CPULimit != 4000 || len(info.AccessList) != 4 {
		t.Fatalf("after the role steps: %+v", asJSON(t, info))
	}

	// The owner may delete the namespace.
	h.must(204, "DELETE", ns, tok["owner"], nil)
	if got := h.info("shared").ConfigStatus; got != StatusRemoving {
		t.Fatalf("after the owner's delete: %s", got)
	}
}
