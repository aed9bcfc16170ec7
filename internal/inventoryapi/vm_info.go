package inventoryapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/vapi"
)

// The answer of vcenter.VM.get, field for field as the reference names it. Optional fields are
// pointers or omitempty; a union's fields are set only in the cases the reference gives them.

// VMInfo is vcenter.VM.Info.
type VMInfo struct {
	GuestOS            string                     `json:"guest_OS"`
	Name               string                     `json:"name"`
	Identity           *VMIdentity                `json:"identity,omitempty"`
	PowerState         PowerState                 `json:"power_state"`
	InstantCloneFrozen *bool                      `json:"instant_clone_frozen,omitempty"`
	Hardware           HardwareInfo               `json:"hardware"`
	Boot               BootInfo                   `json:"boot"`
	BootDevices        []BootDeviceEntry          `json:"boot_devices"`
	CPU                CPUInfo                    `json:"cpu"`
	Memory             MemoryInfo                 `json:"memory"`
	Disks              map[string]DiskInfo        `json:"disks"`
	NICs               map[string]EthernetInfo    `json:"nics"`
	CDROMs             map[string]CdromInfo       `json:"cdroms"`
	Floppies           map[string]FloppyInfo      `json:"floppies"`
	ParallelPorts      map[string]ParallelInfo    `json:"parallel_ports"`
	SerialPorts        map[string]SerialInfo      `json:"serial_ports"`
	SATAAdapters       map[string]SATAAdapterInfo `json:"sata_adapters"`
	SCSIAdapters       map[string]SCSIAdapterInfo `json:"scsi_adapters"`
	NVMeAdapters       map[string]NVMeAdapterInfo `json:"nvme_adapters"`
}

// VMIdentity is vcenter.vm.Identity.Info.
type VMIdentity struct {
	Name         string `json:"name"`
	BIOSUUID     string `json:"bios_uuid"`
	InstanceUUID string `json:"instance_uuid"`
}

// HardwareInfo is vcenter.vm.Hardware.Info.
type HardwareInfo struct {
	Version        string     `json:"version"`
	UpgradePolicy  string     `json:"upgrade_policy"`
	UpgradeVersion string     `json:"upgrade_version,omitempty"`
	UpgradeStatus  string     `json:"upgrade_status"`
	UpgradeError   *vapiFault `json:"upgrade_error,omitempty"`
}

// vapiFault is a vAPI error as a value (Hardware.Info.upgrade_error is an Exception).
type vapiFault struct {
	ErrorType string         `json:"error_type"`
	Messages  []vapi.Message `json:"messages"`
}

// BootInfo is vcenter.vm.hardware.Boot.Info.
type BootInfo struct {
	Type            string `json:"type"`
	EFILegacyBoot   *bool  `json:"efi_legacy_boot,omitempty"`
	NetworkProtocol string `json:"network_protocol,omitempty"`
	Delay           int64  `json:"delay"`
	Retry           bool   `json:"retry"`
	RetryDelay      int64  `json:"retry_delay"`
	EnterSetupMode  bool   `json:"enter_setup_mode"`
}

// BootDeviceEntry is vcenter.vm.hardware.boot.Device.Entry.
type BootDeviceEntry struct {
	Type  string   `json:"type"`
	NIC   string   `json:"nic,omitempty"`
	Disks []string `json:"disks,omitempty"`
}

// CPUInfo is vcenter.vm.hardware.Cpu.Info.
type CPUInfo struct {
	Count            int64 `json:"count"`
	CoresPerSocket   int64 `json:"cores_per_socket"`
	HotAddEnabled    bool  `json:"hot_add_enabled"`
	HotRemoveEnabled bool  `json:"hot_remove_enabled"`
}

// MemoryInfo is vcenter.vm.hardware.Memory.Info.
type MemoryInfo struct {
	SizeMiB                int64  `json:"size_MiB"`
	HotAddEnabled          bool   `json:"hot_add_enabled"`
	HotAddIncrementSizeMiB *int64 `json:"hot_add_increment_size_MiB,omitempty"`
	HotAddLimitMiB         *int64 `json:"hot_add_limit_MiB,omitempty"`
}

