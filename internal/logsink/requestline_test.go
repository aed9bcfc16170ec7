package logsink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestRequestLineIsWhatSlogWrites: the direct path writes, byte for byte, what slog's text and JSON
// handlers write for the same record, with the handler's attributes, for values that slog quotes
// or escapes and values it leaves bare, with and without an error; below the handler's level it
// writes nothing.
func TestRequestLineIsWhatSlogWrites(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 5, 6, 7_000_000, time.FixedZone("CET", 3600))
	lines := []RequestLine{
		{Time: at, RequestID: "4f1c2a7e-6d1b-4c3e-9a7f-2b8d5e6f7a01", Operation: "namespace_management.virtual_machine_classes.get",
			User: `VSPHERE.LOCAL\Administrator`, Method: "GET", Path: "/api/vcenter/namespace-management/virtual-machine-classes/small",
			Status: 200, Duration: 123456 * time.Nanosecond},
		{Time: at.Add(993 * time.Millisecond), RequestID: "r", Operation: "unresolved", User: "", Method: "POST",
			Path: "/api/a b=c", Status: 400, Duration: 2 * time.Second, Error: "INVALID_ARGUMENT"},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RequestID: `quote"d`, Operation: "tab\there", User: "Zoë@exämple",
			Method: "GET", Path: "/api/\u00a0nbsp/\u200bzero-width/\x7f/\xff", Status: 0, Duration: 0, Error: "ünïcode"},
		{Time: at, RequestID: "=", Operation: "new\nline", User: "日本", Method: "G", Path: "/", Status: -1, Duration: -time.Millisecond},
	}
	lines = append(lines, RequestLine{Time: at.Add(time.Nanosecond), RequestID: "\\back\\slash", Operation: "\r\x01\x1f",
		User: "line\u2028para\u2029", Method: "GET", Path: "/api/<html>&amp;", Status: 200, Duration: time.Hour, Error: `"quoted"`})
	formats := []struct {
		name      string
		direct    func(io.Writer, *slog.HandlerOptions) slog.Handler
		reference func(io.Writer, *slog.HandlerOptions) slog.Handler
	}{
		{"text", NewTextHandler, func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) }},
		{"JSON", NewJSONHandler, func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) }},
	}
	for _, f := range formats {
		for _, opts := range []*slog.HandlerOptions{nil, {Level: slog.LevelDebug}} {
			for _, attrs := range [][]slog.Attr{nil, {slog.String("component", "api")}, {slog.Int("n", 3), slog.String("s", "a b\"c")}} {
				var direct, generic bytes.Buffer
				h := f.direct(&direct, opts).WithAttrs(attrs)
				want := f.reference(&generic, opts).WithAttrs(attrs)
				for i := range lines {
					h.(*Handler).LogRequest(&lines[i])
					if err := want.Handle(context.Background(), lines[i].Record()); err != nil {
						t.Fatal(err)
					}
				}
				if direct.String() != generic.String() {
					t.Errorf("%s, attributes %v:\n got %s\nwant %s", f.name, attrs, direct.String(), generic.String())
				}
			}
		}

		var out bytes.Buffer
		quiet := f.direct(&out, &slog.HandlerOptions{Level: slog.LevelWarn})
		quiet.(*Handler).LogRequest(&lines[0])
		if out.Len() != 0 {
			t.Errorf("%s: at level WARN a request line was written: %s", f.name, out.String())
		}
		// A group has no direct path; slog writes its lines.
		if _, direct := f.direct(&out, nil).WithGroup("g").(*Handler); direct {
			t.Errorf("%s: a handler with a group kept the direct path", f.name)
		}
		if _, direct := f.direct(&out, &slog.HandlerOptions{AddSource: true}).(*Handler); direct {
			t.Errorf("%s: a handler that adds the source kept the direct path", f.name)
		}
	}
}

// BenchmarkRequestLine compares a request's line through slog's text and JSON handlers with the
// direct path, both writing to a Writer that discards.
func BenchmarkRequestLine(b *testing.B) {
	line := RequestLine{Time: time.Now(), RequestID: "4f1c2a7e-6d1b-4c3e-9a7f-2b8d5e6f7a01",
		Operation: "namespace_management.virtual_machine_classes.get", User: `VSPHERE.LOCAL\Administrator`, Method: "GET",
		Path: "/api/vcenter/namespace-management/virtual-machine-classes/best-effort-small", Status: 200, Duration: 123456}
	attrs := []slog.Attr{slog.String("component", "api")}
	for _, format := range []string{"text", "json"} {
		for _, path := range []string{"slog", "direct"} {
			b.Run(format+"/"+path, func(b *testing.B) {
				w := New(io.Discard)
				defer w.Close()
				h := NewTextHandler(w, nil).WithAttrs(attrs)
				if format == "json" {
					h = NewJSONHandler(w, nil).WithAttrs(attrs)
				}
				b.ReportAllocs()
				for b.Loop() {
					if path == "direct" {
						h.(*Handler).LogRequest(&line)
					} else {
						_ = h.Handle(context.Background(), line.Record())
					}
				}
			})
		}
	}
}
