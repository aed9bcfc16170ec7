package test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/vapi/jsonrpc"
)

// Service ids over JSON-RPC.
const (
	rpcNM       = "com.vmware.vcenter.namespace_management."
	rpcNS       = "com.vmware.vcenter.namespaces."
	rpcSessions = "com.vmware.cis.session"
)

// rpcCall invokes an operation and fails the test on any error; every answer is decoded strictly by
// the client, as the official SDK's runtime decodes it.
func rpcCall(t *testing.T, c *jsonrpc.Client, service, op string, inputs map[string]any) any {
	t.Helper()
	out, err := c.Invoke(context.Background(), service, op, inputs)
	if err != nil {
		t.Fatalf("%s.%s: %v", service, op, err)
	}
	return out
}

// rpcExpectError invokes an operation that must fail with the vAPI error of errStruct (e.g.
// not_found), whose first message names every one of names.
func rpcExpectError(t *testing.T, c *jsonrpc.Client, service, op string, inputs map[string]any, errStruct string, names ...string) {
	t.Helper()
	_, err := c.Invoke(context.Background(), service, op, inputs)
	var ve *jsonrpc.Error
	if !errors.As(err, &ve) {
		t.Fatalf("%s.%s: want the vAPI error %s, got %v", service, op, errStruct, err)
	}
	if ve.Struct != "com.vmware.vapi.std.errors."+errStruct || ve.Type != strings.ToUpper(errStruct) {
		t.Fatalf("%s.%s: want %s, got %s (%s): %v", service, op, errStruct, ve.Struct, ve.Type, ve)
	}
	for _, n := range names {
		if !strings.Contains(ve.Error(), n) {
			t.Fatalf("%s.%s: the error does not name %q: %v", service, op, n, ve)
		}
	}
}

