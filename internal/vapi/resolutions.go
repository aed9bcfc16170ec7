package vapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
)

// Clients ask the same few request targets over and over (a list, the get of each object they
// follow), and what a target resolves to never changes once the routes are built: the same
// method, path and query always address the same operation with the same path parameters. So the
// API keeps what each target resolved to, by method and target as sent, and a request for one it
// has seen skips parsing its query and walking the routes (about a microsecond of a kept read's
// work; docs/performance.md). Only targets that resolved to an operation are kept.

// maxResolutions bounds the targets kept: past it new targets are resolved every time, as before,
// so a client naming ever new paths costs memory only up to here. maxResolvedTarget bounds the
// length of a kept target (with its method), which could otherwise be as long as the header limit
// allows, and is what a lookup's key fits in without allocating.
const (
	maxResolutions    = 1024
	maxResolvedTarget = 256
)

// resolution is what one request target resolved to. Every request with that target shares its
// parameters and query, which nothing changes: a call only reads them (Call.Path, Call.Query,
// Bind), and the exchange copies the parameters into its own storage.
type resolution struct {
	op     *Operation
	params PathParams
	query  url.Values // nil for none
	action string
}

// resolved holds what keys resolved to, up to maxResolutions of them, for one owner (the router
// that resolved them, or none): a put for another owner starts the table anew, and a get for
// another owner finds nothing. Keys come from the callers' stack buffers; only a kept key is copied.
type resolved[V any] struct {
	mu    sync.RWMutex
	owner any
	byKey map[string]V
}

func (t *resolved[V]) get(owner any, key []byte) (V, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.owner != owner {
		var none V
		return none, false
	}
	v, ok := t.byKey[string(key)] // no allocation: the conversion is only for the lookup
	return v, ok
}

func (t *resolved[V]) put(owner any, key []byte, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byKey == nil || t.owner != owner {
		t.owner, t.byKey = owner, make(map[string]V)
	}
	if len(t.byKey) < maxResolutions {
		t.byKey[string(key)] = v
	}
}

// resolutions are the request targets resolved so far by one router: an operation added to the
// registry later builds another, which may resolve them otherwise.
type resolutions struct{ resolved[resolution] }

// resolutionKey appends the method and the target as sent (RequestURI) to b. A request made in
// process has no target as sent, and one longer than maxResolvedTarget is not kept either.
func resolutionKey(b []byte, r *http.Request) ([]byte, bool) {
	if r.RequestURI == "" || r.RequestURI[0] != '/' || len(r.Method)+1+len(r.RequestURI) > maxResolvedTarget {
		return nil, false
	}
	b = append(b, r.Method...)
	b = append(b, ' ')
	return append(b, r.RequestURI...), true
}

func (rs *resolutions) get(r *http.Request, routes *router) (resolution, bool) {
	var buf [maxResolvedTarget]byte
	if key, ok := resolutionKey(buf[:0], r); ok {
		return rs.resolved.get(routes, key)
	}
	return resolution{}, false
}

func (rs *resolutions) put(r *http.Request, routes *router, res resolution) {
	var buf [maxResolvedTarget]byte
	if key, ok := resolutionKey(buf[:0], r); ok {
		rs.resolved.put(routes, key, res)
	}
}

// JSON-RPC clients likewise invoke the same few operations with the same inputs over and over (the
// SDKs' get of an object they follow), and what an operation's input resolves to (rpcCall: its
// path variables, query parameters and body inputs in the REST form) depends on nothing else: the
// operation's metadata is fixed. So the API keeps what each service, operation and input bytes
// resolved to, and an invoke with the same input skips decoding it and typing it (a few
// microseconds of a kept read's work; docs/performance.md). Only inputs that resolved are kept, at
// most maxResolutions of them, each (with its service and operation) at most maxResolvedInput
// bytes long: an SDK's get names an object or two, and a longer input is resolved every time.
const maxResolvedInput = 512

// rpcResolution is what one operation's input resolved to. Every invoke with that input shares
// its parameters, query and inputs, which nothing changes: a call only reads them.
type rpcResolution struct {
	params PathParams
	query  url.Values
	inputs map[string]json.RawMessage
}

// rpcResolutions are the inputs resolved so far, by service, operation and input as sent. They
// have no owner: the metadata that types an input never changes.
type rpcResolutions struct{ resolved[rpcResolution] }

// rpcResolutionKey appends the service, the operation and the input bytes to b, or reports false
// for an input too long to keep.
func rpcResolutionKey(b []byte, params *rpcParams) ([]byte, bool) {
	if len(params.ServiceID)+len(params.OperationID)+len(params.Input)+2 > maxResolvedInput {
		return nil, false
	}
	b = append(b, params.ServiceID...)
	b = append(b, 0)
	b = append(b, params.OperationID...)
	b = append(b, 0)
	return append(b, params.Input...), true
}

func (rs *rpcResolutions) get(params *rpcParams) (rpcResolution, bool) {
	var buf [maxResolvedInput]byte
	if key, ok := rpcResolutionKey(buf[:0], params); ok {
		return rs.resolved.get(nil, key)
	}
	return rpcResolution{}, false
}

func (rs *rpcResolutions) put(params *rpcParams, res rpcResolution) {
	var buf [maxResolvedInput]byte
	if key, ok := rpcResolutionKey(buf[:0], params); ok {
		rs.resolved.put(nil, key, res)
	}
}
