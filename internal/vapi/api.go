package vapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/logsink"
)

// Identity is what the wire layer needs of the identity source.
type Identity interface {
	// Login checks credentials: auth.ErrBadCredentials or auth.ErrLocked when it fails.
	Login(user, password string) (auth.Principal, error)
	HasPrivilege(p auth.Principal, priv auth.Privilege) bool
}

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 16 << 20

// maxDrainBytes bounds what is read and discarded of a body over MaxBodyBytes before the error is
// sent (a larger one has its connection or stream cut, as before).
const maxDrainBytes = 64 << 20

// API serves /api and /rest from one registry.
type API struct {
	Registry *Registry
	Sessions *Sessions
	Identity Identity
	Logger   *slog.Logger
	Metrics  *Metrics
	// KeptInputs reads the change counts kept answers follow (kept.go); nil keeps nothing.
	KeptInputs func() KeptInputs

	delegates   []delegate
	kept        keptAnswers
	resolutions resolutions
	// rpcResolutions are what JSON-RPC invokes' inputs resolved to (resolutions.go).
	rpcResolutions rpcResolutions

	// Request ids are this API's random prefix and a count: unique without a random read per
	// request.
	idOnce   sync.Once
	idPrefix string
	idCount  atomic.Uint64
}

// requestID names a request that came without an X-Request-ID.
func (a *API) requestID() string {
	a.idOnce.Do(func() {
		var b [6]byte
		_, _ = rand.Read(b[:])
		a.idPrefix = hex.EncodeToString(b[:]) + "-"
	})
	var buf [40]byte
	return string(strconv.AppendUint(append(buf[:0], a.idPrefix...), a.idCount.Add(1), 10))
}

// Header values the API sends on every answer, shared rather than allocated per request (the
// server copies headers before it writes them and never changes these slices).
var jsonContentType = []string{"application/json"}

type delegate struct {
	prefixes []string
	handler  http.Handler
	name     string
	// reads, when set, is what KeepDelegated declared.
	reads func(method, path, action string) KeptVersionFunc
}

// Delegate routes requests under any of prefixes (full paths such as "/api/content/") to h once the
// caller's session is valid. name labels those requests in logs and metrics.
func (a *API) Delegate(name string, prefixes []string, h http.Handler) {
	a.delegates = append(a.delegates, delegate{prefixes: prefixes, handler: h, name: name})
}

// statusRecorder remembers the status written, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// exchange is the state of one request while it is served.
type exchange struct {
	w      statusRecorder
	r      *http.Request
	legacy bool
	opID   string
	// user is who the request authenticated as, for the log line.
	user    auth.Principal
	hasUser bool
	// rpc marks a JSON-RPC request; vapiError is the error its answer carries (its HTTP status is
	// 200 all the same).
	rpc       bool
	vapiError string

	// Storage for what every request needs, held with the exchange rather than allocated one by
	// one: the call and its path parameters.
	call   Call
	params [4]PathParam
}

// exchanges are the exchanges of requests that ended, to serve others: an exchange is about 500
// bytes, and allocating and clearing one per request was a quarter of a kept read's time in the
// API (docs/performance.md). Nothing may keep an exchange, or what points into it (its call, the
// call's path parameters, its response writer), past the end of ServeHTTP: handlers and
// delegates run within it and keep none of these.
var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// requestIDHeader is X-Request-ID in the canonical form the server keeps headers in.
const requestIDHeader = "X-Request-Id"

// ServeHTTP serves every request under /api/ and /rest/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := headerValue(r.Header, requestIDHeader)
	if reqID == "" {
		reqID = a.requestID()
	}
	x := exchanges.Get().(*exchange)
	x.w, x.r = statusRecorder{ResponseWriter: w}, r
	// Not a slice of the exchange: a response writer may read its header map after ServeHTTP
	// returns (httptest's recorder, http.TimeoutHandler's writer), when the exchange serves another.
	w.Header()[requestIDHeader] = []string{reqID}
	defer func() {
		if p := recover(); p != nil {
			a.Logger.Error("panic serving request", "request_id", reqID, "operation", x.opID, "panic", p, "stack", string(debug.Stack()))
			if x.w.status == 0 {
				a.writeError(x, AsError(errors.New("panic")))
			}
		}
		d := time.Since(start)
		if x.opID == "" {
			x.opID = "unresolved"
		}
		a.Metrics.observe(x.opID, x.w.status, d)
		if x.rpc {
			a.Metrics.observeRPC(x.opID, x.vapiError)
		}
		// Checked first: building the line costs allocations on every request, and servers under
		// load usually log only warnings.
		if a.Logger.Enabled(r.Context(), slog.LevelInfo) {
			var user string
			if x.hasUser {
				user = x.user.String()
			}
			line := logsink.RequestLine{Time: start.Add(d), RequestID: reqID, Operation: x.opID, User: user,
				Method: r.Method, Path: r.URL.Path, Status: x.w.status, Duration: d, Error: x.vapiError}
			// wcpd's own handler (text or JSON) writes the line directly; any other goes through
			// slog. The record goes to the handler directly: Logger.LogAttrs would first walk the
			// stack for the caller's position, which a request line does not show.
			if h, ok := a.Logger.Handler().(*logsink.Handler); ok {
				h.LogRequest(&line)
			} else {
				_ = a.Logger.Handler().Handle(r.Context(), line.Record())
			}
		}
		*x = exchange{} // nothing of this request reaches the next, nor stays reachable for the collector
		exchanges.Put(x)
	}()
	a.serve(x)
}

