package logsink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestRequestLineIsWhatSlogWrites: the direct path writes, byte for byte, what slog's text handler
// writes for the same record, with the handler's attributes, for values that slog quotes and
// values it leaves bare, with and without an error; below the handler's level it writes nothing.
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
	for _, opts := range []*slog.HandlerOptions{nil, {Level: slog.LevelDebug}} {
		for _, attrs := range [][]slog.Attr{nil, {slog.String("component", "api")}, {slog.Int("n", 3), slog.String("s", "a b")}} {
			var direct, generic bytes.Buffer
			h := NewTextHandler(&direct, opts).WithAttrs(attrs)
			want := slog.NewTextHandler(&generic, opts).WithAttrs(attrs)
			for i := range lines {
				h.(*TextHandler).LogRequest(&lines[i])
				if err := want.Handle(context.Background(), lines[i].Record()); err != nil {
					t.Fatal(err)
				}
			}
			if direct.String() != generic.String() {
				t.Errorf("attributes %v:\n got %s\nwant %s", attrs, direct.String(), generic.String())
			}
		}
	}

	var out bytes.Buffer
	quiet := NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})
	quiet.(*TextHandler).LogRequest(&lines[0])
	if out.Len() != 0 {
		t.Errorf("at level WARN a request line was written: %s", out.String())
	}
	// A group has no direct path; slog writes its lines.
	if _, direct := NewTextHandler(&out, nil).WithGroup("g").(*TextHandler); direct {
		t.Error("a handler with a group kept the direct path")
	}
	if _, direct := NewTextHandler(&out, &slog.HandlerOptions{AddSource: true}).(*TextHandler); direct {
		t.Error("a handler that adds the source kept the direct path")
	}
}

// BenchmarkRequestLine compares a request's line through slog's text handler with the direct path,
// both writing to a Writer that discards.
func BenchmarkRequestLine(b *testing.B) {
	line := RequestLine{Time: time.Now(), RequestID: "4f1c2a7e-6d1b-4c3e-9a7f-2b8d5e6f7a01",
		Operation: "namespace_management.virtual_machine_classes.get", User: `VSPHERE.LOCAL\Administrator`, Method: "GET",
		Path: "/api/vcenter/namespace-management/virtual-machine-classes/best-effort-small", Status: 200, Duration: 123456}
	attrs := []slog.Attr{slog.String("component", "api")}
	for _, path := range []string{"slog", "direct"} {
		b.Run(path, func(b *testing.B) {
			w := New(io.Discard)
			defer w.Close()
			h := NewTextHandler(w, nil).WithAttrs(attrs)
			b.ReportAllocs()
			for b.Loop() {
				if path == "direct" {
					h.(*TextHandler).LogRequest(&line)
				} else {
					_ = h.Handle(context.Background(), line.Record())
				}
			}
		})
	}
}
