package inventory

import (
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// The simulator locks a session's own objects (property filters, views) in the global registry, by
// reference, but removes them from the session's registry only: the global registry keeps one lock
// per session object ever called, for good (about 100 bytes each, one per task a client waited
// for, which made the soak's memory climb). pruneSessionLocks drops the locks of session objects
// that no longer exist: their sessions have ended, or the objects were destroyed. A live object's
// lock is never dropped, so no two callers can ever hold different locks for one object.

// simGetSession is the simulator's session lookup by key, under its session mutex.
//
//go:linkname simGetSession github.com/vmware/govmomi/simulator.(*SessionManager).getSession
func simGetSession(m *simulator.SessionManager, key string) (simulator.Session, bool)

// sessionObjectKey returns the session key of a session object's reference ("session[<key>]<id>").
func sessionObjectKey(ref types.ManagedObjectReference) (string, bool) {
	rest, ok := strings.CutPrefix(ref.Value, "session[")
	if !ok {
		return "", false
	}
	key, _, ok := strings.Cut(rest, "]")
	return key, ok
}

// registryLocks gives access to the registry's lock table and the mutex that guards it.
func registryLocks(m *simulator.Registry) (*sync.Mutex, reflect.Value) {
	v := reflect.ValueOf(m).Elem()
	mu := v.FieldByName("m")
	locks := v.FieldByName("locks")
	return (*sync.Mutex)(unsafe.Pointer(mu.UnsafeAddr())),
		reflect.NewAt(locks.Type(), unsafe.Pointer(locks.UnsafeAddr())).Elem()
}

// pruneSessionLocks drops the global registry's locks of session objects that are gone and returns
// how many it dropped.
func pruneSessionLocks(m *simulator.Registry) int {
	mu, locks := registryLocks(m)
	// First the candidates, read under the table's mutex; their liveness is checked without it (a
	// session's registry has a mutex of its own). A dead object never comes back: references of
	// session objects are never reused.
	mu.Lock()
	var candidates []types.ManagedObjectReference
	for it := locks.MapRange(); it.Next(); {
		ref := it.Key().Interface().(types.ManagedObjectReference)
		if _, ok := sessionObjectKey(ref); ok {
			candidates = append(candidates, ref)
		}
	}
	mu.Unlock()
	if len(candidates) == 0 {
		return 0
	}
	sm := m.SessionManager()
	var dead []types.ManagedObjectReference
	for _, ref := range candidates {
		key, _ := sessionObjectKey(ref)
		if s, live := simGetSession(sm, key); live && s.Registry.Get(ref) != nil {
			continue
		}
		dead = append(dead, ref)
	}
	mu.Lock()
	for _, ref := range dead {
		locks.SetMapIndex(reflect.ValueOf(ref), reflect.Value{})
	}
	mu.Unlock()
	return len(dead)
}
