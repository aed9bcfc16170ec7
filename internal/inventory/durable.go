package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	pbmtypes "github.com/vmware/govmomi/pbm/types"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"

	"github.com/wcpd/wcpd/internal/store"
)

// The durable inventory: every managed object a client can create, change or remove, the vAPI
// side's libraries, tags and attachments, and the storage policies are mirrored into the store,
// and a restart rebuilds the inventory from there.
//
// Layout below the store's prefix:
//
//	inventory/seed                   the Spec the data dir was first built from (JSON)
//	inventory/counter                the highest number the simulator gave an object (tasks too)
//	inventory/objects/<Type>/<id>    one managed object: its vSphere properties (VMOMI JSON, deflated: packed.go)
//	inventory/vapi/<map>/<key>       one entry of the vAPI simulator's state (JSON)
//	inventory/pbm/<position>         one storage policy (PBM XML), in the order PBM lists them
//
// Start rebuilds the seed exactly as it was first built (the simulator numbers objects in the
// order they are made, so the same build gives the same ids), then lays the stored objects over
// it: an object built from the seed takes its stored properties, one made later is created with
// its stored id, one removed since is removed. The stored Spec wins over the inventory file: a
// changed file does not change an existing data dir (Start says so in the log).
//
// Changes are captured from the simulator's registry, which announces every object it puts,
// updates and removes, and written by sync. Every response wcpd gives (SOAP through the
// listener, the internal clients, the vAPI proxy) waits for sync first, so what a client was
// told is in the store; a background writer picks up what changes between requests (the end of
// a task nobody is waiting for).
//
// Lists that can be derived from the other objects (a folder's children, a pool's pools and VMs,
// the VMs on a host, datastore or network) are not stored; they grow with every namespace and
// VM, and rewriting them on every change would make the store's traffic quadratic. They are
// rebuilt at start, in the order the objects were created.

const (
	durableSeedKey    = "inventory/seed"
	durableCounterKey = "inventory/counter"
	durableObjectsKey = "inventory/objects/"
	durableVAPIKey    = "inventory/vapi/"
	durablePBMKey     = "inventory/pbm/"
	durablePrefix     = "inventory/"
)

// durableTypes are the managed object types kept in the store: the inventory's entities and
// what is defined on them. Sessions, tasks, events, views and collectors are not (vCenter does
// not keep sessions across a restart either); nor are the simulator's roles and permissions,
// which wcpd does not use (its own identity store decides who may do what).
var durableTypes = setOf("Folder", "Datacenter", "ClusterComputeResource", "ComputeResource",
	"HostSystem", "ResourcePool", "VirtualApp", "VirtualMachine", "VirtualMachineSnapshot",
	"Datastore", "StoragePod", "Network", "OpaqueNetwork", "DistributedVirtualSwitch",
	"VmwareDistributedVirtualSwitch", "DistributedVirtualPortgroup", "CustomFieldsManager")

// newDurableObject returns an empty simulator object for a stored one of type kind that the seed
// did not build.
func newDurableObject(kind string) (mo.Reference, bool) {
	switch kind {
	case "Folder":
		return &simulator.Folder{}, true
	case "Datacenter":
		return &simulator.Datacenter{}, true
	case "ClusterComputeResource":
		return &simulator.ClusterComputeResource{}, true
	case "ComputeResource":
		return &mo.ComputeResource{}, true
	case "HostSystem":
		return &simulator.HostSystem{}, true
	case "ResourcePool":
		return &simulator.ResourcePool{}, true
	case "VirtualApp":
		return &simulator.VirtualApp{}, true
	case "VirtualMachine":
		return &simulator.VirtualMachine{}, true
	case "VirtualMachineSnapshot":
		return &simulator.VirtualMachineSnapshot{}, true
	case "Datastore":
		return &simulator.Datastore{}, true
	case "StoragePod":
		return &simulator.StoragePod{}, true
	case "Network":
		return &mo.Network{}, true
	case "OpaqueNetwork":
		return &mo.OpaqueNetwork{}, true
	case "DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch":
		return &simulator.DistributedVirtualSwitch{}, true
	case "DistributedVirtualPortgroup":
		return &simulator.DistributedVirtualPortgroup{}, true
	}
	return nil, false
}

// vapiState names the vAPI simulator's fields that hold what clients create: tag categories,
// tags, their attachments, libraries with their items, and library settings.
var vapiState = []string{"Category", "Tag", "Association", "Library", "LibraryUsage", "Trust", "Policies"}

