package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// net/http moves a connection's read deadline three times for every request it serves (the
// header timeout while it waits for the next request, the whole request's timeout, the idle
// timeout after the answer), and each move re-arms a timer in the Go runtime. On a small read
// that costs about 4 % of the throughput and half a millisecond of p99 under load (issue 16,
// docs/performance.md). The timeouts are seconds to minutes long, so they need no such precision:
// the listener below keeps each connection's read deadline as a number and a sweep a few times a
// second interrupts the reads whose deadline has passed, by setting a past deadline on the
// connection itself, which arms no timer. A deadline is then enforced up to one sweep late; one
// that had passed by the last sweep when it is set (net/http sets one long past to wake a read at
// once) goes to the connection at once.

// deadlineSweepInterval is how often the sweep runs: often enough for the shortest timeout to be
// kept within a quarter of itself, never more than 20 times a second nor less than once.
func deadlineSweepInterval(timeouts ...time.Duration) time.Duration {
	every := time.Second
	for _, d := range timeouts {
		if d > 0 && d/4 < every {
			every = d / 4
		}
	}
	return max(every, 50*time.Millisecond)
}

// sweptDeadlines is a listener whose connections' read deadlines are kept by a sweep.
type sweptDeadlines struct {
	net.Listener
	every time.Duration

	mu    sync.Mutex
	conns map[*sweptConn]struct{}

	// swept is when the sweep last ran (Unix nanoseconds): a deadline before it has certainly passed,
	// and is told so without reading the clock on every deadline set.
	swept atomic.Int64

	stop     chan struct{}
	stopOnce sync.Once
	stopped  chan struct{} // closed once the sweep has handed every deadline back
}

func sweepDeadlines(ln net.Listener, every time.Duration) *sweptDeadlines {
	l := &sweptDeadlines{Listener: ln, every: every, conns: map[*sweptConn]struct{}{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	l.swept.Store(time.Now().UnixNano())
	go l.run()
	return l
}

func (l *sweptDeadlines) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &sweptConn{Conn: c, owner: l}
	l.mu.Lock()
	l.conns[sc] = struct{}{}
	l.mu.Unlock()
	return sc, nil
}

// Close stops the sweep and closes the listener; connections already accepted keep their
// deadlines as net/http sets them directly from then on.
func (l *sweptDeadlines) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.stopped
	return l.Listener.Close()
}

func (l *sweptDeadlines) run() {
	defer close(l.stopped)
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			l.mu.Lock()
			for c := range l.conns {
				c.detach()
			}
			l.mu.Unlock()
			return
		case now := <-tick.C:
			l.sweep(now)
		}
	}
}

// sweep interrupts the reads of the connections whose deadline is at or before now.
func (l *sweptDeadlines) sweep(now time.Time) {
	at := now.UnixNano()
	l.swept.Store(at)
	var due []*sweptConn
	l.mu.Lock()
	for c := range l.conns {
		if d := c.deadline.Load(); d != 0 && d <= at {
			due = append(due, c)
		}
	}
	l.mu.Unlock()
	for _, c := range due { // outside the listener's lock: a connection's own lock comes first elsewhere
		c.expire(at)
	}
}

func (l *sweptDeadlines) forget(c *sweptConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// sweptConn is a connection whose read deadline the sweep keeps.
type sweptConn struct {
	net.Conn
	owner *sweptDeadlines

	// deadline is the read deadline in Unix nanoseconds, 0 for none: read by the sweep without
	// the lock, written under it.
	deadline atomic.Int64
	mu       sync.Mutex
	// armed: the connection itself holds a read deadline (a past one, set by the sweep or passed
	// through), which the next deadline set must clear.
	armed bool
	// direct: the sweep has stopped; deadlines go to the connection as they are set.
	direct bool
	closed atomic.Bool
}

func (c *sweptConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.direct {
		return c.Conn.SetReadDeadline(t)
	}
	var at int64
	if !t.IsZero() {
		at = t.UnixNano()
	}
	if at != 0 && at < c.owner.swept.Load() {
		// Already past: net/http sets one to interrupt a read now, and waits for it. (One that
		// passed since the last sweep is kept until the next, like any other.)
		c.deadline.Store(0)
		c.armed = true
		return c.Conn.SetReadDeadline(t)
	}
	c.deadline.Store(at)
	if c.armed {
		c.armed = false
		return c.Conn.SetReadDeadline(time.Time{})
	}
	return nil
}

func (c *sweptConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// expire interrupts the connection's read if its deadline is still one that has passed at at.
func (c *sweptConn) expire(at int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.deadline.Load()
	if c.direct || d == 0 || d > at {
		return // moved since the sweep looked
	}
	c.deadline.Store(0)
	c.armed = true
	_ = c.Conn.SetReadDeadline(longAgo)
}

// longAgo is a deadline that has passed, whatever the clock says.
var longAgo = time.Unix(1, 0)

// detach hands the deadline back to the connection itself, when the sweep stops.
func (c *sweptConn) detach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.direct = true
	if d := c.deadline.Swap(0); d != 0 {
		_ = c.Conn.SetReadDeadline(time.Unix(0, d))
	}
}

func (c *sweptConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.owner.forget(c)
	}
	return c.Conn.Close()
}
