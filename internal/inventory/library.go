package inventory

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"text/template"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vim25/soap"
)

// Content libraries are created through the simulator's own REST API, then
// given the spec's fixed ids.
//
// The vAPI simulator always assigns random UUIDs and offers no way to choose
// or import an id (google/uuid's generator could be seeded, but it is
// process-wide and other code would draw from it). So, once a library or item
// exists, and before any file is stored under its id, it is re-keyed: its ID
// field and its key in the simulator's maps are changed under the simulator's
// lock, and the library's directory is renamed. The maps are exported fields
// of an unexported type, reached by reflection; rekey fails loudly if a
// govmomi upgrade changes that layout.

// libraryNamespace derives item ids (and the libraries' server GUID) that
// stay the same across restarts.
var libraryNamespace = uuid.MustParse("0a5c52b4-6a1f-4b1c-9d7e-8a35c2f0c1a7")

// ItemID returns the id an item named name gets in the library with id
// libraryID when the spec does not set one.
func ItemID(libraryID, name string) string {
	return uuid.NewSHA1(uuid.MustParse(libraryID), []byte(name)).String()
}

func (inv *Inventory) createLibraries(ctx context.Context, b *builder) error {
	if len(inv.spec.ContentLibraries) == 0 {
		return nil
	}
	m := library.NewManager(inv.rest)
	serverGUID := uuid.NewSHA1(libraryNamespace, []byte(inv.spec.Datacenter)).String()
	for _, ls := range inv.spec.ContentLibraries {
		dsName := ls.Datastore
		if dsName == "" {
			dsName = inv.spec.Datastores[0].Name
		}
		ds := b.datastores[dsName]
		description := ls.Description
		tempID, err := m.CreateLibrary(ctx, library.Library{
			Name:        ls.Name,
			Description: &description,
			Type:        "LOCAL",
			Storage:     []library.StorageBacking{{DatastoreID: ds.ref.Value, Type: "DATASTORE"}},
		})
		if err != nil {
			return fmt.Errorf("content library %s: %w", ls.Name, err)
		}
		if err := inv.vapi.rekeyLibrary(tempID, ls.ID, serverGUID); err != nil {
			return fmt.Errorf("content library %s: %w", ls.Name, err)
		}
		if err := os.Rename(filepath.Join(ds.dir, "contentlib-"+tempID), filepath.Join(ds.dir, "contentlib-"+ls.ID)); err != nil {
			return fmt.Errorf("content library %s: %w", ls.Name, err)
		}
		for _, it := range ls.Items {
			if err := inv.createItem(ctx, m, ls.ID, it); err != nil {
				return fmt.Errorf("content library %s item %s: %w", ls.Name, it.Name, err)
			}
		}
	}
	return nil
}

func (inv *Inventory) createItem(ctx context.Context, m *library.Manager, libraryID string, spec LibraryItemSpec) error {
	id := spec.ID
	if id == "" {
		id = ItemID(libraryID, spec.Name)
	}
	description := spec.Description
	tempID, err := m.CreateLibraryItem(ctx, library.Item{
		LibraryID:   libraryID,
		Name:        spec.Name,
		Description: &description,
		Type:        library.ItemTypeOVF,
	})
	if err != nil {
		return err
	}
	if err := inv.vapi.rekeyItem(libraryID, tempID, id); err != nil {
		return err
	}

	descriptor, err := ovfDescriptor(spec)
	if err != nil {
		return err
	}
	session, err := m.CreateLibraryItemUpdateSession(ctx, library.Session{LibraryItemID: id})
	if err != nil {
		return err
	}
	file, err := m.AddLibraryItemFile(ctx, session, library.UpdateFile{Name: spec.Name + ".ovf", SourceType: "PUSH"})
	if err != nil {
		return err
	}
	u, err := url.Parse(file.UploadEndpoint.URI)
	if err != nil {
		return err
	}
	upload := soap.DefaultUpload
	upload.Method = http.MethodPut
	upload.ContentLength = int64(len(descriptor))
	if err := inv.rest.Upload(ctx, bytes.NewReader(descriptor), u, &upload); err != nil {
		return err
	}
	return m.CompleteLibraryItemUpdateSession(ctx, session)
}

// libraryMap returns the simulator handler's map of libraries by id, with
// the handler's lock; see the comment at the top of this file.
func (p *vapiProxy) libraryMap() (reflect.Value, sync.Locker, error) {
	h, locker, err := p.handlerState()
	if err != nil {
		return reflect.Value{}, nil, err
	}
	libs := h.FieldByName("Library")
	if !libs.IsValid() || libs.Kind() != reflect.Map || libs.Type().Key().Kind() != reflect.String {
		return reflect.Value{}, nil, fmt.Errorf("vAPI simulator handler %T: no Library map", p.sim)
	}
	return libs, locker, nil
}

