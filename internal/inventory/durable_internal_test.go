package inventory

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/store"
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

func TestFinishedTasksGoAfterTheirRetention(t *testing.T) {
	ctx := context.Background()
	inv := startInventory(t)
	pool, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	task := createAndDestroyPool(ctx, t, pool, "short-lived")
	if n := inv.sweepTasks(time.Now(), taskRetention); n != 0 {
		t.Errorf("%d tasks removed while recent", n)
	}
	var info mo.Task
	if err := property.DefaultCollector(inv.Client()).RetrieveOne(ctx, task.Reference(), []string{"info.state"}, &info); err != nil {
		t.Fatalf("a task that finished a moment ago: %v", err)
	}
	if n := inv.sweepTasks(time.Now().Add(taskRetention+time.Second), taskRetention); n == 0 {
		t.Errorf("no task removed %s after it finished", taskRetention)
	}
	err = property.DefaultCollector(inv.Client()).RetrieveOne(ctx, task.Reference(), []string{"info.state"}, &info)
	if !fault.Is(err, &types.ManagedObjectNotFound{}) {
		t.Errorf("the task after its retention: %v, want ManagedObjectNotFound", err)
	}
}

// startInventory starts an inventory kept in memory only, closed when the test ends.
func startInventory(t *testing.T) *Inventory {
	t.Helper()
	inv, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inv.Close)
	return inv
}

// startDurable starts an inventory kept in a store of its own, and returns the configuration that
// starts it again on the same store.
func startDurable(t *testing.T) (*Inventory, *store.Store, Config) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{DataDir: filepath.Join(dir, "store")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := Config{Store: st, Dir: filepath.Join(dir, "inventory")}
	inv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return inv, st, cfg
}

