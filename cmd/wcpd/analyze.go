package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/resources"
	"github.com/wcpd/wcpd/internal/vapi"
)

const analyzeUsage = `Usage:
  wcpd analyze -f FILE [--json]
  wcpd analyze --server URL --cluster ID [--user U] [--password P] [-k] [--change FILE] [--json]

Shows what every pool, VM and vSphere Pod is entitled to when everything wants everything at
once: one table for CPU and one for memory, a bar per node for its share among its siblings,
then warnings. With -f, the tree in FILE (the body of POST /api/wcpd/resources/analyze; - reads
standard input). With --server, the live Supervisor of a cluster on a running wcpd; --change
FILE asks what the changes in FILE (the body of POST /api/wcpd/clusters/{cluster}/resources)
would do and prints the tree after them and every node that changes.

Flags:
`

// runAnalyze is the analyze command. It returns the exit status: 0, 1 when the analysis could
// not be made (bad input, server error), 2 for bad usage.
func runAnalyze(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, analyzeUsage)
		fs.PrintDefaults()
	}
	file := fs.String("f", "", "analyse the what-if tree in `FILE` (JSON; - for standard input)")
	server := fs.String("server", "", "analyse a live Supervisor on the wcpd at `URL` (https://host:port)")
	cluster := fs.String("cluster", "", "with --server: the cluster's MoRef `id`, e.g. domain-c9")
	user := fs.String("user", "administrator@vsphere.local", "with --server: who logs in")
	password := fs.String("password", "", "with --server: the password (default $WCPD_PASSWORD, else asked for; the flag shows in the process list)")
	insecure := fs.Bool("k", false, "with --server: accept the server's certificate without checking it (wcpd's self-signed one)")
	change := fs.String("change", "", "with --server: ask what the changes in `FILE` would do")
	asJSON := fs.Bool("json", false, "print the JSON result instead of tables")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageError := func(msg string) int {
		fmt.Fprintf(stderr, "wcpd analyze: %s\n\n", msg)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case (*file == "") == (*server == ""):
		return usageError("give either -f FILE or --server URL")
	case *file != "" && (*cluster != "" || *change != ""):
		return usageError("--cluster and --change go with --server, not -f")
	case *server != "" && *cluster == "":
		return usageError("--server needs --cluster")
	}

	if *file != "" {
		res, err := analyzeFile(*file)
		if err != nil {
			fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
			return 1
		}
		return printResult(stdout, stderr, res, *asJSON)
	}

	pw := *password
	if pw == "" {
		var err error
		if pw, err = loginPassword(os.Stdin, stderr, *user); err != nil {
			fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
			return 1
		}
	}
	c := &apiClient{base: strings.TrimRight(*server, "/"), http: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: *insecure}}}}
	ctx := context.Background()
	if err := c.login(ctx, *user, pw); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	defer c.logout(ctx)
	path := "/api/wcpd/clusters/" + url.PathEscape(*cluster) + "/resources"
	if *change == "" {
		raw, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
			return 1
		}
		if *asJSON {
			return printJSON(stdout, stderr, raw)
		}
		var res drs.Result
		if err := json.Unmarshal(raw, &res); err != nil {
			fmt.Fprintf(stderr, "wcpd analyze: the server's answer is not an analysis: %v\n", err)
			return 1
		}
		return printResult(stdout, stderr, res, false)
	}
	body, err := readInput(*change)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	raw, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var w whatIfAnswer
	if err := json.Unmarshal(raw, &w); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: the server's answer is not a what-if: %v\n", err)
		return 1
	}
	if code := printResult(stdout, stderr, w.After, false); code != 0 {
		return code
	}
	if err := renderChanges(stdout, w.Changes); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	return 0
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// analyzeFile decodes a what-if tree with the API's own strict rules and analyses it.
func analyzeFile(name string) (drs.Result, error) {
	data, err := readInput(name)
	if err != nil {
		return drs.Result{}, err
	}
	var req drs.Request
	if err := vapi.DecodeJSON(data, "", &req); err != nil {
		return drs.Result{}, fmt.Errorf("%s: %s", name, messages(vapi.AsError(err)))
	}
	res, err := drs.Analyze(req)
	var fes drs.FieldErrors
	if errors.As(err, &fes) {
		lines := make([]string, len(fes))
		for i, fe := range fes {
			lines[i] = "  " + fe.Error()
		}
		return drs.Result{}, fmt.Errorf("%s is not a valid tree:\n%s", name, strings.Join(lines, "\n"))
	}
	return res, err
}

