package inventory_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/inventory"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDefaultInventoryThroughGovc(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})

	if out := s.mustGovc(t, "ls"); !strings.Contains(out, "/Datacenter/host\n") {
		t.Errorf("govc ls does not show the datacenter:\n%s", out)
	}
	want := "/Datacenter/host/Cluster-A\n/Datacenter/host/Cluster-B\n/Datacenter/host/Edge-Single\n"
	if out := s.mustGovc(t, "ls", "/Datacenter/host"); out != want {
		t.Errorf("govc ls /Datacenter/host = %q, want %q", out, want)
	}

	info := s.mustGovc(t, "host.info", "/Datacenter/host/Cluster-A/esx-01.wcpd.local")
	for _, want := range []string{
		"Logical CPUs:    32 CPUs @ 2600MHz",
		"Processor type:  Intel(R) Xeon(R) Gold 6142 CPU @ 2.60GHz",
		"Memory:          524288MB",
		"State:           connected",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("host.info lacks %q:\n%s", want, info)
		}
	}
	edge := s.mustGovc(t, "host.info", "/Datacenter/host/Edge-Single/esx-edge-01.wcpd.local")
	if !strings.Contains(edge, "8 CPUs @ 2100MHz") || !strings.Contains(edge, "131072MB") {
		t.Errorf("edge host.info:\n%s", edge)
	}

	// The cluster summary adds up its hosts: 3 x 32 cores x 2600 MHz, 3 x 512 GiB,
	// effective = 95% (effectiveMemory is in MB, as in vSphere).
	summary := s.mustGovc(t, "object.collect", "-s", "/Datacenter/host/Cluster-A",
		"summary.totalCpu", "summary.effectiveCpu", "summary.totalMemory", "summary.effectiveMemory", "summary.numHosts")
	if want := "249600\n237120\n1649267441664\n1494220\n3\n"; summary != want {
		t.Errorf("Cluster-A summary = %q, want %q", summary, want)
	}

	policies := s.mustGovc(t, "storage.policy.ls")
	for _, want := range []string{
		"c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01  wcpd-gold",
		"c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c02  wcpd-silver",
		"aa6d5a82-1c88-45da-85d3-3d74b91a5bad  vSAN Default Storage Policy",
	} {
		if !strings.Contains(policies, want) {
			t.Errorf("storage.policy.ls lacks %q:\n%s", want, policies)
		}
	}

	// The simulator lists libraries in map order.
	libs := strings.Fields(s.mustGovc(t, "library.ls"))
	sort.Strings(libs)
	if strings.Join(libs, " ") != "/wcpd-kubernetes-releases /wcpd-vm-images" {
		t.Errorf("library.ls = %q", libs)
	}
	if out := s.mustGovc(t, "library.info", "/wcpd-kubernetes-releases"); !strings.Contains(out, "ID:                 8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02") {
		t.Errorf("TKr library does not have its fixed id:\n%s", out)
	}
	items := s.mustGovc(t, "library.ls", "/wcpd-kubernetes-releases/*")
	if !strings.Contains(items, "/wcpd-kubernetes-releases/ob-23901455-photon-5-amd64-v1.28.8---vmware.1-fips.1-tkg.2\n") {
		t.Errorf("TKr items:\n%s", items)
	}

	if out := s.mustGovc(t, "datastore.info", "SharedDatastore"); !strings.Contains(out, "Capacity:  10240.0 GB") {
		t.Errorf("datastore.info:\n%s", out)
	}

	// Tagging is another vAPI service routed through wcpd's session.
	s.mustGovc(t, "tags.category.create", "zone")
	s.mustGovc(t, "tags.create", "-c", "zone", "zone-a")
	if out := s.mustGovc(t, "tags.ls"); !strings.Contains(out, "zone-a") {
		t.Errorf("tags.ls = %q", out)
	}
}

