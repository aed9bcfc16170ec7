package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vim25/types"
)

// vapiSessionHeader carries a vAPI session id; the simulator also reads a
// cookie of the same name.
const vapiSessionHeader = "vmware-api-session-id"

// vapiPrefixes are the simulator's vAPI services that wcpd exposes. The
// simulator's session endpoints (/rest/com/vmware/cis/session, /api/session)
// and its JSON-RPC endpoint (POST /api) are deliberately absent: wcpd owns
// sessions and the JSON-RPC wire.
var vapiPrefixes = []string{
	"/rest/com/vmware/content/",     // content libraries, items, update/download sessions
	"/rest/com/vmware/cis/tagging/", // tag categories, tags, associations
	"/rest/com/vmware/cis/data/",    // library file upload/download
	"/rest/com/vmware/vcenter/ovf/", // deploy OVF library items
	"/rest/vcenter/vm-template/",    // VM template library items
	"/api/content/",                 // library usages, security policies, trusted certificates
}

// VAPIPrefixes lists the path prefixes (ServeMux patterns) that belong to
// VAPIHandler; wcpd routes everything else under /api and /rest itself.
func (inv *Inventory) VAPIPrefixes() []string { return append([]string(nil), vapiPrefixes...) }

// VAPIGeneration counts the requests that may have changed what the simulator's vAPI services hold
// (tag categories, tags, libraries and their items): two equal readings mean that none of them
// was served in between. A request moves it before its answer leaves. What the simulator changes
// on its own (a library item's files arriving from a URL after an update session completed) does
// not move it.
func (inv *Inventory) VAPIGeneration() uint64 { return inv.vapi.generation.Load() }

// VAPIFilesGeneration is VAPIGeneration for what also shows a library item's files (a library's or
// an item's get, its files and their storage), which the simulator changes on its own while it
// fetches a file from a URL for an update session (a PULL source): false until every such file
// has arrived. While it is false, it asks the simulator in process, at every call, whether the
// fetches have ended; once they have, it moves VAPIGeneration, has the durable inventory save the
// files and answers true again. A client's read of the session does the same. A session a request
// deletes while its file is fetched can no longer be asked: the simulator's own count of its
// fetches, read before the request reached it, tells when they end.
func (inv *Inventory) VAPIFilesGeneration() (uint64, bool) {
	for {
		// The count first: a request that starts a fetch notes it before it moves the count, so a
		// count read after that move comes with the fetch noted.
		g := inv.vapi.generation.Load()
		if !inv.vapi.fetching.Load() {
			return g, true
		}
		if !inv.vapi.fetchesEnded(context.Background()) {
			return 0, false
		}
	}
}

// VAPIHandler serves the simulator's vAPI services for requests wcpd has
// already authenticated. Whatever vmware-api-session-id header or cookie
// the request carries is replaced by the inventory's own session with the
// simulator (renewed if it is gone), and loopback URLs in responses (upload
// and download endpoints) are rewritten to the host the client used.
func (inv *Inventory) VAPIHandler() http.Handler { return inv.vapi }

// vapiProxy puts the inventory's internal session on requests for the
// simulator's vAPI handler.
type vapiProxy struct {
	sim      http.Handler
	internal string // the loopback listener's base URL, as it appears in responses
	login    *url.Userinfo
	log      *slog.Logger

	mu      sync.Mutex
	session string

	// changed and sync, when set, are the durable inventory's: a request that may change
	// something is announced, and its answer waits until the change is in the store.
	changed func()
	sync    func(context.Context) error

	// generation counts the requests that may have changed the simulator's vAPI state
	// (Inventory.VAPIGeneration): one moves it once the simulator has served it, before its
	// answer leaves; so does replacing the state in place (restore, a library's or item's new id).
	generation atomic.Uint64

	// fetches holds the update sessions with a file the simulator fetches from a URL on its own
	// (Inventory.VAPIFilesGeneration): nil for a session asked through its files, or, for one a
	// request deleted before its fetches were seen to end, a channel closed once they have;
	// fetching is whether it holds any.
	fetchMu  sync.Mutex
	fetches  map[string]chan struct{}
	fetching atomic.Bool
}

