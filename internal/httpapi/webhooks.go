package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

// webhookCreate is the body of POST /api/webhooks/.
type webhookCreate struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	URL         *string           `json:"url"`
	Events      []string          `json:"events"`
	Headers     map[string]string `json:"headers"`
	Secret      *string           `json:"secret"`
	IsActive    *bool             `json:"is_active"`
	RetryConfig *retryConfigInput `json:"retry_config"`
	Filters     json.RawMessage   `json:"filters"`
	RateLimit   optionalInt       `json:"rate_limit"`
}

// webhookUpdate is the body of PUT /api/webhooks/{id}/: every field optional.
type webhookUpdate = webhookCreate

type retryConfigInput struct {
	MaxRetries        *int     `json:"max_retries"`
	RetryDelay        *int64   `json:"retry_delay"`
	BackoffMultiplier *float64 `json:"backoff_multiplier"`
}

// optionalInt tells a JSON null (Set, Null) from an absent field (!Set).
type optionalInt struct {
	Set   bool
	Null  bool
	Value int
}

func (o *optionalInt) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookCreate
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	now := s.now().UTC()
	wh := &hookd.Webhook{
		Owner: p.Owner(), IsActive: true, RetryConfig: hookd.DefaultRetryConfig,
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
		secret, err := generateSecret(s.random)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		wh.Secret = secret
	}
	known, err := s.knownTypes(r.Context(), p.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	details = append(details, applyWebhookInput(wh, &in, nil, known)...)
	if len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	if err := s.store.CreateWebhook(r.Context(), wh); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(wh.Owner.Tenant)
	ok(w, http.StatusCreated, map[string]any{"webhook": newWebhookJSON(wh, hookd.WebhookStats{}, viewCreated)}, "Webhook created successfully")
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	q := hookd.WebhookQuery{}
	var details []hookd.FieldError
	switch st := r.URL.Query().Get("status"); st {
	case "":
	case "active", "inactive":
		active := st == "active"
		q.Active = &active
	default:
		details = append(details, hookd.FieldError{Field: "status", Message: "must be active or inactive"})
	}
	q.Event = r.URL.Query().Get("event")
	var err error
	if q.Limit, q.Offset, err = pageParams(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(details) > 0 {
		s.fail(w, r, &hookd.Error{Code: hookd.EBadRequest, Message: "invalid query parameter", Details: details})
		return
	}
	owner := principal(r).Owner()
	hooks, total, err := s.store.ListWebhooks(r.Context(), owner, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stats, err := s.statsFor(r, hooks)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum, err := s.store.SummarizeWebhooks(r.Context(), owner)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]webhookJSON, 0, len(hooks))
	for _, h := range hooks {
		list = append(list, newWebhookJSON(h, stats[h.ID], viewList))
	}
	ok(w, http.StatusOK, map[string]any{
		"webhooks": list,
		"total":    total,
		"summary": map[string]any{
			"total_webhooks":   sum.TotalWebhooks,
			"active_webhooks":  sum.ActiveWebhooks,
			"total_events":     sum.TotalEvents,
			"avg_success_rate": sum.AvgSuccessRate,
		},
	}, "")
}

func (s *Server) statsFor(r *http.Request, hooks []*hookd.Webhook) (map[int64]hookd.WebhookStats, error) {
	ids := make([]int64, len(hooks))
	for i, h := range hooks {
		ids[i] = h.ID
	}
	return s.store.WebhookStats(r.Context(), ids)
}

// webhookFromPath loads the caller's webhook named by {webhook_id}.
func (s *Server) webhookFromPath(r *http.Request) (*hookd.Webhook, error) {
	id, err := strconv.ParseInt(r.PathValue("webhook_id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	wh, err := s.store.GetWebhook(r.Context(), principal(r).Owner(), id)
	if err != nil {
		return nil, err
	}
	if wh.Kind != "" { // an integration's row, not a webhook
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	return wh, nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerWebhook(w, r, wh, "")
}

func (s *Server) answerWebhook(w http.ResponseWriter, r *http.Request, wh *hookd.Webhook, message string) {
	stats, err := s.statsFor(r, []*hookd.Webhook{wh})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"webhook": newWebhookJSON(wh, stats[wh.ID], viewDetails)}, message)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in webhookUpdate
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	known, err := s.knownTypes(r.Context(), wh.Owner.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wasActive := wh.IsActive
	stored := wh.Headers
	if details := applyWebhookInput(wh, &in, stored, known); len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	if wh.IsActive && !wasActive {
		wh.DisabledReason = ""
	}
	wh.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateWebhook(r.Context(), wh); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(wh.Owner.Tenant)
	if wh.IsActive && !wasActive {
		s.notify() // its waiting deliveries may go now
	}
	s.answerWebhook(w, r, wh, "Webhook updated successfully")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteWebhook(r.Context(), wh.Owner, wh.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(wh.Owner.Tenant)
	ok(w, http.StatusOK, map[string]any{"id": wh.ID, "deleted": true}, "Webhook deleted successfully")
}

// secretOverlap is how long a rotated-out secret keeps signing.
const secretOverlap = 24 * time.Hour

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	wh, err := s.webhookFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Secret *string `json:"secret"`
	}
	if err := decodeOptional(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	next := ""
	if in.Secret != nil {
		if d := checkSecret(*in.Secret); d != nil {
			s.fail(w, r, hookd.Invalid(*d))
			return
		}
		next = *in.Secret
	} else if next, err = generateSecret(s.random); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	expires := now.Add(secretOverlap)
	wh.PreviousSecret, wh.PreviousSecretExpiresAt = wh.Secret, &expires
	wh.Secret, wh.UpdatedAt = next, now
	if err := s.store.UpdateWebhook(r.Context(), wh); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(wh.Owner.Tenant)
	ok(w, http.StatusOK, map[string]any{
		"webhook_id":                 wh.ID,
		"secret":                     wh.Secret,
		"previous_secret_expires_at": apiTime(expires),
	}, "Webhook secret rotated; the previous secret keeps signing for 24 hours")
}
