package inventoryapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
)

// deviceBuilder turns the device specs of vcenter.VM's create (and the updates of instant_clone)
// into vSphere devices with govmomi's VirtualDeviceList helpers. It knows the devices the VM has
// (for a new VM, the controllers every ESX VM gets: IDE 200 and 201, SIO 400) and collects the
// ones it adds; every refusal names the field.
type deviceBuilder struct {
	f        *Family
	ctx      context.Context
	devices  object.VirtualDeviceList // existing and added
	added    object.VirtualDeviceList
	profiles map[types.BaseVirtualDevice]string // storage policy of an added disk
	creates  map[types.BaseVirtualDevice]bool   // an added disk whose file is created
	networks map[string]types.ManagedObjectReference
	// For new disk files: the VM's name and datastore.
	vmName, dsName string
	dsRef          *types.ManagedObjectReference
	errs           vapi.FieldErrors
	// The first refusal of another kind, and the first failure to read the inventory.
	notFound, unsupported *vapi.Error
	fail                  error
}

// The keys ESX gives the controllers every VM has.
const (
	keyIDE0 = 200
	keyIDE1 = 201
	keySIO  = 400
)

func newVMDeviceBuilder(f *Family, ctx context.Context) *deviceBuilder {
	b := &deviceBuilder{f: f, ctx: ctx, profiles: map[types.BaseVirtualDevice]string{}, creates: map[types.BaseVirtualDevice]bool{}}
	for i, key := range []int32{keyIDE0, keyIDE1} {
		ide := &types.VirtualIDEController{}
		ide.Key, ide.BusNumber = key, int32(i)
		b.devices = append(b.devices, ide)
	}
	sio := &types.VirtualSIOController{}
	sio.Key = keySIO
	b.devices = append(b.devices, sio)
	return b
}

// add gives d a new (negative) key and records it as added.
func (b *deviceBuilder) add(d types.BaseVirtualDevice) {
	d.GetVirtualDevice().Key = b.devices.NewKey()
	b.devices = append(b.devices, d)
	b.added = append(b.added, d)
}

// unitLimit is how many devices a controller takes (units 0 .. limit-1).
func unitLimit(c types.BaseVirtualController) int32 {
	switch c.(type) {
	case *types.VirtualIDEController:
		return 2
	case types.BaseVirtualSCSIController:
		return 16
	case types.BaseVirtualSATAController:
		return 30
	case *types.VirtualNVMEController:
		return 15
	}
	return 10 // SIO: floppies, serial and parallel ports
}

// usedUnit reports whether a device of the list sits on unit of controller c.
func (b *deviceBuilder) usedUnit(c types.BaseVirtualController, unit int32) bool {
	if sc, ok := c.(types.BaseVirtualSCSIController); ok && sc.GetVirtualSCSIController().ScsiCtlrUnitNumber == unit {
		return true
	}
	key := c.GetVirtualController().Key
	for _, d := range b.devices {
		if v := d.GetVirtualDevice(); v.ControllerKey == key && v.UnitNumber != nil && *v.UnitNumber == unit {
			return true
		}
	}
	return false
}

// attach puts d on controller c, at unit when given (refused naming field when taken or out of
// range), else on the first free unit.
func (b *deviceBuilder) attach(d types.BaseVirtualDevice, c types.BaseVirtualController, unit *int64, field string) bool {
	limit := unitLimit(c)
	var u int32 = -1
	if unit != nil {
		if *unit < 0 || *unit >= int64(limit) || b.usedUnit(c, int32(*unit)) {
			b.errs.Add(field, *unit, fmt.Sprintf("the unit is taken or not between 0 and %d on its adapter", limit-1))
			return false
		}
		u = int32(*unit)
	} else {
		for i := int32(0); i < limit; i++ {
			if !b.usedUnit(c, i) {
				u = i
				break
			}
		}
		if u < 0 {
			b.errs.Add(field, "", "the adapter has no free unit")
			return false
		}
	}
	v := d.GetVirtualDevice()
	v.ControllerKey, v.UnitNumber = c.GetVirtualController().Key, &u
	c.GetVirtualController().Device = append(c.GetVirtualController().Device, v.Key)
	return true
}

