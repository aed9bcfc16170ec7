package vapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts requests and their latency per operation.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// rpc counts JSON-RPC invokes by operation and vAPI error type ("" for success): their HTTP
	// status is always 200, so requests alone cannot tell their outcome.
	rpc *prometheus.CounterVec
	// observers holds, per operation and status, the series a request adds to: looking them up in
	// the vectors (hashing and validating the labels) on every request cost more than serving a
	// kept answer's body.
	observers sync.Map // opStatus -> *requestObservers
	// rpcCounts holds the rpc series per operation and error type, for the same reason.
	rpcCounts sync.Map // opError -> prometheus.Counter
}

type opError struct{ op, errorType string }

type opStatus struct {
	op     string
	status int
}

type requestObservers struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// NewMetrics registers the request metrics on reg (one registry per server, never the global one).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wcpd_requests_total", Help: "API requests by operation and HTTP status.",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wcpd_request_duration_seconds",
			Help:    "API request latency by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		rpc: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wcpd_jsonrpc_requests_total", Help: "vAPI JSON-RPC invokes on POST /api by operation and vAPI error type (empty for success).",
		}, []string{"operation", "error"}),
	}
	reg.MustRegister(m.requests, m.latency, m.rpc)
	return m
}

func (m *Metrics) observe(op string, status int, d time.Duration) {
	if m == nil {
		return
	}
	key := opStatus{op, status}
	o, ok := m.observers.Load(key)
	if !ok {
		// Operation ids and statuses are few (the registry's, and those HTTP has), so the map
		// stays small.
		o, _ = m.observers.LoadOrStore(key, &requestObservers{
			count:   m.requests.WithLabelValues(op, statusLabel(status)),
			latency: m.latency.WithLabelValues(op),
		})
	}
	ro := o.(*requestObservers)
	ro.count.Inc()
	ro.latency.Observe(d.Seconds())
}

// statusLabels holds the labels of the HTTP statuses, made once rather than per request.
var statusLabels = func() (out [600]string) {
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

func (m *Metrics) observeRPC(op, errorType string) {
	if m == nil {
		return
	}
	key := opError{op, errorType}
	c, ok := m.rpcCounts.Load(key)
	if !ok {
		// Only served operations name an invoke (invokeRPC), and error types are the standard
		// ones: the map stays small.
		c, _ = m.rpcCounts.LoadOrStore(key, m.rpc.WithLabelValues(op, errorType))
	}
	c.(prometheus.Counter).Inc()
}
