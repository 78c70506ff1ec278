package dispatch

import (
	"sync"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// BreakerPolicy says when an endpoint's circuit opens and for how long.
// The zero value takes the defaults.
type BreakerPolicy struct {
	// Failures is how many attempts in a row that timed out or could not
	// connect open the circuit (default 5).
	Failures int
	// Open is how long the circuit first stays open (default 30 s); each
	// failed probe doubles it, up to MaxOpen (default 10 min).
	Open    time.Duration
	MaxOpen time.Duration
}

// withDefaults fills the zero fields.
func (p BreakerPolicy) withDefaults() BreakerPolicy {
	if p.Failures <= 0 {
		p.Failures = 5
	}
	if p.Open <= 0 {
		p.Open = 30 * time.Second
	}
	if p.MaxOpen < p.Open {
		p.MaxOpen = max(p.Open, 10*time.Minute)
	}
	return p
}

// Circuit states, as State answers them.
const (
	CircuitClosed   = "closed"    // requests flow
	CircuitOpen     = "open"      // the endpoint's deliveries wait until the open period ends
	CircuitHalfOpen = "half_open" // one probe request may go; its outcome closes or reopens
)

// Breakers hold one circuit per webhook, on this node. A circuit counts
// the webhook's attempts in a row that timed out or could not connect;
// at BreakerPolicy.Failures it opens, and the dispatcher stops claiming
// and sending the webhook's deliveries: they stay queued, due as they
// were, with no attempt counted. When the open period ends the circuit is
// half-open: one delivery goes as a probe. An answer (any HTTP status)
// closes the circuit; another timeout or connection failure opens it
// again for twice as long, up to MaxOpen.
//
// State is per node: each node learns about an endpoint from its own
// attempts, so with several nodes a dead endpoint costs each of them
// Failures attempts before its circuit opens there.
type Breakers struct {
	policy  BreakerPolicy
	now     hookd.Clock
	metrics *Metrics
	changed func(webhookID int64, state string, openUntil *time.Time) // nil: nobody listens

	mu       sync.Mutex
	circuits map[int64]*circuit
}

// circuit is one webhook's breaker. It is closed while openFor is zero;
// open until openUntil, then half-open.
type circuit struct {
	failures  int // timeouts or connection errors in a row
	openFor   time.Duration
	openUntil time.Time
}

// newBreakers returns breakers with the policy's defaults filled in.
func newBreakers(p BreakerPolicy, now hookd.Clock, m *Metrics) *Breakers {
	return &Breakers{policy: p.withDefaults(), now: now.OrSystem(), metrics: m, circuits: map[int64]*circuit{}}
}

// OnChange sets what hears each circuit open (again, after a failed
// probe) or close, e.g. to raise an operational event; it is called on
// the sender that made the attempt, outside any lock. Set it before Run.
func (b *Breakers) OnChange(f func(webhookID int64, state string, openUntil *time.Time)) {
	b.changed = f
}

// State answers a webhook's circuit state (CircuitClosed, CircuitOpen or
// CircuitHalfOpen) and, while it is open, when the next probe may go.
func (b *Breakers) State(webhookID int64) (state string, openUntil *time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuits[webhookID]
	switch {
	case c == nil || c.openFor == 0:
		return CircuitClosed, nil
	case b.now().Before(c.openUntil):
		until := c.openUntil
		return CircuitOpen, &until
	default:
		return CircuitHalfOpen, nil
	}
}

// counts reports whether an attempt's error type counts towards opening:
// the endpoint did not answer at all.
func counts(errorType string) bool {
	return errorType == hookd.ErrTypeTimeout || errorType == hookd.ErrTypeConnection
}

// record takes an attempt's outcome ("" error type: it answered) and
// reports whether the circuit opened because of it.
func (b *Breakers) record(webhookID int64, errorType string) (opened bool) {
	state, until := b.transition(webhookID, errorType)
	if state != "" && b.changed != nil {
		b.changed(webhookID, state, until)
	}
	return state == CircuitOpen
}

// transition applies an outcome and returns the state the circuit moved
// to ("" when it did not move) and, when open, until when.
func (b *Breakers) transition(webhookID int64, errorType string) (string, *time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuits[webhookID]
	if !counts(errorType) {
		if c == nil {
			return "", nil
		}
		delete(b.circuits, webhookID)
		if c.openFor == 0 {
			return "", nil
		}
		b.metrics.circuitClosed()
		return CircuitClosed, nil
	}
	if c == nil {
		c = &circuit{}
		b.circuits[webhookID] = c
	}
	now := b.now()
	switch {
	case c.openFor == 0: // closed
		if c.failures++; c.failures < b.policy.Failures {
			return "", nil
		}
		c.openFor = b.policy.Open
		b.metrics.circuitOpened(true)
	case now.Before(c.openUntil):
		return "", nil // sent before the circuit opened
	default: // the probe failed
		c.openFor = min(2*c.openFor, b.policy.MaxOpen)
		b.metrics.circuitOpened(false)
	}
	c.openUntil = now.Add(c.openFor)
	until := c.openUntil
	return CircuitOpen, &until
}

// bound is how many requests a webhook may have in flight because of its
// circuit: 0 while open, 1 (the probe) while half-open, -1 for no bound.
func (b *Breakers) bound(webhookID int64, now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.circuits[webhookID]
	switch {
	case c == nil || c.openFor == 0:
		return -1
	case now.Before(c.openUntil):
		return 0
	default:
		return 1
	}
}

// failing reports whether a webhook's last attempt timed out or could not
// connect (its circuit counting, open or half-open).
func (b *Breakers) failing(webhookID int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.circuits[webhookID] != nil
}

// open lists the webhooks whose circuit is open at now, and the earliest
// time one of them becomes half-open (zero when none is open).
func (b *Breakers) open(now time.Time) (ids []int64, next time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, c := range b.circuits {
		if c.openFor > 0 && now.Before(c.openUntil) {
			ids = append(ids, id)
			if next.IsZero() || c.openUntil.Before(next) {
				next = c.openUntil
			}
		}
	}
	return ids, next
}

// forget drops a webhook's circuit (the webhook was deleted or switched
// off: it starts afresh if it comes back).
func (b *Breakers) forget(webhookID int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.circuits[webhookID]; c != nil && c.openFor > 0 {
		b.metrics.circuitClosed()
	}
	delete(b.circuits, webhookID)
}
