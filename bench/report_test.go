package main

import (
	"strings"
	"testing"
	"time"
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

// A ratio of rates pairs the rounds: one round disturbed by other work on the machine moves it less
// than it would move the ratio of the totals.
func TestRateRatioIsTheMedianOfTheRoundsRatios(t *testing.T) {
	round := func(rates ...float64) result {
		return merge(func() []result {
			var parts []result
			for _, r := range rates {
				parts = append(parts, result{n: int64(r), elapsed: time.Second})
			}
			return parts
		}()...)
	}
	wcpd, ceiling := round(90, 92, 91, 30), round(100, 100, 100, 100)
	if got := rateRatio(wcpd, ceiling); got < 0.9 || got > 0.92 {
		t.Errorf("ratio %.3f, want the median of 0.90, 0.92, 0.91 and 0.30 (0.905)", got)
	}
	if got, total := rateRatio(wcpd, ceiling), wcpd.rps/ceiling.rps; total > 0.76 || got == total {
		t.Errorf("ratio %.3f, total %.3f: the disturbed round should weigh on the total only", got, total)
	}
	// Rounds that do not pair up (a target failed one) fall back to the totals.
	short := round(90, 92)
	if got := rateRatio(short, ceiling); got != short.rps/ceiling.rps {
		t.Errorf("unpaired ratio %.3f, want %.3f", got, short.rps/ceiling.rps)
	}
}