// embedded returns the field named name (a pointer) of the struct v points to.
func embedded[T any](v reflect.Value, name string) (T, error) {
	var zero T
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return zero, fmt.Errorf("unexpected %s", v.Type())
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || !f.CanInterface() {
		return zero, fmt.Errorf("%s has no field %s", v.Type(), name)
	}
	out, ok := f.Interface().(T)
	if !ok {
		return zero, fmt.Errorf("%s.%s is %s", v.Type(), name, f.Type())
	}
	return out, nil
}

func (p *vapiProxy) rekeyLibrary(from, to, serverGUID string) error {
	libs, locker, err := p.libraryMap()
	if err != nil {
		return err
	}
	locker.Lock()
	defer locker.Unlock()
	defer p.generation.Add(1) // the state changes in place, under the lock
	entry := libs.MapIndex(reflect.ValueOf(from))
	if !entry.IsValid() {
		return fmt.Errorf("library %s not in the simulator", from)
	}
	if libs.MapIndex(reflect.ValueOf(to)).IsValid() {
		return fmt.Errorf("library id %s already in use", to)
	}
	lib, err := embedded[*library.Library](entry, "Library")
	if err != nil {
		return err
	}
	lib.ID = to
	lib.ServerGUID = serverGUID
	libs.SetMapIndex(reflect.ValueOf(from), reflect.Value{})
	libs.SetMapIndex(reflect.ValueOf(to), entry)
	return nil
}

func (p *vapiProxy) rekeyItem(libraryID, from, to string) error {
	libs, locker, err := p.libraryMap()
	if err != nil {
		return err
	}
	locker.Lock()
	defer locker.Unlock()
	defer p.generation.Add(1) // the state changes in place, under the lock
	entry := libs.MapIndex(reflect.ValueOf(libraryID))
	if !entry.IsValid() {
		return fmt.Errorf("library %s not in the simulator", libraryID)
	}
	items := entry.Elem().FieldByName("Item")
	if !items.IsValid() || items.Kind() != reflect.Map || items.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("vAPI simulator library: no Item map")
	}
	item := items.MapIndex(reflect.ValueOf(from))
	if !item.IsValid() {
		return fmt.Errorf("item %s not in library %s", from, libraryID)
	}
	if items.MapIndex(reflect.ValueOf(to)).IsValid() {
		return fmt.Errorf("item id %s already in use", to)
	}
	it, err := embedded[*library.Item](item, "Item")
	if err != nil {
		return err
	}
	it.ID = to
	items.SetMapIndex(reflect.ValueOf(from), reflect.Value{})
	items.SetMapIndex(reflect.ValueOf(to), item)
	return nil
}

// ovfTemplate describes a small VM with one blank 20 GiB disk: enough for
// clients to list, inspect and deploy the item, with no disk file to carry.
var ovfTemplate = template.Must(template.New("ovf").Funcs(template.FuncMap{"xml": xmlText}).Parse(
	`<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References/>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:capacity="20" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="disk1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks</Info>
    <Network ovf:name="nic0">
      <Description>Primary network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{{xml .Name}}">
    <Info>A virtual machine</Info>
    <Name>{{xml .Name}}</Name>
    <AnnotationSection>
      <Info>Description</Info>
      <Annotation>{{xml .Description}}</Annotation>
    </AnnotationSection>
    <OperatingSystemSection ovf:id="101"{{with .OSVersion}} ovf:version="{{xml .}}"{{end}} vmw:osType="{{xml .GuestOS}}">
      <Info>Guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{{xml .Name}}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of virtual CPUs</rasd:Description>
        <rasd:ElementName>{{.CPUs}} virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>{{.CPUs}}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory size</rasd:Description>
        <rasd:ElementName>{{.MemoryMiB}}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>{{.MemoryMiB}}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI controller</rasd:Description>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/disk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>nic0</rasd:Connection>
        <rasd:Description>VmxNet3 ethernet adapter on "nic0"</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`))

func xmlText(s string) (string, error) {
	var b strings.Builder
	err := xml.EscapeText(&b, []byte(s))
	return b.String(), err
}

// ovfDescriptor renders the descriptor stored in a library item.
func ovfDescriptor(spec LibraryItemSpec) ([]byte, error) {
	if spec.CPUs == 0 {
		spec.CPUs = 2
	}
	if spec.MemoryMiB == 0 {
		spec.MemoryMiB = 4096
	}
	if spec.GuestOS == "" {
		spec.GuestOS = "otherLinux64Guest"
	}
	var b bytes.Buffer
	err := ovfTemplate.Execute(&b, spec)
	return b.Bytes(), err
}