func (a *API) serve(x *exchange) {
	r := x.r
	if isJSONRPC(r) {
		a.serveJSONRPC(x)
		return
	}
	// The router splits the path as sent and unescapes each segment once: r.URL.Path is already
	// unescaped, so an escaped slash would split a segment and an escaped percent sign be read twice.
	escapedPath := sentPath(r)
	var rel string
	switch {
	case strings.HasPrefix(escapedPath, "/api/"):
		rel = strings.TrimPrefix(escapedPath, "/api")
	case strings.HasPrefix(escapedPath, "/rest/"):
		rel, x.legacy = strings.TrimPrefix(escapedPath, "/rest"), true
	default:
		a.writeError(x, NewError(ErrorNotFound, "wcpd.path.not_found", "No operation is served at "+r.URL.Path+".", r.URL.Path))
		return
	}
	if a.serveSession(x, rel) {
		return
	}
	if !x.legacy && rel == uiSessionPath {
		a.serveUISession(x)
		return
	}
	op, params, query, action, err := a.resolve(x, rel)
	for _, d := range a.delegates {
		if err == nil {
			break // a registry operation comes first, also below a delegated prefix
		}
		for _, p := range d.prefixes {
			if strings.HasPrefix(r.URL.Path, p) || r.URL.Path == strings.TrimSuffix(p, "/") {
				x.opID = d.name
				if _, err := a.authenticate(x); err != nil {
					a.writeError(x, err)
					return
				}
				a.serveDelegated(x, &d, action)
				return
			}
		}
	}
	if err != nil {
		if e := AsError(err); e.Status == http.StatusMethodNotAllowed {
			x.w.Header().Set("Allow", e.Messages[0].Args[2])
		}
		a.writeError(x, err)
		return
	}
	x.opID = op.ID()
	call := &x.call
	*call = Call{Ctx: r.Context(), Op: op, Legacy: x.legacy, Request: r, params: params, query: query}
	if !op.Public {
		sess, err := a.authenticate(x)
		if err != nil {
			a.writeError(x, err)
			return
		}
		call.Principal = sess.Principal
		if err := a.authorize(sess.Principal, op); err != nil {
			a.writeError(x, err)
			return
		}
	}
	if !op.Implemented() {
		a.writeError(x, NewError(ErrorUnsupported, "wcpd.operation.not_implemented",
			"wcpd does not implement "+op.ID()+" yet.", op.ID()))
		return
	}
	if r.ContentLength != 0 { // unknown (-1) or some: read it; most reads have none
		body, err := io.ReadAll(http.MaxBytesReader(&x.w, r.Body, MaxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				// An HTTP/2 client still sending when the answer comes gets the stream reset, and
				// clients such as curl then drop the answer: the rest is read (within a bound) first.
				_, _ = io.CopyN(io.Discard, r.Body, maxDrainBytes)
			}
			a.writeError(x, NewError(ErrorInvalidRequest, "wcpd.body.unreadable", "The request body could not be read: "+err.Error()+".", err.Error()))
			return
		}
		call.body = body
	}
	result, err := a.answer(op, call, nil)
	if err != nil {
		a.writeError(x, err)
		return
	}
	a.writeResult(x, op.Status, result)
}