// BusUnit is an address on a SCSI, SATA or NVMe bus (vcenter.vm.hardware.ScsiAddressInfo and
// its SATA and NVMe twins).
type BusUnit struct {
	Bus  int64 `json:"bus"`
	Unit int64 `json:"unit"`
}

// IDEAddress is vcenter.vm.hardware.IdeAddressInfo.
type IDEAddress struct {
	Primary bool `json:"primary"`
	Master  bool `json:"master"`
}

// DiskInfo is vcenter.vm.hardware.Disk.Info.
type DiskInfo struct {
	Label    string          `json:"label"`
	Type     string          `json:"type"`
	IDE      *IDEAddress     `json:"ide,omitempty"`
	SCSI     *BusUnit        `json:"scsi,omitempty"`
	SATA     *BusUnit        `json:"sata,omitempty"`
	NVMe     *BusUnit        `json:"nvme,omitempty"`
	Backing  DiskBackingInfo `json:"backing"`
	Capacity *int64          `json:"capacity,omitempty"`
}

// DiskBackingInfo is vcenter.vm.hardware.Disk.BackingInfo.
type DiskBackingInfo struct {
	Type     string `json:"type"`
	VMDKFile string `json:"vmdk_file,omitempty"`
}

// connection is what every connectable device reports (Cdrom, Ethernet, Floppy, Parallel and
// Serial Info).
type connection struct {
	State             string `json:"state"`
	StartConnected    bool   `json:"start_connected"`
	AllowGuestControl bool   `json:"allow_guest_control"`
}

// EthernetInfo is vcenter.vm.hardware.Ethernet.Info.
type EthernetInfo struct {
	Label                   string              `json:"label"`
	Type                    string              `json:"type"`
	UptCompatibilityEnabled *bool               `json:"upt_compatibility_enabled,omitempty"`
	MacType                 string              `json:"mac_type"`
	MacAddress              string              `json:"mac_address,omitempty"`
	PCISlotNumber           *int64              `json:"pci_slot_number,omitempty"`
	WakeOnLANEnabled        bool                `json:"wake_on_lan_enabled"`
	Backing                 EthernetBackingInfo `json:"backing"`
	connection
}

// EthernetBackingInfo is vcenter.vm.hardware.Ethernet.BackingInfo.
type EthernetBackingInfo struct {
	Type                  string `json:"type"`
	Network               string `json:"network,omitempty"`
	NetworkName           string `json:"network_name,omitempty"`
	HostDevice            string `json:"host_device,omitempty"`
	DistributedSwitchUUID string `json:"distributed_switch_uuid,omitempty"`
	DistributedPort       string `json:"distributed_port,omitempty"`
	ConnectionCookie      *int64 `json:"connection_cookie,omitempty"`
	OpaqueNetworkType     string `json:"opaque_network_type,omitempty"`
	OpaqueNetworkID       string `json:"opaque_network_id,omitempty"`
}

// CdromInfo is vcenter.vm.hardware.Cdrom.Info.
type CdromInfo struct {
	Type    string           `json:"type"`
	Label   string           `json:"label"`
	IDE     *IDEAddress      `json:"ide,omitempty"`
	SATA    *BusUnit         `json:"sata,omitempty"`
	Backing CdromBackingInfo `json:"backing"`
	connection
}

// CdromBackingInfo is vcenter.vm.hardware.Cdrom.BackingInfo.
type CdromBackingInfo struct {
	Type             string `json:"type"`
	ISOFile          string `json:"iso_file,omitempty"`
	HostDevice       string `json:"host_device,omitempty"`
	AutoDetect       *bool  `json:"auto_detect,omitempty"`
	DeviceAccessType string `json:"device_access_type,omitempty"`
}

// FloppyInfo is vcenter.vm.hardware.Floppy.Info.
type FloppyInfo struct {
	Label   string            `json:"label"`
	Backing FloppyBackingInfo `json:"backing"`
	connection
}

// FloppyBackingInfo is vcenter.vm.hardware.Floppy.BackingInfo.
type FloppyBackingInfo struct {
	Type       string `json:"type"`
	ImageFile  string `json:"image_file,omitempty"`
	HostDevice string `json:"host_device,omitempty"`
	AutoDetect *bool  `json:"auto_detect,omitempty"`
}

