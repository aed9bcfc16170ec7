package test

import (
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestNullListElementsAreRefused: a null element in any list of a request — in a VM class's
// config_spec (decoded by govmomi's codec) or in the vCenter API's own types (the strict decoder)
// — is a 400 INVALID_ARGUMENT naming where it is, never a 500 or a stored nil.
func TestNullListElementsAreRefused(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	admin := env.AdminToken()
	enableSupervisor(t, env, admin, clusterA, 71)
	for _, tc := range []struct {
		name, method, path, body, where string
	}{
		{"deviceChange on create", "POST", vmClassesPath,
			`{"id": "null-device", "cpu_count": 2, "memory_MB": 2048, "config_spec": {"_typeName": "VirtualMachineConfigSpec", "deviceChange": [null]}}`, "deviceChange[0]"},
		{"allowedDevice on create", "POST", vmClassesPath,
			`{"id": "null-allowed", "cpu_count": 2, "memory_MB": 2048, "config_spec": {"_typeName": "VirtualMachineConfigSpec", "deviceChange": [{"_typeName": "VirtualDeviceConfigSpec", "operation": "add", "device": {"_typeName": "VirtualPCIPassthrough", "key": 0, "backing": {"_typeName": "VirtualPCIPassthroughDynamicBackingInfo", "allowedDevice": [null]}}}]}}`, "allowedDevice[0]"},
		{"extraConfig on create", "POST", vmClassesPath,
			`{"id": "null-extra", "cpu_count": 2, "memory_MB": 2048, "config_spec": {"_typeName": "VirtualMachineConfigSpec", "extraConfig": [null]}}`, "extraConfig[0]"},
		{"deviceChange on update", "PATCH", vmClassesPath + "/best-effort-small",
			`{"config_spec": {"_typeName": "VirtualMachineConfigSpec", "deviceChange": [null]}}`, "deviceChange[0]"},
		{"a namespace's storage_specs", "POST", "/api/vcenter/namespaces/instances",
			`{"cluster": "` + clusterA + `", "namespace": "null-storage", "storage_specs": [null]}`, "storage_specs[0]"},
		{"an enable spec's DNS servers", "POST", "/api/vcenter/namespace-management/clusters/" + clusterB + "?action=enable",
			`{"master_DNS": [null]}`, "master_DNS[0]"},
	} {
		r := env.Do(tc.method, tc.path, admin, tc.body)
		if r.Status != 400 || r.ErrorType() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), tc.where) {
			t.Errorf("%s: %d %s, want 400 INVALID_ARGUMENT naming %s", tc.name, r.Status, r.Body, tc.where)
		}
	}
	if r := env.Do("GET", vmClassesPath+"/null-extra", admin, nil); r.Status != 404 {
		t.Errorf("a refused class was stored: %d %s", r.Status, r.Body)
	}
}
