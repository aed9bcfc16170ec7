package vmclasses

import (
	"slices"
	"sync"

	"github.com/wcpd/wcpd/internal/vapi"
)

// answers keeps each class's encoded get with what it was made from: the revision of the class
// records, the VMs that use it and the namespaces that offer it. A get whose inputs are the same
// sends the same bytes without decoding the record or encoding it again.
type answers struct {
	mu   sync.Mutex
	byID map[string]answer
}

type answer struct {
	rev        int64
	vms        []string
	namespaces []string
	body       vapi.Raw // shared by the responses that send it, never modified
}

// lookup returns the kept answer for class id if it was made from the same inputs.
func (a *answers) lookup(id string, rev int64, vms, namespaces []string) (vapi.Raw, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.byID[id]
	if !ok || e.rev != rev || !slices.Equal(e.vms, vms) || !slices.Equal(e.namespaces, namespaces) {
		return nil, false
	}
	return e.body, true
}

// keep stores an answer. Answers of classes made at an older revision are dropped with it, so
// deleted classes do not stay.
func (a *answers) keep(id string, rev int64, vms, namespaces []string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID == nil {
		a.byID = map[string]answer{}
	}
	for k, e := range a.byID {
		if e.rev < rev {
			delete(a.byID, k)
		}
	}
	a.byID[id] = answer{rev: rev, vms: slices.Clone(vms), namespaces: slices.Clone(namespaces), body: body}
}
