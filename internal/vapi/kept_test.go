package vapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/logsink"
)

// TestKeptAnswersFollowTheirInputs shows what a client of a kept read sees: the same answer while
// nothing changed, and the new state at the first request after any change; one answer per
// caller, per path and per query where the operation says so; errors never kept.
func TestKeptAnswersFollowTheirInputs(t *testing.T) {
	var inputs atomic.Uint64 // the store's count, moved by the test as a write would
	var state atomic.Int64   // what the handlers report, changed only together with inputs
	var runs atomic.Int64
	reg := NewRegistry()
	reg.Handle("namespaces.instances", "get", func(c *Call) (any, error) {
		runs.Add(1)
		if c.Path("namespace") == "missing" && state.Load() == 0 {
			return nil, NotFound("Namespace", "missing")
		}
		return map[string]any{"namespace": c.Path("namespace"), "caller": c.Principal.Name, "state": state.Load()}, nil
	})
	reg.Handle("namespace_management.cluster_compatibility", "list", func(c *Call) (any, error) {
		runs.Add(1)
		return map[string]any{"query": c.Request.URL.RawQuery, "state": state.Load()}, nil
	})
	reg.KeepPerCaller("namespaces.instances", "get")
	reg.Keep("namespace_management.cluster_compatibility", "list")
	api := &API{
		Registry: reg, Sessions: NewSessions(clock.NewFake(time.Now()), time.Hour), Identity: roleIdentity{},
		Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry()),
		KeptInputs: func() KeptInputs { return KeptInputs{Store: inputs.Load()} }, // zero at first, as after a start
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	admin, bob := login(t, srv.URL, "admin", "pw"), login(t, srv.URL, "bob", "pw")

	get := func(path, token string) map[string]any {
		t.Helper()
		r := f.do(t, "GET", path, token, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var v map[string]any
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// want asks path as token and checks the answer's state and how many handler runs it took.
	want := func(path, token string, wantState float64, wantRuns int64) {
		t.Helper()
		before := runs.Load()
		v := get(path, token)
		if v["state"] != wantState {
			t.Fatalf("GET %s: state %v, want %v (%v)", path, v["state"], wantState, v)
		}
		if got := runs.Load() - before; got != wantRuns {
			t.Fatalf("GET %s: the handler ran %d times, want %d", path, got, wantRuns)
		}
	}

	const ns = "/api/vcenter/namespaces/instances/alpha"
	want(ns, admin, 0, 1)
	want(ns, admin, 0, 0) // kept
	if v := get(ns, bob); v["caller"] != "bob" {
		t.Fatalf("bob was sent another caller's answer: %v", v)
	}
	want(ns, bob, 0, 0)
	want("/api/vcenter/namespaces/instances/beta", admin, 0, 1) // another path

	state.Store(1)
	inputs.Add(1) // a write: every kept answer is old now
	want(ns, admin, 1, 1)
	want(ns, bob, 1, 1)
	want(ns, admin, 1, 0)

	// /rest sends the same answer in its shape, kept in that shape: asked again, it is sent again
	// as it was, wrapped once.
	plain := f.do(t, "GET", ns, admin, "")
	before := runs.Load()
	for i := range 2 {
		r := f.do(t, "GET", "/rest/vcenter/namespaces/instances/alpha", admin, "")
		if r.status != http.StatusOK || string(r.body) != `{"value":`+string(plain.body)+`}` {
			t.Fatalf("/rest, asked %d times: %d %s; want %s in {\"value\": ...}", i+1, r.status, r.body, plain.body)
		}
	}
	if got := runs.Load() - before; got != 1 {
		t.Fatalf("/rest asked twice: the handler ran %d times, want 1 (then kept)", got)
	}

	// Queries are told apart.
	const compat = "/api/vcenter/namespace-management/cluster-compatibility"
	want(compat+"?compatible=true", admin, 1, 1)
	want(compat+"?compatible=false", admin, 1, 1)
	want(compat+"?compatible=true", admin, 1, 0)
	if v := get(compat+"?compatible=false", admin); v["query"] != "compatible=false" {
		t.Fatalf("one query was answered with another's answer: %v", v)
	}

	// An error is not kept: once the handler finds the namespace, so does the client.
	state.Store(0)
	inputs.Add(1)
	if r := f.do(t, "GET", "/api/vcenter/namespaces/instances/missing", admin, ""); r.status != http.StatusNotFound {
		t.Fatalf("missing: %d %s", r.status, r.body)
	}
	state.Store(1) // without moving inputs: the handler's own view changed, the error was not kept
	want("/api/vcenter/namespaces/instances/missing", admin, 1, 1)
}

func TestKeepRefusesWhatIsNotARead(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("keeping a create did not panic")
		}
	}()
	NewRegistry().Keep("namespaces.instances", "create")
}

