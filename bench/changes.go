package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// The changes scenario: a read that takes milliseconds to make, asked by every connection while a
// namespace changes every changeInterval. Every change drops every kept answer at once (the kept
// answers follow the store's, the inventory's and the directory's change counts), so after each
// one all the connections find the same answer missing together.

// changeInterval is how often the scenario changes a namespace.
const changeInterval = 100 * time.Millisecond

// changesHeading is the changes scenario's section of the report.
const changesHeading = "## A read while the state changes"

// Its three targets: the same wcpd, with and without the changes, and the ceiling.
const (
	changingTarget = "wcpd, a change every 100 ms"
	quietTarget    = "wcpd, nothing changing"
)

// storageCheck is the read: the storage policies' compatibility with a zone, which reads every
// datastore of the zone's clusters through the inventory's property collector to make its answer.
func storageCheck(tok, cluster string) request {
	return request{method: http.MethodPost, path: "/api/vcenter/namespace-management/storage/profiles?action=check_compatibility",
		header: withSession(tok), body: mustJSON(map[string]any{"zones": []string{"zone-" + cluster}}), want: 200}
}

// changeEvery patches namespace's description every interval until stop is closed, counting the
// changes that succeeded in made and the ones that did not in failed.
func changeEvery(c *http.Client, base, tok, namespace string, interval time.Duration, stop <-chan struct{}, made, failed *atomic.Int64) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 0; ; n++ {
		patch := request{method: http.MethodPatch, path: "/api/vcenter/namespaces/instances/" + namespace, header: withSession(tok),
			body: mustJSON(map[string]any{"description": fmt.Sprintf("changed by the benchmark (%d)", n)})}
		if status, _, err := do(c, base, patch); err == nil && status == http.StatusNoContent {
			made.Add(1)
		} else {
			failed.Add(1)
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// changesSection renders the scenario's results: the three targets, each with its rate and p99
// against the ceiling's, round by round.
func changesSection(results []result, load string, clients int, d time.Duration, changes, failures int64) string {
	var b strings.Builder
	b.WriteString(changesHeading + "\n\n" + sectionStamp(load))
	b.WriteString("The storage policies' compatibility check for a zone, asked by every connection: a read whose\n")
	b.WriteString("answer takes milliseconds to make (it reads every datastore of the zone through the inventory's\n")
	b.WriteString("property collector), then kept. During the rounds of `" + changingTarget + "`, the benchmark\n")
	fmt.Fprintf(&b, "changes a namespace's description by PATCH every %d ms (%d changes in all", changeInterval.Milliseconds(), changes)
	if failures > 0 {
		fmt.Fprintf(&b, ", %d failed", failures)
	}
	b.WriteString(").\nEach change drops every kept answer, so right after it all the connections ask for an answer that\n")
	b.WriteString("is missing; those that ask while one of them makes it wait for it. `" + quietTarget + "` is the same\n")
	b.WriteString("server and read with no change; `ceiling` replays wcpd's answer, recorded before the load. wrk as\n")
	fmt.Fprintf(&b, "above: %d connections, %v per target in %d rounds that rotate which goes first. The ratio to the\n", clients, d, rounds)
	b.WriteString("ceiling and the p99 difference are medians round by round; `CPU/req` includes the changes' own work.\n\n")
	b.WriteString("| target | req/s | CPU/req | p50 | p99 | / ceiling | p99 − ceiling p99 | errors | note |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	var ceiling result
	for _, r := range results {
		if r.target == "ceiling" {
			ceiling = r
		}
	}
	for _, r := range results {
		if r.rps == 0 {
			fmt.Fprintf(&b, "| %s | – | – | – | – | – | – | – | %s |\n", r.target, r.note)
			continue
		}
		ratio, gap := "–", "–"
		if ceiling.rps > 0 && r.target != "ceiling" {
			ratio, gap = fmt.Sprintf("%.2f", rateRatio(r, ceiling)), fmt.Sprintf("%.2f ms", ms(p99Gap(r, ceiling)))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f ms | %.2f ms | %s | %s | %d | %s |\n",
			r.target, r.rps, cpuCell(r), ms(r.p50), ms(r.p99), ratio, gap, r.errors, r.note)
	}
	return b.String()
}