// durable mirrors one Inventory into the store.
type durable struct {
	st   *store.Store
	log  *slog.Logger
	m    *simulator.Registry
	lock *simulator.Context // on whose behalf sync locks objects while it reads them
	vapi *vapiProxy
	pbm  *profileManager

	mu       sync.Mutex
	dirty    map[types.ManagedObjectReference]struct{}
	vapiSeen bool // the vAPI side may have changed
	pbmSeen  bool // the storage policies may have changed
	changes  uint64
	kick     chan struct{}
	// highest is the highest object number seen; a restart numbers new objects past it, so no
	// id a client saw (of an object removed since, or of a task) is given to another object.
	highest int

	syncMu         sync.Mutex
	synced         uint64              // changes written (under syncMu)
	writtenHighest int                 // the highest number written (under syncMu)
	written        map[string][32]byte // what the store holds, by key (under syncMu)

	stop context.CancelFunc
	done chan struct{}
}

func newDurable(st *store.Store, m *simulator.Registry, log *slog.Logger) *durable {
	return &durable{
		st: st, log: log, m: m,
		lock:    &simulator.Context{Context: context.Background(), Map: m},
		dirty:   map[types.ManagedObjectReference]struct{}{},
		kick:    make(chan struct{}, 1),
		written: map[string][32]byte{},
	}
}

// Reference names the durable mirror in the registry's handler table.
func (d *durable) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "WcpdDurableInventory", Value: "store"}
}

func (d *durable) PutObject(_ *simulator.Context, obj mo.Reference) {
	ref := obj.Reference()
	if n, ok := idNumber(ref.Value); ok {
		d.mu.Lock()
		d.highest = max(d.highest, n)
		d.mu.Unlock()
	}
	d.changed(ref)
}

func (d *durable) UpdateObject(_ *simulator.Context, obj mo.Reference, _ []types.PropertyChange) {
	d.changed(obj.Reference())
	// A task's work may change its object in place without announcing it; the task's end is
	// announced.
	if t, ok := obj.(*mo.Task); ok && t.Info.Entity != nil &&
		(t.Info.State == types.TaskInfoStateSuccess || t.Info.State == types.TaskInfoStateError) {
		d.changed(*t.Info.Entity)
	}
}

func (d *durable) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if durableTypes[ref.Type] {
		d.changed(ref)
		// The vAPI side forgets a removed object's tag attachments.
		d.vapiChanged()
	}
}

func (d *durable) changed(ref types.ManagedObjectReference) {
	if !durableTypes[ref.Type] {
		return
	}
	d.mu.Lock()
	d.dirty[ref] = struct{}{}
	d.changes++
	d.mu.Unlock()
	d.wake()
}

// touched marks the objects a finished SOAP call named: a few methods change them in place
// without announcing it (a pool's UpdateConfig, a custom field's SetField).
func (d *durable) touched(refs []types.ManagedObjectReference) {
	for _, ref := range refs {
		// A caller may name a switch by the type clients see (switchtype.go).
		d.changed(simulatorRef(ref))
	}
}

func (d *durable) vapiChanged() { d.note(&d.vapiSeen) }

func (d *durable) pbmChanged() { d.note(&d.pbmSeen) }

// note sets a flag of what may have changed (under mu) and wakes the writer.
func (d *durable) note(flag *bool) {
	d.mu.Lock()
	*flag = true
	d.changes++
	d.mu.Unlock()
	d.wake()
}

func (d *durable) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run writes changes as they come, so those nobody waits for are not left behind.
func (d *durable) run() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stop, d.done = cancel, make(chan struct{})
	go func() {
		defer close(d.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.kick:
				if err := d.sync(ctx); err != nil && ctx.Err() == nil {
					d.log.Error("inventory changes not saved; retried with the next change", "err", err)
				}
			}
		}
	}()
}

func (d *durable) close() {
	if d != nil && d.stop != nil {
		d.stop()
		<-d.done
	}
}