// controllers lists the controllers of the list that match.
func (b *deviceBuilder) controllers(match func(types.BaseVirtualController) bool) []types.BaseVirtualController {
	var out []types.BaseVirtualController
	for _, d := range b.devices {
		if c, ok := d.(types.BaseVirtualController); ok && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func isSCSI(c types.BaseVirtualController) bool {
	_, ok := c.(types.BaseVirtualSCSIController)
	return ok
}

func isSATA(c types.BaseVirtualController) bool {
	_, ok := c.(types.BaseVirtualSATAController)
	return ok
}

func isNVMe(c types.BaseVirtualController) bool { _, ok := c.(*types.VirtualNVMEController); return ok }

// busFree reports whether no controller matching kind uses bus.
func (b *deviceBuilder) busFree(kind func(types.BaseVirtualController) bool, bus int64) bool {
	for _, c := range b.controllers(kind) {
		if int64(c.GetVirtualController().BusNumber) == bus {
			return false
		}
	}
	return true
}

// nextBus is the lowest bus of 0-3 that no controller of kind uses, or -1.
func (b *deviceBuilder) nextBus(kind func(types.BaseVirtualController) bool) int64 {
	for bus := int64(0); bus < 4; bus++ {
		if b.busFree(kind, bus) {
			return bus
		}
	}
	return -1
}

// busOf checks an adapter's bus (given or the next free one) and answers it, or -1.
func (b *deviceBuilder) busOf(kind func(types.BaseVirtualController) bool, bus *int64, field string) int32 {
	if bus == nil {
		n := b.nextBus(kind)
		if n < 0 {
			b.errs.Add(field, "", "all four buses of this adapter type are taken")
		}
		return int32(n)
	}
	if *bus < 0 || *bus > 3 || !b.busFree(kind, *bus) {
		b.errs.Add(field, *bus, "the bus is taken or not between 0 and 3")
		return -1
	}
	return int32(*bus)
}

func setSlot(d types.BaseVirtualDevice, slot *int64) {
	if slot != nil {
		d.GetVirtualDevice().SlotInfo = &types.VirtualDevicePciBusSlotInfo{PciSlotNumber: int32(*slot)}
	}
}

var scsiKinds = map[SCSIType]string{"BUSLOGIC": "buslogic", "LSILOGIC": "lsilogic", "LSILOGICSAS": "lsilogic-sas", "PVSCSI": "pvscsi"}

var sharingOf = map[SCSISharing]types.VirtualSCSISharing{
	"NONE": types.VirtualSCSISharingNoSharing, "VIRTUAL": types.VirtualSCSISharingVirtualSharing,
	"PHYSICAL": types.VirtualSCSISharingPhysicalSharing,
}

func (b *deviceBuilder) addSCSIAdapter(s SCSIAdapterCreateSpec, field string) types.BaseVirtualController {
	kind := SCSIType("LSILOGIC")
	if s.Type != nil {
		kind = *s.Type
	}
	bus := b.busOf(isSCSI, s.Bus, field+".bus")
	if bus < 0 {
		return nil
	}
	d, err := b.devices.CreateSCSIController(scsiKinds[kind])
	if err != nil {
		b.errs.Add(field+".type", kind, err.Error())
		return nil
	}
	ctl := d.(types.BaseVirtualSCSIController).GetVirtualSCSIController()
	ctl.BusNumber = bus
	if s.Sharing != nil {
		ctl.SharedBus = sharingOf[*s.Sharing]
	}
	setSlot(d, s.PCISlotNumber)
	b.add(d)
	return d.(types.BaseVirtualController)
}

func (b *deviceBuilder) addSATAAdapter(s SATAAdapterCreateSpec, field string) types.BaseVirtualController {
	bus := b.busOf(isSATA, s.Bus, field+".bus")
	if bus < 0 {
		return nil
	}
	ctl := &types.VirtualAHCIController{}
	ctl.BusNumber = bus
	setSlot(ctl, s.PCISlotNumber)
	b.add(ctl)
	return ctl
}

func (b *deviceBuilder) addNVMeAdapter(s NVMeAdapterCreateSpec, field string) types.BaseVirtualController {
	bus := b.busOf(isNVMe, s.Bus, field+".bus")
	if bus < 0 {
		return nil
	}
	ctl := &types.VirtualNVMEController{}
	ctl.BusNumber = bus
	setSlot(ctl, s.PCISlotNumber)
	b.add(ctl)
	return ctl
}

// adapterOn finds the adapter of kind on bus (the first one when bus is nil), making one (of the
// default type) when there is none, as vCenter does for a disk that names no existing adapter.
func (b *deviceBuilder) adapterOn(kind string, bus *int64, field string) types.BaseVirtualController {
	match := map[string]func(types.BaseVirtualController) bool{"SCSI": isSCSI, "SATA": isSATA, "NVME": isNVMe}[kind]
	for _, c := range b.controllers(match) {
		if bus == nil || int64(c.GetVirtualController().BusNumber) == *bus {
			return c
		}
	}
	switch kind {
	case "SCSI":
		return b.addSCSIAdapter(SCSIAdapterCreateSpec{Bus: bus}, field+".bus")
	case "SATA":
		return b.addSATAAdapter(SATAAdapterCreateSpec{Bus: bus}, field+".bus")
	}
	return b.addNVMeAdapter(NVMeAdapterCreateSpec{Bus: bus}, field+".bus")
}

// ideSlot places d on an IDE channel: primary and master as given, else the first free slot.
func (b *deviceBuilder) ideSlot(d types.BaseVirtualDevice, a *IDEAddressSpec, field string) bool {
	if a == nil {
		a = &IDEAddressSpec{}
	}
	for _, primary := range []bool{true, false} {
		if a.Primary != nil && *a.Primary != primary {
			continue
		}
		key := int32(keyIDE1)
		if primary {
			key = keyIDE0
		}
		c := b.devices.FindByKey(key).(types.BaseVirtualController)
		for _, master := range []bool{true, false} {
			if a.Master != nil && *a.Master != master {
				continue
			}
			unit := int64(1)
			if master {
				unit = 0
			}
			if !b.usedUnit(c, int32(unit)) {
				return b.attach(d, c, &unit, field)
			}
		}
	}
	b.errs.Add(field, "", "no free IDE slot fits the address")
	return false
}

// onlyIn refuses the union fields given outside the case that allows them: each entry of given
// names a field and whether it is set; allowed are the fields of the discriminant's case.
func (b *deviceBuilder) onlyIn(field, discriminant string, given map[string]bool, allowed ...string) {
	for name, set := range given {
		if set && !contains(allowed, name) {
			b.errs.Add(field+"."+name, "set", "not allowed when type is "+discriminant)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// busKind decides a disk's or CD-ROM's adapter type: the one given, else the one whose address is
// given, else the default.
func busKind(typ *string, addresses map[string]bool, def string) (string, error) {
	if typ != nil {
		return *typ, nil
	}
	var set []string
	for _, k := range []string{"IDE", "SCSI", "SATA", "NVME"} {
		if addresses[strings.ToLower(k)] {
			set = append(set, k)
		}
	}
	switch len(set) {
	case 0:
		return def, nil
	case 1:
		return set[0], nil
	}
	return "", errors.New("give one address, of the adapter type")
}

// defaultDiskBytes is the capacity of a new disk that names none (vCenter uses the guest OS's
// recommended size).
const defaultDiskBytes = 16 << 30

func (b *deviceBuilder) addDisk(s DiskCreateSpec, field string) {
	var typ *string
	if s.Type != nil {
		typ = (*string)(s.Type)
	}
	kind, err := busKind(typ, map[string]bool{"ide": s.IDE != nil, "scsi": s.SCSI != nil, "sata": s.SATA != nil, "nvme": s.NVMe != nil}, "SCSI")
	if err != nil {
		b.errs.Add(field+".type", "", err.Error())
		return
	}
	b.onlyIn(field, kind, map[string]bool{"ide": s.IDE != nil, "scsi": s.SCSI != nil, "sata": s.SATA != nil, "nvme": s.NVMe != nil}, strings.ToLower(kind))
	switch {
	case s.Backing == nil && s.NewVMDK == nil:
		b.errs.Add(field+".new_vmdk", "", "give new_vmdk for a new disk or backing for an existing one")
		return
	case s.Backing != nil && s.NewVMDK != nil:
		b.errs.Add(field+".backing", "", "give backing or new_vmdk, not both")
		return
	case s.Backing != nil && s.Backing.VMDKFile == nil:
		b.errs.Missing(field + ".backing.vmdk_file")
		return
	}
	disk := b.devices.CreateDisk(nil, types.ManagedObjectReference{}, "")
	fb := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	if s.Backing != nil {
		fb.FileName = *s.Backing.VMDKFile
		if _, err := parseDatastorePath(fb.FileName); err != nil {
			b.errs.Add(field+".backing.vmdk_file", fb.FileName, err.Error())
			return
		}
	} else {
		capacity := int64(defaultDiskBytes)
		if c := s.NewVMDK.Capacity; c != nil {
			if *c <= 0 {
				b.errs.Add(field+".new_vmdk.capacity", *c, "must be a positive number of bytes")
				return
			}
			capacity = *c
		}
		disk.CapacityInBytes, disk.CapacityInKB = capacity, (capacity+1023)/1024
		if b.dsRef != nil {
			fb.Datastore = b.dsRef
			fb.FileName = "[" + b.dsName + "]"
			if n := s.NewVMDK.Name; n != nil {
				if *n == "" || strings.ContainsAny(*n, "/[]") {
					b.errs.Add(field+".new_vmdk.name", *n, "a file name without '/', '[' or ']'")
					return
				}
				fb.FileName = fmt.Sprintf("[%s] %s/%s.vmdk", b.dsName, b.vmName, strings.TrimSuffix(*n, ".vmdk"))
			}
		}
		b.creates[disk] = true
		if p := s.NewVMDK.StoragePolicy; p != nil {
			b.profiles[disk] = p.Policy
			if !b.policyExists(p.Policy, field+".new_vmdk.storage_policy.policy") {
				return
			}
		}
	}
	var ctl types.BaseVirtualController
	var unit *int64
	switch kind {
	case "IDE":
		b.add(disk)
		b.ideSlot(disk, s.IDE, field+".ide")
		return
	case "SCSI", "SATA", "NVME":
		addr := map[string]*BusUnitSpec{"SCSI": s.SCSI, "SATA": s.SATA, "NVME": s.NVMe}[kind]
		var bus *int64
		if addr != nil {
			bus, unit = &addr.Bus, addr.Unit
		}
		if ctl = b.adapterOn(kind, bus, field+"."+strings.ToLower(kind)); ctl == nil {
			return
		}
	}
	b.add(disk)
	b.attach(disk, ctl, unit, field+"."+strings.ToLower(kind)+".unit")
}

// parseDatastorePath checks "[datastore] path".
func parseDatastorePath(p string) (object.DatastorePath, error) {
	var dp object.DatastorePath
	if !dp.FromString(p) || dp.Datastore == "" {
		return dp, errors.New(`expected a datastore path such as "[datastore1] vm/vm.vmdk"`)
	}
	return dp, nil
}

// policyExists checks a storage policy id, recording NOT_FOUND in b.notFound.
func (b *deviceBuilder) policyExists(id, field string) bool {
	if _, err := b.f.deps.Inventory.StoragePolicy(b.ctx, id); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			b.notFound = vapi.NotFound("Storage policy", id)
		} else {
			b.fail = err
		}
		return false
	}
	return true
}

// lookupNetwork finds a network by id among every network of the inventory, read once.
func (b *deviceBuilder) lookupNetwork(id string) (types.ManagedObjectReference, bool, error) {
	if b.networks == nil {
		var nets []mo.Network
		if err := b.f.retrieve(b.ctx, "Network", []string{"name"}, &nets); err != nil {
			return types.ManagedObjectReference{}, false, err
		}
		b.networks = make(map[string]types.ManagedObjectReference, len(nets))
		for _, n := range nets {
			b.networks[n.Self.Value] = n.Self
		}
	}
	ref, ok := b.networks[id]
	return ref, ok, nil
}

var networkKinds = map[string]EthernetBackingType{
	"Network": "STANDARD_PORTGROUP", "DistributedVirtualPortgroup": "DISTRIBUTED_PORTGROUP", "OpaqueNetwork": "OPAQUE_NETWORK",
}

// ethernetBacking builds a NIC's backing from its BackingSpec.
func (b *deviceBuilder) ethernetBacking(s EthernetBackingSpec, field string) types.BaseVirtualDeviceBackingInfo {
	if s.Type == "HOST_DEVICE" {
		b.unsupported = vapi.Errorf(vapi.ErrorUnsupported, "wcpd.vm.nic.host_device",
			"%s.type HOST_DEVICE is not supported: a BackingSpec names no host device, and wcpd does not pick one; back the NIC with a port group.", field)
		return nil
	}
	if s.DistributedPort != nil && s.Type != "DISTRIBUTED_PORTGROUP" {
		b.errs.Add(field+".distributed_port", *s.DistributedPort, "only allowed when type is DISTRIBUTED_PORTGROUP")
	}
	if s.Network == nil {
		b.errs.Missing(field + ".network")
		return nil
	}
	ref, ok, err := b.lookupNetwork(*s.Network)
	if err != nil {
		b.fail = err
		return nil
	}
	if !ok {
		b.notFound = vapi.NotFound("Network", *s.Network)
		return nil
	}
	if kind := networkKinds[ref.Type]; kind != s.Type {
		b.errs.Add(field+".type", s.Type, fmt.Sprintf("network %s is a %s", ref.Value, strings.ToLower(strings.ReplaceAll(string(kind), "_", " "))))
		return nil
	}
	c := b.f.deps.Inventory.Client()
	var backing types.BaseVirtualDeviceBackingInfo
	switch ref.Type {
	case "Network":
		backing, err = object.NewNetwork(c, ref).EthernetCardBackingInfo(b.ctx)
		if nb, ok := backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
			nb.Network = &ref
		}
	case "DistributedVirtualPortgroup":
		backing, err = object.NewDistributedVirtualPortgroup(c, ref).EthernetCardBackingInfo(b.ctx)
		if pb, ok := backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo); ok && s.DistributedPort != nil {
			pb.Port.PortKey = *s.DistributedPort
		}
	default:
		backing, err = object.NewOpaqueNetwork(c, ref).EthernetCardBackingInfo(b.ctx)
	}
	if err != nil {
		b.fail = err
		return nil
	}
	return backing
}

var emulations = map[EmulationType]string{
	"E1000": "e1000", "E1000E": "e1000e", "PCNET32": "pcnet32", "VMXNET": "vmxnet", "VMXNET2": "vmxnet2", "VMXNET3": "vmxnet3",
}

func (b *deviceBuilder) addNIC(s EthernetCreateSpec, field string) {
	typ := EmulationType("VMXNET3")
	if s.Type != nil {
		typ = *s.Type
	}
	if s.Backing == nil {
		b.errs.Add(field+".backing", "", "name the network the NIC connects to")
		return
	}
	backing := b.ethernetBacking(*s.Backing, field+".backing")
	if backing == nil {
		return
	}
	d, err := b.devices.CreateEthernetCard(emulations[typ], backing)
	if err != nil {
		b.errs.Add(field+".type", typ, err.Error())
		return
	}
	card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
	card.AddressType = string(types.VirtualEthernetCardMacTypeGenerated)
	card.Connectable = &types.VirtualDeviceConnectInfo{}
	if s.UptCompatibilityEnabled != nil && typ != "VMXNET3" {
		b.errs.Add(field+".upt_compatibility_enabled", *s.UptCompatibilityEnabled, "only allowed when type is VMXNET3")
	}
	b.applyEthernet(card, s.EthernetUpdateSpec, field, false)
	setSlot(d, s.PCISlotNumber)
	b.add(d)
}

// applyEthernet sets what an Ethernet UpdateSpec (or the same part of a CreateSpec) gives.
func (b *deviceBuilder) applyEthernet(card *types.VirtualEthernetCard, s EthernetUpdateSpec, field string, backing bool) {
	macType := s.MacType
	if macType == nil && s.MacAddress != nil {
		macType = new(MacAddressType("MANUAL"))
	}
	if macType != nil {
		card.AddressType = strings.ToLower(string(*macType))
		switch {
		case *macType == "MANUAL" && s.MacAddress == nil:
			b.errs.Missing(field + ".mac_address")
		case *macType != "MANUAL" && s.MacAddress != nil:
			b.errs.Add(field+".mac_address", *s.MacAddress, "only allowed when mac_type is MANUAL")
		case *macType == "MANUAL":
			card.MacAddress = *s.MacAddress
		default:
			card.MacAddress = ""
		}
	}
	if s.UptCompatibilityEnabled != nil {
		card.UptCompatibilityEnabled = s.UptCompatibilityEnabled
	}
	if s.WakeOnLANEnabled != nil {
		card.WakeOnLanEnabled = s.WakeOnLANEnabled
	}
	if backing && s.Backing != nil {
		if nb := b.ethernetBacking(*s.Backing, field+".backing"); nb != nil {
			card.Backing = nb
		}
	}
	b.connectable(&card.VirtualDevice, s.StartConnected, s.AllowGuestControl)
}

// connectable sets a device's start_connected and allow_guest_control (both off unless given).
func (b *deviceBuilder) connectable(d *types.VirtualDevice, startConnected, allowGuestControl *bool) {
	if d.Connectable == nil {
		d.Connectable = &types.VirtualDeviceConnectInfo{}
	}
	if startConnected != nil {
		d.Connectable.StartConnected = *startConnected
	}
	if allowGuestControl != nil {
		d.Connectable.AllowGuestControl = *allowGuestControl
	}
}

func (b *deviceBuilder) addCdrom(s CdromCreateSpec, field string) {
	var typ *string
	if s.Type != nil {
		typ = (*string)(s.Type)
	}
	kind, err := busKind(typ, map[string]bool{"ide": s.IDE != nil, "sata": s.SATA != nil}, "IDE")
	if err != nil {
		b.errs.Add(field+".type", "", err.Error())
		return
	}
	b.onlyIn(field, kind, map[string]bool{"ide": s.IDE != nil, "sata": s.SATA != nil}, strings.ToLower(kind))
	cd := &types.VirtualCdrom{}
	backing := s.Backing
	if backing == nil {
		backing = &CdromBackingSpec{Type: "HOST_DEVICE"} // vCenter's default: a host device, detected
	}
	cd.Backing = b.cdromBacking(*backing, field+".backing")
	b.connectable(&cd.VirtualDevice, s.StartConnected, s.AllowGuestControl)
	b.add(cd)
	if kind == "IDE" {
		b.ideSlot(cd, s.IDE, field+".ide")
		return
	}
	var bus, unit *int64
	if s.SATA != nil {
		bus, unit = &s.SATA.Bus, s.SATA.Unit
	}
	if ctl := b.adapterOn("SATA", bus, field+".sata"); ctl != nil {
		b.attach(cd, ctl, unit, field+".sata.unit")
	}
}

func (b *deviceBuilder) cdromBacking(s CdromBackingSpec, field string) types.BaseVirtualDeviceBackingInfo {
	access := CdromAccessType("EMULATION")
	if s.DeviceAccessType != nil {
		access = *s.DeviceAccessType
	}
	b.onlyIn(field, string(s.Type), map[string]bool{"iso_file": s.ISOFile != nil, "host_device": s.HostDevice != nil,
		"device_access_type": s.DeviceAccessType != nil}, map[CdromBackingType][]string{
		"ISO_FILE": {"iso_file"}, "HOST_DEVICE": {"host_device", "device_access_type"}, "CLIENT_DEVICE": {"device_access_type"},
	}[s.Type]...)
	switch s.Type {
	case "ISO_FILE":
		if s.ISOFile == nil {
			b.errs.Missing(field + ".iso_file")
			return nil
		}
		return &types.VirtualCdromIsoBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: *s.ISOFile}}
	case "HOST_DEVICE":
		dev := types.VirtualDeviceDeviceBackingInfo{UseAutoDetect: types.NewBool(s.HostDevice == nil)}
		if s.HostDevice != nil {
			dev.DeviceName = *s.HostDevice
		}
		if access == "EMULATION" {
			return &types.VirtualCdromAtapiBackingInfo{VirtualDeviceDeviceBackingInfo: dev}
		}
		return &types.VirtualCdromPassthroughBackingInfo{VirtualDeviceDeviceBackingInfo: dev, Exclusive: access == "PASSTHRU_EXCLUSIVE"}
	}
	remote := types.VirtualDeviceRemoteDeviceBackingInfo{UseAutoDetect: types.NewBool(false)}
	if access == "EMULATION" {
		return &types.VirtualCdromRemoteAtapiBackingInfo{VirtualDeviceRemoteDeviceBackingInfo: remote}
	}
	return &types.VirtualCdromRemotePassthroughBackingInfo{VirtualDeviceRemoteDeviceBackingInfo: remote, Exclusive: access == "PASSTHRU_EXCLUSIVE"}
}

