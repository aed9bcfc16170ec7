package vapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/wcpd/wcpd/internal/auth"
)

// Reads are asked far more often than anything changes, and decoding the records a read is made
// of and encoding its answer cost more than everything else a request does (issue 16). So the API
// keeps the encoded answer of every read a family declares kept (Registry.Keep), and sends the same
// bytes again while nothing it may be derived from has changed.
//
// What a kept read may be derived from is the store (its records, whatever collection), the
// inventory and the identity directory (users, groups, roles, permissions). KeptInputs reads their
// change counts; an answer is kept with the counts read before its handler ran, and is sent again
// only while the counts are still those. A change anywhere in them therefore drops every kept
// answer: coarse, but it cannot miss an input, and between changes every read is a map lookup. A read whose answer
// depends on the caller (the namespaces a DevOps user may see) is kept per caller view: the user,
// the domain and the groups the session carries.
//
// A family may keep a read only if its handler's answer is a function of the request, the store,
// the inventory and (for KeptPerCaller) the caller: not of the clock, of a process's state kept
// outside the store, or of the simulator's own REST services (tagging, content libraries), unless
// it names those with KeepVersioned.

// KeptInputs are the change counts of everything a kept read may be derived from.
type KeptInputs struct {
	Store     uint64 // store.Store.Changes
	Inventory uint64 // inventory.Inventory.Generation
	Identity  uint64 // auth.Directory.Changes: roles and permissions decide what a caller may see
}

// before reports whether in are older than other: some count in them has moved since.
func (in KeptInputs) before(other KeptInputs) bool {
	return in.Store < other.Store || in.Inventory < other.Inventory || in.Identity < other.Identity
}

// KeptVersion identifies the state outside the store, the inventory and the directory that a
// read kept with KeepVersioned is derived from.
type KeptVersion [2]uint64

// KeptVersionFunc reads the version of that state. It returns false while the state may change
// on its own, with no count to follow (the simulator fetching a library item's file from a URL):
// no answer is sent again or kept then.
type KeptVersionFunc func() (KeptVersion, bool)

// keepMode says whether and how an operation's answers are kept.
type keepMode uint8

const (
	notKept       keepMode = iota
	kept                   // the same answer for every caller allowed to call the operation
	keptPerCaller          // one answer per caller view
)

// maxKeptAnswers bounds the answers kept at once (between two changes); past it every kept answer
// is dropped and keeping starts again, which costs recomputations, never a wrong answer.
const maxKeptAnswers = 20000

// keptAnswers holds the encoded answers made at one set of inputs: answers made at older inputs
// can never be sent again, so they are dropped as soon as an answer is made at newer ones.
type keptAnswers struct {
	mu     sync.RWMutex
	inputs KeptInputs
	// answers hold each answer as the Raw (or, for /rest, the restAnswer) the handlers' callers
	// take, boxed once when kept rather than at every request that sends it.
	answers map[string]any
	// making holds the answers being made now, by key. A change drops every kept answer at once,
	// so every client of a read then finds its answer missing together; a request for an answer
	// already being made at the same inputs waits for it instead of running the handler again.
	// Without that, a read that takes milliseconds to make (one reading the inventory) was made
	// once per waiting connection after every change. Entries live only while their handler runs.
	making map[string]*making
}

// making is one answer being made at some inputs, for the requests that wait for it.
type making struct {
	inputs KeptInputs
	done   chan struct{} // closed once made
	answer any           // what was kept, set before done is closed; nil when nothing was
}

// testHookKeptWait, when set by a test, is called as a request starts waiting for an answer
// another request is making.
var testHookKeptWait func()

func (k *keptAnswers) get(key []byte, in KeptInputs) (any, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.inputs != in {
		return nil, false
	}
	answer, ok := k.answers[string(key)] // no allocation: the conversion is only for the lookup
	return answer, ok
}