func TestDefaultInventoryLookups(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()

	clusters, err := inv.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		id, name         string
		hosts            int
		drs, ha          bool
		totalMHz, effMHz int64
		totalMem, effMem int64
		switches         int
	}
	var got []summary
	for _, c := range clusters {
		got = append(got, summary{c.ID, c.Name, c.HostCount, c.DRSEnabled, c.HAEnabled,
			c.TotalCPUMHz, c.EffectiveCPUMHz, c.TotalMemoryBytes, c.EffectiveMemoryBytes, len(c.DistributedSwitches)})
		if c.Datacenter != "datacenter-1" || c.DatacenterName != "Datacenter" || c.ResourcePool == "" {
			t.Errorf("%s: datacenter %q %q, pool %q", c.Name, c.Datacenter, c.DatacenterName, c.ResourcePool)
		}
	}
	const gib = int64(1) << 30
	want := []summary{
		{"domain-c9", "Cluster-A", 3, true, true, 249600, 237120, 1536 * gib, 3 * (512 * gib * 95 / 100), 1},
		{"domain-c39", "Cluster-B", 3, true, true, 249600, 237120, 1536 * gib, 3 * (512 * gib * 95 / 100), 1},
		{"domain-c69", "Edge-Single", 1, true, false, 16800, 15960, 128 * gib, 128 * gib * 95 / 100, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clusters:\n got %+v\nwant %+v", got, want)
	}
	// The morefs docs/inventory.md promises for the default inventory.
	var ids []string
	for _, c := range clusters {
		ids = append(ids, c.ResourcePool)
		for _, h := range c.Hosts {
			ids = append(ids, h.ID)
		}
	}
	if want := []string{"resgroup-8", "host-18", "host-27", "host-36", "resgroup-38", "host-48", "host-57", "host-66",
		"resgroup-68", "host-78"}; !slices.Equal(ids, want) {
		t.Errorf("pool and host morefs = %v, want %v", ids, want)
	}
	h := clusters[0].Hosts[0]
	if h.Name != "esx-01.wcpd.local" || h.CPUSockets != 2 || h.CPUCores != 32 || h.CPUThreads != 64 ||
		h.CPUMHz != 2600 || h.MemoryBytes != 512*gib || !h.Connected || h.MaintenanceMode {
		t.Errorf("first host = %+v", h)
	}

	one, err := inv.Cluster(ctx, "domain-c39")
	if err != nil || one.Name != "Cluster-B" {
		t.Errorf("Cluster(domain-c39) = %v, %v", one.Name, err)
	}
	if _, err := inv.Cluster(ctx, "domain-c404"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Cluster(domain-c404) error = %v, want ErrNotFound", err)
	}

	switches, err := inv.DistributedSwitches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(switches) != 1 || switches[0].Name != "DSwitch" || len(switches[0].Hosts) != 6 {
		t.Fatalf("switches = %+v", switches)
	}
	if switches[0].ID != clusters[0].DistributedSwitches[0] {
		t.Errorf("Cluster-A reaches %v, switch is %s", clusters[0].DistributedSwitches, switches[0].ID)
	}
	var pgs []string
	for _, pg := range switches[0].PortGroups {
		pgs = append(pgs, pg.ID+" "+pg.Name)
		if pg.Uplink != strings.HasSuffix(pg.Name, "-DVUplinks-82") {
			t.Errorf("port group %s uplink = %v", pg.Name, pg.Uplink)
		}
		if pg.Key == "" || pg.ID == "" {
			t.Errorf("port group without key or id: %+v", pg)
		}
	}
	if want := []string{"dvportgroup-84 DSwitch-DVUplinks-82", "dvportgroup-87 DPG-Management", "dvportgroup-88 DPG-Workload"}; switches[0].ID != "dvs-82" || !slices.Equal(pgs, want) {
		t.Errorf("switch %s port groups = %v, want dvs-82 with %v", switches[0].ID, pgs, want)
	}

	datastores, err := inv.Datastores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(datastores) != 1 || datastores[0].ID != "datastore-79" || datastores[0].CapacityBytes != 10240*gib ||
		datastores[0].FreeBytes != 8192*gib || datastores[0].Type != "VMFS" || len(datastores[0].Hosts) != 7 {
		t.Errorf("datastores = %+v", datastores)
	}

	policies, err := inv.StoragePolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gold, err := inv.StoragePolicy(ctx, "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01")
	if err != nil || gold.Name != "wcpd-gold" || gold.K8sCompliantName != "wcpd-gold" {
		t.Errorf("gold policy = %+v, %v (all: %+v)", gold, err, policies)
	}
	if _, err := inv.StoragePolicy(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("unknown policy error = %v", err)
	}

	libraries, err := inv.ContentLibraries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var libs []string
	for _, l := range libraries {
		libs = append(libs, l.ID+" "+l.Name+" "+l.Type)
	}
	if want := []string{
		"8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02 wcpd-kubernetes-releases LOCAL",
		"8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01 wcpd-vm-images LOCAL",
	}; !slices.Equal(libs, want) {
		t.Errorf("libraries = %q, want %q", libs, want)
	}
	tkr, err := inv.ContentLibrary(ctx, "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a02")
	if err != nil || tkr.ItemCount != 4 || len(tkr.Items) != 4 {
		t.Fatalf("TKr library = %+v, %v", tkr, err)
	}
	if !slices.Contains(tkr.Items, inventory.LibraryItem{
		ID: "df0ba441-56c2-5366-8a9f-88c044cde514", Name: "ob-23901455-photon-5-amd64-v1.28.8---vmware.1-fips.1-tkg.2", Type: "ovf",
	}) {
		t.Errorf("TKr items = %+v", tkr.Items)
	}
	if id := inventory.ItemID(tkr.ID, tkr.Items[0].Name); tkr.Items[0].ID != id {
		t.Errorf("item %s has id %s, want the derived %s", tkr.Items[0].Name, tkr.Items[0].ID, id)
	}
	if _, err := inv.ContentLibrary(ctx, "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7aff"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("unknown library error = %v", err)
	}
}

