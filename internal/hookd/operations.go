package hookd

import (
	"encoding/json"
	"slices"
	"time"
)

// Operational events: hookd's own events about the health of its
// deliveries (docs/api.md §11). They reach only the webhooks and
// integrations of the user who owns the webhook concerned.
const (
	EventWebhookFailing     = "webhook.failing"
	EventWebhookRecovered   = "webhook.recovered"
	EventWebhookDisabled    = "webhook.disabled"
	EventDeliveryExhausted  = "delivery.exhausted"
	EventIntegrationFailing = "integration.failing"
)

// OperationalEvents are the operational event names, in catalog order.
var OperationalEvents = []string{
	EventWebhookFailing, EventWebhookRecovered, EventWebhookDisabled,
	EventDeliveryExhausted, EventIntegrationFailing,
}

// IsOperational reports whether event is one of hookd's operational
// events: only hookd publishes them, and "*" does not cover them.
func IsOperational(event string) bool {
	return slices.Contains(OperationalEvents, event)
}

// ErrOperationalEvent is the answer to a publish of an operational event.
func ErrOperationalEvent(event string) *Error {
	return Errorf(EForbidden, "%s is an operational event: only hookd publishes it", event)
}

// DefaultFailingAfter is HOOKD_FAILING_AFTER's default.
const DefaultFailingAfter = 3

// DeliveryRules are the rules CompleteAttempts applies to a webhook's
// recorded attempts. A zero field switches its rule off.
type DeliveryRules struct {
	// AutoDisableAfter switches a webhook off once that many of its
	// deliveries in a row failed for good.
	AutoDisableAfter int
	// FailingAfter announces webhook.failing once that many attempts in a
	// row to the webhook failed.
	FailingAfter int
}

// WebhookHealth is what a store keeps of a webhook's health between
// batches of results: its failure streak and the operational state.
type WebhookHealth struct {
	FailureStreak
	FailedAttempts int64      // attempts in a row that failed
	FailingSince   *time.Time // when webhook.failing was announced; nil while not failing
}

// RecordedAttempt is one attempt result as the health rule sees it: the
// result with the delivery it was recorded on.
type RecordedAttempt struct {
	Result    *AttemptResult
	LogID     int64 // the delivery's id
	EventID   string
	EventType string
	Attempts  int // the delivery's attempts, this one included
}

// OperationalEvent is an operational event a batch of results produced,
// to be stored with deliveries to the owner's subscribed webhooks in the
// transaction that records the results.
type OperationalEvent struct {
	Owner Owner
	Type  string
	Data  json.RawMessage
	At    time.Time
}

// Record moves the health of webhook w on by one recorded attempt, in
// the order results are recorded, and returns the operational events it
// causes. The failure streak moves as FailureStreak.Record says for every
// result. An attempt at delivering an operational event produces no
// operational event and leaves the attempt streak alone, so a webhook
// that fails to take them never loops. webhook.* events are about plain
// webhooks (Kind ""); an integration's final failure is
// integration.failing. webhook.disabled is announced only while w is
// still on.
func (h *WebhookHealth) Record(w *Webhook, a RecordedAttempt, rules DeliveryRules) []OperationalEvent {
	r := a.Result
	hadReason := h.DisableReason != ""
	h.FailureStreak.Record(r, rules.AutoDisableAfter)
	if IsOperational(a.EventType) {
		return nil
	}
	at := r.Attempt.FinishedAt()
	var out []OperationalEvent
	add := func(typ string, data map[string]any) {
		raw, _ := json.Marshal(data) // maps of strings, numbers and times
		out = append(out, OperationalEvent{Owner: w.Owner, Type: typ, Data: raw, At: at})
	}
	webhook := func(fields map[string]any) map[string]any {
		fields["webhook_id"], fields["name"], fields["url"] = w.ID, w.Name, w.URL
		return fields
	}
	if r.Success {
		h.FailedAttempts = 0
		if h.FailingSince != nil && w.Kind == "" {
			add(EventWebhookRecovered, webhook(map[string]any{"failing_since": h.FailingSince.UTC().Format(time.RFC3339)}))
		}
		h.FailingSince = nil
	} else {
		h.FailedAttempts++
		if rules.FailingAfter > 0 && h.FailedAttempts >= int64(rules.FailingAfter) && h.FailingSince == nil {
			since := at.UTC().Truncate(time.Millisecond)
			h.FailingSince = &since
			if w.Kind == "" {
				add(EventWebhookFailing, webhook(map[string]any{
					"consecutive_failures": h.FailedAttempts,
					"last_error_type":      r.Attempt.ErrorType,
					"last_response_code":   r.Attempt.ResponseCode,
				}))
			}
		}
	}
	if r.State() == StateFailed {
		if w.Kind == "" {
			add(EventDeliveryExhausted, map[string]any{
				"webhook_id": w.ID, "log_id": a.LogID, "event_id": a.EventID, "event": a.EventType,
				"attempts": a.Attempts, "last_error_type": r.Attempt.ErrorType,
			})
		} else {
			add(EventIntegrationFailing, map[string]any{
				"integration": w.Kind, "integration_id": w.ID, "event_id": a.EventID, "event": a.EventType,
				"last_error_type": r.Attempt.ErrorType,
			})
		}
	}
	if !hadReason && h.DisableReason != "" && w.IsActive && w.Kind == "" {
		add(EventWebhookDisabled, webhook(map[string]any{"reason": h.DisableReason}))
	}
	return out
}

// OperationalRecipients returns the webhooks among candidates (a user's
// active webhooks and integrations) that take an operational event of
// type event. Filters are not applied: an operational event's data is
// hookd's, not the publisher's, so a subscription alone decides.
func OperationalRecipients(candidates []*Webhook, owner Owner, event string) []*Webhook {
	var out []*Webhook
	for _, w := range candidates {
		if w.IsActive && w.Owner == owner && SubscribesTo(w.Events, event) {
			out = append(out, w)
		}
	}
	return out
}

// OperationalPublisher is the publisher of operational events, and
// OperationalVersion their version (the catalog's built-in version).
const (
	OperationalPublisher = "hookd"
	OperationalVersion   = "1.0"
)
