package httpapi

import (
	"net/http"
	"strconv"

	"github.com/hookd/hookd/internal/hookd"
)

// webhookID reads {webhook_id}; one that is not a positive integer names
// no webhook.
func webhookID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("webhook_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	return id, nil
}

// webhookFirst is the error to answer for a bad body or query of a
// request on webhook id: the path is checked first, so a webhook that is
// not the caller's answers not_found whatever the body holds.
func (s *Server) webhookFirst(r *http.Request, id int64, err error) error {
	if _, _, ferr := s.webhooks.FindWebhookByID(r.Context(), principal(r).Owner(), id); hookd.IsNotFound(ferr) {
		return ferr
	}
	return err
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in hookd.WebhookInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	wh, err := s.webhooks.CreateWebhook(r.Context(), principal(r).Owner(), &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
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
	res, err := s.webhooks.FindWebhooks(r.Context(), principal(r).Owner(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := make([]webhookJSON, 0, len(res.Webhooks))
	for _, h := range res.Webhooks {
		list = append(list, newWebhookJSON(h, res.Stats[h.ID], viewList))
	}
	sum := res.Summary
	ok(w, http.StatusOK, map[string]any{
		"webhooks": list,
		"total":    res.Total,
		"summary": map[string]any{
			"total_webhooks":   sum.TotalWebhooks,
			"active_webhooks":  sum.ActiveWebhooks,
			"total_events":     sum.TotalEvents,
			"avg_success_rate": sum.AvgSuccessRate,
		},
	}, "")
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wh, stats, err := s.webhooks.FindWebhookByID(r.Context(), principal(r).Owner(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"webhook": newWebhookJSON(wh, stats, viewDetails)}, "")
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in hookd.WebhookInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, s.webhookFirst(r, id, err))
		return
	}
	wh, stats, err := s.webhooks.UpdateWebhook(r.Context(), principal(r).Owner(), id, &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"webhook": newWebhookJSON(wh, stats, viewDetails)}, "Webhook updated successfully")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.webhooks.DeleteWebhook(r.Context(), principal(r).Owner(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "deleted": true}, "Webhook deleted successfully")
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id, err := webhookID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Secret *string `json:"secret"`
	}
	if err := decodeOptional(r, &in); err != nil {
		s.fail(w, r, s.webhookFirst(r, id, err))
		return
	}
	wh, err := s.webhooks.RotateSecret(r.Context(), principal(r).Owner(), id, in.Secret)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{
		"webhook_id":                 wh.ID,
		"secret":                     wh.Secret,
		"previous_secret_expires_at": apiTimePtr(wh.PreviousSecretExpiresAt),
	}, "Webhook secret rotated; the previous secret keeps signing for 24 hours")
}