// BenchmarkKeptRead is a kept read served in process (no network, no TLS): what the API itself costs
// per request, with the request's log line written as wcpd writes it (text, through logsink) and
// without it, so the line's share can be read off as a ratio of the two (docs/performance.md); and
// the same read on /rest, which sends the answer kept in its shape.
func BenchmarkKeptRead(b *testing.B) {
	for _, bc := range []struct {
		name   string
		logged bool
		prefix string
	}{{"without log line", false, "/api"}, {"with log line", true, "/api"}, {"on /rest, without log line", false, "/rest"}} {
		b.Run(bc.name, func(b *testing.B) {
			reg := NewRegistry()
			reg.Handle("namespace_management.clusters", "get", func(c *Call) (any, error) {
				return map[string]any{"cluster": c.Path("cluster"), "config_status": "RUNNING"}, nil
			})
			reg.Keep("namespace_management.clusters", "get")
			logger := slog.New(slog.DiscardHandler)
			if bc.logged {
				sink := logsink.New(io.Discard)
				defer sink.Close()
				logger = slog.New(logsink.NewTextHandler(sink, nil))
			}
			api := &API{
				Registry: reg, Sessions: NewSessions(clock.NewFake(time.Now()), time.Hour), Identity: roleIdentity{},
				Logger: logger, Metrics: NewMetrics(prometheus.NewRegistry()),
				KeptInputs: func() KeptInputs { return KeptInputs{} },
			}
			token := api.Sessions.Create(auth.Principal{Name: "admin", Domain: auth.Domain}).ID
			req := httptest.NewRequest("GET", bc.prefix+"/vcenter/namespace-management/clusters/domain-c9", nil)
			req.Header.Set(SessionHeader, token)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				api.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// TestKeptVersionedAnswersFollowTheFamilysState: a read kept with a version is answered again
// while the version and the inputs stay, and made anew when either moves, or at every request
// while the version function says the state is changing on its own.
func TestKeptVersionedAnswersFollowTheFamilysState(t *testing.T) {
	var inputs, version atomic.Uint64
	var runs atomic.Int64
	var changing atomic.Bool
	reg := NewRegistry()
	reg.Handle("namespace_management.stats.time_series", "get", func(c *Call) (any, error) {
		return map[string]any{"run": runs.Add(1)}, nil
	})
	reg.KeepVersioned("namespace_management.stats.time_series", "get", func() (KeptVersion, bool) {
		return KeptVersion{version.Load()}, !changing.Load()
	})
	api := &API{
		Registry: reg, Sessions: NewSessions(clock.NewFake(time.Now()), time.Hour), Identity: roleIdentity{},
		Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry()),
		KeptInputs: func() KeptInputs { return KeptInputs{Store: inputs.Load()} },
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	admin := login(t, srv.URL, "admin", "pw")
	read := func() string {
		t.Helper()
		r := f.do(t, "GET", "/api/vcenter/namespace-management/stats/time-series?obj_type=CLUSTER&cluster=c&start=1&end=2", admin, "")
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return string(r.body)
	}
	first := read()
	if again := read(); again != first || runs.Load() != 1 {
		t.Fatalf("same version: %s then %s after %d runs, want the kept answer", first, again, runs.Load())
	}
	version.Add(1)
	if moved := read(); moved == first || runs.Load() != 2 {
		t.Fatalf("after the version moved: %s (runs %d), want a new answer", moved, runs.Load())
	}
	inputs.Add(1)
	if read(); runs.Load() != 3 {
		t.Fatalf("after the store moved: %d runs, want 3", runs.Load())
	}
	changing.Store(true)
	if read(); read() == "" || runs.Load() != 5 {
		t.Fatalf("while the state changes on its own: %d runs, want 5", runs.Load())
	}
}

// TestKeptReadsThatTakeABodyAreKeptByIt: a read bound as a POST with an action is kept like a GET,
// each body with its own answer; a POST with no action is no read to keep.
func TestKeptReadsThatTakeABodyAreKeptByIt(t *testing.T) {
	var inputs atomic.Uint64
	var runs atomic.Int64
	reg := NewRegistry()
	find := Binding{Service: "com.example.things", Name: "find", Method: http.MethodPost, Path: "/things",
		Action: "find", Wrapped: []string{"name"}, Status: http.StatusOK, Privilege: auth.PrivilegeNone}
	reg.Extend(find, func(c *Call) (any, error) {
		var name string
		if _, err := c.BindOptional("name", &name); err != nil {
			return nil, err
		}
		return map[string]any{"run": runs.Add(1), "name": name}, nil
	}, false)
	reg.Keep("com.example.things", "find")
	api := testAPI(reg, roleIdentity{})
	api.KeptInputs = func() KeptInputs { return KeptInputs{Store: inputs.Load()} }
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	admin := login(t, srv.URL, "admin", "pw")
	want := func(body, answer string, wantRuns int64) {
		t.Helper()
		r := f.do(t, "POST", "/api/things?action=find", admin, body)
		if r.status != http.StatusOK || string(r.body) != answer || runs.Load() != wantRuns {
			t.Fatalf("find %s: %d %s after %d runs, want %s after %d", body, r.status, r.body, runs.Load(), answer, wantRuns)
		}
	}
	want(`{"name":"a"}`, `{"name":"a","run":1}`, 1)
	want(`{"name":"a"}`, `{"name":"a","run":1}`, 1)
	want(`{"name":"b"}`, `{"name":"b","run":2}`, 2)
	want(`{"name":"a"}`, `{"name":"a","run":1}`, 2)
	inputs.Add(1)
	want(`{"name":"a"}`, `{"name":"a","run":3}`, 3)

	defer func() {
		if recover() == nil {
			t.Error("keeping a POST bound by no action did not panic")
		}
	}()
	reg.Extend(Binding{Service: "com.example.things", Name: "create", Method: http.MethodPost, Path: "/things",
		Status: http.StatusCreated, Privilege: auth.PrivilegeNone}, nil, false)
	reg.Keep("com.example.things", "create")
}

// TestKeptDelegatedAnswersFollowTheirVersion: a delegate's GET that KeepDelegated names is answered
// again, with the delegate's status, headers and body and the request's own id, while the version,
// the inputs, the query and the host stay; every other request, and every failed one, reaches the
// delegate.
func TestKeptDelegatedAnswersFollowTheirVersion(t *testing.T) {
	var version, inputs atomic.Uint64
	var runs atomic.Int64
	delegated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := runs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"com.vmware.vapi.std.errors.not_found"}`))
			return
		}
		w.Header().Set("X-Served-By", "delegate")
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			_, _ = fmt.Fprintf(w, `{"value":{"run":%d,"body":%q}}`, n, body)
			return
		}
		_, _ = fmt.Fprintf(w, `{"value":{"run":%d,"host":%q}}`, n, r.Host)
	})
	api := testAPI(NewRegistry(), roleIdentity{})
	api.KeptInputs = func() KeptInputs { return KeptInputs{Store: inputs.Load()} }
	api.Delegate("sim", []string{"/rest/com/vmware/"}, delegated)
	var settled atomic.Bool // false while the delegate's state changes on its own
	settled.Store(true)
	versionOf := func() (KeptVersion, bool) { return KeptVersion{version.Load()}, settled.Load() }
	api.KeepDelegated("sim", func(method, path, action string) KeptVersionFunc {
		if strings.HasPrefix(path, "/rest/com/vmware/kept") && (method == http.MethodGet || action == "find") {
			return versionOf
		}
		return nil
	})
	token := api.Sessions.Create(auth.Principal{Name: "admin", Domain: auth.Domain}).ID

	type answer struct {
		status          int
		body, requestID string
		header          http.Header
	}
	send := func(method, target, host, session, body string) answer {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Host = host
		if session != "" {
			req.Header.Set(SessionHeader, session)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return answer{w.Code, w.Body.String(), w.Header().Get(requestIDHeader), w.Header()}
	}
	do := func(method, target, host, session string) answer {
		t.Helper()
		return send(method, target, host, session, "")
	}
	want := func(a answer, status int, body string, wantRuns int64) {
		t.Helper()
		if a.status != status || a.body != body || runs.Load() != wantRuns {
			t.Fatalf("got %d %s after %d runs of the delegate, want %d %s after %d", a.status, a.body, runs.Load(), status, body, wantRuns)
		}
	}

	first := do("GET", "/rest/com/vmware/kept?x=1", "a", token)
	want(first, 200, `{"value":{"run":1,"host":"a"}}`, 1)
	again := do("GET", "/rest/com/vmware/kept?x=1", "a", token)
	want(again, 200, first.body, 1)
	if again.header.Get("X-Served-By") != "delegate" || again.header.Get("Content-Type") != "application/json" {
		t.Fatalf("the kept answer's headers: %v", again.header)
	}
	if again.requestID == "" || again.requestID == first.requestID {
		t.Fatalf("request ids %q then %q: each answer carries its own", first.requestID, again.requestID)
	}
	want(do("GET", "/rest/com/vmware/kept?x=2", "a", token), 200, `{"value":{"run":2,"host":"a"}}`, 2)
	want(do("GET", "/rest/com/vmware/kept?x=1", "b", token), 200, `{"value":{"run":3,"host":"b"}}`, 3)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", ""), 401, do("GET", "/rest/com/vmware/x", "a", "").body, 3)

	version.Add(1)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":4,"host":"a"}}`, 4)
	inputs.Add(1)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":5,"host":"a"}}`, 5)
	settled.Store(false) // nothing is sent again, or kept, until it settles
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":6,"host":"a"}}`, 6)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":7,"host":"a"}}`, 7)
	settled.Store(true)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":5,"host":"a"}}`, 7)
	version.Add(1)
	want(do("GET", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":8,"host":"a"}}`, 8)

	// A POST that reads is kept by its body too, which the delegate still reads whole when it runs.
	const find = "/rest/com/vmware/kept?~action=find"
	want(send("POST", find, "a", token, `{"name":"a"}`), 200, `{"value":{"run":9,"body":"{\"name\":\"a\"}"}}`, 9)
	want(send("POST", find, "a", token, `{"name":"a"}`), 200, `{"value":{"run":9,"body":"{\"name\":\"a\"}"}}`, 9)
	want(send("POST", find, "a", token, `{"name":"b"}`), 200, `{"value":{"run":10,"body":"{\"name\":\"b\"}"}}`, 10)
	want(send("POST", find, "a", token, ""), 200, `{"value":{"run":11,"body":""}}`, 11)
	want(send("POST", find, "a", token, ""), 200, `{"value":{"run":11,"body":""}}`, 11)
	inputs.Add(1)
	want(send("POST", find, "a", token, `{"name":"a"}`), 200, `{"value":{"run":12,"body":"{\"name\":\"a\"}"}}`, 12)
	// A body longer than is kept reaches the delegate whole, every time.
	long := `{"name":"` + strings.Repeat("x", maxKeptDelegatedBody) + `"}`
	wantLong := fmt.Sprintf(`{"value":{"run":%%d,"body":%q}}`, long)
	want(send("POST", find, "a", token, long), 200, fmt.Sprintf(wantLong, 13), 13)
	want(send("POST", find, "a", token, long), 200, fmt.Sprintf(wantLong, 14), 14)

	// Not kept: a POST the reads do not name (the same path and body), another method, a path the
	// delegate's reads do not name, a failure.
	want(send("POST", "/rest/com/vmware/kept?~action=create", "a", token, `{"name":"a"}`), 200, `{"value":{"run":15,"body":"{\"name\":\"a\"}"}}`, 15)
	want(send("POST", "/rest/com/vmware/kept?~action=create", "a", token, `{"name":"a"}`), 200, `{"value":{"run":16,"body":"{\"name\":\"a\"}"}}`, 16)
	want(do("PUT", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":17,"host":"a"}}`, 17)
	want(do("PUT", "/rest/com/vmware/kept?x=1", "a", token), 200, `{"value":{"run":18,"host":"a"}}`, 18)
	want(do("GET", "/rest/com/vmware/other", "a", token), 200, `{"value":{"run":19,"host":"a"}}`, 19)
	want(do("GET", "/rest/com/vmware/other", "a", token), 200, `{"value":{"run":20,"host":"a"}}`, 20)
	missing := `{"type":"com.vmware.vapi.std.errors.not_found"}`
	want(do("GET", "/rest/com/vmware/kept/missing", "a", token), 404, missing, 21)
	want(do("GET", "/rest/com/vmware/kept/missing", "a", token), 404, missing, 22)
}

func TestKeepDelegatedNeedsTheDelegate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("keeping the reads of an unknown delegate did not panic")
		}
	}()
	testAPI(NewRegistry(), roleIdentity{}).KeepDelegated("nobody", func(string, string, string) KeptVersionFunc { return nil })
}

