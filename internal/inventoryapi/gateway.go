package inventoryapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vapi/idl"
)

// Content library and tagging are served by the embedded inventory's own vAPI handler (govmomi's
// simulator), which speaks the legacy /rest protocol only. The gateway below gives each of their
// operations of the neighbours reference its /api binding (and so JSON-RPC too): the registry
// operation is declared from the interface metadata, and its handler turns the call into the
// /rest request for the same operation (/rest/com/vmware/<service>[/id:<id>][?~action=<op>], inputs
// wrapped by name), sends it to the inventory's handler in process, and answers what comes back.

// gatewayServices are the service id prefixes the gateway serves.
var gatewayServices = []string{"com.vmware.cis.tagging.", "com.vmware.content.library", "com.vmware.content.local_library", "com.vmware.content.subscribed_library"}

// keptGatewayReads are the gateway's reads whose answers change only with a request the
// simulator's REST services serve, so the API keeps them while the inventory's count of those
// requests stays (keptByCount): tag categories and tags, the tags of a category, what tags are
// attached to what (which a VM's reconfiguration through the SOAP side also changes, and so moves
// the inventory's generation, which every kept answer follows), the ids of libraries, of their
// items and of their subscribers, the libraries and items a find names, and a subscription. A
// library's get carries its items with their files, and an item's get, files and storage show its
// files, which the simulator also writes on its own while it fetches one from a URL: those are kept
// only while it fetches none (keptWithFiles), and so are a file's and its storage's get by the
// file's name. The reads /rest binds as a POST with an action are kept with their body; each must be
// one of the POSTs the inventory counts as reads (inventory.PostOnlyReads), or /rest does not keep
// it. Not kept: the update and download sessions, which expire and end with the clock.
var keptGatewayReads = map[string]keptBy{
	"com.vmware.cis.tagging.category.get":                                  keptByCount,
	"com.vmware.cis.tagging.category.list":                                 keptByCount,
	"com.vmware.cis.tagging.tag.get":                                       keptByCount,
	"com.vmware.cis.tagging.tag.list":                                      keptByCount,
	"com.vmware.cis.tagging.tag.list_tags_for_category":                    keptByCount,
	"com.vmware.cis.tagging.tag_association.list_attached_tags":            keptByCount,
	"com.vmware.cis.tagging.tag_association.list_attached_objects":         keptByCount,
	"com.vmware.cis.tagging.tag_association.list_attached_tags_on_objects": keptByCount,
	"com.vmware.cis.tagging.tag_association.list_attached_objects_on_tags": keptByCount,
	"com.vmware.content.library.list":                                      keptByCount,
	"com.vmware.content.library.find":                                      keptByCount,
	"com.vmware.content.local_library.list":                                keptByCount,
	"com.vmware.content.subscribed_library.list":                           keptByCount,
	"com.vmware.content.library.item.list":                                 keptByCount,
	"com.vmware.content.library.item.find":                                 keptByCount,
	"com.vmware.content.library.subscriptions.list":                        keptByCount,
	"com.vmware.content.library.subscriptions.get":                         keptByCount,
	"com.vmware.content.library.get":                                       keptWithFiles,
	"com.vmware.content.local_library.get":                                 keptWithFiles,
	"com.vmware.content.subscribed_library.get":                            keptWithFiles,
	"com.vmware.content.library.item.get":                                  keptWithFiles,
	"com.vmware.content.library.item.file.list":                            keptWithFiles,
	"com.vmware.content.library.item.file.get":                             keptWithFiles,
	"com.vmware.content.library.item.storage.list":                         keptWithFiles,
	"com.vmware.content.library.item.storage.get":                          keptWithFiles,
}

