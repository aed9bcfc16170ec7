package logsink

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Handler is slog's text or JSON handler with a direct path for the line every API request writes
// (LogRequest). slog formats a record generically, attribute by attribute through its Value kinds,
// which cost about as much again as the rest of a small read's own work; the request line has a
// fixed shape, so it is appended to a buffer field by field, in exactly the bytes slog's handler
// would write for the same record (TestRequestLineIsWhatSlogWrites). Every other record goes to
// slog's handler.
type Handler struct {
	slog.Handler
	json bool // JSON lines (slog.JSONHandler's); text otherwise
	w    io.Writer
	// mu, shared with the handlers derived by WithAttrs, lets one line at a time reach w; nil
	// when w is a Writer, which takes each line whole.
	mu *sync.Mutex
	// attrs are the attributes added by WithAttrs, as slog writes them (" key=value" or
	// `,"key":value` each).
	attrs string
}

// NewTextHandler returns a handler writing text lines to w as slog.NewTextHandler(w, opts) does.
// Options other than Level (a source position, attributes rewritten) are not supported by the
// direct path: with them LogRequest hands the line to slog.
func NewTextHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(slog.NewTextHandler(w, opts), false, w, opts)
}

// NewJSONHandler returns a handler writing JSON lines to w as slog.NewJSONHandler(w, opts) does,
// with the same direct path and the same limits as NewTextHandler.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(slog.NewJSONHandler(w, opts), true, w, opts)
}

func newHandler(h slog.Handler, json bool, w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts != nil && (opts.AddSource || opts.ReplaceAttr != nil) {
		return h
	}
	lh := &Handler{Handler: h, json: json, w: w}
	if _, ours := w.(*Writer); !ours {
		lh.mu = &sync.Mutex{} // a Writer takes each line whole; another writer may not
	}
	return lh
}

// WithAttrs is slog's, keeping the direct path: the attributes are formatted once, by slog.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	only := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
			return slog.Attr{} // only the attributes themselves
		}
		return a
	}}
	var formatter slog.Handler = slog.NewTextHandler(&b, only)
	if h.json {
		formatter = slog.NewJSONHandler(&b, only)
	}
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "", 0)
	r.AddAttrs(attrs...)
	_ = formatter.Handle(context.Background(), r)
	formatted := strings.TrimSuffix(b.String(), "\n")
	if h.json {
		formatted = strings.TrimSuffix(strings.TrimPrefix(formatted, "{"), "}")
	}
	next := *h
	next.Handler = h.Handler.WithAttrs(attrs)
	if formatted != "" {
		sep := " "
		if h.json {
			sep = ","
		}
		next.attrs = h.attrs + sep + formatted
	}
	return &next
}

// WithGroup is slog's; lines of a group take slog's generic path.
func (h *Handler) WithGroup(name string) slog.Handler { return h.Handler.WithGroup(name) }

// RequestLine is what an API request's log line says, in this order.
type RequestLine struct {
	Time                                     time.Time
	RequestID, Operation, User, Method, Path string
	Status                                   int
	Duration                                 time.Duration
	Error                                    string // left out when empty
}

// Record is the line as a slog record, message "request", for handlers without a direct path.
func (l *RequestLine) Record() slog.Record {
	attrs := [8]slog.Attr{slog.String("request_id", l.RequestID), slog.String("operation", l.Operation),
		slog.String("user", l.User), slog.String("method", l.Method), slog.String("path", l.Path),
		slog.Int("status", l.Status), slog.Duration("duration", l.Duration)}
	n := 7
	if l.Error != "" {
		attrs[n] = slog.String("error", l.Error)
		n++
	}
	r := slog.NewRecord(l.Time, slog.LevelInfo, "request", 0)
	r.AddAttrs(attrs[:n]...)
	return r
}

// lineBuffers holds the buffers request lines are formatted in.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// LogRequest writes the request's line at level INFO if the handler writes that level.
func (h *Handler) LogRequest(l *RequestLine) {
	if !h.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	bp := lineBuffers.Get().(*[]byte)
	var b []byte
	if h.json {
		b = h.appendJSONLine((*bp)[:0], l)
	} else {
		b = h.appendTextLine((*bp)[:0], l)
	}
	if h.mu != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
	}
	_, _ = h.w.Write(b) // a log destination that fails has nowhere to report it
	*bp = b
	lineBuffers.Put(bp)
}

// appendTextLine appends the line as slog's text handler writes it.
func (h *Handler) appendTextLine(b []byte, l *RequestLine) []byte {
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, l.Time)
	b = append(b, " level=INFO msg=request"...)
	b = append(b, h.attrs...)
	b = appendTextAttr(b, " request_id=", l.RequestID)
	b = appendTextAttr(b, " operation=", l.Operation)
	b = appendTextAttr(b, " user=", l.User)
	b = appendTextAttr(b, " method=", l.Method)
	b = appendTextAttr(b, " path=", l.Path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, " duration="...)
	b = append(b, l.Duration.String()...)
	if l.Error != "" {
		b = appendTextAttr(b, " error=", l.Error)
	}
	return append(b, '\n')
}

// appendJSONLine appends the line as slog's JSON handler writes it: the time in RFC 3339 with
// its nanoseconds, the duration in nanoseconds.
func (h *Handler) appendJSONLine(b []byte, l *RequestLine) []byte {
	b = append(b, `{"time":"`...)
	b = l.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request"`...)
	b = append(b, h.attrs...)
	b = appendJSONAttr(b, `,"request_id":`, l.RequestID)
	b = appendJSONAttr(b, `,"operation":`, l.Operation)
	b = appendJSONAttr(b, `,"user":`, l.User)
	b = appendJSONAttr(b, `,"method":`, l.Method)
	b = appendJSONAttr(b, `,"path":`, l.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(l.Duration), 10)
	if l.Error != "" {
		b = appendJSONAttr(b, `,"error":`, l.Error)
	}
	return append(b, "}\n"...)
}

// appendRFC3339Millis is slog's time format in text: RFC 3339 with exactly three digits of milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano drops trailing zeros: a tenth of a millisecond more keeps four digits, and the
	// fourth is dropped.
	b = t.Truncate(time.Millisecond).Add(time.Millisecond/10).AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendTextAttr appends key (with its separator and '=') and value as slog's text handler writes
// a string: as is, or quoted when it is empty or holds a space, '=', '"', a control character, or
// a rune that is not printable.
func appendTextAttr(b []byte, key, value string) []byte {
	b = append(b, key...)
	if needsQuoting(value) {
		return strconv.AppendQuote(b, value)
	}
	return append(b, value...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendJSONAttr appends key (with its separator and ':') and value as a JSON string the way
// slog's JSON handler escapes it: '"', '\\' and control characters escaped (\n, \r, \t, or
// \u00XX), an invalid UTF-8 byte written as \ufffd, U+2028 and U+2029 escaped, nothing else.
func appendJSONAttr(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, '"')
	start := 0
	for i := 0; i < len(value); {
		c := value[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, value[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(value[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, value[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, value[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, value[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
