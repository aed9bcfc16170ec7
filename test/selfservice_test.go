package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
)

// End-to-end tests of namespace self-service and self-service templates (issue 5, self-service
// half), over plain HTTP on whole servers with real Supervisors.

const (
	ssPath      = "/api/vcenter/namespaces/namespace-self-service"
	tmplPath    = "/api/vcenter/namespaces/namespace-templates"
	vmClassPath = "/api/vcenter/namespace-management/virtual-machine-classes"
	// seedPolicy is the storage policy of seed 000's activateWithTemplate request; the seed workflow
	// runs on an inventory that has it.
	seedPolicy = "7327e17f-15fb-47a6-a82e-e7ec54839b59"
	devopsPW   = "Devops-pw-1!"
)

// The request bodies of seed 000, as the seed gives them (its listing lost some brackets and the
// two library ids; the libraries are the default inventory's VM image and Kubernetes release
// libraries, the two kinds the seed says it passed).
const (
	seedVMClassBody = `{
"cpu_count": 2,
"cpu_reservation": 0,
"description": "my vm class",
"id": "custom-class",
"memory_MB": 1024,
"memory_reservation": 0
}`
	seedVMServiceBody = `{
"vm_service_spec" : {
"vm_classes" : ["best-effort-xsmall","custom-class"],
"content_libraries" : ["8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01", "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02"]
}
}`
	seedActivateBody = `{
"permissions": [ {
"domain": "vsphere.local",
"subject": "devops1",
"subject_type": "USER"
}, {
"domain": "vsphere.local",
"subject": "devops-group",
"subject_type": "GROUP"
} ],
"resource_spec": {
"cpu_limit": 10000,
"memory_limit": 20480,
"storage_request_limit": 204800
},
"storage_specs": [ {
"policy": "7327e17f-15fb-47a6-a82e-e7ec54839b59"
} ],
"template": "my-first-template"
}`
)

// withSeedPolicy runs the server on the default inventory plus seed 000's storage policy.
func withSeedPolicy(t *testing.T) servertest.Option {
	t.Helper()
	base, err := os.ReadFile("../docs/inventory-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(string(base), "\ncontent_libraries:", "\n  - id: "+seedPolicy+"\n    name: k8s-storage-policy\n\ncontent_libraries:", 1)
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(c *server.Config) { c.InventoryFile = path }
}

type ssInfo struct {
	Cluster    string `json:"cluster"`
	Capability string `json:"capability"`
	Status     string `json:"status"`
	Messages   []struct {
		Severity string `json:"severity"`
		Details  struct {
			ID             string `json:"id"`
			DefaultMessage string `json:"default_message"`
		} `json:"details"`
	} `json:"messages"`
}

func (i ssInfo) text() string {
	var out []string
	for _, m := range i.Messages {
		out = append(out, m.Severity+": "+m.Details.DefaultMessage)
	}
	return strings.Join(out, " | ")
}

func ssGet(t *testing.T, env *servertest.Env, token, cluster string) ssInfo {
	t.Helper()
	r := env.Do("GET", ssPath+"/"+cluster, token, nil)
	if r.Status != 200 {
		t.Fatalf("self-service get %s: %d %s", cluster, r.Status, r.Body)
	}
	var i ssInfo
	r.JSON(t, &i)
	return i
}

// ssExpect fails unless r is the vAPI error errType with status, whose body mentions every string.
func ssExpect(t *testing.T, what string, r servertest.Response, status int, errType string, mentions ...string) {
	t.Helper()
	if r.Status != status || r.ErrorType() != errType {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, errType)
	}
	for _, m := range mentions {
		if !strings.Contains(string(r.Body), m) {
			t.Fatalf("%s: the error does not mention %q: %s", what, m, r.Body)
		}
	}
}