// TestJSONRPCAdminDay drives an administrator's day over vAPI JSON-RPC, the protocol of VMware's
// official SDKs: log in, find a compatible cluster, enable a Supervisor (with SECRETs), make
// namespaces with VM service specs, grant access, define a VM class with a config_spec, register a
// Supervisor Service and a version, use a namespace template and self-service, add an identity
// provider (a map), upgrade through the map-taking upgrade_multiple, see typed errors, log out.
func TestJSONRPCAdminDay(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	ctx := context.Background()
	c := env.JSONRPC()
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("LoginAndSession", func(t *testing.T) {
		if err := c.Login(ctx, servertest.Admin, servertest.AdminPassword); err != nil {
			t.Fatal(err)
		}
		info := rpcCall(t, c, rpcSessions, "get", nil).(map[string]any)
		if info["user"] != `VSPHERE.LOCAL\administrator` {
			t.Fatalf("session get: %v", info)
		}
	})

	step("CompatibilityAndEnable", func(t *testing.T) {
		list := rpcCall(t, c, rpcNM+"cluster_compatibility", "list", map[string]any{"filter": map[string]any{"compatible": true}}).([]any)
		var ids []string
		for _, s := range list {
			ids = append(ids, s.(map[string]any)["cluster"].(string))
		}
		if !slices.Contains(ids, clusterA) {
			t.Fatalf("compatible clusters %v lack %s", ids, clusterA)
		}
		// The HAProxy password goes as a SECRET.
		rpcCall(t, c, rpcNM+"clusters", "enable", map[string]any{"cluster": clusterA, "spec": servertest.VSphereEnableSpec(91)})
		for i := 0; i < 20; i++ {
			env.Settle(30 * time.Second)
			info := rpcCall(t, c, rpcNM+"clusters", "get", map[string]any{"cluster": clusterA}).(map[string]any)
			if info["config_status"] == "RUNNING" {
				return
			}
		}
		t.Fatal("the Supervisor enabled over JSON-RPC is not RUNNING")
	})

	step("NamespacesAccessAndClasses", func(t *testing.T) {
		rpcCall(t, c, rpcNM+"virtual_machine_classes", "create", map[string]any{"spec": map[string]any{
			"id": "rpc-class", "cpu_count": 2, "memory_MB": 2048, "description": "made over JSON-RPC",
			"config_spec": map[string]any{"_typeName": "VirtualMachineConfigSpec", "numCPUs": 2, "memoryMB": 2048,
				"extraConfig": []any{map[string]any{"_typeName": "OptionValue", "key": "guestinfo.team", "value": map[string]any{"_typeName": "string", "_value": "web"}}}},
		}})
		class := rpcCall(t, c, rpcNM+"virtual_machine_classes", "get", map[string]any{"vm_class": "rpc-class"}).(map[string]any)
		if class["cpu_count"] != json.Number("2") || class["memory_MB"] != json.Number("2048") {
			t.Fatalf("rpc-class: %v", class)
		}
		if cs, _ := class["config_spec"].(map[string]any); cs["numCPUs"] == nil {
			t.Fatalf("rpc-class's config_spec did not come back as a structure: %v", class["config_spec"])
		}
		rpcCall(t, c, rpcNS+"instances", "create", map[string]any{"spec": map[string]any{
			"cluster": clusterA, "namespace": "rpc-web", "description": "over JSON-RPC",
			"resource_spec":   map[string]any{"cpu_limit": 4000},
			"storage_specs":   []any{map[string]any{"policy": policyGold, "limit": 10240}},
			"vm_service_spec": map[string]any{"vm_classes": []any{"rpc-class", "best-effort-small"}, "content_libraries": []any{libraryVMImages}},
		}})
		env.AddUser("erin", "Erin-pw-1!", "")
		rpcCall(t, c, rpcNS+"access", "create", map[string]any{"namespace": "rpc-web", "domain": "vsphere.local",
			"subject": "erin", "type": "USER", "spec": map[string]any{"role": "EDIT"}})
		env.Settle(time.Minute)
		ns := rpcCall(t, c, rpcNS+"instances", "get", map[string]any{"namespace": "rpc-web"}).(map[string]any)
		vmSpec, _ := ns["vm_service_spec"].(map[string]any)
		if ns["config_status"] != "RUNNING" || !slices.Contains(vmSpec["vm_classes"].([]any), any("rpc-class")) {
			t.Fatalf("rpc-web: %v", ns)
		}
		access := rpcCall(t, c, rpcNS+"access", "get", map[string]any{"namespace": "rpc-web", "domain": "vsphere.local", "subject": "erin", "type": "USER"}).(map[string]any)
		if access["role"] != "EDIT" {
			t.Fatalf("erin's access: %v", access)
		}
		list := rpcCall(t, c, rpcNS+"instances", "list", nil).([]any)
		if len(list) < 2 {
			t.Fatalf("namespaces: %v", list)
		}
		// erin, with no privilege of her own, sees only her namespace and may not make classes.
		erin := env.JSONRPC()
		erin.UsePassword("erin", "Erin-pw-1!")
		rpcExpectError(t, erin, rpcNM+"virtual_machine_classes", "create", map[string]any{"spec": map[string]any{"id": "erin-class", "cpu_count": 1, "memory_MB": 512}},
			"unauthorized", "erin")
	})

	step("SupervisorServices", func(t *testing.T) {
		rpcCall(t, c, rpcNM+"supervisor_services", "create", map[string]any{"spec": map[string]any{"carvel_spec": map[string]any{
			"version_spec": map[string]any{"content": svcB64(svcCarvelYAML("rpc-demo.example.com", "1.0.0"))}}}})
		svc := rpcCall(t, c, rpcNM+"supervisor_services", "get", map[string]any{"supervisor_service": "rpc-demo.example.com"}).(map[string]any)
		if svc["state"] != "ACTIVATED" {
			t.Fatalf("rpc-demo: %v", svc)
		}
		versions := rpcCall(t, c, rpcNM+"supervisor_services.versions", "list", map[string]any{"supervisor_service": "rpc-demo.example.com"}).([]any)
		if len(versions) != 1 {
			t.Fatalf("versions: %v", versions)
		}
	})

	step("TemplatesAndSelfService", func(t *testing.T) {
		rpcCall(t, c, rpcNS+"namespace_templates", "create", map[string]any{"cluster": clusterA, "spec": map[string]any{
			"template": "rpc-sandbox", "resource_spec": map[string]any{"cpu_limit": 2000}, "storage_specs": []any{map[string]any{"policy": policyGold}},
			"permissions": []any{map[string]any{"subject_type": "USER", "subject": "erin", "domain": "vsphere.local"}}}})
		tpl := rpcCall(t, c, rpcNS+"namespace_templates", "get", map[string]any{"cluster": clusterA, "template": "rpc-sandbox"}).(map[string]any)
		if tpl["template"] != "rpc-sandbox" {
			t.Fatalf("template: %v", tpl)
		}
		rpcCall(t, c, rpcNS+"namespace_self_service", "activate", map[string]any{"cluster": clusterA})
		env.Settle(10 * time.Second)
		ss := rpcCall(t, c, rpcNS+"namespace_self_service", "get", map[string]any{"cluster": clusterA}).(map[string]any)
		if ss["status"] != "RUNNING" {
			t.Fatalf("self-service: %v", ss)
		}
	})

	step("IdentityProviderWithAMap", func(t *testing.T) {
		sup := supervisorIDNamed(t, env, env.AdminToken(), "cluster-a")
		id := rpcCall(t, c, rpcNM+"supervisors.identity.providers", "create", map[string]any{"supervisor": sup, "spec": oktaProvider(testCAPEM(t))}).(string)
		got := rpcCall(t, c, rpcNM+"supervisors.identity.providers", "get", map[string]any{"supervisor": sup, "provider": id}).(map[string]any)
		params, _ := got["additional_authorize_parameters"].(map[string]any)
		if params["orgLink"] != "/csp/gateway/am/api/orgs/org-1" {
			t.Fatalf("the map did not round-trip: %v", got)
		}
	})

	step("UpgradeMultipleTakesAMap", func(t *testing.T) {
		out := rpcCall(t, c, rpcNM+"software.clusters", "upgrade_multiple", map[string]any{"specs": map[string]any{
			clusterA: map[string]any{"desired_version": ver1_28_8}}}).(map[string]any)
		res, _ := out[clusterA].(map[string]any)
		if res["res"] != "STARTED" {
			t.Fatalf("upgrade_multiple: %v", out)
		}
	})

	step("TypedErrors", func(t *testing.T) {
		rpcExpectError(t, c, rpcNS+"instances", "get", map[string]any{"namespace": "no-such-ns"}, "not_found", "no-such-ns")
		rpcExpectError(t, c, rpcNS+"instances", "create", map[string]any{"spec": map[string]any{"cluster": clusterA, "namespace": "Bad_Name"}},
			"invalid_argument", "Bad_Name")
		rpcExpectError(t, c, rpcNM+"clusters", "disable", map[string]any{"cluster": "domain-c404"}, "not_found", "domain-c404")
	})

	step("Logout", func(t *testing.T) {
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		stale := env.JSONRPC()
		stale.UseSession("not-a-session")
		rpcExpectError(t, stale, rpcNS+"instances", "list", nil, "unauthenticated")
	})
}

