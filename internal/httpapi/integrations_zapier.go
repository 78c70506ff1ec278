package httpapi

import (
	"net/http"
	"strconv"
)

// Zapier's REST Hooks (docs/api.md §8). Zapier authenticates with the API key
// the user configured, in X-API-Key, instead of a bearer token.

// zapierKey is the API key a Zapier request carries.
func zapierKey(r *http.Request) string { return r.Header.Get("X-API-Key") }

// zapierCreated answers a subscription in the envelope, with its id also
// at the top level where Zapier's subscribe step reads it.
type zapierCreated struct {
	Success bool           `json:"success"`
	Data    map[string]any `json:"data"`
	Message string         `json:"message"`
	ID      int64          `json:"id"`
}

func (s *Server) zapierSubscribe(w http.ResponseWriter, r *http.Request) {
	var in struct {
		HookURL *string `json:"hookUrl"`
		Event   *string `json:"event"`
	}
	if err := decode(r, &in); err != nil {
		// The key is checked first: a request without a valid one learns
		// nothing of the body.
		if _, _, ferr := s.integrations.ZapierAccount(r.Context(), zapierKey(r)); ferr != nil {
			err = ferr
		}
		s.fail(w, r, err)
		return
	}
	hook, err := s.integrations.SubscribeZapier(r.Context(), zapierKey(r), in.HookURL, in.Event)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, zapierCreated{
		Success: true, ID: hook.ID, Message: "Subscribed",
		Data: map[string]any{"id": hook.ID, "event": hook.Events[0], "created_at": apiTime(hook.CreatedAt)},
	})
}

func (s *Server) zapierUnsubscribe(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		id = 0 // names no subscription
	}
	if err := s.integrations.UnsubscribeZapier(r.Context(), zapierKey(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "deleted": true}, "Unsubscribed")
}

func (s *Server) zapierMe(w http.ResponseWriter, r *http.Request) {
	owner, n, err := s.integrations.ZapierAccount(r.Context(), zapierKey(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{
		"user": owner.User, "tenant": owner.Tenant, "integration": "zapier", "subscriptions": n,
	}, "")
}

// zapierSamples answers a JSON array of example payloads, the shape each
// hookUrl receives, as Zapier's perform list expects.
func (s *Server) zapierSamples(w http.ResponseWriter, r *http.Request) {
	samples, err := s.integrations.ZapierSamples(r.Context(), zapierKey(r), r.PathValue("event"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, samples)
}
