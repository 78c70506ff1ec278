package app

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/zapier"
)

// Zapier's REST Hooks (docs/api.md §8). Zapier authenticates with the API key
// the user configured instead of a bearer token; the key finds the user's
// settings row through its lookup key.

// generateZapierKey returns a new API key when Zapier is configured
// without one and none is stored: "zk_" and 32 random base64url
// characters, answered once by the configure call. "" otherwise.
func (s *IntegrationService) generateZapierKey(info integrations.Info, stored *integrations.Config, in map[string]json.RawMessage) (string, error) {
	if info.Name != zapier.Name || stored.Field("api_key") != "" {
		return "", nil
	}
	if raw, ok := in["api_key"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || v != "" {
			return "", nil // a key given (or a bad value, refused by the rules)
		}
	}
	b := make([]byte, 24)
	if _, err := io.ReadFull(s.Random, b); err != nil {
		return "", fmt.Errorf("generate zapier key: %w", err)
	}
	return "zk_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// zapierSettings authenticates an API key and returns the settings row of
// the user whose key it is.
func (s *IntegrationService) zapierSettings(ctx context.Context, key string) (*hookd.Webhook, error) {
	if _, registered := s.Integrations.Get(zapier.Name); !registered {
		return nil, hookd.Errorf(hookd.ENotFound, "the Zapier integration is not available")
	}
	if key == "" {
		return nil, hookd.Errorf(hookd.EUnauthorized, "the X-API-Key header is required")
	}
	row, err := s.Store.FindWebhookByLookupKey(ctx, zapier.Name, integrations.LookupKey(key))
	if hookd.IsNotFound(err) {
		return nil, hookd.Errorf(hookd.EUnauthorized, "invalid API key")
	}
	if err != nil {
		return nil, err
	}
	cfg, err := integrations.ParseConfig(row.Config)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(cfg.Field("api_key")), []byte(key)) != 1 {
		return nil, hookd.Errorf(hookd.EUnauthorized, "invalid API key")
	}
	return row, nil
}

// ZapierAccount returns the account of the API key and its number of
// active subscriptions.
func (s *IntegrationService) ZapierAccount(ctx context.Context, apiKey string) (hookd.Owner, int64, error) {
	settings, err := s.zapierSettings(ctx, apiKey)
	if err != nil {
		return hookd.Owner{}, 0, err
	}
	active := true
	_, n, err := s.Store.ListWebhooks(ctx, settings.Owner, hookd.WebhookQuery{Kind: zapier.HookKind, Active: &active})
	if err != nil {
		return hookd.Owner{}, 0, err
	}
	return settings.Owner, n, nil
}

// SubscribeZapier subscribes hookURL to event; Zapier subscribing again
// gets the same subscription. Subscriptions a 410 ended are removed here.
func (s *IntegrationService) SubscribeZapier(ctx context.Context, apiKey string, hookURL, event *string) (*hookd.Webhook, error) {
	settings, err := s.zapierSettings(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	owner := settings.Owner
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, err
	}
	var details []hookd.FieldError
	switch {
	case hookURL == nil:
		details = append(details, hookd.FieldError{Field: "hookUrl", Message: "is required"})
	default:
		if msg := integrations.CheckURL(*hookURL); msg != "" {
			details = append(details, hookd.FieldError{Field: "hookUrl", Message: msg})
		}
	}
	details = append(details, s.targetDetails("hookUrl", hookURL, details)...)
	switch {
	case event == nil || *event == "":
		details = append(details, hookd.FieldError{Field: "event", Message: "is required"})
	case !validPattern(*event, known):
		details = append(details, hookd.FieldError{Field: "event", Message: "is not a known event type, a category wildcard such as order.*, or *"})
	}
	if len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	defer s.lockSettings(owner, zapier.HookKind)()
	hooks, err := s.settingsRows(ctx, owner, zapier.HookKind)
	if err != nil {
		return nil, err
	}
	var existing *hookd.Webhook
	for _, h := range hooks {
		cfg, err := integrations.ParseConfig(h.Config)
		switch {
		case err != nil:
			return nil, err
		case !h.IsActive: // ended by a 410: removed for good
			if err := s.deleteRow(ctx, owner, h.ID); err != nil && !hookd.IsNotFound(err) {
				return nil, err
			}
		case cfg.HookURL == *hookURL && len(h.Events) == 1 && h.Events[0] == *event:
			existing = h
		}
	}
	if existing != nil {
		return existing, nil
	}
	now := s.now()
	hook := &hookd.Webhook{
		Owner: owner, Kind: zapier.HookKind, Name: "Zapier subscription", URL: integrations.MaskURL(*hookURL),
		Events: []string{*event}, Headers: map[string]string{}, IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
		Filters: json.RawMessage("{}"), Config: (&integrations.Config{HookURL: *hookURL}).Raw(), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.createRow(ctx, hook); err != nil {
		return nil, err
	}
	return hook, nil
}

// UnsubscribeZapier removes the subscription id of the key's account.
func (s *IntegrationService) UnsubscribeZapier(ctx context.Context, apiKey string, id int64) error {
	settings, err := s.zapierSettings(ctx, apiKey)
	if err != nil {
		return err
	}
	if id <= 0 {
		return hookd.Errorf(hookd.ENotFound, "subscription not found")
	}
	hook, err := s.Store.GetWebhook(ctx, settings.Owner, id)
	if err == nil && hook.Kind != zapier.HookKind {
		err = hookd.Errorf(hookd.ENotFound, "subscription not found")
	}
	if hookd.IsNotFound(err) && !hookd.IsIntegrationRowID(id) {
		// Zapier keeps the id it was given at subscribe time: one from
		// before integration rows took ids of their own names its row
		// by the id it had then.
		if moved, merr := s.Store.MovedWebhookID(ctx, id); merr == nil {
			if hook, err = s.Store.GetWebhook(ctx, settings.Owner, moved); err == nil && hook.Kind != zapier.HookKind {
				err = hookd.Errorf(hookd.ENotFound, "subscription not found")
			}
			id = moved
		} else if !hookd.IsNotFound(merr) {
			return merr
		}
	}
	if err == nil {
		err = s.deleteRow(ctx, settings.Owner, id)
	}
	if hookd.IsNotFound(err) {
		err = hookd.Errorf(hookd.ENotFound, "subscription not found")
	}
	return err
}

// ZapierSamples returns the example payloads of an event type the key's
// account knows.
func (s *IntegrationService) ZapierSamples(ctx context.Context, apiKey, event string) ([]json.RawMessage, error) {
	settings, err := s.zapierSettings(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	et, err := s.lookupType(ctx, settings.Owner.Tenant, event)
	if hookd.IsNotFound(err) {
		return nil, hookd.Errorf(hookd.ENotFound, "unknown event type %s", strconv.Quote(event))
	}
	if err != nil {
		return nil, err
	}
	samples := []json.RawMessage{}
	if len(et.ExamplePayload) > 0 {
		samples = append(samples, et.ExamplePayload)
	}
	return samples, nil
}