// find returns the answer kept for key at inputs in. Failing that, it returns the making of that
// answer that another request has under way at the same inputs, to wait for; or else, as own, a
// making that the caller must end with made, whatever happens (nil when another request is making
// the answer at newer inputs: the caller then makes its own and keeps it with put).
func (k *keptAnswers) find(key []byte, in KeptInputs) (answer any, wait, own *making) {
	if answer, ok := k.get(key, in); ok {
		return answer, nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inputs == in {
		if answer, ok := k.answers[string(key)]; ok { // kept while the lock was free
			return answer, nil, nil
		}
	}
	if m := k.making[string(key)]; m != nil {
		if m.inputs == in {
			return nil, m, nil
		}
		if in.before(m.inputs) {
			return nil, nil, nil // the requests to come will wait for the newer one
		}
	}
	if k.making == nil {
		k.making = make(map[string]*making)
	}
	own = &making{inputs: in, done: make(chan struct{})}
	k.making[string(key)] = own
	return nil, nil, own
}

// made ends m, the making of key's answer: it keeps answer (unless nil: nothing to keep) and
// hands it to the requests waiting for it.
func (k *keptAnswers) made(key []byte, m *making, answer any) {
	k.mu.Lock()
	if answer != nil {
		k.putLocked(key, m.inputs, answer)
	}
	if k.making[string(key)] == m { // not one made at newer inputs since
		delete(k.making, string(key))
	}
	k.mu.Unlock()
	m.answer = answer
	close(m.done)
}

// keptOrMade is the answer for key at inputs in: the one kept, or the one another request is
// making at the same inputs (waited for), or else the one build makes here, which is kept when
// build says it may be. made reports the last: the answer is this request's own (build's, kept or
// not, with its error). Every kept read, the registry's and the delegates', goes through it.
func (k *keptAnswers) keptOrMade(key []byte, in KeptInputs, build func() (answer any, keep bool, err error)) (answer any, made bool, err error) {
	answer, wait, own := k.find(key, in)
	if answer == nil && wait != nil {
		answer = wait.wait() // nil when that making failed: this request makes its own
	}
	if answer != nil {
		return answer, false, nil
	}
	var kept any // what is kept of the answer made here: nothing until it is made
	if own != nil {
		defer func() { k.made(key, own, kept) }() // also when build panics
	}
	answer, keep, err := build()
	if err == nil && keep {
		kept = answer
		if own == nil { // another request is making it at newer inputs: kept only if still current
			k.put(key, in, answer)
		}
	}
	return answer, true, err
}

func (k *keptAnswers) put(key []byte, in KeptInputs, answer any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.putLocked(key, in, answer)
}

func (k *keptAnswers) putLocked(key []byte, in KeptInputs, answer any) {
	switch {
	case in == k.inputs && k.answers != nil && len(k.answers) < maxKeptAnswers:
	case in.before(k.inputs):
		return // made at older inputs than the kept ones: never to be sent again
	default:
		k.inputs, k.answers = in, make(map[string]any)
	}
	k.answers[string(key)] = answer
}

// wait waits for m and returns what it kept, nil when nothing (its handler failed: the waiting
// request then runs its own, as it would have alone).
func (m *making) wait() any {
	if testHookKeptWait != nil {
		testHookKeptWait()
	}
	<-m.done
	return m.answer
}

// Keep declares that the answers of service's read operations names (service below
// com.vmware.vcenter, or a full id for wcpd's extensions) are derived only from the request, the
// store and the inventory, so the API may keep them (see KeptInputs). A read is a GET, or a POST
// bound by an action for a read that takes a body (a tag association's list-attached-tags), whose
// body is then part of what identifies its answer. Declaring an operation that does not exist, or
// one that is neither, is a programming error and panics; declaring a POST that changes anything
// is one too, which nothing here can tell.
func (r *Registry) Keep(service string, names ...string) { r.keep(kept, service, names) }

// KeepPerCaller is Keep for reads whose answer also depends on who asks.
func (r *Registry) KeepPerCaller(service string, names ...string) {
	r.keep(keptPerCaller, service, names)
}

// KeepVersioned is Keep for a read also derived from something outside the store, the inventory
// and the directory: the state a family holds in memory (a sampler's latest samples), or the
// clock. version returns numbers that identify that state, and must return others whenever the
// answer could differ; it is read before the handler runs, so the family changes its state first
// and then what version returns. (Numbers rather than bytes appended to a buffer: a buffer passed
// to a function value escapes, and every kept read would then allocate its key.)
func (r *Registry) KeepVersioned(service, name string, version KeptVersionFunc) {
	r.keep(kept, service, []string{name})
	b := Binding{Service: service, Name: name}
	r.byID[b.ID()].keptVersion = version
}

func (r *Registry) keep(mode keepMode, service string, names []string) {
	for _, name := range names {
		b := Binding{Service: service, Name: name}
		op, ok := r.byID[b.ID()]
		if !ok || (op.Method != http.MethodGet && (op.Method != http.MethodPost || op.Action == "")) {
			panic("vapi: no read operation " + b.ID() + " to keep")
		}
		op.keep = mode
	}
}

// answer runs op's handler for call, or sends the answer kept for the same request while the
// store, the inventory and the identity directory are as they were when it was made. A REST call
// passes no encode: the answer is the result as JSON, kept in /rest's shape for a /rest call. A
// JSON-RPC call passes the encoding of its typed output, which is then what is kept, so no
// protocol encodes or wraps a kept read again.
func (a *API) answer(op *Operation, call *Call, encode func(result any) ([]byte, error)) (any, error) {
	var version KeptVersion
	keepable := op.keep != notKept && a.KeptInputs != nil
	if keepable && op.keptVersion != nil {
		version, keepable = op.keptVersion()
	}
	if !keepable {
		result, err := a.runHandler(op, call)
		if err != nil || encode == nil {
			return result, err
		}
		body, err := encode(result)
		return Raw(body), err
	}
	var buf [256]byte
	key := keptKey(buf[:0], op, call, version)
	in := a.KeptInputs() // before the handler reads anything: a change after it is seen next time
	answer, _, err := a.kept.keptOrMade(key, in, func() (any, bool, error) { return a.makeAnswer(op, call, encode) })
	return answer, err
}

// makeAnswer runs op's handler for a kept read and encodes its answer in the form kept. It
// reports whether that answer may be kept: not when there is no content, or a file, which it
// returns as the handler gave it.
func (a *API) makeAnswer(op *Operation, call *Call, encode func(result any) ([]byte, error)) (answer any, keep bool, err error) {
	result, err := a.runHandler(op, call)
	if err != nil {
		return nil, false, err
	}
	var body []byte
	switch result.(type) {
	case nil, Attachment:
		if encode == nil {
			return result, false, nil // nothing to keep: no content, or a file
		}
		body, err = encode(result)
	default:
		if body, err = resultJSON(result); err == nil && encode != nil {
			body, err = encode(Raw(body))
		}
	}
	if err != nil {
		return nil, false, err
	}
	if call.Legacy {
		return restShape(body), true, nil
	}
	return Raw(body), true, nil
}

// keptKey appends what identifies a kept answer: the operation, the protocol's shape (/rest wraps
// some inputs), the path parameters, the query and the body (or a JSON-RPC call's other inputs),
// for per-caller reads the caller's view and for versioned ones their version.
func keptKey(b []byte, op *Operation, call *Call, version KeptVersion) []byte {
	b = append(b, op.ID()...)
	if call.Legacy {
		b = append(b, "\x00rest"...)
	}
	b = appendParams(b, call.params)
	b = append(b, 0)
	if call.inputs != nil { // JSON-RPC: the query and body inputs were taken from the request's input
		b = append(b, "rpc\x00"...)
		b = append(b, call.query.Encode()...)
		b = appendInputs(b, call.inputs)
	} else {
		if call.Request != nil {
			b = append(b, call.Request.URL.RawQuery...)
		}
		b = append(b, 0)
		b = append(b, call.body...)
	}
	if op.keep == keptPerCaller {
		b = appendCallerView(b, call.Principal)
	}
	if op.keptVersion != nil {
		b = append(b, "\x00version\x00"...)
		b = appendVersion(b, version)
	}
	return b
}

// appendVersion appends a kept answer's version to its key.
func appendVersion(b []byte, version KeptVersion) []byte {
	for _, n := range version {
		b = binary.BigEndian.AppendUint64(b, n)
	}
	return b
}

// appendInputs appends a JSON-RPC call's inputs as name=value, each after a NUL, in the order of
// their names.
func appendInputs(b []byte, m map[string]json.RawMessage) []byte {
	if len(m) == 0 {
		return b
	}
	var few [8]string // operations take a few inputs: no allocation for them
	names := few[:0]
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b = append(b, 0)
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, m[name]...)
	}
	return b
}

