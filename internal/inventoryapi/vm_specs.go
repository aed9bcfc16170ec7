package inventoryapi

// The inputs of vcenter.VM's create, clone, relocate and instant_clone, field for field as the
// reference names them. Every optional field is a pointer (or an omitted list), so the decoder
// tells "unset" from a zero value; enumerations take their values from the interface metadata.

// The enumerations of the inputs.
type (
	// HardwareVersion is vcenter.vm.hardware.Version.
	HardwareVersion string
	// BootType is vcenter.vm.hardware.Boot.Type.
	BootType string
	// BootNetworkProtocol is vcenter.vm.hardware.Boot.NetworkProtocol.
	BootNetworkProtocol string
	// BootDeviceType is vcenter.vm.hardware.boot.Device.Type.
	BootDeviceType string
	// DiskBusType is vcenter.vm.hardware.Disk.HostBusAdapterType.
	DiskBusType string
	// DiskBackingType is vcenter.vm.hardware.Disk.BackingType.
	DiskBackingType string
	// EmulationType is vcenter.vm.hardware.Ethernet.EmulationType.
	EmulationType string
	// MacAddressType is vcenter.vm.hardware.Ethernet.MacAddressType.
	MacAddressType string
	// EthernetBackingType is vcenter.vm.hardware.Ethernet.BackingType.
	EthernetBackingType string
	// CdromBusType is vcenter.vm.hardware.Cdrom.HostBusAdapterType.
	CdromBusType string
	// CdromBackingType is vcenter.vm.hardware.Cdrom.BackingType.
	CdromBackingType string
	// CdromAccessType is vcenter.vm.hardware.Cdrom.DeviceAccessType.
	CdromAccessType string
	// FloppyBackingType is vcenter.vm.hardware.Floppy.BackingType.
	FloppyBackingType string
	// ParallelBackingType is vcenter.vm.hardware.Parallel.BackingType.
	ParallelBackingType string
	// SerialBackingType is vcenter.vm.hardware.Serial.BackingType.
	SerialBackingType string
	// SATAType is vcenter.vm.hardware.adapter.Sata.Type.
	SATAType string
	// SCSIType is vcenter.vm.hardware.adapter.Scsi.Type.
	SCSIType string
	// SCSISharing is vcenter.vm.hardware.adapter.Scsi.Sharing.
	SCSISharing string
)

const hw = "com.vmware.vcenter.vm.hardware."

// EnumValues lists the accepted values.
func (HardwareVersion) EnumValues() []string { return enumValues(hw + "version") }

// EnumValues lists the accepted values.
func (BootType) EnumValues() []string { return enumValues(hw + "boot.type") }

// EnumValues lists the accepted values.
func (BootNetworkProtocol) EnumValues() []string { return enumValues(hw + "boot.network_protocol") }

// EnumValues lists the accepted values.
func (BootDeviceType) EnumValues() []string { return enumValues(hw + "boot.device.type") }

// EnumValues lists the accepted values.
func (DiskBusType) EnumValues() []string { return enumValues(hw + "disk.host_bus_adapter_type") }

// EnumValues lists the accepted values.
func (DiskBackingType) EnumValues() []string { return enumValues(hw + "disk.backing_type") }

// EnumValues lists the accepted values.
func (EmulationType) EnumValues() []string { return enumValues(hw + "ethernet.emulation_type") }

// EnumValues lists the accepted values.
func (MacAddressType) EnumValues() []string { return enumValues(hw + "ethernet.mac_address_type") }

// EnumValues lists the accepted values.
func (EthernetBackingType) EnumValues() []string { return enumValues(hw + "ethernet.backing_type") }

// EnumValues lists the accepted values.
func (CdromBusType) EnumValues() []string { return enumValues(hw + "cdrom.host_bus_adapter_type") }

// EnumValues lists the accepted values.
func (CdromBackingType) EnumValues() []string { return enumValues(hw + "cdrom.backing_type") }

// EnumValues lists the accepted values.
func (CdromAccessType) EnumValues() []string { return enumValues(hw + "cdrom.device_access_type") }

// EnumValues lists the accepted values.
func (FloppyBackingType) EnumValues() []string { return enumValues(hw + "floppy.backing_type") }

// EnumValues lists the accepted values.
func (ParallelBackingType) EnumValues() []string { return enumValues(hw + "parallel.backing_type") }

// EnumValues lists the accepted values.
func (SerialBackingType) EnumValues() []string { return enumValues(hw + "serial.backing_type") }

