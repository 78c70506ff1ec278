package app

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/publish"
)

// This file adapts the publisher (internal/publish) to the Publisher the
// services declare; it is the only file of the package that knows it.

// EnginePublisher is a Publisher over publish.Publisher.
type EnginePublisher struct{ P *publish.Publisher }

// Publish hands the events to the publisher.
func (e EnginePublisher) Publish(ctx context.Context, tenant, publisher string, events []EventToPublish) ([]hookd.Published, error) {
	in := make([]publish.Input, len(events))
	for i, ev := range events {
		in[i] = publish.Input{Event: ev.Event, Payload: ev.Payload, IdempotencyKey: ev.IdempotencyKey}
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
