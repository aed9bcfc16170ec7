package vmclasses

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
)

// configSpecType is the only vSphere type a class's config_spec may hold.
const configSpecType = "VirtualMachineConfigSpec"

// ConfigSpec is a class's config_spec: a vSphere VirtualMachineConfigSpec in the JSON of the
// vSphere API, whose objects name their type in "_typeName" and whose wrapped primitives carry
// "_value". It is decoded and encoded only by govmomi's discriminator-aware JSON codec
// (vim25/types.NewJSONDecoder and NewJSONEncoder).
type ConfigSpec struct {
	spec *types.VirtualMachineConfigSpec
	// canonical is the spec as govmomi's encoder writes it: what is stored and answered.
	canonical stdjson.RawMessage
}

// UnmarshalJSON decodes a VirtualMachineConfigSpec. Every property given must survive govmomi's
// decode and re-encode: govmomi's decoder silently drops properties the type does not have, and a
// misspelt property would otherwise be lost without a word.
func (c *ConfigSpec) UnmarshalJSON(b []byte) error {
	spec, canonical, err := decodeConfigSpec(b)
	if err != nil {
		return err
	}
	c.spec, c.canonical = spec, canonical
	return nil
}

func decodeConfigSpec(b []byte) (*types.VirtualMachineConfigSpec, stdjson.RawMessage, error) {
	var given any
	dec := stdjson.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&given); err != nil {
		return nil, nil, fmt.Errorf("not well-formed JSON: %v", err)
	}
	if _, ok := given.(map[string]any); !ok {
		return nil, nil, errors.New("expected an object holding a " + configSpecType)
	}
	if p := vapi.NullElement(given, ""); p != "" {
		return nil, nil, fmt.Errorf("%s is null: a list in a %s may not hold null", p, configSpecType)
	}
	spec, err := inventory.DecodeConfigSpec(b)
	if err != nil {
		return nil, nil, fmt.Errorf("not a %s: %s", configSpecType, strings.TrimPrefix(err.Error(), "json: "))
	}
	canonical, err := encodeConfigSpec(spec)
	if err != nil {
		return nil, nil, err
	}
	var encoded any
	ed := stdjson.NewDecoder(bytes.NewReader(canonical))
	ed.UseNumber()
	if err := ed.Decode(&encoded); err != nil {
		return nil, nil, err
	}
	if err := survives(given, encoded, ""); err != nil {
		return nil, nil, err
	}
	return spec, canonical, nil
}

// encodeConfigSpec writes spec with govmomi's encoder: every object names its type.
func encodeConfigSpec(spec *types.VirtualMachineConfigSpec) (stdjson.RawMessage, error) {
	var buf bytes.Buffer
	if err := types.NewJSONEncoder(&buf).Encode(spec); err != nil {
		return nil, fmt.Errorf("encoding the config spec: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// survives checks that every property of the given JSON is present in govmomi's re-encoding of it
// (a property left out of the encoding holds its type's zero value, so a given zero may vanish) and
// that every _typeName given is the type govmomi decoded there.
func survives(given, encoded any, path string) error {
	switch g := given.(type) {
	case map[string]any:
		e, _ := encoded.(map[string]any)
		typeName, _ := e["_typeName"].(string)
		keys := make([]string, 0, len(g))
		for k := range g {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := joinPath(path, k)
			if k == "_typeName" {
				if name, _ := g[k].(string); name != typeName {
					return fmt.Errorf("%s is %q where a %s is expected", p, name, typeName)
				}
				continue
			}
			ev, ok := e[k]
			if !ok {
				if isZero(g[k]) {
					continue
				}
				if typeName == "" {
					return fmt.Errorf("%s cannot be decoded", p)
				}
				return fmt.Errorf("%s is not a property of %s", p, typeName)
			}
			if err := survives(g[k], ev, p); err != nil {
				return err
			}
		}
	case []any:
		e, _ := encoded.([]any)
		if len(e) != len(g) {
			return fmt.Errorf("%s cannot be decoded", path)
		}
		for i := range g {
			if err := survives(g[i], e[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case stdjson.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// configSpecProblem is a property of a decoded config spec that a VM class cannot carry.
type configSpecProblem struct {
	path   string // below config_spec, e.g. deviceChange[0].operation
	value  any
	reason string
}

// checkConfigSpec lists what a class cannot carry in spec: device changes other than add, devices
// missing from an add, badly formed vGPU profiles and PCI ids, negative sizes.
func checkConfigSpec(spec *types.VirtualMachineConfigSpec) []configSpecProblem {
	var out []configSpecProblem
	add := func(path string, value any, reason string) {
		out = append(out, configSpecProblem{path, value, reason})
	}
	if spec.NumCPUs < 0 {
		add("numCPUs", spec.NumCPUs, "must be positive")
	}
	if spec.MemoryMB < 0 {
		add("memoryMB", spec.MemoryMB, "must be positive")
	}
	for i, base := range spec.DeviceChange {
		change := base.GetVirtualDeviceConfigSpec()
		p := fmt.Sprintf("deviceChange[%d]", i)
		if change.Operation != types.VirtualDeviceConfigSpecOperationAdd {
			op := string(change.Operation)
			if op == "" {
				op = "(none)"
			}
			add(p+".operation", op, "a VM class may only add devices")
		}
		if change.Device == nil {
			add(p+".device", "(none)", "a device change must hold a device")
			continue
		}
		pci, ok := change.Device.(*types.VirtualPCIPassthrough)
		if !ok {
			continue
		}
		switch backing := pci.Backing.(type) {
		case *types.VirtualPCIPassthroughVmiopBackingInfo:
			if reason := vgpuProfileProblem(backing.Vgpu); reason != "" {
				add(p+".device.backing.vgpu", backing.Vgpu, reason)
			}
		case *types.VirtualPCIPassthroughDynamicBackingInfo:
			if len(backing.AllowedDevice) == 0 {
				add(p+".device.backing.allowedDevice", "[]", "a dynamic DirectPath I/O device must allow at least one vendor and device id")
			}
			for j, d := range backing.AllowedDevice {
				q := fmt.Sprintf("%s.device.backing.allowedDevice[%d]", p, j)
				if reason := pciVendorIDProblem(int64(d.VendorId)); reason != "" {
					add(q+".vendorId", d.VendorId, reason)
				}
				if reason := pciDeviceIDProblem(int64(d.DeviceId)); reason != "" {
					add(q+".deviceId", d.DeviceId, reason)
				}
			}
		}
	}
	return out
}

// configSpecPassthrough reports whether spec adds PCI passthrough devices (vGPU or dynamic
// DirectPath I/O).
func configSpecPassthrough(spec *types.VirtualMachineConfigSpec) bool {
	for _, base := range spec.DeviceChange {
		if _, ok := base.GetVirtualDeviceConfigSpec().Device.(*types.VirtualPCIPassthrough); ok {
			return true
		}
	}
	return false
}

// withSize returns the stored config spec with numCPUs and memoryMB brought in line with a class's
// new size: a property the spec sets follows the class, one it leaves out stays out.
func withSize(stored stdjson.RawMessage, cpus, memoryMB int64) (stdjson.RawMessage, error) {
	spec, _, err := decodeConfigSpec(stored)
	if err != nil {
		return nil, fmt.Errorf("decoding the stored config spec: %w", err)
	}
	if spec.NumCPUs != 0 {
		spec.NumCPUs = int32(cpus)
	}
	if spec.MemoryMB != 0 {
		spec.MemoryMB = memoryMB
	}
	return encodeConfigSpec(spec)
}
