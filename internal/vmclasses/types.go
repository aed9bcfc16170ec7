package vmclasses

import "encoding/json"

// The wire types of namespace_management.VirtualMachineClasses, with the vAPI's field names
// (memory_MB and dynamic_direct_path_IO_devices keep their capitals).

// VGPUDevice is a vGPU profile attached to the VMs of a class.
type VGPUDevice struct {
	ProfileName string `json:"profile_name"`
}

// DynamicDirectPathIODevice is a PCI device, picked by vendor and device id, passed through to the
// VMs of a class.
type DynamicDirectPathIODevice struct {
	VendorID    int64  `json:"vendor_id"`
	DeviceID    int64  `json:"device_id"`
	CustomLabel string `json:"custom_label,omitempty"`
}

// VirtualDevices are the devices of a class (deprecated by vSphere 8.0U2 in favour of the device
// changes of config_spec, and still served). govmomi's client spells the second list
// direct_path_io_devices; that spelling is accepted on input.
type VirtualDevices struct {
	VGPUDevices                []VGPUDevice                `json:"vgpu_devices,omitempty"`
	DynamicDirectPathIODevices []DynamicDirectPathIODevice `json:"dynamic_direct_path_IO_devices,omitempty" vapi:"alias=direct_path_io_devices"`
}

func (d VirtualDevices) empty() bool {
	return len(d.VGPUDevices) == 0 && len(d.DynamicDirectPathIODevices) == 0
}

// passthrough reports whether the class passes PCI devices through, which needs all of the VM's
// memory reserved.
func (d VirtualDevices) passthrough() bool { return !d.empty() }

// InstanceStorage is the instance storage of the VMs of a class.
type InstanceStorage struct {
	Policy  string                  `json:"policy"`
	Volumes []InstanceStorageVolume `json:"volumes"`
}

// InstanceStorageVolume is one instance storage volume, sized in MiB.
type InstanceStorageVolume struct {
	Size int64 `json:"size"`
}

// CreateSpec is the body of create.
type CreateSpec struct {
	ID                string           `json:"id"`
	CPUCount          int64            `json:"cpu_count"`
	CPUReservation    *int64           `json:"cpu_reservation"`
	MemoryMB          int64            `json:"memory_MB" vapi:"alias=memory_mb"`
	MemoryReservation *int64           `json:"memory_reservation"`
	Description       *string          `json:"description"`
	Devices           *VirtualDevices  `json:"devices"`
	InstanceStorage   *InstanceStorage `json:"instance_storage"`
	ConfigSpec        *ConfigSpec      `json:"config_spec"`
}

// devicesPatch is VirtualDevices in an update: a list that is given replaces the class's list, a
// list left out keeps it. govmomi sends "devices": {} with every update, which therefore changes
// nothing.
type devicesPatch struct {
	VGPUDevices                *[]VGPUDevice                `json:"vgpu_devices"`
	DynamicDirectPathIODevices *[]DynamicDirectPathIODevice `json:"dynamic_direct_path_IO_devices" vapi:"alias=direct_path_io_devices"`
}

// UpdateSpec is the body of update: every field is optional and a field left out keeps its value.
// ID is not part of vCenter's UpdateSpec; govc sends it, so it is accepted when it names the class
// being updated.
type UpdateSpec struct {
	ID                *string          `json:"id"`
	CPUCount          *int64           `json:"cpu_count"`
	CPUReservation    *int64           `json:"cpu_reservation"`
	MemoryMB          *int64           `json:"memory_MB" vapi:"alias=memory_mb"`
	MemoryReservation *int64           `json:"memory_reservation"`
	Description       *string          `json:"description"`
	Devices           *devicesPatch    `json:"devices"`
	InstanceStorage   *InstanceStorage `json:"instance_storage"`
	ConfigSpec        *ConfigSpec      `json:"config_spec"`
}

// Config statuses of a VM class.
const (
	StatusReady    = "READY"
	StatusRemoving = "REMOVING"
)

// LocalizableMessage is vapi.std.LocalizableMessage.
type LocalizableMessage struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
}

// Message is a message about a class.
type Message struct {
	Severity string              `json:"severity"` // INFO, WARNING, ERROR
	Details  *LocalizableMessage `json:"details,omitempty"`
}

// Info is what get and list answer.
type Info struct {
	ID                string           `json:"id"`
	CPUCount          int64            `json:"cpu_count"`
	CPUReservation    *int64           `json:"cpu_reservation,omitempty"`
	MemoryMB          int64            `json:"memory_MB"`
	MemoryReservation *int64           `json:"memory_reservation,omitempty"`
	Description       string           `json:"description"`
	Namespaces        []string         `json:"namespaces"`
	VMs               []string         `json:"vms"`
	ConfigStatus      string           `json:"config_status"`
	Messages          []Message        `json:"messages"`
	Devices           *VirtualDevices  `json:"devices,omitempty"`
	InstanceStorage   *InstanceStorage `json:"instance_storage,omitempty"`
	ConfigSpec        json.RawMessage  `json:"config_spec,omitempty"`
}

// class is the stored record of a VM class, keyed by its id.
type class struct {
	ID                string           `json:"id"`
	CPUCount          int64            `json:"cpu_count"`
	CPUReservation    *int64           `json:"cpu_reservation,omitempty"`
	MemoryMB          int64            `json:"memory_mb"`
	MemoryReservation *int64           `json:"memory_reservation,omitempty"`
	Description       string           `json:"description,omitempty"`
	Devices           VirtualDevices   `json:"devices"`
	InstanceStorage   *InstanceStorage `json:"instance_storage,omitempty"`
	// ConfigSpec is the VirtualMachineConfigSpec as govmomi's encoder writes it.
	ConfigSpec json.RawMessage `json:"config_spec,omitempty"`
	// Removing is set by delete while VMs still use the class; the class goes once none does.
	Removing bool `json:"removing,omitempty"`
}

func (c class) status() string {
	if c.Removing {
		return StatusRemoving
	}
	return StatusReady
}
