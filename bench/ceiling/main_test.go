package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A recorded answer is replayed with its status, headers and body; the length is the body's and
// the recorded date is not kept.
func TestReplaySendsTheRecordedAnswer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "answers.json")
	recorded := `[{"method": "GET", "path": "/api/vcenter/namespaces/instances?x=1", "status": 404,
		"header": {"content-type": ["application/json"], "X-Request-Id": ["abc-1"], "Date": ["Mon, 01 Jan 2024 00:00:00 GMT"], "Content-Length": ["999"]},
		"body": "eyJlcnJvcl90eXBlIjoiTk9UX0ZPVU5EIn0="}]`
	if err := os.WriteFile(file, []byte(recorded), 0o644); err != nil {
		t.Fatal(err)
	}
	answers, err := loadAnswers(file)
	if err != nil {
		t.Fatal(err)
	}
	h := replay(answers)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/vcenter/namespaces/instances?x=1", nil))
	if w.Code != 404 || w.Body.String() != `{"error_type":"NOT_FOUND"}` {
		t.Errorf("replayed %d %s", w.Code, w.Body)
	}
	if got := w.Header(); got.Get("Content-Type") != "application/json" || got.Get("X-Request-Id") != "abc-1" ||
		got.Get("Content-Length") != "26" || got.Get("Date") != "" {
		t.Errorf("replayed headers %v", got)
	}

	// Another method, path or query is not the recorded request.
	for _, target := range []string{"/api/vcenter/namespaces/instances?x=2", "/api/vcenter/namespaces/instances"} {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != 404 || !strings.Contains(w.Body.String(), "no answer was recorded for GET "+target) {
			t.Errorf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/api/vcenter/namespaces/instances?x=1", nil))
	if w.Code != 404 {
		t.Errorf("POST of the recorded GET's path answered %d", w.Code)
	}
}

func TestLoadAnswersNamesTheBadEntry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "answers.json")
	if err := os.WriteFile(file, []byte(`[{"method": "GET", "path": "/ok", "status": 200}, {"method": "GET", "path": "no-slash", "status": 200}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadAnswers(file); err == nil || !strings.Contains(err.Error(), `answer 1`) || !strings.Contains(err.Error(), `"no-slash"`) {
		t.Errorf("got %v, want an error naming answer 1 and its path", err)
	}
}
