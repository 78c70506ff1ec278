package dispatch

import (
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Retry bounds.
const (
	// MaxBackoff caps the computed backoff (before jitter), so large
	// multipliers neither overflow nor park a delivery for years.
	MaxBackoff = 7 * 24 * time.Hour
	// jitterFraction is the largest share of the backoff added as jitter.
	jitterFraction = 0.1
)

// RetryPolicy computes when a failed delivery is attempted again.
type RetryPolicy struct {
	// Rand returns a number in [0, 1) that scales the jitter; nil uses
	// math/rand/v2's Float64. Tests pass a fixed function.
	Rand func() float64
}

// Next returns how long to wait after failed attempt number attempt
// (1 for the first) before the next one: retry_delay ×
// backoff_multiplier^(attempt−1) milliseconds, capped at MaxBackoff, plus
// up to 10 % jitter. retryAfter, when positive, is a receiver's
// Retry-After: the wait is at least that long (itself capped at
// outbound.MaxRetryAfter). ok is false once attempt > rc.MaxRetries: the
// delivery has used all its retries and failed for good.
func (p RetryPolicy) Next(rc hookd.RetryConfig, attempt int, retryAfter time.Duration) (wait time.Duration, ok bool) {
	if attempt < 1 || attempt > rc.MaxRetries {
		return 0, false
	}
	multiplier := rc.BackoffMultiplier
	if !(multiplier >= 1) { // also catches NaN
		multiplier = 1
	}
	delayMs := max(float64(rc.RetryDelay), 0)
	backoff := delayMs * math.Pow(multiplier, float64(attempt-1)) * float64(time.Millisecond)
	backoff = min(backoff, float64(MaxBackoff)) // +Inf becomes MaxBackoff too

	r := p.random()
	if !(r >= 0) { // NaN or negative
		r = 0
	}
	r = min(r, 1)
	wait = time.Duration(backoff + backoff*jitterFraction*r)

	if retryAfter > 0 {
		wait = max(wait, min(retryAfter, outbound.MaxRetryAfter))
	}
	return wait, true
}

// random draws the jitter factor.
func (p RetryPolicy) random() float64 {
	if p.Rand != nil {
		return p.Rand()
	}
	return rand.Float64()
}

// Decision is what follows one attempt at a delivery.
type Decision struct {
	// Outcome names it for the metrics: "success", "retry" or "failed".
	Outcome string
	// RetryAt is when to try again; nil when the delivery is over.
	RetryAt *time.Time
	// Disable, when set, switches the webhook off and says why.
	Disable string
}

// Decide is the one retry rule of every destination kind, applied to
// attempt number n's outcome at now: a success ends the delivery; a 410
// Gone fails it and switches the row off; an outcome its kind marked
// Permanent fails it at once; anything else is tried again after Next's
// wait until rc's retries run out.
func (p RetryPolicy) Decide(out outbound.Outcome, rc hookd.RetryConfig, n int, now time.Time) Decision {
	switch {
	case out.Success:
		return Decision{Outcome: "success"}
	case out.Status == http.StatusGone:
		return Decision{Outcome: "failed", Disable: "the endpoint answered 410 Gone"}
	case out.Permanent:
		return Decision{Outcome: "failed"}
	}
	wait, retry := p.Next(rc, n, out.RetryAfter)
	if !retry {
		return Decision{Outcome: "failed"}
	}
	at := now.Add(wait)
	return Decision{Outcome: "retry", RetryAt: &at}
}
