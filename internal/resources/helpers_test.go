package resources

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Ids of the default inventory (docs/inventory.md).
const (
	clusterA    = "domain-c9"
	clusterB    = "domain-c39"
	clusterEdge = "domain-c69"
)

// fakeSupervisors stands in for the clusters family.
type fakeSupervisors map[string]platform.SupervisorState

func (f fakeSupervisors) Supervisor(id string) (platform.SupervisorState, bool) {
	for _, s := range f {
		if s.Cluster == id || s.ID == id {
			return s, true
		}
	}
	return platform.SupervisorState{}, false
}

func (f fakeSupervisors) List() []platform.SupervisorState {
	var out []platform.SupervisorState
	for _, s := range f {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}

// fakeNamespaces stands in for the namespaces family: only OnCluster is used.
type fakeNamespaces struct {
	platform.Namespaces
	byCluster map[string][]string
}

func (f fakeNamespaces) OnCluster(cluster string) []string { return f.byCluster[cluster] }

// harness is a resources family on its own inventory, with a fake clock and fake contracts.
type harness struct {
	t     *testing.T
	ctx   context.Context
	f     *Family
	inv   *inventory.Inventory
	clock *clock.Fake
	sups  fakeSupervisors
	reg   *vapi.Registry
	ctls  *controller.Group
}

// done waits for the task a call started, failing the test if the call or the task failed.
func (h *harness) done(task *object.Task, err error) {
	h.t.Helper()
	if err == nil {
		err = task.Wait(h.ctx)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	inv, err := inventory.Start(ctx, inventory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inv.Close)
	h := &harness{t: t, ctx: ctx, inv: inv, clock: clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)),
		sups: fakeSupervisors{}, reg: vapi.NewRegistry(), ctls: &controller.Group{}}
	d := &platform.Deps{Inventory: inv, Clock: h.clock, Controllers: h.ctls,
		Families: &platform.Families{Supervisors: h.sups}}
	h.f = New(d)
	if d.Families.Resources != h.f {
		t.Fatal("New does not offer platform.Resources")
	}
	h.f.Register(h.reg)
	return h
}

// call invokes an operation's handler as the API would, with path parameters, query and body.
func (h *harness) call(opID string, params map[string]string, query url.Values, body any) (any, error) {
	h.t.Helper()
	op, ok := h.reg.Lookup(opID)
	if !ok {
		h.t.Fatalf("no operation %s", opID)
	}
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	return op.Handler(vapi.NewCall(h.ctx, op, auth.Principal{}, params, query, raw))
}

// roundTrip encodes a handler's result as the API would and decodes it into v.
func roundTrip(t *testing.T, res any, v any) {
	t.Helper()
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}

func wantError(t *testing.T, err error, errType vapi.ErrorType, contains ...string) *vapi.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", errType)
	}
	e := vapi.AsError(err)
	if e.Type != errType {
		t.Fatalf("error %v, want %s", err, errType)
	}
	raw, _ := json.Marshal(e)
	for _, s := range contains {
		if !strings.Contains(string(raw), s) {
			t.Errorf("error %s does not mention %q", raw, s)
		}
	}
	return e
}

// builder creates pools and VMs in the inventory, as the clusters and namespaces families will.
type builder struct {
	t      *testing.T
	ctx    context.Context
	finder *find.Finder
	folder *object.Folder
}

func (h *harness) builder() *builder {
	c := h.inv.Client()
	finder := find.NewFinder(c)
	dc, err := finder.Datacenter(h.ctx, "Datacenter")
	if err != nil {
		h.t.Fatal(err)
	}
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return &builder{t: h.t, ctx: h.ctx, finder: finder, folder: folders.VmFolder}
}

