package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/wcpd/wcpd/internal/kubeapi"
)

// runLogin logs a vCenter user in to the Supervisors' Kubernetes API and merges the contexts into
// the kubeconfig ($KUBECONFIG's first file, else ~/.kube/config), as `kubectl vsphere login` does.
func runLogin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "https://127.0.0.1:8443", "wcpd's URL")
	user := fs.String("u", "", "vCenter user, e.g. devops@vsphere.local")
	fs.StringVar(user, "vsphere-username", "", "same as -u")
	insecure := fs.Bool("insecure-skip-tls-verify", false, "do not verify wcpd's certificate (it is self-signed by default)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file to write; default: the first file of $KUBECONFIG, else ~/.kube/config")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *user == "" {
		fmt.Fprintln(stderr, "wcpd login: -u USER is required")
		return 2
	}
	password, err := loginPassword(stdin, stderr, *user)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd login: %v\n", err)
		return 1
	}
	info, err := requestLogin(*server, *user, password, *insecure)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd login: %v\n", err)
		return 1
	}
	path := *kubeconfig
	if path == "" {
		path = defaultKubeconfig()
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if errors.Is(err, os.ErrNotExist) {
		cfg, err = clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "wcpd login: reading %s: %v\n", path, err)
		return 1
	}
	contexts := kubeapi.MergeLogin(cfg, info)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		fmt.Fprintf(stderr, "wcpd login: %v\n", err)
		return 1
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		fmt.Fprintf(stderr, "wcpd login: writing %s: %v\n", path, err)
		return 1
	}
	fmt.Fprintf(stdout, "Logged in as %s; kubeconfig %s\n", info.User, path)
	for _, s := range info.Supervisors {
		if !s.Ready {
			fmt.Fprintf(stdout, "  Supervisor %s (%s): Kubernetes API not ready: %s\n", s.Name, s.Cluster, notReadyReason(s.Problem))
		}
	}
	if len(contexts) == 0 {
		fmt.Fprintln(stdout, "No Supervisor's Kubernetes API is ready yet; no context was written.")
		return 0
	}
	fmt.Fprintf(stdout, "Contexts: %s\n", strings.Join(contexts, ", "))
	fmt.Fprintf(stdout, "Current context: %s (switch with: kubectl config use-context NAME)\n", cfg.CurrentContext)
	return 0
}

// notReadyReason says why a Supervisor's API server is not ready: the problem it reports, or, when
// it reports none, that it is still starting.
func notReadyReason(problem string) string {
	if problem == "" {
		return "it is starting; log in again in a few seconds"
	}
	return problem
}

// loginPassword reads the password from WCPD_PASSWORD when it is set and not empty (as every
// command that reads it does), else from the terminal without echo, else from the first line of
// stdin.
func loginPassword(stdin io.Reader, stderr io.Writer, user string) (string, error) {
	if p := os.Getenv("WCPD_PASSWORD"); p != "" {
		return p, nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password for %s: ", user)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password: set WCPD_PASSWORD or type it at the prompt")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// requestLogin calls wcpd's Kubernetes login extension.
func requestLogin(server, user, password string, insecure bool) (kubeapi.LoginInfo, error) {
	var info kubeapi.LoginInfo
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(server, "/")+"/api/wcpd/kubernetes/login", nil)
	if err != nil {
		return info, err
	}
	req.SetBasicAuth(user, password)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}}} //nolint:gosec // the user asked for it
	res, err := hc.Do(req)
	if err != nil {
		return info, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return info, err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Messages []struct {
				DefaultMessage string `json:"default_message"`
			} `json:"messages"`
		}
		if json.Unmarshal(body, &e) == nil && len(e.Messages) > 0 {
			return info, fmt.Errorf("%s: %s", res.Status, e.Messages[0].DefaultMessage)
		}
		return info, fmt.Errorf("%s: %s", res.Status, body)
	}
	return info, json.Unmarshal(body, &info)
}

// defaultKubeconfig is where kubectl reads its configuration from.
func defaultKubeconfig() string {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return filepath.SplitList(env)[0]
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".kube", "config")
}
