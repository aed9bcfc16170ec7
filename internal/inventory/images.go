package inventory

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/ovf"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// ImageDetails is what an OVF or OVA library item's descriptor says of the VM it makes: what VM
// Operator reports in a VirtualMachineImage's status.
type ImageDetails struct {
	OSID            string // the OVF operating system id (CIM_OperatingSystem's numbering)
	GuestOS         string // vSphere's guest OS identifier (vmw:osType)
	OSVersion       string
	HardwareVersion int32  // from the virtual system type vmx-NN; 0 when not said
	Firmware        string // "efi" or "bios"; "" when not said
	CPUs            int
	MemoryMiB       int64
	Disks           []ImageDisk
	Product         string
	Vendor          string
	Version         string
}

// ImageDisk is a disk of an image: its id in the descriptor and its capacity.
type ImageDisk struct {
	Name          string
	CapacityBytes int64
}

// maxDescriptorBytes bounds what is read of a descriptor.
const maxDescriptorBytes = 4 << 20

// ItemImage reads the descriptor of library item itemID of library libraryID from the item's
// files on its library's datastore. An item that is not an OVF or OVA wraps ErrNotFound.
func (inv *Inventory) ItemImage(ctx context.Context, libraryID, itemID string) (ImageDetails, error) {
	lib, err := library.NewManager(inv.rest).GetLibraryByID(ctx, libraryID)
	if err != nil {
		return ImageDetails{}, fmt.Errorf("content library %s: %w", libraryID, err)
	}
	if len(lib.Storage) == 0 {
		return ImageDetails{}, fmt.Errorf("content library %s has no storage: %w", libraryID, ErrNotFound)
	}
	var ds mo.Datastore
	dsRef := types.ManagedObjectReference{Type: "Datastore", Value: lib.Storage[0].DatastoreID}
	if err := property.DefaultCollector(inv.client).RetrieveOne(ctx, dsRef, []string{"info"}, &ds); err != nil {
		return ImageDetails{}, fmt.Errorf("the datastore of content library %s: %w", libraryID, err)
	}
	dir := filepath.Join(ds.Info.GetDatastoreInfo().Url, "contentlib-"+libraryID, itemID)
	descriptor, err := readDescriptor(dir)
	if err != nil {
		return ImageDetails{}, fmt.Errorf("library item %s: %w", itemID, err)
	}
	return parseImage(descriptor)
}

// readDescriptor returns the OVF descriptor among an item's files: an .ovf file, or the .ovf
// inside an .ova.
func readDescriptor(dir string) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no files: %w", ErrNotFound)
		}
		return nil, err
	}
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".ovf":
			f, err := os.Open(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return io.ReadAll(io.LimitReader(f, maxDescriptorBytes))
		case ".ova":
			f, err := os.Open(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			tr := tar.NewReader(f)
			for {
				h, err := tr.Next()
				if err != nil {
					return nil, fmt.Errorf("%s holds no .ovf descriptor: %w", e.Name(), ErrNotFound)
				}
				if strings.EqualFold(filepath.Ext(h.Name), ".ovf") {
					return io.ReadAll(io.LimitReader(tr, maxDescriptorBytes))
				}
			}
		}
	}
	return nil, fmt.Errorf("no OVF descriptor: %w", ErrNotFound)
}

// parseImage reads the details of the first virtual system of a descriptor.
func parseImage(descriptor []byte) (ImageDetails, error) {
	env, err := ovf.Unmarshal(bytes.NewReader(descriptor))
	if err != nil {
		return ImageDetails{}, fmt.Errorf("the OVF descriptor: %w", err)
	}
	var out ImageDetails
	if env.Disk != nil {
		for _, d := range env.Disk.Disks {
			capacity, _ := strconv.ParseInt(d.Capacity, 10, 64)
			if d.CapacityAllocationUnits != nil {
				capacity *= ovf.ParseCapacityAllocationUnits(*d.CapacityAllocationUnits)
			}
			out.Disks = append(out.Disks, ImageDisk{Name: d.DiskID, CapacityBytes: capacity})
		}
	}
	vs := env.VirtualSystem
	if vs == nil {
		return out, nil
	}
	if sys := vs.OperatingSystem; sys != nil {
		out.OSID = strconv.Itoa(int(sys.ID))
		if sys.OSType != nil {
			out.GuestOS = *sys.OSType
		}
		if sys.Version != nil {
			out.OSVersion = *sys.Version
		}
	}
	if len(vs.Product) > 0 {
		out.Product, out.Vendor, out.Version = vs.Product[0].Product, vs.Product[0].Vendor, vs.Product[0].Version
	}
	if len(vs.VirtualHardware) == 0 {
		return out, nil
	}
	hw := vs.VirtualHardware[0]
	if hw.System != nil && hw.System.VirtualSystemType != nil {
		for _, t := range strings.Fields(*hw.System.VirtualSystemType) {
			if n, err := strconv.Atoi(strings.TrimPrefix(t, "vmx-")); err == nil && strings.HasPrefix(t, "vmx-") {
				out.HardwareVersion = max(out.HardwareVersion, int32(n))
			}
		}
	}
	for _, c := range hw.Config {
		if c.Key == "firmware" {
			out.Firmware = c.Value
		}
	}
	for _, item := range hw.Item {
		if item.ResourceType == nil || item.VirtualQuantity == nil {
			continue
		}
		switch *item.ResourceType {
		case ovf.Processor:
			out.CPUs = int(*item.VirtualQuantity)
		case ovf.Memory:
			size := int64(*item.VirtualQuantity) << 20 // MB unless said otherwise
			if item.AllocationUnits != nil {
				if unit := ovf.ParseCapacityAllocationUnits(*item.AllocationUnits); unit > 0 {
					size = int64(*item.VirtualQuantity) * unit
				}
			}
			out.MemoryMiB = size >> 20
		}
	}
	return out, nil
}

// LibraryItemImage is ItemImage for an item known by its id alone.
func (inv *Inventory) LibraryItemImage(ctx context.Context, itemID string) (ImageDetails, error) {
	item, err := library.NewManager(inv.rest).GetLibraryItem(ctx, itemID)
	if err != nil {
		return ImageDetails{}, fmt.Errorf("library item %s: %w", itemID, err)
	}
	return inv.ItemImage(ctx, item.LibraryID, itemID)
}

// DiskMiB is the capacity of the image's disks, in MiB (rounded up).
func (d ImageDetails) DiskMiB() int64 {
	var total int64
	for _, disk := range d.Disks {
		total += (disk.CapacityBytes + 1<<20 - 1) >> 20
	}
	return total
}