// updateSessionFilePrefix is the path of an update session's files on /rest, before the session id.
const updateSessionFilePrefix = "/rest/com/vmware/content/library/item/updatesession/file/id:"

// updateSessionPrefix is the path of an update session on /rest, before its id.
const updateSessionPrefix = "/rest/com/vmware/content/library/item/update-session/id:"

// vapiReadPosts are the POSTs to the simulator's vAPI services that only read: the actions
// (~action) that do, by the /rest path they are sent to, with "id:" ending a path that names an
// object by its id. A request that only reads neither moves the generation, so the answers kept
// from it stay, nor has the durable inventory save the services' whole state again. Checked
// against the simulator's handlers (govmomi's vapi/simulator) by TestVAPIReadPostsChangeNothing:
// the path decides with the action, since a POST to the category or tag collection creates
// whatever its action says, and one to the library collection creates for any action but find.
var vapiReadPosts = map[string][]string{
	"/rest/com/vmware/cis/tagging/tag/id:": {"list-tags-for-category"},
	"/rest/com/vmware/cis/tagging/tag-association": {"list-attached-tags", "list-attached-objects-on-tags",
		"list-attached-tags-on-objects"},
	"/rest/com/vmware/cis/tagging/tag-association/id:":               {"list-attached-objects"},
	"/rest/com/vmware/content/library":                               {"find"},
	"/rest/com/vmware/content/library/item":                          {"find"},
	"/rest/com/vmware/content/library/item/file/id:":                 {"get"},
	"/rest/com/vmware/content/library/item/storage/id:":              {"get"},
	updateSessionFilePrefix:                                          {"get", "validate"},
	"/rest/com/vmware/content/library/item/downloadsession/file/id:": {"get"},
	"/rest/com/vmware/vcenter/ovf/library-item/id:":                  {"filter"},
	"/rest/com/vmware/content/library/subscriptions/id:":             {"get"},
}

// onlyReads says whether r is one of vapiReadPosts (or a GET or HEAD).
func onlyReads(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	if r.Method != http.MethodPost || r.URL.RawQuery == "" {
		return false
	}
	return PostOnlyReads(r.URL.Path, r.URL.Query().Get("~action"))
}

// PostOnlyReads says whether a POST to the simulator's vAPI services of path (on /rest) with action
// (~action) only reads: whether it is one of vapiReadPosts.
func PostOnlyReads(path, action string) bool {
	return slices.Contains(vapiReadPosts[readPostPath(path)], action)
}

// readPostPath is how vapiReadPosts names the path of a POST: up to "id:" when it ends with an
// object's id.
func readPostPath(path string) string {
	if i := strings.LastIndex(path, "/id:"); i >= 0 && !strings.Contains(path[i+len("/id:"):], "/") {
		return path[:i+len("/id:")]
	}
	return path
}

// noteFetches records what a request the simulator served means for its fetches from URLs: a file
// added to an update session from a URL starts one (so does a body too long to read back, which
// might be one). Once a request deleted the session, its files can no longer be asked for: running
// is the simulator's count of the session's fetches, read before the request reached it, and
// they are seen to end when it comes to zero (nil, they are never seen to end).
func (p *vapiProxy) noteFetches(r *http.Request, body []byte, readBack bool, running *sync.WaitGroup) {
	if sid, ok := strings.CutPrefix(r.URL.Path, updateSessionFilePrefix); ok && r.Method == http.MethodPost && r.URL.Query().Get("~action") == "add" {
		var spec struct {
			File library.UpdateFile `json:"file_spec"` // as the simulator reads it
		}
		if readBack && (json.Unmarshal(body, &spec) != nil || spec.File.SourceType != "PULL") {
			return
		}
		p.fetchMu.Lock()
		if p.fetches == nil {
			p.fetches = map[string]chan struct{}{}
		}
		p.fetches[sid] = nil
		p.fetching.Store(true)
		p.fetchMu.Unlock()
		return
	}
	if sid, ok := strings.CutPrefix(r.URL.Path, updateSessionPrefix); ok && r.Method == http.MethodDelete {
		p.fetchMu.Lock()
		defer p.fetchMu.Unlock()
		if ended, fetching := p.fetches[sid]; fetching && ended == nil {
			ended = make(chan struct{})
			p.fetches[sid] = ended
			if running != nil {
				go func() {
					running.Wait()
					close(ended)
					p.fetchesEnded(context.Background()) // counted and saved without waiting for a read
				}()
			}
		}
	}
}

