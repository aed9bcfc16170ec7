// Package ui serves wcpd's web UI at /ui/ on wcpd's own listener: the front end built from web/
// into dist/ (committed, so `go run ./cmd/wcpd serve` needs no build step) and embedded in the
// binary. It owns only the static side — files, caching, the fallback to index.html for the
// client's routes and the security headers of UI pages; the UI talks to the same /api the CLI
// uses, with the session cookie of internal/vapi's UI session service (docs/ui.md).
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// dist is the built front end; `npm run build --prefix web` writes it.
//
//go:embed all:dist
var dist embed.FS

// Prefix is where the UI is served.
const Prefix = "/ui/"

// Dist is the built front end, index.html at its root.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot refuse it
	}
	return sub
}

// Header values of UI answers.
const (
	// contentSecurityPolicy lets a page load scripts, styles, images, fonts and API answers only
	// from wcpd itself. Styles also allow inline ones: Mantine writes its theme's CSS variables in a
	// <style> element and components set style attributes. No inline script is allowed.
	contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
		"form-action 'self'; frame-ancestors 'none'"
	// immutable is for the files under assets/: their names carry a hash of their content, so a
	// changed file is a new name and a browser may keep each for a year without asking.
	immutable = "public, max-age=31536000, immutable"
	// revalidate is for index.html: it names the current assets, so the browser asks every time
	// (cheaply, by ETag).
	revalidate = "no-cache"
)

// assetsDir holds the hashed files.
const assetsDir = "assets/"

// Handler serves the front end in fsys (Dist() in wcpd) under Prefix: its files as they are, and
// index.html for every other path under Prefix so the client's routes survive a reload or a link.
// A missing file under assets/ answers 404 instead: HTML in place of a script would be cached as
// that script. The files are read once, here.
func Handler(fsys fs.FS) (http.Handler, error) {
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h.files[name] = &file{body: body, contentType: typeOf(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web UI files: %w", err)
	}
	return h, nil
}

type handler struct {
	files map[string]*file // by path within the front end; never changed after Handler
}

// file is one file of the front end as served: its bytes, type, ETag and, for text, a gzipped copy
// made when first asked for.
type file struct {
	body        []byte
	contentType string
	etag        string

	gzipOnce sync.Once
	gzipped  []byte // nil when compressing does not pay
}

// compressible types are gzipped; images and fonts are compressed already.
func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json") || strings.Contains(contentType, "svg")
}

// gzipBody is the file gzipped, or nil when that does not pay.
func (f *file) gzipBody() []byte {
	f.gzipOnce.Do(func() {
		if !compressible(f.contentType) || len(f.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		if buf.Len() < len(f.body)*9/10 {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// extensionTypes are the types of the files a Vite build makes, fixed here so that the answer does
// not depend on the machine's /etc/mime.types.
var extensionTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

func typeOf(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := extensionTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "The web UI answers GET and HEAD only.", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := h.files[name]
	switch {
	case f != nil && strings.HasPrefix(name, assetsDir):
		hdr.Set("Cache-Control", immutable)
	case f != nil && name != "index.html":
		// Other files at the root (a favicon, say) keep their names across builds.
		hdr.Set("Cache-Control", revalidate)
	case strings.HasPrefix(name, assetsDir):
		http.NotFound(w, r)
		return
	default:
		hdr.Set("Cache-Control", revalidate)
		if f = h.files["index.html"]; f == nil {
			http.Error(w, "This wcpd was built without its web UI (internal/ui/dist is empty).", http.StatusNotFound)
			return
		}
	}
	f.serve(w, r)
}

// serve writes f, gzipped when the client takes it, with ETag revalidation and ranges handled by
// http.ServeContent.
func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	body, etag := f.body, f.etag
	if gz := f.gzipBody(); gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hdr.Set("Content-Encoding", "gzip")
			// The compressed representation is another entity: its own ETag.
			body, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether r's Accept-Encoding lists gzip with a non-zero weight.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