// sio is the SIO controller floppies and serial and parallel ports sit on.
func (b *deviceBuilder) sio() types.BaseVirtualController {
	return b.devices.FindByKey(keySIO).(types.BaseVirtualController)
}

func (b *deviceBuilder) addFloppy(s FloppyCreateSpec, field string) {
	fl := &types.VirtualFloppy{}
	backing := s.Backing
	if backing == nil {
		backing = &FloppyBackingSpec{Type: "HOST_DEVICE"}
	}
	fl.Backing = b.floppyBacking(*backing, field+".backing")
	b.connectable(&fl.VirtualDevice, s.StartConnected, s.AllowGuestControl)
	b.add(fl)
	b.attach(fl, b.sio(), nil, field)
}

func (b *deviceBuilder) floppyBacking(s FloppyBackingSpec, field string) types.BaseVirtualDeviceBackingInfo {
	b.onlyIn(field, string(s.Type), map[string]bool{"image_file": s.ImageFile != nil, "host_device": s.HostDevice != nil},
		map[FloppyBackingType][]string{"IMAGE_FILE": {"image_file"}, "HOST_DEVICE": {"host_device"}}[s.Type]...)
	switch s.Type {
	case "IMAGE_FILE":
		if s.ImageFile == nil {
			b.errs.Missing(field + ".image_file")
			return nil
		}
		return &types.VirtualFloppyImageBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: *s.ImageFile}}
	case "HOST_DEVICE":
		dev := types.VirtualDeviceDeviceBackingInfo{UseAutoDetect: types.NewBool(s.HostDevice == nil)}
		if s.HostDevice != nil {
			dev.DeviceName = *s.HostDevice
		}
		return &types.VirtualFloppyDeviceBackingInfo{VirtualDeviceDeviceBackingInfo: dev}
	}
	return &types.VirtualFloppyRemoteDeviceBackingInfo{VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{UseAutoDetect: types.NewBool(false)}}
}