// everything returns every lookup's result, for comparing inventories.
func everything(t *testing.T, ctx context.Context, inv *inventory.Inventory) []any {
	t.Helper()
	clusters, err1 := inv.Clusters(ctx)
	switches, err2 := inv.DistributedSwitches(ctx)
	datastores, err3 := inv.Datastores(ctx)
	policies, err4 := inv.StoragePolicies(ctx)
	libraries, err5 := inv.ContentLibraries(ctx)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		t.Fatal(err)
	}
	return []any{clusters, switches, datastores, policies, libraries}
}

func TestIDsAreStableAcrossStarts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var runs [][]any
	for range 2 {
		inv, err := inventory.Start(ctx, inventory.Config{Spec: customSpec(t)})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, everything(t, ctx, inv))
		inv.Close()
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Errorf("two starts of the same inventory differ:\n%+v\n%+v", runs[0], runs[1])
	}
}

func TestLookupsSeeChangesMadeWithGovc(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})
	// Read before the changes: a list kept from here must not be what answers after them.
	if libraries, err := s.inv.ContentLibraries(ctx); err != nil || len(libraries) != 2 {
		t.Fatalf("libraries before library.create = %+v, %v", libraries, err)
	}

	s.mustGovc(t, "cluster.create", "-dc", "Datacenter", "Cluster-New")
	s.mustGovc(t, "host.maintenance.enter", "/Datacenter/host/Cluster-A/esx-01.wcpd.local")
	s.mustGovc(t, "library.create", "-ds", "SharedDatastore", "scratch")

	clusters, err := s.inv.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inventory.Cluster{}
	for _, c := range clusters {
		byName[c.Name] = c
	}
	if c, ok := byName["Cluster-New"]; !ok || c.HostCount != 0 {
		t.Errorf("new cluster = %+v (present %v)", c, ok)
	}
	a := byName["Cluster-A"]
	if a.TotalCPUMHz != 249600 || a.EffectiveCPUMHz != 237120*2/3 {
		t.Errorf("Cluster-A with a host in maintenance: total %d, effective %d", a.TotalCPUMHz, a.EffectiveCPUMHz)
	}
	libraries, err := s.inv.ContentLibraries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(libraries) != 3 {
		t.Errorf("libraries after library.create = %+v", libraries)
	}
}

