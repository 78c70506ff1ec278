package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Log is one delivery of an event to a webhook.
type Log struct {
	ID           int64           `json:"id"`
	EventID      string          `json:"event_id"`
	Event        string          `json:"event"`
	Status       string          `json:"status"` // success, failed, pending, cancelled
	ResponseCode *int            `json:"response_code"`
	ResponseTime *int64          `json:"response_time"` // milliseconds
	Timestamp    time.Time       `json:"timestamp"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	ResponseBody string          `json:"response_body,omitempty"`
	ErrorType    string          `json:"error_type,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	RetryCount   int             `json:"retry_count"`
	NextRetry    *time.Time      `json:"next_retry"`
	Test         bool            `json:"test"`
	Attempts     []Attempt       `json:"attempts,omitempty"` // GetLog only
}

// Attempt is one try of a delivery.
type Attempt struct {
	Number         int               `json:"number"`
	Timestamp      time.Time         `json:"timestamp"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseCode   *int              `json:"response_code"`
	ResponseBody   string            `json:"response_body"`
	ResponseTime   int64             `json:"response_time"`
	ErrorType      string            `json:"error_type,omitempty"`
	ErrorMessage   string            `json:"error_message,omitempty"`
}

// LogList is one page of a webhook's delivery logs, newest first.
type LogList struct {
	Logs  []Log `json:"logs"`
	Total int   `json:"total"`
}

// ListLogsOptions filter and page delivery logs.
type ListLogsOptions struct {
	Status    string    // success, failed or pending
	Event     string    // event type
	StartDate time.Time // zero: no bound
	EndDate   time.Time
	Limit     int // 1-200 (default 50)
	Offset    int
}

// ListLogs lists a webhook's delivery logs, newest first.
func (c *Client) ListLogs(ctx context.Context, webhookID int64, opts ListLogsOptions) (*LogList, error) {
	q := url.Values{}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Event != "" {
		q.Set("event", opts.Event)
	}
	if !opts.StartDate.IsZero() {
		q.Set("start_date", opts.StartDate.UTC().Format(time.RFC3339))
	}
	if !opts.EndDate.IsZero() {
		q.Set("end_date", opts.EndDate.UTC().Format(time.RFC3339))
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Offset > 0 {
		q.Set("offset", strconv.Itoa(opts.Offset))
	}
	var list LogList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: webhookPath(webhookID, "logs/"), query: q}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// GetLog returns one delivery with every attempt.
func (c *Client) GetLog(ctx context.Context, webhookID, logID int64) (*Log, error) {
	var data struct {
		Log Log `json:"log"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: webhookPath(webhookID, "logs/"+strconv.FormatInt(logID, 10)+"/")}, &data); err != nil {
		return nil, err
	}
	return &data.Log, nil
}

// RetryLog delivers that event to that webhook again, now.
func (c *Client) RetryLog(ctx context.Context, webhookID, logID int64) (*Log, error) {
	var data struct {
		Log Log `json:"log"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: webhookPath(webhookID, "logs/"+strconv.FormatInt(logID, 10)+"/retry/")}, &data); err != nil {
		return nil, err
	}
	return &data.Log, nil
}
