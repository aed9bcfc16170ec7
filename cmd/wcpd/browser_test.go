package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
)

// updateScreenshotsEnv, set to 1, makes TestBrowser write the screenshots the browser tests take
// into docs/images (the documentation's), instead of a temporary directory.
const updateScreenshotsEnv = "WCPD_UPDATE_SCREENSHOTS"

// TestBrowser runs the web UI's browser tests (web/e2e/*.test.mjs, `node --test`) against a wcpd
// started as a user starts it, driving Debian's Chromium through playwright-core (docs/ui.md). It
// skips, saying what is missing, without node, Chromium or web/node_modules — unless CI is set,
// where .ci/run installs them and a skip would hide the tests.
func TestBrowser(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so the browser tests may not be skipped; .ci/run installs it)", what)
		}
		t.Skip(what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed (apt-get install nodejs npm)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing("/usr/bin/chromium is missing (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "playwright-core")); err != nil {
		missing("web/node_modules/playwright-core is missing (npm ci --prefix web)")
	}

	screenshots := t.TempDir()
	if os.Getenv(updateScreenshotsEnv) == "1" {
		screenshots = filepath.Join(root, "docs", "images")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	w := startServe(t, dataDir)

	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second)) // time left to report
		defer cancel()
	}
	// One file at a time: the files share the server, and two of them enabling a Supervisor on the
	// same cluster at once would fail one (node's default runs files in parallel on bigger machines).
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "web/e2e/")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"WCPD_URL="+w.url,
		"WCPD_ADMIN_PASSWORD="+servertest.AdminPassword,
		"WCPD_SCREENSHOTS="+screenshots,
		// addUser in helpers.mjs runs `wcpd user add` on the server's data dir: this test binary
		// acts as wcpd.
		"WCPD_COMMAND="+os.Args[0], "WCPD_TEST_AS_COMMAND=1", "WCPD_DATA_DIR="+dataDir,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test web/e2e/: %v\n%s", err, out)
	}
	t.Logf("node --test web/e2e/ (screenshots in %s):\n%s", screenshots, out)
}