// ParallelInfo is vcenter.vm.hardware.Parallel.Info.
type ParallelInfo struct {
	Label   string          `json:"label"`
	Backing PortBackingInfo `json:"backing"`
	connection
}

// SerialInfo is vcenter.vm.hardware.Serial.Info.
type SerialInfo struct {
	Label       string          `json:"label"`
	YieldOnPoll bool            `json:"yield_on_poll"`
	Backing     PortBackingInfo `json:"backing"`
	connection
}

// PortBackingInfo is vcenter.vm.hardware.Serial.BackingInfo, and Parallel.BackingInfo, whose
// fields are the first four of it.
type PortBackingInfo struct {
	Type            string `json:"type"`
	File            string `json:"file,omitempty"`
	HostDevice      string `json:"host_device,omitempty"`
	AutoDetect      *bool  `json:"auto_detect,omitempty"`
	Pipe            string `json:"pipe,omitempty"`
	NoRxLoss        *bool  `json:"no_rx_loss,omitempty"`
	NetworkLocation string `json:"network_location,omitempty"`
	Proxy           string `json:"proxy,omitempty"`
}

// SATAAdapterInfo is vcenter.vm.hardware.adapter.Sata.Info.
type SATAAdapterInfo struct {
	Label         string `json:"label"`
	Type          string `json:"type"`
	Bus           int64  `json:"bus"`
	PCISlotNumber *int64 `json:"pci_slot_number,omitempty"`
}

// SCSIAdapterInfo is vcenter.vm.hardware.adapter.Scsi.Info.
type SCSIAdapterInfo struct {
	Label         string  `json:"label"`
	Type          string  `json:"type"`
	SCSI          BusUnit `json:"scsi"`
	PCISlotNumber *int64  `json:"pci_slot_number,omitempty"`
	Sharing       string  `json:"sharing"`
}

// NVMeAdapterInfo is vcenter.vm.hardware.adapter.Nvme.Info.
type NVMeAdapterInfo struct {
	Label         string `json:"label"`
	Bus           int64  `json:"bus"`
	PCISlotNumber *int64 `json:"pci_slot_number,omitempty"`
}

// vmGetProps are the properties get reads.
var vmGetProps = []string{"name", "config", "runtime.powerState", "runtime.instantCloneFrozen"}

// vmGet answers a VM, or a template (vCenter's get answers both; list leaves templates out).
func (f *Family) vmGet(c *vapi.Call) (any, error) {
	id := c.Path("vm")
	var vm mo.VirtualMachine
	if err := f.get(c.Ctx, "VirtualMachine", "VM", id, vmGetProps, &vm); err != nil {
		return nil, err
	}
	if vm.Config == nil {
		return nil, vapi.Errorf(vapi.ErrorResourceInaccessible, "wcpd.vm.inaccessible",
			"The configuration of VM %s (%s) cannot be read: its files are not accessible.", id, vm.Name)
	}
	var portgroups map[string]string
	if hasDVPortBacking(vm.Config.Hardware.Device) {
		var err error
		if portgroups, err = f.portgroupsByKey(c); err != nil {
			return nil, err
		}
	}
	return vmInfoOf(vm, portgroups), nil
}

// hasDVPortBacking reports whether a NIC is on a distributed port group, whose id get must look up.
func hasDVPortBacking(devices []types.BaseVirtualDevice) bool {
	for _, d := range devices {
		if _, ok := d.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo); ok {
			return true
		}
	}
	return false
}

// portgroupsByKey maps the distributed port groups' keys to their ids.
func (f *Family) portgroupsByKey(c *vapi.Call) (map[string]string, error) {
	var pgs []mo.DistributedVirtualPortgroup
	if err := f.retrieve(c.Ctx, "DistributedVirtualPortgroup", []string{"key"}, &pgs); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pgs))
	for _, pg := range pgs {
		out[pg.Key] = pg.Self.Value
	}
	return out, nil
}