func printResult(stdout, stderr io.Writer, res drs.Result, asJSON bool) int {
	if asJSON {
		raw, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
			return 1
		}
		return printJSON(stdout, stderr, raw)
	}
	if err := drs.RenderTable(stdout, res); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	return 0
}

func printJSON(stdout, stderr io.Writer, raw []byte) int {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	buf.WriteByte('\n')
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintf(stderr, "wcpd analyze: %v\n", err)
		return 1
	}
	return 0
}

// whatIfAnswer is the part of the server's what-if answer the command prints.
type whatIfAnswer struct {
	After   drs.Result             `json:"after"`
	Changes []resources.NodeChange `json:"changes"`
}

// renderChanges lists the nodes a what-if changes, with their entitlements and memory share
// before and after.
func renderChanges(w io.Writer, changes []resources.NodeChange) error {
	fmt.Fprintf(w, "\nCHANGES (%d)\n", len(changes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tCHANGE\tCPU MHZ\tMEMORY MB\tMEMORY SHARE")
	for _, c := range changes {
		cpu, mem, share := "", "", ""
		switch {
		case c.Before != nil && c.After != nil:
			cpu = fmt.Sprintf("%d → %d", c.Before.CPUEntitlementMHz, c.After.CPUEntitlementMHz)
			mem = fmt.Sprintf("%d → %d", c.Before.MemoryEntitlementMB, c.After.MemoryEntitlementMB)
			share = fmt.Sprintf("%.2f%% → %.2f%%", c.Before.MemorySharePercent, c.After.MemorySharePercent)
		case c.After != nil:
			cpu, mem = fmt.Sprintf("%d", c.After.CPUEntitlementMHz), fmt.Sprintf("%d", c.After.MemoryEntitlementMB)
			share = fmt.Sprintf("%.2f%%", c.After.MemorySharePercent)
		case c.Before != nil:
			cpu, mem = fmt.Sprintf("%d", c.Before.CPUEntitlementMHz), fmt.Sprintf("%d", c.Before.MemoryEntitlementMB)
			share = fmt.Sprintf("%.2f%%", c.Before.MemorySharePercent)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Path, c.Change, cpu, mem, share)
	}
	return tw.Flush()
}

// apiClient is a minimal client of wcpd's /api: a session and JSON requests.
type apiClient struct {
	base  string
	http  *http.Client
	token string
}

func (c *apiClient) login(ctx context.Context, user, password string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/session", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, password)
	raw, err := c.send(req)
	if err != nil {
		return fmt.Errorf("logging in to %s as %s: %w", c.base, user, err)
	}
	return json.Unmarshal(raw, &c.token)
}

func (c *apiClient) logout(ctx context.Context) {
	_, _ = c.do(ctx, http.MethodDelete, "/api/session", nil)
}

func (c *apiClient) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("vmware-api-session-id", c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req)
}

func (c *apiClient) send(req *http.Request) ([]byte, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 300 {
		var e vapi.Error
		if json.Unmarshal(raw, &e) == nil && e.Type != "" {
			return nil, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, messages(&e))
		}
		return nil, fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, res.Status)
	}
	return raw, nil
}

// messages renders a vAPI error as its type and messages.
func messages(e *vapi.Error) string {
	msgs := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		msgs[i] = m.DefaultMessage
	}
	return string(e.Type) + ": " + strings.Join(msgs, " ")
}
