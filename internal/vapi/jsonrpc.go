package vapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi/idl"
)

// vAPI JSON-RPC 2.0 on POST /api, the protocol VMware's official SDKs speak by default
// (reference §9.1, §10). A request names a service and operation; it is dispatched to the same
// registry operation, privilege check and handler as the REST form, with its typed inputs turned
// into the REST form's plain JSON and the handler's answer typed by the operation's metadata
// (package idl). vAPI errors are answered as results (HTTP 200); the JSON-RPC error member is only
// for protocol errors.

// JSON-RPC protocol error codes.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
)

// The vAPI security schemes a JSON-RPC request may authenticate with.
const (
	SchemeUserPass  = "com.vmware.vapi.std.security.user_pass"
	SchemeSessionID = "com.vmware.vapi.std.security.session_id"
)

// sessionService is the CIS session service, which the protocol serves itself: it makes and ends the
// sessions every other operation authenticates with.
const sessionService = "com.vmware.cis.session"

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

type rpcParams struct {
	ServiceID   string         `json:"serviceId"`
	OperationID string         `json:"operationId"`
	Input       any            `json:"input"`
	Ctx         map[string]any `json:"ctx"`
}

type rpcProtocolError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// isJSONRPC reports whether r is addressed to the JSON-RPC endpoint: a POST to /api itself.
func isJSONRPC(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/api" || r.URL.Path == "/api/")
}

func (a *API) serveJSONRPC(x *exchange) {
	x.opID, x.rpc = "jsonrpc", true
	body, err := io.ReadAll(http.MaxBytesReader(&x.w, x.r.Body, MaxBodyBytes))
	if err != nil {
		a.writeRPCProtocolError(x, nil, rpcParseError, "The request body could not be read: "+err.Error())
		return
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		a.writeRPCProtocolError(x, nil, rpcParseError, "The request is not JSON: "+err.Error())
		return
	}
	if req.JSONRPC != "2.0" || req.Method == "" || len(req.Params) == 0 {
		a.writeRPCProtocolError(x, nil, rpcInvalidRequest, `A JSON-RPC request needs "jsonrpc": "2.0", a method and params.`)
		return
	}
	if req.Method != "invoke" {
		a.writeRPCProtocolError(x, req.ID, rpcMethodNotFound, fmt.Sprintf("The method %q is not served; vAPI uses \"invoke\".", req.Method))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(req.Params))
	dec.UseNumber()
	var params rpcParams
	if err := dec.Decode(&params); err != nil || params.ServiceID == "" || params.OperationID == "" {
		a.writeRPCProtocolError(x, req.ID, rpcInvalidParams, "params must hold serviceId, operationId, input and ctx.")
		return
	}
	output, err := a.invokeRPC(x, &params)
	if err != nil {
		a.writeRPCError(x, req.ID, err)
		return
	}
	a.writeRPC(x, req.ID, idl.Object{{Name: "output", Value: output}})
}

// invokeRPC runs one invoke and returns its output in JSON-RPC form.
func (a *API) invokeRPC(x *exchange, params *rpcParams) (any, error) {
	meta := idl.Default()
	id := params.ServiceID + "." + params.OperationID
	mop, known := meta.Operation(params.ServiceID, params.OperationID)
	if params.ServiceID == sessionService {
		if known {
			x.opID = id
		}
		return a.rpcSession(x, params, mop)
	}
	op, served := a.Registry.Lookup(id)
	// Logs and metrics name only operations that exist: a client's made-up names must not grow the
	// metrics' label sets.
	if served {
		x.opID = op.ID()
	}
	if !served {
		return nil, NewError(ErrorOperationNotFound, "wcpd.operation.not_found",
			fmt.Sprintf("No operation %s of service %s is served.", params.OperationID, params.ServiceID),
			params.OperationID, params.ServiceID)
	}
	if !known {
		return nil, NewError(ErrorUnsupported, "wcpd.jsonrpc.no_metadata",
			"wcpd has no interface metadata for "+x.opID+", so it serves it on REST only.", x.opID)
	}
	p, err := a.rpcAuthenticate(x, params.Ctx)
	if err != nil && !op.Public {
		return nil, err
	}
	if err := a.authorize(p, op); err != nil && !op.Public {
		return nil, err
	}
	if !op.Implemented() {
		return nil, NewError(ErrorUnsupported, "wcpd.operation.not_implemented", "wcpd does not implement "+op.ID()+" yet.", op.ID())
	}
	call, err := rpcCall(x, op, mop, params.Input, meta)
	if err != nil {
		return nil, err
	}
	call.Principal = p
	result, err := op.Handler(call)
	if err != nil {
		var ve *Error
		if !errors.As(err, &ve) {
			a.Logger.Error("operation failed", "operation", op.ID(), "error", err)
		}
		return nil, err
	}
	return a.rpcOutput(x, mop.Output, result)
}

