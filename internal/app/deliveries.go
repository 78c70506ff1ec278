package app

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
)

// DeliveryService implements hookd.DeliveryService.
type DeliveryService struct{ *core }

// FindDeliveries returns one page of a webhook's delivery logs.
func (s *DeliveryService) FindDeliveries(ctx context.Context, owner hookd.Owner, webhookID int64, q hookd.DeliveryQuery) (*hookd.DeliveryList, error) {
	wh, err := s.webhook(ctx, owner, webhookID)
	if err != nil {
		return nil, err
	}
	logs, total, sum, err := s.Store.ListDeliveries(ctx, owner, wh.ID, q)
	if err != nil {
		return nil, err
	}
	return &hookd.DeliveryList{Deliveries: logs, Total: total, Summary: sum}, nil
}

// FindDeliveryByID returns a delivery of the webhook with its attempts.
func (s *DeliveryService) FindDeliveryByID(ctx context.Context, owner hookd.Owner, webhookID, deliveryID int64) (*hookd.Delivery, []*hookd.Attempt, error) {
	wh, err := s.webhook(ctx, owner, webhookID)
	if err != nil {
		return nil, nil, err
	}
	if deliveryID <= 0 {
		return nil, nil, hookd.Errorf(hookd.ENotFound, "delivery log not found")
	}
	return s.Store.GetDelivery(ctx, owner, wh.ID, deliveryID)
}

// RetryDelivery makes the delivery due now, wakes the dispatcher and
// returns the delivery as it is then.
func (s *DeliveryService) RetryDelivery(ctx context.Context, owner hookd.Owner, webhookID, deliveryID int64) (*hookd.Delivery, error) {
	d, _, err := s.FindDeliveryByID(ctx, owner, webhookID, deliveryID)
	if err != nil {
		return nil, err
	}
	if err := s.Store.RetryDelivery(ctx, owner, d.WebhookID, d.ID, s.now()); err != nil {
		return nil, err
	}
	s.deliveriesDue()
	d, _, err = s.Store.GetDelivery(ctx, owner, d.WebhookID, d.ID)
	return d, err
}

// RecoverDeliveries makes due again every delivery of the webhook that
// failed for good since then, and wakes the dispatcher.
func (s *DeliveryService) RecoverDeliveries(ctx context.Context, owner hookd.Owner, webhookID int64, since time.Time) (int64, error) {
	wh, err := s.webhook(ctx, owner, webhookID)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.RecoverDeliveries(ctx, owner, wh.ID, since, s.now())
	if err != nil {
		return 0, err
	}
	s.deliveriesDue()
	return n, nil
}

// WebhookStats returns the webhook's delivery statistics over q.
func (s *DeliveryService) WebhookStats(ctx context.Context, owner hookd.Owner, webhookID int64, q hookd.StatsQuery) (*hookd.WebhookStatsReport, error) {
	wh, err := s.webhook(ctx, owner, webhookID)
	if err != nil {
		return nil, err
	}
	return s.Store.Stats(ctx, owner, wh.ID, q)
}

// TestWebhook sends one test delivery now (docs/api.md §6: a failed send is
// an outcome, not an error) and records it.
func (s *DeliveryService) TestWebhook(ctx context.Context, owner hookd.Owner, webhookID int64, in hookd.TestInput) (*hookd.TestSend, error) {
	wh, err := s.webhook(ctx, owner, webhookID)
	if err != nil {
		return nil, err
	}
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, err
	}
	et, payload, err := testEvent(in, firstSubscribed(wh.Events, s.Catalog.Types(), known), known)
	if err != nil {
		return nil, err
	}
	ev := &hookd.Event{Tenant: wh.Owner.Tenant, Publisher: owner.User, Type: et.Name, Version: et.Version,
		Payload: payload, WebhooksMatched: 1}
	return s.testSend(ctx, wh, ev)
}

// testSend records a test send of ev to the row wh, makes it and records
// its attempt. It sets the event's id and time.
func (c *core) testSend(ctx context.Context, wh *hookd.Webhook, ev *hookd.Event) (*hookd.TestSend, error) {
	if c.Destinations == nil {
		return nil, hookd.Errorf(hookd.EInternal, "test sends are not configured")
	}
	now := c.now()
	id, err := hookd.NewEventID(now, c.Random)
	if err != nil {
		return nil, err
	}
	ev.ID, ev.CreatedAt = id, now
	d := &hookd.Delivery{Tenant: wh.Owner.Tenant, WebhookID: wh.ID, EventID: ev.ID, EventType: ev.Type, Test: true, CreatedAt: now, UpdatedAt: now}
	// The delivery id is part of the signed headers, so reserve it first.
	if err := c.Store.RecordTestSend(ctx, ev, d, nil); err != nil {
		return nil, err
	}
	sendCtx, cancel := context.WithTimeout(ctx, c.AttemptTimeout)
	out := c.Destinations.Send(sendCtx, wh, destination.Message{Event: ev, DeliveryID: d.ID, Test: true})
	cancel()
	if out.Unsubscribed {
		// A test send can end a REST Hook subscription as a delivery can.
		if err := c.EndSubscription(context.WithoutCancel(ctx), wh); err != nil && !hookd.IsNotFound(err) {
			return nil, err
		}
	}
	a, success := out.Attempt, out.Success
	a.Number, a.DeliveryID = 1, d.ID
	if err := c.Store.RecordTestSend(ctx, ev, d, &a); err != nil {
		return nil, err
	}
	return &hookd.TestSend{Event: *ev, DeliveryID: d.ID, Attempt: a, Success: success}, nil
}

// firstSubscribed picks the event a test send uses by default: the first
// pattern's event, in catalog order for wildcards.
func firstSubscribed(patterns []string, builtin []hookd.EventType, known map[string]hookd.EventType) string {
	for _, p := range patterns {
		if _, ok := known[p]; ok {
			return p
		}
		for _, et := range builtin {
			if hookd.MatchesPattern(p, et.Name) {
				return et.Name
			}
		}
		for _, name := range slices.Sorted(maps.Keys(known)) {
			if hookd.MatchesPattern(p, name) {
				return name
			}
		}
	}
	return ""
}

// testEvent picks a test send's event type and compacted payload: the
// input's, or defaultType with its example payload.
func testEvent(in hookd.TestInput, defaultType string, known map[string]hookd.EventType) (hookd.EventType, json.RawMessage, error) {
	name := defaultType
	if in.Event != nil {
		name = *in.Event
	}
	et, found := known[name]
	if !found {
		return et, nil, hookd.Invalid(hookd.FieldError{Field: "event", Message: "unknown event type " + strconv.Quote(name)})
	}
	if len(in.Payload) == 0 || string(in.Payload) == "null" {
		if et.ExamplePayload == nil {
			return et, json.RawMessage("{}"), nil
		}
		return et, hookd.CompactJSON(et.ExamplePayload), nil
	}
	payload := hookd.CompactJSON(in.Payload)
	if payload[0] != '{' {
		return et, nil, hookd.Invalid(hookd.FieldError{Field: "payload", Message: "must be a JSON object"})
	}
	return et, payload, nil
}
