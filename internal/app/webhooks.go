package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// secretOverlap is how long a rotated-out secret keeps signing.
const secretOverlap = 24 * time.Hour

// WebhookService implements hookd.WebhookService.
type WebhookService struct{ *core }

// FindWebhookByID returns the owner's webhook with its counters.
func (s *WebhookService) FindWebhookByID(ctx context.Context, owner hookd.Owner, id int64) (*hookd.Webhook, hookd.WebhookStats, error) {
	wh, err := s.webhook(ctx, owner, id)
	if err != nil {
		return nil, hookd.WebhookStats{}, err
	}
	return s.withStats(ctx, wh)
}

func (s *WebhookService) withStats(ctx context.Context, wh *hookd.Webhook) (*hookd.Webhook, hookd.WebhookStats, error) {
	stats, err := s.Store.WebhookStats(ctx, []int64{wh.ID})
	if err != nil {
		return nil, hookd.WebhookStats{}, err
	}
	st := stats[wh.ID]
	st.Circuit = s.circuit(wh.ID)
	return wh, st, nil
}

// circuit is this node's circuit breaker state of webhook id.
func (c *core) circuit(id int64) hookd.Circuit {
	if c.Circuits == nil {
		return hookd.Circuit{}
	}
	state, until := c.Circuits.State(id)
	return hookd.Circuit{State: state, OpenUntil: until}
}

// FindWebhooks returns one page of the owner's webhooks with their
// counters and the summary over all of them.
func (s *WebhookService) FindWebhooks(ctx context.Context, owner hookd.Owner, q hookd.WebhookQuery) (*hookd.WebhookList, error) {
	q.Kind = "" // integrations' rows are not listed here
	hooks, total, err := s.Store.ListWebhooks(ctx, owner, q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(hooks))
	for i, h := range hooks {
		ids[i] = h.ID
	}
	stats, err := s.Store.WebhookStats(ctx, ids)
	if err != nil {
		return nil, err
	}
	if s.Circuits != nil {
		if stats == nil {
			stats = make(map[int64]hookd.WebhookStats, len(ids))
		}
		for _, id := range ids {
			st := stats[id]
			st.Circuit = s.circuit(id)
			stats[id] = st
		}
	}
	sum, err := s.Store.SummarizeWebhooks(ctx, owner)
	if err != nil {
		return nil, err
	}
	return &hookd.WebhookList{Webhooks: hooks, Total: total, Stats: stats, Summary: sum}, nil
}

// CreateWebhook validates in and stores the webhook.
func (s *WebhookService) CreateWebhook(ctx context.Context, owner hookd.Owner, in *hookd.WebhookInput) (*hookd.Webhook, error) {
	now := s.now()
	wh := &hookd.Webhook{
		Owner: owner, IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
		Headers: map[string]string{}, Filters: json.RawMessage("{}"), CreatedAt: now, UpdatedAt: now,
	}
	var details []hookd.FieldError
	if in.Name == nil {
		details = append(details, hookd.FieldError{Field: "name", Message: "is required"})
	}
	if in.URL == nil {
		details = append(details, hookd.FieldError{Field: "url", Message: "is required"})
	}
	if in.Events == nil {
		details = append(details, hookd.FieldError{Field: "events", Message: "is required"})
	}
	if in.Secret == nil {
		secret, err := generateSecret(s.Random)
		if err != nil {
			return nil, err
		}
		wh.Secret = secret
	}
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, err
	}
	details = append(details, applyWebhookInput(wh, in, nil, known, s.URLKinds)...)
	details = append(details, s.webhookTargetDetails(wh, in, details)...)
	if len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	if err := s.createRow(ctx, wh); err != nil {
		return nil, err
	}
	return wh, nil
}

// UpdateWebhook changes the fields in names. Switching a webhook on again
// clears why hookd had switched it off and lets its waiting deliveries go
// (updateRow).
func (s *WebhookService) UpdateWebhook(ctx context.Context, owner hookd.Owner, id int64, in *hookd.WebhookInput) (*hookd.Webhook, hookd.WebhookStats, error) {
	wh, err := s.webhook(ctx, owner, id)
	if err != nil {
		return nil, hookd.WebhookStats{}, err
	}
	known, err := s.knownTypes(ctx, owner.Tenant)
	if err != nil {
		return nil, hookd.WebhookStats{}, err
	}
	wasActive := wh.IsActive
	details := applyWebhookInput(wh, in, wh.Headers, known, s.URLKinds)
	if details = append(details, s.webhookTargetDetails(wh, in, details)...); len(details) > 0 {
		return nil, hookd.WebhookStats{}, hookd.Invalid(details...)
	}
	wh.UpdatedAt = s.now()
	if err := s.updateRow(ctx, wh, wasActive); err != nil {
		return nil, hookd.WebhookStats{}, err
	}
	return s.withStats(ctx, wh)
}

// DeleteWebhook removes the webhook and cancels its pending deliveries.
func (s *WebhookService) DeleteWebhook(ctx context.Context, owner hookd.Owner, id int64) error {
	wh, err := s.webhook(ctx, owner, id)
	if err != nil {
		return err
	}
	return s.deleteRow(ctx, owner, wh.ID)
}

// RotateSecret makes secret (generated when nil) the signing secret; the
// old one keeps signing for secretOverlap.
func (s *WebhookService) RotateSecret(ctx context.Context, owner hookd.Owner, id int64, secret *string) (*hookd.Webhook, error) {
	wh, err := s.webhook(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	next := ""
	if secret != nil {
		if d := checkSecret(*secret); d != nil {
			return nil, hookd.Invalid(*d)
		}
		next = *secret
	} else if next, err = generateSecret(s.Random); err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.Add(secretOverlap)
	wh.PreviousSecret, wh.PreviousSecretExpiresAt = wh.Secret, &expires
	wh.Secret, wh.UpdatedAt = next, now
	if err := s.updateRow(ctx, wh, wh.IsActive); err != nil {
		return nil, err
	}
	return wh, nil
}
