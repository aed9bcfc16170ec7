package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var testIndex = "<!doctype html><title>wcpd</title><script type=module src=/ui/assets/index-abc123.js></script>"

// testScript is large enough to be worth compressing.
var testScript = "console.log('wcpd');\n" + strings.Repeat("export const x = 1;\n", 200)

func testHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := Handler(fstest.MapFS{
		"index.html":              {Data: []byte(testIndex)},
		"favicon.svg":             {Data: []byte("<svg/>")},
		"assets/index-abc123.js":  {Data: []byte(testScript)},
		"assets/index-def456.css": {Data: []byte("body{margin:0}")},
		"assets/font-0a1b.woff2":  {Data: []byte("wOF2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServesFilesWithTypesAndCaching(t *testing.T) {
	t.Parallel()
	h := testHandler(t)
	for _, c := range []struct {
		path, contentType, cache, body string
	}{
		{"/ui/", "text/html; charset=utf-8", "no-cache", testIndex},
		{"/ui/index.html", "text/html; charset=utf-8", "no-cache", testIndex},
		{"/ui/assets/index-abc123.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", testScript},
		{"/ui/assets/index-def456.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{margin:0}"},
		{"/ui/assets/font-0a1b.woff2", "font/woff2", "public, max-age=31536000, immutable", "wOF2"},
		{"/ui/favicon.svg", "image/svg+xml", "no-cache", "<svg/>"},
		// The client's routes answer index.html, so a reload or a link to a page works.
		{"/ui/namespaces/demo", "text/html; charset=utf-8", "no-cache", testIndex},
		{"/ui/supervisors/domain-c9/services", "text/html; charset=utf-8", "no-cache", testIndex},
	} {
		rec := get(t, h, "GET", c.path)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != c.contentType ||
			rec.Header().Get("Cache-Control") != c.cache || rec.Body.String() != c.body {
			t.Errorf("GET %s: %d, type %q, cache %q, body %.40q; want 200 %q %q %.40q", c.path, rec.Code,
				rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"), rec.Body.String(), c.contentType, c.cache, c.body)
		}
	}
	if rec := get(t, h, "HEAD", "/ui/assets/index-abc123.js"); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestMissingAssetIsNotFoundAndOtherMethodsAreRefused(t *testing.T) {
	t.Parallel()
	h := testHandler(t)
	// An old hashed name (a page loaded before an upgrade) must not get HTML cached as a script.
	if rec := get(t, h, "GET", "/ui/assets/index-old999.js"); rec.Code != 404 || strings.Contains(rec.Body.String(), "<title>") ||
		rec.Header().Get("Cache-Control") != "" {
		t.Errorf("missing asset: %d cache %q %q", rec.Code, rec.Header().Get("Cache-Control"), rec.Body.String())
	}
	if rec := get(t, h, "POST", "/ui/"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec := get(t, h, "GET", "/ui?x=1")
	if rec.Code != 301 || rec.Header().Get("Location") != "/ui/?x=1" {
		t.Errorf("GET /ui: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	h := testHandler(t)
	for _, path := range []string{"/ui/", "/ui/namespaces", "/ui/assets/index-abc123.js", "/ui/assets/gone.js"} {
		hdr := get(t, h, "GET", path).Header()
		csp := hdr.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		// Scripts come from wcpd's files alone: no inline script, no eval.
		for _, directive := range strings.Split(csp, ";") {
			if d := strings.TrimSpace(directive); strings.HasPrefix(d, "script-src") && d != "script-src 'self'" {
				t.Errorf("GET %s: %q allows more than wcpd's own scripts", path, d)
			}
		}
		if strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: the policy allows eval: %q", path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("X-Frame-Options") != "DENY" || hdr.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("GET %s: headers %v", path, hdr)
		}
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	t.Parallel()
	h := testHandler(t)
	rec := get(t, h, "GET", "/ui/assets/index-abc123.js", "Accept-Encoding", "br, gzip")
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Vary") != "Accept-Encoding" || rec.Body.Len() >= len(testScript) {
		t.Fatalf("gzip: encoding %q, vary %q, %d bytes of %d", rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"), rec.Body.Len(), len(testScript))
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != testScript {
		t.Fatal("the gzipped body is not the file")
	}
	if rec := get(t, h, "GET", "/ui/assets/index-abc123.js", "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != testScript {
		t.Fatalf("gzip;q=0 got encoding %q", rec.Header().Get("Content-Encoding"))
	}
	// index.html is revalidated by its ETag, cheaply.
	etag := get(t, h, "GET", "/ui/").Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	if rec := get(t, h, "GET", "/ui/namespaces", "If-None-Match", etag); rec.Code != 304 || rec.Body.Len() != 0 {
		t.Fatalf("revalidation with the current ETag: %d", rec.Code)
	}
}

// TestEmbeddedBuildHasAnIndex: the committed build (or the placeholder) is embedded and served.
func TestEmbeddedBuildHasAnIndex(t *testing.T) {
	t.Parallel()
	h, err := Handler(Dist())
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, h, "GET", "/ui/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("embedded index.html: %d %.200s", rec.Code, rec.Body.String())
	}
}
