package kubeapi

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// maxLogBytes bounds a child's log file: a larger one is started afresh at the next start.
const maxLogBytes = 16 << 20

// stopGrace is how long a child has to exit after SIGTERM before it is killed.
const stopGrace = 10 * time.Second

// child is one upstream server running as `<executable> <command> <flags…>`, its output appended to
// a log file in the Supervisor's directory.
type child struct {
	command string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited; err is set before
	err     error
}

// startChild starts executable as command with args.
func startChild(executable, command string, args []string, logPath string) (*child, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > maxLogBytes {
		flags |= os.O_TRUNC
	}
	logFile, err := os.OpenFile(logPath, flags, 0o600)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "---- %s: starting %s\n", time.Now().UTC().Format(time.RFC3339), command)
	cmd := exec.Command(executable, append([]string{command}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = childEnv()
	// The child dies with wcpd, even after a kill -9: the kernel kills it when the thread that
	// started it goes, and Go does not end threads that goroutines may still use. SIGKILL, not
	// SIGTERM: without wcpd (and its etcd) a graceful shutdown has nothing to finish and can take a
	// minute, holding the port the next wcpd needs. wcpd's own orderly stop sends SIGTERM (stop).
	// Its own process group keeps a Ctrl-C at the terminal from reaching it before wcpd stops it in
	// order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", command, err)
	}
	c := &child{command: command, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logFile.Close()
		close(c.exited)
	}()
	return c, nil
}

// childEnv is wcpd's environment without what would change how the upstream servers behave when
// wcpd itself runs under `go test` (the test binary re-executes itself as the child).
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUBECONFIG=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// stop ends the child: SIGTERM, then SIGKILL after the grace period.
func (c *child) stop() {
	if c == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(stopGrace):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// failure describes how the child ended, with the last lines it logged.
func (c *child) failure() string {
	msg := fmt.Sprintf("%s exited", c.command)
	if c.err != nil {
		msg = fmt.Sprintf("%s exited (%v)", c.command, c.err)
	}
	if t := logTail(c.logPath, 3); t != "" {
		msg += ": " + t
	}
	return msg
}

// logTail returns the last n non-empty lines of a log file, joined with " | ".
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		_, _ = f.Seek(fi.Size()-window, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if l := strings.TrimSpace(string(lines[i])); l != "" && !strings.HasPrefix(l, "----") {
			out = append([]string{l}, out...)
		}
	}
	return strings.Join(out, " | ")
}
