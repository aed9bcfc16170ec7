package drs

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderTableShowsBarsEntitlementsAndWarnings(t *testing.T) {
	res, err := Analyze(seedNamespaces("a", "b", "c", "d", "e", "f"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := RenderTable(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	find := func(section, prefix string) string {
		inSection := false
		for _, l := range lines {
			if strings.HasPrefix(l, section) {
				inSection = true
			}
			if inSection && strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no line %q in section %s:\n%s", prefix, section, out)
		return ""
	}
	if !strings.HasPrefix(out, "CPU: capacity 60.00 GHz, reserved 0 MHz, 2000 MHz per vCPU\n") {
		t.Errorf("CPU header: %q", lines[0])
	}
	pool := find("MEMORY", "Namespaces ")
	if !strings.Contains(pool, "100.00% ████████████████████") || !strings.Contains(pool, "126.14 GB") {
		t.Errorf("Namespaces row: %q", pool)
	}
	// 14.29% of the shares: three cells of twenty; 18.02 GB.
	vm := find("MEMORY", "  SupervisorControlPlaneVM (1)")
	for _, want := range []string{"245,760", " 14.29% ███░░░░░░░░░░░░░░░░░", "18.02 GB", "SHARES"} {
		if !strings.Contains(vm, want) {
			t.Errorf("control-plane VM row lacks %q: %q", want, vm)
		}
	}
	if !strings.Contains(out, "\nWARNINGS\n- [memory LOW_SHARE] Namespaces/a holds 9.52% of the memory shares") {
		t.Errorf("warnings section missing or wrong:\n%s", out)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderTableReportsWriteErrors(t *testing.T) {
	res, err := Analyze(seedNamespaces("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := RenderTable(failingWriter{}, res); err == nil || err.Error() != "disk full" {
		t.Errorf("RenderTable to a failing writer: %v", err)
	}
}
