package dispatch

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/hookd"
)

// Metrics are the delivery engine's Prometheus metrics.
type Metrics struct {
	deliveries      *prometheus.CounterVec
	latency         prometheus.Histogram
	circuitsOpen    prometheus.Gauge
	circuitOpenings prometheus.Counter
}

// NewMetrics registers the delivery metrics, including queue gauges read
// from the store at scrape time.
func NewMetrics(reg prometheus.Registerer, store hookd.QueueStore, now hookd.Clock) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_delivery_attempts_total",
			Help: "Delivery attempts by outcome: success, retry (failed, retry scheduled) or failed (failed for good).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookd_delivery_attempt_duration_seconds",
			Help:    "Time from sending a delivery to reading its response.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		circuitsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookd_circuits_open",
			Help: "Webhooks whose circuit breaker is open or half-open on this node: their deliveries wait.",
		}),
		circuitOpenings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_circuit_openings_total",
			Help: "Times a webhook's circuit breaker opened on this node (a failed probe reopening it included).",
		}),
	}
	depth := func() (int64, *time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, oldest, err := store.QueueDepth(ctx, now())
		if err != nil {
			return -1, nil
		}
		return n, oldest
	}
	reg.MustRegister(m.deliveries, m.latency, m.circuitsOpen, m.circuitOpenings,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hookd_queue_depth", Help: "Deliveries waiting to be sent (due or scheduled for retry).",
		}, func() float64 { n, _ := depth(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hookd_queue_oldest_due_age_seconds", Help: "How long the oldest due delivery has been waiting (0 when none is due).",
		}, func() float64 {
			_, oldest := depth()
			if oldest == nil {
				return 0
			}
			return max(0, now().Sub(*oldest).Seconds())
		}),
	)
	for _, o := range []string{"success", "retry", "failed"} {
		m.deliveries.WithLabelValues(o)
	}
	return m
}

func (m *Metrics) observeAttempt(outcome string, ms int64) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
	m.latency.Observe(float64(ms) / 1000)
}

// circuitOpened counts an opening; fresh is false when a failed probe
// reopened a circuit that was already counted as open.
func (m *Metrics) circuitOpened(fresh bool) {
	if m == nil {
		return
	}
	m.circuitOpenings.Inc()
	if fresh {
		m.circuitsOpen.Inc()
	}
}

// circuitClosed counts a circuit that closed or was forgotten.
func (m *Metrics) circuitClosed() {
	if m == nil {
		return
	}
	m.circuitsOpen.Dec()
}