// rpcCall turns the operation-input structure into a call: path variables and query parameters as
// the REST binding names them, every other input as the plain JSON the REST body would hold.
func rpcCall(x *exchange, op *Operation, mop *idl.Operation, input any, meta *idl.Metadata) (*Call, error) {
	fields, ok := operationInput(input)
	if !ok {
		return nil, NewError(ErrorInvalidRequest, "wcpd.jsonrpc.input",
			`The input must be {"STRUCTURE": {"operation-input": {…}}}.`)
	}
	var errs FieldErrors
	declared := map[string]bool{}
	plainInputs := map[string]any{}
	for _, p := range mop.Params {
		declared[p.Name] = true
		t, err := meta.Type(p.Type)
		if err != nil {
			return nil, err
		}
		raw, present := fields[p.Name]
		if !present && t.Kind != idl.KindOptional {
			errs.Missing(p.Name)
			continue
		}
		v, err := meta.Decode(t, raw, p.Name, false)
		if err != nil {
			var ve *idl.ValueError
			if errors.As(err, &ve) {
				errs.Add(ve.Path, compact(raw), ve.Reason)
				continue
			}
			return nil, err
		}
		if v != nil {
			plainInputs[p.Name] = v
		}
	}
	for name := range fields {
		if !declared[name] {
			errs.Add(name, compact(fields[name]), "the operation "+op.ID()+" has no such input")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	call := &Call{Ctx: x.r.Context(), Op: op, Request: x.r, params: map[string]string{}, inputs: map[string]json.RawMessage{}}
	byParam := map[string]bool{}
	for variable, param := range mop.PathVars {
		byParam[param] = true
		call.params[variable] = scalarString(plainInputs[param])
	}
	for key, param := range mop.Query {
		byParam[param] = true
		if v, ok := plainInputs[param]; ok {
			if call.query == nil {
				call.query = url.Values{}
			}
			call.query.Set(key, scalarString(v))
		}
	}
	for name, v := range plainInputs {
		if byParam[name] {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		call.inputs[name] = raw
	}
	return call, nil
}

// operationInput returns the fields of {"STRUCTURE":{"operation-input":{…}}}.
func operationInput(input any) (map[string]any, bool) {
	outer, ok := input.(map[string]any)
	if !ok {
		return nil, false
	}
	named, ok := outer["STRUCTURE"].(map[string]any)
	if !ok || len(outer) != 1 {
		return nil, false
	}
	fields, ok := named["operation-input"].(map[string]any)
	return fields, ok && len(named) == 1
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// rpcOutput types the handler's result by the operation's output type.
func (a *API) rpcOutput(x *exchange, outputType string, result any) (any, error) {
	meta := idl.Default()
	t, err := meta.Type(outputType)
	if err != nil {
		return nil, err
	}
	plain, err := plainJSON(result)
	if err != nil {
		return nil, err
	}
	out, err := meta.Encode(t, plain, "output")
	if err != nil {
		// The handler answered something its declared type cannot carry: a defect, logged in full.
		a.Logger.Error("answer does not fit the operation's output type", "operation", x.opID, "error", err)
		return nil, fmt.Errorf("encoding the answer of %s: %w", x.opID, err)
	}
	return out, nil
}

// plainJSON is result as the REST form's JSON, decoded again with numbers kept exact.
func plainJSON(result any) (any, error) {
	var raw []byte
	switch v := result.(type) {
	case nil:
		return nil, nil
	case Raw:
		raw = v
	case json.RawMessage:
		raw = v
	case Attachment:
		return nil, NewError(ErrorUnsupported, "wcpd.jsonrpc.attachment",
			"This operation answers a file, which the REST form serves; JSON-RPC cannot carry it.")
	default:
		var err error
		if raw, err = json.Marshal(result); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// rpcAuthenticate finds the caller from the request's security context.
func (a *API) rpcAuthenticate(x *exchange, ctx map[string]any) (auth.Principal, error) {
	sc, _ := ctx["securityCtx"].(map[string]any)
	scheme, _ := sc["schemeId"].(string)
	switch scheme {
	case SchemeSessionID:
		id, _ := sc["sessionId"].(string)
		sess, ok := a.Sessions.Touch(id)
		if !ok || id == "" {
			return auth.Principal{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.session_invalid",
				"The session is unknown or has expired; log in again.")
		}
		x.user, x.hasUser = sess.Principal, true
		return sess.Principal, nil
	case SchemeUserPass:
		user, _ := sc["userName"].(string)
		pass, _ := sc["password"].(string)
		p, err := a.Identity.Login(user, pass)
		if err != nil {
			return auth.Principal{}, LoginError(user, err)
		}
		x.user, x.hasUser = p, true
		return p, nil
	case "":
		return auth.Principal{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_session",
			"This operation requires a security context: "+SchemeUserPass+" or "+SchemeSessionID+".")
	}
	return auth.Principal{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.scheme",
		"The security scheme "+strconv.Quote(scheme)+" is not supported; use "+SchemeUserPass+" or "+SchemeSessionID+".", scheme)
}

// rpcSession serves the CIS session service: create answers the new session's id as a SECRET.
func (a *API) rpcSession(x *exchange, params *rpcParams, mop *idl.Operation) (any, error) {
	if mop == nil {
		return nil, NewError(ErrorOperationNotFound, "wcpd.operation.not_found",
			fmt.Sprintf("No operation %s of service %s is served.", params.OperationID, params.ServiceID),
			params.OperationID, params.ServiceID)
	}
	sc, _ := params.Ctx["securityCtx"].(map[string]any)
	scheme, _ := sc["schemeId"].(string)
	switch params.OperationID {
	case "create":
		if scheme != SchemeUserPass {
			return nil, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_credentials",
				"Log in with the "+SchemeUserPass+" security context (userName and password).")
		}
		p, err := a.rpcAuthenticate(x, params.Ctx)
		if err != nil {
			return nil, err
		}
		return a.rpcOutput(x, mop.Output, a.Sessions.Create(p).ID)
	case "get", "delete":
		if scheme != SchemeSessionID {
			return nil, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_session",
				"This operation needs the "+SchemeSessionID+" security context.")
		}
		p, err := a.rpcAuthenticate(x, params.Ctx)
		if err != nil {
			return nil, err
		}
		id, _ := sc["sessionId"].(string)
		if params.OperationID == "delete" {
			a.Sessions.Delete(id)
			return nil, nil
		}
		sess, _ := a.Sessions.Touch(id)
		return a.rpcOutput(x, mop.Output, SessionInfo{User: p.SessionUser(),
			CreatedTime: NewDateTime(sess.Created), LastAccessed: NewDateTime(sess.LastAccessed)})
	}
	return nil, NewError(ErrorOperationNotFound, "wcpd.operation.not_found",
		fmt.Sprintf("No operation %s of service %s is served.", params.OperationID, params.ServiceID),
		params.OperationID, params.ServiceID)
}

func (a *API) writeRPC(x *exchange, id json.RawMessage, result any) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body, err := idl.AppendJSON(make([]byte, 0, 512), idl.Object{{Name: "jsonrpc", Value: "2.0"}, {Name: "id", Value: id}, {Name: "result", Value: result}})
	if err != nil {
		a.Logger.Error("encoding a JSON-RPC answer", "operation", x.opID, "error", err)
		a.writeRPCProtocolError(x, id, rpcInvalidParams, "The answer could not be encoded.")
		return
	}
	a.writeRPCBody(x, body)
}

// writeRPCError answers a vAPI error as the result's error member, typed by its error structure.
func (a *API) writeRPCError(x *exchange, id json.RawMessage, err error) {
	e := AsError(err)
	x.vapiError = string(e.Type)
	plain, perr := plainJSON(e)
	obj, _ := plain.(map[string]any)
	var enc any
	if perr == nil {
		enc, perr = idl.Default().EncodeError(obj)
	}
	if perr != nil {
		a.Logger.Error("encoding a vAPI error", "operation", x.opID, "error", perr)
		enc, _ = idl.Default().EncodeError(map[string]any{"error_type": string(ErrorInternalServerError)})
	}
	a.writeRPC(x, id, idl.Object{{Name: "error", Value: enc}})
}

func (a *API) writeRPCProtocolError(x *exchange, id json.RawMessage, code int, message string) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	x.vapiError = "jsonrpc " + strconv.Itoa(code)
	body, _ := json.Marshal(idl.Object{{Name: "jsonrpc", Value: "2.0"}, {Name: "id", Value: id},
		{Name: "error", Value: rpcProtocolError{Code: code, Message: message}}})
	a.writeRPCBody(x, body)
}

// writeRPCBody writes a JSON-RPC answer: always HTTP 200, as the official runtime takes any other
// status for a transport failure.
func (a *API) writeRPCBody(x *exchange, body []byte) {
	h := x.w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(body)
}

// CheckAnswer reports whether body, a REST answer of the operation id, fits the operation's vAPI
// output type: it is typed as JSON-RPC answers it, then decoded strictly as the official client
// decodes it. An empty body (a 204) is the answer of a void operation. An error answer (a vAPI error body) is checked as an error. Operations without
// metadata (wcpd's extensions) have nothing to check.
func CheckAnswer(opID string, body []byte, isError bool) error {
	meta := idl.Default()
	var plain any
	if len(body) > 0 {
		var err error
		if plain, err = plainJSON(Raw(body)); err != nil {
			return err
		}
	}
	// Each is typed, then read back from the wire's bytes, as the client sees them.
	onWire := func(enc any) (any, error) {
		raw, err := json.Marshal(enc)
		if err != nil {
			return nil, err
		}
		return plainJSON(Raw(raw))
	}
	if isError {
		obj, _ := plain.(map[string]any)
		enc, err := meta.EncodeError(obj)
		if err != nil {
			return err
		}
		wire, err := onWire(enc)
		if err != nil {
			return err
		}
		inner, _ := wire.(map[string]any)
		_, err = meta.DecodeError(inner["ERROR"], "error", true)
		return err
	}
	i := strings.LastIndex(opID, ".")
	if i < 0 {
		return nil
	}
	mop, ok := meta.Operation(opID[:i], opID[i+1:])
	if !ok {
		return nil
	}
	t, err := meta.Type(mop.Output)
	if err != nil {
		return err
	}
	enc, err := meta.Encode(t, plain, "output")
	if err != nil {
		return err
	}
	wire, err := onWire(enc)
	if err != nil {
		return err
	}
	_, err = meta.Decode(t, wire, "output", true)
	return err
}

// DeclaresError reports whether the operation id declares the vAPI error type (e.g. NOT_FOUND) in
// its interface metadata; known is false for operations without metadata.
func DeclaresError(opID string, errorType string) (declared, known bool) {
	i := strings.LastIndex(opID, ".")
	if i < 0 {
		return false, false
	}
	mop, ok := idl.Default().Operation(opID[:i], opID[i+1:])
	if !ok {
		return false, false
	}
	return slices.Contains(mop.Errors, strings.ToLower(errorType)), true
}