// simulatorLacks are the gateway's operations the simulator accepts without carrying them out: it
// answers an empty success (the used-by lists of categories and tags and the revocation of their
// permissions, a tag's detachment from several objects, the attachable tags, a subscription's and
// an update session's update, a subscribed library's probe), takes the POST for a create (the
// lists of used categories and tags, which would make an object), or has no such service and
// answers that the item is not found (an item's changes). /api and JSON-RPC answer them
// UNSUPPORTED rather than pretend; /rest, the simulator's own protocol, still reaches it.
var simulatorLacks = map[string]bool{
	"com.vmware.cis.tagging.category.list_used_categories":                    true,
	"com.vmware.cis.tagging.category.add_to_used_by":                          true,
	"com.vmware.cis.tagging.category.remove_from_used_by":                     true,
	"com.vmware.cis.tagging.category.revoke_propagating_permissions":          true,
	"com.vmware.cis.tagging.tag.list_used_tags":                               true,
	"com.vmware.cis.tagging.tag.add_to_used_by":                               true,
	"com.vmware.cis.tagging.tag.remove_from_used_by":                          true,
	"com.vmware.cis.tagging.tag.revoke_propagating_permissions":               true,
	"com.vmware.cis.tagging.tag_association.list_attachable_tags":             true,
	"com.vmware.cis.tagging.tag_association.detach_tag_from_multiple_objects": true,
	"com.vmware.content.library.subscriptions.update":                         true,
	"com.vmware.content.library.item.changes.get":                             true,
	"com.vmware.content.library.item.changes.list":                            true,
	"com.vmware.content.library.item.update_session.update":                   true,
	"com.vmware.content.subscribed_library.probe":                             true,
}

// keptBy is what a kept gateway read follows.
type keptBy uint8

const (
	notKeptByGateway keptBy = iota
	keptByCount             // inventory.VAPIGeneration
	keptWithFiles           // inventory.VAPIFilesGeneration
)

// keptVersions are the version functions of the reads kept by each keptBy (none for
// notKeptByGateway).
func keptVersions(inv *inventory.Inventory) [keptWithFiles + 1]vapi.KeptVersionFunc {
	return [...]vapi.KeptVersionFunc{
		keptByCount: func() (vapi.KeptVersion, bool) { return vapi.KeptVersion{inv.VAPIGeneration()}, true },
		keptWithFiles: func() (vapi.KeptVersion, bool) {
			g, ok := inv.VAPIFilesGeneration()
			return vapi.KeptVersion{g}, ok
		},
	}
}

// KeptLegacyReads tells the API which reads of the inventory's vAPI handler it keeps, and by what
// version (vapi.API.KeepDelegated): keptGatewayReads as /rest clients send them (govc's tags.ls,
// library.ls and tags.attached.ls).
func KeptLegacyReads(inv *inventory.Inventory) func(method, path, action string) vapi.KeptVersionFunc {
	versions := keptVersions(inv)
	return func(method, path, action string) vapi.KeptVersionFunc {
		return versions[keptLegacyRead(method, path, action)]
	}
}

// keptLegacyRead is how the request with method, path and action (~action) on /rest is kept, if it
// is one of keptGatewayReads. A GET is told by its path alone, as the simulator dispatches it: a
// library's get shares its path with the library list but for the object's id, so the forms are
// told apart by whether the path names one.
func keptLegacyRead(method, path, action string) keptBy {
	switch method {
	case http.MethodGet:
		action = "" // the simulator dispatches a GET by its path alone
	case http.MethodPost:
	default:
		return notKeptByGateway
	}
	for _, f := range keptLegacyForms() {
		if f.method != method || f.action != action {
			continue
		}
		rest, ok := strings.CutPrefix(path, f.path)
		switch {
		case !ok:
		case !f.namesObject && rest == "",
			f.namesObject && strings.HasPrefix(rest, "/id:") && !strings.Contains(rest[len("/id:"):], "/"):
			return f.kept
		}
	}
	return notKeptByGateway
}

// legacyForm is how a read is sent on /rest: a GET of its service's path, or a POST of it with an
// action, followed by the object's id (/id:<id>) when the operation names one; and how it is kept.
type legacyForm struct {
	method, path, action string
	namesObject          bool
	kept                 keptBy
}

