package vmclasses

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The three VirtualMachineConfigSpec examples of seed 004, verbatim, shared with the end-to-end tests.
var (
	seedExtraConfig         = readSeed("seed004-extraconfig.json")
	seedVGPU                = readSeed("seed004-vgpu.json")
	seedDynamicDirectPathIO = readSeed("seed004-dynamic-directpath-io.json")
)

func readSeed(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

func TestSeedConfigSpecsRoundTrip(t *testing.T) {
	for name, seed := range map[string]string{"extraConfig": seedExtraConfig, "vGPU": seedVGPU, "dynamic DirectPath I/O": seedDynamicDirectPathIO} {
		var cs ConfigSpec
		if err := cs.UnmarshalJSON([]byte(seed)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := jsonValue(t, cs.canonical), jsonValue(t, []byte(seed)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: re-encoded as\n%s\nwhich means something else than the seed", name, cs.canonical)
		}
		if problems := checkConfigSpec(cs.spec); len(problems) != 0 {
			t.Errorf("%s: a seed example is refused: %+v", name, problems)
		}
		// Decoding the canonical form again gives the same bytes.
		var again ConfigSpec
		if err := again.UnmarshalJSON(cs.canonical); err != nil || string(again.canonical) != string(cs.canonical) {
			t.Errorf("%s: canonical form is not stable: %v\n%s\n%s", name, err, cs.canonical, again.canonical)
		}
	}
}

func TestConfigSpecRefusesWhatItCannotCarry(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{`[1]`, "expected an object"},
		{`{"numCPU": 2}`, "numCPU is not a property of VirtualMachineConfigSpec"},
		{`{"_typeName": "VirtualMachineConfigInfo", "numCPUs": 2}`, `_typeName is "VirtualMachineConfigInfo" where a VirtualMachineConfigSpec is expected`},
		{`{"numCPUs": "two"}`, "not a VirtualMachineConfigSpec"},
		{`{"deviceChange": [{"operation": "add"}]}`, "not a VirtualMachineConfigSpec"},
		{`{"extraConfig": [{"_typeName": "OptionValue", "key": "k", "value": {"_typeName": "string", "_value": "v"}, "vaule": 1}]}`,
			"extraConfig[0].vaule is not a property of OptionValue"},
		{`{"deviceChange": [{"_typeName": "VirtualDeviceConfigSpec", "operation": "add", "device": {"_typeName": "VirtualPCIPassthrough", "key": 0,
			"backing": {"_typeName": "VirtualPCIPassthroughDynamicBackingInfo", "deviceName": "", "allowedDevice": [{"_typeName": "Nope", "vendorId": 1, "deviceId": 2}]}}}]}`,
			`deviceChange[0].device.backing.allowedDevice[0]._typeName is "Nope" where a VirtualPCIPassthroughAllowedDevice is expected`},
	} {
		var cs ConfigSpec
		err := cs.UnmarshalJSON([]byte(tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.spec, err, tc.want)
		}
	}
	// A property given with its zero value is the same as leaving it out.
	var cs ConfigSpec
	if err := cs.UnmarshalJSON([]byte(`{"numCPUs": 0, "memoryMB": 1024, "name": ""}`)); err != nil {
		t.Fatal(err)
	}
}

func TestConfigSpecProblems(t *testing.T) {
	var cs ConfigSpec
	spec := `{"_typeName": "VirtualMachineConfigSpec", "deviceChange": [
	  {"_typeName": "VirtualDeviceConfigSpec", "operation": "remove", "device": {"_typeName": "VirtualPCIPassthrough", "key": 0,
	    "backing": {"_typeName": "VirtualPCIPassthroughVmiopBackingInfo", "vgpu": "bad profile"}}},
	  {"_typeName": "VirtualDeviceConfigSpec", "operation": "add", "device": {"_typeName": "VirtualPCIPassthrough", "key": 0,
	    "backing": {"_typeName": "VirtualPCIPassthroughDynamicBackingInfo", "deviceName": "", "allowedDevice": [
	      {"_typeName": "VirtualPCIPassthroughAllowedDevice", "vendorId": 65535, "deviceId": 70000}]}}},
	  {"_typeName": "VirtualDeviceConfigSpec", "operation": "add"}]}`
	if err := cs.UnmarshalJSON([]byte(spec)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range checkConfigSpec(cs.spec) {
		got = append(got, p.path)
	}
	want := []string{
		"deviceChange[0].operation",
		"deviceChange[0].device.backing.vgpu",
		"deviceChange[1].device.backing.allowedDevice[0].vendorId",
		"deviceChange[1].device.backing.allowedDevice[0].deviceId",
		"deviceChange[2].device",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems at %q, want %q", got, want)
	}
}

func TestWithSizeFollowsOnlyWhatTheSpecSets(t *testing.T) {
	var cs ConfigSpec
	if err := cs.UnmarshalJSON([]byte(seedExtraConfig)); err != nil {
		t.Fatal(err)
	}
	resized, err := withSize(cs.canonical, 4, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.Unmarshal(resized, &out)
	if out["numCPUs"] != 4.0 || out["memoryMB"] != 2048.0 || len(out["extraConfig"].([]any)) != 2 {
		t.Fatalf("resized: %s", resized)
	}
	if err := cs.UnmarshalJSON([]byte(seedVGPU)); err != nil {
		t.Fatal(err)
	}
	resized, _ = withSize(cs.canonical, 4, 8192)
	if string(resized) != string(cs.canonical) {
		t.Fatalf("a spec without a size got one: %s", resized)
	}
}
