package inventory

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestVAPISessionIsRenewedWhenTheSimulatorForgetsIt deletes the internal
// session behind the proxy's back; the next request must still succeed.
func TestVAPISessionIsRenewedWhenTheSimulatorForgetsIt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv, err := Start(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()

	old, err := inv.vapi.currentSession()
	if err != nil {
		t.Fatal(err)
	}
	logout := httptest.NewRequest(http.MethodDelete, "/rest/com/vmware/cis/session", nil)
	logout.Header.Set(vapiSessionHeader, old)
	inv.vapi.sim.ServeHTTP(httptest.NewRecorder(), logout)

	// The simulator now rejects the old session...
	probe := httptest.NewRequest(http.MethodGet, "/rest/com/vmware/content/library", nil)
	probe.Header.Set(vapiSessionHeader, old)
	rec := httptest.NewRecorder()
	inv.vapi.sim.ServeHTTP(rec, probe)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("simulator still accepts the deleted session: %d", rec.Code)
	}

	// ...and the proxy notices, logs in again and answers.
	for _, body := range []string{"", `{"spec":{"name":"wcpd-vm-images"}}`} {
		method, path := http.MethodGet, "/rest/com/vmware/content/library"
		if body != "" {
			method, path = http.MethodPost, "/rest/com/vmware/content/library?~action=find"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		rec = httptest.NewRecorder()
		inv.VAPIHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01") {
			t.Errorf("%s %s after the session was deleted: %d %s", method, path, rec.Code, rec.Body)
		}
		if body == "" {
			// Delete the renewed session too, so the POST has to replay its body.
			current, _ := inv.vapi.currentSession()
			if current == old {
				t.Fatal("session was not renewed")
			}
			logout := httptest.NewRequest(http.MethodDelete, "/rest/com/vmware/cis/session", nil)
			logout.Header.Set(vapiSessionHeader, current)
			inv.vapi.sim.ServeHTTP(httptest.NewRecorder(), logout)
		}
	}
}

func TestK8sCompliantName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"wcpd-gold":                   "wcpd-gold",
		"vSAN Default Storage Policy": "vsan-default-storage-policy",
		"-Gold (Tier 1)-":             "0-gold-tier-1-0",
		"x.y":                         "x.y",
	} {
		if got := k8sCompliantName(in); got != want {
			t.Errorf("k8sCompliantName(%q) = %q, want %q", in, got, want)
		}
	}
}
