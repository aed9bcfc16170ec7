package server

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// sweptPair is a connection accepted through a sweptDeadlines listener whose sweep never ticks on
// its own (the test sweeps), and the client's end.
func sweptPair(t *testing.T) (*sweptDeadlines, *sweptConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := sweepDeadlines(ln, time.Hour)
	t.Cleanup(func() { l.Close() })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return l, c.(*sweptConn), client
}

// readOne reads one byte in the background and reports the error.
func readOne(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(c, make([]byte, 1))
		done <- err
	}()
	return done
}

func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read ended with %v, want a timeout", err)
	}
}

// A read blocked past its deadline ends with a timeout at the first sweep after the deadline, not
// before; clearing the deadline then lets the next read proceed.
func TestASweepInterruptsAReadPastItsDeadline(t *testing.T) {
	l, c, client := sweptPair(t)
	deadline := time.Now().Add(time.Minute)
	if err := c.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	done := readOne(c)
	l.sweep(deadline.Add(-time.Second)) // not yet
	l.sweep(deadline)
	wantTimeout(t, <-done)

	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	readsWhatComes(t, c, client, "after the deadline was cleared")
}

// readsWhatComes fails unless a read on c gets what the client then sends.
func readsWhatComes(t *testing.T, c *sweptConn, client net.Conn, when string) {
	t.Helper()
	done := readOne(c)
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("a read %s: %v", when, err)
	}
}

// A deadline moved before it passed is the one the sweep keeps.
func TestASweepKeepsTheLatestDeadline(t *testing.T) {
	l, c, client := sweptPair(t)
	first := time.Now().Add(time.Minute)
	_ = c.SetReadDeadline(first)
	_ = c.SetReadDeadline(first.Add(time.Hour))
	l.sweep(first.Add(time.Second))
	readsWhatComes(t, c, client, "within the moved deadline")
}

// A deadline already past when it is set interrupts a read at once, as net/http expects when it
// wakes the read it keeps on a connection while a handler runs.
func TestAPastDeadlineInterruptsAtOnce(t *testing.T) {
	_, c, _ := sweptPair(t)
	done := readOne(c)
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	wantTimeout(t, <-done)
}

// Closed connections leave the sweep; once the listener closes, deadlines go to the connections
// themselves.
func TestClosedConnectionsLeaveTheSweep(t *testing.T) {
	l, c, _ := sweptPair(t)
	_ = c.SetReadDeadline(time.Now().Add(time.Hour))
	l.Close() // returns once the sweep has handed the deadline back
	if c.deadline.Load() != 0 || !c.direct {
		t.Fatal("a connection still has its deadline kept after the sweep stopped")
	}
	done := readOne(c)
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond)) // set on the connection itself now
	wantTimeout(t, <-done)
	c.Close()
	l.mu.Lock()
	n := len(l.conns)
	l.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d connections still swept after they closed", n)
	}
}
