package servertest

import (
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wcpd/wcpd/internal/server"
)

// Exercised records which operations each top-level test sent to its servers, for the coverage table
// of the conformance suite. It is off unless a TestMain calls RecordCoverage.
var exercised struct {
	sync.Mutex
	on     bool
	byTest map[string]map[string]bool // test -> operation ids
	// overRPC holds the operations some test invoked over JSON-RPC; typed those whose REST answers
	// were typed and strictly decoded (checkTyped).
	overRPC, typed map[string]bool
	// undeclared holds, per operation, the error types it answered that its metadata does not
	// declare (the reference's errors list).
	undeclared map[string]map[string]bool
}

// RecordCoverage starts recording, for this test binary, which operations each test calls.
func RecordCoverage() {
	exercised.Lock()
	defer exercised.Unlock()
	exercised.on, exercised.byTest = true, map[string]map[string]bool{}
	exercised.overRPC, exercised.typed = map[string]bool{}, map[string]bool{}
	exercised.undeclared = map[string]map[string]bool{}
}

// UndeclaredErrors returns, per operation, the sorted error types tests saw it answer that the
// reference does not declare for it.
func UndeclaredErrors() map[string][]string {
	exercised.Lock()
	defer exercised.Unlock()
	out := map[string][]string{}
	for op, types := range exercised.undeclared {
		for t := range types {
			out[op] = append(out[op], t)
		}
		sort.Strings(out[op])
	}
	return out
}

func recordUndeclaredError(op, errorType string) {
	exercised.Lock()
	defer exercised.Unlock()
	if !exercised.on {
		return
	}
	if exercised.undeclared[op] == nil {
		exercised.undeclared[op] = map[string]bool{}
	}
	exercised.undeclared[op][errorType] = true
}

// OverJSONRPC returns the operations that tests invoked over JSON-RPC, and those whose REST answers
// were typed and strictly decoded.
func OverJSONRPC() (invoked, typed map[string]bool) {
	exercised.Lock()
	defer exercised.Unlock()
	return maps.Clone(exercised.overRPC), maps.Clone(exercised.typed)
}

func recordTyped(op string) {
	exercised.Lock()
	defer exercised.Unlock()
	if exercised.on {
		exercised.typed[op] = true
	}
}

// Exercising returns, per operation id, the sorted top-level tests that called it.
func Exercising() map[string][]string {
	exercised.Lock()
	defer exercised.Unlock()
	out := map[string][]string{}
	for test, ops := range exercised.byTest {
		for op := range ops {
			out[op] = append(out[op], test)
		}
	}
	for _, tests := range out {
		sort.Strings(tests)
	}
	return out
}

// recordOperations reads the server's request counter: every operation it counted was exercised by
// the test, whatever the answer (a test of refusals exercises the operation too).
func recordOperations(t testing.TB, srv *server.Server) {
	exercised.Lock()
	defer exercised.Unlock()
	if !exercised.on {
		return
	}
	families, err := srv.Metrics.Gather()
	if err != nil {
		return
	}
	test := strings.SplitN(t.Name(), "/", 2)[0]
	for _, f := range families {
		if f.GetName() == "wcpd_jsonrpc_requests_total" {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "operation" {
						exercised.overRPC[l.GetValue()] = true
					}
				}
			}
		}
		if f.GetName() != "wcpd_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" {
					if exercised.byTest[test] == nil {
						exercised.byTest[test] = map[string]bool{}
					}
					exercised.byTest[test][l.GetValue()] = true
				}
			}
		}
	}
}