// TestJSONRPCWire holds the endpoint to what the official runtime sends and accepts (reference
// §9.1, §10), with raw bodies: the envelope, protocol errors with their codes, vAPI errors as results,
// HTTP 200 throughout, and no redirect.
func TestJSONRPCWire(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	ctx := context.Background()
	c := env.JSONRPC()
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		r := env.Do("POST", path, "", body)
		var out map[string]any
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("POST %s %s: %d %s", path, body, r.Status, r.Body)
		}
		return r.Status, out
	}
	// The official SDK's login, byte for byte as the reference records it.
	status, out := post("/api", `{"jsonrpc":"2.0","method":"invoke","params":{"serviceId":"com.vmware.cis.session","operationId":"create","input":{"STRUCTURE":{"operation-input":{}}},"ctx":{"appCtx":{"opId":"7"},"securityCtx":{"schemeId":"com.vmware.vapi.std.security.user_pass","userName":"`+servertest.Admin+`","password":"`+servertest.AdminPassword+`"}}},"id":"0"}`)
	secret, _ := out["result"].(map[string]any)["output"].(map[string]any)["SECRET"].(string)
	if status != 200 || out["jsonrpc"] != "2.0" || out["id"] != "0" || secret == "" {
		t.Fatalf("session create: %d %v", status, out)
	}
	// An unset optional input arrives as {"OPTIONAL": null}, a structure under its canonical name.
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 92)
	if r := env.Do("POST", nsInstances, admin, map[string]any{"cluster": clusterA, "namespace": "wire-ns"}); r.Status != 204 {
		t.Fatalf("creating wire-ns: %d %s", r.Status, r.Body)
	}
	env.AddUser("bob", "Bob-pw-1!", "")
	status, out = post("/api", `{"jsonrpc":"2.0","method":"invoke","params":{"serviceId":"com.vmware.vcenter.namespaces.access","operationId":"create","input":{"STRUCTURE":{"operation-input":{"namespace":"wire-ns","domain":"vsphere.local","subject":"bob","type":"USER","spec":{"STRUCTURE":{"com.vmware.vcenter.namespaces.access.create_spec":{"role":"EDIT","identity_provider":{"OPTIONAL":null}}}}}}},"ctx":{"appCtx":{"opId":"8"},"securityCtx":{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":"`+secret+`"}}},"id":"1"}`)
	if res, ok := out["result"].(map[string]any); status != 200 || !ok || len(res) != 1 || !hasNull(res, "output") {
		t.Fatalf("access create: %d %v", status, out)
	}
	// A session is one session whichever protocol made it.
	restMade := env.JSONRPC()
	restMade.UseSession(admin)
	rpcCall(t, restMade, rpcNS+"instances", "list", nil)
	if r := env.Do("GET", nsInstances, secret, nil); r.Status != 200 {
		t.Fatalf("the JSON-RPC session on REST: %d %s", r.Status, r.Body)
	}
	c.UseSession(secret)
	if got := rpcCall(t, c, rpcNS+"access", "get", map[string]any{"namespace": "wire-ns", "domain": "vsphere.local", "subject": "bob", "type": "USER"}).(map[string]any); got["role"] != "EDIT" {
		t.Fatalf("bob's access: %v", got)
	}

	// Protocol errors: the JSON-RPC error member with its code; id null when the request was not read.
	// A member of the wrong type is named in the message (field).
	for _, tc := range []struct {
		name, body string
		code       float64
		id         any
		field      string
	}{
		{"ParseError", `{"jsonrpc":`, -32700, nil, ""},
		{"NotARequest", `{"method":"invoke","params":{},"id":"3"}`, -32600, nil, ""},
		{"UnknownMethod", `{"jsonrpc":"2.0","method":"call","params":{},"id":"4"}`, -32601, "4", ""},
		{"NoServiceID", `{"jsonrpc":"2.0","method":"invoke","params":{"operationId":"list"},"id":"5"}`, -32602, "5", ""},
		{"TrailingData", `{"jsonrpc":"2.0","method":"invoke","params":{},"id":"6"} {}`, -32700, nil, ""},
		{"MethodNotAString", `{"jsonrpc":"2.0","method":7,"params":{},"id":"7"}`, -32600, nil, "method"},
		{"ParamsNotAnObject", `{"jsonrpc":"2.0","method":"invoke","params":[],"id":"8"}`, -32602, "8", "params"},
		{"SessionIDNotAString", `{"jsonrpc":"2.0","method":"invoke","id":"9","params":{"serviceId":"com.vmware.cis.session","operationId":"get",` +
			`"input":{"STRUCTURE":{"operation-input":{}}},"ctx":{"securityCtx":{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":9}}}}`, -32602, "9",
			"params.ctx.securityCtx.sessionId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post("/api", tc.body)
			e, _ := out["error"].(map[string]any)
			message, _ := e["message"].(string)
			if status != 200 || e["code"] != tc.code || out["id"] != tc.id || message == "" {
				t.Fatalf("%s: %d %v", tc.body, status, out)
			}
			if !strings.Contains(message, tc.field) {
				t.Fatalf("the message does not name %s: %q", tc.field, message)
			}
		})
	}

	// vAPI errors are results, typed by their error structure.
	invoke := func(service, op, input, sc string) map[string]any {
		t.Helper()
		_, out := post("/api/", `{"jsonrpc":"2.0","method":"invoke","id":"9","params":{"serviceId":"`+service+`","operationId":"`+op+`","input":`+input+`,"ctx":{"securityCtx":`+sc+`}}}`)
		res, _ := out["result"].(map[string]any)
		errBody, _ := res["error"].(map[string]any)["ERROR"].(map[string]any)
		if len(errBody) != 1 {
			t.Fatalf("%s.%s: want a vAPI error, got %v", service, op, out)
		}
		return errBody
	}
	session := `{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":"` + secret + `"}`
	noInput := `{"STRUCTURE":{"operation-input":{}}}`
	for _, tc := range []struct {
		name, service, op, input, sc, errStruct, names string
	}{
		{"UnknownOperation", rpcNS + "instances", "explode", noInput, session, "operation_not_found", "explode"},
		{"UnknownService", "com.vmware.vcenter.nothing", "list", noInput, session, "operation_not_found", "com.vmware.vcenter.nothing"},
		{"NoSecurityContext", rpcNS + "instances", "list", noInput, `{}`, "unauthenticated", ""},
		{"WrongPassword", rpcNS + "instances", "list", noInput, `{"schemeId":"com.vmware.vapi.std.security.user_pass","userName":"` + servertest.Admin + `","password":"wrong"}`, "unauthenticated", ""},
		{"UnknownSession", rpcNS + "instances", "list", noInput, `{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":"nope"}`, "unauthenticated", ""},
		{"UnknownScheme", rpcNS + "instances", "list", noInput, `{"schemeId":"com.vmware.vapi.std.security.saml_hok_token"}`, "unauthenticated", "saml_hok_token"},
		{"InputNotAStructure", rpcNS + "instances", "list", `[]`, session, "invalid_request", "operation-input"},
		{"MissingInput", rpcNS + "instances", "get", noInput, session, "invalid_argument", "namespace"},
		{"UnknownInput", rpcNS + "instances", "list", `{"STRUCTURE":{"operation-input":{"colour":"red"}}}`, session, "invalid_argument", "colour"},
		{"WrongType", rpcNS + "instances", "get", `{"STRUCTURE":{"operation-input":{"namespace":7}}}`, session, "invalid_argument", "namespace"},
		{"UnknownField", rpcNS + "access", "create", `{"STRUCTURE":{"operation-input":{"namespace":"wire-ns","domain":"vsphere.local","subject":"bob","type":"USER","spec":{"STRUCTURE":{"x":{"role":"EDIT","colour":"red"}}}}}}`, session, "invalid_argument", "spec.colour"},
		{"NotFound", rpcNS + "instances", "get", `{"STRUCTURE":{"operation-input":{"namespace":"ghost"}}}`, session, "not_found", "ghost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errBody := invoke(tc.service, tc.op, tc.input, tc.sc)
			fields, ok := errBody["com.vmware.vapi.std.errors."+tc.errStruct].(map[string]any)
			if !ok {
				t.Fatalf("want the error structure %s, got %v", tc.errStruct, errBody)
			}
			msgs, _ := fields["messages"].([]any)
			raw, _ := json.Marshal(msgs)
			if len(msgs) == 0 || !strings.Contains(string(raw), "com.vmware.vapi.std.localizable_message") || !strings.Contains(string(raw), tc.names) {
				t.Fatalf("messages %s do not name %q as localizable messages", raw, tc.names)
			}
			if et, _ := fields["error_type"].(map[string]any); et["OPTIONAL"] != strings.ToUpper(tc.errStruct) {
				t.Fatalf("error_type: %v", fields["error_type"])
			}
		})
	}

	// Metrics count invokes by operation and error type; made-up operation names are not labels.
	metrics := string(env.Do("GET", "/metrics", secret, nil).Body)
	if strings.Contains(metrics, "explode") || strings.Contains(metrics, "com.vmware.vcenter.nothing") ||
		!strings.Contains(metrics, `wcpd_jsonrpc_requests_total{error="OPERATION_NOT_FOUND",operation="jsonrpc"} 2`) ||
		!strings.Contains(metrics, `wcpd_jsonrpc_requests_total{error="NOT_FOUND",operation="com.vmware.vcenter.namespaces.instances.get"} 1`) {
		t.Fatalf("JSON-RPC metrics:\n%s", grepLines(metrics, "wcpd_jsonrpc"))
	}

	// /api answers JSON-RPC on POST only, and never with a redirect.
	if r := env.Do("GET", "/api", "", nil); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
		t.Fatalf("GET /api: %d %s", r.Status, r.Body)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoke(ctx, rpcSessions, "get", nil); err == nil {
		t.Fatal("the session still works after logout")
	}
}

// hasNull reports whether obj has key with the value null.
func hasNull(obj map[string]any, key string) bool {
	v, ok := obj[key]
	return ok && v == nil
}

// grepLines keeps the lines of text that contain substr.
func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
