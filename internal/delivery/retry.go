package delivery

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// Retry bounds.
const (
	// MaxRetryAfter caps how long a receiver's Retry-After can hold a
	// delivery back.
	MaxRetryAfter = time.Hour
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
// MaxRetryAfter). ok is false once attempt > rc.MaxRetries: the delivery
// has used all its retries and failed for good.
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
		wait = max(wait, min(retryAfter, MaxRetryAfter))
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

// HonorsRetryAfter reports whether a response with this status has its
// Retry-After header applied: 429, 502, 503 and 504.
func HonorsRetryAfter(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// ParseRetryAfter reads a Retry-After header value, either delay-seconds
// or an HTTP date (relative to now), and returns the delay, at most
// MaxRetryAfter. An empty, malformed, negative or past value gives 0.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if isDigits(h) {
		secs, err := strconv.ParseInt(h, 10, 64)
		if err != nil || secs > int64(MaxRetryAfter/time.Second) { // overflow or too long
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	d := at.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
