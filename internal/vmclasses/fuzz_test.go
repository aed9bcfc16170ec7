package vmclasses

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzConfigSpec: the config spec codec and its checks never panic, and a spec they accept decodes
// again from what is stored.
func FuzzConfigSpec(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seed004-*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"_typeName": "VirtualMachineConfigSpec", "deviceChange": [null]}`,
		`{"_typeName": "VirtualMachineConfigSpec", "extraConfig": [null, {"_typeName": "OptionValue", "key": "a", "value": {"_typeName": "string", "_value": "b"}}]}`,
		`{"_typeName": "VirtualMachineConfigSpec", "deviceChange": [{"_typeName": "VirtualDeviceConfigSpec", "operation": "add", "device": {"_typeName": "VirtualPCIPassthrough", "key": 0, "backing": {"_typeName": "VirtualPCIPassthroughDynamicBackingInfo", "allowedDevice": [null]}}}]}`,
		`{"_typeName": "VirtualMachineConfigSpec", "deviceChange": [{"_typeName": "VirtualDeviceConfigSpec", "operation": "remove"}]}`,
		`{"_typeName": "VirtualMachineConfigSpec", "numCPUs": -1, "memoryMB": 1024}`,
		`{"_typeName": "Nope"}`, `[]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, canonical, err := decodeConfigSpec(data)
		if err != nil {
			return
		}
		_ = checkConfigSpec(spec)
		_ = configSpecPassthrough(spec)
		if _, _, err := decodeConfigSpec(canonical); err != nil {
			t.Fatalf("accepted %s but not its stored form %s: %v", data, canonical, err)
		}
	})
}
