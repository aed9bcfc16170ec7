package vapi

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/wcpd/wcpd/internal/vapi/idl"
)

// TestRPCOutputIsTheEnvelopeWriteRPCWrites: an answer whose output is already encoded is written
// around the output rather than copied into an envelope, and must reach the client as the same
// bytes, with the same length, as the envelope built whole: for the ids clients send (strings,
// numbers, none) and one longer than the buffer the envelope's head starts in.
func TestRPCOutputIsTheEnvelopeWriteRPCWrites(t *testing.T) {
	api := testAPI(NewRegistry(), roleIdentity{})
	output := json.RawMessage(`[{"STRUCTURE":{"com.vmware.vcenter.namespaces.instances.summary":{"namespace":"alpha"}}}]`)
	for _, id := range []string{`"1"`, `7`, ``, `"` + strings.Repeat("x", 200) + `"`} {
		whole, pieces := httptest.NewRecorder(), httptest.NewRecorder()
		api.writeRPC(&exchange{w: statusRecorder{ResponseWriter: whole}}, json.RawMessage(id), idl.Object{{Name: "output", Value: output}})
		api.writeRPCOutput(&exchange{w: statusRecorder{ResponseWriter: pieces}}, json.RawMessage(id), output)
		if pieces.Code != whole.Code || pieces.Body.String() != whole.Body.String() ||
			pieces.Header().Get("Content-Length") != whole.Header().Get("Content-Length") ||
			pieces.Header().Get("Content-Type") != whole.Header().Get("Content-Type") {
			t.Fatalf("id %s: written around the output: %d %v %s; built whole: %d %v %s", id,
				pieces.Code, pieces.Header(), pieces.Body, whole.Code, whole.Header(), whole.Body)
		}
	}
}

// FuzzEnvelopeDecodersAgree: the envelope's fast decoder (decodeEnvelopeFast) takes exactly the
// requests the standard library's decoder accepts, up to its length bound, and decodes them to the
// same values, so that taking it changes nothing a client can see. The seeds are the corners where
// JSON decoders are known to differ: duplicate and case-folded member names, null over a value,
// invalid UTF-8, control characters and escapes in strings, numbers out of range, trailing data,
// nesting at the standard library's depth limit.
func FuzzEnvelopeDecodersAgree(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","method":"invoke","id":"1","params":{"serviceId":"com.vmware.vcenter.namespaces.instances","operationId":"list",` +
			`"input":{"STRUCTURE":{"operation-input":{}}},"ctx":{"appCtx":{"opId":"1"},"securityCtx":{"schemeId":"com.vmware.vapi.std.security.session_id","sessionId":"s"}}}}`,
		`{"id":1}`, `{"id":1,"id":null}`, `{"jsonrpc":"2.0","params":null}`, `{"ID":"x","Params":{"ServiceID":"a"}}`,
		`{"method":"a","METHOD":"b"}`, `{"params":{"serviceId":"a"},"params":{"operationId":"b"}}`,
		`{"params":{"serviceId":"a","serviceId":null}}`, `{"params":{"input":1,"input":null}}`,
		`{"params":{"ſerviceId":"x"}}`, `{"params":{"\u017fERVICEID":"x"}}`, "{\"method\":\"\xf6\"}", "{\"\x11\":{}}",
		"{\"method\":\"a\tb\"}", `{"id":"\ud800"}`, `{"params":{"ctx":{"appCtx":{"opId":[1e999]}}}}`,
		`{"params":{"serviceId":1}}`, `{"id":[1,}`, `{"method":"invoke"} {}`, `{"params":{"input":{"a":01}}}`,
		// Nesting: 4,997 levels within the fast decoder's length bound; 10,000 and 10,001, past it
		// (the standard library's limit and one more), so that a longer bound fails here.
		`{"id":` + strings.Repeat("[", 4_996) + strings.Repeat("]", 4_996) + "}",
		`{"params":{"input":` + strings.Repeat("[", 9_998) + strings.Repeat("]", 9_998) + "}}",
		`{"params":{"input":` + strings.Repeat("[", 9_999) + strings.Repeat("]", 9_999) + "}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, taken := decodeEnvelopeFast(body)
		var std rpcRequest
		stdErr := json.Unmarshal(body, &std)
		if len(body) <= maxFastEnvelope && taken != (stdErr == nil) {
			t.Fatalf("%q: the fast decoder took it: %v; the standard library says %v", body, taken, stdErr)
		}
		if taken && !reflect.DeepEqual(fast, std) { // params too: DeepEqual follows the pointer
			t.Fatalf("%q: the fast decoder made %+v (params %+v), the standard library %+v (params %+v)", body, fast, fast.Params, std, std.Params)
		}
	})
}

// TestADeeplyNestedInvokeIsRefused: a request nested deeper than JSON decoders allow (an operation
// input some 8 million levels deep, 16 MB long) is refused with the standard library's words, as a
// parse error naming the depth. The fast decoder recurses without bound: given this request, it
// would exhaust the goroutine's stack and stop the process (here, the test binary).
func TestADeeplyNestedInvokeIsRefused(t *testing.T) {
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "list", func(*Call) (any, error) { return []any{}, nil })
	api := testAPI(reg, roleIdentity{})
	deep := MaxBodyBytes/2 - 100
	body := `{"jsonrpc":"2.0","method":"invoke","id":"1","params":{"serviceId":"com.vmware.vcenter.namespaces.instances",` +
		`"operationId":"list","input":` + strings.Repeat("[", deep) + strings.Repeat("]", deep) + `}}`
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest("POST", "/api", strings.NewReader(body)))
	var answer struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	if answer.Error.Code != rpcParseError || !strings.Contains(answer.Error.Message, "exceeded max depth") {
		t.Fatalf("a request nested %d deep: want a parse error naming the depth, got %+v", deep, answer.Error)
	}
}