// sync writes every change announced before it was called and returns once the store has it.
// A nil durable (an inventory without a store) has nothing to write.
func (d *durable) sync(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	target := d.changes
	d.mu.Unlock()

	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if d.synced >= target {
		return nil
	}
	d.mu.Lock()
	dirty, vapiSeen, pbmSeen, upTo, highest := d.dirty, d.vapiSeen, d.pbmSeen, d.changes, d.highest
	d.dirty, d.vapiSeen, d.pbmSeen = map[types.ManagedObjectReference]struct{}{}, false, false
	d.mu.Unlock()

	next := map[string][]byte{} // key → new value; nil removes
	for ref := range dirty {
		key := objectKey(ref)
		obj := d.m.Get(ref)
		if obj == nil {
			next[key] = nil
			continue
		}
		data, err := d.encodeLocked(obj)
		if err != nil {
			return d.retryLater(dirty, vapiSeen, pbmSeen, fmt.Errorf("%s: %w", ref, err))
		}
		next[key] = data
	}
	if vapiSeen {
		entries, err := d.vapi.state()
		if err != nil {
			return d.retryLater(dirty, vapiSeen, pbmSeen, err)
		}
		d.replaceBelow(next, durableVAPIKey, entries)
	}
	if pbmSeen {
		entries, err := d.pbm.state()
		if err != nil {
			return d.retryLater(dirty, vapiSeen, pbmSeen, err)
		}
		d.replaceBelow(next, durablePBMKey, entries)
	}

	var (
		puts    []store.KeyValue
		deletes []string
		hashes  = map[string][32]byte{}
	)
	if highest > d.writtenHighest {
		puts = append(puts, store.KeyValue{Key: durableCounterKey, Value: []byte(strconv.Itoa(highest))})
	}
	for key, value := range next {
		if value == nil {
			if _, ok := d.written[key]; ok {
				deletes = append(deletes, key)
			}
			continue
		}
		sum := sha256.Sum256(value)
		if old, ok := d.written[key]; ok && old == sum {
			continue
		}
		hashes[key] = sum
		if strings.HasPrefix(key, durableObjectsKey) {
			value = packObject(value)
		}
		puts = append(puts, store.KeyValue{Key: key, Value: value})
	}
	if err := d.st.Apply(ctx, puts, deletes); err != nil {
		return d.retryLater(dirty, vapiSeen, pbmSeen, err)
	}
	for key, sum := range hashes {
		d.written[key] = sum
	}
	for _, key := range deletes {
		delete(d.written, key)
	}
	d.synced = upTo
	d.writtenHighest = max(d.writtenHighest, highest)
	return nil
}

// replaceBelow adds to next the entries below prefix, and a removal for every key below prefix
// the store holds that entries lacks.
func (d *durable) replaceBelow(next map[string][]byte, prefix string, entries map[string][]byte) {
	for key := range d.written {
		if strings.HasPrefix(key, prefix) {
			if _, ok := entries[key]; !ok {
				next[key] = nil
			}
		}
	}
	for key, value := range entries {
		next[key] = value
	}
}

// retryLater puts what sync took back, so the next sync writes it.
func (d *durable) retryLater(dirty map[types.ManagedObjectReference]struct{}, vapiSeen, pbmSeen bool, err error) error {
	d.mu.Lock()
	for ref := range dirty {
		d.dirty[ref] = struct{}{}
	}
	d.vapiSeen = d.vapiSeen || vapiSeen
	d.pbmSeen = d.pbmSeen || pbmSeen
	d.mu.Unlock()
	return fmt.Errorf("saving the inventory: %w", err)
}

func objectKey(ref types.ManagedObjectReference) string {
	return durableObjectsKey + ref.Type + "/" + ref.Value
}

// encodeLocked encodes obj's properties while holding the simulator's lock on it.
func (d *durable) encodeLocked(obj mo.Reference) (data []byte, err error) {
	d.m.WithLock(d.lock, obj, func() { data, err = encodeObject(obj) })
	return data, err
}

