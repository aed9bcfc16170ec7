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

// The p99 difference of two targets is the median of their rounds' differences, so one disturbed
// round does not decide it; rounds that do not pair up fall back to the p99s over all rounds.
func TestP99GapIsTheMedianOfTheRoundsGaps(t *testing.T) {
	round := func(p99s ...time.Duration) result {
		var parts []result
		for _, p99 := range p99s {
			parts = append(parts, result{n: 1000, elapsed: time.Second, lat: []weightedLatency{{p99 / 2, 980}, {p99, 20}}})
		}
		return merge(parts...)
	}
	ms := time.Millisecond
	wcpd, ceiling := round(6*ms, 6*ms, 7*ms, 40*ms), round(5*ms, 5500*time.Microsecond, 5*ms, 5*ms)
	if got := p99Gap(wcpd, ceiling); got != 1500*time.Microsecond {
		t.Errorf("gap %v, want the median of 1, 0.5, 2 and 35 ms (1.5 ms)", got)
	}
	if pooled := wcpd.p99 - ceiling.p99; pooled <= 5*ms {
		t.Errorf("pooled gap %v: the disturbed round should weigh on the p99 over all rounds", pooled)
	}
	// Rounds that do not pair up (a target failed one) fall back to the p99s over all rounds.
	short := round(6 * ms)
	if got := p99Gap(short, ceiling); got != short.p99-ceiling.p99 {
		t.Errorf("unpaired gap %v, want %v", got, short.p99-ceiling.p99)
	}
	// The reads section counts a read whose rounds' p99s are close as close, and says how many are
	// by the p99s over all rounds.
	closeByRounds, steady := round(6*ms, 6*ms, 6*ms, 40*ms), round(5500*time.Microsecond, 5500*time.Microsecond, 5500*time.Microsecond, 5500*time.Microsecond)
	reads := readsSection([]readRow{{operation: "read", status: 200, bytes: 512, wcpd: closeByRounds, ceiling: steady}}, "1.00", 32, 4*time.Second)
	wantLines(t, "the reads section", reads,
		"1 with a p99\nwithin 1 ms of the ceiling's by the median of the rounds (0 by the p99s over all rounds).")
}

// The tables show each server's CPU per request next to its rate, and the ratio of wcpd's to the
// ceiling's next to the ratio of their rates; where the CPU time was not read they show "–".
func TestTablesShowTheCPUPerRequest(t *testing.T) {
	measured := func(target string, n int64, cpu time.Duration, read bool) result {
		r := result{n: n, elapsed: time.Second}
		if read {
			r.cpu, r.cpuRequests = cpu, n
		}
		r = merge(r, r)
		r.target, r.scenario, r.bytes = target, "get one VM class", 512
		return r
	}
	wcpd := measured("wcpd", 20_000, 400*time.Millisecond, true)       // 20.0 µs a request
	ceiling := measured("ceiling", 40_000, 400*time.Millisecond, true) // 10.0 µs
	vcsim := measured("vcsim", 10_000, 0, false)
	unread := measured("ceiling", 40_000, 0, false)

	httpSection := render([]result{wcpd, vcsim, ceiling}, nil, map[string]string{}, nil, nil, 32, 8*time.Second, 4*time.Second)
	reads := readsSection([]readRow{
		{operation: "read", status: 200, bytes: 512, wcpd: wcpd, ceiling: ceiling},
		{operation: "unread", status: 200, bytes: 512, wcpd: wcpd, ceiling: unread},
		{operation: "failed", note: "not measured: why"},
	}, "1.00", 32, 4*time.Second)
	wantLines(t, "the HTTP section", httpSection,
		"| scenario | target | req/s | CPU/req | p50 | p99 | bytes | errors | note |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n",
		"| get one VM class | wcpd | 20000 | 20.0 µs | 0.00 ms | 0.00 ms | 512 | 0 |  |\n",
		"| get one VM class | vcsim | 10000 | – | 0.00 ms | 0.00 ms | 512 | 0 |  |\n",
		"| get one VM class | ceiling | 40000 | 10.0 µs | 0.00 ms | 0.00 ms | 512 | 0 |  |\n",
		"| scenario | wcpd / vcsim | wcpd / ceiling | CPU per request, wcpd / ceiling | JSON-RPC / REST | with request lines / without | wcpd p99 − ceiling p99 |\n|---|---:|---:|---:|---:|---:|---:|\n",
		"| get one VM class | 2.00 | 0.50 | 2.00 | – | – | 0.00 ms |\n",
	)
	wantLines(t, "the reads section", reads,
		"| operation | status | bytes | wcpd req/s | ceiling req/s | wcpd / ceiling | CPU per request, wcpd / ceiling | wcpd p99 | ceiling p99 | p99 difference | vcsim req/s | wcpd / vcsim | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		"| `read` | 200 | 512 | 20000 | 40000 | 0.50 | 2.00 | 0.00 ms | 0.00 ms | 0.00 ms | – | – | 0 |\n",
		"| `unread` | 200 | 512 | 20000 | 40000 | 0.50 | – | 0.00 ms | 0.00 ms | 0.00 ms | – | – | 0 |\n",
		"| failed | – | – | – | – | – | – | – | – | – | – | – | not measured: why |\n",
	)
	// The start-up section comes with the size scenario's row, or not at all: merged into a report,
	// a run without it keeps the section the last run with it wrote.
	if strings.Contains(httpSection, "## Start-up to ready") {
		t.Errorf("a run without the size scenario writes a start-up section:\n%s", httpSection)
	}
	stored := "| wcpd, 10000 namespaces and 1000 VM classes stored | 1500 ms |"
	withSize := render(nil, nil, map[string]string{}, []string{"| wcpd, fresh data dir | 400 ms |", stored}, []string{"| row | 1 |"}, 32, 8*time.Second, 4*time.Second)
	wantLines(t, "a run with the size scenario", withSize, "## Start-up to ready\n", stored+"\n", "## At size\n")
	merged := mergeReport(withSize, httpSection)
	wantLines(t, "a report merged with a run without the size scenario", merged, "## Start-up to ready\n", stored+"\n")
}

// wantLines fails the test for each of lines that section (named so in the message) lacks.
func wantLines(t *testing.T, name, section string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(section, want) {
			t.Errorf("%s lacks\n%s\nit is:\n%s", name, want, section)
		}
	}
}
