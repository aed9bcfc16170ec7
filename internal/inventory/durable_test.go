package inventory_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/store"
)

func openTestStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(testContext(t), store.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// stop ends a test server as a crash would: nothing is written on the way down (Close only
// stops the background writer), so what the next start finds is what the calls left behind.
func (s *testServer) stop() {
	s.ts.Close()
	s.inv.Close()
}

// restartView is what a client sees of the objects the restart tests make, ids included.
var restartView = [][]string{
	{"find", "-i", "/"},
	{"find", "/"},
	{"ls", "-l", "-i", "/Datacenter/vm/kept", "/Datacenter/host/Cluster-A/Resources/kept-pool"},
	{"object.collect", "-s", "/Datacenter/vm/kept/kept-vm", "config.uuid", "config.instanceUuid",
		"runtime.powerState", "runtime.host", "resourcePool", "parent", "datastore"},
	{"object.collect", "-s", "/Datacenter/host/Cluster-A/Resources/kept-pool", "config.cpuAllocation.reservation", "vm"},
	{"tags.category.ls", "-json"},
	{"tags.ls", "-json"},
	{"tags.attached.ls", "-r", "/Datacenter/vm/kept/kept-vm"},
	{"library.ls", "-json"},
	{"library.ls", "-json", "/kept-lib/*"},
	{"storage.policy.ls", "-i"},
	{"storage.policy.ls"},
	{"fields.ls"},
	{"fields.info", "/Datacenter/vm/kept/kept-vm"},
}

func TestDurableInventorySurvivesARestart(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	st := openTestStore(t, filepath.Join(base, "store"))
	cfg := inventory.Config{Store: st, Dir: filepath.Join(base, "inventory")}
	s := startTestServer(t, cfg)

	// One of each kind a client makes, plus some made and removed again.
	s.mustGovc(t, "folder.create", "/Datacenter/vm/kept", "/Datacenter/vm/gone")
	s.mustGovc(t, "object.destroy", "/Datacenter/vm/gone")
	s.mustGovc(t, "pool.create", "-cpu.reservation", "1000", "/Datacenter/host/Cluster-A/Resources/kept-pool")
	for _, name := range []string{"kept-vm", "gone-vm"} {
		s.mustGovc(t, "vm.create", "-folder", "/Datacenter/vm/kept", "-pool", "/Datacenter/host/Cluster-A/Resources/kept-pool",
			"-ds", "SharedDatastore", "-net", "DPG-Management", "-c", "2", "-m", "2048", "-on=true", name)
	}
	s.mustGovc(t, "vm.destroy", "/Datacenter/vm/kept/gone-vm")
	s.mustGovc(t, "cluster.create", "-dc", "Datacenter", "Cluster-New")
	s.mustGovc(t, "object.destroy", "/Datacenter/network/DPG-Workload")
	s.mustGovc(t, "fields.add", "owner")
	s.mustGovc(t, "fields.set", "owner", "team-a", "/Datacenter/vm/kept/kept-vm")
	s.mustGovc(t, "tags.category.create", "zone")
	s.mustGovc(t, "tags.create", "-c", "zone", "zone-a")
	s.mustGovc(t, "tags.attach", "-c", "zone", "zone-a", "/Datacenter/vm/kept/kept-vm")
	s.mustGovc(t, "library.create", "-ds", "SharedDatastore", "kept-lib")
	ovf := filepath.Join(t.TempDir(), "tiny.ovf")
	if err := os.WriteFile(ovf, []byte(tinyOVF), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustGovc(t, "library.import", "kept-lib", ovf)
	s.mustGovc(t, "storage.policy.create", "-d", "made by the restart test", "-category", "zone", "-tag", "zone-a", "kept-policy")
	before := s.govc.Transcript(restartView...)
	// The last object made is removed again: its number must not come back after the restart.
	s.mustGovc(t, "folder.create", "/Datacenter/vm/last")
	goneRef := strings.TrimSpace(s.mustGovc(t, "find", "-i", "/Datacenter/vm", "-name", "last"))
	s.mustGovc(t, "object.destroy", "/Datacenter/vm/last")
	s.stop()

	// The inventory file changes in between: the data dir keeps what it was built from.
	changed := inventory.DefaultSpec()
	changed.Datacenter = "Elsewhere"
	cfg.Spec = changed
	s = startTestServer(t, cfg)
	after := s.govc.Transcript(restartView...)
	if after != before {
		t.Errorf("the inventory changed across a restart\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, want := range []string{"VirtualMachine:", "kept-pool", "Cluster-New", "kept-policy", "zone-a", "tiny", "team-a"} {
		if !strings.Contains(after, want) {
			t.Errorf("after the restart, %q is missing:\n%s", want, after)
		}
	}
	if strings.Contains(after, "gone") || strings.Contains(after, "DPG-Workload") {
		t.Errorf("after the restart, removed objects are back:\n%s", after)
	}

	// It keeps working: the VM's files are where it left them, and new objects get new ids.
	s.mustGovc(t, "vm.power", "-off", "/Datacenter/vm/kept/kept-vm")
	s.mustGovc(t, "vm.create", "-folder", "/Datacenter/vm/kept", "-pool", "/Datacenter/host/Cluster-A/Resources/kept-pool",
		"-ds", "SharedDatastore", "-net", "DPG-Management", "-on=false", "new-vm")
	newRef := strings.TrimSpace(s.mustGovc(t, "find", "-i", "/Datacenter/vm/kept", "-name", "new-vm"))
	if newRef == "" || strings.Contains(before, newRef+"\n") || idNumber(newRef) <= idNumber(goneRef) {
		t.Errorf("new VM %q reuses an id in use or given before the restart (the removed %s):\n%s", newRef, goneRef, before)
	}
	s.mustGovc(t, "library.deploy", "-pool", "/Datacenter/host/Cluster-A/Resources/kept-pool",
		"/wcpd-vm-images/photon-5.0-x86_64", "from-kept-lib")
	s.stop()

	// A second restart sees the changes made after the first.
	s = startTestServer(t, cfg)
	if out := s.mustGovc(t, "ls", "/Datacenter/vm/kept"); !strings.Contains(out, "new-vm") || !strings.Contains(out, "kept-vm") {
		t.Errorf("after a second restart, folder kept holds:\n%s", out)
	}
	if out := s.mustGovc(t, "object.collect", "-s", "/Datacenter/vm/kept/kept-vm", "runtime.powerState"); strings.TrimSpace(out) != "poweredOff" {
		t.Errorf("kept-vm's power state after a second restart = %q", out)
	}
	if out := s.mustGovc(t, "find", "-type", "m", "-name", "from-kept-lib", "/"); out == "" {
		t.Errorf("the VM deployed from the restored library is gone after a restart")
	}
}

func TestDurableInventoryRefusesWhatItCannotSave(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	st := openTestStore(t, filepath.Join(base, "store"))
	s := startTestServer(t, inventory.Config{Store: st, Dir: filepath.Join(base, "inventory")})
	s.mustGovc(t, "ls", "/") // a session exists before the store goes

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := s.govc.Run("folder.create", "/Datacenter/vm/unsaved")
	if code == 0 || !strings.Contains(errOut, "could not save the change") {
		t.Errorf("folder.create with the store gone: exit %d, stderr %s", code, errOut)
	}
}

// TestTagsAttachedByAReconfigurationSurviveARestart: a VM's reconfiguration attaches and detaches
// tags (its spec's tagSpecs) through the simulator's SOAP side, with no request to the vAPI
// services. The attachments are saved all the same, and the tag association reads that
// govc and Terraform's vSphere provider send answer them at once and after a restart.
func TestTagsAttachedByAReconfigurationSurviveARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	st := openTestStore(t, filepath.Join(base, "store"))
	cfg := inventory.Config{Store: st, Dir: filepath.Join(base, "inventory")}
	s := startTestServer(t, cfg)
	s.mustGovc(t, "tags.category.create", "zone")
	for _, tag := range []string{"zone-a", "zone-b"} {
		s.mustGovc(t, "tags.create", "-c", "zone", tag)
	}
	const vmPath = "/Datacenter/vm/tagged"
	s.mustGovc(t, "vm.create", "-pool", "/Datacenter/host/Cluster-A/Resources", "-ds", "SharedDatastore", "-net", "DPG-Management", "-on=false", "tagged")
	s.mustGovc(t, "tags.attach", "-c", "zone", "zone-b", vmPath)
	attached := func() string {
		t.Helper()
		return strings.TrimSpace(s.mustGovc(t, "tags.attached.ls", "-r", vmPath))
	}
	if got := attached(); got != "zone-b" {
		t.Fatalf("the VM's tags before its reconfiguration: %q", got)
	}

	u, err := url.Parse(s.govc.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := find.NewFinder(c.Client, true).VirtualMachine(ctx, vmPath)
	if err != nil {
		t.Fatal(err)
	}
	spec := func(op types.ArrayUpdateOperation, tag string) types.TagSpec {
		return types.TagSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: op},
			Id: types.TagId{NameId: &types.TagIdNameId{Category: "zone", Tag: tag}}}
	}
	task, err := vm.Reconfigure(ctx, types.VirtualMachineConfigSpec{TagSpecs: []types.TagSpec{
		spec(types.ArrayUpdateOperationAdd, "zone-a"), spec(types.ArrayUpdateOperationRemove, "zone-b")}})
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		t.Fatalf("reconfiguring the VM's tags: %v", err)
	}
	if got := attached(); got != "zone-a" {
		t.Fatalf("the VM's tags after its reconfiguration: %q, want zone-a", got)
	}
	s.stop()

	s = startTestServer(t, cfg)
	if got := attached(); got != "zone-a" {
		t.Errorf("the VM's tags after a restart: %q, want zone-a as its reconfiguration left them", got)
	}
}

