package stream

import "github.com/prometheus/client_golang/prometheus"

// Why a started stream ended, as the hookd_stream_dropped_total reason
// label and the EndHeader trailer say it. A client that hangs up is not a
// drop and has no reason.
const (
	ReasonTooSlow      = "too_slow"      // its buffer overflowed (ErrTooSlow)
	ReasonWriteTimeout = "write_timeout" // a write did not finish within Options.WriteTimeout
	ReasonShutdown     = "shutdown"      // the server is stopping (ErrClosed)
	ReasonError        = "error"         // reading the store for a replay failed
)

// Metrics are the stream metrics, registered in the server's registry.
type Metrics struct {
	open    *prometheus.GaugeVec
	sent    *prometheus.CounterVec
	dropped *prometheus.CounterVec
}

// NewMetrics registers the stream metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookd_stream_open", Help: "Event streams open now, by format.",
		}, []string{"format"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_stream_events_sent_total", Help: "Events written to stream subscribers, by phase (replay from the store, or live).",
		}, []string{"phase"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_stream_dropped_total", Help: "Streams the server ended, by reason (too_slow, write_timeout, shutdown, error).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.open, m.sent, m.dropped)
	for _, r := range []string{ReasonTooSlow, ReasonWriteTimeout, ReasonShutdown, ReasonError} {
		m.dropped.WithLabelValues(r) // shown as 0 before the first drop
	}
	for _, f := range []Format{JSON, SSE} {
		m.open.WithLabelValues(string(f))
	}
	return m
}
