// Package slack posts events to Slack through an incoming webhook:
// POST {"text": "…", "channel": "…"} to the webhook URL, which answers
// 200 "ok" (docs/api.md §8).
package slack

import (
	"context"
	"strings"
	"unicode"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// Name is the integration's name in the API and the Kind of its rows.
const Name = "slack"

// maxChannelLen bounds the channel override (Slack names are at most 80).
const maxChannelLen = 80

// Provider is the Slack integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Slack provider sending with deps.
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Slack in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 1, Name: Name, DisplayName: "Slack", Description: "Send notifications to Slack channels",
		Category: "communication", Icon: "https://slack.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "webhook_url", Type: "url", Required: true, Description: "Slack webhook URL", Mask: integrations.SecretURL},
			{Name: "channel", Type: "string", Required: false, Description: "Default channel for notifications"},
		},
	}
}

// Validate checks the webhook URL and the channel.
func (p *Provider) Validate(cfg *integrations.Config) []hookd.FieldError {
	var details []hookd.FieldError
	if msg := integrations.CheckURL(cfg.Field("webhook_url")); msg != "" {
		details = append(details, hookd.FieldError{Field: "webhook_url", Message: msg})
	}
	if ch := cfg.Field("channel"); ch != "" {
		if len([]rune(ch)) > maxChannelLen || strings.IndexFunc(ch, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			details = append(details, hookd.FieldError{Field: "channel", Message: "must be a channel such as #orders: at most 80 characters, no spaces"})
		}
	}
	return details
}

// message is the body of an incoming webhook request.
type message struct {
	Text    string `json:"text"`
	Channel string `json:"channel,omitempty"`
}

// Send posts the rendered message. Payload values are escaped the way
// Slack's text requires (&, < and >), so they cannot form links or
// mentions; the template's own text is sent as written.
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	body, err := integrations.JSON(message{Text: integrations.Text(cfg, m.Event, Escape), Channel: cfg.Field("channel")})
	if err != nil {
		return integrations.Sent{}, err
	}
	return p.deps.Do(ctx, integrations.Request{URL: cfg.Field("webhook_url"), Body: body})
}

// Summary names the channel a send reached.
func (p *Provider) Summary(cfg *integrations.Config) string {
	if ch := cfg.Field("channel"); ch != "" {
		return "notification sent to " + ch
	}
	return "notification sent to the webhook's channel"
}

// Escape encodes the three characters Slack gives a meaning to in text.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