// vmInfoOf reads a VM's configuration as vcenter.VM.Info.
func vmInfoOf(vm mo.VirtualMachine, portgroups map[string]string) VMInfo {
	cfg := vm.Config
	info := VMInfo{
		GuestOS: guestOSOf(cfg.GuestId), Name: vm.Name,
		Identity:           &VMIdentity{Name: vm.Name, BIOSUUID: cfg.Uuid, InstanceUUID: cfg.InstanceUuid},
		PowerState:         powerStateOf[vm.Runtime.PowerState],
		InstantCloneFrozen: vm.Runtime.InstantCloneFrozen,
		Hardware:           hardwareInfoOf(cfg),
		Boot:               bootInfoOf(cfg),
		BootDevices:        bootDevicesOf(cfg.BootOptions),
		CPU: CPUInfo{Count: int64(cfg.Hardware.NumCPU), CoresPerSocket: 1,
			HotAddEnabled: isTrue(cfg.CpuHotAddEnabled), HotRemoveEnabled: isTrue(cfg.CpuHotRemoveEnabled)},
		Memory:        MemoryInfo{SizeMiB: int64(cfg.Hardware.MemoryMB), HotAddEnabled: isTrue(cfg.MemoryHotAddEnabled)},
		Disks:         map[string]DiskInfo{},
		NICs:          map[string]EthernetInfo{},
		CDROMs:        map[string]CdromInfo{},
		Floppies:      map[string]FloppyInfo{},
		ParallelPorts: map[string]ParallelInfo{},
		SerialPorts:   map[string]SerialInfo{},
		SATAAdapters:  map[string]SATAAdapterInfo{},
		SCSIAdapters:  map[string]SCSIAdapterInfo{},
		NVMeAdapters:  map[string]NVMeAdapterInfo{},
	}
	if n := cfg.Hardware.NumCoresPerSocket; n != nil && *n > 0 {
		info.CPU.CoresPerSocket = int64(*n)
	}
	if info.PowerState == "" {
		info.PowerState = "POWERED_OFF"
	}
	if info.Memory.HotAddEnabled {
		if n := cfg.HotPlugMemoryIncrementSize; n > 0 {
			info.Memory.HotAddIncrementSizeMiB = &n
		}
		if n := cfg.HotPlugMemoryLimit; n > 0 {
			info.Memory.HotAddLimitMiB = &n
		}
	}
	controllers := map[int32]types.BaseVirtualDevice{}
	for _, d := range cfg.Hardware.Device {
		if _, ok := d.(types.BaseVirtualController); ok {
			controllers[d.GetVirtualDevice().Key] = d
		}
	}
	for _, d := range cfg.Hardware.Device {
		addDevice(&info, d, controllers, portgroups)
	}
	return info
}

func isTrue(b *bool) bool { return b != nil && *b }

func hardwareInfoOf(cfg *types.VirtualMachineConfigInfo) HardwareInfo {
	hw := HardwareInfo{Version: hardwareVersionOf(cfg.Version), UpgradePolicy: "NEVER", UpgradeStatus: "NONE"}
	up := cfg.ScheduledHardwareUpgradeInfo
	if up == nil {
		return hw
	}
	switch up.UpgradePolicy {
	case string(types.ScheduledHardwareUpgradeInfoHardwareUpgradePolicyOnSoftPowerOff):
		hw.UpgradePolicy = "AFTER_CLEAN_SHUTDOWN"
	case string(types.ScheduledHardwareUpgradeInfoHardwareUpgradePolicyAlways):
		hw.UpgradePolicy = "ALWAYS"
	}
	if hw.UpgradePolicy != "NEVER" {
		hw.UpgradeVersion = hardwareVersionOf(up.VersionKey)
		if hw.UpgradeVersion == "" {
			hw.UpgradeVersion = hw.Version
		}
	}
	if s := strings.ToUpper(up.ScheduledHardwareUpgradeStatus); s != "" {
		hw.UpgradeStatus = s
	}
	if hw.UpgradeStatus == "FAILED" {
		msg := "The scheduled hardware upgrade failed."
		if up.Fault != nil && up.Fault.LocalizedMessage != "" {
			msg = up.Fault.LocalizedMessage
		}
		hw.UpgradeError = &vapiFault{ErrorType: string(vapi.ErrorGeneric),
			Messages: []vapi.Message{{ID: "wcpd.vm.hardware.upgrade_failed", DefaultMessage: msg, Args: []string{}}}}
	}
	return hw
}

