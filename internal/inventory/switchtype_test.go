package inventory_test

import (
	"context"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/inventory"
)

// The default inventory's switch as vCenter would name it.
var defaultSwitch = types.ManagedObjectReference{Type: "VmwareDistributedVirtualSwitch", Value: "dvs-82"}

// TestDistributedSwitchIsAVMwareSwitch checks what a client notices of the switch built from the
// inventory file: it is a VmwareDistributedVirtualSwitch wherever a reference to it appears, its
// own methods work under that type, and a restart keeps its id and type.
func TestDistributedSwitchIsAVMwareSwitch(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	base := t.TempDir()
	st := openTestStore(t, filepath.Join(base, "store"))
	cfg := inventory.Config{Store: st, Dir: filepath.Join(base, "inventory")}
	s := startTestServer(t, cfg)

	c := soapLogin(t, ctx, s.ts.URL, url.UserPassword(testUser, testPassword))
	if c == nil {
		t.Fatal("login refused")
	}
	members := []string{"host-18", "host-27", "host-36", "host-48", "host-57", "host-66"}
	checkVMwareSwitch(t, ctx, c, []string{"DSwitch-DVUplinks-82", "DPG-Management", "DPG-Workload"}, members)
	// wcpd's own code sees the switch the same way.
	checkVMwareSwitch(t, ctx, s.inv.Client(), []string{"DSwitch-DVUplinks-82", "DPG-Management", "DPG-Workload"}, members)

	if out := s.mustGovc(t, "ls", "-i", "/Datacenter/network"); !strings.Contains(out, "VmwareDistributedVirtualSwitch:dvs-82\n") {
		t.Errorf("govc ls -i /Datacenter/network:\n%s", out)
	}
	if out := s.mustGovc(t, "find", "-i", "/Datacenter/network", "-type", "DistributedVirtualSwitch"); out != "VmwareDistributedVirtualSwitch:dvs-82\n" {
		t.Errorf("govc find -type DistributedVirtualSwitch = %q", out)
	}
	if out := s.mustGovc(t, "dvs.portgroup.info", "-pg", "DPG-Management", "DSwitch"); !strings.Contains(out, "PortgroupKey: dvportgroup-87\n") {
		t.Errorf("govc dvs.portgroup.info:\n%s", out)
	}

	// The switch's own methods, called on the VMware type: the edge host joins, a port group is
	// added, the ports are listed.
	sw, ok := object.NewReference(c, defaultSwitch).(*object.VmwareDistributedVirtualSwitch)
	if !ok {
		t.Fatalf("object.NewReference(%s) = %T", defaultSwitch, object.NewReference(c, defaultSwitch))
	}
	edge := types.ManagedObjectReference{Type: "HostSystem", Value: "host-78"}
	task, err := sw.Reconfigure(ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{
		Host: []types.DistributedVirtualSwitchHostMemberConfigSpec{{Operation: string(types.ConfigSpecOperationAdd), Host: edge}},
	}})
	if err != nil {
		t.Fatalf("ReconfigureDvs_Task: %v", err)
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		t.Fatalf("ReconfigureDvs_Task: %v", err)
	}
	if info.Entity == nil || *info.Entity != defaultSwitch {
		t.Errorf("the reconfiguration task's entity = %v, want %s", info.Entity, defaultSwitch)
	}
	task, err = sw.AddPortgroup(ctx, []types.DVPortgroupConfigSpec{{
		Name: "DPG-Added", Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 4,
	}})
	if err != nil {
		t.Fatalf("AddDVPortgroup_Task: %v", err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatalf("AddDVPortgroup_Task: %v", err)
	}
	if ports, err := sw.FetchDVPorts(ctx, &types.DistributedVirtualSwitchPortCriteria{}); err != nil || len(ports) == 0 {
		t.Errorf("FetchDVPorts: %d ports, %v", len(ports), err)
	}
	withAdded := []string{"DSwitch-DVUplinks-82", "DPG-Management", "DPG-Workload", "DPG-Added"}
	withEdge := append(slices.Clone(members), "host-78")
	checkVMwareSwitch(t, ctx, c, withAdded, withEdge)
	s.stop()

	// The store keeps the switch under the type the simulator holds it by, as data dirs written
	// before switches were presented as VMware ones did; a restart from it gives the same switch.
	stored, err := st.ReadPrefix(ctx, "inventory/objects/")
	if err != nil {
		t.Fatal(err)
	}
	var switchKeys []string
	for _, e := range stored {
		if strings.Contains(e.Key, "DistributedVirtualSwitch/") {
			switchKeys = append(switchKeys, e.Key)
		}
	}
	if want := []string{"inventory/objects/DistributedVirtualSwitch/dvs-82"}; !slices.Equal(switchKeys, want) {
		t.Errorf("stored switches = %q, want %q", switchKeys, want)
	}

	s = startTestServer(t, cfg)
	c = soapLogin(t, ctx, s.ts.URL, url.UserPassword(testUser, testPassword))
	if c == nil {
		t.Fatal("login refused after the restart")
	}
	checkVMwareSwitch(t, ctx, c, withAdded, withEdge)
	// And it still takes changes.
	sw = object.NewReference(c, defaultSwitch).(*object.VmwareDistributedVirtualSwitch)
	task, err = sw.AddPortgroup(ctx, []types.DVPortgroupConfigSpec{{
		Name: "DPG-After", Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 4,
	}})
	if err != nil {
		t.Fatalf("AddDVPortgroup_Task after the restart: %v", err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatalf("AddDVPortgroup_Task after the restart: %v", err)
	}
	checkVMwareSwitch(t, ctx, c, append(withAdded, "DPG-After"), withEdge)
}

// checkVMwareSwitch checks, through c, that the default switch is found, listed and read as a
// VmwareDistributedVirtualSwitch, that its port groups are portGroups (in order) and point at
// it, and that its members are hosts.
func checkVMwareSwitch(t *testing.T, ctx context.Context, c *vim25.Client, portGroups, hosts []string) {
	t.Helper()
	finder := find.NewFinder(c)
	dc, err := finder.Datacenter(ctx, "Datacenter")
	if err != nil {
		t.Fatal(err)
	}
	finder.SetDatacenter(dc)
	found, err := finder.Network(ctx, "DSwitch")
	if err != nil {
		t.Fatalf("finder.Network(DSwitch): %v", err)
	}
	if found.Reference() != defaultSwitch {
		t.Errorf("finder.Network(DSwitch) = %s (%T), want %s", found.Reference(), found, defaultSwitch)
	}
	nets, err := finder.NetworkList(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	var switches []types.ManagedObjectReference
	for _, n := range nets {
		if strings.HasSuffix(n.Reference().Type, "DistributedVirtualSwitch") {
			switches = append(switches, n.Reference())
		}
	}
	if !slices.Equal(switches, []types.ManagedObjectReference{defaultSwitch}) {
		t.Errorf("finder.NetworkList(*) switches = %v, want %s", switches, defaultSwitch)
	}

	// The VMware type's object and mo value read its configuration.
	sw, ok := object.NewReference(c, defaultSwitch).(*object.VmwareDistributedVirtualSwitch)
	if !ok {
		t.Fatalf("object.NewReference(%s) = %T", defaultSwitch, object.NewReference(c, defaultSwitch))
	}
	var props mo.VmwareDistributedVirtualSwitch
	if err := sw.Properties(ctx, sw.Reference(), []string{"name", "uuid", "config", "portgroup", "summary.hostMember"}, &props); err != nil {
		t.Fatalf("reading the switch as a VmwareDistributedVirtualSwitch: %v", err)
	}
	cfg, ok := props.Config.(*types.VMwareDVSConfigInfo)
	if !ok || props.Self != defaultSwitch || props.Name != "DSwitch" || cfg.Name != "DSwitch" || cfg.MaxMtu != 9000 || cfg.Uuid != props.Uuid {
		t.Errorf("switch %s %q: config %T %+v", props.Self, props.Name, props.Config, cfg)
	}
	var members []string
	for _, h := range props.Summary.HostMember {
		members = append(members, h.Value)
	}
	if !slices.Equal(members, hosts) {
		t.Errorf("switch members = %v, want %v", members, hosts)
	}

	// Its port groups point at it.
	var pgs []mo.DistributedVirtualPortgroup
	if err := property.DefaultCollector(c).Retrieve(ctx, props.Portgroup, []string{"name", "config.distributedVirtualSwitch"}, &pgs); err != nil {
		t.Fatal(err)
	}
	byRef := map[types.ManagedObjectReference]mo.DistributedVirtualPortgroup{}
	for _, pg := range pgs {
		byRef[pg.Self] = pg
	}
	var names []string
	for _, ref := range props.Portgroup {
		pg := byRef[ref]
		names = append(names, pg.Name)
		if pg.Config.DistributedVirtualSwitch == nil || *pg.Config.DistributedVirtualSwitch != defaultSwitch {
			t.Errorf("port group %s %q points at %v, want %s", ref, pg.Name, pg.Config.DistributedVirtualSwitch, defaultSwitch)
		}
	}
	if !slices.Equal(names, portGroups) {
		t.Errorf("port groups = %q, want %q", names, portGroups)
	}

	// A container view of either type lists it (VmwareDistributedVirtualSwitch is a
	// DistributedVirtualSwitch).
	for _, kind := range []string{"DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"} {
		v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{kind}, true)
		if err != nil {
			t.Fatal(err)
		}
		var listed mo.ContainerView
		err = property.DefaultCollector(c).RetrieveOne(ctx, v.Reference(), []string{"view"}, &listed)
		_ = v.Destroy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(listed.View, []types.ManagedObjectReference{defaultSwitch}) {
			t.Errorf("container view of %s = %v, want %s", kind, listed.View, defaultSwitch)
		}
		var read []mo.VmwareDistributedVirtualSwitch
		if err := retrieveKind(ctx, c, kind, &read); err != nil || len(read) != 1 || read[0].Self != defaultSwitch {
			t.Errorf("properties of every %s: %v, %v", kind, read, err)
		}
	}
}

// retrieveKind reads the name of every object of type kind, with a property spec of that type.
func retrieveKind(ctx context.Context, c *vim25.Client, kind string, dst any) error {
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{kind}, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(ctx) }()
	return v.Retrieve(ctx, []string{kind}, []string{"name"}, dst)
}
