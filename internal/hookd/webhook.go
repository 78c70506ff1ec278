package hookd

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Owner identifies who a webhook or integration setting belongs to: the
// JWT's tenant claim (the account) and sub claim (the user).
type Owner struct {
	Tenant string
	User   string
}

// RetryConfig says how often and how patiently a failed delivery is retried.
// RetryDelay is in milliseconds.
type RetryConfig struct {
	MaxRetries        int     `json:"max_retries"`
	RetryDelay        int64   `json:"retry_delay"`
	BackoffMultiplier float64 `json:"backoff_multiplier"`
}

// DefaultRetryConfig is applied when a webhook is created without one.
var DefaultRetryConfig = RetryConfig{MaxRetries: 3, RetryDelay: 5000, BackoffMultiplier: 2}

// Webhook is a user's HTTP endpoint subscribed to event types.
type Webhook struct {
	ID          int64
	Owner       Owner
	Name        string
	Description string
	URL         string
	Events      []string          // catalog names, "category.*" or "*"
	Headers     map[string]string // sent with every delivery
	Secret      string            // current signing secret (whsec_… or plain)
	// PreviousSecret still signs deliveries until PreviousSecretExpiresAt,
	// so receivers can switch keys without losing a message.
	PreviousSecret          string
	PreviousSecretExpiresAt *time.Time
	IsActive                bool
	DisabledReason          string // why hookd switched the webhook off, if it did
	RetryConfig             RetryConfig
	Filters                 json.RawMessage // the filters object as the user sent it; "{}" when none
	RateLimit               *int            // deliveries per second; nil means unlimited
	Auth                    *EndpointAuth   // how to authenticate to the endpoint; nil: no auth
	// MaxConcurrency bounds the requests in flight to this webhook at
	// once, for endpoints that cannot take many in parallel; nil leaves
	// it to the dispatcher's fair share of senders.
	MaxConcurrency *int
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Kind is "" for a user's webhook. Integrations reuse webhooks for
	// their settings and destinations, so they share the queue, retries
	// and counters: Kind is then the provider's name (e.g. "slack") or a
	// provider-specific destination kind (e.g. "zapier_hook"). The webhook
	// API only ever shows Kind "".
	Kind string
	// Config is a provider's settings (credentials included); sealed at rest.
	Config json.RawMessage
	// LookupKey finds settings by a credential without storing it in clear
	// (e.g. a hash of a Zapier API key); "" for none.
	LookupKey string

	// SensitiveHeaders names more headers whose values are masked like
	// those SensitiveHeader matches (docs/api.md §4).
	SensitiveHeaders []string
}

// WebhookStats are the delivery counters shown with a webhook. Test sends
// are not counted.
type WebhookStats struct {
	LastTriggered      *time.Time // time of the latest delivery attempt
	SuccessCount       int64      // deliveries that succeeded
	FailureCount       int64      // deliveries that failed for good
	PendingCount       int64      // deliveries not yet finished
	AvgResponseTime    float64    // ms, over finished attempts
	LastResponseTime   *int64     // ms, of the latest attempt
	ConsecutiveFailure int64      // deliveries failed for good in a row
	// Circuit is this node's circuit breaker for the webhook's endpoint;
	// zero when no delivery engine answers.
	Circuit Circuit
}

// Circuit is the state of a webhook's circuit breaker on one node:
// "closed" (deliveries go), "open" (they wait until OpenUntil, when one
// probe goes) or "half_open" (the probe is under way).
type Circuit struct {
	State     string
	OpenUntil *time.Time // while open
}

// WebhookQuery selects webhooks in a list.
type WebhookQuery struct {
	Kind   string // "" selects users' webhooks; a provider name its rows
	Active *bool  // nil: any status
	Event  string // matches webhooks whose subscriptions cover this event name (wildcards included)
	Limit  int
	Offset int
}

// WebhookSummary is the list summary over all of a user's webhooks.
type WebhookSummary struct {
	TotalWebhooks  int64
	ActiveWebhooks int64
	TotalEvents    int64    // deliveries over the user's webhooks (tests excluded)
	AvgSuccessRate *float64 // mean of the webhooks' success rates that are defined
}

// SuccessRate returns successful/(successful+failed)×100 to one decimal, or
// nil before any delivery has finished.
func SuccessRate(successful, failed int64) *float64 {
	if successful+failed == 0 {
		return nil
	}
	r := Round1(float64(successful) * 100 / float64(successful+failed))
	return &r
}

// Round1 rounds to one decimal place.
func Round1(f float64) float64 {
	if f < 0 {
		return -Round1(-f)
	}
	return float64(int64(f*10+0.5)) / 10
}

// WebhookCounts are one webhook's state and delivery counts.
type WebhookCounts struct {
	Active                      bool
	Successful, Failed, Pending int64
}

// SummarizeCounts builds the list summary from each webhook's counts:
// AvgSuccessRate is the mean of the success rates that are defined.
func SummarizeCounts(counts []WebhookCounts) WebhookSummary {
	var sum WebhookSummary
	var rates float64
	var defined int
	for _, c := range counts {
		sum.TotalWebhooks++
		if c.Active {
			sum.ActiveWebhooks++
		}
		sum.TotalEvents += c.Successful + c.Failed + c.Pending
		if r := SuccessRate(c.Successful, c.Failed); r != nil {
			rates += *r
			defined++
		}
	}
	if defined > 0 {
		avg := Round1(rates / float64(defined))
		sum.AvgSuccessRate = &avg
	}
	return sum
}

// MaxURLLen is the longest URL hookd sends to.
const MaxURLLen = 2048

// CheckTargetURL validates a URL hookd sends to (a webhook's or an
// integration's): absolute http(s), at most MaxURLLen characters, no
// spaces, no user:password, a valid port. It returns what is wrong, or "".
func CheckTargetURL(raw string) string {
	if len(raw) > MaxURLLen {
		return fmt.Sprintf("must be at most %d characters", MaxURLLen)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "must not contain spaces or control characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return "must be an absolute http(s) URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must use http or https"
	}
	if u.User != nil {
		return "must not contain a user or password"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "has an invalid port"
		}
	}
	return ""
}
