package server_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/server"
	"github.com/wcpd/wcpd/internal/servertest"
)

// limited starts a server with short limits, so that the tests see them act.
func limited(t *testing.T) *servertest.Env {
	return servertest.New(t, servertest.WithConfig(func(c *server.Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = 500*time.Millisecond, 2*time.Second, 500*time.Millisecond
		c.MaxConnsPerClient = 3
	}))
}

func dial(t *testing.T, env *servertest.Env) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", strings.TrimPrefix(env.URL, "https://"),
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
}

// closedWithin reports whether the server closes conn before the deadline (reading only EOF or a
// reset, nothing else).
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// cutOffAfter sends a request that never ends and fails unless the server closes the connection.
func cutOffAfter(t *testing.T, partial, what string) {
	t.Helper()
	env := limited(t)
	conn, err := dial(t, env)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, partial); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(t, conn, 10*time.Second) {
		t.Fatal("the server still holds a connection whose " + what)
	}
}

func TestABodyThatNeverArrivesIsCutOff(t *testing.T) {
	t.Parallel()
	cutOffAfter(t, "POST /api/session HTTP/1.1\r\nHost: wcpd\r\nContent-Length: 100\r\n\r\n", "announced body never came")
}

// A client that starts a request and never finishes its headers (slowloris) is cut off too.
func TestHeadersThatNeverEndAreCutOff(t *testing.T) {
	t.Parallel()
	cutOffAfter(t, "GET /healthz HTTP/1.1\r\nHost: wcpd\r\nX-Slow: ", "headers never ended")
}

func TestIdleKeepAliveConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	env := limited(t)
	conn, err := dial(t, env)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: wcpd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("healthz: %q %v", status, err)
	}
	if !closedWithin(t, conn, 10*time.Second) {
		t.Fatal("the server keeps an idle keep-alive connection open")
	}
}

func TestOneClientCannotHoldMoreThanItsConnections(t *testing.T) {
	t.Parallel()
	env := limited(t)
	var held []*tls.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < 3; i++ {
		c, err := dial(t, env)
		if err != nil {
			t.Fatalf("connection %d of the 3 allowed: %v", i+1, err)
		}
		held = append(held, c)
	}
	if c, err := dial(t, env); err == nil {
		c.Close()
		t.Fatal("a fourth connection from the same client was accepted")
	}
	held[0].Close()
	held = held[1:]
	var err error
	for range 50 { // the server sees the close asynchronously; a handful of tries is plenty
		var c *tls.Conn
		if c, err = dial(t, env); err == nil {
			held = append(held, c)
			return
		}
	}
	t.Fatalf("a connection after one was closed: %v", err)
}