// encodeObject encodes obj's vSphere properties as VMOMI JSON, without the derived lists and
// the tasks in flight.
func encodeObject(obj mo.Reference) ([]byte, error) {
	v, ok := managedObject(obj)
	if !ok {
		return nil, fmt.Errorf("%T has no vSphere object", obj)
	}
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	for _, list := range derivedLists(cp.Interface()) {
		*list = nil
	}
	if e, ok := cp.Interface().(mo.Entity); ok {
		e.Entity().RecentTask = nil
	}
	var buf bytes.Buffer
	if err := types.NewJSONEncoder(&buf).Encode(cp.Interface()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// managedObject returns the vSphere object (a value of a type from package mo) that obj is or
// wraps: the simulator's types embed it as their first field.
func managedObject(obj mo.Reference) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	v = v.Elem()
	moPkg := reflect.TypeFor[mo.Folder]().PkgPath()
	if v.Type().PkgPath() == moPkg {
		return v, true
	}
	if v.NumField() > 0 && v.Type().Field(0).Anonymous && v.Field(0).Kind() == reflect.Struct &&
		v.Field(0).Type().PkgPath() == moPkg {
		return v.Field(0), true
	}
	return reflect.Value{}, false
}

// derivedLists returns the lists of x (a pointer to an mo value) that restore rebuilds from the
// other objects.
func derivedLists(x any) []*[]types.ManagedObjectReference {
	switch o := x.(type) {
	case *mo.Folder:
		return []*[]types.ManagedObjectReference{&o.ChildEntity}
	case *mo.StoragePod:
		return []*[]types.ManagedObjectReference{&o.ChildEntity}
	case *mo.ResourcePool:
		return []*[]types.ManagedObjectReference{&o.ResourcePool, &o.Vm}
	case *mo.VirtualApp:
		return []*[]types.ManagedObjectReference{&o.ResourcePool.ResourcePool, &o.ResourcePool.Vm}
	case *mo.HostSystem:
		return []*[]types.ManagedObjectReference{&o.Vm}
	case *mo.Datastore:
		return []*[]types.ManagedObjectReference{&o.Vm}
	case *mo.Network:
		return []*[]types.ManagedObjectReference{&o.Vm}
	case *mo.OpaqueNetwork:
		return []*[]types.ManagedObjectReference{&o.Vm}
	case *mo.DistributedVirtualPortgroup:
		return []*[]types.ManagedObjectReference{&o.Vm}
	}
	return nil
}

// seed writes the whole freshly built inventory, then the Spec; a data dir whose seed key is
// missing was never completely written and is seeded again.
func (d *durable) seed(ctx context.Context, spec *Spec) error {
	if err := d.st.DeletePrefix(ctx, durablePrefix); err != nil {
		return err
	}
	for kind := range durableTypes {
		for _, obj := range d.m.AllReference(kind) {
			d.changed(obj.Reference())
		}
	}
	d.vapiChanged()
	d.pbmChanged()
	if err := d.sync(ctx); err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return d.st.Apply(ctx, []store.KeyValue{{Key: durableSeedKey, Value: data}}, nil)
}

// storedSeed returns the Spec the store's inventory was built from, or nil for a fresh store.
func storedSeed(ctx context.Context, st *store.Store) (*Spec, error) {
	entries, err := st.ReadPrefix(ctx, durableSeedKey)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Key == durableSeedKey {
			spec, err := ParseSpec(e.Value)
			if err != nil {
				return nil, fmt.Errorf("the stored inventory seed: %w", err)
			}
			return spec, nil
		}
	}
	return nil, nil
}

// restore lays the stored inventory over the rebuilt seed.
func (d *durable) restore(ctx context.Context) error {
	entries, err := d.st.ReadPrefix(ctx, durablePrefix)
	if err != nil {
		return err
	}
	objects := d.decodeObjects(entries)
	kept := map[types.ManagedObjectReference]bool{}
	vapiEntries, pbmEntries := map[string][]byte{}, map[string][]byte{}
	for i, e := range entries {
		if o := objects[i]; o != nil {
			if o.err != nil {
				return o.err
			}
			d.written[e.Key] = o.sum
			if err := d.restoreObject(o); err != nil {
				return fmt.Errorf("stored object %s: %w", o.ref, err)
			}
			kept[o.ref] = true
			continue
		}
		d.written[e.Key] = sha256.Sum256(e.Value)
		switch {
		case strings.HasPrefix(e.Key, durableVAPIKey):
			vapiEntries[e.Key] = e.Value
		case strings.HasPrefix(e.Key, durablePBMKey):
			pbmEntries[e.Key] = e.Value
		case e.Key == durableCounterKey:
			d.writtenHighest, _ = strconv.Atoi(string(e.Value))
		}
	}
	delete(d.written, durableSeedKey)
	delete(d.written, durableCounterKey)
	// What the seed built and a client removed since.
	for kind := range durableTypes {
		for _, obj := range d.m.AllReference(kind) {
			if ref := obj.Reference(); !kept[ref] {
				d.m.Remove(d.lock, ref)
			}
		}
	}
	linkChildren(d.m)
	if err := d.m.AlignCounter(); err != nil {
		return err
	}
	// Past every number given before the restart, not only those of the objects still there.
	setCounterAtLeast(d.m, int64(d.writtenHighest))
	d.highest = d.writtenHighest
	if err := d.vapi.restore(vapiEntries); err != nil {
		return err
	}
	return d.pbm.restore(pbmEntries)
}

// storedObject is one stored managed object on its way back into the registry.
type storedObject struct {
	ref types.ManagedObjectReference
	// obj is the seed's object of that reference, or a new one to put (existing says which); dst
	// is its vSphere value. A new object's stored properties are decoded into dst itself; the
	// seed's into decoded, a value of its own that restoreObject lays over dst.
	obj      mo.Reference
	existing bool
	dst      reflect.Value
	decoded  reflect.Value
	sum      [sha256.Size]byte // of the JSON, as sync compares what it writes
	err      error             // why the object cannot be restored, if it cannot
}

