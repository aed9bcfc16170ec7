// Package vapi owns the vCenter API wire layer: the registry of every Supervisor operation and its REST
// binding, the /api and legacy /rest encoders over that one registry, request decoding, the one vAPI
// error type, and sessions.
package vapi

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/wcpd/wcpd/internal/auth"
)

// ServicePrefix is prepended to a Binding's Service to form the vAPI service id.
const ServicePrefix = "com.vmware.vcenter."

// Binding declares one operation: its identity, REST binding and required privilege.
type Binding struct {
	Service string // vAPI service below com.vmware.vcenter, e.g. "namespaces.instances"
	Name    string // operation, e.g. "create"
	Method  string
	Path    string // template below /api, e.g. "/vcenter/namespaces/instances/{namespace}"
	Action  string // value of ?action= (or ~action= on /rest) that selects the operation
	// Requires is a query parameter whose presence selects the operation over another of the same
	// path, method and action (vAPI dispatches a content library item's file get, ?name=, from the
	// list of its files so).
	Requires string
	Query    []string // parameters read from the query string by name
	// Body names the parameter that is the whole request body on /api (on /rest it is wrapped as
	// {"<Body>": …}).
	Body string
	// Wrapped names inputs sent as {"<name>": …} in the body; filter structs among them are also
	// accepted as exploded query parameters (reference §5.3).
	Wrapped []string
	// BareBodyToo accepts the single wrapped input also as the bare body (reference §5.2).
	BareBodyToo bool
	// AltPaths are further templates the operation answers on (reference §5.1).
	AltPaths  []string
	Status    int // success status: 200 with a body, 204 void, 201 for the creates that use it
	Privilege auth.Privilege
}

// ID is the operation id used in logs and metrics, e.g. "com.vmware.vcenter.namespaces.instances.create".
func (b *Binding) ID() string { return b.ServiceID() + "." + b.Name }

// ServiceID is the full vAPI service id. Services outside com.vmware.vcenter (wcpd's extensions)
// are declared with their full id.
func (b *Binding) ServiceID() string {
	if strings.HasPrefix(b.Service, "com.") {
		return b.Service
	}
	return ServicePrefix + b.Service
}

// HandlerFunc serves one operation. It returns the result to encode (nil for void operations) or an
// error, normally a *Error.
type HandlerFunc func(c *Call) (any, error)

// Operation is a Binding with the handler attached to it, if any.
type Operation struct {
	Binding
	Handler HandlerFunc
	// Public operations need no session (only the session login itself).
	Public bool

	id   string   // Binding.ID, made once: every request logs and counts it
	keep keepMode // whether the API keeps its encoded answers (kept.go)
	// keptVersion identifies, in a kept answer's key, what else its answer is derived from
	// (KeepVersioned).
	keptVersion KeptVersionFunc
}

// ID is the operation id used in logs and metrics (Binding.ID).
func (o *Operation) ID() string {
	if o.id == "" {
		return o.Binding.ID()
	}
	return o.id
}

// Implemented reports whether a handler is attached.
func (o *Operation) Implemented() bool { return o.Handler != nil }

// Registry holds every operation. It is built once per server; handlers are attached before serving.
type Registry struct {
	ops  []*Operation
	byID map[string]*Operation
	// router is built by the first Resolve after the operations last changed; requests resolve
	// concurrently, so it is swapped atomically (two first requests may both build it: harmless).
	router atomic.Pointer[router]
}

// NewRegistry returns a registry holding every operation of the catalog, none implemented yet.
func NewRegistry() *Registry {
	r := &Registry{byID: map[string]*Operation{}}
	for _, b := range allBindings() {
		r.add(&Operation{Binding: b})
	}
	return r
}

func (r *Registry) add(op *Operation) {
	op.id = op.Binding.ID()
	if _, dup := r.byID[op.ID()]; dup {
		panic("vapi: operation declared twice: " + op.ID())
	}
	r.ops = append(r.ops, op)
	r.byID[op.ID()] = op
	r.router.Store(nil)
}

// Extend declares an operation that is not part of the vCenter catalog (wcpd's own /api/wcpd
// extensions, the session service). Its Service must make that plain.
func (r *Registry) Extend(b Binding, h HandlerFunc, public bool) {
	r.add(&Operation{Binding: b, Handler: h, Public: public})
}

// Handle attaches h to the catalog operation service.name (service below com.vmware.vcenter).
// Attaching to an undeclared operation is a programming error and panics.
func (r *Registry) Handle(service, name string, h HandlerFunc) {
	op, ok := r.byID[ServicePrefix+service+"."+name]
	if !ok {
		panic(fmt.Sprintf("vapi: no operation %s.%s in the catalog", service, name))
	}
	op.Handler = h
}

// Operations lists every operation sorted by id.
func (r *Registry) Operations() []*Operation {
	out := append([]*Operation(nil), r.ops...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// Lookup finds an operation by id.
func (r *Registry) Lookup(id string) (*Operation, bool) {
	op, ok := r.byID[id]
	return op, ok
}

// Resolve finds the operation a request addresses: path below /api (or /rest), method, the action
// query value and the query (nil for none), whose parameters may select an operation (Requires).
// It returns the path parameters appended to into (a caller's buffer), or an error saying why
// nothing matched (404 for an unknown path, 405 for a known path with another method,
// OPERATION_NOT_FOUND for an unknown action).
func (r *Registry) Resolve(method, path, action string, query url.Values, into PathParams) (*Operation, PathParams, error) {
	return r.routes().resolve(method, path, action, query, into)
}

// routes is the router of the operations as they are now, built on first use after a change.
func (r *Registry) routes() *router {
	rt := r.router.Load()
	if rt == nil {
		rt = newRouter(r.ops)
		r.router.Store(rt)
	}
	return rt
}

// CoverageTable renders which operations are implemented, one line each, for the coverage command.
func (r *Registry) CoverageTable() string {
	var b strings.Builder
	n := 0
	for _, op := range r.Operations() {
		if strings.HasPrefix(op.Service, "com.") {
			continue
		}
		state := "not implemented"
		if op.Implemented() {
			state = "implemented"
			n++
		}
		path := op.Path
		if op.Action != "" {
			path += "?action=" + op.Action
		}
		fmt.Fprintf(&b, "%-16s %-6s %-110s %s\n", state, op.Method, path, op.ID())
	}
	fmt.Fprintf(&b, "%d of %d operations implemented\n", n, len(allBindings()))
	return b.String()
}