// heldRuns counts a handler's runs and holds or fails the runs a test picks, so that the test can
// send requests while one run is under way.
type heldRuns struct {
	runs       atomic.Int64
	hold, fail atomic.Int64 // the run (counted from 1) to hold until release, and the one to fail
	started    chan struct{}
	release    chan struct{}
}

func (h *heldRuns) run() (n int64, failed bool) {
	n = h.runs.Add(1)
	if n == h.hold.Load() {
		h.started <- struct{}{}
		<-h.release
	}
	return n, n == h.fail.Load()
}

// TestRequestsForAnAnswerBeingMadeWaitForIt: after a change every client of a kept read finds its
// answer gone at once. Those that ask while one of them is making it, at the same inputs, are sent
// that answer rather than each running the handler (or the delegate) again; a request after a
// further change does not wait, and is not sent the older answer; a failed run is not shared.
func TestRequestsForAnAnswerBeingMadeWaitForIt(t *testing.T) {
	var inputs atomic.Uint64
	h := &heldRuns{started: make(chan struct{})}
	reg := NewRegistry()
	reg.Handle("namespace_management.cluster_compatibility", "list", func(*Call) (any, error) {
		n, failed := h.run()
		if failed {
			return nil, NotFound("Cluster", "domain-c1")
		}
		return map[string]any{"run": n}, nil
	})
	reg.Keep("namespace_management.cluster_compatibility", "list")
	api := testAPI(reg, roleIdentity{})
	api.KeptInputs = func() KeptInputs { return KeptInputs{Store: inputs.Load()} }
	api.Delegate("sim", []string{"/rest/com/vmware/"}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n, failed := h.run()
		if failed {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = fmt.Fprintf(w, `{"value":{"run":%d}}`, n)
	}))
	api.KeepDelegated("sim", func(string, string, string) KeptVersionFunc {
		return func() (KeptVersion, bool) { return KeptVersion{}, true }
	})
	token := api.Sessions.Create(auth.Principal{Name: "admin", Domain: auth.Domain}).ID

	waiting := make(chan struct{})
	testHookKeptWait = func() { waiting <- struct{}{} }
	t.Cleanup(func() { testHookKeptWait = nil })

	type answer struct {
		status int
		run    int64
	}
	for _, target := range []string{"/api/vcenter/namespace-management/cluster-compatibility", "/rest/com/vmware/kept"} {
		// ask sends a request from a goroutine of its own; its answer comes on the channel.
		ask := func() chan answer {
			done := make(chan answer, 1)
			go func() {
				req := httptest.NewRequest(http.MethodGet, target, nil)
				req.Header.Set(SessionHeader, token)
				w := httptest.NewRecorder()
				api.ServeHTTP(w, req)
				var v struct {
					Run   int64
					Value struct{ Run int64 }
				}
				_ = json.Unmarshal(w.Body.Bytes(), &v)
				done <- answer{w.Code, v.Run + v.Value.Run}
			}()
			return done
		}
		// within fails the test if ch sends nothing in a long while: the request it waits for is
		// stuck, which is what this test is to find.
		within := func(what string, ch chan answer) answer {
			t.Helper()
			select {
			case a := <-ch:
				return a
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: %s never came", target, what)
				return answer{}
			}
		}
		// hold starts a request whose run is held, and n more while it is; they must all wait.
		hold := func(n int) (held chan answer, waiters []chan answer) {
			t.Helper()
			h.release = make(chan struct{})
			h.hold.Store(h.runs.Load() + 1)
			held = ask()
			<-h.started
			for range n {
				waiters = append(waiters, ask())
				select {
				case <-waiting:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: a request for the answer being made did not wait for it", target)
				}
			}
			return held, waiters
		}

		inputs.Add(1)
		first := h.runs.Load() + 1
		held, waiters := hold(3)
		inputs.Add(1) // a change while the answer is made: the next request may not be sent it
		if a := within("the answer after a change", ask()); a != (answer{200, first + 1}) {
			t.Fatalf("%s after a change: %+v, want run %d (its own)", target, a, first+1)
		}
		close(h.release)
		for i, ch := range append(waiters, held) {
			if a := within("a waiting answer", ch); a != (answer{200, first}) {
				t.Fatalf("%s, request %d of those made together: %+v, want run %d", target, i+1, a, first)
			}
		}
		if a := within("the kept answer", ask()); a != (answer{200, first + 1}) || h.runs.Load() != first+1 {
			t.Fatalf("%s: %+v after %d runs, want the answer made after the change (run %d) kept", target, a, h.runs.Load(), first+1)
		}

		// A run that fails hands nothing on: each waiting request runs its own.
		inputs.Add(1)
		h.fail.Store(h.runs.Load() + 1)
		held, waiters = hold(2)
		close(h.release)
		if a := within("the failed answer", held); a.status != http.StatusNotFound {
			t.Fatalf("%s: the held run's answer %+v, want its failure", target, a)
		}
		runs := map[int64]bool{}
		for _, ch := range waiters {
			a := within("a waiting answer", ch)
			if a.status != 200 || a.run <= h.fail.Load() || runs[a.run] {
				t.Fatalf("%s after a failed run: %+v, want a run of its own after %d", target, a, h.fail.Load())
			}
			runs[a.run] = true
		}
	}
}