// resolve finds the operation the request addresses, its path parameters (in x's storage), its
// query (nil for none) and its action. A request target that resolved before is found in the
// kept resolutions (resolutions.go), without parsing its query or walking the routes again.
func (a *API) resolve(x *exchange, rel string) (*Operation, PathParams, url.Values, string, error) {
	r := x.r
	routes := a.Registry.routes()
	if res, ok := a.resolutions.get(r, routes); ok {
		return res.op, append(x.params[:0], res.params...), res.query, res.action, nil
	}
	var query url.Values // parsed once, and only when there is a query
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	action := query.Get("action")
	if x.legacy {
		if a := query.Get("~action"); a != "" {
			action = a
		}
	}
	op, params, err := routes.resolve(r.Method, rel, action, query, x.params[:0])
	if err == nil {
		a.resolutions.put(r, routes, resolution{op: op, params: slices.Clone(params), query: query, action: action})
	}
	return op, params, query, action, err
}

// sentPath is the request's path as the client sent it. net/http keeps the request target as sent
// (RequestURI), whose path is what URL.EscapedPath works out again by escaping the decoded path and
// comparing it with the sent one, character by character, on every request. A request made in
// process (no RequestURI) or sent in absolute form ("https://host/api/…") is left to EscapedPath.
func sentPath(r *http.Request) string {
	if u := r.RequestURI; len(u) > 0 && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			return u[:i]
		}
		return u
	}
	return r.URL.EscapedPath()
}

// authenticate finds the caller's session by header or cookie: the session header first, then the
// web UI's cookie on a request marked as the UI's (uisession.go), then the cookie /rest logins set.
func (a *API) authenticate(x *exchange) (Session, error) {
	id := headerValue(x.r.Header, sessionHeaderKey)
	if id == "" {
		id = uiSessionID(x.r)
	}
	if id == "" {
		if c, err := x.r.Cookie(SessionHeader); err == nil {
			id = c.Value
		}
	}
	if id == "" {
		if _, err := x.r.Cookie(UISessionCookie); err == nil {
			return Session{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.ui_header",
				"The "+UISessionCookie+" cookie stands for a session only on requests with the header "+UIHeader+": 1 (the web UI sends it).",
				UISessionCookie, UIHeader)
		}
		return Session{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_session",
			"This operation requires a session: log in with POST /api/session and send the token in the "+SessionHeader+" header.")
	}
	return a.session(x, id)
}

// sessionHeaderKey is SessionHeader as net/http keeps header names: looked up directly, it spares
// every request the canonicalisation (and allocation) Header.Get does for a lower-case name.
var sessionHeaderKey = http.CanonicalHeaderKey(SessionHeader)

// headerValue is Header.Get for a name already in canonical form.
func headerValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// session finds the live session id for the exchange, on every protocol.
func (a *API) session(x *exchange, id string) (Session, error) {
	sess, ok := a.Sessions.Touch(id)
	if !ok || id == "" {
		return Session{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.session_invalid",
			"The session is unknown or has expired; log in again.")
	}
	x.user, x.hasUser = sess.Principal, true
	return sess, nil
}

// sessionInfo is the CIS session service's answer to get.
func sessionInfo(sess Session) SessionInfo {
	return SessionInfo{User: sess.Principal.SessionUser(),
		CreatedTime: NewDateTime(sess.Created), LastAccessed: NewDateTime(sess.LastAccessed)}
}

// runHandler runs the operation's handler, logging in full an error that is not a vAPI error (the
// client sees only that an internal error occurred).
func (a *API) runHandler(op *Operation, call *Call) (any, error) {
	result, err := op.Handler(call)
	if err != nil {
		var ve *Error
		if !errors.As(err, &ve) {
			a.Logger.Error("operation failed", "operation", op.ID(), "error", err)
		}
	}
	return result, err
}

// sessionOpIDs are the session operations' ids, for the log line and the metrics.
var sessionOpIDs = map[string]string{"create": "com.vmware.cis.session.create", "get": "com.vmware.cis.session.get",
	"delete": "com.vmware.cis.session.delete"}

// useHeaderAuthnKey is the header with which a /rest login asks for no cookie, in canonical form.
var useHeaderAuthnKey = http.CanonicalHeaderKey("vmware-use-header-authn")

// legacySessionCookie is the Set-Cookie value of a /rest login, as http.Cookie would write it for
// the session id (32 hex digits, nothing to quote or drop) without the allocations of its checks.
func legacySessionCookie(id string) string {
	return SessionHeader + "=" + id + "; Path=/rest; HttpOnly; Secure"
}

// tokenJSON is a session id as a JSON string: a session id is hex digits, with nothing to escape.
func tokenJSON(id string) Raw {
	b := make(Raw, 0, len(id)+2)
	return append(append(append(b, '"'), id...), '"')
}