// sessionFetches is the simulator's count of the fetches from URLs still running for update
// session sid, or nil if it has no such session (or its layout is not the one this knows).
func (p *vapiProxy) sessionFetches(sid string) *sync.WaitGroup {
	h, locker, err := p.handlerState()
	if err != nil {
		return nil
	}
	locker.Lock()
	defer locker.Unlock()
	sessions := h.FieldByName("Update")
	if sessions.Kind() != reflect.Map || sessions.Type().Key().Kind() != reflect.String {
		return nil
	}
	session := sessions.MapIndex(reflect.ValueOf(sid).Convert(sessions.Type().Key()))
	if !session.IsValid() || session.Kind() != reflect.Struct {
		return nil
	}
	count := session.FieldByName("WaitGroup")
	if !count.IsValid() || !count.CanInterface() {
		return nil
	}
	running, _ := count.Interface().(*sync.WaitGroup)
	return running
}

// fetchesEnded asks the simulator whether the files it was fetching have all arrived, forgets the
// sessions whose have and, when any has, moves the generation and has the durable inventory save
// the files (no request announced them). A session that is gone without a request deleting it
// expired, which the simulator lets happen only an hour after the session ended.
func (p *vapiProxy) fetchesEnded(ctx context.Context) bool {
	p.fetchMu.Lock()
	defer p.fetchMu.Unlock()
	anyEnded := false
	for sid, ended := range p.fetches {
		if ended != nil { // deleted by a request: told by the simulator's count of its fetches
			select {
			case <-ended:
				delete(p.fetches, sid)
				anyEnded = true
			default:
			}
			continue
		}
		req, err := http.NewRequest(http.MethodGet, "/rest/com/vmware/content/library/item/updatesession/file?update_session_id="+url.QueryEscape(sid), nil)
		if err != nil {
			return false
		}
		res, err := p.serve(req)
		if err != nil {
			return false
		}
		if res.status == http.StatusOK {
			var files struct {
				Value []library.UpdateFile `json:"value"`
			}
			if json.Unmarshal(res.body.Bytes(), &files) != nil {
				return false
			}
			for _, f := range files.Value {
				if f.Status == "TRANSFERRING" {
					return false
				}
			}
		} else if res.status != http.StatusNotFound {
			return false
		}
		delete(p.fetches, sid)
		anyEnded = true
	}
	if anyEnded {
		if err := p.counted(ctx); err != nil {
			p.log.Error("files fetched for a library item not saved; saved with the next change", "err", err)
		}
	}
	if len(p.fetches) > 0 {
		return false
	}
	p.fetching.Store(false)
	return true
}

// errNotSaved wraps a failure to save a change that was made.
var errNotSaved = errors.New("wcpd could not save the change in its store")

func newVAPIProxy(sim http.Handler, server *url.URL, login *url.Userinfo, log *slog.Logger) *vapiProxy {
	base := url.URL{Scheme: server.Scheme, Host: server.Host}
	return &vapiProxy{sim: sim, internal: base.String(), login: login, log: log}
}

func ownsVAPIPath(path string) bool {
	for _, p := range vapiPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// currentSession returns the internal session, logging in if there is none.
func (p *vapiProxy) currentSession() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.session == "" {
		id, err := p.newSession()
		if err != nil {
			return "", err
		}
		p.session = id
	}
	return p.session, nil
}

