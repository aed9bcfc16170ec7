package vapi

import (
	"encoding/json"
	"time"
)

// DateTime is a vAPI DateTime: UTC with millisecond precision, e.g. "2026-11-21T10:04:05.000Z".
type DateTime struct{ time.Time }

// DateTimeLayout is the wire layout of DateTime.
const DateTimeLayout = "2006-01-02T15:04:05.000Z"

// NewDateTime wraps t.
func NewDateTime(t time.Time) DateTime { return DateTime{t} }

// MarshalJSON writes the vAPI layout.
func (d DateTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.UTC().Format(DateTimeLayout))
}

// UnmarshalJSON accepts any RFC 3339 time.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}
