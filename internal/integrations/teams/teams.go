// Package teams posts events to a Microsoft Teams channel through a
// Workflows webhook ("When a Teams webhook request is received"), which
// takes a message with one Adaptive Card attachment and answers 202
// Accepted (docs/api.md §8).
package teams

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/template"
)

// Name is the integration's name in the API and the Kind of its rows.
const Name = "microsoft_teams"

// maxText keeps a card under Teams' 28 KB message limit.
const maxText = 7000

// Provider is the Microsoft Teams integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Teams provider sending with deps.
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Microsoft Teams in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 3, Name: Name, DisplayName: "Microsoft Teams", Description: "Post cards to Teams channels through a Workflows webhook",
		Category: "communication", Icon: "https://teams.microsoft.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "webhook_url", Type: "url", Required: true, Description: "Teams Workflows webhook URL", Mask: integrations.SecretURL},
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

// The message shape a Workflows webhook takes.
type (
	message struct {
		Type        string       `json:"type"`
		Attachments []attachment `json:"attachments"`
	}
	attachment struct {
		ContentType string `json:"contentType"`
		Content     card   `json:"content"`
	}
	card struct {
		Type    string      `json:"type"`
		Version string      `json:"version"`
		Body    []textBlock `json:"body"`
	}
	textBlock struct {
		Type string `json:"type"`
		Text string `json:"text"`
		Wrap bool   `json:"wrap"`
	}
)

// Card returns the message posted for a text: one Adaptive Card 1.4 with
// one wrapping TextBlock.
func Card(text string) ([]byte, error) {
	return integrations.JSON(message{
		Type: "message",
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     card{Type: "AdaptiveCard", Version: "1.4", Body: []textBlock{{Type: "TextBlock", Text: text, Wrap: true}}},
		}},
	})
}

// Send posts the rendered message as a card.
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	body, err := Card(template.Truncate(integrations.Text(cfg, m.Event, nil), maxText))
	if err != nil {
		return integrations.Sent{}, err
	}
	return p.deps.Do(ctx, integrations.Request{URL: cfg.Field("webhook_url"), Body: body})
}

// Summary says where a send went.
func (p *Provider) Summary(*integrations.Config) string {
	return "card posted to the Teams channel"
}