// renew replaces a session the simulator rejected, unless another request
// has already done so.
func (p *vapiProxy) renew(rejected string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.session != rejected && p.session != "" {
		return p.session, nil
	}
	id, err := p.newSession()
	if err != nil {
		return "", err
	}
	p.log.Info("renewed internal vAPI session")
	p.session = id
	return id, nil
}

// newSession logs in to the simulator's session endpoint in process.
func (p *vapiProxy) newSession() (string, error) {
	req, err := http.NewRequest(http.MethodPost, "/rest/com/vmware/cis/session", nil)
	if err != nil {
		return "", err
	}
	password, _ := p.login.Password()
	req.SetBasicAuth(p.login.Username(), password)
	req.Header.Set("vmware-use-header-authn", "true")
	res := newBufferedResponse()
	p.sim.ServeHTTP(res, req)
	if res.status != http.StatusOK {
		return "", fmt.Errorf("vAPI simulator login: HTTP %d %s", res.status, strings.TrimSpace(res.body.String()))
	}
	var reply struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(res.body.Bytes(), &reply); err != nil || reply.Value == "" {
		return "", fmt.Errorf("vAPI simulator login: unexpected reply %q", res.body.String())
	}
	return reply.Value, nil
}

// maxReplayBody bounds the request bodies kept in memory so a request can be
// replayed after a session renewal; larger bodies (library uploads) are
// streamed once.
const maxReplayBody = 8 << 20

// serve runs r against the simulator with the internal session and returns
// the buffered response.
func (p *vapiProxy) serve(r *http.Request) (*bufferedResponse, error) {
	var replay []byte
	var body io.Reader = http.NoBody
	canReplay := true
	if r.Body != nil && r.Body != http.NoBody {
		head, err := io.ReadAll(io.LimitReader(r.Body, maxReplayBody+1))
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		if len(head) > maxReplayBody {
			canReplay = false
			body = io.MultiReader(bytes.NewReader(head), r.Body)
		} else {
			replay = head
		}
	}

	attempt := func(session string) *bufferedResponse {
		in := r.Clone(r.Context())
		in.Header.Del(vapiSessionHeader)
		in.Header.Del("Cookie")
		for _, c := range r.Cookies() {
			if c.Name != vapiSessionHeader {
				in.AddCookie(c)
			}
		}
		in.Header.Set(vapiSessionHeader, session)
		if canReplay {
			in.Body = io.NopCloser(bytes.NewReader(replay))
			in.ContentLength = int64(len(replay))
		} else {
			in.Body = io.NopCloser(body)
		}
		res := newBufferedResponse()
		p.sim.ServeHTTP(res, in)
		if res.status == 0 {
			res.status = http.StatusOK
		}
		return res
	}

	var running *sync.WaitGroup // a deleted session's fetches, read while the simulator still has it
	if sid, ok := strings.CutPrefix(r.URL.Path, updateSessionPrefix); ok && r.Method == http.MethodDelete && p.fetching.Load() {
		running = p.sessionFetches(sid)
	}
	session, err := p.currentSession()
	if err != nil {
		return nil, err
	}
	res := attempt(session)
	if res.status == http.StatusUnauthorized && canReplay {
		if session, err = p.renew(session); err != nil {
			return nil, err
		}
		res = attempt(session)
	}
	if r.Method == http.MethodGet && p.fetching.Load() && strings.HasPrefix(r.URL.Path, updateSessionPrefix) {
		// A client waiting for its session to end (govc's library.import -pull) is told once the
		// files arrived: they are counted and saved before it is.
		p.fetchesEnded(r.Context())
	}
	if !onlyReads(r) {
		p.noteFetches(r, replay, canReplay, running) // before the count moves: a read that sees the new count sees the fetch
		if err := p.counted(r.Context()); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotSaved, err)
		}
	}
	return res, nil
}

// counted moves the generation for a change to the simulator's vAPI state, and has the durable
// inventory (if any) save the state before it returns.
func (p *vapiProxy) counted(ctx context.Context) error {
	p.generation.Add(1)
	if p.changed == nil {
		return nil
	}
	p.changed()
	return p.sync(ctx)
}

