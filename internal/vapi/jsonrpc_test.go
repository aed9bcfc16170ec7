package vapi

import (
	"encoding/json"
	"net/http/httptest"
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
