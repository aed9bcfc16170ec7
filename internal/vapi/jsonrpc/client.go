// Package jsonrpc is a vAPI JSON-RPC 2.0 client built from the interface metadata (package idl). It
// behaves as the official SDKs' runtime does (reference §9.1, §10): every input is sent typed, with
// unset optional ones as {"OPTIONAL": null}; answers are decoded strictly, so an answer the official
// client would refuse is an error here too. wcpd's tests and benchmarks drive the JSON-RPC endpoint
// with it.
package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wcpd/wcpd/internal/vapi"
	"github.com/wcpd/wcpd/internal/vapi/idl"
)

// Client calls one server's POST /api.
type Client struct {
	URL  string // the server's base URL, e.g. https://127.0.0.1:8443
	HTTP *http.Client
	Meta *idl.Metadata

	// Security context: a session id after Login, else user and password on every call.
	sessionID      string
	user, password string
	nextID         atomic.Uint64
}

// New returns a client of the server at base using hc, with the generated metadata.
func New(base string, hc *http.Client) *Client {
	return &Client{URL: strings.TrimSuffix(base, "/"), HTTP: hc, Meta: idl.Default()}
}

// Error is a vAPI error answered as a result: its error structure's name and plain content.
type Error struct {
	Struct string         // e.g. com.vmware.vapi.std.errors.not_found
	Type   string         // error_type, e.g. NOT_FOUND
	Plain  map[string]any // messages, data, error_type
}

func (e *Error) Error() string {
	msg := e.Type
	if list, ok := e.Plain["messages"].([]any); ok && len(list) > 0 {
		if m, ok := list[0].(map[string]any); ok {
			msg += ": " + fmt.Sprint(m["default_message"])
		}
	}
	return msg
}

// ProtocolError is a JSON-RPC error member (parse error, invalid request, …).
type ProtocolError struct {
	Code    int
	Message string
	ID      json.RawMessage
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message)
}

// UsePassword authenticates every call with user and password (the user_pass scheme).
func (c *Client) UsePassword(user, password string) {
	c.user, c.password, c.sessionID = user, password, ""
}

// UseSession authenticates every call with a session id.
func (c *Client) UseSession(id string) { c.sessionID = id }

// SessionID is the session Login made, if any.
func (c *Client) SessionID() string { return c.sessionID }

// Login creates a session with user and password and uses it from then on.
func (c *Client) Login(ctx context.Context, user, password string) error {
	c.UsePassword(user, password)
	out, err := c.Invoke(ctx, "com.vmware.cis.session", "create", nil)
	if err != nil {
		return err
	}
	id, ok := out.(string)
	if !ok {
		return fmt.Errorf("session create answered %v, not a session id", out)
	}
	c.UseSession(id)
	return nil
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.Invoke(ctx, "com.vmware.cis.session", "delete", nil)
	if err == nil {
		c.sessionID = ""
	}
	return err
}

// Invoke calls service.operation with inputs in plain form (the REST form's JSON values, by
// parameter name) and returns its output in plain form. A vAPI error is an *Error, a protocol error
// a *ProtocolError.
func (c *Client) Invoke(ctx context.Context, service, operation string, inputs map[string]any) (any, error) {
	op, ok := c.Meta.Operation(service, operation)
	if !ok {
		return nil, fmt.Errorf("no metadata for %s.%s", service, operation)
	}
	fields := make(idl.Object, 0, len(op.Params))
	for _, p := range op.Params {
		t, err := c.Meta.Type(p.Type)
		if err != nil {
			return nil, err
		}
		in, err := idl.Plain(inputs[p.Name])
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", p.Name, err)
		}
		v, err := c.Meta.Encode(t, in, p.Name)
		if err != nil {
			return nil, fmt.Errorf("input %w", err)
		}
		fields = append(fields, idl.Member{Name: p.Name, Value: v})
	}
	for name := range inputs {
		if !hasParam(op, name) {
			return nil, fmt.Errorf("%s.%s has no input %q", service, operation, name)
		}
	}
	answer, err := c.Send(ctx, service, operation, idl.OperationInput(fields))
	if err != nil {
		return nil, err
	}
	t, err := c.Meta.Type(op.Output)
	if err != nil {
		return nil, err
	}
	return c.decodeResult(answer, t)
}

// Send posts one invoke with input already in JSON-RPC form and returns the answer's result member.
func (c *Client) Send(ctx context.Context, service, operation string, input any) (map[string]any, error) {
	sc := map[string]any{"schemeId": vapi.SchemeUserPass, "userName": c.user, "password": c.password}
	if c.sessionID != "" {
		sc = map[string]any{"schemeId": vapi.SchemeSessionID, "sessionId": c.sessionID}
	}
	id := strconv.FormatUint(c.nextID.Add(1)-1, 10)
	req := map[string]any{"jsonrpc": "2.0", "method": "invoke", "id": id, "params": map[string]any{
		"serviceId": service, "operationId": operation, "input": input,
		"ctx": map[string]any{"appCtx": map[string]any{"opId": id}, "securityCtx": sc},
	}}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := c.Post(ctx, body, map[string]string{"vapi-service": service, "vapi-operation": operation})
	if err != nil {
		return nil, err
	}
	if res.Result == nil {
		return nil, fmt.Errorf("the answer to %s.%s has no result", service, operation)
	}
	return res.Result, nil
}

// Answer is a decoded JSON-RPC answer.
type Answer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  map[string]any  `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Post sends a raw JSON-RPC body and decodes the answer: a non-200 status is a transport error, as
// for the official runtime, and a JSON-RPC error member a *ProtocolError.
func (c *Client) Post(ctx context.Context, body []byte, headers map[string]string) (*Answer, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/api", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	res, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("transport error: HTTP %d: %s", res.StatusCode, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var a Answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w: %s", err, raw)
	}
	if a.JSONRPC != "2.0" {
		return nil, fmt.Errorf(`the answer lacks "jsonrpc": "2.0": %s`, raw)
	}
	if a.Error != nil {
		return &a, &ProtocolError{Code: a.Error.Code, Message: a.Error.Message, ID: a.ID}
	}
	return &a, nil
}

func (c *Client) decodeResult(result map[string]any, t *idl.Type) (any, error) {
	if e, ok := result["error"]; ok {
		inner, isObj := e.(map[string]any)
		errBody, wrapped := inner["ERROR"]
		if !isObj || !wrapped || len(inner) != 1 {
			return nil, fmt.Errorf("result.error is not {\"ERROR\": …}: %v", e)
		}
		plainErr, err := c.Meta.DecodeError(errBody, "error", true)
		if err != nil {
			return nil, fmt.Errorf("decoding the error: %w", err)
		}
		var name string
		for n := range errBody.(map[string]any) {
			name = n
		}
		errType, _ := plainErr["error_type"].(string)
		return nil, &Error{Struct: name, Type: errType, Plain: plainErr}
	}
	out, ok := result["output"]
	if !ok {
		return nil, fmt.Errorf("the result has neither output nor error")
	}
	v, err := c.Meta.Decode(t, out, "output", true)
	if err != nil {
		return nil, fmt.Errorf("the answer does not decode strictly: %w", err)
	}
	return v, nil
}

func hasParam(op *idl.Operation, name string) bool {
	for _, p := range op.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}