// sessionOps names the session operation each method of a session resource is.
var sessionOps = map[string]string{http.MethodPost: "create", http.MethodGet: "get", http.MethodDelete: "delete"}

// refuseSessionMethod answers a method a session resource does not serve: 405, naming those it does.
func (a *API) refuseSessionMethod(x *exchange) {
	r := x.r
	e := NewError(ErrorOperationNotFound, "wcpd.method.not_allowed", "Method "+r.Method+" is not allowed on "+r.URL.Path+".", r.Method, r.URL.Path)
	e.Status = http.StatusMethodNotAllowed
	x.w.Header().Set("Allow", "DELETE, GET, POST")
	a.writeError(x, e)
}

// serveSession answers the CIS session service on both protocols.
func (a *API) serveSession(x *exchange, rel string) bool {
	r := x.r
	var op string
	switch {
	case !x.legacy && rel == "/session":
		op = sessionOps[r.Method]
	case x.legacy && rel == "/com/vmware/cis/session":
		switch {
		case r.Method == http.MethodPost && r.URL.RawQuery != "" && r.URL.Query().Get("~action") == "get",
			r.Method == http.MethodGet: // clients such as govmomi's rest.Client.Session use GET
			op = "get"
		case r.Method == http.MethodPost:
			op = "create"
		case r.Method == http.MethodDelete:
			op = "delete"
		}
	default:
		return false
	}
	if op == "" {
		a.refuseSessionMethod(x)
		return true
	}
	x.opID = sessionOpIDs[op]
	switch op {
	case "create":
		sess, err := a.login(x)
		if err != nil {
			a.writeError(x, err)
			return true
		}
		if x.legacy && !strings.EqualFold(headerValue(r.Header, useHeaderAuthnKey), "true") {
			x.w.Header()["Set-Cookie"] = []string{legacySessionCookie(sess.ID)}
		}
		status := http.StatusCreated
		if x.legacy {
			status = http.StatusOK
		}
		a.writeResult(x, status, tokenJSON(sess.ID))
	case "get":
		sess, err := a.authenticate(x)
		if err != nil {
			a.writeError(x, err)
			return true
		}
		a.writeResult(x, http.StatusOK, sessionInfo(sess))
	case "delete":
		sess, err := a.authenticate(x)
		if err != nil {
			a.writeError(x, err)
			return true
		}
		a.Sessions.Delete(sess.ID)
		status := http.StatusNoContent
		if x.legacy {
			status = http.StatusOK
		}
		a.writeResult(x, status, nil)
	}
	return true
}

// login opens a session for the HTTP Basic credentials of the exchange: the one way every login of
// the API (the CIS session service on both protocols, the web UI's) checks a user.
func (a *API) login(x *exchange) (*Session, error) {
	user, pass, ok := x.r.BasicAuth()
	if !ok {
		return nil, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_credentials",
			"Log in with HTTP Basic authentication (user and password).")
	}
	p, err := a.Identity.Login(user, pass)
	if err != nil {
		return nil, LoginError(user, err)
	}
	x.user, x.hasUser = p, true
	return a.Sessions.Create(p), nil
}

// Raw is a result already encoded as JSON; it is written as is (wrapped on /rest).
type Raw []byte

// restAnswer is an answer already in the shape /rest sends, {"value": <answer>}. A kept read on
// /rest keeps this form, so that sending it again copies nothing: wrapping a kept list of 100
// namespaces (17 KB) at every request made it cost about 30 % more than the same list on /api.
type restAnswer []byte

// restShape is body as /rest sends it.
func restShape(body []byte) restAnswer {
	b := make(restAnswer, 0, len(body)+len(`{"value":}`))
	b = append(b, `{"value":`...)
	b = append(b, body...)
	return append(b, '}')
}

// Attachment is a file result (e.g. a support bundle): its bytes are written as is, with its content
// type and a Content-Disposition naming the file, on both protocols.
type Attachment struct {
	Name        string
	ContentType string
	Body        []byte
}

