package inventory

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func TestSwitchTypesOnTheWire(t *testing.T) {
	answer := `<returnval type="DistributedVirtualSwitch">dvs-82</returnval>` +
		`<val xsi:type="ManagedObjectReference" type="DistributedVirtualSwitch">dvs-82</val>` +
		`<ManagedObjectReference type="DistributedVirtualSwitch" xsi:type="ManagedObjectReference">dvs-90</ManagedObjectReference>` +
		`<childType><string>DistributedVirtualSwitch</string></childType>` +
		`<obj type="DistributedVirtualPortgroup">dvportgroup-87</obj>`
	want := `<returnval type="VmwareDistributedVirtualSwitch">dvs-82</returnval>` +
		`<val xsi:type="ManagedObjectReference" type="VmwareDistributedVirtualSwitch">dvs-82</val>` +
		`<ManagedObjectReference type="VmwareDistributedVirtualSwitch" xsi:type="ManagedObjectReference">dvs-90</ManagedObjectReference>` +
		`<childType><string>DistributedVirtualSwitch</string></childType>` +
		`<obj type="DistributedVirtualPortgroup">dvportgroup-87</obj>`
	if got := string(presentSwitches([]byte(answer))); got != want {
		t.Errorf("presentSwitches:\n got %s\nwant %s", got, want)
	}
	// A client's answer is read back unchanged.
	if got := string(presentSwitches([]byte(want))); got != want {
		t.Errorf("presentSwitches changed a presented answer:\n%s", got)
	}

	request := `<_this type='VmwareDistributedVirtualSwitch'>dvs-82</_this>` +
		`<propSet><type>VmwareDistributedVirtualSwitch</type><pathSet>config</pathSet></propSet>` +
		`<vim25:type>VmwareDistributedVirtualSwitch</vim25:type>` +
		`<moType>VmwareDistributedVirtualSwitch</moType>` +
		`<obj type="DistributedVirtualSwitch">dvs-82</obj>` +
		`<name>VmwareDistributedVirtualSwitch</name>`
	wantRequest := `<_this type='DistributedVirtualSwitch'>dvs-82</_this>` +
		`<propSet><type>DistributedVirtualSwitch</type><pathSet>config</pathSet></propSet>` +
		`<vim25:type>DistributedVirtualSwitch</vim25:type>` +
		`<moType>DistributedVirtualSwitch</moType>` +
		`<obj type="DistributedVirtualSwitch">dvs-82</obj>` +
		`<name>VmwareDistributedVirtualSwitch</name>`
	if got := string(acceptSwitches([]byte(request))); got != wantRequest {
		t.Errorf("acceptSwitches:\n got %s\nwant %s", got, wantRequest)
	}
}

func TestDurableTouchedNamesSwitchesAsTheSimulatorDoes(t *testing.T) {
	d := &durable{dirty: map[types.ManagedObjectReference]struct{}{}, kick: make(chan struct{}, 1)}
	d.touched([]types.ManagedObjectReference{{Type: "VmwareDistributedVirtualSwitch", Value: "dvs-82"}})
	if _, ok := d.dirty[types.ManagedObjectReference{Type: "DistributedVirtualSwitch", Value: "dvs-82"}]; !ok || len(d.dirty) != 1 {
		t.Errorf("dirty after touching the switch = %v", d.dirty)
	}
}
