package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/reference"
)

func needWrk(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not on PATH (apt-get install wrk)")
	}
}

// The fixed script sends the method, headers and body it was given, and counts as errors exactly the
// answers that are not the expected status.
func TestFixedScriptSendsTheRequestAndCountsWrongAnswers(t *testing.T) {
	needWrk(t)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Vmware-Api-Session-Id")+" "+string(body)]++
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(200)
		case "/rpc":
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":"1","result":{"output":"x"}}`)
		case "/rpc-error":
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":"1","result":{"error":{}}}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()

	post := request{method: "POST", path: "/ok?x=1", header: withSession("tok\"en"), body: []byte(`{"a":"é\n"}`)}
	cases := []struct {
		name   string
		r      request
		failed bool
	}{
		{"2xx", post, false},
		{"404 unexpected", request{method: "GET", path: "/missing", header: withSession("t")}, true},
		{"404 expected", request{method: "GET", path: "/missing", header: withSession("t"), want: 404}, false},
		{"200 when 404 is expected", request{method: "GET", path: "/ok", header: withSession("t"), want: 404}, true},
		{"JSON-RPC with an output", request{method: "POST", path: "/rpc", rpc: true}, false},
		{"JSON-RPC without one", request{method: "POST", path: "/rpc-error", rpc: true}, true},
	}
	for _, c := range cases {
		res, err := runWrk(srv.URL, fixedScript(c.r), 4, time.Second)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.n == 0 || res.rps <= 0 || res.p99 < res.p50 || res.p50 <= 0 {
			t.Errorf("%s: %d requests, %.0f req/s, p50 %v, p99 %v", c.name, res.n, res.rps, res.p50, res.p99)
		}
		if wantErrors := map[bool]int64{true: res.n, false: 0}[c.failed]; res.errors != wantErrors {
			t.Errorf("%s: %d errors of %d requests, want %d", c.name, res.errors, res.n, wantErrors)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[`POST /ok?x=1 tok"en {"a":"é\n"}`] == 0 {
		t.Errorf("the POST was not sent as given; the server saw %v", seen)
	}
}

// Create+delete alternates a POST of a new namespace with the DELETE of one created earlier, names
// are unique across threads and rounds, and what is left is no more than the lag.
func TestCreateDeleteScriptDeletesWhatItCreated(t *testing.T) {
	needWrk(t)
	var mu sync.Mutex
	live := map[string]bool{}
	var posts, deletes, conflicts int
	var badName string
	name := regexp.MustCompile(`^cd-wcpd-7-[12]-[0-9]+$`)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/vcenter/namespaces/instances":
			var spec struct{ Cluster, Namespace string }
			if json.NewDecoder(r.Body).Decode(&spec) != nil || spec.Cluster != "domain-c9" || !name.MatchString(spec.Namespace) {
				badName = spec.Namespace
				w.WriteHeader(400)
				return
			}
			posts++
			if live[spec.Namespace] {
				conflicts++
				w.WriteHeader(400)
				return
			}
			live[spec.Namespace] = true
			w.WriteHeader(204)
		case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/api/vcenter/namespaces/instances/"):
			deletes++
			n := strings.TrimPrefix(r.URL.Path, "/api/vcenter/namespaces/instances/")
			if !live[n] {
				w.WriteHeader(404)
				return
			}
			delete(live, n)
			w.WriteHeader(204)
		default:
			w.WriteHeader(405)
		}
	}))
	defer srv.Close()
	res, err := runWrk(srv.URL, createDeleteScript("tok", "domain-c9", "cd-wcpd"), 32, time.Second, "7")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d POSTs, %d DELETEs, %d left, %d overtaken", posts, deletes, len(live), res.overtaken)
	if badName != "" || conflicts > 0 || res.errors > 0 {
		t.Fatalf("bad name %q, %d names created twice, %d errors", badName, conflicts, res.errors)
	}
	if posts == 0 || deletes < posts-2*(createDeleteLag+1)-32 {
		t.Errorf("%d POSTs and %d DELETEs: they should alternate once the lag is reached", posts, deletes)
	}
	if left := len(live) - int(res.overtaken); left > 2*(createDeleteLag+1)+32 {
		t.Errorf("%d namespaces left, more than two threads' lag", left)
	}
}

// Rounds are merged by weight: a round of many requests counts for more than a round of few.
func TestMergeWeighsRoundsByTheirRequests(t *testing.T) {
	round := func(n int64, latency time.Duration) result {
		return wrkOutcome{Requests: n, DurationUS: 1e6, QuantilesUS: []int64{latency.Microseconds(), latency.Microseconds()}}.result()
	}
	got := merge(round(900, time.Millisecond), round(100, 50*time.Millisecond))
	if got.n != 1000 || got.rps != 500 {
		t.Errorf("%d requests at %.0f req/s, want 1000 at 500 (1000 in 2 s)", got.n, got.rps)
	}
	if got.p50 != time.Millisecond || got.p99 != 50*time.Millisecond {
		t.Errorf("p50 %v p99 %v, want 1ms and 50ms", got.p50, got.p99)
	}
}

func TestReadPathFillsPathAndQuery(t *testing.T) {
	op := reference.Op{URL: "/vcenter/namespaces/instances/{namespace}/access/{domain}/{subject}",
		PathVars: map[string]string{"namespace": "namespace", "domain": "domain", "subject": "subject"},
		Query:    map[string]string{"type": "type"}}
	got, err := readPath(op, map[string]string{"namespace": "ns 1", "domain": "vsphere.local", "subject": "administrator", "type": "USER"})
	if want := "/api/vcenter/namespaces/instances/ns%201/access/vsphere.local/administrator?type=USER"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := readPath(op, map[string]string{"namespace": "n", "domain": "d", "subject": "s"}); err == nil || !strings.Contains(err.Error(), "?type") {
		t.Errorf("a missing query value: %v, want an error naming ?type", err)
	}
	if _, err := readPath(op, map[string]string{"domain": "d", "subject": "s", "type": "USER"}); err == nil || !strings.Contains(err.Error(), "{namespace}") {
		t.Errorf("a missing path value: %v, want an error naming {namespace}", err)
	}
}

func TestLuaStringKeepsEveryByte(t *testing.T) {
	if got, want := luaString("a\"b\\c\né"), `"a\034b\092c\010\195\169"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
