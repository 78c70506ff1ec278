package broker

import (
	"context"
	"errors"
	"net/http"

	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/destination/webhook"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// Destination makes a Publisher the destination kind of the user's
// webhooks whose URL names its broker. It builds the same §6 body and
// headers as an HTTP delivery (outbound.Sender.Headers), publishes them and
// maps the Result onto the attempt.
type Destination struct {
	pub    Publisher
	sender *outbound.Sender
}

var _ destination.URLDestination = (*Destination)(nil)

// NewDestination returns the destination publishing with pub; sender
// provides the user agent and the clock of the headers it signs.
func NewDestination(pub Publisher, sender *outbound.Sender) *Destination {
	return &Destination{pub: pub, sender: sender}
}

// ValidateURL checks a webhook URL of the publisher's scheme.
func (d *Destination) ValidateURL(rawURL string) error { return d.pub.Validate(rawURL) }

// Close closes the publisher's connections.
func (d *Destination) Close() error { return d.pub.Close() }

// Send publishes m to the broker wh.URL names, logged in with the
// webhook's basic auth when it has one. The attempt has no response
// code: its request headers are the message headers (masked), its response
// body the broker's answer. A dial the SSRF guard refused is
// blocked_target, told as for an HTTP endpoint (without the address a
// host name resolved to).
func (d *Destination) Send(ctx context.Context, wh *hookd.Webhook, m destination.Message) outbound.Outcome {
	now := d.sender.Now()
	msg := webhook.Message(wh, m, now)
	pm := Message{
		URL:     wh.URL,
		EventID: m.Event.ID,
		Headers: firstValues(d.sender.Headers(msg, now)),
		Body:    msg.Body,
	}
	if wh.Auth != nil && wh.Auth.Type == hookd.AuthBasic {
		pm.Username, pm.Password = wh.Auth.Username, wh.Auth.Password
	}
	res := d.pub.Publish(ctx, pm)
	out := outbound.Outcome{
		Success:   res.Success,
		Permanent: res.Permanent,
		Attempt: hookd.Attempt{
			StartedAt:      now,
			RequestHeaders: res.RequestHeaders,
			ResponseBody:   hookd.StoredResponseBody(res.Response),
			ResponseTimeMs: res.Duration.Milliseconds(),
			ErrorType:      res.ErrorType,
			ErrorMessage:   res.ErrorMessage,
		},
	}
	if out.Attempt.RequestHeaders == nil {
		out.Attempt.RequestHeaders = map[string]string{}
	}
	var blocked *outbound.BlockedError
	if !res.Success && errors.As(res.Err, &blocked) {
		out.Permanent = false
		out.Attempt.ErrorType, out.Attempt.ErrorMessage = hookd.ErrTypeBlocked, outbound.BlockedMessage(wh.URL, blocked)
	}
	return out
}

// firstValues turns headers into message headers, one value per name.
func firstValues(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}
