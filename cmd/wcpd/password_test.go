package main

import (
	"io"
	"strings"
	"testing"
)

// TestPasswordVariable checks the one password story of the client commands (login, analyze
// --server, user add|passwd): WCPD_PASSWORD when it is set and not empty, else what the user types.
// An empty variable, as a script that clears it leaves, is no password.
func TestPasswordVariable(t *testing.T) {
	for _, tc := range []struct{ env, stdin, want string }{
		{env: "from-env", stdin: "typed\n", want: "from-env"},
		{env: "", stdin: "typed\n", want: "typed"},
	} {
		t.Setenv("WCPD_PASSWORD", tc.env)
		got, err := loginPassword(strings.NewReader(tc.stdin), io.Discard, "devops@vsphere.local")
		if err != nil || got != tc.want {
			t.Errorf("WCPD_PASSWORD=%q, stdin %q: got %q, %v; want %q", tc.env, tc.stdin, got, err, tc.want)
		}
	}
	t.Setenv("WCPD_PASSWORD", "")
	if _, err := loginPassword(strings.NewReader(""), io.Discard, "devops@vsphere.local"); err == nil || !strings.Contains(err.Error(), "WCPD_PASSWORD") {
		t.Errorf("no variable and nothing typed: %v, want an error naming WCPD_PASSWORD", err)
	}
}

// TestNotReadyReasonIsNeverEmpty: `wcpd login` says why a Supervisor's API server is not ready
// even when the server reports no problem (it is starting), instead of ending the line with ": ".
func TestNotReadyReasonIsNeverEmpty(t *testing.T) {
	if got := notReadyReason(""); !strings.Contains(got, "starting") {
		t.Errorf("no problem reported: %q, want that it is starting", got)
	}
	if got := notReadyReason("port 6443 is taken"); got != "port 6443 is taken" {
		t.Errorf("a problem reported: %q, want it as is", got)
	}
}