func TestContentLibraryItemsAreUsable(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})

	// Deploying a built-in item creates the VM its descriptor describes.
	s.mustGovc(t, "library.deploy", "-pool", "/Datacenter/host/Cluster-A/Resources",
		"/wcpd-vm-images/rocky-9.4-x86_64", "rocky")
	if out := s.mustGovc(t, "vm.info", "rocky"); !strings.Contains(out, "4 vCPU(s)") || !strings.Contains(out, "8192MB") {
		t.Errorf("deployed VM:\n%s", out)
	}

	// An import uploads to the URL the simulator hands out; it must point
	// at the listener the client used, not the internal one.
	ovf := filepath.Join(t.TempDir(), "tiny.ovf")
	if err := os.WriteFile(ovf, []byte(tinyOVF), 0o600); err != nil {
		t.Fatal(err)
	}
	const images = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"
	if lib, err := s.inv.ContentLibrary(ctx, images); err != nil || lib.ItemCount != 3 {
		t.Fatalf("library before import = %+v, %v", lib, err)
	}
	s.mustGovc(t, "library.import", "wcpd-vm-images", ovf)
	lib, err := s.inv.ContentLibrary(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	if lib.ItemCount != 4 || !slices.ContainsFunc(lib.Items, func(i inventory.LibraryItem) bool { return i.Name == "tiny" }) {
		t.Errorf("library after import = %+v", lib)
	}
}