func TestARestartNumbersPastEveryIDGivenBefore(t *testing.T) {
	ctx := context.Background()
	inv, _, cfg := startDurable(t)
	pool, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	// Objects and tasks numbered after everything that stays (and past the highest number of the
	// seed's objects, which a restart starts from anyway).
	for range 250 {
		child, err := pool.Create(ctx, "short-lived", types.DefaultResourceConfigSpec())
		if err != nil {
			t.Fatal(err)
		}
		task, err := child.Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	highest := registryCounter(inv)
	inv.Close()

	inv, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	if got := registryCounter(inv); got < highest {
		t.Errorf("after the restart the next number is %d, below %d given before", got+1, highest)
	}
}

func registryCounter(inv *Inventory) int64 {
	return reflect.ValueOf(inv.svc.Context.Map).Elem().FieldByName("counter").Int()
}

// lockCount is the number of locks the global registry holds.
func lockCount(m *simulator.Registry) int {
	mu, locks := registryLocks(m)
	mu.Lock()
	defer mu.Unlock()
	return locks.Len()
}

func TestSessionObjectLocksGoWithTheObjects(t *testing.T) {
	ctx := context.Background()
	inv := startInventory(t)
	m := inv.svc.Context.Map
	c := inv.Client()
	pool, err := find.NewFinder(c).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	// Every wait for a task makes a property filter in the caller's session, and destroys it.
	before := lockCount(m)
	const waits = 30
	for i := 0; i < waits; i++ {
		createAndDestroyPool(ctx, t, pool, fmt.Sprintf("pool-%d", i))
	}
	if grown := lockCount(m) - before; grown < waits {
		t.Fatalf("the registry holds %d more locks after %d waits; the simulator no longer keeps the filters' locks, drop pruneSessionLocks", grown, waits)
	}
	// A live session object keeps its lock.
	lv, err := view.NewManager(c).CreateListView(ctx, []types.ManagedObjectReference{pool.Reference()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lv.Add(ctx, []types.ManagedObjectReference{pool.Reference()}); err != nil {
		t.Fatal(err)
	}
	live := lv.Reference()
	if n := pruneSessionLocks(m); n < waits {
		t.Fatalf("pruned %d locks, want at least the %d filters'", n, waits)
	}
	mu, locks := registryLocks(m)
	mu.Lock()
	kept := locks.MapIndex(reflect.ValueOf(live)).IsValid()
	mu.Unlock()
	if !kept {
		t.Fatal("the live list view's lock was dropped")
	}
	inv.sweepTasks(time.Now().Add(time.Hour), 0) // the tasks' own locks go with them
	if after := lockCount(m); after > before+1 {
		t.Fatalf("%d locks before the waits, %d after pruning (want at most one more: the live view)", before, after)
	}
	if err := lv.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pruneSessionLocks(m); n != 1 {
		t.Fatalf("after destroying the view, pruned %d locks, want 1", n)
	}
}

// createAndDestroyPool makes a child pool of pool named name, destroys it and waits for the destroy
// task, which it returns.
func createAndDestroyPool(ctx context.Context, t *testing.T, pool *object.ResourcePool, name string) *object.Task {
	t.Helper()
	child, err := pool.Create(ctx, name, types.DefaultResourceConfigSpec())
	if err != nil {
		t.Fatal(err)
	}
	task, err := child.Destroy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return task
}

// TestARootPoolStoredBeforeItsClusterComesBackUnderIt: the simulator makes a new cluster's root
// pool with a parent that points at the cluster's reference before the cluster has one, so the
// writer, running between the two, may store the pool with an empty parent and owner. After a
// restart the pool is still the cluster's, at the cluster's path. (The pool is stored deflated,
// and put back as plain JSON, as wcpd stored objects before: both are read.)
func TestARootPoolStoredBeforeItsClusterComesBackUnderIt(t *testing.T) {
	ctx := context.Background()
	inv, st, cfg := startDurable(t)
	finder := find.NewFinder(inv.Client())
	hosts, err := finder.Folder(ctx, "/Datacenter/host")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := hosts.CreateCluster(ctx, "Cluster-New", types.ClusterConfigSpecEx{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := finder.ResourcePool(ctx, "/Datacenter/host/Cluster-New/Resources")
	if err != nil {
		t.Fatal(err)
	}
	inv.Close()

	// Store the pool as the writer saw it in that instant.
	key := durableObjectsKey + "ResourcePool/" + root.Reference().Value
	stored, err := st.ReadPrefix(ctx, key)
	if err != nil || len(stored) != 1 {
		t.Fatalf("the stored root pool: %v %v", stored, err)
	}
	data, err := unpackObject(stored[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= len(stored[0].Value) {
		t.Errorf("the pool is stored in %d bytes, its JSON is %d: not deflated", len(stored[0].Value), len(data))
	}
	var pool mo.ResourcePool
	if err := types.NewJSONDecoder(bytes.NewReader(data)).Decode(&pool); err != nil {
		t.Fatal(err)
	}
	pool.Parent, pool.Owner = &types.ManagedObjectReference{}, types.ManagedObjectReference{}
	raw, err := encodeObject(&simulator.ResourcePool{ResourcePool: pool})
	if err != nil {
		t.Fatal(err)
	}
	// Stored as JSON, as wcpd stored objects before it deflated them: read as it is.
	if err := st.Apply(ctx, []store.KeyValue{{Key: key, Value: raw}}, nil); err != nil {
		t.Fatal(err)
	}

	inv, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	again, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-New/Resources")
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	var got mo.ResourcePool
	if err := property.DefaultCollector(inv.Client()).RetrieveOne(ctx, again.Reference(), []string{"parent", "owner"}, &got); err != nil {
		t.Fatal(err)
	}
	if again.Reference() != root.Reference() || got.Parent == nil || *got.Parent != cluster.Reference() || got.Owner != cluster.Reference() {
		t.Errorf("the root pool after the restart: %v, parent %v, owner %v; want %v under %v", again.Reference(), got.Parent, got.Owner,
			root.Reference(), cluster.Reference())
	}
}

// A stored object that cannot be read back stops the start with an error that names it, and the
// first such object in the store's order is the one named, however the decoding was shared out;
// the store keeps every entry as it was, and the inventory comes back whole once they are sound.
func TestAStoredObjectThatCannotBeReadStopsTheStartNamingIt(t *testing.T) {
	ctx := context.Background()
	inv, st, cfg := startDurable(t)
	root, err := find.NewFinder(inv.Client()).ResourcePool(ctx, "/Datacenter/host/Cluster-A/Resources")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := root.Create(ctx, fmt.Sprintf("pool-%02d", i), types.DefaultResourceConfigSpec()); err != nil {
			t.Fatal(err)
		}
	}
	inv.Close()

	pools, err := st.ReadPrefix(ctx, durableObjectsKey+"ResourcePool/")
	if err != nil || len(pools) < 40 {
		t.Fatalf("the stored pools: %d %v", len(pools), err)
	}
	all, err := st.ReadPrefix(ctx, durablePrefix)
	if err != nil {
		t.Fatal(err)
	}
	ref := func(kv store.KeyValue) string {
		return "ResourcePool:" + kv.Key[len(durableObjectsKey+"ResourcePool/"):]
	}
	early, late := pools[10], pools[30]
	otherJSON, err := unpackObject(pools[20].Value)
	if err != nil {
		t.Fatal(err)
	}
	badChecksum := slices.Clone(late.Value)
	badChecksum[len(badChecksum)-1] ^= 0xff
	cases := []struct {
		name    string
		entries []store.KeyValue
		want    []string
	}{
		{"not JSON", []store.KeyValue{{Key: late.Key, Value: []byte(`{"_typeName": "ResourcePool", "name": `)}},
			[]string{"stored object " + ref(late)}},
		{"deflated, with a bad checksum", []store.KeyValue{{Key: late.Key, Value: badChecksum}},
			[]string{`stored inventory key "` + late.Key + `"`, "checksum"}},
		{"another object's properties", []store.KeyValue{{Key: late.Key, Value: otherJSON}},
			[]string{"stored object " + ref(late), "holds " + ref(pools[20])}},
		{"a type that is not kept", []store.KeyValue{{Key: durableObjectsKey + "HostNetworkSystem/netsys-1", Value: otherJSON}},
			[]string{"stored object HostNetworkSystem:netsys-1", "cannot be restored"}},
		// Both broken: the one the store lists first is named.
		{"two of them", []store.KeyValue{{Key: late.Key, Value: badChecksum}, {Key: early.Key, Value: []byte("{")}},
			[]string{"stored object " + ref(early)}},
	}
	for _, c := range cases {
		if err := st.Apply(ctx, c.entries, nil); err != nil {
			t.Fatal(err)
		}
		if inv, err := Start(ctx, cfg); err == nil {
			inv.Close()
			t.Errorf("%s: the inventory started", c.name)
		} else {
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v; want it to say %q", c.name, err, want)
				}
			}
		}
		// Put back what was there: the failed start changed nothing else.
		var restore []store.KeyValue
		var drop []string
		for _, e := range c.entries {
			if i := slices.IndexFunc(all, func(kv store.KeyValue) bool { return kv.Key == e.Key }); i >= 0 {
				restore = append(restore, all[i])
			} else {
				drop = append(drop, e.Key)
			}
		}
		if err := st.Apply(ctx, restore, drop); err != nil {
			t.Fatal(err)
		}
		now, err := st.ReadPrefix(ctx, durablePrefix)
		if err != nil || !reflect.DeepEqual(now, all) {
			t.Fatalf("%s: the store after the failed start differs from before (%v)", c.name, err)
		}
	}

	inv, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	for i := range 40 {
		if _, err := find.NewFinder(inv.Client()).ResourcePool(ctx, fmt.Sprintf("/Datacenter/host/Cluster-A/Resources/pool-%02d", i)); err != nil {
			t.Errorf("pool-%02d after the restart: %v", i, err)
		}
	}
}