func (b *builder) rootPool(clusterName string) *object.ResourcePool {
	p, err := b.finder.ResourcePool(b.ctx, "/Datacenter/host/"+clusterName+"/Resources")
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func (b *builder) pool(parent *object.ResourcePool, name string, adjust ...func(*types.ResourceConfigSpec)) *object.ResourcePool {
	b.t.Helper()
	spec := types.DefaultResourceConfigSpec()
	for _, a := range adjust {
		a(&spec)
	}
	p, err := parent.Create(b.ctx, name, spec)
	if err != nil {
		b.t.Fatalf("creating pool %s: %v", name, err)
	}
	return p
}

// vm creates a VM (a vSphere Pod when guest is podGuestID) and powers it on unless off is set.
func (b *builder) vm(pool *object.ResourcePool, name string, vcpus int32, memoryMB int64, guest string, off bool, adjust ...func(*types.VirtualMachineConfigSpec)) *object.VirtualMachine {
	b.t.Helper()
	spec := types.VirtualMachineConfigSpec{Name: name, NumCPUs: vcpus, MemoryMB: memoryMB, GuestId: guest,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[SharedDatastore]"}}
	for _, a := range adjust {
		a(&spec)
	}
	task, err := b.folder.CreateVM(b.ctx, spec, pool, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	info, err := task.WaitForResult(b.ctx)
	if err != nil {
		b.t.Fatalf("creating VM %s: %v", name, err)
	}
	vm := object.NewVirtualMachine(pool.Client(), info.Result.(types.ManagedObjectReference))
	if !off {
		task, err := vm.PowerOn(b.ctx)
		if err == nil {
			err = task.Wait(b.ctx)
		}
		if err != nil {
			b.t.Fatalf("powering on %s: %v", name, err)
		}
	}
	return vm
}

// supervisorTree builds seed 003's Namespaces pool on Cluster-A: three 4 vCPU / 24 GB control
// plane VMs and the given namespaces' pools, with a memory limit of 126.14 GB on the Namespaces
// pool so that it owns what it owns in the seed. It registers the Supervisor and returns the
// Namespaces pool.
func (h *harness) supervisorTree(namespaces ...string) *object.ResourcePool {
	b := h.builder()
	nsPool := b.pool(b.rootPool("Cluster-A"), "Namespaces", func(s *types.ResourceConfigSpec) {
		limit := int64(seedCapacityMB)
		s.MemoryAllocation.Limit = &limit
	})
	for i := 1; i <= 3; i++ {
		b.vm(nsPool, "SupervisorControlPlaneVM ("+string(rune('0'+i))+")", 4, 24*1024, "otherGuest64", false)
	}
	for _, ns := range namespaces {
		b.pool(nsPool, ns)
	}
	h.sups[clusterA] = platform.SupervisorState{Cluster: clusterA, ID: "supervisor-a", Name: "supervisor-a",
		ConfigStatus: platform.StatusRunning, NamespacesPool: nsPool.Reference().Value}
	return nsPool
}

const seedCapacityMB = 129167 // 126.14 GB

func (f fakeSupervisors) WatchChanges(context.Context, func(string)) {}
func (f fakeSupervisors) KubernetesChanged(string)                   {}

// useStore gives the family a store of its own, as wcpd's server does, and returns it.
func (h *harness) useStore() *store.Store {
	h.t.Helper()
	st, err := store.Open(h.ctx, store.Config{DataDir: h.t.TempDir()})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = st.Close() })
	h.f.deps.Store = st
	return st
}

// restartFamily replaces the family with a new one on the same inventory, store and clock, as a
// restart of wcpd would, and starts its sampler.
func (h *harness) restartFamily() {
	h.t.Helper()
	old := h.f.deps
	h.ctls = &controller.Group{}
	d := &platform.Deps{Inventory: old.Inventory, Store: old.Store, Clock: h.clock, Controllers: h.ctls,
		Families: &platform.Families{Supervisors: h.sups}}
	h.f = New(d)
	h.reg = vapi.NewRegistry()
	h.f.Register(h.reg)
	h.startSampler()
}
