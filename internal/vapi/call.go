package vapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
)

// Call is one invocation of an operation: who calls, the path parameters, and the inputs, decoded on
// demand with the same rules for /api and /rest.
type Call struct {
	Ctx       context.Context
	Op        *Operation
	Principal auth.Principal
	// Legacy is true for the /rest protocol.
	Legacy  bool
	Request *http.Request

	params PathParams
	query  url.Values
	body   []byte
	obj    map[string]json.RawMessage // body as an object, parsed lazily
	objErr error
	// inputs holds, for a JSON-RPC call, every input that is neither a path variable nor a query
	// parameter, by name, as the plain JSON the REST body would carry.
	inputs map[string]json.RawMessage
}

// NewCall builds a call outside HTTP (tests, other protocols).
func NewCall(ctx context.Context, op *Operation, p auth.Principal, params map[string]string, query url.Values, body []byte) *Call {
	var pp PathParams
	for _, name := range slices.Sorted(maps.Keys(params)) {
		pp = append(pp, PathParam{Name: name, Value: params[name]})
	}
	return &Call{Ctx: ctx, Op: op, Principal: p, params: pp, query: query, body: body}
}

// PathParam is one path parameter of a call: its name in the operation's template and its value.
type PathParam struct{ Name, Value string }

// PathParams are a call's path parameters. A slice rather than a map: a path has one to three, and
// a request that builds no map spends less on them than on a single map insert.
type PathParams []PathParam

// Get returns the named parameter's value, or "" when the call has none of that name.
func (p PathParams) Get(name string) string {
	for _, param := range p {
		if param.Name == name {
			return param.Value
		}
	}
	return ""
}

// Path returns the path parameter as named in the operation's template (e.g. "supervisorService").
func (c *Call) Path(name string) string { return c.params.Get(name) }

// Query returns a named query parameter, or "" when absent.
func (c *Call) Query(name string) string { return c.query.Get(name) }

// BindHeader decodes the input param that REST carries in the request header header (a string);
// over JSON-RPC it is an input like the others. False when it is absent.
func (c *Call) BindHeader(header, param string, dst any) (bool, error) {
	if c.inputs != nil {
		return c.BindOptional(param, dst)
	}
	if c.Request == nil || c.Request.Header.Get(header) == "" {
		return false, nil
	}
	raw, err := json.Marshal(c.Request.Header.Get(header))
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(raw, dst)
}

func (c *Call) hasBody() bool {
	b := bytes.TrimSpace(c.body)
	return len(b) > 0 && !bytes.Equal(b, []byte("null"))
}

func (c *Call) object() (map[string]json.RawMessage, error) {
	if c.obj == nil && c.objErr == nil {
		c.objErr = json.Unmarshal(c.body, &c.obj)
		if c.obj == nil {
			c.obj = map[string]json.RawMessage{}
		}
	}
	return c.obj, c.objErr
}

// Bind decodes the required input name into dst, wherever this operation carries it.
func (c *Call) Bind(name string, dst any) error {
	ok, err := c.BindOptional(name, dst)
	if err == nil && !ok {
		var errs FieldErrors
		errs.Missing(name)
		return errs.Err()
	}
	return err
}

// BindOptional decodes the optional input name into dst and reports whether it was given. The body
// parameter is the body itself on /api and {"<name>": …} on /rest (either form is accepted on /rest);
// a wrapped input is {"<name>": …} in the body, or, for operations that allow it, the bare body, or
// exploded query parameters.
func (c *Call) BindOptional(name string, dst any) (bool, error) {
	if c.inputs != nil {
		raw, ok := c.inputs[name]
		if !ok || isNull(raw) {
			return false, nil
		}
		return true, DecodeJSON(raw, name, dst)
	}
	switch {
	case name == c.Op.Body:
		if !c.hasBody() {
			return false, nil
		}
		if c.Legacy {
			if raw, ok := c.single(name); ok {
				return true, DecodeJSON(raw, name, dst)
			}
		}
		return true, DecodeJSON(c.body, name, dst)
	case contains(c.Op.Wrapped, name):
		if c.hasBody() {
			if raw, ok := c.single(name); ok {
				return !isNull(raw), DecodeJSON(raw, name, dst)
			}
			if c.Op.BareBodyToo {
				return true, DecodeJSON(c.body, name, dst)
			}
			if _, err := c.object(); err != nil {
				return false, malformed("", err)
			}
			return false, NewError(ErrorInvalidArgument, "wcpd.invalid_argument.body",
				fmt.Sprintf("The request body must be an object holding %q.", name), name)
		}
		return c.bindQuery(name, dst)
	}
	panic(fmt.Sprintf("vapi: %s has no input %q", c.Op.ID(), name))
}

// single returns the value of key when the body is an object whose only key is key.
func (c *Call) single(key string) (json.RawMessage, bool) {
	obj, err := c.object()
	if err != nil || len(obj) != 1 {
		return nil, false
	}
	raw, ok := obj[key]
	return raw, ok
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bindQuery builds the input from exploded form query parameters: each field of dst's struct is its
// own parameter, lists repeat the key. Parameters that name no field are left to other inputs.
func (c *Call) bindQuery(name string, dst any) (bool, error) {
	t := reflect.TypeOf(dst).Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		v := c.query.Get(name)
		if v == "" {
			return false, nil
		}
		return true, decodeValue(queryScalar(t, v), name, dst)
	}
	obj := map[string]any{}
	for _, f := range fieldsOf(t) {
		vals, ok := c.query[f.name]
		if !ok {
			for _, a := range f.aliases {
				if vals, ok = c.query[a]; ok {
					break
				}
			}
		}
		if !ok {
			continue
		}
		ft := t.FieldByIndex(f.index).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			arr := make([]any, 0, len(vals))
			for _, v := range vals {
				for _, part := range strings.Split(v, ",") {
					arr = append(arr, queryScalar(ft.Elem(), part))
				}
			}
			obj[f.name] = arr
		} else {
			obj[f.name] = queryScalar(ft, vals[0])
		}
	}
	if len(obj) == 0 {
		return false, nil
	}
	return true, decodeValue(obj, name, dst)
}

// queryScalar turns a query string value into the raw JSON value the decoder expects for t, so that
// type errors are reported the same way as for bodies.
func queryScalar(t reflect.Type, v string) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		switch strings.ToLower(v) {
		case "true":
			return true
		case "false":
			return false
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return json.Number(v)
	}
	return v
}