// hardwareVersionOf is vim's "vmx-13" as the enumeration spells it, "VMX_13".
func hardwareVersionOf(v string) string {
	n, ok := strings.CutPrefix(v, "vmx-")
	if !ok || n == "" {
		return ""
	}
	if len(n) == 1 {
		n = "0" + n
	}
	return "VMX_" + n
}

// efiLegacyBootKey is the advanced setting that records Boot.efi_legacy_boot.
const efiLegacyBootKey = "efi.legacyBoot.enabled"

func bootInfoOf(cfg *types.VirtualMachineConfigInfo) BootInfo {
	b := BootInfo{Type: "BIOS"}
	if o := cfg.BootOptions; o != nil {
		b.Delay, b.Retry, b.RetryDelay, b.EnterSetupMode = o.BootDelay, isTrue(o.BootRetryEnabled), o.BootRetryDelay, isTrue(o.EnterBIOSSetup)
	}
	if cfg.Firmware == string(types.GuestOsDescriptorFirmwareTypeEfi) {
		b.Type = "EFI"
		legacy := false
		for _, o := range cfg.ExtraConfig {
			if ov := o.GetOptionValue(); ov.Key == efiLegacyBootKey {
				legacy = strings.EqualFold(fmt.Sprint(ov.Value), "true")
			}
		}
		b.EFILegacyBoot = &legacy
		b.NetworkProtocol = "IPV4"
		if o := cfg.BootOptions; o != nil && o.NetworkBootProtocol == string(types.VirtualMachineBootOptionsNetworkBootProtocolTypeIpv6) {
			b.NetworkProtocol = "IPV6"
		}
	}
	return b
}

// bootDevicesOf is the boot order; consecutive disks make one DISK entry, as vCenter shows them.
func bootDevicesOf(o *types.VirtualMachineBootOptions) []BootDeviceEntry {
	out := []BootDeviceEntry{}
	if o == nil {
		return out
	}
	for _, d := range o.BootOrder {
		switch d := d.(type) {
		case *types.VirtualMachineBootOptionsBootableCdromDevice:
			out = append(out, BootDeviceEntry{Type: "CDROM"})
		case *types.VirtualMachineBootOptionsBootableFloppyDevice:
			out = append(out, BootDeviceEntry{Type: "FLOPPY"})
		case *types.VirtualMachineBootOptionsBootableEthernetDevice:
			out = append(out, BootDeviceEntry{Type: "ETHERNET", NIC: strconv.Itoa(int(d.DeviceKey))})
		case *types.VirtualMachineBootOptionsBootableDiskDevice:
			key := strconv.Itoa(int(d.DeviceKey))
			if n := len(out); n > 0 && out[n-1].Type == "DISK" {
				out[n-1].Disks = append(out[n-1].Disks, key)
				continue
			}
			out = append(out, BootDeviceEntry{Type: "DISK", Disks: []string{key}})
		}
	}
	return out
}

// label is a device's label.
func label(d types.BaseVirtualDevice) string {
	if di := d.GetVirtualDevice().DeviceInfo; di != nil {
		return di.GetDescription().Label
	}
	return ""
}

func slotOf(d types.BaseVirtualDevice) *int64 {
	if s, ok := d.GetVirtualDevice().SlotInfo.(*types.VirtualDevicePciBusSlotInfo); ok {
		return new(int64(s.PciSlotNumber))
	}
	return nil
}

func unitOf(d types.BaseVirtualDevice) int64 {
	if u := d.GetVirtualDevice().UnitNumber; u != nil {
		return int64(*u)
	}
	return 0
}

func connectionOf(d types.BaseVirtualDevice) connection {
	ci := d.GetVirtualDevice().Connectable
	if ci == nil {
		return connection{State: "NOT_CONNECTED"}
	}
	c := connection{State: "NOT_CONNECTED", StartConnected: ci.StartConnected, AllowGuestControl: ci.AllowGuestControl}
	switch {
	case ci.Status == string(types.VirtualDeviceConnectInfoStatusRecoverableError):
		c.State = "RECOVERABLE_ERROR"
	case ci.Status == string(types.VirtualDeviceConnectInfoStatusUnrecoverableError):
		c.State = "UNRECOVERABLE_ERROR"
	case ci.Connected:
		c.State = "CONNECTED"
	}
	return c
}

