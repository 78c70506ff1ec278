package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Event is a published event as the publish answers describe it.
type Event struct {
	ID                  string    `json:"id"`
	Type                string    `json:"event"`
	Timestamp           time.Time `json:"timestamp"`
	WebhooksMatched     int       `json:"webhooks_matched"`
	IntegrationsMatched int       `json:"integrations_matched"`
}

// Published is the answer to a publish.
type Published struct {
	Event Event
	// Duplicate is true when the idempotency key was used before with
	// the same event and payload: Event is the first event and nothing
	// was queued (HTTP 200 instead of 202).
	Duplicate bool
}

// PublishOption changes one publish.
type PublishOption func(*publishBody, http.Header)

// IdempotencyKey makes the publish idempotent for 24 h: the same key with
// the same event and payload answers the first event; with another, a
// *Error with code "conflict". It also lets the client retry the publish
// after a 5xx.
func IdempotencyKey(key string) PublishOption {
	return func(_ *publishBody, h http.Header) { h.Set("Idempotency-Key", key) }
}

type publishBody struct {
	Event          string `json:"event"`
	Payload        any    `json:"payload"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Publish publishes one event of type eventType; payload is a JSON
// object (a struct, a map or a json.RawMessage). It needs a token with
// the scope events:publish.
func (c *Client) Publish(ctx context.Context, eventType string, payload any, opts ...PublishOption) (*Published, error) {
	body := &publishBody{Event: eventType, Payload: payload}
	h := http.Header{}
	for _, o := range opts {
		o(body, h)
	}
	var data struct {
		Event Event `json:"event"`
	}
	status, err := c.do(ctx, request{method: http.MethodPost, path: "/api/events/", body: body, header: h}, &data)
	if err != nil {
		return nil, err
	}
	return &Published{Event: data.Event, Duplicate: status == http.StatusOK}, nil
}

// EventInput is one event of a batch.
type EventInput struct {
	Type           string `json:"event"`
	Payload        any    `json:"payload"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// BatchResult answers a batch item by item.
type BatchResult struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Items    []BatchItem `json:"events"`
}

// BatchItem is the answer for one event of a batch: Event when it was
// published (or was a duplicate), Err when it was refused.
type BatchItem struct {
	Index     int
	Event     *Event
	Duplicate bool
	Err       *Error
}

// UnmarshalJSON reads an item of the batch answer.
func (b *BatchItem) UnmarshalJSON(raw []byte) error {
	var v struct {
		Index     int    `json:"index"`
		Success   bool   `json:"success"`
		Duplicate bool   `json:"duplicate"`
		Event     *Event `json:"event"`
		Error     *struct {
			Code    string       `json:"code"`
			Message string       `json:"message"`
			Details []FieldError `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*b = BatchItem{Index: v.Index, Event: v.Event, Duplicate: v.Duplicate}
	if !v.Success && v.Error != nil {
		b.Err = &Error{Code: v.Error.Code, Message: v.Error.Message, Details: v.Error.Details}
	}
	return nil
}

// PublishBatch publishes up to 500 events in one transaction; each is
// answered on its own (a refused event does not stop the others).
func (c *Client) PublishBatch(ctx context.Context, events []EventInput) (*BatchResult, error) {
	var res BatchResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/api/events/batch/", body: map[string]any{"events": events}}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