func (b *deviceBuilder) addParallel(s ParallelCreateSpec, field string) {
	p := &types.VirtualParallelPort{}
	backing := s.Backing
	if backing == nil {
		backing = &ParallelBackingSpec{Type: "HOST_DEVICE"}
	}
	p.Backing = b.parallelBacking(*backing, field+".backing")
	b.connectable(&p.VirtualDevice, s.StartConnected, s.AllowGuestControl)
	b.add(p)
	b.attach(p, b.sio(), nil, field)
}

func (b *deviceBuilder) parallelBacking(s ParallelBackingSpec, field string) types.BaseVirtualDeviceBackingInfo {
	b.onlyIn(field, string(s.Type), map[string]bool{"file": s.File != nil, "host_device": s.HostDevice != nil},
		map[ParallelBackingType][]string{"FILE": {"file"}, "HOST_DEVICE": {"host_device"}}[s.Type]...)
	if s.Type == "FILE" {
		if s.File == nil {
			b.errs.Missing(field + ".file")
			return nil
		}
		return &types.VirtualParallelPortFileBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: *s.File}}
	}
	dev := types.VirtualDeviceDeviceBackingInfo{UseAutoDetect: types.NewBool(s.HostDevice == nil)}
	if s.HostDevice != nil {
		dev.DeviceName = *s.HostDevice
	}
	return &types.VirtualParallelPortDeviceBackingInfo{VirtualDeviceDeviceBackingInfo: dev}
}