// appendParams appends a call's path parameters as name=value, each after a NUL, in the order of
// their names (a JSON-RPC call names them in no particular order).
func appendParams(b []byte, params PathParams) []byte {
	var few [8]PathParam // paths name a few parameters: no allocation for them
	sorted := append(few[:0], params...)
	slices.SortFunc(sorted, func(a, b PathParam) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range sorted {
		b = append(b, 0)
		b = append(b, p.Name...)
		b = append(b, '=')
		b = append(b, p.Value...)
	}
	return b
}

// appendCallerView appends what a per-caller answer may depend on: who the caller is and the groups
// its session carries.
func appendCallerView(b []byte, p auth.Principal) []byte {
	b = append(b, 0)
	b = append(b, p.Name...)
	b = append(b, '@')
	b = append(b, p.Domain...)
	for _, g := range p.Groups {
		b = append(b, 0)
		b = append(b, g...)
	}
	return b
}

// KeepDelegated lets the API keep the answers of the delegate name (Delegate) to the reads for
// which reads gives a version function (nil for the others), as it keeps a registry read declared
// with KeepVersioned. reads is asked with the request's method, path and action (~action on /rest,
// action on /api; "" when none); only a GET, or a POST that only reads, may be given one. A
// delegate's answer to such a read must be a function of the request's method, path, query, host
// and (for a POST) body, of the store, the inventory and the directory, and of the state the
// version identifies, which must move (before the answer of the request that changed it leaves)
// whenever the answer could differ. Only successful answers are kept. Declaring it for a delegate
// that does not exist is a programming error and panics.
func (a *API) KeepDelegated(name string, reads func(method, path, action string) KeptVersionFunc) {
	for i := range a.delegates {
		if d := &a.delegates[i]; d.name == name {
			d.reads = reads
			return
		}
	}
	panic("vapi: no delegate " + name + " to keep reads of")
}

// delegatedAnswer is a delegate's answer to a kept read: the headers it set and its body (its
// status was 200).
type delegatedAnswer struct {
	header http.Header
	body   []byte
}

// maxDelegatedAnswer bounds the body of a delegate's answer that is kept; a longer one is sent
// and not kept.
const maxDelegatedAnswer = 1 << 20

// maxKeptDelegatedBody bounds the body of a POST read that is kept: reads name an object or two,
// and a longer body is passed on to the delegate and its answer not kept.
const maxKeptDelegatedBody = 64 << 10

// serveDelegated serves a request the delegate d handles: from the answer kept for the same read
// when d keeps it (KeepDelegated), else by d, keeping a successful answer to a kept read. action is
// the request's, as the API read it from the query.
func (a *API) serveDelegated(x *exchange, d *delegate, action string) {
	r := x.r
	w := &jsonNotFound{statusRecorder: &x.w, path: r.URL.Path, legacy: x.legacy}
	var version KeptVersion
	keepable := d.reads != nil && a.KeptInputs != nil && (r.Method == http.MethodGet || r.Method == http.MethodPost)
	if keepable {
		if versionOf := d.reads(r.Method, r.URL.Path, action); versionOf != nil {
			version, keepable = versionOf()
		} else {
			keepable = false
		}
	}
	var body []byte
	if keepable && r.Method == http.MethodPost {
		body, keepable = readKeptBody(r)
	}
	if !keepable {
		d.handler.ServeHTTP(w, r)
		return
	}
	var buf [256]byte
	key := delegatedKey(buf[:0], d, r, version, body)
	in := a.KeptInputs() // before the delegate reads anything, as for a registry read
	answer, made, _ := a.kept.keptOrMade(key, in, func() (any, bool, error) {
		rec := &answerRecorder{ResponseWriter: w}
		d.handler.ServeHTTP(rec, r)
		if rec.status != http.StatusOK || rec.tooLong {
			return nil, false, nil
		}
		return &delegatedAnswer{header: rec.header, body: rec.body}, true, nil
	})
	if !made { // kept, or made by another request: this one sends it
		kept := answer.(*delegatedAnswer)
		h := x.w.Header()
		for name, values := range kept.header {
			h[name] = values // never changed once kept; the server copies them before it writes
		}
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(kept.body)
	}
}

// readKeptBody reads the body of a POST read whose answer may be kept, and gives r a body that
// reads the same again for the delegate. It reports false, leaving nothing kept, for a body longer
// than maxKeptDelegatedBody or one that could not be read whole; the delegate then reads what is
// left and meets the same end.
func readKeptBody(r *http.Request) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxKeptDelegatedBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	return body, err == nil && len(body) <= maxKeptDelegatedBody
}

