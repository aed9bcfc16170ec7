package main

import (
	"strings"
	"testing"
)

// A run of some scenarios replaces their sections and keeps the rest where they were: running the
// size scenario alone must not drop the read tables of an earlier full run.
func TestMergeReportReplacesOnlyTheSectionsARunProduced(t *testing.T) {
	old := "# Benchmarks\n\nold preamble\n\n" +
		"## Against vcsim and the ceiling\n\nold http\n\n" +
		"## Every read operation\n\nold reads\n\n" +
		"## At size\n\nold size\n\n" +
		"## Soak\n\nold soak\n"
	fresh := "# Benchmarks\n\nnew preamble\n\n" +
		"## Start-up to ready\n\nnew startup\n\n" +
		"## At size\n\nnew size\n"
	got := mergeReport(old, fresh)
	want := "# Benchmarks\n\nnew preamble\n" +
		"\n## Against vcsim and the ceiling\n\nold http\n" +
		"\n## Every read operation\n\nold reads\n" +
		"\n## Start-up to ready\n\nnew startup\n" +
		"\n## At size\n\nnew size\n" +
		"\n## Soak\n\nold soak\n"
	if got != want {
		t.Fatalf("merged report:\n%s\nwant:\n%s", got, want)
	}

	// A section alone (the pods scenario writes only its own) keeps the old preamble.
	got = mergeReport(old, "## vSphere Pods\n\npods\n")
	if !strings.HasPrefix(got, "# Benchmarks\n\nold preamble\n") || !strings.Contains(got, "\n## At size\n\nold size\n\n## vSphere Pods\n\npods\n\n## Soak\n") {
		t.Fatalf("pods merged into the report:\n%s", got)
	}
	// Into no report at all, it gets a preamble of its own.
	if got = mergeReport("", "## Soak\n\nsoak\n"); !strings.HasPrefix(got, reportPreamble()) {
		t.Fatalf("soak alone:\n%s", got)
	}
}