// EnumValues lists the accepted values.
func (SATAType) EnumValues() []string { return enumValues(hw + "adapter.sata.type") }

// EnumValues lists the accepted values.
func (SCSIType) EnumValues() []string { return enumValues(hw + "adapter.scsi.type") }

// EnumValues lists the accepted values.
func (SCSISharing) EnumValues() []string { return enumValues(hw + "adapter.scsi.sharing") }

// VMPlacementSpec is vcenter.VM.PlacementSpec; ClonePlacementSpec and RelocatePlacementSpec have
// the same fields.
type VMPlacementSpec struct {
	Folder       *string `json:"folder"`
	ResourcePool *string `json:"resource_pool"`
	Host         *string `json:"host"`
	Cluster      *string `json:"cluster"`
	Datastore    *string `json:"datastore"`
}

func (p *VMPlacementSpec) spec() placementSpec {
	if p == nil {
		return placementSpec{}
	}
	return placementSpec{Folder: p.Folder, ResourcePool: p.ResourcePool, Host: p.Host, Cluster: p.Cluster, Datastore: p.Datastore}
}

// VMCreateSpec is vcenter.VM.CreateSpec.
type VMCreateSpec struct {
	GuestOS         GuestOS                 `json:"guest_OS"`
	Name            *string                 `json:"name"`
	Placement       *VMPlacementSpec        `json:"placement"`
	HardwareVersion *HardwareVersion        `json:"hardware_version"`
	Boot            *BootCreateSpec         `json:"boot"`
	BootDevices     []BootDeviceCreateSpec  `json:"boot_devices,omitempty"`
	CPU             *CPUUpdateSpec          `json:"cpu"`
	Memory          *MemoryUpdateSpec       `json:"memory"`
	Disks           []DiskCreateSpec        `json:"disks,omitempty"`
	NICs            []EthernetCreateSpec    `json:"nics,omitempty"`
	CDROMs          []CdromCreateSpec       `json:"cdroms,omitempty"`
	Floppies        []FloppyCreateSpec      `json:"floppies,omitempty"`
	ParallelPorts   []ParallelCreateSpec    `json:"parallel_ports,omitempty"`
	SerialPorts     []SerialCreateSpec      `json:"serial_ports,omitempty"`
	SATAAdapters    []SATAAdapterCreateSpec `json:"sata_adapters,omitempty"`
	SCSIAdapters    []SCSIAdapterCreateSpec `json:"scsi_adapters,omitempty"`
	NVMeAdapters    []NVMeAdapterCreateSpec `json:"nvme_adapters,omitempty"`
	StoragePolicy   *StoragePolicySpec      `json:"storage_policy"`
}

// StoragePolicySpec is vcenter.VM.StoragePolicySpec, and vcenter.vm.hardware.Disk.StoragePolicySpec.
type StoragePolicySpec struct {
	Policy string `json:"policy"`
}

// BootCreateSpec is vcenter.vm.hardware.Boot.CreateSpec.
type BootCreateSpec struct {
	Type            *BootType            `json:"type"`
	EFILegacyBoot   *bool                `json:"efi_legacy_boot"`
	NetworkProtocol *BootNetworkProtocol `json:"network_protocol"`
	Delay           *int64               `json:"delay"`
	Retry           *bool                `json:"retry"`
	RetryDelay      *int64               `json:"retry_delay"`
	EnterSetupMode  *bool                `json:"enter_setup_mode"`
}

// BootDeviceCreateSpec is vcenter.vm.hardware.boot.Device.EntryCreateSpec.
type BootDeviceCreateSpec struct {
	Type BootDeviceType `json:"type"`
}

// CPUUpdateSpec is vcenter.vm.hardware.Cpu.UpdateSpec.
type CPUUpdateSpec struct {
	Count            *int64 `json:"count"`
	CoresPerSocket   *int64 `json:"cores_per_socket"`
	HotAddEnabled    *bool  `json:"hot_add_enabled"`
	HotRemoveEnabled *bool  `json:"hot_remove_enabled"`
}

// MemoryUpdateSpec is vcenter.vm.hardware.Memory.UpdateSpec.
type MemoryUpdateSpec struct {
	SizeMiB       *int64 `json:"size_MiB"`
	HotAddEnabled *bool  `json:"hot_add_enabled"`
}

