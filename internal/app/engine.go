package app

import (
	"context"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// This file adapts today's delivery engine (internal/delivery and
// integrations.Destination) to the interfaces the services declare; it is
// the only file of the package that knows the engine.

// EnginePublisher is a Publisher over delivery.Publisher.
type EnginePublisher struct{ P *delivery.Publisher }

// Publish hands the events to the delivery publisher.
func (e EnginePublisher) Publish(ctx context.Context, tenant, publisher string, events []EventToPublish) ([]hookd.Published, error) {
	in := make([]delivery.PublishInput, len(events))
	for i, ev := range events {
		in[i] = delivery.PublishInput{Event: ev.Event, Payload: ev.Payload, IdempotencyKey: ev.IdempotencyKey}
	}
	res, err := e.P.Publish(ctx, tenant, publisher, in)
	if err != nil {
		return nil, err
	}
	out := make([]hookd.Published, len(res))
	for i, r := range res {
		out[i] = hookd.Published{Event: r.Event, Duplicate: r.Duplicate, Err: r.Err}
	}
	return out, nil
}

// Invalidate drops the publisher's cache of the tenant.
func (e EnginePublisher) Invalidate(tenant string) { e.P.Invalidate(tenant) }

// EngineTestSender is a TestSender that sends to a user's webhook through
// the webhook sender and to an integration's row through its provider.
type EngineTestSender struct {
	Webhooks     *delivery.Sender
	Integrations *integrations.Destination // nil: no integrations
}

// SendTest makes one test attempt of delivery deliveryID of ev to wh.
func (e EngineTestSender) SendTest(ctx context.Context, wh *hookd.Webhook, ev *hookd.Event, deliveryID int64) (hookd.Attempt, bool) {
	if wh.Kind != "" && e.Integrations != nil {
		out := integrations.Outcome(e.Integrations.Deliver(ctx, wh, ev, deliveryID, true))
		return out.Attempt, out.Success
	}
	if e.Webhooks == nil {
		return hookd.Attempt{StartedAt: ev.CreatedAt, RequestHeaders: map[string]string{},
			ErrorType: hookd.ErrTypeConnection, ErrorMessage: "test sends to webhooks are not configured"}, false
	}
	out := e.Webhooks.Send(ctx, delivery.Message{
		URL: wh.URL, Headers: wh.Headers, Secret: wh.Secret, PreviousSecret: delivery.ActivePrevious(wh, ev.CreatedAt),
		EventID: ev.ID, EventType: ev.Type, DeliveryID: deliveryID, Body: delivery.EventBody(ev, true),
	})
	return out.Attempt, out.Success
}
