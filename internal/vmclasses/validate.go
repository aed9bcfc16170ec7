package vmclasses

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
)

// dnsLabel is RFC 1123's label: lower-case letters, digits and '-', not at either end.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func idProblem(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > 63:
		return fmt.Sprintf("must be at most 63 characters, it has %d", len(id))
	case !dnsLabel.MatchString(id):
		return "must be a DNS label (RFC 1123): lower-case letters a-z, digits 0-9 and '-', starting and ending with a letter or digit"
	}
	return ""
}

// vgpuProfile is the shape of vGPU profile names such as grid_t4-4q or nvidia_a100-40c.
var vgpuProfile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

const maxVGPUProfileLength = 128

func vgpuProfileProblem(name string) string {
	switch {
	case name == "":
		return "a vGPU profile name must not be empty"
	case len(name) > maxVGPUProfileLength:
		return fmt.Sprintf("a vGPU profile name has at most %d characters", maxVGPUProfileLength)
	case !vgpuProfile.MatchString(name):
		return "a vGPU profile name holds letters, digits, '_', '.' and '-' and starts with a letter or digit (e.g. grid_t4-4q)"
	}
	return ""
}

// PCI vendor and device ids are 16-bit. vSphere carries them as signed shorts (0x10DE is 4318,
// 0x8086 is -32634), so both the unsigned and the signed form are accepted.
const (
	minPCIID = -1 << 15
	maxPCIID = 1<<16 - 1
)

func pciIDProblem(v int64) string {
	if v < minPCIID || v > maxPCIID {
		return fmt.Sprintf("a PCI id is 16 bits: %d to %d (or as vSphere's signed short, %d to -1)", 0, maxPCIID, minPCIID)
	}
	return ""
}

func pciVendorIDProblem(v int64) string {
	if r := pciIDProblem(v); r != "" {
		return r
	}
	if v == maxPCIID || v == -1 {
		return "0xFFFF is PCI's value for no device, not a vendor"
	}
	return ""
}

func pciDeviceIDProblem(v int64) string { return pciIDProblem(v) }

// hostLimits is the largest VM a host of the inventory can hold.
type hostLimits struct {
	cpus       int64
	cpuHost    string
	memoryMB   int64
	memoryHost string
}

func (f *Family) hostLimits(ctx context.Context) (hostLimits, error) {
	clusters, err := f.deps.Inventory.Clusters(ctx)
	if err != nil {
		return hostLimits{}, fmt.Errorf("reading the inventory's hosts: %w", err)
	}
	var l hostLimits
	for _, c := range clusters {
		for _, h := range c.Hosts {
			if int64(h.CPUCores) > l.cpus {
				l.cpus, l.cpuHost = int64(h.CPUCores), h.Name
			}
			if mb := h.MemoryBytes >> 20; mb > l.memoryMB {
				l.memoryMB, l.memoryHost = mb, h.Name
			}
		}
	}
	return l, nil
}

const noHost = "the inventory has no host to run it"

func (l hostLimits) checkCPUs(errs *vapi.FieldErrors, path string, v int64) {
	switch {
	case v <= 0:
		errs.Add(path, v, "must be positive")
	case l.cpuHost == "":
		errs.Add(path, v, noHost)
	case v > l.cpus:
		errs.Add(path, v, fmt.Sprintf("no host can run that many vCPUs: the largest, %s, has %d cores", l.cpuHost, l.cpus))
	}
}

func (l hostLimits) checkMemory(errs *vapi.FieldErrors, path string, v int64) {
	switch {
	case v <= 0:
		errs.Add(path, v, "must be positive")
	case l.memoryHost == "":
		errs.Add(path, v, noHost)
	case v > l.memoryMB:
		errs.Add(path, v, fmt.Sprintf("no host has that much memory: the largest, %s, has %d MB", l.memoryHost, l.memoryMB))
	}
}

func checkPercent(errs *vapi.FieldErrors, path string, v *int64) {
	if v != nil && (*v < 0 || *v > 100) {
		errs.Add(path, *v, "a reservation is a percentage from 0 to 100")
	}
}

func checkVGPUDevices(errs *vapi.FieldErrors, path string, devs []VGPUDevice) {
	for i, d := range devs {
		if r := vgpuProfileProblem(d.ProfileName); r != "" {
			errs.Add(fmt.Sprintf("%s[%d].profile_name", path, i), d.ProfileName, r)
		}
	}
}

func checkDirectPathIODevices(errs *vapi.FieldErrors, path string, devs []DynamicDirectPathIODevice) {
	for i, d := range devs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if r := pciVendorIDProblem(d.VendorID); r != "" {
			errs.Add(p+".vendor_id", d.VendorID, r)
		}
		if r := pciDeviceIDProblem(d.DeviceID); r != "" {
			errs.Add(p+".device_id", d.DeviceID, r)
		}
	}
}

func checkDevices(errs *vapi.FieldErrors, path string, d VirtualDevices) {
	checkVGPUDevices(errs, path+".vgpu_devices", d.VGPUDevices)
	checkDirectPathIODevices(errs, path+".dynamic_direct_path_IO_devices", d.DynamicDirectPathIODevices)
}

// checkPassthroughReservation applies vCenter's rule for the devices field: a class with vGPU or
// dynamic DirectPath I/O devices reserves all of its memory. (Devices added through config_spec
// are not held to it: memory_reservation is deprecated with it, and govc cannot set it.)
func checkPassthroughReservation(errs *vapi.FieldErrors, path string, c class) {
	if !c.Devices.passthrough() {
		return
	}
	if c.MemoryReservation == nil {
		errs.Add(path, "(none)", "must be 100 for a class with vGPU or dynamic DirectPath I/O devices")
	} else if *c.MemoryReservation != 100 {
		errs.Add(path, *c.MemoryReservation, "must be 100 for a class with vGPU or dynamic DirectPath I/O devices")
	}
}

func (f *Family) checkInstanceStorage(ctx context.Context, errs *vapi.FieldErrors, path string, s *InstanceStorage) error {
	if _, err := f.deps.Inventory.StoragePolicy(ctx, s.Policy); err != nil {
		if !errors.Is(err, inventory.ErrNotFound) {
			return fmt.Errorf("looking up storage policy %q: %w", s.Policy, err)
		}
		errs.Add(path+".policy", s.Policy, "no storage policy has this id")
	}
	if len(s.Volumes) == 0 {
		errs.Add(path+".volumes", "[]", "instance storage needs at least one volume")
	}
	for i, v := range s.Volumes {
		if v.Size <= 0 {
			errs.Add(fmt.Sprintf("%s.volumes[%d].size", path, i), v.Size, "a volume's size in MiB must be positive")
		}
	}
	return nil
}

// checkConfigSpecFor adds the problems of a decoded config spec, at their paths below path.
func checkConfigSpecFor(errs *vapi.FieldErrors, path string, cs *ConfigSpec) {
	for _, p := range checkConfigSpec(cs.spec) {
		errs.Add(path+"."+p.path, p.value, p.reason)
	}
}