// decodeObjects reads back the stored objects among entries, at the same positions (nil for the
// other entries). Inflating and decoding are most of a restart's work at size (a namespace's
// pool is 2.7 KB of VMOMI JSON, and there are as many pools as namespaces) and depend on nothing
// but the object's own bytes, so they run on every core; what touches the registry does not, and
// restore applies the objects one after the other in the order of their keys.
func (d *durable) decodeObjects(entries []store.KeyValue) []*storedObject {
	objects := make([]*storedObject, len(entries))
	for i, e := range entries {
		rest, isObject := strings.CutPrefix(e.Key, durableObjectsKey)
		if !isObject {
			continue
		}
		o := &storedObject{}
		objects[i] = o
		kind, id, ok := strings.Cut(rest, "/")
		if !ok {
			o.err = fmt.Errorf("stored inventory key %q: no object id", e.Key)
			continue
		}
		o.ref = types.ManagedObjectReference{Type: kind, Value: id}
		o.obj = d.m.Get(o.ref)
		o.existing = o.obj != nil
		if !o.existing {
			if o.obj, ok = newDurableObject(kind); !ok {
				o.fail("type %s cannot be restored", kind)
				continue
			}
		}
		if o.dst, ok = managedObject(o.obj); !ok {
			o.fail("%T has no vSphere object", o.obj)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(entries)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(entries); i = int(next.Add(1)) - 1 {
				if o := objects[i]; o != nil && o.err == nil {
					o.decode(entries[i])
				}
			}
		})
	}
	wg.Wait()
	return objects
}

// fail records why o cannot be restored, in an error that names it.
func (o *storedObject) fail(format string, args ...any) {
	o.err = fmt.Errorf("stored object %s: "+format, append([]any{o.ref}, args...)...)
}

// decode inflates and decodes the stored entry into o.dst, or o.decoded for the seed's object.
func (o *storedObject) decode(e store.KeyValue) {
	data, err := unpackObject(e.Value)
	if err != nil {
		o.err = fmt.Errorf("stored inventory key %q: %w", e.Key, err)
		return
	}
	o.sum = sha256.Sum256(data) // writes compare the JSON, not what the store holds
	// A new object is decoded where it is to live, so that a restart does not hold every object
	// twice until it is put; the seed's, which the registry already holds, into a value of its own
	// that restoreObject lays over it.
	into := o.dst.Addr()
	if o.existing {
		o.decoded = reflect.New(o.dst.Type())
		into = o.decoded
	}
	if err := types.NewJSONDecoder(bytes.NewReader(data)).Decode(into.Interface()); err != nil {
		o.fail("%w", err)
		return
	}
	if got := into.Interface().(mo.Reference).Reference(); got != o.ref {
		o.fail("holds %s", got)
	}
}

// restoreObject gives the seed's object its stored properties, or puts the new one.
func (d *durable) restoreObject(o *storedObject) error {
	if o.existing {
		// In place: the seed's objects point into each other (a host's managers hold its
		// configuration, its summary its runtime), and those pointers must keep working.
		var url string
		if ds, ok := o.obj.(*simulator.Datastore); ok {
			url = ds.Info.GetDatastoreInfo().Url
		}
		assignInPlace(o.dst, o.decoded.Elem())
		if ds, ok := o.obj.(*simulator.Datastore); ok {
			// The data dir may have moved since: the seed's directory is the one in use.
			ds.Info.GetDatastoreInfo().Url = url
			ds.Summary.Url = url
		}
		return nil
	}
	switch obj := o.obj.(type) {
	case *simulator.VirtualMachine:
		if err := d.reviveVM(obj); err != nil {
			return err
		}
	case *simulator.HostSystem:
		obj.Summary.Runtime = &obj.Runtime
	case *simulator.ClusterComputeResource:
		reviveCluster(obj)
	}
	d.m.Put(o.obj)
	return nil
}

