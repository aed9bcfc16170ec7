package services

import (
	"runtime"
	"sync"

	"github.com/wcpd/wcpd/internal/vapi"
)

// A content's check (check_content) reads nothing but the content and the trust store's key files,
// which the administrator edits outside any API, so the API may keep its answers only with a
// version that moves whenever those files may have changed. Reading and hashing the files at every
// check cost more than the check itself (docs/performance.md). On Linux the version is instead a
// count of what the kernel reports on them (trustwatch_linux.go): asking costs one system call
// while nothing changed. Elsewhere, and whenever the files cannot be watched, the check is not
// kept.

// trustWatch follows the trust store's files for the kept checks.
type trustWatch struct {
	dir string

	mu sync.Mutex
	// changes counts the times the store was found changed, or watched anew; it is the version.
	changes uint64
	// watching holds the kernel's handle on the watches, shared with the cleanup that closes it
	// once the watch is unreachable (families have no stop of their own).
	watching *watchHandle
	buf      [4096]byte // what a look reads, under mu
}

// watchHandle is the open descriptor of a trustWatch's watches, -1 while it has none.
type watchHandle struct{ fd int }

func newTrustWatch(dir string) *trustWatch {
	w := &trustWatch{dir: dir, watching: &watchHandle{fd: -1}}
	runtime.AddCleanup(w, func(h *watchHandle) { h.close() }, w.watching)
	return w
}

// version is the trust store's version for KeepVersioned: the same numbers while no key file may
// have changed since they were read, and false while that cannot be told. Without a data directory
// there is no store, and nothing to change.
func (w *trustWatch) version() (vapi.KeptVersion, bool) {
	if w.dir == "" {
		return vapi.KeptVersion{}, true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.look() {
		return vapi.KeptVersion{}, false
	}
	return vapi.KeptVersion{w.changes}, true
}
