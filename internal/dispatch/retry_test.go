package dispatch

import (
	"math"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// fixedRand returns a Rand that always yields v.
func fixedRand(v float64) func() float64 { return func() float64 { return v } }

func TestRetryPolicyBackoff(t *testing.T) {
	t.Parallel()
	rc := hookd.RetryConfig{MaxRetries: 5, RetryDelay: 5000, BackoffMultiplier: 2}
	tests := []struct {
		attempt int
		rand    float64
		want    time.Duration
	}{
		{1, 0, 5 * time.Second},
		{2, 0, 10 * time.Second},
		{3, 0, 20 * time.Second},
		{5, 0, 80 * time.Second},
		{1, 0.5, 5250 * time.Millisecond},
		{3, 0.5, 21 * time.Second},
		{1, 1, 5500 * time.Millisecond}, // out-of-range Rand is clamped
		{1, -3, 5 * time.Second},
		{1, math.NaN(), 5 * time.Second},
	}
	for _, tt := range tests {
		got, ok := RetryPolicy{Rand: fixedRand(tt.rand)}.Next(rc, tt.attempt, 0)
		if !ok || got != tt.want {
			t.Errorf("Next(attempt %d, rand %v) = %v, %v; want %v, true", tt.attempt, tt.rand, got, ok, tt.want)
		}
	}

	frac := RetryPolicy{Rand: fixedRand(0)}
	got, _ := frac.Next(hookd.RetryConfig{MaxRetries: 3, RetryDelay: 100, BackoffMultiplier: 1.5}, 3, 0)
	if got != 225*time.Millisecond {
		t.Errorf("100ms × 1.5² = %v, want 225ms", got)
	}
	got, _ = frac.Next(hookd.RetryConfig{MaxRetries: 3, RetryDelay: 1000, BackoffMultiplier: 1}, 3, 0)
	if got != time.Second {
		t.Errorf("multiplier 1 at attempt 3 = %v, want 1s", got)
	}
}

func TestRetryPolicyJitterBounds(t *testing.T) {
	t.Parallel()
	rc := hookd.RetryConfig{MaxRetries: 25, RetryDelay: 1234, BackoffMultiplier: 1.7}
	for attempt := 1; attempt <= 10; attempt++ {
		// base is not a whole number of nanoseconds: allow 1 µs of rounding.
		baseF := 1234 * math.Pow(1.7, float64(attempt-1)) * float64(time.Millisecond)
		base, upper := time.Duration(baseF), time.Duration(baseF*1.1)
		low, _ := RetryPolicy{Rand: fixedRand(0)}.Next(rc, attempt, 0)
		high, _ := RetryPolicy{Rand: fixedRand(math.Nextafter(1, 0))}.Next(rc, attempt, 0)
		if d := low - base; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("attempt %d with rand 0: %v, want %v", attempt, low, base)
		}
		if high < upper-time.Millisecond || high > upper+time.Microsecond {
			t.Errorf("attempt %d with rand 0.999…: %v, want just under %v", attempt, high, upper)
		}
	}

	// Real random draws: every wait within [base, base×1.1], and the
	// jitter actually spreads them.
	rc = hookd.RetryConfig{MaxRetries: 3, RetryDelay: 10000, BackoffMultiplier: 3}
	base := 90 * time.Second // attempt 3: 10 s × 3²
	var policy RetryPolicy
	seen := map[time.Duration]bool{}
	lowHalf, highHalf := 0, 0
	for range 5000 {
		wait, ok := policy.Next(rc, 3, 0)
		if !ok || wait < base || wait > base+base/10 {
			t.Fatalf("Next = %v, %v; want within [%v, %v]", wait, ok, base, base+base/10)
		}
		seen[wait] = true
		if wait < base+base/20 {
			lowHalf++
		} else {
			highHalf++
		}
	}
	if len(seen) < 1000 || lowHalf < 2000 || highHalf < 2000 {
		t.Fatalf("jitter poorly spread: %d distinct waits, %d in the low half, %d in the high half", len(seen), lowHalf, highHalf)
	}
}

func TestRetryPolicyMaxRetries(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Rand: fixedRand(0)}
	tests := []struct {
		maxRetries, attempt int
		ok                  bool
	}{
		{3, 1, true},
		{3, 3, true},  // the third retry is still made
		{3, 4, false}, // after 3 retries the delivery failed for good
		{0, 1, false}, // no retries at all
		{25, 25, true},
		{25, 26, false},
		{3, 0, false},
	}
	for _, tt := range tests {
		rc := hookd.RetryConfig{MaxRetries: tt.maxRetries, RetryDelay: 100, BackoffMultiplier: 2}
		wait, ok := p.Next(rc, tt.attempt, 0)
		if ok != tt.ok {
			t.Errorf("max_retries %d, attempt %d: ok = %v, want %v", tt.maxRetries, tt.attempt, ok, tt.ok)
		}
		if !ok && wait != 0 {
			t.Errorf("max_retries %d, attempt %d: wait %v with ok=false", tt.maxRetries, tt.attempt, wait)
		}
	}
}

