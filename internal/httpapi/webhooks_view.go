package httpapi

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// apiTime formats a time as RFC 3339 UTC with at most millisecond precision.
func apiTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}

type webhookJSON struct {
	ID             int64              `json:"id"`
	Name           string             `json:"name"`
	Description    string             `json:"description"`
	URL            string             `json:"url"`
	Events         []string           `json:"events"`
	Headers        any                `json:"headers,omitempty"`
	Secret         string             `json:"secret,omitempty"`
	IsActive       bool               `json:"is_active"`
	DisabledReason *string            `json:"disabled_reason"`
	CreatedAt      string             `json:"created_at"`
	UpdatedAt      string             `json:"updated_at"`
	LastTriggered  *string            `json:"last_triggered"`
	SuccessCount   int64              `json:"success_count"`
	FailureCount   int64              `json:"failure_count"`
	SuccessRate    *float64           `json:"success_rate"`
	RetryConfig    *hookd.RetryConfig `json:"retry_config,omitempty"`
	Filters        json.RawMessage    `json:"filters,omitempty"`
	RateLimit      *int               `json:"rate_limit"`
	MaxConcurrency *int               `json:"max_concurrency"`
	Auth           any                `json:"auth,omitempty"` // secrets masked; absent when none
	DeliveryStats  *deliveryStatsJSON `json:"delivery_stats,omitempty"`
	Circuit        *circuitJSON       `json:"circuit,omitempty"` // this node's view

	SensitiveHeaders any `json:"sensitive_headers,omitempty"` // []string; absent from lists
}

type deliveryStatsJSON struct {
	TotalDeliveries      int64  `json:"total_deliveries"`
	SuccessfulDeliveries int64  `json:"successful_deliveries"`
	FailedDeliveries     int64  `json:"failed_deliveries"`
	PendingDeliveries    int64  `json:"pending_deliveries"`
	AvgResponseTime      int64  `json:"avg_response_time"`
	LastResponseTime     *int64 `json:"last_response_time"`
}

// circuitJSON is a webhook's circuit breaker as this node sees it.
type circuitJSON struct {
	State     string  `json:"state"`
	OpenUntil *string `json:"open_until,omitempty"`
}

// webhookView says how much of a webhook an answer shows.
type webhookView int

const (
	viewList    webhookView = iota // no secret, headers or settings
	viewCreated                    // everything but delivery_stats
	viewDetails                    // everything
)

func newWebhookJSON(w *hookd.Webhook, st hookd.WebhookStats, view webhookView) webhookJSON {
	out := webhookJSON{
		ID: w.ID, Name: w.Name, Description: w.Description, URL: hookd.MaskURLQuery(w.URL), Events: w.Events,
		IsActive: w.IsActive, CreatedAt: apiTime(w.CreatedAt), UpdatedAt: apiTime(w.UpdatedAt),
		LastTriggered: apiTimePtr(st.LastTriggered), SuccessCount: st.SuccessCount, FailureCount: st.FailureCount,
		SuccessRate: hookd.SuccessRate(st.SuccessCount, st.FailureCount), RateLimit: w.RateLimit,
		MaxConcurrency: w.MaxConcurrency,
	}
	if st.Circuit.State != "" {
		out.Circuit = &circuitJSON{State: st.Circuit.State, OpenUntil: apiTimePtr(st.Circuit.OpenUntil)}
	}
	if w.DisabledReason != "" {
		r := w.DisabledReason
		out.DisabledReason = &r
	}
	if view == viewList {
		return out
	}
	out.Headers = hookd.MaskHeaders(w.Headers, w.SensitiveHeaders...)
	out.SensitiveHeaders = w.SensitiveHeaders
	if out.SensitiveHeaders == nil {
		out.SensitiveHeaders = []string{}
	}
	out.Secret = w.Secret
	rc := w.RetryConfig
	out.RetryConfig = &rc
	out.Filters = w.Filters
	if w.Auth != nil {
		out.Auth = w.Auth.Masked()
	}
	if len(out.Filters) == 0 {
		out.Filters = json.RawMessage("{}")
	}
	if view == viewDetails {
		out.DeliveryStats = &deliveryStatsJSON{
			TotalDeliveries:      st.SuccessCount + st.FailureCount + st.PendingCount,
			SuccessfulDeliveries: st.SuccessCount,
			FailedDeliveries:     st.FailureCount,
			PendingDeliveries:    st.PendingCount,
			AvgResponseTime:      int64(st.AvgResponseTime + 0.5),
			LastResponseTime:     st.LastResponseTime,
		}
	}
	return out
}
