// Package webhook is the destination kind of users' webhooks: a signed
// HTTP POST of the event's JSON body to the webhook's URL, sent through
// internal/outbound, authenticated as the webhook's auth says (auth.go).
package webhook

import (
	"context"
	"time"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Kind is the Kind of the rows this destination sends for: "", a user's
// webhook.
const Kind = ""

// Destination sends webhook deliveries. Every failure may be retried (a
// receiver's owner can fix it), so its outcomes are never Permanent.
type Destination struct {
	sender  *outbound.Sender
	auth    *authCache
	targets *targetCache
}

var _ destination.Destination = (*Destination)(nil)

// New returns the webhook destination, sending with sender.
func New(sender *outbound.Sender) *Destination {
	return &Destination{sender: sender, auth: newAuthCache(sender.Client, sender.Now), targets: newTargetCache(sender.Now)}
}

// Send posts m's event body, signed with the webhook's secret (and its
// previous one while that still signs), to wh.URL, authenticated as
// wh.Auth says (docs/api.md §12).
func (d *Destination) Send(ctx context.Context, wh *hookd.Webhook, m destination.Message) outbound.Outcome {
	msg := Message(wh, m, d.sender.Now())
	// The target masks the webhook's own sensitive headers too, before
	// the attempt is stored.
	msg.Target = d.targets.forWebhook(wh)
	if wh.Auth != nil {
		auth, client, err := d.auth.forWebhook(wh)
		if err != nil {
			return outbound.Outcome{Attempt: hookd.Attempt{StartedAt: d.sender.Now(), RequestHeaders: map[string]string{},
				ErrorType: hookd.ErrTypeAuth, ErrorMessage: "the webhook's auth cannot be used: " + err.Error()}}
		}
		msg.Auth, msg.Client = auth, client
	}
	return d.sender.Send(ctx, msg)
}

// Message is what an attempt at now sends for m to the user's webhook wh,
// over HTTP or to a message broker: the §6 body, signed with the secrets
// that sign at now, and the webhook's own headers (not its auth, which
// each kind applies its own way).
func Message(wh *hookd.Webhook, m destination.Message, now time.Time) outbound.Message {
	return outbound.Message{
		URL: wh.URL, Headers: wh.Headers, Secret: wh.Secret, PreviousSecret: ActivePrevious(wh, now),
		EventID: m.Event.ID, EventType: m.Event.Type, DeliveryID: m.DeliveryID,
		Body: outbound.EventBody(m.Event, m.Test),
	}
}

// ActivePrevious returns the rotated-out secret while it still signs.
func ActivePrevious(wh *hookd.Webhook, now time.Time) string {
	if wh.PreviousSecret != "" && wh.PreviousSecretExpiresAt != nil && now.Before(*wh.PreviousSecretExpiresAt) {
		return wh.PreviousSecret
	}
	return ""
}
