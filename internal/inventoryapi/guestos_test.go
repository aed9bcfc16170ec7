package inventoryapi

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

// TestGuestOSMapping holds the derived mapping between vim's guest ids and the vAPI enumeration to
// what it promises: every value of the 8.0U2 enumeration has exactly one vim id and maps back to
// it, the three Windows Server spellings are named, and ids newer than 8.0U2 read as OTHER(_64).
func TestGuestOSMapping(t *testing.T) {
	byVim, byEnum := guestOSTables()
	values := GuestOS("").EnumValues()
	if len(values) == 0 {
		t.Fatal("no guest_OS enumeration in the interface metadata")
	}
	for _, v := range values {
		id := guestIDOf(GuestOS(v))
		if id == "" {
			t.Errorf("%s has no vim guest id", v)
			continue
		}
		if back := guestOSOf(id); back != v {
			t.Errorf("%s → %s → %s", v, id, back)
		}
	}
	if len(byVim) != len(byEnum) || len(byEnum) != len(values) {
		t.Errorf("%d vim ids map to %d values; the enumeration has %d", len(byVim), len(byEnum), len(values))
	}
	for id, want := range map[string]string{
		"ubuntu64Guest": "UBUNTU_64", "windows9Server64Guest": "WINDOWS_9_SERVER_64", "otherGuest64": "OTHER_64",
		"otherGuest": "OTHER", "vmwarePhoton64Guest": "VMWARE_PHOTON_64", "rockylinux_64Guest": "ROCKYLINUX_64",
		"windows2019srv_64Guest": "WINDOWS_SERVER_2019", "windows2019srvNext_64Guest": "WINDOWS_SERVER_2021",
		"windows2022srvNext_64Guest": "WINDOWS_SERVER_2025",
		// Later than 8.0U2.
		"rhel10_64Guest": "OTHER_64", "freebsd15Guest": "OTHER", "": "OTHER",
	} {
		if got := guestOSOf(id); got != want {
			t.Errorf("guestOSOf(%q) = %s, want %s", id, got, want)
		}
	}
	// Every vim id govmomi knows reads as some value of the enumeration.
	for _, id := range types.VirtualMachineGuestOsIdentifier("").Values() {
		if v := guestOSOf(string(id)); !contains(values, v) {
			t.Errorf("guestOSOf(%s) = %s, not in the enumeration", id, v)
		}
	}
}

func TestHardwareVersionOf(t *testing.T) {
	for in, want := range map[string]string{"vmx-13": "VMX_13", "vmx-7": "VMX_07", "vmx-21": "VMX_21", "": "", "other": ""} {
		if got := hardwareVersionOf(in); got != want {
			t.Errorf("hardwareVersionOf(%q) = %q, want %q", in, got, want)
		}
	}
}
