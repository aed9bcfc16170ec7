package vapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/vapi"
)

type fuzzMode string

func (fuzzMode) EnumValues() []string { return []string{"ON", "OFF"} }

// fuzzSpec has every kind of member the strict decoder handles.
type fuzzSpec struct {
	Name     string              `json:"name"`
	Count    *int64              `json:"count,omitempty"`
	Ratio    float64             `json:"ratio,omitempty"`
	Mode     fuzzMode            `json:"mode,omitempty"`
	Modes    map[fuzzMode]string `json:"modes,omitempty"`
	When     *time.Time          `json:"when,omitempty"`
	Raw      json.RawMessage     `json:"raw,omitempty"`
	Any      any                 `json:"any,omitempty"`
	Children []fuzzChild         `json:"children,omitempty"`
	Tags     []string            `json:"tags,omitempty" vapi:"alias=labels"`
	Limits   map[string]int64    `json:"limits,omitempty"`
}

type fuzzChild struct {
	ID   string     `json:"id"`
	Next *fuzzChild `json:"next,omitempty"`
}

// FuzzDecodeJSON: the strict decoder never panics, and what it accepts it accepts again once
// encoded.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name": "a"}`,
		`{"name": "a", "count": 3, "mode": "ON", "modes": {"OFF": "x"}, "when": "2026-01-02T15:04:05.000Z"}`,
		`{"name": "a", "children": [{"id": "c", "next": {"id": "d"}}], "labels": ["x"], "limits": {"cpu": 1}}`,
		`{"name": "a", "children": [null], "tags": [null, "x"]}`,
		`{"name": "a", "raw": {"_typeName": "X"}, "any": [1, {"b": null}]}`,
		`{"name": 7, "count": 1.5, "mode": "MAYBE", "extra": true}`,
		`[]`, `null`, `{"name": "a", "count": 99999999999999999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v fuzzSpec
		if err := vapi.DecodeJSON(data, "spec", &v); err != nil {
			if vapi.AsError(err).Type != vapi.ErrorInvalidArgument {
				t.Fatalf("a refusal that is not INVALID_ARGUMENT: %v", err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			return // e.g. an Any holding what JSON cannot encode again; not the decoder's concern
		}
		var w fuzzSpec
		if err := vapi.DecodeJSON(again, "spec", &w); err != nil {
			t.Fatalf("accepted %s, but not its own encoding %s: %v", data, again, err)
		}
	})
}
