package inventory

import (
	"slices"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func TestSOAPCallNamesTheObjectsAChangeTouches(t *testing.T) {
	setField := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><SetField xmlns="urn:vim25"><_this type="CustomFieldsManager">CustomFieldsManager</_this>
<entity type="VirtualMachine">vm-42</entity><key>1</key><value>team-a</value></SetField></soapenv:Body></soapenv:Envelope>`
	got := soapCall([]byte(setField))
	want := []types.ManagedObjectReference{
		{Type: "CustomFieldsManager", Value: "CustomFieldsManager"},
		{Type: "VirtualMachine", Value: "vm-42"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("SetField names %v, want %v", got, want)
	}
	read := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this>
<specSet><objectSet><obj type="VirtualMachine">vm-42</obj></objectSet></specSet></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>`
	if got := soapCall([]byte(read)); got != nil {
		t.Errorf("a read names %v, want nothing", got)
	}
	if got := soapCall([]byte("<not-soap")); got != nil {
		t.Errorf("garbage names %v", got)
	}
}
