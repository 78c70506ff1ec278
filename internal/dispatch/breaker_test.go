package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/internal/hookd"
)

// TestBreakerStates walks one circuit through its states on a clock the
// test moves: closed until the fifth timeout in a row, open 30 s, a failed
// probe reopens it for twice as long, an answer closes it.
func TestBreakerStates(t *testing.T) {
	clock := hookd.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	b := newBreakers(BreakerPolicy{}, clock.Now, NewMetrics(reg, testStore(t), clock.Now))
	var heard []string
	b.OnChange(func(id int64, state string, until *time.Time) { heard = append(heard, state) })
	state := func(want string, until time.Duration) {
		t.Helper()
		got, at := b.State(7)
		if got != want {
			t.Fatalf("state %s, want %s", got, want)
		}
		switch {
		case until == 0 && at != nil:
			t.Fatalf("open until %v, want none", at)
		case until != 0 && (at == nil || !at.Equal(clock.Now().Add(until))):
			t.Fatalf("open until %v, want %v", at, clock.Now().Add(until))
		}
	}
	for range 4 {
		if b.record(7, hookd.ErrTypeTimeout) {
			t.Fatal("opened before the fifth failure")
		}
	}
	b.record(7, "http_500") // an answer resets the count
	for i := range 5 {
		if opened := b.record(7, hookd.ErrTypeConnection); opened != (i == 4) {
			t.Fatalf("failure %d: opened %v", i+1, opened)
		}
	}
	state(CircuitOpen, 30*time.Second)
	if ids, _ := b.open(clock.Now()); len(ids) != 1 || ids[0] != 7 {
		t.Fatalf("open circuits %v, want [7]", ids)
	}
	if b.record(7, hookd.ErrTypeTimeout) {
		t.Fatal("a request sent before the opening reopened it")
	}
	clock.Advance(30 * time.Second)
	state(CircuitHalfOpen, 0)
	if got := b.bound(7, clock.Now()); got != 1 {
		t.Fatalf("half-open bound %d, want 1 probe", got)
	}
	if !b.record(7, hookd.ErrTypeTimeout) {
		t.Fatal("a failed probe did not reopen")
	}
	state(CircuitOpen, time.Minute)
	clock.Advance(time.Minute)
	b.record(7, "")
	state(CircuitClosed, 0)
	if got := fmt.Sprint(heard); got != "[open open closed]" {
		t.Errorf("changes heard %s, want [open open closed]", got)
	}
	if got := metricValue(t, reg, "hookd_circuit_openings_total"); got != 2 {
		t.Errorf("openings %v, want 2", got)
	}
	if got := metricValue(t, reg, "hookd_circuits_open"); got != 0 {
		t.Errorf("open circuits gauge %v, want 0", got)
	}
}

// TestBreakerOpenPeriodIsCapped: failed probes double the open period up
// to MaxOpen; forgetting a webhook closes its circuit.
func TestBreakerOpenPeriodIsCapped(t *testing.T) {
	clock := hookd.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	b := newBreakers(BreakerPolicy{Failures: 1, Open: time.Second, MaxOpen: 5 * time.Second}, clock.Now, NewMetrics(reg, testStore(t), clock.Now))
	var last time.Duration
	for range 6 {
		b.record(1, hookd.ErrTypeTimeout)
		_, until := b.State(1)
		last = until.Sub(clock.Now())
		clock.Advance(last)
	}
	if last != 5*time.Second {
		t.Fatalf("open for %v after many failed probes, want the 5s cap", last)
	}
	if got := metricValue(t, reg, "hookd_circuits_open"); got != 1 {
		t.Fatalf("open circuits gauge %v, want 1", got)
	}
	b.forget(1)
	if s, _ := b.State(1); s != CircuitClosed {
		t.Fatalf("forgotten circuit %s", s)
	}
	if got := metricValue(t, reg, "hookd_circuits_open"); got != 0 {
		t.Fatalf("open circuits gauge %v after forget, want 0", got)
	}
}

// metricValue reads a gauge or counter without labels from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