// keptLegacyForms are the /rest forms of keptGatewayReads, as transcode sends them; made at the
// first read that asks. A POST form the inventory does not count as a read is left out.
var keptLegacyForms = sync.OnceValue(func() (out []legacyForm) {
	for _, g := range gatewayOperations() {
		k := keptGatewayReads[g.service+"."+g.op.Name]
		if k == notKeptByGateway {
			continue
		}
		f := legacyForm{method: http.MethodGet, path: g.legacyPath(""), kept: k}
		_, f.namesObject = g.pathObject()
		if g.boundByAction() {
			f.method, f.action = http.MethodPost, g.legacyAction()
			f.namesObject = f.namesObject || g.namedByFirstParam()
			sent := f.path
			if f.namesObject {
				sent = g.legacyPath("x")
			}
			if !inventory.PostOnlyReads(sent, f.action) {
				continue
			}
		}
		out = append(out, f)
	}
	return out
})

// legacyAction is the ~action /rest binds an operation by, when it does (boundByAction).
func (g gatewayOperation) legacyAction() string { return strings.ReplaceAll(g.op.Name, "_", "-") }

// namedByFirstParam reports whether /rest names the object by the operation's first parameter, an
// id, when no path variable of /api does (…/tag/id:<category>?~action=list-tags-for-category).
func (g gatewayOperation) namedByFirstParam() bool {
	p := g.op.Params
	return len(p) > 0 && strings.HasPrefix(p[0].Type, "ID") && g.op.Name != "create" && g.op.Name != "list"
}

// boundByAction reports whether /rest binds the operation as a POST with ~action=<name> rather than
// by its method alone: every operation but the five of CRUD, and of those one that takes a second
// id, which the body carries, or a get that takes more than the object it names (an item's file by
// its name).
func (g gatewayOperation) boundByAction() bool {
	_, isCRUD := crud[g.op.Name]
	return !isCRUD || len(g.op.PathVars) > 1 || (g.op.Name == "get" && len(g.op.Params) > 1)
}

// pathObject is the variable of the /api path whose value /rest names in its path (/id:<id>): the
// only one, or the one that is the operation's first parameter. A list names none: on /rest it
// takes every input in the query string (…/library/subscriptions?library=<id>).
func (g gatewayOperation) pathObject() (variable string, ok bool) {
	if g.op.Name == "list" {
		return "", false
	}
	for variable, param := range g.op.PathVars {
		if len(g.op.PathVars) == 1 || param == g.op.Params[0].Name {
			return variable, true
		}
	}
	return "", false
}

// crud are the operations the legacy protocol binds by method alone.
var crud = map[string]string{"create": http.MethodPost, "list": http.MethodGet, "get": http.MethodGet, "update": http.MethodPatch, "delete": http.MethodDelete}

// gatewayOperation is one operation the gateway serves.
type gatewayOperation struct {
	service string
	op      *idl.Operation
}

// gatewayOperations lists the operations of the metadata the gateway serves: every operation of
// its services but the $task forms.
func gatewayOperations() []gatewayOperation {
	var out []gatewayOperation
	for _, svc := range idl.Default().Services() {
		if !slices.ContainsFunc(gatewayServices, func(p string) bool { return strings.HasPrefix(svc.ID, p) }) {
			continue
		}
		for i := range svc.Operations {
			op := &svc.Operations[i]
			if !strings.Contains(op.Name, "$") {
				out = append(out, gatewayOperation{service: svc.ID, op: op})
			}
		}
	}
	return out
}

// registerGateway declares and handles the gateway's operations.
func (f *Family) registerGateway(r *vapi.Registry) {
	versions := keptVersions(f.deps.Inventory)
	for _, g := range gatewayOperations() {
		b := vapi.Binding{Service: g.service, Name: g.op.Name, Method: g.op.HTTP, Path: g.op.URL,
			Action: g.op.Dispatch["action"], Body: g.op.Body, Status: http.StatusOK,
			// As on /rest, where the inventory's handler serves them to any authenticated user.
			Privilege: auth.PrivilegeNone}
		for q := range g.op.Query {
			b.Query = append(b.Query, q)
		}
		for key := range g.op.Dispatch {
			if key != "action" {
				b.Requires = key // a file's get by its name, beside the list of the files
			}
		}
		sort.Strings(b.Query)
		for _, p := range g.op.Params {
			if _, inQuery := g.queryKey(p.Name); !g.inPath(p.Name) && !inQuery && p.Name != g.op.Body && g.header(p.Name) == "" {
				b.Wrapped = append(b.Wrapped, p.Name)
			}
		}
		switch {
		case g.op.Output == "void":
			b.Status = http.StatusNoContent
		case g.op.Name == "create":
			b.Status = http.StatusCreated
		}
		var handler vapi.HandlerFunc = func(c *vapi.Call) (any, error) { return f.transcode(c, g) }
		if simulatorLacks[b.ID()] {
			handler = nil // declared, not implemented: the API answers UNSUPPORTED
		}
		r.Extend(b, handler, false)
		if k := keptGatewayReads[b.ID()]; k != notKeptByGateway {
			r.KeepVersioned(b.Service, b.Name, versions[k])
		}
	}
}

