package main

// The HTTP load of the benchmark is driven by wrk (https://github.com/wg/wrk, Debian package `wrk`)
// in a process of its own: a Go load generator inside this process competed with the servers for the
// same cores and flattened every ratio toward 1. Each measurement is one wrk run of a generated Lua
// script that sets the method, headers and body (or, for create+delete, makes each request in turn),
// and whose done() prints one line this program reads back.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wrkThreads is wrk's -t: two threads for the 32 connections, one per core of the machine the
// figures were first taken on.
const wrkThreads = 2

// wrkQuantiles is how many points of each run's latency distribution done() reports: enough to merge
// the rounds of a measurement into one p50 and p99.
const wrkQuantiles = 1000

// resultMarker starts the line done() writes.
const resultMarker = "wcpd-bench-result "

// checkWrk says how to install wrk when it is not on PATH.
func checkWrk() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not on PATH; the benchmark drives its HTTP load with it: install it " +
			"(Debian and Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`) and run again")
	}
	return nil
}

// luaString quotes s as a Lua string literal, byte for byte (Lua 5.1 knows \ddd escapes, not \u).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaHeaders is a Lua table constructor of h (one value per name: what every scenario sends).
func luaHeaders(h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("{")
	for _, k := range names {
		fmt.Fprintf(&b, "[%s] = %s, ", luaString(k), luaString(strings.Join(h[k], ", ")))
	}
	b.WriteString("}")
	return b.String()
}

// luaReport is the part of every script that counts failures and prints the result line: wrk's own
// errors (connect, read, write, timeout, and, unless the script sets status_is_checked, answers
// outside 2xx and 3xx), plus the answers a script's response() found wrong (bad, per thread), and the
// latency distribution.
const luaReport = `
local threads = {}
status_is_checked = status_is_checked or false
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
bad, overtaken = 0, 0
function done(summary, latency, requests)
  local e = summary.errors
  local failed, late = e.connect + e.read + e.write + e.timeout, 0
  if not status_is_checked then failed = failed + e.status end
  for _, t in ipairs(threads) do
    failed = failed + (t:get("bad") or 0)
    late = late + (t:get("overtaken") or 0)
  end
  local q = {}
  for i = 1, %d do q[i] = latency:percentile((i - 0.5) * 100 / %d) end
  io.write(string.format("%s{\"requests\":%%d,\"duration_us\":%%d,\"errors\":%%d,\"overtaken\":%%d,\"quantiles_us\":[%%s]}\n",
    summary.requests, summary.duration, failed, late, table.concat(q, ",")))
end
`

// fixedScript is the script of a scenario that sends the same request every time. A JSON-RPC invoke
// answers 200 whatever the outcome, so there response() also checks the answer carries an output; a
// request whose expected answer is an error (r.want outside 2xx) counts the other statuses instead.
func fixedScript(r request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\nwrk.path = %s\nwrk.headers = %s\n", luaString(r.method), luaString(r.path), luaHeaders(r.header))
	if r.body != nil {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(string(r.body)))
	}
	expectsError := r.want != 0 && r.want/100 != 2
	if expectsError {
		b.WriteString("status_is_checked = true\n")
	}
	b.WriteString(fmt.Sprintf(luaReport, wrkQuantiles, wrkQuantiles, resultMarker))
	if expectsError {
		fmt.Fprintf(&b, `
function response(status, headers, body)
  if status ~= %d then bad = bad + 1 end
end
`, r.want)
	} else if r.rpc {
		b.WriteString(`
function response(status, headers, body)
  if status < 200 or status > 299 or not string.find(body, '"output":', 1, true) then bad = bad + 1 end
end
`)
	}
	return b.String()
}

// createDeleteLag is how many namespaces a wrk thread keeps created before it deletes the oldest: a
// thread's 16 connections run at once, so a DELETE must name a namespace whose POST has long been
// answered, not the one just sent on another connection.
const createDeleteLag = 128

// createDeleteScript alternates POST (create) and DELETE of namespaces named
// <prefix>-<round>-<thread>-<n>; the round is the script's argument. What the lag leaves behind is
// deleted by the caller after the run (cleanupNamespaces). wrk does not say which request an answer
// is for, and a POST held up on one connection can still be in flight when its DELETE goes out on
// another: a 404 (only a DELETE answers it) is counted as overtaken, not as an error.
func createDeleteScript(tok, cluster, prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "local headers = %s\nlocal cluster, prefix = %s, %s\nstatus_is_checked = true\n",
		luaHeaders(withSession(tok)), luaString(cluster), luaString(prefix))
	b.WriteString(fmt.Sprintf(luaReport, wrkQuantiles, wrkQuantiles, resultMarker))
	fmt.Fprintf(&b, `
local created, deleted, turn, base = 0, 0, false, ""
function init(args)
  base = prefix .. "-" .. args[1] .. "-" .. tid .. "-"
end
function request()
  turn = not turn
  if turn or created - deleted <= %d then
    created = created + 1
    return wrk.format("POST", "/api/vcenter/namespaces/instances", headers,
      '{"cluster":"' .. cluster .. '","namespace":"' .. base .. created .. '"}')
  end
  deleted = deleted + 1
  return wrk.format("DELETE", "/api/vcenter/namespaces/instances/" .. base .. deleted, headers)
end
function response(status, headers, body)
  if status == 404 then overtaken = overtaken + 1
  elseif status < 200 or status > 299 then bad = bad + 1 end
end
`, createDeleteLag)
	return b.String()
}

// wrkOutcome is what done() prints.
type wrkOutcome struct {
	Requests    int64   `json:"requests"`
	DurationUS  int64   `json:"duration_us"`
	Errors      int64   `json:"errors"`
	Overtaken   int64   `json:"overtaken"`
	QuantilesUS []int64 `json:"quantiles_us"`
}

// runWrk runs wrk with script against base for d with `clients` keep-alive connections; args go to
// the script's init(). wrk counts time in whole seconds: d is rounded to them, one at least.
func runWrk(base, script string, clients int, d time.Duration, args ...string) (result, error) {
	dir, err := os.MkdirTemp("", "wcpd-bench-wrk-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "scenario.lua")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return result{}, err
	}
	cmdArgs := []string{"-t", strconv.Itoa(min(wrkThreads, clients)), "-c", strconv.Itoa(clients),
		"-d", fmt.Sprintf("%ds", max(int64(d.Round(time.Second)/time.Second), 1)), "--timeout", "10s", "-s", file, base}
	if len(args) > 0 {
		cmdArgs = append(append(cmdArgs, "--"), args...)
	}
	cmd := exec.Command("wrk", cmdArgs...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s%s", err, stderr.String(), stdout.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if raw, ok := strings.CutPrefix(line, resultMarker); ok {
			var o wrkOutcome
			if err := json.Unmarshal([]byte(raw), &o); err != nil {
				return result{}, fmt.Errorf("wrk's result line %q: %w", raw, err)
			}
			return o.result(), nil
		}
	}
	return result{}, fmt.Errorf("wrk printed no result: %s%s", stderr.String(), stdout.String())
}

func (o wrkOutcome) result() result {
	r := result{n: o.Requests, elapsed: time.Duration(o.DurationUS) * time.Microsecond, errors: o.Errors, overtaken: o.Overtaken}
	if o.Requests > 0 {
		weight := float64(o.Requests) / float64(len(o.QuantilesUS))
		for _, q := range o.QuantilesUS {
			r.lat = append(r.lat, weightedLatency{time.Duration(q) * time.Microsecond, weight})
		}
	}
	return r.summarised()
}