const tinyOVF = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References/>
  <VirtualSystem ovf:id="tiny">
    <Info>A virtual machine</Info>
    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>1 virtual CPU(s)</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`

func TestSOAPLoginsAreCheckedByValidLogin(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})

	u, _ := url.Parse(s.govc.URL)
	u.User = url.UserPassword(testUser, "wrong")
	_, stderr, code := govctest.Target{URL: u.String()}.Run("ls")
	if code == 0 || !strings.Contains(stderr, "Login failure") {
		t.Errorf("wrong password: exit %d, stderr %q", code, stderr)
	}
	s.mustGovc(t, "ls")

	// With no ValidLogin (tests only) any non-empty credentials work.
	ctx := testContext(t)
	open, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	ts := httptest.NewServer(open.SOAPHandler())
	defer ts.Close()
	c := soapLogin(t, ctx, ts.URL, url.UserPassword("anyone", "anything"))
	if c == nil {
		t.Error("login refused without ValidLogin")
	}
}

// soapLogin logs in to a SOAP endpoint and returns the client, or nil if
// the login was refused.
func soapLogin(t *testing.T, ctx context.Context, base string, user *url.Userinfo) *vim25.Client {
	t.Helper()
	u, _ := url.Parse(base + "/sdk")
	c, err := vim25.NewClient(ctx, soap.NewClient(u, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, user); err != nil {
		return nil
	}
	return c
}

func TestSimulatorOwnSessionEndpointIsNotExposed(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()

	for _, path := range []string{"/rest/com/vmware/cis/session", "/api/session", "/api"} {
		for name, h := range map[string]http.Handler{"SOAPHandler": inv.SOAPHandler(), "VAPIHandler": inv.VAPIHandler()} {
			req := httptest.NewRequest(http.MethodPost, path, nil)
			req.SetBasicAuth("wcpd-inventory", "guess")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s POST %s = %d, want 404", name, path, rec.Code)
			}
		}
	}
	for _, p := range inv.VAPIPrefixes() {
		if strings.Contains(p, "session") || p == "/api/" || p == "/rest/" {
			t.Errorf("VAPIPrefixes claims %s", p)
		}
	}
}

func TestVAPIHandlerReplacesTheCallersSession(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()

	req := httptest.NewRequest(http.MethodGet, "/rest/com/vmware/content/library", nil)
	req.Header.Set("vmware-api-session-id", "wcpd-session-the-simulator-never-saw")
	req.AddCookie(&http.Cookie{Name: "vmware-api-session-id", Value: "another-unknown-one"})
	rec := httptest.NewRecorder()
	inv.VAPIHandler().ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01") {
		t.Errorf("GET library = %d %s", rec.Code, body)
	}
}

func TestInternalClientLogsInAgainAfterItsSessionIsTerminated(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})

	mine, err := session.NewManager(s.inv.Client()).UserSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := soapLogin(t, ctx, s.ts.URL, url.UserPassword(testUser, testPassword))
	if admin == nil {
		t.Fatal("admin login refused")
	}
	if err := session.NewManager(admin).TerminateSession(ctx, []string{mine.Key}); err != nil {
		t.Fatal(err)
	}

	if _, err := s.inv.Clusters(ctx); err != nil {
		t.Errorf("Clusters after the session was terminated: %v", err)
	}
	if _, err := s.inv.StoragePolicies(ctx); err != nil {
		t.Errorf("StoragePolicies after the session was terminated: %v", err)
	}
	now, err := session.NewManager(s.inv.Client()).UserSession(ctx)
	if err != nil || now == nil || now.Key == mine.Key {
		t.Errorf("session after relogin = %+v, %v", now, err)
	}
}

func TestSetPublicURL(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	public, _ := url.Parse("https://wcpd.example.com:8443")
	if err := inv.SetPublicURL(ctx, public); err != nil {
		t.Fatal(err)
	}
	c := inv.Client()
	opts, err := object.NewOptionManager(c, *c.ServiceContent.Setting).Query(ctx, "vcsim.server.url")
	if err != nil || len(opts) != 1 || opts[0].GetOptionValue().Value != "https://wcpd.example.com:8443/sdk" {
		t.Errorf("vcsim.server.url = %+v, %v", opts, err)
	}
}

// TestParallelInventoriesAreIndependent starts two different inventories at
// once and checks that neither sees the other's objects, changes or URLs
// (the simulator keeps several things process-wide).
func TestParallelInventoriesAreIndependent(t *testing.T) {
	t.Parallel()
	specs := []*inventory.Spec{inventory.DefaultSpec(), customSpec(t)}
	servers := make([]*testServer, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() { servers[i] = startTestServer(t, inventory.Config{Spec: spec}) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx := testContext(t)
	def, lab := servers[0], servers[1]

	lab.mustGovc(t, "cluster.create", "-dc", "Lab", "Only-In-Lab")
	for range 3 { // interleave commands against both
		if out := def.mustGovc(t, "ls", "/"); out != "/Datacenter\n" {
			t.Errorf("default inventory root = %q", out)
		}
		if out := lab.mustGovc(t, "ls", "/"); out != "/Lab\n" {
			t.Errorf("lab inventory root = %q", out)
		}
	}

	var names [2][]string
	var wg2 sync.WaitGroup
	for i, s := range servers {
		wg2.Go(func() {
			clusters, err := s.inv.Clusters(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			for _, c := range clusters {
				names[i] = append(names[i], c.Name)
			}
		})
	}
	wg2.Wait()
	if want := []string{"Cluster-A", "Cluster-B", "Edge-Single"}; !slices.Equal(names[0], want) {
		t.Errorf("default clusters = %v, want %v", names[0], want)
	}
	if want := []string{"Lab-1", "Lab-2", "Only-In-Lab"}; !slices.Equal(names[1], want) {
		t.Errorf("lab clusters = %v, want %v", names[1], want)
	}

	// Each simulator's advanced settings name its own listener.
	var urls []string
	for _, s := range servers {
		c := s.inv.Client()
		om := object.NewOptionManager(c, *c.ServiceContent.Setting)
		self, err1 := om.Query(ctx, "vcsim.server.url")
		sts, err2 := om.Query(ctx, "config.vpxd.sso.sts.uri")
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		su, _ := url.Parse(self[0].GetOptionValue().Value.(string))
		tu, _ := url.Parse(sts[0].GetOptionValue().Value.(string))
		if su.Host != tu.Host {
			t.Errorf("sts.uri %s does not name this inventory's listener %s", tu, su)
		}
		urls = append(urls, su.Host)
	}
	if urls[0] == urls[1] {
		t.Errorf("both inventories claim listener %s", urls[0])
	}

	libs, err := lab.inv.ContentLibraries(ctx)
	if err != nil || len(libs) != 1 || libs[0].ID != "11111111-2222-4333-8444-555555555555" {
		t.Errorf("lab libraries = %+v, %v", libs, err)
	}
}

func TestNamespaceSimulatorIsNotLinked(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-test",
		"github.com/wcpd/wcpd/internal/inventory", "github.com/wcpd/wcpd/internal/govctest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/vmware/govmomi/vapi/simulator") {
		t.Fatalf("go list output does not look like a dependency list:\n%s", out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/vmware/govmomi/vapi/namespace/simulator") {
			t.Errorf("%s is linked: it registers global handlers for the paths wcpd serves", d)
		}
	}
}

// customSpec is a small inventory unlike the default one.
func customSpec(t *testing.T) *inventory.Spec {
	t.Helper()
	spec, err := inventory.ParseSpec([]byte(labYAML))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

const labYAML = `
datacenter: Lab
host_defaults: {sockets: 1, cores_per_socket: 4, mhz: 3000, memory_gib: 64}
clusters:
  - name: Lab-1
    drs: false
    ha: false
    hosts: 2
  - name: Lab-2
    drs: true
    ha: true
    hosts:
      - {name: big.lab, sockets: 4, cores_per_socket: 24, mhz: 2000, memory_gib: 2048}
      - {memory_gib: 128}
