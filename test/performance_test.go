package test

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
)

// End-to-end tests of what issue 8's performance work changed: answers that are kept between
// requests (the lists of namespaces, a VM class) must follow every change as soon as the change's
// caller has its answer, and the opt-in profiles are for administrators only.

// TestKeptAnswersFollowEveryChange: a list asked twice without a change is the same answer, and
// each change — a VM created, powered off and given a class through govc, a namespace changed or
// deleted through the API, a class changed — shows in the very next answer, without letting time
// pass.
func TestKeptAnswersFollowEveryChange(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 1)
	nsCreate(t, env, token, "alpha", nil)
	nsCreate(t, env, token, "beta", map[string]any{"description": "before"})

	type summary struct {
		Cluster      string `json:"cluster"`
		Supervisor   string `json:"supervisor"`
		Namespace    string `json:"namespace"`
		Description  string `json:"description"`
		ConfigStatus string `json:"config_status"`
		Stats        struct {
			CPUUsed     int64 `json:"cpu_used"`
			MemoryUsed  int64 `json:"memory_used"`
			StorageUsed int64 `json:"storage_used"`
		} `json:"stats"`
	}
	// list returns both lists, by namespace, after checking that asking again answers the same.
	list := func(step string) (v1, v2 map[string]summary) {
		t.Helper()
		read := func(path string) map[string]summary {
			first := env.Do("GET", path, token, nil)
			again := env.Do("GET", path, token, nil)
			if first.Status != 200 || !bytes.Equal(first.Body, again.Body) {
				t.Fatalf("%s: GET %s twice: %d %s, then %s", step, path, first.Status, first.Body, again.Body)
			}
			var all []summary
			first.JSON(t, &all)
			out := map[string]summary{}
			for _, s := range all {
				out[s.Namespace] = s
			}
			return out
		}
		return read(nsInstances), read(nsInstances + "/v2")
	}

	v1, v2 := list("at first")
	// The Supervisor's own system namespaces are listed too.
	if len(v1) != len(v2) || v1["alpha"].ConfigStatus != "RUNNING" || v1["beta"].Description != "before" ||
		v1["alpha"].Cluster != clusterA || v2["alpha"].Supervisor == "" || v1["alpha"].Stats.MemoryUsed != 0 {
		t.Fatalf("lists at first: %+v / %+v", v1, v2)
	}

	// Cluster-A's hosts run 2,600 MHz cores; the embedded inventory reports no consumption, so a
	// powered-on VM counts its configured size.
	env.AdminGovc("vm.create", "-pool", nsPoolPath+"/alpha", "-c", "2", "-m", "2048", "-ds", "SharedDatastore",
		"-net", "DPG-Workload", "-on=true", "alpha-web")
	v1, v2 = list("after a VM was created in alpha")
	for _, got := range []summary{v1["alpha"], v2["alpha"]} {
		if got.Stats.CPUUsed != 2*2600 || got.Stats.MemoryUsed != 2048 {
			t.Fatalf("alpha after alpha-web started: %+v; want 5200 MHz and 2048 MB used", got.Stats)
		}
	}
	if v1["beta"].Stats.MemoryUsed != 0 {
		t.Fatalf("beta after a VM started in alpha: %+v", v1["beta"].Stats)
	}

	env.AdminGovc("vm.power", "-off", "alpha-web")
	if v1, _ = list("after the VM was powered off"); v1["alpha"].Stats.CPUUsed != 0 || v1["alpha"].Stats.MemoryUsed != 0 {
		t.Fatalf("alpha after alpha-web stopped: %+v", v1["alpha"].Stats)
	}

	if r := env.Do("PATCH", nsInstances+"/beta", token, map[string]any{"description": "after"}); r.Status != 204 {
		t.Fatalf("update beta: %d %s", r.Status, r.Body)
	}
	env.Settle(0) // the update takes beta through CONFIGURING while its pool is brought in line
	if v1, v2 = list("after beta was updated"); v1["beta"].Description != "after" || v2["beta"].Description != "after" {
		t.Fatalf("beta after its description changed: %+v / %+v", v1["beta"], v2["beta"])
	}

	// A VM class: the namespaces offering it and the VMs using it are part of its answer.
	class := func(step string) vmClassInfo {
		t.Helper()
		info, first := getVMClass(t, env, token, "best-effort-small")
		if _, again := getVMClass(t, env, token, "best-effort-small"); !bytes.Equal(first.Body, again.Body) {
			t.Fatalf("%s: the class twice: %s, then %s", step, first.Body, again.Body)
		}
		return info
	}
	if got := class("at first"); len(got.Namespaces) != 0 || len(got.VMs) != 0 {
		t.Fatalf("best-effort-small at first: %+v", got)
	}
	if r := env.Do("PATCH", nsInstances+"/alpha", token, map[string]any{
		"vm_service_spec": map[string]any{"vm_classes": []string{"best-effort-small"}}}); r.Status != 204 {
		t.Fatalf("offer the class in alpha: %d %s", r.Status, r.Body)
	}
	env.Settle(0)
	if got := class("after alpha offered it"); !reflect.DeepEqual(got.Namespaces, []string{"alpha"}) {
		t.Fatalf("namespaces offering best-effort-small: %v, want [alpha]", got.Namespaces)
	}
	env.AdminGovc("vm.change", "-vm", "alpha-web", "-e", "wcpd.vmClass=best-effort-small")
	vmID := strings.TrimPrefix(strings.TrimSpace(env.AdminGovc("ls", "-i", "/Datacenter/vm/alpha-web")), "VirtualMachine:")
	if got := class("after a VM took it"); !reflect.DeepEqual(got.VMs, []string{vmID}) {
		t.Fatalf("VMs using best-effort-small: %v, want [%s]", got.VMs, vmID)
	}
	if r := env.Do("PATCH", vmClassesPath+"/best-effort-small", token, map[string]any{"description": "kept answers"}); r.Status != 204 {
		t.Fatalf("update the class: %d %s", r.Status, r.Body)
	}
	if got := class("after it changed"); got.Description != "kept answers" {
		t.Fatalf("best-effort-small after its description changed: %+v", got)
	}

	if r := env.Do("DELETE", nsInstances+"/beta", token, nil); r.Status != 204 {
		t.Fatalf("delete beta: %d %s", r.Status, r.Body)
	}
	if v1, _ = list("while beta is removed"); v1["beta"].ConfigStatus != "REMOVING" {
		t.Fatalf("beta after delete: %+v", v1["beta"])
	}
	env.Settle(time.Minute)
	before := len(v1)
	if v1, v2 = list("once beta is gone"); len(v1) != before-1 || len(v2) != before-1 || v1["alpha"].Namespace != "alpha" {
		t.Fatalf("lists once beta is gone: %+v / %+v", v1, v2)
	}
}

