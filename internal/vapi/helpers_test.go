package vapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wcpd/wcpd/internal/clock"
)

func testAPI(reg *Registry, id Identity) *API {
	return &API{
		Registry: reg,
		Sessions: NewSessions(clock.Real{}, time.Hour),
		Identity: id,
		Logger:   slog.New(slog.DiscardHandler),
		Metrics:  NewMetrics(prometheus.NewRegistry()),
	}
}

func login(t *testing.T, base, user, password string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/session", nil)
	req.SetBasicAuth(user, password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("login: %d %s", res.StatusCode, raw)
	}
	var token string
	if err := json.Unmarshal(raw, &token); err != nil {
		t.Fatalf("login body %s: %v", raw, err)
	}
	return token
}