// delegatedKey identifies a delegate's kept answer: the delegate, the method, the path as sent,
// the query, the host and scheme the request came to (a delegate may write its own URLs for them),
// the version of the state it follows and a POST's body. It starts with a NUL, which no operation
// id does.
func delegatedKey(b []byte, d *delegate, r *http.Request, version KeptVersion, body []byte) []byte {
	b = append(b, "\x00delegate\x00"...)
	b = append(b, d.name...)
	b = append(b, 0)
	b = append(b, r.Method...)
	b = append(b, 0)
	b = append(b, sentPath(r)...)
	b = append(b, 0)
	b = append(b, r.URL.RawQuery...)
	b = append(b, 0)
	if r.TLS != nil {
		b = append(b, "https://"...)
	}
	b = append(b, r.Host...)
	b = append(b, 0)
	b = appendVersion(b, version) // of a fixed length, so the body after it needs no end
	return append(b, body...)
}

// answerRecorder passes a delegate's answer on to the client and records it, to be kept: its
// status, the headers the delegate set (not the request id, which is the request's own) and its
// body.
type answerRecorder struct {
	http.ResponseWriter
	status  int
	header  http.Header
	body    []byte
	tooLong bool
}

func (rec *answerRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
		rec.header = rec.ResponseWriter.Header().Clone()
		delete(rec.header, requestIDHeader)
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *answerRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if !rec.tooLong {
		if len(rec.body)+len(b) > maxDelegatedAnswer {
			rec.tooLong, rec.body = true, nil
		} else {
			rec.body = append(rec.body, b...)
		}
	}
	return rec.ResponseWriter.Write(b)
}
