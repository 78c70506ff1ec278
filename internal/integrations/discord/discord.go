// Package discord posts events to a Discord channel through a webhook:
// POST {"content": "…", "allowed_mentions": {"parse": []}} to the webhook
// URL, which answers 204 No Content (docs/api.md §8). Mentions are disabled,
// so no payload value can ping @everyone.
package discord

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
	"github.com/hookd/hookd/internal/template"
)

// Name is the integration's name in the API and the Kind of its rows.
const Name = "discord"

// MaxContent is the longest message content Discord accepts, in characters.
const MaxContent = 2000

// Provider is the Discord integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Discord provider sending with deps.
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Discord in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 2, Name: Name, DisplayName: "Discord", Description: "Post messages to Discord channels",
		Category: "communication", Icon: "https://discord.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "webhook_url", Type: "url", Required: true, Description: "Discord webhook URL", Mask: integrations.SecretURL},
		},
	}
}

// Validate checks the webhook URL.
func (p *Provider) Validate(cfg *integrations.Config) []hookd.FieldError {
	if msg := integrations.CheckURL(cfg.Field("webhook_url")); msg != "" {
		return []hookd.FieldError{{Field: "webhook_url", Message: msg}}
	}
	return nil
}

type allowedMentions struct {
	Parse []string `json:"parse"`
}

// message is the body of an execute-webhook request.
type message struct {
	Content         string          `json:"content"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

// Send posts the rendered message, cut to MaxContent characters. A 429
// waits for the longer of the Retry-After header and the body's
// retry_after (seconds).
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	content := template.Truncate(integrations.Text(cfg, m.Event, nil), MaxContent)
	body, err := integrations.JSON(message{Content: content, AllowedMentions: allowedMentions{Parse: []string{}}})
	if err != nil {
		return integrations.Sent{}, err
	}
	sent, err := p.deps.Do(ctx, integrations.Request{URL: cfg.Field("webhook_url"), Body: body})
	var se *integrations.SendError
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
		if d := bodyRetryAfter(sent.Attempt.ResponseBody); d > se.RetryAfter {
			se.RetryAfter = d
		}
	}
	return sent, err
}

// bodyRetryAfter reads retry_after (seconds, fractional) from a rate limit
// answer, rounded up to whole milliseconds and capped like Retry-After.
func bodyRetryAfter(body string) time.Duration {
	var rl struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal([]byte(body), &rl) != nil || !(rl.RetryAfter > 0) {
		return 0
	}
	ms := math.Ceil(rl.RetryAfter * 1000)
	if ms > float64(outbound.MaxRetryAfter/time.Millisecond) {
		return outbound.MaxRetryAfter
	}
	return time.Duration(ms) * time.Millisecond
}

// Summary says where a send went.
func (p *Provider) Summary(*integrations.Config) string {
	return "message posted to the Discord channel"
}