func TestRetryPolicyCaps(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Rand: fixedRand(0)}
	// The largest configuration the API accepts: 24 h × 10^24.
	huge := hookd.RetryConfig{MaxRetries: 25, RetryDelay: 86_400_000, BackoffMultiplier: 10}
	for _, attempt := range []int{2, 10, 25} {
		wait, ok := p.Next(huge, attempt, 0)
		if !ok || wait != MaxBackoff {
			t.Errorf("huge config, attempt %d: %v, %v; want %v", attempt, wait, ok, MaxBackoff)
		}
	}
	wait, _ := RetryPolicy{Rand: fixedRand(0.5)}.Next(huge, 25, 0)
	if wait != MaxBackoff+MaxBackoff/20 {
		t.Errorf("capped backoff with rand 0.5 = %v, want MaxBackoff + 5%%", wait)
	}
	if wait <= 0 {
		t.Errorf("wait overflowed: %v", wait)
	}
}

func TestRetryPolicyRetryAfter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Rand: fixedRand(0)}
	rc := hookd.RetryConfig{MaxRetries: 3, RetryDelay: 5000, BackoffMultiplier: 2}
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"none", 1, 0, 5 * time.Second},
		{"shorter than the backoff", 2, 3 * time.Second, 10 * time.Second},
		{"longer than the backoff", 1, 2 * time.Minute, 2 * time.Minute},
		{"capped at an hour", 1, 5 * time.Hour, time.Hour},
		{"negative is ignored", 1, -time.Minute, 5 * time.Second},
	}
	for _, tt := range tests {
		got, ok := p.Next(rc, tt.attempt, tt.retryAfter)
		if !ok || got != tt.want {
			t.Errorf("%s: Next = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
	long := hookd.RetryConfig{MaxRetries: 3, RetryDelay: 7_200_000, BackoffMultiplier: 1}
	if got, _ := p.Next(long, 1, 30*time.Minute); got != 2*time.Hour {
		t.Errorf("a backoff longer than Retry-After is kept: got %v, want 2h", got)
	}
	if _, ok := p.Next(rc, 4, time.Minute); ok {
		t.Error("Retry-After must not add retries beyond max_retries")
	}
}

// TestDecideOneRuleForEveryKind: what follows an attempt depends on its
// outcome only, whichever kind of destination made it.
func TestDecideOneRuleForEveryKind(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Rand: fixedRand(0)}
	rc := hookd.RetryConfig{MaxRetries: 2, RetryDelay: 1000, BackoffMultiplier: 2}
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		out     outbound.Outcome
		attempt int
		want    string
		retryIn time.Duration
		disable bool
	}{
		{"success", outbound.Outcome{Success: true, Status: 200}, 1, "success", 0, false},
		{"a webhook's 400 is retried", outbound.Outcome{Status: 400}, 1, "retry", time.Second, false},
		{"a timeout is retried", outbound.Outcome{}, 2, "retry", 2 * time.Second, false},
		{"retries used up", outbound.Outcome{Status: 500}, 3, "failed", 0, false},
		{"permanent fails at once", outbound.Outcome{Status: 401, Permanent: true}, 1, "failed", 0, false},
		{"410 switches the row off", outbound.Outcome{Status: 410}, 1, "failed", 0, true},
		{"410 of an ended subscription too", outbound.Outcome{Status: 410, Permanent: true, Unsubscribed: true}, 1, "failed", 0, true},
		{"Retry-After is honoured", outbound.Outcome{Status: 503, RetryAfter: time.Minute}, 1, "retry", time.Minute, false},
	}
	for _, tt := range tests {
		got := p.Decide(tt.out, rc, tt.attempt, now)
		if got.Outcome != tt.want || (got.Disable != "") != tt.disable {
			t.Errorf("%s: %+v", tt.name, got)
		}
		if (got.RetryAt != nil) != (tt.want == "retry") || (got.RetryAt != nil && !got.RetryAt.Equal(now.Add(tt.retryIn))) {
			t.Errorf("%s: retry at %v, want in %v", tt.name, got.RetryAt, tt.retryIn)
		}
	}
}
