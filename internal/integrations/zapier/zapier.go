// Package zapier serves Zapier's REST Hooks: a Zap subscribes a hookUrl to
// one event (the API does that), and every such event's payload is POSTed
// to the hookUrl. A hookUrl that answers 410 Gone has been unsubscribed on
// Zapier's side, so its subscription is removed (Info.RemoveOnGone).
//
// The settings row ("zapier") holds the API key Zapier authenticates with,
// found by the key's integrations.LookupKey; each subscription is a row of
// Kind HookKind.
package zapier

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
)

// Name is the integration's name in the API and the Kind of its settings row.
const Name = "zapier"

// HookKind is the Kind of a subscription row.
const HookKind = "zapier_hook"

// Bounds on the API key a user chooses for Zapier.
const (
	MinKeyLen = 32 // guessing one is hopeless (docs/api.md §8)
	MaxKeyLen = 256
)

// Provider is the Zapier integration.
type Provider struct {
	deps integrations.Deps
}

var _ integrations.Provider = (*Provider)(nil)

// New returns the Zapier provider sending with deps.
func New(deps integrations.Deps) *Provider { return &Provider{deps: deps} }

// Info describes Zapier in the catalog.
func (p *Provider) Info() integrations.Info {
	return integrations.Info{
		ID: 4, Name: Name, DisplayName: "Zapier", Description: "Connect with 5000+ apps via Zapier",
		Category: "automation", Icon: "https://zapier.com/favicon.ico",
		Fields: []integrations.Field{
			{Name: "api_key", Type: "string", Required: true, Description: "Zapier API key", Mask: integrations.SecretKey},
		},
		HookKind: HookKind, RemoveOnGone: true, LookupField: "api_key",
	}
}

// Validate checks the API key's length and characters.
func (p *Provider) Validate(cfg *integrations.Config) []hookd.FieldError {
	if msg := integrations.CheckToken(cfg.Field("api_key"), MinKeyLen, MaxKeyLen); msg != "" {
		return []hookd.FieldError{{Field: "api_key", Message: msg}}
	}
	return nil
}

// Send POSTs the event's payload, as it was published, to the
// subscription's hookUrl.
func (p *Provider) Send(ctx context.Context, cfg *integrations.Config, m *integrations.Message) (integrations.Sent, error) {
	if cfg.HookURL == "" {
		return integrations.Sent{Attempt: p.deps.NewAttempt()},
			&integrations.SendError{Type: hookd.ErrTypeConnection, Message: "this Zapier row has no hookUrl"}
	}
	return p.deps.Do(ctx, integrations.Request{URL: cfg.HookURL, Body: m.Event.Payload})
}

// Summary names the (masked) hookUrl a send reached.
func (p *Provider) Summary(cfg *integrations.Config) string {
	if cfg.HookURL != "" {
		return "event sent to " + integrations.MaskURL(cfg.HookURL)
	}
	return "event sent to the subscribed Zaps"
}
