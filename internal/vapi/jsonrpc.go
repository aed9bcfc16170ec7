package vapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	fastjson "github.com/segmentio/encoding/json"

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
	rpcInternalError  = -32603
)

// The vAPI security schemes a JSON-RPC request may authenticate with.
const (
	SchemeUserPass  = "com.vmware.vapi.std.security.user_pass"
	SchemeSessionID = "com.vmware.vapi.std.security.session_id"
)

// sessionService is the CIS session service, which the protocol serves itself: it makes and ends the
// sessions every other operation authenticates with.
const sessionService = "com.vmware.cis.session"

// rpcRequest is the JSON-RPC envelope, decoded in one pass with its params. The operation's input
// stays as its bytes: the operation's metadata types it (rpcCall), and an invoke with the same input
// as one before is not decoded again (rpcResolutions).
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  *rpcParams      `json:"params"`
	ID      json.RawMessage `json:"id"`
}

type rpcParams struct {
	ServiceID   string          `json:"serviceId"`
	OperationID string          `json:"operationId"`
	Input       json.RawMessage `json:"input"`
	Ctx         struct {
		SecurityCtx rpcSecurity `json:"securityCtx"`
	} `json:"ctx"`
}

// rpcSecurity is the fields of a security context wcpd reads; a scheme's others (a SAML token's)
// are not decoded.
type rpcSecurity struct {
	SchemeID  string `json:"schemeId"`
	SessionID string `json:"sessionId"`
	UserName  string `json:"userName"`
	Password  string `json:"password"`
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
	req, err := decodeEnvelope(body)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && !strings.HasPrefix(typeErr.Field, "params"):
		a.writeRPCProtocolError(x, nil, rpcInvalidRequest, "The request's "+typeErr.Field+" cannot be a JSON "+typeErr.Value+".")
		return
	case errors.As(err, &typeErr):
		a.writeRPCProtocolError(x, req.ID, rpcInvalidParams, typeErr.Field+" cannot be a JSON "+typeErr.Value+".")
		return
	case err != nil:
		a.writeRPCProtocolError(x, nil, rpcParseError, "The request is not JSON: "+err.Error())
		return
	}
	if req.JSONRPC != "2.0" || req.Method == "" || req.Params == nil {
		a.writeRPCProtocolError(x, nil, rpcInvalidRequest, `A JSON-RPC request needs "jsonrpc": "2.0", a method and params.`)
		return
	}
	if req.Method != "invoke" {
		a.writeRPCProtocolError(x, req.ID, rpcMethodNotFound, fmt.Sprintf("The method %q is not served; vAPI uses \"invoke\".", req.Method))
		return
	}
	params := req.Params
	if params.ServiceID == "" || params.OperationID == "" {
		a.writeRPCProtocolError(x, req.ID, rpcInvalidParams, "params must hold serviceId, operationId, input and ctx.")
		return
	}
	output, err := a.invokeRPC(x, params)
	if err != nil {
		a.writeRPCError(x, req.ID, err)
		return
	}
	if raw, ok := output.(json.RawMessage); ok {
		a.writeRPCOutput(x, req.ID, raw)
		return
	}
	a.writeRPC(x, req.ID, idl.Object{{Name: "output", Value: output}})
}

// decodeEnvelope decodes a JSON-RPC request. The envelope is decoded at every invoke, and the
// standard library's decoder took about a seventh of the process's CPU for it under load
// (docs/performance.md), so a request is first given to a faster decoder (decodeEnvelopeFast).
// What the answer to a refused request says is the standard library's: the request is decoded
// again by it, which names the field and value. Both refuse anything after the request's object.
func decodeEnvelope(body []byte) (rpcRequest, error) {
	if req, ok := decodeEnvelopeFast(body); ok {
		return req, nil
	}
	var req rpcRequest
	err := json.Unmarshal(body, &req)
	return req, err
}