// idNumber is the number a reference ("VirtualMachine:vm-95") ends in.
func idNumber(ref string) int {
	i := strings.LastIndexFunc(ref, func(r rune) bool { return r < '0' || r > '9' })
	n, _ := strconv.Atoi(ref[i+1:])
	return n
}

// TestFilesFetchedFromAURLSurviveARestart: the simulator fetches a file an update session names by
// URL on its own, after every request of the session has answered, so no request announces it to
// the durable inventory. It is saved once the session is seen to have ended, before the client
// waiting for that is told, and is there after a restart.
func TestFilesFetchedFromAURLSurviveARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startFetchingAFile(t)
	if err := f.m.CompleteLibraryItemUpdateSession(ctx, f.session); err != nil {
		t.Fatal(err)
	}
	f.let()
	// As govc's library.import -pull waits.
	if err := f.m.WaitOnLibraryItemUpdateSession(ctx, f.session, 10*time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	f.itemShowsTheFileBeforeAndAfterARestart(t)
}

// TestFilesFetchedForADeletedSessionAreSaved deletes an update session while the simulator still
// fetches its file from a URL, so the session can no longer be asked about it: once the file has
// arrived, the reads that show files are kept again and the file is saved, without a read of the
// session, and it is there after a restart.
func TestFilesFetchedForADeletedSessionAreSaved(t *testing.T) {
	t.Parallel()
	f := startFetchingAFile(t)
	if _, kept := f.s.inv.VAPIFilesGeneration(); kept {
		t.Fatal("the reads that show files are kept while a file is being fetched")
	}
	if err := f.m.DeleteLibraryItemUpdateSession(context.Background(), f.session); err != nil {
		t.Fatal(err)
	}
	f.let()
	// The file arrives on the simulator's own goroutine, over HTTP: poll for what follows from it.
	if err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		_, kept := f.s.inv.VAPIFilesGeneration()
		return kept, nil
	}); err != nil {
		t.Fatal("the reads that show files are still not kept 20 s after the file of a deleted session was let through")
	}
	f.itemShowsTheFileBeforeAndAfterARestart(t)
}