// queryKey is the query parameter that carries param on /api, if one does.
func (g gatewayOperation) queryKey(param string) (string, bool) {
	for key, p := range g.op.Query {
		if p == param {
			return key, true
		}
	}
	return "", false
}

// header is the HTTP header that carries param on /api, if one does ("" if none).
func (g gatewayOperation) header(param string) string {
	for h, p := range g.op.Headers {
		if p == param {
			return h
		}
	}
	return ""
}

func (g gatewayOperation) inPath(param string) bool {
	for _, p := range g.op.PathVars {
		if p == param {
			return true
		}
	}
	return false
}

// legacyPath is the operation's /rest path: the service id as a path, hyphens for underscores.
func (g gatewayOperation) legacyPath(id string) string {
	p := "/rest/" + strings.ReplaceAll(strings.ReplaceAll(g.service, ".", "/"), "_", "-")
	if id != "" {
		p += "/id:" + url.PathEscape(id)
	}
	return p
}

// transcode serves one call through the inventory's /rest handler.
func (f *Family) transcode(c *vapi.Call, g gatewayOperation) (any, error) {
	// The legacy protocol names one object in the path (id:<…>, pathObject). Another path variable
	// of /api (a file of an update session, a subscription of a library) travels in the body by
	// its parameter's name, or in the query string for a list (below).
	var id string
	body := map[string]json.RawMessage{}
	object, named := g.pathObject()
	for variable, param := range g.op.PathVars {
		if named && variable == object {
			id = c.Path(variable)
			continue
		}
		body[param], _ = json.Marshal(c.Path(variable))
	}
	query := url.Values{}
	for _, p := range g.op.Params {
		if g.inPath(p.Name) {
			continue
		}
		if h := g.header(p.Name); h != "" {
			var raw json.RawMessage
			ok, err := c.BindHeader(h, p.Name, &raw)
			if err != nil {
				return nil, err
			}
			if ok {
				body[p.Name] = raw
			}
			continue
		}
		if key, ok := g.queryKey(p.Name); ok {
			if v := c.Query(key); v != "" {
				query.Set(p.Name, v)
			}
			continue
		}
		// Every other input, also one a list takes from the query string on /api, binds by name.
		var raw json.RawMessage
		ok, err := c.BindOptional(p.Name, &raw)
		if err != nil {
			return nil, err
		}
		if ok {
			body[p.Name] = raw
		}
	}
	// On /rest an operation's first parameter, when it is an id, names the object in the path
	// (…/tag/id:<category>?~action=list-tags-for-category), wherever /api carries it.
	if p := g.op.Params; id == "" && g.namedByFirstParam() {
		if raw, ok := body[p[0].Name]; ok && json.Unmarshal(raw, &id) == nil {
			delete(body, p[0].Name)
		}
	}
	method := crud[g.op.Name]
	if g.boundByAction() {
		method = http.MethodPost
		query.Set("~action", g.legacyAction())
	}
	if method == http.MethodGet && len(body) > 0 {
		// A list's inputs go in the query string on /rest.
		for k, v := range body {
			var s string
			if json.Unmarshal(v, &s) == nil {
				query.Set(k, s)
			}
		}
		body = nil
	}
	target := g.legacyPath(id)
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var reqBody []byte
	if len(body) > 0 || method == http.MethodPost {
		// A POST carries an object even when every input went elsewhere (a tag's attached objects,
		// the tag in the path): the simulator decodes a body for every action, and fails on none.
		reqBody, _ = json.Marshal(body)
	}
	status, answer := f.sendLegacy(c, method, target, reqBody)
	if status/100 != 2 {
		named := id
		if len(g.op.PathVars) == 1 && named == "" { // a list's object, sent in the query string
			for variable := range g.op.PathVars {
				named = c.Path(variable)
			}
		}
		return nil, legacyError(status, answer, g, named)
	}
	var wrapped struct {
		Value json.RawMessage `json:"value"`
	}
	if len(bytes.TrimSpace(answer)) > 0 {
		if err := json.Unmarshal(answer, &wrapped); err != nil {
			return nil, fmt.Errorf("the inventory answered %s %s with %q: %w", method, target, answer, err)
		}
	}
	if g.op.Output == "void" {
		return nil, nil
	}
	t, err := idl.Default().Type(g.op.Output)
	if err != nil {
		return vapi.Raw(wrapped.Value), nil
	}
	if len(wrapped.Value) == 0 || string(wrapped.Value) == "null" {
		// The inventory leaves an empty list out of its answer, or answers it as null (the tag
		// categories of an inventory that has none).
		if t.Kind == idl.KindList || t.Kind == idl.KindSet {
			return vapi.Raw("[]"), nil
		}
	}
	if hasStructure(t) {
		// The simulator answers its own records, with fields of its own beside the reference's (a
		// library's items as Item, its subscribers as Subs): /api answers the declared ones.
		if plain, err := idl.PlainOfJSON(wrapped.Value); err == nil {
			var declared bytes.Buffer
			enc := json.NewEncoder(&declared)
			enc.SetEscapeHTML(false) // the text as the inventory wrote it
			if enc.Encode(idl.Default().Declared(t, plain)) == nil {
				return vapi.Raw(bytes.TrimSuffix(declared.Bytes(), []byte("\n"))), nil
			}
		}
	}
	return vapi.Raw(wrapped.Value), nil
}