// busAddress is where a disk or CD-ROM sits: the adapter type and the address of that type.
type busAddress struct {
	kind            string // IDE, SCSI, SATA or NVME
	ide             *IDEAddress
	scsi, sata, nvm *BusUnit
}

func addressOf(d types.BaseVirtualDevice, controllers map[int32]types.BaseVirtualDevice) (busAddress, bool) {
	ctl, ok := controllers[d.GetVirtualDevice().ControllerKey].(types.BaseVirtualController)
	if !ok {
		return busAddress{}, false
	}
	bus, unit := int64(ctl.GetVirtualController().BusNumber), unitOf(d)
	switch ctl.(type) {
	case *types.VirtualIDEController:
		return busAddress{kind: "IDE", ide: &IDEAddress{Primary: bus == 0, Master: unit == 0}}, true
	case types.BaseVirtualSCSIController:
		return busAddress{kind: "SCSI", scsi: &BusUnit{Bus: bus, Unit: unit}}, true
	case types.BaseVirtualSATAController:
		return busAddress{kind: "SATA", sata: &BusUnit{Bus: bus, Unit: unit}}, true
	case *types.VirtualNVMEController:
		return busAddress{kind: "NVME", nvm: &BusUnit{Bus: bus, Unit: unit}}, true
	}
	return busAddress{}, false
}

// ethernetTypes names the NIC emulations the API knows; SR-IOV and PVRDMA NICs have no value in
// 8.0U2's enumeration and are left out of get.
func ethernetType(d types.BaseVirtualDevice) (string, bool) {
	switch d.(type) {
	case *types.VirtualE1000:
		return "E1000", true
	case *types.VirtualE1000e:
		return "E1000E", true
	case *types.VirtualPCNet32:
		return "PCNET32", true
	case *types.VirtualVmxnet:
		return "VMXNET", true
	case *types.VirtualVmxnet2:
		return "VMXNET2", true
	case *types.VirtualVmxnet3:
		return "VMXNET3", true
	}
	return "", false
}

// scsiType names the SCSI adapter types the API knows.
func scsiType(d types.BaseVirtualDevice) string {
	switch d.(type) {
	case *types.VirtualBusLogicController:
		return "BUSLOGIC"
	case *types.VirtualLsiLogicController:
		return "LSILOGIC"
	case *types.VirtualLsiLogicSASController:
		return "LSILOGICSAS"
	case *types.ParaVirtualSCSIController:
		return "PVSCSI"
	}
	return ""
}

var scsiSharing = map[types.VirtualSCSISharing]string{
	types.VirtualSCSISharingNoSharing: "NONE", types.VirtualSCSISharingVirtualSharing: "VIRTUAL",
	types.VirtualSCSISharingPhysicalSharing: "PHYSICAL",
}