// fetchingAFile is a durable inventory whose simulator is fetching a library item's file from a
// URL for an update session.
type fetchingAFile struct {
	s             *testServer
	cfg           inventory.Config
	m             *library.Manager
	item, session string
	let           func() // lets the URL send the file
}

// startFetchingAFile starts a durable inventory, makes a library with an item, opens an update
// session on it and adds the file notes.txt from a URL that sends it only once let is called (the
// client's probe, a HEAD, is answered at once).
func startFetchingAFile(t *testing.T) *fetchingAFile {
	t.Helper()
	base := t.TempDir()
	f := &fetchingAFile{cfg: inventory.Config{Store: openTestStore(t, filepath.Join(base, "store")), Dir: filepath.Join(base, "inventory")}}
	f.s = startTestServer(t, f.cfg)
	f.m = library.NewManager(f.s.inv.RESTClient())
	ctx := context.Background()
	release := make(chan struct{})
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			<-release
		}
		_, _ = w.Write([]byte("fetched from a URL\n"))
	}))
	t.Cleanup(source.Close)
	var releaseOnce sync.Once
	f.let = func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(f.let) // before source.Close, which waits for the handler

	f.s.mustGovc(t, "library.create", "-ds", "SharedDatastore", "fetched")
	lib, err := f.m.GetLibraryByName(ctx, "fetched")
	if err != nil {
		t.Fatal(err)
	}
	if f.item, err = f.m.CreateLibraryItem(ctx, library.Item{Name: "notes", Type: "file", LibraryID: lib.ID}); err != nil {
		t.Fatal(err)
	}
	if f.session, err = f.m.CreateLibraryItemUpdateSession(ctx, library.Session{LibraryItemID: f.item}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.AddLibraryItemFileFromURI(ctx, f.session, "notes.txt", source.URL+"/notes.txt"); err != nil {
		t.Fatal(err)
	}
	return f
}

// itemShowsTheFileBeforeAndAfterARestart checks that the item lists the fetched file, then
// restarts the inventory on the same store and checks again.
func (f *fetchingAFile) itemShowsTheFileBeforeAndAfterARestart(t *testing.T) {
	t.Helper()
	names := func() []string {
		files, err := library.NewManager(f.s.inv.RESTClient()).ListLibraryItemFiles(context.Background(), f.item)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, file := range files {
			names = append(names, file.Name)
		}
		return names
	}
	if got := names(); !slices.Equal(got, []string{"notes.txt"}) {
		t.Fatalf("the item's files once the fetch ended: %v", got)
	}
	f.s.stop()
	f.s = startTestServer(t, f.cfg)
	if got := names(); !slices.Equal(got, []string{"notes.txt"}) {
		t.Fatalf("the item's files after a restart: %v", got)
	}
}