// IDEAddressSpec is vcenter.vm.hardware.IdeAddressSpec.
type IDEAddressSpec struct {
	Primary *bool `json:"primary"`
	Master  *bool `json:"master"`
}

// BusUnitSpec is vcenter.vm.hardware.ScsiAddressSpec, and its SATA and NVMe twins.
type BusUnitSpec struct {
	Bus  int64  `json:"bus"`
	Unit *int64 `json:"unit"`
}

// DiskCreateSpec is vcenter.vm.hardware.Disk.CreateSpec.
type DiskCreateSpec struct {
	Type    *DiskBusType     `json:"type"`
	IDE     *IDEAddressSpec  `json:"ide"`
	SCSI    *BusUnitSpec     `json:"scsi"`
	SATA    *BusUnitSpec     `json:"sata"`
	NVMe    *BusUnitSpec     `json:"nvme"`
	Backing *DiskBackingSpec `json:"backing"`
	NewVMDK *VMDKCreateSpec  `json:"new_vmdk"`
}

// DiskBackingSpec is vcenter.vm.hardware.Disk.BackingSpec.
type DiskBackingSpec struct {
	Type     DiskBackingType `json:"type"`
	VMDKFile *string         `json:"vmdk_file"`
}

// VMDKCreateSpec is vcenter.vm.hardware.Disk.VmdkCreateSpec.
type VMDKCreateSpec struct {
	Name          *string            `json:"name"`
	Capacity      *int64             `json:"capacity"`
	StoragePolicy *StoragePolicySpec `json:"storage_policy"`
}

// EthernetCreateSpec is vcenter.vm.hardware.Ethernet.CreateSpec.
type EthernetCreateSpec struct {
	Type          *EmulationType `json:"type"`
	PCISlotNumber *int64         `json:"pci_slot_number"`
	EthernetUpdateSpec
}

// EthernetUpdateSpec is vcenter.vm.hardware.Ethernet.UpdateSpec (the rest of CreateSpec).
type EthernetUpdateSpec struct {
	UptCompatibilityEnabled *bool                `json:"upt_compatibility_enabled"`
	MacType                 *MacAddressType      `json:"mac_type"`
	MacAddress              *string              `json:"mac_address"`
	WakeOnLANEnabled        *bool                `json:"wake_on_lan_enabled"`
	Backing                 *EthernetBackingSpec `json:"backing"`
	StartConnected          *bool                `json:"start_connected"`
	AllowGuestControl       *bool                `json:"allow_guest_control"`
}

// EthernetBackingSpec is vcenter.vm.hardware.Ethernet.BackingSpec.
type EthernetBackingSpec struct {
	Type            EthernetBackingType `json:"type"`
	Network         *string             `json:"network"`
	DistributedPort *string             `json:"distributed_port"`
}

// CdromCreateSpec is vcenter.vm.hardware.Cdrom.CreateSpec.
type CdromCreateSpec struct {
	Type              *CdromBusType     `json:"type"`
	IDE               *IDEAddressSpec   `json:"ide"`
	SATA              *BusUnitSpec      `json:"sata"`
	Backing           *CdromBackingSpec `json:"backing"`
	StartConnected    *bool             `json:"start_connected"`
	AllowGuestControl *bool             `json:"allow_guest_control"`
}

// CdromBackingSpec is vcenter.vm.hardware.Cdrom.BackingSpec.
type CdromBackingSpec struct {
	Type             CdromBackingType `json:"type"`
	ISOFile          *string          `json:"iso_file"`
	HostDevice       *string          `json:"host_device"`
	DeviceAccessType *CdromAccessType `json:"device_access_type"`
}

// FloppyCreateSpec is vcenter.vm.hardware.Floppy.CreateSpec.
type FloppyCreateSpec struct {
	Backing           *FloppyBackingSpec `json:"backing"`
	StartConnected    *bool              `json:"start_connected"`
	AllowGuestControl *bool              `json:"allow_guest_control"`
}

// FloppyBackingSpec is vcenter.vm.hardware.Floppy.BackingSpec.
type FloppyBackingSpec struct {
	Type       FloppyBackingType `json:"type"`
	ImageFile  *string           `json:"image_file"`
	HostDevice *string           `json:"host_device"`
}

// ParallelCreateSpec is vcenter.vm.hardware.Parallel.CreateSpec, and Parallel.UpdateSpec.
type ParallelCreateSpec struct {
	Backing           *ParallelBackingSpec `json:"backing"`
	StartConnected    *bool                `json:"start_connected"`
	AllowGuestControl *bool                `json:"allow_guest_control"`
}

