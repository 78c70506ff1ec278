package httpapi

import (
	"crypto/subtle"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/integrations/zapier"
)

// Zapier's REST Hooks (CONTRACT §8). Zapier authenticates with the API key
// the user configured, in X-API-Key, instead of a bearer token; the key
// finds the user's settings row through its lookup key.

// zapierSettings authenticates a Zapier request and returns the settings
// row of the user whose key it carries.
func (s *Server) zapierSettings(r *http.Request) (*hookd.Webhook, error) {
	if _, registered := s.integrations.registry.Get(zapier.Name); !registered {
		return nil, hookd.Errorf(hookd.ENotFound, "the Zapier integration is not available")
	}
	key := r.Header.Get("X-API-Key")
	if key == "" {
		return nil, hookd.Errorf(hookd.EUnauthorized, "the X-API-Key header is required")
	}
	row, err := s.store.FindWebhookByLookupKey(r.Context(), zapier.Name, integrations.LookupKey(key))
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

// zapierCreated answers a subscription in the envelope, with its id also
// at the top level where Zapier's subscribe step reads it.
type zapierCreated struct {
	Success bool           `json:"success"`
	Data    map[string]any `json:"data"`
	Message string         `json:"message"`
	ID      int64          `json:"id"`
}

func (s *Server) zapierSubscribe(w http.ResponseWriter, r *http.Request) {
	settings, err := s.zapierSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		HookURL *string `json:"hookUrl"`
		Event   *string `json:"event"`
	}
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	owner := settings.Owner
	known, err := s.knownTypes(r.Context(), owner.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var details []hookd.FieldError
	switch {
	case in.HookURL == nil:
		details = append(details, hookd.FieldError{Field: "hookUrl", Message: "is required"})
	default:
		if msg := integrations.CheckURL(*in.HookURL); msg != "" {
			details = append(details, hookd.FieldError{Field: "hookUrl", Message: msg})
		}
	}
	switch {
	case in.Event == nil || *in.Event == "":
		details = append(details, hookd.FieldError{Field: "event", Message: "is required"})
	case !catalog.ValidPattern(*in.Event, maps.Keys(known)):
		details = append(details, hookd.FieldError{Field: "event", Message: "is not a known event type, a category wildcard such as order.*, or *"})
	}
	if len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	unlock := s.integrations.configuring.lock(owner.Tenant + "\x00" + owner.User + "\x00" + zapier.HookKind)
	defer unlock()
	hooks, err := s.settingsRows(r.Context(), owner, zapier.HookKind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var existing *hookd.Webhook
	for _, h := range hooks {
		cfg, err := integrations.ParseConfig(h.Config)
		switch {
		case err != nil:
			s.fail(w, r, err)
			return
		case !h.IsActive: // ended by a 410: removed for good
			if err := s.store.DeleteWebhook(r.Context(), owner, h.ID); err != nil && !hookd.IsNotFound(err) {
				s.fail(w, r, err)
				return
			}
		case cfg.HookURL == *in.HookURL && len(h.Events) == 1 && h.Events[0] == *in.Event:
			existing = h // Zapier subscribing again: the same subscription
		}
	}
	if existing == nil {
		now := s.now().UTC()
		existing = &hookd.Webhook{
			Owner: owner, Kind: zapier.HookKind, Name: "Zapier subscription", URL: integrations.MaskURL(*in.HookURL),
			Events: []string{*in.Event}, Headers: map[string]string{}, IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
			Filters: json.RawMessage("{}"), Config: (&integrations.Config{HookURL: *in.HookURL}).Raw(), CreatedAt: now, UpdatedAt: now,
		}
		if err := s.store.CreateWebhook(r.Context(), existing); err != nil {
			s.fail(w, r, err)
			return
		}
		s.webhooksChanged(owner.Tenant)
	}
	writeJSON(w, http.StatusCreated, zapierCreated{
		Success: true, ID: existing.ID, Message: "Subscribed",
		Data: map[string]any{"id": existing.ID, "event": existing.Events[0], "created_at": apiTime(existing.CreatedAt)},
	})
}

func (s *Server) zapierUnsubscribe(w http.ResponseWriter, r *http.Request) {
	settings, err := s.zapierSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, hookd.Errorf(hookd.ENotFound, "subscription not found"))
		return
	}
	hook, err := s.store.GetWebhook(r.Context(), settings.Owner, id)
	if err == nil && hook.Kind != zapier.HookKind {
		err = hookd.Errorf(hookd.ENotFound, "subscription not found")
	}
	if err == nil {
		err = s.store.DeleteWebhook(r.Context(), settings.Owner, id)
	}
	if hookd.IsNotFound(err) {
		err = hookd.Errorf(hookd.ENotFound, "subscription not found")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(settings.Owner.Tenant)
	ok(w, http.StatusOK, map[string]any{"id": id, "deleted": true}, "Unsubscribed")
}

func (s *Server) zapierMe(w http.ResponseWriter, r *http.Request) {
	settings, err := s.zapierSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	active := true
	_, n, err := s.store.ListWebhooks(r.Context(), settings.Owner, hookd.WebhookQuery{Kind: zapier.HookKind, Active: &active})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{
		"user": settings.Owner.User, "tenant": settings.Owner.Tenant, "integration": zapier.Name, "subscriptions": n,
	}, "")
}

// zapierSamples answers a JSON array of example payloads, the shape each
// hookUrl receives, as Zapier's perform list expects.
func (s *Server) zapierSamples(w http.ResponseWriter, r *http.Request) {
	settings, err := s.zapierSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	known, err := s.knownTypes(r.Context(), settings.Owner.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("event")
	et, found := known[name]
	if !found {
		s.fail(w, r, hookd.Errorf(hookd.ENotFound, "unknown event type %s", strconv.Quote(name)))
		return
	}
	samples := []json.RawMessage{}
	if len(et.ExamplePayload) > 0 {
		samples = append(samples, et.ExamplePayload)
	}
	writeJSON(w, http.StatusOK, samples)
}