// ssOK fails unless r succeeded with status.
func ssOK(t *testing.T, what string, r servertest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// jsonOf decodes a response body as generic JSON.
func jsonOf(t *testing.T, r servertest.Response) map[string]any {
	t.Helper()
	var v map[string]any
	r.JSON(t, &v)
	return v
}

// canon encodes a decoded JSON value canonically (sorted keys), so that values compare by content.
func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// canonJSON is canon of a JSON text.
func canonJSON(t *testing.T, raw string) string {
	t.Helper()
	var x any
	if err := json.Unmarshal([]byte(raw), &x); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return canon(t, x)
}

// TestSelfServiceSeedWorkflow runs seed 000 end to end over plain HTTP with the seed's request
// bodies: a custom VM class, a PATCH of a namespace's vm_service_spec, activateWithTemplate, DevOps
// users (one named, one through its group) creating self-service namespaces, an outsider refused,
// and an owner deleting its namespace.
func TestSelfServiceSeedWorkflow(t *testing.T) {
	t.Parallel()
	env := servertest.New(t, withSeedPolicy(t))
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 51)
	env.AddUser("devops1", devopsPW, "")
	env.AddUser("devops2", devopsPW, "", "devops-group")
	env.AddUser("outsider", devopsPW, "")

	// A custom VM class, and a namespace that offers it with a default class and two libraries.
	ssOK(t, "create custom-class", env.Do("POST", vmClassPath, admin, seedVMClassBody), 204)
	nsCreate(t, env, admin, "team-a", nil)
	ssOK(t, "PATCH vm_service_spec", env.Do("PATCH", nsInstances+"/team-a", admin, seedVMServiceBody), 204)
	env.Settle(0)
	if got := canon(t, nsGet(t, env, admin, "team-a")["vm_service_spec"]); got != canonJSON(t, `{"vm_classes": ["best-effort-xsmall", "custom-class"],
		"content_libraries": ["8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01", "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02"]}`) {
		t.Fatalf("vm_service_spec after the PATCH: %s", got)
	}

	// Before activation the cluster's self-service is DEACTIVATED, on a Supervisor that supports it.
	if i := ssGet(t, env, admin, clusterA); i.Status != "DEACTIVATED" || i.Capability != "SUPPORTED" || len(i.Messages) != 0 {
		t.Fatalf("before activation: %+v", i)
	}
	ssOK(t, "activateWithTemplate", env.Do("POST", ssPath+"/"+clusterA+"?action=activateWithTemplate", admin, seedActivateBody), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "CONFIGURING" || i.Capability != "SUPPORTED" || !strings.Contains(i.text(), "Activating") {
		t.Fatalf("right after activateWithTemplate: %+v", i)
	}
	// A DevOps user cannot use it before it is RUNNING.
	devops1 := env.Login("devops1", devopsPW)
	ssExpect(t, "create while CONFIGURING", env.Do("POST", nsInstances, devops1, map[string]any{"cluster": clusterA, "namespace": "early"}),
		400, "NOT_ALLOWED_IN_CURRENT_STATE", "CONFIGURING")
	env.Settle(10 * time.Second)
	if i := ssGet(t, env, admin, clusterA); i.Status != "RUNNING" || len(i.Messages) != 0 {
		t.Fatalf("after the activation's work: %+v", i)
	}
	tmpl := jsonOf(t, env.Do("GET", tmplPath+"/clusters/"+clusterA+"/templates/my-first-template", admin, nil))
	want := canonJSON(t, `{"cluster": "domain-c9", "template": "my-first-template",
		"permissions": [{"domain": "vsphere.local", "subject": "devops1", "subject_type": "USER"},
			{"domain": "vsphere.local", "subject": "devops-group", "subject_type": "GROUP"}],
		"resource_spec": {"cpu_limit": 10000, "memory_limit": 20480, "storage_request_limit": 204800},
		"storage_specs": [{"policy": "7327e17f-15fb-47a6-a82e-e7ec54839b59"}]}`)
	if got := canon(t, tmpl); got != want {
		t.Fatalf("the template:\n got %s\nwant %s", got, want)
	}

	// devops1, named in the template, creates a namespace with no admin privilege at all.
	ssOK(t, "devops1 creates", env.Do("POST", nsInstances, devops1, map[string]any{"cluster": clusterA, "namespace": "devops1-ns"}), 204)
	env.Settle(time.Minute)
	got := jsonOf(t, env.Do("GET", nsInstances+"/devops1-ns", devops1, nil))
	checks := map[string]string{
		"config_status":          `"RUNNING"`,
		"self_service_namespace": `true`,
		"creator":                `{"subject": "devops1", "domain": "vsphere.local"}`,
		"access_list":            `[{"subject_type": "USER", "subject": "devops1", "domain": "vsphere.local", "role": "OWNER"}]`,
		"resource_spec":          `{"cpu_limit": 10000, "memory_limit": 20480, "storage_request_limit": 204800}`,
		"storage_specs":          `[{"policy": "7327e17f-15fb-47a6-a82e-e7ec54839b59"}]`,
		"cluster":                `"domain-c9"`,
	}
	for field, want := range checks {
		if canon(t, got[field]) != canonJSON(t, want) {
			t.Fatalf("devops1-ns %s = %s, want %s\n%v", field, canon(t, got[field]), want, got)
		}
	}
	pool := squeezeBlanks(env.AdminGovc("pool.info", nsPoolPath+"/devops1-ns"))
	if !strings.Contains(pool, "CPU Limit: 10000MHz") || !strings.Contains(pool, "Mem Limit: 20480MB") {
		t.Fatalf("the pool of devops1-ns:\n%s", pool)
	}
	var summaries []map[string]any
	env.Do("GET", nsInstances, admin, nil).JSON(t, &summaries)
	for _, s := range summaries {
		if want := s["namespace"] == "devops1-ns"; s["self_service_namespace"] != want {
			t.Fatalf("list: %v", s)
		}
	}

	// devops2 is in devops-group, which the template names.
	devops2 := env.Login("devops2", devopsPW)
	ssOK(t, "devops2 creates", env.Do("POST", nsInstances, devops2, map[string]any{"cluster": clusterA, "namespace": "devops2-ns", "description": "mine"}), 204)
	env.Settle(time.Minute)
	got = jsonOf(t, env.Do("GET", nsInstances+"/devops2-ns", devops2, nil))
	if canon(t, got["creator"]) != canonJSON(t, `{"subject": "devops2", "domain": "vsphere.local"}`) || got["description"] != "mine" ||
		got["self_service_namespace"] != true || canon(t, got["resource_spec"]) != canonJSON(t, checks["resource_spec"]) {
		t.Fatalf("devops2-ns (a budget of its own): %v", got)
	}

	// Outside the template: refused, whatever the request.
	outsider := env.Login("outsider", devopsPW)
	ssExpect(t, "outsider creates", env.Do("POST", nsInstances, outsider, map[string]any{"cluster": clusterA, "namespace": "sneaky"}),
		403, "UNAUTHORIZED", "outsider@vsphere.local", "Namespaces.Manage")
	ssExpect(t, "outsider with a bad body", env.Do("POST", nsInstances, outsider, "{"), 403, "UNAUTHORIZED")
	ssExpect(t, "devops1 deletes devops2's namespace", env.Do("DELETE", nsInstances+"/devops2-ns", devops1, nil), 403, "UNAUTHORIZED", "OWNER")

	// The owner deletes its namespace.
	ssOK(t, "devops1 deletes", env.Do("DELETE", nsInstances+"/devops1-ns", devops1, nil), 204)
	env.Settle(time.Minute)
	ssExpect(t, "get after delete", env.Do("GET", nsInstances+"/devops1-ns", admin, nil), 404, "NOT_FOUND")
	if slices.Contains(nsPools(t, env), "devops1-ns") {
		t.Fatalf("the pool of devops1-ns outlived it: %v", nsPools(t, env))
	}
}

// supervisorStatus is the config_status of the Supervisor on cluster.
func supervisorStatus(t *testing.T, env *servertest.Env, token, cluster string) string {
	t.Helper()
	var info struct {
		ConfigStatus string `json:"config_status"`
	}
	env.Do("GET", "/api/vcenter/namespace-management/clusters/"+cluster, token, nil).JSON(t, &info)
	return info.ConfigStatus
}

// templateBody is a valid template for the default inventory, with fields replaced by extra
// (a nil value drops the field).
func templateBody(name string, extra map[string]any) map[string]any {
	b := map[string]any{
		"template":      name,
		"resource_spec": map[string]any{"cpu_limit": 8000, "memory_limit": 16384},
		"storage_specs": []any{map[string]any{"policy": policyGold}},
		"permissions":   []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local"}},
	}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// TestSelfServiceActivation covers the self-service state machine: get and list on clusters with
// and without a Supervisor, activate and deactivate toggling through CONFIGURING to RUNNING and
// DEACTIVATED, the errors of doing either twice, an activation that waits for a Supervisor still
// being enabled, and self-service going away with its Supervisor.
func TestSelfServiceActivation(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 52)

	if i := ssGet(t, env, admin, clusterEdge); i.Capability != "NOTSUPPORTED" || i.Status != "DEACTIVATED" || !strings.Contains(i.text(), "no Supervisor") {
		t.Fatalf("a cluster without a Supervisor: %+v", i)
	}
	ssExpect(t, "get of an unknown cluster", env.Do("GET", ssPath+"/domain-c404", admin, nil), 404, "NOT_FOUND", "domain-c404")
	ssExpect(t, "activate without a template", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", admin, nil), 404, "NOT_FOUND", "no self-service template")
	ssExpect(t, "deactivate what is not active", env.Do("POST", ssPath+"/"+clusterA+"?action=deactivate", admin, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "not activated")
	ssExpect(t, "activate on a cluster without a Supervisor", env.Do("POST", ssPath+"/"+clusterEdge+"?action=activate", admin, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "no Supervisor")
	ssExpect(t, "activate on an unknown cluster", env.Do("POST", ssPath+"/domain-c404?action=activate", admin, nil), 404, "NOT_FOUND")

	// A template alone does not activate anything.
	ssOK(t, "template create", env.Do("POST", tmplPath+"/clusters/"+clusterA, admin, templateBody("team", nil)), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "DEACTIVATED" {
		t.Fatalf("after creating the template: %+v", i)
	}
	ssOK(t, "activate", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", admin, nil), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "CONFIGURING" {
		t.Fatalf("right after activate: %+v", i)
	}
	ssExpect(t, "activate twice", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", admin, nil), 400, "ALREADY_EXISTS", "already activated")
	env.Settle(9 * time.Second)
	if i := ssGet(t, env, admin, clusterA); i.Status != "CONFIGURING" {
		t.Fatalf("before the activation's work is done: %+v", i)
	}
	env.Settle(time.Second)
	if i := ssGet(t, env, admin, clusterA); i.Status != "RUNNING" || i.Capability != "SUPPORTED" {
		t.Fatalf("once the activation's work is done: %+v", i)
	}
	ssOK(t, "deactivate", env.Do("POST", ssPath+"/"+clusterA+"?action=deactivate", admin, nil), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "DEACTIVATED" {
		t.Fatalf("after deactivate: %+v", i)
	}
	ssExpect(t, "deactivate twice", env.Do("POST", ssPath+"/"+clusterA+"?action=deactivate", admin, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE")
	// The template stays: activate takes it again.
	ssOK(t, "activate again", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", admin, nil), 204)
	env.Settle(10 * time.Second)
	if i := ssGet(t, env, admin, clusterA); i.Status != "RUNNING" {
		t.Fatalf("after activating again: %+v", i)
	}

	// Activating while the Supervisor is still being enabled waits for it, saying so, and proceeds.
	ssOK(t, "enable B", env.Do("POST", "/api/vcenter/namespace-management/clusters/"+clusterB+"?action=enable", admin, vsphereEnableSpec(53)), 204)
	if i := ssGet(t, env, admin, clusterB); i.Capability != "UNKNOWN" || i.Status != "DEACTIVATED" {
		t.Fatalf("B while its Supervisor is being enabled: %+v", i)
	}
	ssOK(t, "activateWithTemplate on B", env.Do("POST", ssPath+"/"+clusterB+"?action=activateWithTemplate", admin, templateBody("team-b", nil)), 204)
	i := ssGet(t, env, admin, clusterB)
	if i.Status != "CONFIGURING" || !strings.Contains(i.text(), "The Supervisor on cluster domain-c39 is CONFIGURING; the activation of namespace self-service proceeds once it is RUNNING.") {
		t.Fatalf("B's activation waiting: %+v", i)
	}
	// Deactivating and activating again wait the same way.
	ssOK(t, "deactivate B while waiting", env.Do("POST", ssPath+"/"+clusterB+"?action=deactivate", admin, nil), 204)
	if i := ssGet(t, env, admin, clusterB); i.Status != "CONFIGURING" || !strings.Contains(i.text(), "the deactivation of namespace self-service proceeds once it is RUNNING") {
		t.Fatalf("B's deactivation waiting: %+v", i)
	}
	ssOK(t, "activate B while waiting", env.Do("POST", ssPath+"/"+clusterB+"?action=activate", admin, nil), 204)
	for n := 0; n < 20 && supervisorStatus(t, env, admin, clusterB) != "RUNNING"; n++ {
		if i := ssGet(t, env, admin, clusterB); i.Status != "CONFIGURING" || !strings.Contains(i.text(), "the activation of namespace self-service proceeds") {
			t.Fatalf("B's self-service before its Supervisor is RUNNING: %+v", i)
		}
		env.Settle(30 * time.Second)
	}
	// Within 5 s (how often it looks at the Supervisor) the activation's work starts; it takes the
	// task duration.
	env.Settle(5 * time.Second)
	if i := ssGet(t, env, admin, clusterB); i.Status != "CONFIGURING" || i.Capability != "SUPPORTED" || !strings.Contains(i.text(), "Activating") {
		t.Fatalf("B's activation under way: %+v", i)
	}
	env.Settle(10 * time.Second)
	if i := ssGet(t, env, admin, clusterB); i.Status != "RUNNING" || i.Capability != "SUPPORTED" {
		t.Fatalf("B once its Supervisor is RUNNING: %+v", i)
	}
	var list []map[string]string
	env.Do("GET", ssPath, admin, nil).JSON(t, &list)
	if want := []map[string]string{{"cluster": clusterB, "capability": "SUPPORTED", "status": "RUNNING"},
		{"cluster": clusterA, "capability": "SUPPORTED", "status": "RUNNING"}}; !reflect.DeepEqual(list, want) { // by cluster id
		t.Fatalf("list: %v", list)
	}

	// Self-service and its template go with their Supervisor.
	ssOK(t, "disable B", env.Do("POST", "/api/vcenter/namespace-management/clusters/"+clusterB+"?action=disable", admin, nil), 204)
	if i := ssGet(t, env, admin, clusterB); i.Capability != "NOTSUPPORTED" {
		t.Fatalf("B while its Supervisor is being disabled: %+v", i)
	}
	ssExpect(t, "deactivate while being disabled", env.Do("POST", ssPath+"/"+clusterB+"?action=deactivate", admin, nil), 400, "NOT_ALLOWED_IN_CURRENT_STATE", "being disabled")
	for n := 0; n < 10 && supervisorStatus(t, env, admin, clusterB) != ""; n++ {
		env.Settle(30 * time.Second)
	}
	env.Settle(time.Minute)
	if i := ssGet(t, env, admin, clusterB); i.Capability != "NOTSUPPORTED" || i.Status != "DEACTIVATED" {
		t.Fatalf("B without its Supervisor: %+v", i)
	}
	ssExpect(t, "B's template after the disable", env.Do("GET", tmplPath+"/clusters/"+clusterB+"/templates/team-b", admin, nil), 404, "NOT_FOUND")
	env.Do("GET", ssPath, admin, nil).JSON(t, &list)
	if len(list) != 1 || list[0]["cluster"] != clusterA {
		t.Fatalf("list after the disable: %v", list)
	}
	// A template keeps its name: activateWithTemplate with another one is refused.
	ssExpect(t, "rename through activateWithTemplate", env.Do("POST", ssPath+"/"+clusterA+"?action=activateWithTemplate", admin, templateBody("team-b", nil)),
		400, "INVALID_ARGUMENT", "spec.template", `\"team\"`, "cannot change")
}

// TestSelfServiceTemplates covers namespace_templates: both body forms and both path forms, v1 and
// v2, /rest, one template per Supervisor with names unique across the vCenter, update as a real
// PATCH, and the privilege the operations need.
func TestSelfServiceTemplates(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 54)
	enableSupervisor(t, env, admin, clusterB, 55)
	var sup struct {
		Supervisor string `json:"supervisor"`
	}
	nsCreate(t, env, admin, "probe", nil)
	env.Do("GET", nsInstances+"/v2/probe", admin, nil).JSON(t, &sup)
	if sup.Supervisor == "" {
		t.Fatal("no Supervisor id")
	}
	cl := tmplPath + "/clusters/" + clusterA
	sv := tmplPath + "/supervisors/" + sup.Supervisor

	// The bare body (vCenter's OpenAPI document) creates the template.
	full := templateBody("apps", map[string]any{
		"storage_specs": []any{map[string]any{"policy": policyGold, "limit": 2048}, map[string]any{"policy": policySilver, "limit": 4096}},
		"networks":      []any{"primary"},
		"permissions": []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local"},
			map[string]any{"subject_type": "GROUP", "subject": "administrators", "domain": "vsphere.local"}},
		"vm_service_spec":   map[string]any{"vm_classes": []any{"best-effort-small", "best-effort-small", "guaranteed-large"}, "content_libraries": []any{libraryVMImages}},
		"content_libraries": []any{map[string]any{"content_library": libraryTKRs, "writable": false}},
	})
	ssOK(t, "create", env.Do("POST", cl, admin, full), 204)
	want := canonJSON(t, `{"template": "apps",
		"resource_spec": {"cpu_limit": 8000, "memory_limit": 16384},
		"storage_specs": [{"policy": "`+policyGold+`", "limit": 2048}, {"policy": "`+policySilver+`", "limit": 4096}],
		"networks": ["primary"],
		"permissions": [{"subject_type": "USER", "subject": "administrator", "domain": "vsphere.local"},
			{"subject_type": "GROUP", "subject": "administrators", "domain": "vsphere.local"}],
		"vm_service_spec": {"vm_classes": ["best-effort-small", "guaranteed-large"], "content_libraries": ["`+libraryVMImages+`"]},
		"content_libraries": [{"content_library": "`+libraryTKRs+`", "writable": false}]}`)
	for _, path := range []string{cl + "/templates/apps", cl + "/apps"} {
		got := jsonOf(t, env.Do("GET", path, admin, nil))
		if got["cluster"] != clusterA {
			t.Fatalf("GET %s: %v", path, got)
		}
		delete(got, "cluster")
		if canon(t, got) != want {
			t.Fatalf("GET %s:\n got %s\nwant %s", path, canon(t, got), want)
		}
	}
	for _, path := range []string{sv + "/templates/apps", sv + "/apps"} {
		got := jsonOf(t, env.Do("GET", path, admin, nil))
		if got["supervisor"] != sup.Supervisor {
			t.Fatalf("GET %s: %v", path, got)
		}
		delete(got, "supervisor")
		if canon(t, got) != want {
			t.Fatalf("GET %s:\n got %s\nwant %s", path, canon(t, got), want)
		}
	}
	if got := canon(t, jsonOf(t, env.Do("GET", cl+"/templates/apps", admin, nil))); !strings.Contains(got, `"cluster":"domain-c9"`) {
		t.Fatal(got)
	}
	var list []map[string]string
	env.Do("GET", cl, admin, nil).JSON(t, &list)
	if !reflect.DeepEqual(list, []map[string]string{{"cluster": clusterA, "template": "apps"}}) {
		t.Fatalf("list: %v", list)
	}
	var listV2, listB []map[string]string
	env.Do("GET", sv, admin, nil).JSON(t, &listV2)
	if !reflect.DeepEqual(listV2, []map[string]string{{"supervisor": sup.Supervisor, "template": "apps"}}) {
		t.Fatalf("list_v2: %v", listV2)
	}
	env.Do("GET", tmplPath+"/clusters/"+clusterB, admin, nil).JSON(t, &listB)
	if listB == nil || len(listB) != 0 {
		t.Fatalf("list of B: %v", listB)
	}

	// One template per Supervisor, names unique across the vCenter; templates are never deleted.
	ssExpect(t, "a second template", env.Do("POST", cl, admin, templateBody("other", nil)), 400, "ALREADY_EXISTS", `\"apps\"`)
	ssExpect(t, "the same again", env.Do("POST", sv, admin, templateBody("apps", nil)), 400, "ALREADY_EXISTS")
	ssExpect(t, "A's name on B", env.Do("POST", tmplPath+"/clusters/"+clusterB, admin, templateBody("apps", nil)), 400, "ALREADY_EXISTS", "domain-c9", "unique")
	if r := env.Do("DELETE", cl+"/templates/apps", admin, nil); r.Status != 405 && r.Status != 404 {
		t.Fatalf("DELETE of a template: %d %s", r.Status, r.Body)
	}
	// The wrapped body ({"spec": …}, the Python bindings) and /rest work too.
	ssOK(t, "create on B, wrapped", env.Do("POST", tmplPath+"/clusters/"+clusterB, admin, map[string]any{"spec": templateBody("batch", nil)}), 204)
	r := env.Do("GET", "/rest/vcenter/namespaces/namespace-templates/clusters/"+clusterB+"/templates/batch", admin, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"value":{"cluster":"domain-c39","template":"batch"`) {
		t.Fatalf("GET on /rest: %d %s", r.Status, r.Body)
	}

	// update is a real PATCH: given fields replace theirs (resource_spec as a whole), the others stay.
	ssOK(t, "update permissions", env.Do("PATCH", cl+"/templates/apps", admin, map[string]any{
		"permissions": []any{map[string]any{"subject_type": "GROUP", "subject": "administrators", "domain": "vsphere.local"}}}), 204)
	ssOK(t, "update resource_spec, wrapped, v2, short path", env.Do("PATCH", sv+"/apps", admin, map[string]any{"spec": map[string]any{
		"resource_spec": map[string]any{"memory_limit": 4096}, "networks": []any{}}}), 204)
	ssOK(t, "update on /rest", env.Do("PATCH", "/rest/vcenter/namespaces/namespace-templates/clusters/"+clusterA+"/apps", admin, map[string]any{"spec": map[string]any{
		"vm_service_spec": map[string]any{"vm_classes": []any{"guaranteed-small"}}}}), 200)
	got := jsonOf(t, env.Do("GET", cl+"/apps", admin, nil))
	for field, want := range map[string]string{
		"permissions":       `[{"subject_type": "GROUP", "subject": "administrators", "domain": "vsphere.local"}]`,
		"resource_spec":     `{"memory_limit": 4096}`,
		"vm_service_spec":   `{"vm_classes": ["guaranteed-small"], "content_libraries": []}`,
		"storage_specs":     `[{"policy": "` + policyGold + `", "limit": 2048}, {"policy": "` + policySilver + `", "limit": 4096}]`,
		"content_libraries": `[{"content_library": "` + libraryTKRs + `", "writable": false}]`,
	} {
		if canon(t, got[field]) != canonJSON(t, want) {
			t.Fatalf("after the updates, %s = %s, want %s", field, canon(t, got[field]), want)
		}
	}
	if _, ok := got["networks"]; ok {
		t.Fatalf("networks after clearing them: %v", got)
	}
	ssExpect(t, "update of another name", env.Do("PATCH", cl+"/templates/nope", admin, map[string]any{}), 404, "NOT_FOUND", "nope")
	ssExpect(t, "get of another name", env.Do("GET", sv+"/nope", admin, nil), 404, "NOT_FOUND")
	ssExpect(t, "unknown Supervisor", env.Do("GET", tmplPath+"/supervisors/nope/templates/apps", admin, nil), 404, "NOT_FOUND", "nope")
	ssExpect(t, "unknown cluster", env.Do("GET", tmplPath+"/clusters/domain-c404", admin, nil), 404, "NOT_FOUND", "domain-c404")

	// The operations need Namespaces.Configure (writes) or System.Read (reads).
	env.AddUser("dev", devopsPW, "")
	env.AddUser("auditor", devopsPW, "ReadOnly")
	dev, auditor := env.Login("dev", devopsPW), env.Login("auditor", devopsPW)
	ssExpect(t, "template create without privilege", env.Do("POST", tmplPath+"/clusters/"+clusterB, dev, templateBody("x", nil)), 403, "UNAUTHORIZED", "Namespaces.Configure")
	ssExpect(t, "activate without privilege", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", auditor, nil), 403, "UNAUTHORIZED", "Namespaces.Configure")
	ssExpect(t, "get without privilege", env.Do("GET", ssPath+"/"+clusterA, dev, nil), 403, "UNAUTHORIZED", "System.Read")
	ssOK(t, "get as auditor", env.Do("GET", cl+"/templates/apps", auditor, nil), 200)
}

// TestSelfServiceRefusesBadTemplates sends bad input for every field of a template through create,
// activateWithTemplate and update: each is refused with the error that names it, and nothing is
// written.
func TestSelfServiceRefusesBadTemplates(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 56)
	enableSupervisor(t, env, admin, clusterB, 57)
	ssOK(t, "create", env.Do("POST", tmplPath+"/clusters/"+clusterA, admin, templateBody("kept", nil)), 204)
	before := canon(t, jsonOf(t, env.Do("GET", tmplPath+"/clusters/"+clusterA+"/templates/kept", admin, nil)))
	user := func(name string) map[string]any {
		return map[string]any{"subject_type": "USER", "subject": name, "domain": "vsphere.local"}
	}
	cases := []struct {
		name   string
		fields map[string]any // replaced in a valid body (nil drops the field)
		names  []string
	}{
		{"bad name", map[string]any{"template": "My Template"}, []string{"spec.template", "My Template", "DNS label"}},
		{"long name", map[string]any{"template": strings.Repeat("a", 64)}, []string{"spec.template"}},
		{"no name", map[string]any{"template": nil}, []string{"spec.template is missing"}},
		{"no resource_spec", map[string]any{"resource_spec": nil}, []string{"spec.resource_spec is missing"}},
		{"no storage_specs", map[string]any{"storage_specs": nil}, []string{"spec.storage_specs is missing"}},
		{"empty storage_specs", map[string]any{"storage_specs": []any{}}, []string{"spec.storage_specs", "at least one storage policy"}},
		{"unknown policy", map[string]any{"storage_specs": []any{map[string]any{"policy": "nope"}}}, []string{"spec.storage_specs[0].policy", "nope"}},
		{"policy twice", map[string]any{"storage_specs": []any{map[string]any{"policy": policyGold}, map[string]any{"policy": policyGold, "limit": 5}}},
			[]string{"spec.storage_specs[1].policy", "already given"}},
		{"zero storage limit", map[string]any{"storage_specs": []any{map[string]any{"policy": policyGold, "limit": 0}}}, []string{"spec.storage_specs[0].limit"}},
		{"tiny cpu limit", map[string]any{"resource_spec": map[string]any{"cpu_limit": 5}}, []string{"spec.resource_spec.cpu_limit", "10 MHz"}},
		{"negative count", map[string]any{"resource_spec": map[string]any{"pod_count": -1}}, []string{"spec.resource_spec.pod_count"}},
		{"not a number", map[string]any{"resource_spec": map[string]any{"memory_limit": "lots"}}, []string{"spec.resource_spec.memory_limit", "integer"}},
		{"unknown limit", map[string]any{"resource_spec": map[string]any{"gpu_limit": 1}}, []string{"spec.resource_spec.gpu_limit", "no such field"}},
		{"default above limit", map[string]any{"resource_spec": map[string]any{"cpu_limit": 1000, "cpu_limit_default": 2000}}, []string{"spec.resource_spec.cpu_limit_default", "cpu_limit (1000)"}},
		{"unknown user", map[string]any{"permissions": []any{user("ghost")}}, []string{"spec.permissions[0].subject", `no user \"ghost\"`}},
		{"unknown group", map[string]any{"permissions": []any{map[string]any{"subject_type": "GROUP", "subject": "ghosts", "domain": "vsphere.local"}}}, []string{"spec.permissions[0].subject", "ghosts"}},
		{"other domain", map[string]any{"permissions": []any{map[string]any{"subject_type": "USER", "subject": "administrator", "domain": "corp.example"}}}, []string{"spec.permissions[0].subject", "corp.example"}},
		{"bad subject type", map[string]any{"permissions": []any{map[string]any{"subject_type": "ROBOT", "subject": "administrator", "domain": "vsphere.local"}}}, []string{"spec.permissions[0].subject_type", "USER, GROUP"}},
		{"empty subject", map[string]any{"permissions": []any{user("")}}, []string{"spec.permissions[0].subject", "must not be empty"}},
		{"subject twice", map[string]any{"permissions": []any{user("administrator"), user("Administrator")}}, []string{"spec.permissions[1]", "already listed"}},
		{"unknown class", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small", "huge"}}}, []string{"spec.vm_service_spec.vm_classes[1]", "huge"}},
		{"unknown VM Service library", map[string]any{"vm_service_spec": map[string]any{"content_libraries": []any{"nope"}}}, []string{"spec.vm_service_spec.content_libraries[0]"}},
		{"unknown library", map[string]any{"content_libraries": []any{map[string]any{"content_library": "nope"}}}, []string{"spec.content_libraries[0].content_library"}},
		{"two networks", map[string]any{"networks": []any{"a", "b"}}, []string{"spec.networks", "at most one"}},
		{"unknown field", map[string]any{"colour": "red"}, []string{"spec.colour", "no such field"}},
		{"several at once", map[string]any{"template": "Bad", "storage_specs": []any{map[string]any{"policy": "nope"}}, "permissions": []any{user("ghost")}},
			[]string{"spec.template", "spec.storage_specs[0].policy", "spec.permissions[0].subject"}},
	}
	for _, tc := range cases {
		body := templateBody("fresh", tc.fields)
		ssExpect(t, "create: "+tc.name, env.Do("POST", tmplPath+"/clusters/"+clusterB, admin, body), 400, "INVALID_ARGUMENT", tc.names...)
		if tc.name != "no resource_spec" && tc.name != "no storage_specs" && tc.name != "unknown field" {
			ssExpect(t, "activateWithTemplate: "+tc.name, env.Do("POST", ssPath+"/"+clusterA+"?action=activateWithTemplate", admin,
				templateBody("kept", tc.fields)), 400, "INVALID_ARGUMENT", tc.names...)
		}
		update := map[string]any{}
		for k, v := range tc.fields {
			if k != "template" && v != nil {
				update[k] = v
			}
		}
		if len(update) > 0 {
			ssExpect(t, "update: "+tc.name, env.Do("PATCH", tmplPath+"/clusters/"+clusterA+"/templates/kept", admin, update),
				400, "INVALID_ARGUMENT", tc.names[len(tc.names)-1])
		}
	}
	ssExpect(t, "update with a name", env.Do("PATCH", tmplPath+"/clusters/"+clusterA+"/templates/kept", admin, map[string]any{"template": "renamed"}),
		400, "INVALID_ARGUMENT", "spec.template", "no such field")
	ssExpect(t, "body not an object", env.Do("POST", tmplPath+"/clusters/"+clusterA, admin, `[1]`), 400, "INVALID_ARGUMENT")
	ssExpect(t, "cluster without a Supervisor", env.Do("POST", tmplPath+"/clusters/"+clusterEdge, admin, templateBody("edge", nil)), 400, "UNSUPPORTED", "no Supervisor")
	ssExpect(t, "awt on a cluster without a Supervisor", env.Do("POST", ssPath+"/"+clusterEdge+"?action=activateWithTemplate", admin, templateBody("edge", nil)),
		400, "NOT_ALLOWED_IN_CURRENT_STATE", "no Supervisor")
	ssExpect(t, "unknown cluster", env.Do("POST", tmplPath+"/clusters/domain-c404", admin, templateBody("x", nil)), 404, "NOT_FOUND")
	ssExpect(t, "unknown Supervisor", env.Do("POST", tmplPath+"/supervisors/nope", admin, templateBody("x", nil)), 404, "NOT_FOUND")

	// Nothing was written: A's template is as it was, self-service is still off, B has no template.
	if after := canon(t, jsonOf(t, env.Do("GET", tmplPath+"/clusters/"+clusterA+"/templates/kept", admin, nil))); after != before {
		t.Fatalf("the template changed:\n%s\n%s", before, after)
	}
	if i := ssGet(t, env, admin, clusterA); i.Status != "DEACTIVATED" {
		t.Fatalf("self-service after refused activations: %+v", i)
	}
	var list []any
	env.Do("GET", tmplPath+"/clusters/"+clusterB, admin, nil).JSON(t, &list)
	if len(list) != 0 {
		t.Fatalf("templates of B: %v", list)
	}
}

// TestSelfServiceNamespaces covers what a DevOps user may do through self-service: namespaces get
// the template's configuration and share its limits as a budget per user, fields the template
// decides are refused, deactivation stops new namespaces but keeps the existing ones, a template
// change applies to the next namespace, and a template naming a VM class that has since been
// deleted is refused until an administrator fixes it.
func TestSelfServiceNamespaces(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 58)
	enableSupervisor(t, env, admin, clusterB, 59)
	env.AddUser("dev1", devopsPW, "")
	env.AddUser("dev2", devopsPW, "", "devs")
	env.AddUser("reader", devopsPW, "ReadOnly")
	ssOK(t, "custom class", env.Do("POST", vmClassPath, admin, map[string]any{"id": "ss-class", "cpu_count": 2, "memory_MB": 2048}), 204)
	ssOK(t, "activateWithTemplate", env.Do("POST", ssPath+"/"+clusterA+"?action=activateWithTemplate", admin, map[string]any{
		"template":          "dev",
		"permissions":       []any{map[string]any{"subject_type": "USER", "subject": "dev1", "domain": "vsphere.local"}, map[string]any{"subject_type": "GROUP", "subject": "devs", "domain": "vsphere.local"}},
		"resource_spec":     map[string]any{"cpu_limit": 10000, "memory_limit": 8192, "cpu_limit_default": 500},
		"storage_specs":     []any{map[string]any{"policy": policyGold, "limit": 1024}, map[string]any{"policy": policySilver, "limit": 2048}},
		"vm_service_spec":   map[string]any{"vm_classes": []any{"best-effort-small", "ss-class"}, "content_libraries": []any{libraryVMImages}},
		"content_libraries": []any{map[string]any{"content_library": libraryTKRs}},
	}), 204)
	env.Settle(10 * time.Second)
	dev1, dev2, reader := env.Login("dev1", devopsPW), env.Login("dev2", devopsPW), env.Login("reader", devopsPW)
	create := func(tok, name string, extra map[string]any) servertest.Response {
		spec := map[string]any{"cluster": clusterA, "namespace": name}
		for k, v := range extra {
			spec[k] = v
		}
		return env.Do("POST", nsInstances, tok, spec)
	}
	quota := func(name string) string { return canon(t, nsGet(t, env, admin, name)["resource_spec"]) }

	// The first namespace asks for part of the budget; the template's storage, classes and libraries
	// and its per-container default come with it.
	ssOK(t, "dev1 creates a", create(dev1, "a", map[string]any{"resource_spec": map[string]any{"cpu_limit": 4000, "memory_limit": 2048}}), 204)
	env.Settle(time.Minute)
	got := nsGet(t, env, dev1, "a")
	for field, want := range map[string]string{
		"resource_spec":     `{"cpu_limit": 4000, "memory_limit": 2048, "cpu_limit_default": 500}`,
		"storage_specs":     `[{"policy": "` + policyGold + `", "limit": 1024}, {"policy": "` + policySilver + `", "limit": 2048}]`,
		"vm_service_spec":   `{"vm_classes": ["best-effort-small", "ss-class"], "content_libraries": ["` + libraryVMImages + `"]}`,
		"content_libraries": `[{"content_library": "` + libraryTKRs + `", "writable": false}, {"content_library": "` + libraryVMImages + `", "writable": false}]`,
		"config_status":     `"RUNNING"`,
	} {
		if canon(t, got[field]) != canonJSON(t, want) {
			t.Fatalf("a: %s = %s, want %s", field, canon(t, got[field]), want)
		}
	}
	// The second gets what the first left; then nothing is left.
	ssOK(t, "dev1 creates b", create(dev1, "b", nil), 204)
	if got := quota("b"); got != canonJSON(t, `{"cpu_limit": 6000, "memory_limit": 6144, "cpu_limit_default": 500}`) {
		t.Fatalf("b: %s", got)
	}
	ssExpect(t, "nothing left", create(dev1, "c", nil), 500, "UNABLE_TO_ALLOCATE_RESOURCE",
		"Nothing of cpu_limit is left", "Nothing of memory_limit is left", "allows 10000 MHz of cpu_limit for all the self-service namespaces of dev1@vsphere.local", "held by: a, b")
	ssExpect(t, "more than is left", create(dev1, "c", map[string]any{"resource_spec": map[string]any{"cpu_limit": 20000}}), 500, "UNABLE_TO_ALLOCATE_RESOURCE",
		"spec.resource_spec.cpu_limit asks for 20000 MHz, but only 0 MHz")
	// dev2 (through the devs group) has a budget of its own.
	ssOK(t, "dev2 creates d", create(dev2, "d", map[string]any{"resource_spec": map[string]any{"cpu_limit": 5000, "memory_limit": 4096}}), 204)
	if got := quota("d"); got != canonJSON(t, `{"cpu_limit": 5000, "memory_limit": 4096, "cpu_limit_default": 500}`) {
		t.Fatalf("d: %s", got)
	}
	// What a removed namespace held is free again.
	ssOK(t, "dev1 deletes b", env.Do("DELETE", nsInstances+"/b", dev1, nil), 204)
	ssOK(t, "dev1 creates c", create(dev1, "c", map[string]any{"resource_spec": map[string]any{"cpu_limit": 1000}}), 204)
	if got := quota("c"); got != canonJSON(t, `{"cpu_limit": 1000, "memory_limit": 6144, "cpu_limit_default": 500}`) {
		t.Fatalf("c: %s", got)
	}
	ssExpect(t, "a limit below the template's default", create(dev2, "e", map[string]any{"resource_spec": map[string]any{"cpu_limit": 300}}),
		400, "INVALID_ARGUMENT", "spec.resource_spec.cpu_limit_default", "cpu_limit (300)")
	// A namespace an administrator made unlimited claims the whole budget.
	ssOK(t, "admin lifts c's CPU limit", env.Do("PATCH", nsInstances+"/c", admin, map[string]any{"resource_spec": map[string]any{"cpu_limit_unset": true}}), 204)
	ssExpect(t, "after c became unlimited", create(dev1, "f", map[string]any{"resource_spec": map[string]any{"cpu_limit": 10, "memory_limit": 1}}),
		500, "UNABLE_TO_ALLOCATE_RESOURCE", "spec.resource_spec.cpu_limit", "left")

	// What the template decides is refused; so are another creator, reserved, taken and bad names,
	// and clusters where the user has no self-service.
	refusals := []struct {
		name   string
		extra  map[string]any
		status int
		typ    string
		names  []string
	}{
		{"storage", map[string]any{"storage_specs": []any{map[string]any{"policy": policyGold}}}, 403, "UNAUTHORIZED", []string{"spec.storage_specs", "Namespaces.Manage"}},
		{"access", map[string]any{"access_list": []any{map[string]any{"subject_type": "USER", "subject": "dev2", "domain": "vsphere.local", "role": "OWNER"}}}, 403, "UNAUTHORIZED", []string{"spec.access_list"}},
		{"classes", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-8xlarge"}}}, 403, "UNAUTHORIZED", []string{"spec.vm_service_spec"}},
		{"libraries", map[string]any{"content_libraries": []any{map[string]any{"content_library": libraryVMImages}}}, 403, "UNAUTHORIZED", []string{"spec.content_libraries"}},
		{"networks", map[string]any{"networks": []any{"primary"}}, 403, "UNAUTHORIZED", []string{"spec.networks"}},
		{"a default", map[string]any{"resource_spec": map[string]any{"memory_limit_default": 64}}, 403, "UNAUTHORIZED", []string{"spec.resource_spec.memory_limit_default"}},
		{"another creator", map[string]any{"creator": map[string]any{"subject": "dev1", "domain": "vsphere.local"}}, 403, "UNAUTHORIZED", []string{"spec.creator", "dev1@vsphere.local"}},
		{"bad limit", map[string]any{"resource_spec": map[string]any{"cpu_limit": 1}}, 400, "INVALID_ARGUMENT", []string{"spec.resource_spec.cpu_limit"}},
		{"cluster without self-service", map[string]any{"cluster": clusterB}, 403, "UNAUTHORIZED", []string{"domain-c39", "self-service"}},
		{"unknown cluster", map[string]any{"cluster": "domain-c404"}, 403, "UNAUTHORIZED", []string{"domain-c404"}},
		{"reserved name", map[string]any{"namespace": "vmware-system-x"}, 403, "UNAUTHORIZED", []string{"reserved"}},
		{"taken name", map[string]any{"namespace": "a"}, 400, "ALREADY_EXISTS", []string{`\"a\"`}},
		{"bad name", map[string]any{"namespace": "Not_A_Label"}, 400, "INVALID_ARGUMENT", []string{"spec.namespace"}},
	}
	for _, r := range refusals {
		extra := map[string]any{"resource_spec": map[string]any{"cpu_limit": 600, "memory_limit": 100}}
		for k, v := range r.extra {
			extra[k] = v
		}
		ssExpect(t, r.name, create(dev2, "g", extra), r.status, r.typ, r.names...)
	}
	ssOK(t, "dev2 names itself as creator", create(dev2, "g", map[string]any{"creator": map[string]any{"subject": "DEV2", "domain": "vsphere.local"},
		"resource_spec": map[string]any{"cpu_limit": 600, "memory_limit": 100}}), 204)
	ssExpect(t, "a reader (System.Read, no self-service)", create(reader, "h", nil), 403, "UNAUTHORIZED", "reader@vsphere.local")
	// The owner may change its namespace's description, not the quota the template gave it.
	ssOK(t, "owner edits the description", env.Do("PATCH", nsInstances+"/a", dev1, map[string]any{"description": "mine"}), 204)
	ssExpect(t, "owner raises its quota", env.Do("PATCH", nsInstances+"/a", dev1, map[string]any{"resource_spec": map[string]any{"cpu_limit": 99999}}),
		403, "UNAUTHORIZED", "spec.resource_spec")

	// A template change applies to the next namespace at once (the Supervisor is RUNNING).
	ssOK(t, "template update", env.Do("PATCH", tmplPath+"/clusters/"+clusterA+"/templates/dev", admin, map[string]any{
		"storage_specs": []any{map[string]any{"policy": policySilver}}}), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "RUNNING" {
		t.Fatalf("after the template update: %+v", i)
	}
	ssOK(t, "dev2 creates i", create(dev2, "i", map[string]any{"resource_spec": map[string]any{"cpu_limit": 600, "memory_limit": 100}}), 204)
	if got := canon(t, nsGet(t, env, admin, "i")["storage_specs"]); got != canonJSON(t, `[{"policy": "`+policySilver+`"}]`) {
		t.Fatalf("i's storage: %s", got)
	}

	// Deactivation stops new namespaces; those that exist stay, and their owners keep them.
	ssOK(t, "deactivate", env.Do("POST", ssPath+"/"+clusterA+"?action=deactivate", admin, nil), 204)
	ssExpect(t, "create after deactivation", create(dev2, "j", nil), 403, "UNAUTHORIZED", "self-service")
	env.Settle(time.Minute)
	for _, name := range []string{"a", "c", "d", "g", "i"} {
		if got := nsGet(t, env, admin, name); got["config_status"] != "RUNNING" || got["self_service_namespace"] != true {
			t.Fatalf("%s after deactivation: %v", name, got)
		}
	}
	ssOK(t, "the owner deletes after deactivation", env.Do("DELETE", nsInstances+"/i", dev2, nil), 204)

	// A class deleted since the template was written makes the template unusable until it is fixed.
	ssOK(t, "activate", env.Do("POST", ssPath+"/"+clusterA+"?action=activate", admin, nil), 204)
	env.Settle(10 * time.Second)
	ssOK(t, "delete ss-class", env.Do("DELETE", vmClassPath+"/ss-class", admin, nil), 204)
	env.Settle(time.Minute)
	ssExpect(t, "create from a stale template", create(dev2, "k", map[string]any{"resource_spec": map[string]any{"cpu_limit": 600, "memory_limit": 100}}),
		400, "NOT_ALLOWED_IN_CURRENT_STATE", `template \"dev\"`, "template.vm_service_spec.vm_classes[1]", "ss-class")
	ssOK(t, "fix the template", env.Do("PATCH", tmplPath+"/clusters/"+clusterA+"/dev", admin, map[string]any{
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"}}}), 204)
	ssOK(t, "create from the fixed template", create(dev2, "k", map[string]any{"resource_spec": map[string]any{"cpu_limit": 600, "memory_limit": 100}}), 204)
}

// TestSelfServiceFirstUpgradeGrantsDefaultClasses: namespaces created before the Supervisor's
// first upgrade without any VM Service configuration get every default VM class when that upgrade
// completes (seed 000); namespaces that chose their classes, namespaces created later and later
// upgrades are left alone.
func TestSelfServiceFirstUpgradeGrantsDefaultClasses(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 60)
	nsCreate(t, env, admin, "old-bare", nil)
	nsCreate(t, env, admin, "old-chosen", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"}}})
	nsCreate(t, env, admin, "old-none", map[string]any{"vm_service_spec": map[string]any{"vm_classes": []any{}}})
	upgrade := func(version string) {
		t.Helper()
		r := env.Do("POST", "/api/vcenter/namespace-management/software/clusters/"+clusterA+"?action=upgrade", admin, map[string]any{"desired_version": version})
		if r.ErrorType() == "UNSUPPORTED" && strings.Contains(string(r.Body), "does not implement") {
			t.Skip("skipped: wcpd does not implement Supervisor upgrade yet")
		}
		ssOK(t, "upgrade to "+version, r, 204)
		for n := 0; n < 20; n++ {
			env.Settle(10 * time.Second)
			if getSoftware(t, env, admin, clusterA).CurrentVersion == version {
				env.Settle(5 * time.Second) // the namespaces family looks at the Supervisors every 5 s
				return
			}
		}
		t.Fatalf("the upgrade to %s did not finish", version)
	}
	classes := func(name string) string { return canon(t, nsGet(t, env, admin, name)["vm_service_spec"]) }
	defaults := []string{}
	for _, kind := range []string{"best-effort", "guaranteed"} {
		for _, size := range []string{"xsmall", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"} {
			defaults = append(defaults, kind+"-"+size)
		}
	}
	allDefaults := canon(t, map[string]any{"vm_classes": defaults, "content_libraries": []string{}})
	if got := classes("old-bare"); got != "null" {
		t.Fatalf("old-bare before the upgrade: %s", got)
	}

	upgrade(ver1_28_8)
	if got := classes("old-bare"); got != allDefaults {
		t.Fatalf("old-bare after the first upgrade: %s", got)
	}
	if got := classes("old-chosen"); got != canonJSON(t, `{"vm_classes": ["best-effort-small"], "content_libraries": []}`) {
		t.Fatalf("old-chosen after the first upgrade: %s", got)
	}
	if got := classes("old-none"); got != canonJSON(t, `{"vm_classes": [], "content_libraries": []}`) {
		t.Fatalf("old-none after the first upgrade: %s", got)
	}
	env.Settle(time.Minute)
	if got := nsGet(t, env, admin, "old-bare")["config_status"]; got != "RUNNING" {
		t.Fatalf("old-bare after the change: %v", got)
	}

	// Only the first upgrade does it, once per namespace.
	nsCreate(t, env, admin, "new-bare", nil)
	ssOK(t, "set old-bare without vm_service_spec", env.Do("PUT", nsInstances+"/old-bare", admin, map[string]any{}), 204)
	upgrade(ver1_29_4)
	for _, name := range []string{"new-bare", "old-bare"} {
		if got := classes(name); got != "null" {
			t.Fatalf("%s after the second upgrade: %s", name, got)
		}
	}
}

// TestSelfServiceResumesAfterRestart stops wcpd while an activation waits for its Supervisor and
// starts it again: the activation proceeds, and the template is still there.
func TestSelfServiceResumesAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := servertest.New(t, servertest.WithDataDir(dir))
	admin := env.AdminToken()
	ssOK(t, "enable", env.Do("POST", "/api/vcenter/namespace-management/clusters/"+clusterA+"?action=enable", admin, vsphereEnableSpec(61)), 204)
	ssOK(t, "activateWithTemplate", env.Do("POST", ssPath+"/"+clusterA+"?action=activateWithTemplate", admin, templateBody("kept", nil)), 204)
	if i := ssGet(t, env, admin, clusterA); i.Status != "CONFIGURING" || !strings.Contains(i.text(), "proceeds once it is RUNNING") {
		t.Fatalf("before the restart: %+v", i)
	}
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}

	env = servertest.New(t, servertest.WithDataDir(dir))
	admin = env.AdminToken()
	for n := 0; n < 20 && supervisorStatus(t, env, admin, clusterA) != "RUNNING"; n++ {
		env.Settle(30 * time.Second)
	}
	env.Settle(5 * time.Second)
	env.Settle(10 * time.Second)
	if i := ssGet(t, env, admin, clusterA); i.Status != "RUNNING" {
		t.Fatalf("after the restart: %+v", i)
	}
	ssOK(t, "the template after the restart", env.Do("GET", tmplPath+"/clusters/"+clusterA+"/templates/kept", admin, nil), 200)
}
