package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook is a webhook as the API shows it.
type Webhook struct {
	ID             int64             `json:"id"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	URL            string            `json:"url"`
	Events         []string          `json:"events"`
	Headers        map[string]string `json:"headers,omitempty"`
	Secret         string            `json:"secret,omitempty"` // shown when created and in details
	IsActive       bool              `json:"is_active"`
	DisabledReason *string           `json:"disabled_reason"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	LastTriggered  *time.Time        `json:"last_triggered"`
	SuccessCount   int64             `json:"success_count"`
	FailureCount   int64             `json:"failure_count"`
	SuccessRate    *float64          `json:"success_rate"`
	RetryConfig    *RetryConfig      `json:"retry_config,omitempty"`
	Filters        json.RawMessage   `json:"filters,omitempty"`
	RateLimit      *int              `json:"rate_limit"`
	DeliveryStats  *DeliveryStats    `json:"delivery_stats,omitempty"`
}

// RetryConfig is a webhook's retry policy.
type RetryConfig struct {
	MaxRetries        int     `json:"max_retries"`
	RetryDelay        int64   `json:"retry_delay"` // milliseconds
	BackoffMultiplier float64 `json:"backoff_multiplier"`
}

// DeliveryStats are a webhook's delivery counts (Get, Update).
type DeliveryStats struct {
	TotalDeliveries      int64  `json:"total_deliveries"`
	SuccessfulDeliveries int64  `json:"successful_deliveries"`
	FailedDeliveries     int64  `json:"failed_deliveries"`
	PendingDeliveries    int64  `json:"pending_deliveries"`
	AvgResponseTime      int64  `json:"avg_response_time"`
	LastResponseTime     *int64 `json:"last_response_time"`
}

// WebhookInput creates a webhook (Name, URL and Events required) or
// changes one (only the fields set).
type WebhookInput struct {
	Name        *string           `json:"name,omitempty"`
	Description *string           `json:"description,omitempty"`
	URL         *string           `json:"url,omitempty"`
	Events      []string          `json:"events,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Secret      *string           `json:"secret,omitempty"`
	IsActive    *bool             `json:"is_active,omitempty"`
	RetryConfig *RetryConfig      `json:"retry_config,omitempty"`
	Filters     json.RawMessage   `json:"filters,omitempty"`
	RateLimit   *int              `json:"rate_limit,omitempty"`
}

// String returns a pointer to s, for WebhookInput's optional fields.
func String(s string) *string { return &s }

// Bool returns a pointer to b, for WebhookInput's optional fields.
func Bool(b bool) *bool { return &b }

// WebhookList is one page of webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
	Total    int       `json:"total"`
}

// ListWebhooksOptions filter and page a webhook list.
type ListWebhooksOptions struct {
	Status string // "active" or "inactive"
	Event  string // event type (wildcards match)
	Limit  int    // 1-200 (default 50)
	Offset int
}

func webhookPath(id int64, rest string) string {
	return "/api/webhooks/" + strconv.FormatInt(id, 10) + "/" + rest
}

// CreateWebhook creates a webhook; its secret (whsec_…) is in the answer.
func (c *Client) CreateWebhook(ctx context.Context, in WebhookInput) (*Webhook, error) {
	var data struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/api/webhooks/", body: in}, &data); err != nil {
		return nil, err
	}
	return &data.Webhook, nil
}

// ListWebhooks lists the caller's webhooks.
func (c *Client) ListWebhooks(ctx context.Context, opts ListWebhooksOptions) (*WebhookList, error) {
	q := url.Values{}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Event != "" {
		q.Set("event", opts.Event)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Offset > 0 {
		q.Set("offset", strconv.Itoa(opts.Offset))
	}
	var list WebhookList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/api/webhooks/", query: q}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// GetWebhook returns a webhook with its delivery stats.
func (c *Client) GetWebhook(ctx context.Context, id int64) (*Webhook, error) {
	var data struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: webhookPath(id, "")}, &data); err != nil {
		return nil, err
	}
	return &data.Webhook, nil
}

// UpdateWebhook changes the fields set in in and keeps the others.
func (c *Client) UpdateWebhook(ctx context.Context, id int64, in WebhookInput) (*Webhook, error) {
	var data struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPut, path: webhookPath(id, ""), body: in}, &data); err != nil {
		return nil, err
	}
	return &data.Webhook, nil
}

// DeleteWebhook deletes a webhook and cancels its pending deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: webhookPath(id, "")}, nil)
	return err
}

// RotatedSecret is the answer to RotateSecret.
type RotatedSecret struct {
	WebhookID               int64     `json:"webhook_id"`
	Secret                  string    `json:"secret"`
	PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at"`
}

// RotateSecret gives the webhook a new generated secret; the old one
// keeps signing too for 24 h.
func (c *Client) RotateSecret(ctx context.Context, id int64) (*RotatedSecret, error) {
	var data RotatedSecret
	if _, err := c.do(ctx, request{method: http.MethodPost, path: webhookPath(id, "rotate-secret/")}, &data); err != nil {
		return nil, err
	}
	return &data, nil
}

// TestResult is what a test delivery got.
type TestResult struct {
	Status       string            `json:"status"` // "success" or "failed"
	ResponseCode *int              `json:"response_code"`
	ResponseTime int64             `json:"response_time"` // milliseconds
	ResponseBody string            `json:"response_body"`
	HeadersSent  map[string]string `json:"headers_sent"`
	ErrorType    string            `json:"error_type"`
	ErrorMessage string            `json:"error_message"`
	LogID        int64             `json:"log_id"`
	EventID      string            `json:"event_id"`
}

// TestWebhook sends a test delivery now (an example payload of the
// webhook's first event type) and reports what the endpoint answered.
func (c *Client) TestWebhook(ctx context.Context, id int64) (*TestResult, error) {
	var data struct {
		TestResult TestResult `json:"test_result"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: webhookPath(id, "test/")}, &data); err != nil {
		return nil, err
	}
	return &data.TestResult, nil
}