// TestProfilesAreForAdministratorsOnly: `wcpd serve --pprof` serves Go's profiles to holders of
// Global.Settings, who authenticate with a session or with Basic credentials (as `go tool pprof`
// sends them); anyone else is refused, and without the flag nothing is served there.
func TestProfilesAreForAdministratorsOnly(t *testing.T) {
	t.Parallel()
	env := servertest.New(t, func(c *server.Config) { c.Pprof = true })
	env.AddUser("reader", "Reader-Pw-1!", "ReadOnly")
	get := func(path string, auth func(*http.Request)) servertest.Response {
		t.Helper()
		req, err := http.NewRequest("GET", env.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		auth(req)
		res, err := env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		return servertest.Response{Status: res.StatusCode, Body: body.Bytes(), Header: res.Header}
	}
	basic := func(user, password string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, password) }
	}
	session := func(token string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("vmware-api-session-id", token) }
	}

	if r := get("/debug/pprof/", func(*http.Request) {}); r.Status != 401 || r.ErrorType() != "UNAUTHENTICATED" ||
		!strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("without credentials: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := get("/debug/pprof/", basic(servertest.Admin, "wrong")); r.Status != 401 || r.ErrorType() != "UNAUTHENTICATED" {
		t.Fatalf("with a wrong password: %d %s", r.Status, r.Body)
	}
	if r := get("/debug/pprof/", basic("reader", "Reader-Pw-1!")); r.Status != 403 || r.ErrorType() != "UNAUTHORIZED" ||
		!strings.Contains(string(r.Body), "Global.Settings") {
		t.Fatalf("as a read-only user: %d %s", r.Status, r.Body)
	}
	if r := get("/debug/pprof/", basic(servertest.Admin, servertest.AdminPassword)); r.Status != 200 ||
		!strings.Contains(string(r.Body), "goroutine") {
		t.Fatalf("as the administrator with Basic credentials: %d %.200s", r.Status, r.Body)
	}
	r := get("/debug/pprof/goroutine?debug=1", session(env.AdminToken()))
	if r.Status != 200 || !strings.Contains(string(r.Body), "goroutine profile:") {
		t.Fatalf("a profile with the administrator's session: %d %.200s", r.Status, r.Body)
	}

	plain := servertest.New(t)
	if r := plain.Do("GET", "/debug/pprof/", plain.AdminToken(), nil); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
		t.Fatalf("without --pprof: %d %s", r.Status, r.Body)
	}
}