// addDevice adds d to the map of its kind, keyed by its device key. Devices the API has no map
// for (controllers of IDE, PCI, PS/2, SIO; video, VMCI, USB, ...) are not shown, nor devices of a
// shown kind whose backing or bus has no value in the API.
func addDevice(info *VMInfo, d types.BaseVirtualDevice, controllers map[int32]types.BaseVirtualDevice, portgroups map[string]string) {
	key := strconv.Itoa(int(d.GetVirtualDevice().Key))
	switch dev := d.(type) {
	case *types.VirtualDisk:
		addr, ok := addressOf(d, controllers)
		if !ok {
			return
		}
		di := DiskInfo{Label: label(d), Type: addr.kind, IDE: addr.ide, SCSI: addr.scsi, SATA: addr.sata, NVMe: addr.nvm,
			Backing: DiskBackingInfo{Type: "VMDK_FILE"}}
		if fb, ok := dev.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
			di.Backing.VMDKFile = fb.GetVirtualDeviceFileBackingInfo().FileName
		}
		capacity := dev.CapacityInBytes
		if capacity == 0 {
			capacity = dev.CapacityInKB * 1024
		}
		di.Capacity = &capacity
		info.Disks[key] = di
	case *types.VirtualCdrom:
		addr, ok := addressOf(d, controllers)
		if !ok || (addr.kind != "IDE" && addr.kind != "SATA") {
			return
		}
		b, ok := cdromBackingOf(dev.Backing)
		if !ok {
			return
		}
		info.CDROMs[key] = CdromInfo{Type: addr.kind, Label: label(d), IDE: addr.ide, SATA: addr.sata, Backing: b, connection: connectionOf(d)}
	case *types.VirtualFloppy:
		var b FloppyBackingInfo
		switch fb := dev.Backing.(type) {
		case *types.VirtualFloppyImageBackingInfo:
			b = FloppyBackingInfo{Type: "IMAGE_FILE", ImageFile: fb.FileName}
		case *types.VirtualFloppyDeviceBackingInfo:
			b = FloppyBackingInfo{Type: "HOST_DEVICE", HostDevice: fb.DeviceName, AutoDetect: new(isTrue(fb.UseAutoDetect))}
		case *types.VirtualFloppyRemoteDeviceBackingInfo:
			b = FloppyBackingInfo{Type: "CLIENT_DEVICE"}
		default:
			return
		}
		info.Floppies[key] = FloppyInfo{Label: label(d), Backing: b, connection: connectionOf(d)}
	case *types.VirtualParallelPort:
		var b PortBackingInfo
		switch pb := dev.Backing.(type) {
		case *types.VirtualParallelPortFileBackingInfo:
			b = PortBackingInfo{Type: "FILE", File: pb.FileName}
		case *types.VirtualParallelPortDeviceBackingInfo:
			b = PortBackingInfo{Type: "HOST_DEVICE", HostDevice: pb.DeviceName, AutoDetect: new(isTrue(pb.UseAutoDetect))}
		default:
			return
		}
		info.ParallelPorts[key] = ParallelInfo{Label: label(d), Backing: b, connection: connectionOf(d)}
	case *types.VirtualSerialPort:
		b, ok := serialBackingOf(dev.Backing)
		if !ok {
			return
		}
		info.SerialPorts[key] = SerialInfo{Label: label(d), YieldOnPoll: dev.YieldOnPoll, Backing: b, connection: connectionOf(d)}
	case types.BaseVirtualEthernetCard:
		typ, ok := ethernetType(d)
		if !ok {
			return
		}
		card := dev.GetVirtualEthernetCard()
		b, ok := ethernetBackingOf(card.Backing, portgroups)
		if !ok {
			return
		}
		e := EthernetInfo{Label: label(d), Type: typ, MacType: "GENERATED", MacAddress: card.MacAddress,
			PCISlotNumber: slotOf(d), WakeOnLANEnabled: isTrue(card.WakeOnLanEnabled), Backing: b, connection: connectionOf(d)}
		if t := card.AddressType; t != "" {
			e.MacType = strings.ToUpper(t)
		}
		if typ == "VMXNET3" {
			e.UptCompatibilityEnabled = new(isTrue(card.UptCompatibilityEnabled))
		}
		info.NICs[key] = e
	case types.BaseVirtualSCSIController:
		ctl := dev.GetVirtualSCSIController()
		typ, sharing := scsiType(d), scsiSharing[types.VirtualSCSISharing(ctl.SharedBus)]
		if sharing == "" {
			sharing = "NONE"
		}
		if typ == "" {
			return
		}
		info.SCSIAdapters[key] = SCSIAdapterInfo{Label: label(d), Type: typ,
			SCSI: BusUnit{Bus: int64(ctl.BusNumber), Unit: int64(ctl.ScsiCtlrUnitNumber)}, PCISlotNumber: slotOf(d), Sharing: sharing}
	case types.BaseVirtualSATAController:
		info.SATAAdapters[key] = SATAAdapterInfo{Label: label(d), Type: "AHCI",
			Bus: int64(dev.GetVirtualSATAController().BusNumber), PCISlotNumber: slotOf(d)}
	case *types.VirtualNVMEController:
		info.NVMeAdapters[key] = NVMeAdapterInfo{Label: label(d), Bus: int64(dev.BusNumber), PCISlotNumber: slotOf(d)}
	}
}