datastores:
  - {name: lab-ds, capacity_gib: 500, clusters: [Lab-2]}
switches:
  - name: LabSwitch
    clusters: [Lab-2]
    port_groups: [{name: lab-pg}]
storage_policies:
  - {id: 11111111-2222-4333-8444-000000000001, name: lab-policy}
content_libraries:
  - id: 11111111-2222-4333-8444-555555555555
    name: lab-images
    items: [{name: lab-image, id: 11111111-2222-4333-8444-666666666666}]
`

func TestDatastoreFilesNeedASOAPSession(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	dir := t.TempDir()
	src := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(src, []byte("hello datastore"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustGovc(t, "datastore.upload", "-ds", "SharedDatastore", src, "notes.txt")
	dst := filepath.Join(dir, "back.txt")
	s.mustGovc(t, "datastore.download", "-ds", "SharedDatastore", "notes.txt", dst)
	if got, err := os.ReadFile(dst); err != nil || string(got) != "hello datastore" {
		t.Errorf("downloaded %q, %v", got, err)
	}

	for _, cookie := range []string{"", "not-a-session"} {
		req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/folder/notes.txt?dcPath=Datacenter&dsName=SharedDatastore", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "vmware_soap_session", Value: cookie})
		}
		res, err := s.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /folder/ with cookie %q = %d, want 401", cookie, res.StatusCode)
		}
	}
}

func TestMountGuardsTheVAPIRoutes(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, inventory.Config{})
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/rest/com/vmware/content/library", nil)
		if token != "" {
			req.Header.Set("vmware-api-session-id", token)
		}
		res, err := s.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("without a session: %d, want 401", code)
	}
	login, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/api/session", nil)
	login.SetBasicAuth(testUser, testPassword)
	res, err := s.ts.Client().Do(login)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	if err := json.NewDecoder(res.Body).Decode(&token); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if code := get(token); code != http.StatusOK {
		t.Errorf("with a session: %d, want 200", code)
	}
}

func TestItemImageReadsTheDescriptor(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})
	const lib = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"
	got, err := s.inv.ItemImage(ctx, lib, inventory.ItemID(lib, "rocky-9.4-x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.ImageDetails{OSID: "101", GuestOS: "rockylinux_64Guest", OSVersion: "9.4", HardwareVersion: 19,
		Firmware: "efi", CPUs: 4, MemoryMiB: 8192, Disks: []inventory.ImageDisk{{Name: "disk1", CapacityBytes: 20 << 30}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rocky's image:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.inv.ItemImage(ctx, lib, "no-such-item"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("an item that does not exist: %v, want ErrNotFound", err)
	}
}

// TestTasksNameWhoStartedThem: a task started in a user's session names that user as its
// initiator (the simulator names every task's "vcsim"), and govc tasks lists it under the user; one
// wcpd starts through its internal account, or the inventory's build, is the system's.
func TestTasksNameWhoStartedThem(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})
	host := "/Datacenter/host/Cluster-A/esx-01.wcpd.local"
	s.mustGovc(t, "host.maintenance.enter", host)

	tasks := s.mustGovc(t, "tasks", "-n", "50")
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(tasks), "\n")[1:] {
		lines = append(lines, strings.Join(strings.Fields(line)[:3], " "))
	}
	if want := []string{"EnterMaintenanceMode esx-01.wcpd.local " + testUser}; !slices.Equal(lines, want) {
		t.Errorf("govc tasks (task, target, initiator) = %q, want %q (the build's tasks are the system's)", lines, want)
	}

	ref, err := find.NewFinder(s.inv.Client()).HostSystem(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	task, err := ref.ExitMaintenanceMode(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.Reason.(*types.TaskReasonSystem); !ok {
		t.Errorf("a task of wcpd's internal client has reason %#v, want the system's", info.Reason)
	}
}

// TestARelocationIsOneTask: govc vm.migrate is one RelocateVm task, as on vCenter (the inventory
// served it around the simulator's own, which showed a second), and the VM is listed by the pool
// it moved to and no longer by the one it left.
func TestARelocationIsOneTask(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := startTestServer(t, inventory.Config{})
	s.mustGovc(t, "vm.create", "-on=false", "-net", "VM Network", "-ds", "SharedDatastore",
		"-pool", "/Datacenter/host/Cluster-A/Resources", "-host", "/Datacenter/host/Cluster-A/esx-01.wcpd.local", "vm1")
	s.mustGovc(t, "pool.create", "/Datacenter/host/Cluster-A/Resources/moved")
	s.mustGovc(t, "vm.migrate", "-pool", "/Datacenter/host/Cluster-A/Resources/moved", "vm1")

	if n := strings.Count(s.mustGovc(t, "tasks", "-n", "50"), "RelocateVm "); n != 1 {
		t.Errorf("govc tasks lists %d RelocateVm tasks for one vm.migrate, want 1", n)
	}
	finder := find.NewFinder(s.inv.Client(), true)
	vm, err := finder.VirtualMachine(ctx, "/Datacenter/vm/vm1")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"/Datacenter/host/Cluster-A/Resources/moved": true, "/Datacenter/host/Cluster-A/Resources": false} {
		pool, err := finder.ResourcePool(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var got mo.ResourcePool
		if err := pool.Properties(ctx, pool.Reference(), []string{"vm"}, &got); err != nil {
			t.Fatal(err)
		}
		if lists := slices.Contains(got.Vm, vm.Reference()); lists != want {
			t.Errorf("%s lists the relocated VM: %v, want %v", path, lists, want)
		}
	}
}