// ParallelBackingSpec is vcenter.vm.hardware.Parallel.BackingSpec.
type ParallelBackingSpec struct {
	Type       ParallelBackingType `json:"type"`
	File       *string             `json:"file"`
	HostDevice *string             `json:"host_device"`
}

// SerialCreateSpec is vcenter.vm.hardware.Serial.CreateSpec, and Serial.UpdateSpec.
type SerialCreateSpec struct {
	YieldOnPoll       *bool              `json:"yield_on_poll"`
	Backing           *SerialBackingSpec `json:"backing"`
	StartConnected    *bool              `json:"start_connected"`
	AllowGuestControl *bool              `json:"allow_guest_control"`
}

// SerialBackingSpec is vcenter.vm.hardware.Serial.BackingSpec.
type SerialBackingSpec struct {
	Type            SerialBackingType `json:"type"`
	File            *string           `json:"file"`
	HostDevice      *string           `json:"host_device"`
	Pipe            *string           `json:"pipe"`
	NoRxLoss        *bool             `json:"no_rx_loss"`
	NetworkLocation *string           `json:"network_location"`
	Proxy           *string           `json:"proxy"`
}

// SATAAdapterCreateSpec is vcenter.vm.hardware.adapter.Sata.CreateSpec.
type SATAAdapterCreateSpec struct {
	Type          *SATAType `json:"type"`
	Bus           *int64    `json:"bus"`
	PCISlotNumber *int64    `json:"pci_slot_number"`
}

// SCSIAdapterCreateSpec is vcenter.vm.hardware.adapter.Scsi.CreateSpec.
type SCSIAdapterCreateSpec struct {
	Type          *SCSIType    `json:"type"`
	Bus           *int64       `json:"bus"`
	PCISlotNumber *int64       `json:"pci_slot_number"`
	Sharing       *SCSISharing `json:"sharing"`
}

// NVMeAdapterCreateSpec is vcenter.vm.hardware.adapter.Nvme.CreateSpec.
type NVMeAdapterCreateSpec struct {
	Bus           *int64 `json:"bus"`
	PCISlotNumber *int64 `json:"pci_slot_number"`
}

// VMCloneSpec is vcenter.VM.CloneSpec.
type VMCloneSpec struct {
	Source                 string                   `json:"source"`
	Name                   string                   `json:"name"`
	Placement              *VMPlacementSpec         `json:"placement"`
	DisksToRemove          []string                 `json:"disks_to_remove,omitempty"`
	DisksToUpdate          map[string]DiskPlacement `json:"disks_to_update,omitempty"`
	PowerOn                *bool                    `json:"power_on"`
	GuestCustomizationSpec *GuestCustomizationSpec  `json:"guest_customization_spec"`
}

// DiskPlacement is vcenter.VM.DiskCloneSpec, and VM.DiskRelocateSpec.
type DiskPlacement struct {
	Datastore *string `json:"datastore"`
}

// GuestCustomizationSpec is vcenter.VM.GuestCustomizationSpec.
type GuestCustomizationSpec struct {
	Name *string `json:"name"`
}

// VMRelocateSpec is vcenter.VM.RelocateSpec.
type VMRelocateSpec struct {
	Placement *VMPlacementSpec         `json:"placement"`
	Disks     map[string]DiskPlacement `json:"disks,omitempty"`
}

// VMInstantCloneSpec is vcenter.VM.InstantCloneSpec.
type VMInstantCloneSpec struct {
	Source                string                        `json:"source"`
	Name                  string                        `json:"name"`
	Placement             *InstantClonePlacementSpec    `json:"placement"`
	NICsToUpdate          map[string]EthernetUpdateSpec `json:"nics_to_update,omitempty"`
	DisconnectAllNICs     *bool                         `json:"disconnect_all_nics"`
	ParallelPortsToUpdate map[string]ParallelCreateSpec `json:"parallel_ports_to_update,omitempty"`
	SerialPortsToUpdate   map[string]SerialCreateSpec   `json:"serial_ports_to_update,omitempty"`
	BIOSUUID              *string                       `json:"bios_uuid"`
}

// InstantClonePlacementSpec is vcenter.VM.InstantClonePlacementSpec.
type InstantClonePlacementSpec struct {
	Folder       *string `json:"folder"`
	ResourcePool *string `json:"resource_pool"`
	Datastore    *string `json:"datastore"`
}
