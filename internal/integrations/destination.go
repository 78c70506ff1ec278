package integrations

import (
	"context"
	"errors"
	"net/http"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Destination sends the deliveries of integration rows through their
// providers: it is the destination kind of every row Kind the registry
// sends for (Kinds).
type Destination struct {
	registry *Registry
	now      hookd.Clock
}

var _ destination.Destination = (*Destination)(nil)

// NewDestination returns the destination of the registry's providers; now
// is the clock of attempts that fail before a provider is asked (nil:
// time.Now).
func NewDestination(r *Registry, now hookd.Clock) *Destination {
	return &Destination{registry: r, now: now.OrSystem()}
}

// Kinds lists the Kind of the rows each provider sends for.
func (d *Destination) Kinds() []string {
	var out []string
	for _, p := range d.registry.Providers() {
		out = append(out, p.Info().SendsFrom())
	}
	return out
}

// Send makes one attempt at sending m to the row wh through the provider
// that owns its Kind. A provider's refusal that retrying cannot change is
// Permanent; a REST-hook subscription answering 410 Gone (a provider with
// RemoveOnGone) is Unsubscribed, for the caller to remove the row.
func (d *Destination) Send(ctx context.Context, wh *hookd.Webhook, m destination.Message) outbound.Outcome {
	early := Sent{Attempt: hookd.Attempt{StartedAt: d.now(), RequestHeaders: map[string]string{}}}
	p := d.registry.ForKind(wh.Kind)
	if p == nil {
		return outcome(early, &SendError{Type: hookd.ErrTypeConnection, Message: "no integration sends for " + wh.Kind})
	}
	cfg, err := ParseConfig(wh.Config)
	if err != nil {
		return outcome(early, &SendError{Type: hookd.ErrTypeConnection, Message: "the integration's settings cannot be read"})
	}
	sent, err := p.Send(ctx, cfg, &Message{Event: m.Event, DeliveryID: m.DeliveryID, Test: m.Test})
	out := outcome(sent, err)
	var se *SendError
	out.Unsubscribed = errors.As(err, &se) && se.Status == http.StatusGone && p.Info().RemoveOnGone
	return out
}

// outcome turns a provider's send into a destination's Outcome.
func outcome(sent Sent, err error) outbound.Outcome {
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
