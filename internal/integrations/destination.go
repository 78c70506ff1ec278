package integrations

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Remover deletes a row whose subscription ended (the store does).
type Remover interface {
	DeleteWebhook(ctx context.Context, owner hookd.Owner, id int64) error
}

// Destination sends the deliveries of integration rows through their
// providers. It implements dispatch.Destination for every row kind of the
// registry (see Destinations) and makes the API's test sends.
type Destination struct {
	Registry *Registry
	// Store removes a REST-hook subscription row whose target answered
	// 410 Gone (providers with RemoveOnGone); nil leaves that to the
	// dispatcher, which switches the row off.
	Store Remover
	Log   *slog.Logger
	// Removed, when set, is told the tenant of a removed row, so cached
	// fan-out (publish.Publisher.Invalidate) stops queueing for it.
	Removed func(tenant string)
	// Now is the clock of attempts that fail before a provider is asked.
	Now func() time.Time
}

var _ dispatch.Destination = (*Destination)(nil)

// Destinations returns the dispatcher's Config.Destinations: d for every
// Kind of row that integrations send for.
func (d *Destination) Destinations() map[string]dispatch.Destination {
	out := map[string]dispatch.Destination{}
	for _, p := range d.Registry.Providers() {
		out[p.Info().SendsFrom()] = d
	}
	return out
}

// Send makes one attempt at a queued delivery (dispatch.Destination).
func (d *Destination) Send(ctx context.Context, wh *hookd.Webhook, ev *hookd.Event, deliveryID int64) outbound.Outcome {
	return Outcome(d.Deliver(ctx, wh, ev, deliveryID, false))
}

// Deliver sends ev to the row wh through the provider that owns its Kind.
// When a provider with RemoveOnGone is answered 410 Gone, the row is
// deleted, so the subscription ends at once.
func (d *Destination) Deliver(ctx context.Context, wh *hookd.Webhook, ev *hookd.Event, deliveryID int64, test bool) (Sent, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	early := Sent{Attempt: hookd.Attempt{StartedAt: now(), RequestHeaders: map[string]string{}}}
	p := d.Registry.ForKind(wh.Kind)
	if p == nil {
		return early, &SendError{Type: hookd.ErrTypeConnection, Message: "no integration sends for " + wh.Kind}
	}
	cfg, err := ParseConfig(wh.Config)
	if err != nil {
		return early, &SendError{Type: hookd.ErrTypeConnection, Message: "the integration's settings cannot be read"}
	}
	sent, err := p.Send(ctx, cfg, &Message{Event: ev, DeliveryID: deliveryID, Test: test})
	var se *SendError
	if errors.As(err, &se) && se.Status == http.StatusGone && p.Info().RemoveOnGone && d.Store != nil {
		// The lease of this delivery goes with the row, so the dispatcher's
		// record of this attempt is dropped; the row is gone anyway.
		if derr := d.Store.DeleteWebhook(context.WithoutCancel(ctx), wh.Owner, wh.ID); derr != nil && !hookd.IsNotFound(derr) && d.Log != nil {
			d.Log.Warn("remove a subscription whose target answered 410; it is switched off instead",
				"integration", p.Info().Name, "row", wh.ID, "err", derr)
		} else {
			if d.Removed != nil {
				d.Removed(wh.Owner.Tenant)
			}
			if d.Log != nil {
				d.Log.Info("removed a subscription whose target answered 410 Gone", "integration", p.Info().Name, "row", wh.ID)
			}
		}
	}
	return sent, err
}

// Outcome turns a provider's send into the dispatcher's Outcome.
func Outcome(sent Sent, err error) outbound.Outcome {
	out := outbound.Outcome{Attempt: sent.Attempt, Success: err == nil}
	if code := sent.Attempt.ResponseCode; code != nil {
		out.Status = *code
	}
	if err == nil {
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = "", sent.Note
		return out
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Type: hookd.ErrTypeConnection, Message: err.Error()}
	}
	out.Attempt.ErrorType, out.Attempt.ErrorMessage = se.Type, se.Message
	out.RetryAfter = se.RetryAfter
	out.Permanent = !se.Retryable
	return out
}