// maxFastEnvelope is the longest request the fast decoder is given. It nests into arrays and
// objects by recursion, with no bound of its own, where the standard library refuses more than
// 10,000 levels: a request no longer than this cannot nest deeper than that (each level takes a
// byte), so the two still take the same requests, and a deeply nested one cannot grow a stack
// without bound. The SDKs' invokes are well under it.
const maxFastEnvelope = 10_000

// decodeEnvelopeFast decodes body with segmentio's drop-in decoder, which accepts and refuses the
// same requests as the standard library's and decodes them to the same values
// (FuzzEnvelopeDecodersAgree), about six times as fast. It reports false for a request it refused or
// was not given.
func decodeEnvelopeFast(body []byte) (rpcRequest, bool) {
	var req rpcRequest
	if len(body) > maxFastEnvelope || fastjson.Unmarshal(body, &req) != nil {
		return rpcRequest{}, false
	}
	return req, true
}

// invokeRPC runs one invoke and returns its output in JSON-RPC form.
func (a *API) invokeRPC(x *exchange, params *rpcParams) (any, error) {
	meta := idl.Default()
	mop, known := meta.Operation(params.ServiceID, params.OperationID)
	if params.ServiceID == sessionService {
		if !known {
			return nil, operationNotFound(params)
		}
		x.opID = sessionService + "." + params.OperationID
		return a.rpcSession(x, params, mop)
	}
	op, served := a.Registry.Lookup(params.ServiceID + "." + params.OperationID)
	if !served {
		return nil, operationNotFound(params)
	}
	// Only operations that exist name the request in logs and metrics: a client's made-up names
	// must not grow the metrics' label sets.
	x.opID = op.ID()
	if !known {
		return nil, NewError(ErrorUnsupported, "wcpd.jsonrpc.no_metadata",
			"wcpd has no interface metadata for "+op.ID()+", so it serves it on REST only.", op.ID())
	}
	var p auth.Principal
	if !op.Public {
		sess, err := a.rpcAuthenticate(x, params.Ctx.SecurityCtx)
		if err != nil {
			return nil, err
		}
		if err := a.authorize(sess.Principal, op); err != nil {
			return nil, err
		}
		p = sess.Principal
	}
	if !op.Implemented() {
		return nil, NewError(ErrorUnsupported, "wcpd.operation.not_implemented", "wcpd does not implement "+op.ID()+" yet.", op.ID())
	}
	call, err := a.rpcCallFor(x, op, mop, params, meta)
	if err != nil {
		return nil, err
	}
	call.Principal = p
	typed, err := a.answer(op, call, func(result any) ([]byte, error) { return a.rpcOutput(x, mop.Output, result) })
	if err != nil {
		return nil, err
	}
	return json.RawMessage(typed.(Raw)), nil
}

// operationNotFound is the vAPI error for an invoke of an operation wcpd does not serve.
func operationNotFound(params *rpcParams) *Error {
	return NewError(ErrorOperationNotFound, "wcpd.operation.not_found",
		fmt.Sprintf("No operation %s of service %s is served.", params.OperationID, params.ServiceID),
		params.OperationID, params.ServiceID)
}

// rpcCallFor is the call an invoke of op makes: from what the same input resolved to before, or
// else by decoding and typing the input (rpcCall), which it then keeps for the next invoke.
func (a *API) rpcCallFor(x *exchange, op *Operation, mop *idl.Operation, params *rpcParams, meta *idl.Metadata) (*Call, error) {
	if res, ok := a.rpcResolutions.get(params); ok {
		return &Call{Ctx: x.r.Context(), Op: op, Request: x.r, params: res.params, query: res.query, inputs: res.inputs}, nil
	}
	var input any
	if len(params.Input) > 0 {
		var err error
		// Numbers stay exact for the input's metadata to type them.
		if input, err = idl.PlainOfJSON(params.Input); err != nil {
			return nil, err // not reached: the envelope holding it was decoded
		}
	}
	call, err := rpcCall(x, op, mop, input, meta)
	if err == nil {
		a.rpcResolutions.put(params, rpcResolution{params: call.params, query: call.query, inputs: call.inputs})
	}
	return call, err
}