func cdromBackingOf(b types.BaseVirtualDeviceBackingInfo) (CdromBackingInfo, bool) {
	access := func(passthrough, exclusive bool) string {
		switch {
		case !passthrough:
			return "EMULATION"
		case exclusive:
			return "PASSTHRU_EXCLUSIVE"
		}
		return "PASSTHRU"
	}
	switch cb := b.(type) {
	case *types.VirtualCdromIsoBackingInfo:
		return CdromBackingInfo{Type: "ISO_FILE", ISOFile: cb.FileName}, true
	case *types.VirtualCdromAtapiBackingInfo:
		return CdromBackingInfo{Type: "HOST_DEVICE", HostDevice: cb.DeviceName, AutoDetect: new(isTrue(cb.UseAutoDetect)), DeviceAccessType: access(false, false)}, true
	case *types.VirtualCdromPassthroughBackingInfo:
		return CdromBackingInfo{Type: "HOST_DEVICE", HostDevice: cb.DeviceName, AutoDetect: new(isTrue(cb.UseAutoDetect)), DeviceAccessType: access(true, cb.Exclusive)}, true
	case *types.VirtualCdromRemoteAtapiBackingInfo:
		return CdromBackingInfo{Type: "CLIENT_DEVICE", DeviceAccessType: access(false, false)}, true
	case *types.VirtualCdromRemotePassthroughBackingInfo:
		return CdromBackingInfo{Type: "CLIENT_DEVICE", DeviceAccessType: access(true, cb.Exclusive)}, true
	}
	return CdromBackingInfo{}, false
}

func serialBackingOf(b types.BaseVirtualDeviceBackingInfo) (PortBackingInfo, bool) {
	switch sb := b.(type) {
	case *types.VirtualSerialPortFileBackingInfo:
		return PortBackingInfo{Type: "FILE", File: sb.FileName}, true
	case *types.VirtualSerialPortDeviceBackingInfo:
		return PortBackingInfo{Type: "HOST_DEVICE", HostDevice: sb.DeviceName, AutoDetect: new(isTrue(sb.UseAutoDetect))}, true
	case *types.VirtualSerialPortPipeBackingInfo:
		typ := "PIPE_SERVER"
		if sb.Endpoint == string(types.VirtualSerialPortEndPointClient) {
			typ = "PIPE_CLIENT"
		}
		return PortBackingInfo{Type: typ, Pipe: sb.PipeName, NoRxLoss: new(isTrue(sb.NoRxLoss))}, true
	case *types.VirtualSerialPortURIBackingInfo:
		typ := "NETWORK_SERVER"
		if sb.Direction == string(types.VirtualDeviceURIBackingOptionDirectionClient) {
			typ = "NETWORK_CLIENT"
		}
		return PortBackingInfo{Type: typ, NetworkLocation: sb.ServiceURI, Proxy: sb.ProxyURI}, true
	}
	return PortBackingInfo{}, false
}

func ethernetBackingOf(b types.BaseVirtualDeviceBackingInfo, portgroups map[string]string) (EthernetBackingInfo, bool) {
	switch nb := b.(type) {
	case *types.VirtualEthernetCardNetworkBackingInfo:
		e := EthernetBackingInfo{Type: "STANDARD_PORTGROUP", NetworkName: nb.DeviceName}
		if nb.Network != nil {
			e.Network = nb.Network.Value
		}
		return e, true
	case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
		e := EthernetBackingInfo{Type: "DISTRIBUTED_PORTGROUP", Network: portgroups[nb.Port.PortgroupKey],
			DistributedSwitchUUID: nb.Port.SwitchUuid, DistributedPort: nb.Port.PortKey}
		if nb.Port.ConnectionCookie != 0 {
			e.ConnectionCookie = new(int64(nb.Port.ConnectionCookie))
		}
		return e, true
	case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
		return EthernetBackingInfo{Type: "OPAQUE_NETWORK", OpaqueNetworkType: nb.OpaqueNetworkType, OpaqueNetworkID: nb.OpaqueNetworkId}, true
	case *types.VirtualEthernetCardLegacyNetworkBackingInfo:
		return EthernetBackingInfo{Type: "HOST_DEVICE", HostDevice: nb.DeviceName}, true
	}
	return EthernetBackingInfo{}, false
}
