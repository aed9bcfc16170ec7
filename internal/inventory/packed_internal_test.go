package inventory

import (
	"bytes"
	"testing"
)

// TestPackedObjectsReadBack: what packObject stores reads back as the JSON it was, through a
// reader reused from an earlier read; a value stored as JSON (before objects were deflated) reads
// as it is, and a damaged one fails rather than reading as something else.
func TestPackedObjectsReadBack(t *testing.T) {
	for _, data := range []string{`{"_typeName":"ResourcePool","name":"a"}`, `{"_typeName":"Folder","name":"b","childType":["Folder"]}`} {
		packed := packObject([]byte(data))
		if bytes.Equal(packed, []byte(data)) || !isZlib(packed) {
			t.Fatalf("%s was stored as %q", data, packed)
		}
		got, err := unpackObject(packed)
		if err != nil || string(got) != data {
			t.Fatalf("%s read back as %q, %v", data, got, err)
		}
	}
	if got, err := unpackObject([]byte(`{"name":"plain"}`)); err != nil || string(got) != `{"name":"plain"}` {
		t.Fatalf("plain JSON read back as %q, %v", got, err)
	}
	packed := packObject([]byte(`{"name":"damaged"}`))
	packed[len(packed)-1] ^= 0xff // the checksum no longer matches
	if got, err := unpackObject(packed); err == nil {
		t.Fatalf("a damaged object read back as %q", got)
	}
}