// rpcCall turns the operation-input structure into a call: path variables and query parameters as
// the REST binding names them, every other input as the plain JSON the REST body would hold.
func rpcCall(x *exchange, op *Operation, mop *idl.Operation, input any, meta *idl.Metadata) (*Call, error) {
	fields, ok := idl.OperationInputFields(input)
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
	call := &Call{Ctx: x.r.Context(), Op: op, Request: x.r, inputs: map[string]json.RawMessage{}}
	byParam := map[string]bool{}
	for variable, param := range mop.PathVars {
		byParam[param] = true
		call.params = append(call.params, PathParam{Name: variable, Value: scalarString(plainInputs[param])})
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

// rpcOutput types the handler's result by the operation's output type, straight from the REST
// form's JSON (idl.AppendTyped): no decoded or typed value is built on the way.
func (a *API) rpcOutput(x *exchange, outputType string, result any) ([]byte, error) {
	var raw []byte
	switch result.(type) {
	case Attachment:
		return nil, NewError(ErrorUnsupported, "wcpd.jsonrpc.attachment",
			"This operation answers a file, which the REST form serves; JSON-RPC cannot carry it.")
	case nil:
	default:
		var err error
		if raw, err = resultJSON(result); err != nil {
			return nil, err
		}
	}
	meta := idl.Default()
	t, err := meta.Type(outputType)
	if err != nil {
		return nil, err
	}
	out, err := meta.AppendTyped(make([]byte, 0, len(raw)+len(raw)/2+64), t, raw, "output")
	if err != nil {
		// The handler answered something its declared type cannot carry: a defect, logged in full.
		a.Logger.Error("answer does not fit the operation's output type", "operation", x.opID, "error", err)
		return nil, fmt.Errorf("encoding the answer of %s: %w", x.opID, err)
	}
	return out, nil
}

// rawOrNil hands typed output bytes on as the JSON they are, and an error as it is.
func rawOrNil(out []byte, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return json.RawMessage(out), nil
}

// typedOutput is an answer's plain JSON typed by the operation's output type, as JSON-RPC sends it.
func typedOutput(outputType string, plain any) (any, error) {
	meta := idl.Default()
	t, err := meta.Type(outputType)
	if err != nil {
		return nil, err
	}
	return meta.Encode(t, plain, "output")
}

// plainJSON is result as the REST form's JSON, decoded again with numbers kept exact.
func plainJSON(result any) (any, error) {
	switch v := result.(type) {
	case Raw:
		return idl.PlainOfJSON(v)
	case Attachment:
		return nil, NewError(ErrorUnsupported, "wcpd.jsonrpc.attachment",
			"This operation answers a file, which the REST form serves; JSON-RPC cannot carry it.")
	}
	return idl.Plain(result)
}

// rpcAuthenticate finds the caller from the request's security context: a session (with its id)
// for session_id, a principal alone for user_pass.
func (a *API) rpcAuthenticate(x *exchange, sc rpcSecurity) (Session, error) {
	switch sc.SchemeID {
	case SchemeSessionID:
		return a.session(x, sc.SessionID)
	case SchemeUserPass:
		p, err := a.Identity.Login(sc.UserName, sc.Password)
		if err != nil {
			return Session{}, LoginError(sc.UserName, err)
		}
		x.user, x.hasUser = p, true
		return Session{Principal: p}, nil
	case "":
		return Session{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.no_session",
			"This operation requires a security context: "+SchemeUserPass+" or "+SchemeSessionID+".")
	}
	return Session{}, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.scheme",
		"The security scheme "+strconv.Quote(sc.SchemeID)+" is not supported; use "+SchemeUserPass+" or "+SchemeSessionID+".", sc.SchemeID)
}

// rpcSession serves the CIS session service: create (user_pass) answers the new session's id as a
// SECRET; get and delete act on the session_id context's session.
func (a *API) rpcSession(x *exchange, params *rpcParams, mop *idl.Operation) (any, error) {
	want := SchemeSessionID
	if params.OperationID == "create" {
		want = SchemeUserPass
	}
	if params.Ctx.SecurityCtx.SchemeID != want {
		return nil, NewError(ErrorUnauthenticated, "wcpd.unauthenticated.scheme",
			params.OperationID+" of "+sessionService+" needs the "+want+" security context.", want)
	}
	sess, err := a.rpcAuthenticate(x, params.Ctx.SecurityCtx)
	if err != nil {
		return nil, err
	}
	switch params.OperationID {
	case "create":
		return rawOrNil(a.rpcOutput(x, mop.Output, a.Sessions.Create(sess.Principal).ID))
	case "delete":
		a.Sessions.Delete(sess.ID)
		return nil, nil
	}
	return rawOrNil(a.rpcOutput(x, mop.Output, sessionInfo(sess)))
}

func (a *API) writeRPC(x *exchange, id json.RawMessage, result any) {
	if err := a.writeRPCAnswer(x, id, "result", result); err != nil {
		a.Logger.Error("encoding a JSON-RPC answer", "operation", x.opID, "error", err)
		a.writeRPCProtocolError(x, id, rpcInternalError, "The answer could not be encoded.")
	}
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
	x.vapiError = "jsonrpc " + strconv.Itoa(code)
	_ = a.writeRPCAnswer(x, id, "error", idl.Object{{Name: "code", Value: json.Number(strconv.Itoa(code))}, {Name: "message", Value: message}})
}

// writeRPCAnswer writes the envelope with the request's id (null when it was not read) and member.
func (a *API) writeRPCAnswer(x *exchange, id json.RawMessage, member string, value any) error {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body, err := idl.AppendJSON(make([]byte, 0, 512), idl.Object{{Name: "jsonrpc", Value: "2.0"}, {Name: "id", Value: id}, {Name: member, Value: value}})
	if err != nil {
		return err
	}
	a.writeRPCBody(x, body)
	return nil
}

// writeRPCOutput writes a successful answer whose output is already encoded (a kept read's typed
// output is): the envelope is written around it, in the bytes writeRPC would write, without
// copying the output into an envelope of its own, which for a list of 100 namespaces (33 KB) cost
// an allocation of that size at every request.
func (a *API) writeRPCOutput(x *exchange, id json.RawMessage, output json.RawMessage) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	var buf [128]byte
	head := append(append(append(buf[:0], `{"jsonrpc":"2.0","id":`...), id...), `,"result":{"output":`...)
	h := x.w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(head) + len(output) + len(rpcOutputTail))}
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(head)
	_, _ = x.w.Write(output)
	_, _ = x.w.Write(rpcOutputTail)
}

