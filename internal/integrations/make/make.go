// Package make triggers Make (make.com) scenarios through a custom
// webhook: POST the event's delivery body of docs/api.md §6 to the webhook URL.
package make

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
)

// Name is the integration's name in the API and the Kind of its rows.
const Name = "make"

// Provider is the Make integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Make provider sending with deps.
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Make in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 5, Name: Name, DisplayName: "Make", Description: "Trigger Make scenarios with a custom webhook",
		Category: "automation", Icon: "https://www.make.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "webhook_url", Type: "url", Required: true, Description: "Make custom webhook URL", Mask: integrations.SecretURL},
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

// Send posts {"id", "event", "version", "timestamp", "data"} ("test": true
// on a test send), the body every webhook receives.
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	return p.deps.Do(ctx, integrations.Request{URL: cfg.Field("webhook_url"), Body: outbound.EventBody(m.Event, m.Test)})
}

// Summary says where a send went.
func (p *Provider) Summary(*integrations.Config) string {
	return "event sent to the Make scenario"
}