// simulatorTagging is what the simulator's SOAP side asks of its tagging service (the simulator's
// own, unexported, tagManager): its vAPI handler has these methods.
type simulatorTagging interface {
	AttachedObjects(tagID string) ([]types.ManagedObjectReference, types.BaseMethodFault)
	AttachedTags(ref types.ManagedObjectReference) ([]string, types.BaseMethodFault)
	AttachTag(ref types.ManagedObjectReference, tagID string) types.BaseMethodFault
	DetachTag(ref types.ManagedObjectReference, tagID string) types.BaseMethodFault
	GetTagByCategoryAndName(category, tag string) (string, types.BaseMethodFault)
	GetTagCategoryAndName(tagID string) (string, string, types.BaseMethodFault)
}

// soapTagging is the vAPI handler as the simulator's SOAP side finds it: a VM's reconfiguration
// attaches and detaches tags (its spec's tagSpecs) through it, with no request to the vAPI
// services. Each such change is counted as a request's would be (changedBySOAP).
type soapTagging struct {
	http.Handler
	simulatorTagging
	proxy *vapiProxy
}

func (t soapTagging) AttachTag(ref types.ManagedObjectReference, tagID string) types.BaseMethodFault {
	fault := t.simulatorTagging.AttachTag(ref, tagID)
	if fault == nil {
		t.proxy.changedBySOAP()
	}
	return fault
}

func (t soapTagging) DetachTag(ref types.ManagedObjectReference, tagID string) types.BaseMethodFault {
	fault := t.simulatorTagging.DetachTag(ref, tagID)
	if fault == nil {
		t.proxy.changedBySOAP()
	}
	return fault
}

// changedBySOAP counts a change the SOAP side made to the vAPI state, within a task: the generation
// moves, and the durable inventory saves the state with its next sync, which every answer that
// could show the task done waits for (durable.go).
func (p *vapiProxy) changedBySOAP() {
	p.generation.Add(1)
	if p.changed != nil {
		p.changed()
	}
}

// ServeHTTP serves an external request that wcpd has authenticated.
func (p *vapiProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !ownsVAPIPath(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	res, err := p.serve(r)
	if err != nil {
		p.log.Error("vAPI simulator request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if errors.Is(err, errNotSaved) {
			http.Error(w, errNotSaved.Error(), http.StatusInternalServerError)
			return
		}
		http.Error(w, "inventory vAPI service unavailable", http.StatusServiceUnavailable)
		return
	}
	body := res.body.Bytes()
	if strings.Contains(res.header.Get("Content-Type"), "json") {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		body = bytes.ReplaceAll(body, []byte(p.internal), []byte(scheme+"://"+r.Host))
	}
	for k, v := range res.header {
		if k == "Set-Cookie" || k == "Content-Length" {
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(body)
}

// transport serves a rest.Client's requests in process, whatever host
// their URL names (the simulator hands out loopback upload URLs).
func (p *vapiProxy) transport() http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if !ownsVAPIPath(r.URL.Path) {
			return nil, fmt.Errorf("inventory: %s is not an embedded vAPI service", r.URL.Path)
		}
		res, err := p.serve(r)
		if err != nil {
			return nil, err
		}
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return res.response(r), nil
	})
}

// serveInProcess is a round tripper that hands requests to h.
func serveInProcess(h http.Handler) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res := newBufferedResponse()
		h.ServeHTTP(res, r)
		if res.status == 0 {
			res.status = http.StatusOK
		}
		return res.response(r), nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// bufferedResponse records a handler's response so it can be inspected
// (and discarded on 401) before anything reaches the client.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

// response turns the recording into a client-side response to r.
func (b *bufferedResponse) response(r *http.Request) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", b.status, http.StatusText(b.status)),
		StatusCode:    b.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        b.header,
		Body:          io.NopCloser(bytes.NewReader(b.body.Bytes())),
		ContentLength: int64(b.body.Len()),
		Request:       r,
	}
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
