package inventoryapi

import (
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/types"
)

// GuestOS is vcenter.vm.GuestOS: the guest operating system a VM is configured for.
type GuestOS string

// EnumValues lists the accepted values.
func (GuestOS) EnumValues() []string { return enumValues("com.vmware.vcenter.vm.guest_OS") }

// The vAPI enumeration and vim's guest ids (VirtualMachineGuestOsIdentifier) name the same
// systems in two spellings: "UBUNTU_64" is "ubuntu64Guest", "WINDOWS_9_SERVER_64" is
// "windows9Server64Guest". Lower-cased, without underscores and without "guest", the two agree for
// every vim id that vSphere 8.0U2 knows, one to one; three Windows Server ids are spelled
// differently and are named below. Ids vSphere added later (govmomi knows them, the 8.0U2
// enumeration does not: freebsd15Guest, rhel10_64Guest, ...) have no value of their own and read
// as OTHER_64 or OTHER, by whether the id says it is 64-bit.
var guestOSNamed = map[string]string{
	"windows2019srv_64Guest":     "WINDOWS_SERVER_2019",
	"windows2019srvNext_64Guest": "WINDOWS_SERVER_2021",
	"windows2022srvNext_64Guest": "WINDOWS_SERVER_2025",
}

// guestOSKey is the spelling both names share.
func guestOSKey(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "_", "")
	return strings.ReplaceAll(s, "guest", "")
}

var guestOSTables = sync.OnceValues(func() (byVim, byEnum map[string]string) {
	byKey := map[string]string{}
	for _, v := range GuestOS("").EnumValues() {
		byKey[guestOSKey(v)] = v
	}
	byVim, byEnum = map[string]string{}, map[string]string{}
	for _, id := range types.VirtualMachineGuestOsIdentifier("").Values() {
		v, ok := guestOSNamed[string(id)]
		if !ok {
			v, ok = byKey[guestOSKey(string(id))]
		}
		if ok {
			byVim[string(id)] = v
			byEnum[v] = string(id)
		}
	}
	return byVim, byEnum
})

// guestOSOf is the enumeration value of vim's guest id.
func guestOSOf(guestID string) string {
	byVim, _ := guestOSTables()
	if v, ok := byVim[guestID]; ok {
		return v
	}
	if strings.Contains(guestID, "64") {
		return "OTHER_64"
	}
	return "OTHER"
}

// guestIDOf is vim's guest id for an enumeration value ("" when there is none).
func guestIDOf(os GuestOS) string {
	_, byEnum := guestOSTables()
	return byEnum[string(os)]
}
