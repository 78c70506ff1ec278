package app

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
)

// maxIdempotencyKey bounds an idempotency key's length.
const maxIdempotencyKey = 255

// EventService implements hookd.EventService.
type EventService struct{ *core }

// PublishEvent validates and publishes one event.
func (s *EventService) PublishEvent(ctx context.Context, tenant, publisher string, in hookd.PublishInput) (*hookd.Published, error) {
	res, err := s.publish(ctx, tenant, publisher, []hookd.PublishInput{in})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return &res[0], nil
}

// PublishEvents publishes 1 to hookd.MaxBatch events.
func (s *EventService) PublishEvents(ctx context.Context, tenant, publisher string, in []hookd.PublishInput) ([]hookd.Published, error) {
	switch {
	case in == nil:
		return nil, hookd.Invalid(hookd.FieldError{Field: "events", Message: "is required"})
	case len(in) == 0 || len(in) > hookd.MaxBatch:
		return nil, hookd.Invalid(hookd.FieldError{Field: "events", Message: fmt.Sprintf("must hold 1-%d events", hookd.MaxBatch)})
	}
	return s.publish(ctx, tenant, publisher, in)
}

// publish checks each envelope, then hands the valid ones to the
// publisher, which checks payloads against their schemas.
func (s *EventService) publish(ctx context.Context, tenant, publisher string, in []hookd.PublishInput) ([]hookd.Published, error) {
	if s.Publisher == nil {
		return nil, fmt.Errorf("app: publishing is not configured")
	}
	out := make([]hookd.Published, len(in))
	events := make([]EventToPublish, 0, len(in))
	index := make([]int, 0, len(in))
	for i := range in {
		ev, details := checkEnvelope(&in[i])
		if len(details) > 0 {
			out[i].Err = hookd.Invalid(details...)
			continue
		}
		if hookd.IsOperational(ev.Event) {
			out[i].Err = hookd.ErrOperationalEvent(ev.Event) // docs/api.md §11
			continue
		}
		events = append(events, ev)
		index = append(index, i)
	}
	if len(events) == 0 {
		return out, nil
	}
	res, err := s.Publisher.Publish(ctx, tenant, publisher, events)
	if err != nil {
		return nil, err
	}
	idempotencyConflicts(events, res)
	for k, r := range res {
		out[index[k]] = r
	}
	return out, nil
}

// checkEnvelope checks the envelope of one event; the payload itself is
// checked against its schema by the publisher.
func checkEnvelope(in *hookd.PublishInput) (EventToPublish, []hookd.FieldError) {
	var details []hookd.FieldError
	out := EventToPublish{Payload: in.Payload}
	if in.Event == nil || *in.Event == "" {
		details = append(details, hookd.FieldError{Field: "event", Message: "is required"})
	} else if msg := hookd.CheckText(*in.Event); msg != "" {
		details = append(details, hookd.FieldError{Field: "event", Message: msg})
	} else {
		out.Event = *in.Event
	}
	if len(in.Payload) == 0 || string(in.Payload) == "null" {
		details = append(details, hookd.FieldError{Field: "payload", Message: "is required"})
	} else if p := bytes.TrimLeft(in.Payload, " \t\r\n"); len(p) == 0 || p[0] != '{' {
		details = append(details, hookd.FieldError{Field: "payload", Message: "must be a JSON object"})
	}
	if in.IdempotencyKey != nil {
		out.IdempotencyKey = *in.IdempotencyKey
	}
	if len(out.IdempotencyKey) > maxIdempotencyKey {
		details = append(details, hookd.FieldError{Field: "idempotency_key", Message: fmt.Sprintf("must be at most %d characters", maxIdempotencyKey)})
	} else if msg := hookd.CheckText(out.IdempotencyKey); msg != "" {
		details = append(details, hookd.FieldError{Field: "idempotency_key", Message: msg})
	}
	return out, details
}

// FindEvent returns a tenant's event and its deliveries to the owner's
// webhooks only.
func (s *EventService) FindEvent(ctx context.Context, owner hookd.Owner, id string) (*hookd.Event, []*hookd.Delivery, error) {
	ev, deliveries, err := s.Store.GetEvent(ctx, owner.Tenant, id)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, 0, len(deliveries))
	for _, d := range deliveries {
		ids = append(ids, d.WebhookID)
	}
	hooks, err := s.Store.LookupWebhooks(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	own := make([]*hookd.Delivery, 0, len(deliveries))
	for _, d := range deliveries {
		if wh := hooks[d.WebhookID]; wh != nil && wh.Owner == owner {
			own = append(own, d)
		}
	}
	return ev, own, nil
}

// EventsAfter returns up to limit of a tenant's events after afterSeq.
func (s *EventService) EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*hookd.Event, error) {
	return s.Store.EventsAfter(ctx, tenant, afterSeq, limit)
}
