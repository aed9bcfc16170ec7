package server

import (
	"net"
	"sync"
	"time"
)

// Listener limits: what one client may hold of the server (docs/operations.md).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds how long a whole request, body included, may take to arrive: a
	// client that announces a body and never sends it is cut off then. It is long enough for a large
	// content library upload, short enough that a stalled client lets go.
	DefaultReadTimeout = 5 * time.Minute
	// DefaultIdleTimeout closes keep-alive connections unused for this long.
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConnsPerClient bounds the connections one client address holds at once (a negative
	// Config value lifts the bound).
	DefaultMaxConnsPerClient = 1024
)

// perClientListener refuses a connection when its client address already holds max others: one
// client cannot exhaust the server's file descriptors.
type perClientListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[string]int
}

func limitPerClient(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perClientListener{Listener: ln, max: max, open: map[string]int{}}
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := clientHost(c)
		l.mu.Lock()
		if l.open[host] >= l.max {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *perClientListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

func clientHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// countedConn gives its slot back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