// resultJSON is a handler's result as JSON: a Raw or json.RawMessage as it is, anything else
// marshalled. Every encoder of answers (REST, the kept answers, JSON-RPC's typing) starts from it.
func resultJSON(result any) ([]byte, error) {
	switch v := result.(type) {
	case Raw:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(result)
}

func (a *API) writeResult(x *exchange, status int, result any) {
	if status == http.StatusNoContent || (result == nil && status != http.StatusOK) {
		if x.legacy && status == http.StatusNoContent {
			status = http.StatusOK
		}
		x.w.WriteHeader(status)
		return
	}
	if a, ok := result.(Attachment); ok {
		h := x.w.Header()
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		x.w.WriteHeader(status)
		_, _ = x.w.Write(a.Body)
		return
	}
	body, shaped := result.(restAnswer)
	if !shaped {
		var err error
		if body, err = resultJSON(result); err != nil {
			a.Logger.Error("encoding result", "operation", x.opID, "error", err)
			a.writeError(x, AsError(err))
			return
		}
		if x.legacy {
			body = restShape(body)
		}
	}
	h := x.w.Header()
	h["Content-Type"] = jsonContentType
	// With the length known the server sends the body as it is rather than in chunks. net/http
	// works it out itself, without allocating, for a body written at once that fits the buffer it
	// keeps before it would start chunking; only a longer one needs the header.
	if len(body) > netHTTPUnchunkedBody {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

// netHTTPUnchunkedBody is the most a handler can write before net/http's HTTP/1.1 server starts
// sending chunks (bufferBeforeChunkingSize); its HTTP/2 server buffers more.
const netHTTPUnchunkedBody = 2048

// legacyError is the /rest error shape: {"type": "com.vmware.vapi.std.errors.x", "value": {...}}.
type legacyError struct {
	Type  string `json:"type"`
	Value *Error `json:"value"`
}

func (a *API) writeError(x *exchange, err error) { writeError(&x.w, err, x.legacy) }

// WriteError answers err in the /api error shape; for handlers outside the API (health, extensions).
func WriteError(w http.ResponseWriter, err error) { writeError(w, err, false) }

func writeError(w http.ResponseWriter, err error, legacy bool) {
	e := AsError(err)
	if e.Messages == nil {
		e.Messages = []Message{}
	}
	var body []byte
	if legacy {
		body, _ = json.Marshal(legacyError{Type: e.Type.legacyName(), Value: e})
	} else {
		body, _ = json.Marshal(e)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(body)
}

// jsonNotFound turns a delegate's plain-text 404 into a vAPI NOT_FOUND error, so every unknown path
// answers in the same shape.
type jsonNotFound struct {
	*statusRecorder
	path       string
	legacy     bool
	suppressed bool
}

func (j *jsonNotFound) WriteHeader(code int) {
	if code == http.StatusNotFound && !strings.Contains(j.Header().Get("Content-Type"), "json") {
		j.Header().Del("X-Content-Type-Options")
		writeError(j.statusRecorder, NewError(ErrorNotFound, "wcpd.path.not_found", "No operation is served at "+j.path+".", j.path), j.legacy)
		j.suppressed = true
		return
	}
	j.statusRecorder.WriteHeader(code)
}

func (j *jsonNotFound) Write(b []byte) (int, error) {
	if j.suppressed {
		return len(b), nil
	}
	return j.statusRecorder.Write(b)
}

// Invoke runs the operation id for p outside HTTP, as another protocol or wcpd's Kubernetes side
// does: the same privilege check, inputs (body as the /api body) and handler as a request.
func (a *API) Invoke(ctx context.Context, p auth.Principal, id string, params map[string]string, body []byte) (any, error) {
	op, ok := a.Registry.Lookup(id)
	if !ok || !op.Implemented() {
		return nil, NewError(ErrorUnsupported, "wcpd.operation.not_implemented", "wcpd does not implement "+id+".", id)
	}
	if !op.Public {
		if err := a.authorize(p, op); err != nil {
			return nil, err
		}
	}
	return op.Handler(NewCall(ctx, op, p, params, nil, body))
}

// authorize checks that p holds the privilege op requires, on every protocol.
func (a *API) authorize(p auth.Principal, op *Operation) error {
	if a.Identity.HasPrivilege(p, op.Privilege) {
		return nil
	}
	return NewError(ErrorUnauthorized, "wcpd.unauthorized",
		"User "+p.String()+" does not have the privilege "+string(op.Privilege)+" needed for "+op.ID()+".",
		p.String(), string(op.Privilege), op.ID())
}

// LoginError is the error a failed login answers: a locked account says so, a wrong user name or
// password does not say which.
func LoginError(user string, err error) *Error {
	if errors.Is(err, auth.ErrLocked) {
		return NewError(ErrorUnauthenticated, "wcpd.unauthenticated.locked",
			"Authentication failed: the account is locked after repeated failed logins; try again later.", user)
	}
	return NewError(ErrorUnauthenticated, "wcpd.unauthenticated.bad_credentials",
		"Authentication failed: the user name or password is not correct.", user)
}