// rpcOutputTail closes the result and the envelope writeRPCOutput opens.
var rpcOutputTail = []byte("}}")

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
		if plain, err = idl.PlainOfJSON(body); err != nil {
			return err
		}
	}
	// Each is typed, then read back from the wire's bytes, as the client sees them.
	onWire := func(enc any) (any, error) {
		raw, err := idl.AppendJSON(nil, enc)
		if err != nil {
			return nil, err
		}
		return idl.PlainOfJSON(raw)
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
	mop, ok := meta.OperationByID(opID)
	if !ok {
		return nil
	}
	enc, err := typedOutput(mop.Output, plain)
	if err != nil {
		return err
	}
	wire, err := onWire(enc)
	if err != nil {
		return err
	}
	t, err := meta.Type(mop.Output)
	if err != nil {
		return err
	}
	_, err = meta.Decode(t, wire, "output", true)
	return err
}

// DeclaresError reports whether the operation id declares the vAPI error type (e.g. NOT_FOUND) in
// its interface metadata; known is false for operations without metadata.
func DeclaresError(opID string, errorType string) (declared, known bool) {
	mop, ok := idl.Default().OperationByID(opID)
	if !ok {
		return false, false
	}
	return slices.Contains(mop.Errors, strings.ToLower(errorType)), true
}
