// Package govctest runs govc commands inside the test process, so tests can
// check wcpd with the same CLI its users run.
//
// govc's commands are process-wide singletons that print to os.Stdout and
// os.Stderr, so Run serialises every invocation behind one mutex and swaps the
// standard streams for pipes while a command runs. Target adds the flags that
// keep a run hermetic: an explicit URL, no certificate check, no session
// persisted under ~/.govmomi and no debug log written there.
package govctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/cli"

	// The govc commands wcpd's tests drive. Each import registers its
	// commands with the cli package.
	_ "github.com/vmware/govmomi/cli/about"
	_ "github.com/vmware/govmomi/cli/cluster"
	_ "github.com/vmware/govmomi/cli/datacenter"
	_ "github.com/vmware/govmomi/cli/datastore"
	_ "github.com/vmware/govmomi/cli/device"
	_ "github.com/vmware/govmomi/cli/dvs"
	_ "github.com/vmware/govmomi/cli/dvs/portgroup"
	_ "github.com/vmware/govmomi/cli/events"
	_ "github.com/vmware/govmomi/cli/export"
	_ "github.com/vmware/govmomi/cli/fields"
	_ "github.com/vmware/govmomi/cli/folder"
	_ "github.com/vmware/govmomi/cli/host"
	_ "github.com/vmware/govmomi/cli/host/maintenance"
	_ "github.com/vmware/govmomi/cli/importx"
	_ "github.com/vmware/govmomi/cli/library"
	_ "github.com/vmware/govmomi/cli/namespace"
	_ "github.com/vmware/govmomi/cli/namespace/cluster"
	_ "github.com/vmware/govmomi/cli/namespace/service"
	_ "github.com/vmware/govmomi/cli/namespace/vmclass"
	_ "github.com/vmware/govmomi/cli/object"
	_ "github.com/vmware/govmomi/cli/permissions"
	_ "github.com/vmware/govmomi/cli/pool"
	_ "github.com/vmware/govmomi/cli/role"
	_ "github.com/vmware/govmomi/cli/session"
	_ "github.com/vmware/govmomi/cli/storage/policy"
	_ "github.com/vmware/govmomi/cli/tags"
	_ "github.com/vmware/govmomi/cli/tags/association"
	_ "github.com/vmware/govmomi/cli/tags/category"
	_ "github.com/vmware/govmomi/cli/task"
	_ "github.com/vmware/govmomi/cli/version"
	_ "github.com/vmware/govmomi/cli/vm"
	_ "github.com/vmware/govmomi/cli/vm/disk"
	_ "github.com/vmware/govmomi/cli/vm/network"
)

// runMu serialises Run: the cli package keeps one instance per command and
// the standard streams are process-wide.
var runMu sync.Mutex

// pristine holds each command's value as registered, taken before any run:
// flag values that accumulate (vm.change -e appends) live in the command's
// struct and would otherwise carry over from one run to the next.
var pristine map[string]reflect.Value

// resetCommand restores the named command's struct to its registered value.
// Only the top-level fields are restored; that covers the flags govc keeps.
func resetCommand(name string) {
	if pristine == nil {
		pristine = map[string]reflect.Value{}
		for n, c := range cli.Commands() {
			v := reflect.ValueOf(c)
			if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
				snapshot := reflect.New(v.Elem().Type()).Elem()
				snapshot.Set(v.Elem())
				pristine[n] = snapshot
			}
		}
	}
	if snapshot, ok := pristine[name]; ok {
		reflect.ValueOf(cli.Commands()[name]).Elem().Set(snapshot)
	}
}

// Run runs one govc command in process (args[0] is the command name, e.g.
// "ls"), serialised by a package mutex, and returns what it printed and its
// exit code. Anything other goroutines print to os.Stdout or os.Stderr while
// the command runs lands in the result too (the log package and the testing
// package keep their own writers, so their output does not).
func Run(args ...string) (stdout, stderr string, exitCode int) {
	runMu.Lock()
	defer runMu.Unlock()
	if len(args) > 0 {
		resetCommand(args[0])
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return "", "govctest: " + err.Error(), 1
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return "", "govctest: " + err.Error(), 1
	}

	// Drain both pipes while the command runs: a command printing more than
	// a pipe buffer would otherwise block forever.
	var outBuf, errBuf bytes.Buffer
	var drained sync.WaitGroup
	drained.Add(2)
	go func() { defer drained.Done(); _, _ = io.Copy(&outBuf, outR) }()
	go func() { defer drained.Done(); _, _ = io.Copy(&errBuf, errR) }()

	savedOut, savedErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	func() {
		defer func() {
			os.Stdout, os.Stderr = savedOut, savedErr
			if p := recover(); p != nil {
				fmt.Fprintf(errW, "govctest: govc %s panicked: %v\n", strings.Join(args, " "), p)
				exitCode = 2
			}
		}()
		exitCode = cli.Run(args)
	}()
	outW.Close()
	errW.Close()
	drained.Wait()
	outR.Close()
	errR.Close()

	return outBuf.String(), errBuf.String(), exitCode
}

// Target is a server that govc commands are pointed at.
type Target struct {
	// URL is the server's SDK URL with credentials, for example
	// https://user:pass@127.0.0.1:8443/sdk.
	URL string
}

// Run runs command against t with the flags that keep the run hermetic:
// -u t.URL -k -persist-session=false -debug=false, then args. It refuses to
// run while GOVC_* variables are set, because govc reads them as defaults
// (credentials, datacenter, ...) and the result would depend on the shell
// that started the tests.
func (t Target) Run(command string, args ...string) (stdout, stderr string, exitCode int) {
	if vars := govcEnvironment(); len(vars) > 0 {
		return "", fmt.Sprintf("govctest: unset %s: govc reads them as defaults and tests would stop being hermetic\n",
			strings.Join(vars, ", ")), 2
	}
	full := append([]string{command, "-u", t.URL, "-k", "-persist-session=false", "-debug=false"}, args...)
	return Run(full...)
}

// govcEnvironment lists the GOVC_* variables set in the environment.
func govcEnvironment() []string {
	var names []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GOVC_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Transcript runs each command (a govc command and its arguments) against t and returns what
// they printed, each after a "$ govc ..." line, for comparing what a client sees at two moments.
// A command's JSON output (its arguments include -json) is re-encoded with sorted keys, and a
// list of objects is put in the order of their "id" fields: the vAPI side lists from a map.
// A command that fails ends the transcript with its error.
func (t Target) Transcript(commands ...[]string) string {
	var b strings.Builder
	for _, cmd := range commands {
		out, errOut, code := t.Run(cmd[0], cmd[1:]...)
		b.WriteString("$ govc " + strings.Join(cmd, " ") + "\n")
		if code != 0 {
			b.WriteString(fmt.Sprintf("exit %d: %s\n", code, errOut))
			return b.String()
		}
		if slices.Contains(cmd, "-json") {
			out = normalizeJSON(out)
		}
		b.WriteString(out + "\n")
	}
	return b.String()
}

func normalizeJSON(doc string) string {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	if list, ok := v.([]any); ok {
		sort.SliceStable(list, func(i, j int) bool {
			a, _ := list[i].(map[string]any)
			b, _ := list[j].(map[string]any)
			ida, _ := a["id"].(string)
			idb, _ := b["id"].(string)
			return ida < idb
		})
	}
	out, _ := json.MarshalIndent(v, "", " ")
	return string(out)
}