func (b *deviceBuilder) addSerial(s SerialCreateSpec, field string) {
	p := &types.VirtualSerialPort{YieldOnPoll: s.YieldOnPoll != nil && *s.YieldOnPoll}
	backing := s.Backing
	if backing == nil {
		backing = &SerialBackingSpec{Type: "HOST_DEVICE"}
	}
	p.Backing = b.serialBacking(*backing, field+".backing")
	b.connectable(&p.VirtualDevice, s.StartConnected, s.AllowGuestControl)
	b.add(p)
	b.attach(p, b.sio(), nil, field)
}

func (b *deviceBuilder) serialBacking(s SerialBackingSpec, field string) types.BaseVirtualDeviceBackingInfo {
	b.onlyIn(field, string(s.Type), map[string]bool{"file": s.File != nil, "host_device": s.HostDevice != nil, "pipe": s.Pipe != nil,
		"no_rx_loss": s.NoRxLoss != nil, "network_location": s.NetworkLocation != nil, "proxy": s.Proxy != nil},
		map[SerialBackingType][]string{"FILE": {"file"}, "HOST_DEVICE": {"host_device"}, "PIPE_SERVER": {"pipe", "no_rx_loss"},
			"PIPE_CLIENT": {"pipe", "no_rx_loss"}, "NETWORK_SERVER": {"network_location", "proxy"}, "NETWORK_CLIENT": {"network_location", "proxy"}}[s.Type]...)
	switch s.Type {
	case "FILE":
		if s.File == nil {
			b.errs.Missing(field + ".file")
			return nil
		}
		return &types.VirtualSerialPortFileBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: *s.File}}
	case "PIPE_SERVER", "PIPE_CLIENT":
		if s.Pipe == nil {
			b.errs.Missing(field + ".pipe")
			return nil
		}
		end := types.VirtualSerialPortEndPointServer
		if s.Type == "PIPE_CLIENT" {
			end = types.VirtualSerialPortEndPointClient
		}
		return &types.VirtualSerialPortPipeBackingInfo{VirtualDevicePipeBackingInfo: types.VirtualDevicePipeBackingInfo{PipeName: *s.Pipe},
			Endpoint: string(end), NoRxLoss: s.NoRxLoss}
	case "NETWORK_SERVER", "NETWORK_CLIENT":
		if s.NetworkLocation == nil {
			b.errs.Missing(field + ".network_location")
			return nil
		}
		dir := types.VirtualDeviceURIBackingOptionDirectionServer
		if s.Type == "NETWORK_CLIENT" {
			dir = types.VirtualDeviceURIBackingOptionDirectionClient
		}
		u := types.VirtualDeviceURIBackingInfo{ServiceURI: *s.NetworkLocation, Direction: string(dir)}
		if s.Proxy != nil {
			u.ProxyURI = *s.Proxy
		}
		return &types.VirtualSerialPortURIBackingInfo{VirtualDeviceURIBackingInfo: u}
	}
	dev := types.VirtualDeviceDeviceBackingInfo{UseAutoDetect: types.NewBool(s.HostDevice == nil)}
	if s.HostDevice != nil {
		dev.DeviceName = *s.HostDevice
	}
	return &types.VirtualSerialPortDeviceBackingInfo{VirtualDeviceDeviceBackingInfo: dev}
}

// err is the first refusal: field errors (INVALID_ARGUMENT naming every bad field), then
// UNSUPPORTED, NOT_FOUND, or a failure to read the inventory.
func (b *deviceBuilder) err() error {
	switch {
	case b.fail != nil:
		return b.fail
	case b.errs.Len() > 0:
		return b.errs.Err()
	case b.unsupported != nil:
		return b.unsupported
	case b.notFound != nil:
		return b.notFound
	}
	return nil
}

// changes is the device part of a ConfigSpec: every added device, with its file created or its
// storage policy applied.
func (b *deviceBuilder) changes() ([]types.BaseVirtualDeviceConfigSpec, error) {
	specs, err := b.added.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		ds := s.GetVirtualDeviceConfigSpec()
		if b.creates[ds.Device] {
			ds.FileOperation = types.VirtualDeviceConfigSpecFileOperationCreate
		}
		if p, ok := b.profiles[ds.Device]; ok {
			ds.Profile = []types.BaseVirtualMachineProfileSpec{&types.VirtualMachineDefinedProfileSpec{ProfileId: p}}
		}
	}
	return specs, nil
}
