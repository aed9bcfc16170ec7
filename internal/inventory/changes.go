package inventory

import (
	"reflect"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The inventory keeps a short log of the objects each change touched, so a reader that keeps
// figures derived from part of the inventory can bring them up to date by reading only what
// changed (ChangedSince) instead of everything it derived them from.
//
// Each move of the generation records, in the same critical section, the objects of its change:
//   - before a method that may change the inventory: the object it is invoked on and every object
//     its arguments name, so a change the simulator makes in place without announcing it (a pool's
//     UpdateConfig) is covered, as are the pools a VM is created in or moved into;
//   - for every object the simulator's registry announces as put, updated or removed, and the
//     objects a task worked on and made when the task is announced.
//
// What a change does to objects it does not name (a destroyed pool's children move to its parent;
// a destroyed VM leaves its pool's list) a reader finds from what it kept: where the named object
// was when it last read it.

// changeLogSize bounds the log. A reader whose generation is older than the oldest entry kept
// reads everything again, which is what it did before the log existed.
const changeLogSize = 8192

// changeLog is a ring of (generation, object) entries in the order the generation moved.
type changeLog struct {
	mu      sync.Mutex
	entries [changeLogSize]changeEntry
	next    int // where the next entry goes
	full    bool
	// forgotten is the highest generation whose entries were overwritten (0 for none).
	forgotten uint64
}

type changeEntry struct {
	generation uint64
	ref        types.ManagedObjectReference
}

// add records that the change that moved the generation to g touched ref. The caller holds mu.
func (l *changeLog) add(g uint64, ref types.ManagedObjectReference) {
	if ref.Value == "" {
		return
	}
	// A task announces every step of its progress: one entry per object and run of changes.
	last := (l.next + changeLogSize - 1) % changeLogSize
	if (l.next > 0 || l.full) && l.entries[last].ref == ref {
		l.entries[last].generation = g
		return
	}
	if l.full {
		l.forgotten = l.entries[l.next].generation
	}
	l.entries[l.next] = changeEntry{generation: g, ref: ref}
	l.next++
	if l.next == changeLogSize {
		l.next, l.full = 0, true
	}
}

// ChangedSince returns the objects that changes made since generation g touched (g being a value
// of Generation read before the reading the caller wants to bring up to date), each once, or false
// when the log no longer reaches back that far. Changes that moved the generation to g itself are
// included: a reader may have loaded g between the move and the change.
func (inv *Inventory) ChangedSince(g uint64) ([]types.ManagedObjectReference, bool) {
	return inv.changes.since(g)
}

func (l *changeLog) since(g uint64) ([]types.ManagedObjectReference, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.forgotten >= g {
		return nil, false
	}
	var out []types.ManagedObjectReference
	seen := map[types.ManagedObjectReference]bool{}
	for i := 0; i < changeLogSize; i++ {
		idx := (l.next - 1 - i + 2*changeLogSize) % changeLogSize
		if !l.full && idx >= l.next {
			break
		}
		e := l.entries[idx]
		if e.generation < g {
			break
		}
		if !seen[e.ref] {
			seen[e.ref] = true
			out = append(out, e.ref)
		}
	}
	return out, true
}

// changedByMethod is what a method that may change the inventory touches: the object it is invoked
// on and every object its arguments name.
func changedByMethod(method *simulator.Method) []types.ManagedObjectReference {
	refs := []types.ManagedObjectReference{method.This}
	collectRefs(reflect.ValueOf(method.Body), &refs, 0)
	return refs
}

var refType = reflect.TypeFor[types.ManagedObjectReference]()

// collectRefs appends every managed object reference inside v (arguments are a few levels deep: a
// relocate spec's pool, a move's list).
func collectRefs(v reflect.Value, refs *[]types.ManagedObjectReference, depth int) {
	if depth > 8 || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectRefs(v.Elem(), refs, depth+1)
		}
	case reflect.Struct:
		if v.Type() == refType {
			*refs = append(*refs, v.Interface().(types.ManagedObjectReference))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collectRefs(v.Field(i), refs, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes name no object
		}
		for i := range v.Len() {
			collectRefs(v.Index(i), refs, depth+1)
		}
	}
}

// announcedRefs are the objects an announcement of obj touched: obj itself, or for a task the
// object it worked on and the object it made (a clone's new VM, configured before the task ends).
func announcedRefs(obj mo.Reference) []types.ManagedObjectReference {
	ref := obj.Reference()
	if ref.Type != "Task" {
		return []types.ManagedObjectReference{ref}
	}
	var info *types.TaskInfo
	switch t := obj.(type) {
	case *simulator.Task:
		info = &t.Info
	case *mo.Task:
		info = &t.Info
	default:
		return nil
	}
	var out []types.ManagedObjectReference
	if info.Entity != nil {
		out = append(out, *info.Entity)
	}
	if made, ok := info.Result.(types.ManagedObjectReference); ok {
		out = append(out, made)
	}
	return out
}