// assignInPlace copies src into dst, keeping dst's pointers where both sides have a struct to
// point at: the copy goes into the struct dst already points to.
func assignInPlace(dst, src reflect.Value) {
	switch dst.Kind() {
	case reflect.Struct:
		for i := range dst.NumField() {
			if dst.Field(i).CanSet() {
				assignInPlace(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Pointer:
		if !dst.IsNil() && !src.IsNil() && dst.Elem().Kind() == reflect.Struct {
			assignInPlace(dst.Elem(), src.Elem())
			return
		}
		dst.Set(src)
	default:
		dst.Set(src)
	}
}

// reviveVM sets what the simulator keeps of a VM outside its vSphere properties: its identity
// (derived from its UUID) and the log file it appends power events to.
func (d *durable) reviveVM(vm *simulator.VirtualMachine) error {
	if vm.Config == nil {
		return nil
	}
	if id, err := uuid.Parse(vm.Config.Uuid); err == nil {
		setUnexported(vm, "uid", id)
	}
	var p object.DatastorePath
	if !p.FromString(vm.Config.Files.LogDirectory) {
		return nil
	}
	for _, ds := range d.m.All("Datastore") {
		if ds, ok := ds.(*simulator.Datastore); ok && ds.Name == p.Datastore {
			setUnexported(vm, "log", filepath.Join(ds.Info.GetDatastoreInfo().Url, p.Path, "vmware.log"))
		}
	}
	return nil
}

// reviveCluster sets the cluster's counter of rule keys past the rules it has.
func reviveCluster(c *simulator.ClusterComputeResource) {
	var highest int32
	if cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
		for _, r := range cfg.Rule {
			highest = max(highest, r.GetClusterRuleInfo().Key)
		}
	}
	setUnexported(c, "ruleKey", highest)
}

// setCounterAtLeast makes the registry number its next object past n.
func setCounterAtLeast(m *simulator.Registry, n int64) {
	f := reflect.ValueOf(m).Elem().FieldByName("counter")
	if f.IsValid() && f.Kind() == reflect.Int64 && f.Int() < n {
		setUnexported(m, "counter", n)
	}
}

// setUnexported sets an unexported field of a simulator object. The simulator keeps a few
// things outside the vSphere properties and offers no way to set them on an object it did not
// make; a govmomi upgrade that renames one makes this a no-op that restore's tests notice.
func setUnexported(obj any, name string, value any) {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !f.IsValid() || f.Type() != reflect.TypeOf(value) {
		return
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(value))
}

// linkChildren rebuilds the derived lists from the objects' own references, each list in the
// order its members were created (their ids' numbers).
func linkChildren(m *simulator.Registry) {
	var objs []mo.Reference
	for kind := range durableTypes {
		objs = append(objs, m.AllReference(kind)...)
	}
	slices.SortFunc(objs, func(a, b mo.Reference) int { return compareIDs(a.Reference(), b.Reference()) })
	mos := map[types.ManagedObjectReference]any{}
	for _, obj := range objs {
		v, ok := managedObject(obj)
		if !ok {
			continue
		}
		x := v.Addr().Interface()
		for _, list := range derivedLists(x) {
			*list = nil
		}
		mos[obj.Reference()] = x
	}
	add := func(to *types.ManagedObjectReference, ref types.ManagedObjectReference, pick func(any) *[]types.ManagedObjectReference) {
		if to == nil {
			return
		}
		if list := pick(mos[*to]); list != nil {
			*list = append(*list, ref)
		}
	}
	children := func(x any) *[]types.ManagedObjectReference {
		switch p := x.(type) {
		case *mo.Folder:
			return &p.ChildEntity
		case *mo.StoragePod:
			return &p.ChildEntity
		}
		return nil
	}
	pools := func(x any) *[]types.ManagedObjectReference {
		switch p := x.(type) {
		case *mo.ResourcePool:
			return &p.ResourcePool
		case *mo.VirtualApp:
			return &p.ResourcePool.ResourcePool
		}
		return nil
	}
	// A compute resource's root pool has it as its parent and owner. The simulator makes the pool
	// with a parent that points at the compute resource's reference before the compute resource
	// has one, and sets the owner after: the store may hold the pool as it was in that instant,
	// with no parent or an empty one and no owner (the writer reads objects after they change, and
	// neither is a change it hears of). Restore both.
	for _, obj := range objs {
		var root *types.ManagedObjectReference
		switch c := mos[obj.Reference()].(type) {
		case *mo.ClusterComputeResource:
			root = c.ResourcePool
		case *mo.ComputeResource:
			root = c.ResourcePool
		}
		if root == nil {
			continue
		}
		p, ok := mos[*root].(*mo.ResourcePool)
		if !ok {
			continue
		}
		owner := obj.Reference()
		if p.Parent == nil || *p.Parent == (types.ManagedObjectReference{}) {
			p.Parent = &owner
		}
		if p.Owner == (types.ManagedObjectReference{}) {
			p.Owner = owner
		}
	}
	for _, obj := range objs {
		ref := obj.Reference()
		x := mos[ref]
		e, ok := x.(mo.Entity)
		if !ok {
			continue
		}
		parent := e.Entity().Parent
		add(parent, ref, children)
		if ref.Type == "ResourcePool" || ref.Type == "VirtualApp" {
			add(parent, ref, pools)
		}
		if vm, ok := x.(*mo.VirtualMachine); ok {
			add(vm.ResourcePool, ref, vmList)
			add(vm.Runtime.Host, ref, vmList)
			for _, ds := range vm.Datastore {
				add(&ds, ref, vmList)
			}
			for _, n := range vm.Network {
				add(&n, ref, vmList)
			}
		}
	}
}

// vmList is the list of the VMs in, on or using x (a pointer to an mo value), or nil if x has none.
func vmList(x any) *[]types.ManagedObjectReference {
	switch p := x.(type) {
	case *mo.ResourcePool:
		return &p.Vm
	case *mo.VirtualApp:
		return &p.ResourcePool.Vm
	case *mo.HostSystem:
		return &p.Vm
	case *mo.Datastore:
		return &p.Vm
	case *mo.Network:
		return &p.Vm
	case *mo.OpaqueNetwork:
		return &p.Vm
	case *mo.DistributedVirtualPortgroup:
		return &p.Vm
	}
	return nil
}

// compareIDs orders references by the number the simulator gave them: it numbers the objects
// of every type from one counter, in the order it makes them.
func compareIDs(a, b types.ManagedObjectReference) int {
	an, aok := idNumber(a.Value)
	bn, bok := idNumber(b.Value)
	if aok && bok && an != bn {
		return an - bn
	}
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// idNumber returns the number an id ends in ("domain-c9" → 9).
func idNumber(id string) (int, bool) {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(id[i:])
	return n, err == nil
}

// state returns the vAPI simulator's content as store entries.
func (p *vapiProxy) state() (map[string][]byte, error) {
	h, locker, err := p.handlerState()
	if err != nil {
		return nil, err
	}
	locker.Lock()
	defer locker.Unlock()
	out := map[string][]byte{}
	for _, name := range vapiState {
		f := h.FieldByName(name)
		switch f.Kind() {
		case reflect.Map:
			for _, k := range f.MapKeys() {
				data, err := encodeVAPIValue(f.MapIndex(k))
				if err != nil {
					return nil, fmt.Errorf("vAPI %s %s: %w", name, k, err)
				}
				out[durableVAPIKey+name+"/"+k.String()] = data
			}
		case reflect.Slice:
			data, err := json.Marshal(f.Interface())
			if err != nil {
				return nil, fmt.Errorf("vAPI %s: %w", name, err)
			}
			out[durableVAPIKey+name] = data
		default:
			return nil, fmt.Errorf("vAPI simulator handler: no field %s", name)
		}
	}
	return out, nil
}

// encodeVAPIValue encodes one map value; a set keyed by structs (a tag's attachments) becomes
// the list of its keys.
func encodeVAPIValue(v reflect.Value) ([]byte, error) {
	if v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.Struct {
		// Sorted, so an unchanged set encodes the same and is not written again.
		keys := make([]json.RawMessage, 0, v.Len())
		for _, k := range v.MapKeys() {
			data, err := json.Marshal(k.Interface())
			if err != nil {
				return nil, err
			}
			keys = append(keys, data)
		}
		slices.SortFunc(keys, func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
		return json.Marshal(keys)
	}
	return json.Marshal(v.Interface())
}

// restore replaces the vAPI simulator's content with the stored entries.
func (p *vapiProxy) restore(entries map[string][]byte) error {
	h, locker, err := p.handlerState()
	if err != nil {
		return err
	}
	locker.Lock()
	defer locker.Unlock()
	defer p.generation.Add(1) // the state changes in place, under the lock
	for _, name := range vapiState {
		f := h.FieldByName(name)
		switch f.Kind() {
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
		case reflect.Slice:
			f.Set(reflect.Zero(f.Type()))
		}
	}
	for key, data := range entries {
		name, id, _ := strings.Cut(strings.TrimPrefix(key, durableVAPIKey), "/")
		f := h.FieldByName(name)
		switch f.Kind() {
		case reflect.Map:
			elem := reflect.New(f.Type().Elem())
			if t := f.Type().Elem(); t.Kind() == reflect.Map && t.Key().Kind() == reflect.Struct {
				keys := reflect.New(reflect.SliceOf(t.Key()))
				if err := json.Unmarshal(data, keys.Interface()); err != nil {
					return fmt.Errorf("stored vAPI %s %s: %w", name, id, err)
				}
				set := reflect.MakeMap(t)
				for i := range keys.Elem().Len() {
					set.SetMapIndex(keys.Elem().Index(i), reflect.ValueOf(true))
				}
				elem.Elem().Set(set)
			} else if err := json.Unmarshal(data, elem.Interface()); err != nil {
				return fmt.Errorf("stored vAPI %s %s: %w", name, id, err)
			}
			f.SetMapIndex(reflect.ValueOf(id).Convert(f.Type().Key()), elem.Elem())
		case reflect.Slice:
			if err := json.Unmarshal(data, f.Addr().Interface()); err != nil {
				return fmt.Errorf("stored vAPI %s: %w", name, err)
			}
		default:
			return fmt.Errorf("stored vAPI entry %s: the simulator has no such state", key)
		}
	}
	return nil
}

// handlerState returns the vAPI simulator handler's fields and its lock.
func (p *vapiProxy) handlerState() (reflect.Value, sync.Locker, error) {
	locker, ok := p.sim.(sync.Locker)
	v := reflect.ValueOf(p.sim)
	if !ok || v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil, fmt.Errorf("vAPI simulator handler %T: unexpected layout", p.sim)
	}
	return v.Elem(), locker, nil
}

// state returns the storage policies as store entries, in PBM's own XML.
func (m *profileManager) state() (map[string][]byte, error) {
	m.mu.Lock()
	profiles := slices.Clone(m.profiles)
	m.mu.Unlock()
	out := map[string][]byte{}
	for i, p := range profiles {
		data, err := xml.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("storage policy %s: %w", p.ProfileId.UniqueId, err)
		}
		out[fmt.Sprintf("%s%06d", durablePBMKey, i)] = data
	}
	return out, nil
}

// restore replaces the storage policies with the stored ones.
func (m *profileManager) restore(entries map[string][]byte) error {
	if len(entries) == 0 {
		return errors.New("no stored storage policies")
	}
	keys := slices.Sorted(maps.Keys(entries))
	profiles := make([]*pbmtypes.PbmCapabilityProfile, 0, len(keys))
	for _, key := range keys {
		dec := xml.NewDecoder(bytes.NewReader(entries[key]))
		dec.TypeFunc = types.TypeFunc()
		p := new(pbmtypes.PbmCapabilityProfile)
		if err := dec.Decode(p); err != nil {
			return fmt.Errorf("stored storage policy %s: %w", key, err)
		}
		profiles = append(profiles, p)
	}
	m.mu.Lock()
	m.profiles = profiles
	m.generation.Add(1)
	m.mu.Unlock()
	return nil
}

// syncedWriter holds a SOAP answer back until sync has written the changes it may report. If
// they cannot be written the client gets a SystemError fault instead of the answer: the change
// happened in memory but would not survive a restart, and the client must not take it as done.
type syncedWriter struct {
	http.ResponseWriter
	sync   func() error
	synced bool
	failed bool
}

// ready syncs once, before the first byte of the answer; it reports whether the answer may go.
func (w *syncedWriter) ready() bool {
	if !w.synced {
		w.synced = true
		if err := w.sync(); err != nil {
			w.failed = true
			w.ResponseWriter.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.ResponseWriter.WriteHeader(http.StatusInternalServerError)
			_, _ = w.ResponseWriter.Write(systemErrorFault("wcpd could not save the change in its store: " + err.Error()))
		}
	}
	return !w.failed
}

func (w *syncedWriter) WriteHeader(code int) {
	if w.ready() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *syncedWriter) Write(p []byte) (int, error) {
	if !w.ready() {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// systemErrorFault is a SOAP envelope carrying a vim25 SystemError with reason.
func systemErrorFault(reason string) []byte {
	var text bytes.Buffer
	_ = xml.EscapeText(&text, []byte(reason))
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>` + text.String() + `</faultstring>` +
		`<detail><SystemErrorFault xmlns="urn:vim25" xsi:type="SystemError"><reason>` + text.String() + `</reason></SystemErrorFault></detail>` +
		`</soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
}

// soapCall reads what the durable inventory needs of a SOAP request body: the references to
// durable objects named by a method that may change something (none for one that only reads).
func soapCall(body []byte) (refs []types.ManagedObjectReference) {
	var method string
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return refs
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !inBody:
			inBody = start.Name.Local == "Body"
		case method == "":
			method = start.Name.Local
			if readOnlyMethods[method] {
				return nil
			}
		default:
			for _, a := range start.Attr {
				if a.Name.Local == "type" && a.Name.Space == "" && durableTypes[a.Value] {
					var value string
					if dec.DecodeElement(&value, &start) == nil && value != "" {
						refs = append(refs, types.ManagedObjectReference{Type: a.Value, Value: strings.TrimSpace(value)})
					}
				}
			}
		}
	}
}

// callRefs returns the durable objects named by a generated request body (methods.XBody with
// its Req) of a method that may change something, for the internal client's calls.
func callRefs(req any) (refs []types.ManagedObjectReference) {
	v := reflect.ValueOf(req)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if readOnlyMethods[strings.TrimSuffix(v.Type().Name(), "Body")] {
		return nil
	}
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 8 || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.Struct:
			if ref, ok := v.Interface().(types.ManagedObjectReference); ok {
				if durableTypes[ref.Type] {
					refs = append(refs, ref)
				}
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i), depth+1)
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range min(v.Len(), 1000) {
				walk(v.Index(i), depth+1)
			}
		}
	}
	walk(v, 0)
	return refs
}

// CompareIDs orders MoRef values by the number the simulator gave them: the order the objects
// were made in.
func CompareIDs(a, b string) int {
	return compareIDs(types.ManagedObjectReference{Value: a}, types.ManagedObjectReference{Value: b})
}