// hasStructure reports whether a value of type t holds a structure, at any depth.
func hasStructure(t *idl.Type) bool {
	for ; t != nil; t = t.Elem {
		if t.Kind == idl.KindStruct || t.Key != nil && hasStructure(t.Key) {
			return true
		}
	}
	return false
}

// sendLegacy sends the /rest request for c to the inventory's vAPI handler in process.
func (f *Family) sendLegacy(c *vapi.Call, method, target string, body []byte) (int, []byte) {
	req := httptest.NewRequestWithContext(c.Ctx, method, target, bytes.NewReader(body))
	if in := c.Request; in != nil {
		// The inventory writes the URLs it hands out (an update session's upload endpoints, a
		// download session's files) for the scheme and host the request came to, as on /rest.
		req.Host, req.TLS = in.Host, in.TLS
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.deps.Inventory.VAPIHandler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// legacyError turns the inventory's /rest error into the vAPI error: its type when it names one,
// else the one its status stands for.
func legacyError(status int, answer []byte, g gatewayOperation, id string) error {
	var e struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(answer, &e)
	if t, ok := strings.CutPrefix(e.Type, idl.ErrorStructPrefix); ok && t != "" {
		errType := vapi.ErrorType(strings.ToUpper(t))
		return vapi.NewError(errType, "wcpd.inventory."+t,
			fmt.Sprintf("%s.%s failed: %s.", g.service, g.op.Name, strings.ReplaceAll(t, "_", " ")), g.service, g.op.Name)
	}
	switch status {
	case http.StatusNotFound:
		return vapi.NotFound(g.service, id)
	case http.StatusBadRequest:
		return vapi.NewError(vapi.ErrorInvalidArgument, "wcpd.inventory.invalid_argument",
			fmt.Sprintf("%s.%s refused its input.", g.service, g.op.Name), g.service, g.op.Name)
	case http.StatusUnauthorized:
		return vapi.NewError(vapi.ErrorUnauthenticated, "wcpd.unauthenticated.inventory", "The embedded inventory refused the session.")
	}
	return fmt.Errorf("the inventory answered %s.%s with %d: %s", g.service, g.op.Name, status, answer)
}
