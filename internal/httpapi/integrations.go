package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd/internal/hookd"
)

// integrationJSON is one entry of the integrations catalog.
type integrationJSON struct {
	ID           int         `json:"id"`
	Name         string      `json:"name"`
	DisplayName  string      `json:"display_name"`
	Description  string      `json:"description"`
	Category     string      `json:"category"`
	Icon         string      `json:"icon"`
	IsAvailable  bool        `json:"is_available"`
	IsConfigured bool        `json:"is_configured"`
	ConfigFields []fieldJSON `json:"config_fields"`
}

// fieldJSON is one configuration field of an integration.
type fieldJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Description string `json:"description"`
}

// integrationCategoryJSON is one category of the integrations catalog.
type integrationCategoryJSON struct {
	Name             string `json:"name"`
	DisplayName      string `json:"display_name"`
	IntegrationCount int    `json:"integration_count"`
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	list, categories, err := s.integrations.FindIntegrations(r.Context(), principal(r).Owner())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]integrationJSON, 0, len(list))
	for _, it := range list {
		fields := make([]fieldJSON, 0, len(it.Fields))
		for _, f := range it.Fields {
			fields = append(fields, fieldJSON(f))
		}
		out = append(out, integrationJSON{
			ID: it.ID, Name: it.Name, DisplayName: it.DisplayName, Description: it.Description,
			Category: it.Category, Icon: it.Icon, IsAvailable: true, IsConfigured: it.IsConfigured, ConfigFields: fields,
		})
	}
	cats := make([]integrationCategoryJSON, 0, len(categories))
	for _, c := range categories {
		cats = append(cats, integrationCategoryJSON{Name: c.Name, DisplayName: c.DisplayName, IntegrationCount: c.Count})
	}
	ok(w, http.StatusOK, map[string]any{"integrations": out, "categories": cats}, "")
}

// integrationFirst is the error to answer for a bad configure body: an
// integration that does not exist is reported first, as the path comes
// first.
func (s *Server) integrationFirst(r *http.Request, err error) error {
	if _, ferr := s.integrations.FindIntegration(r.Context(), principal(r).Owner(), r.PathValue("name")); hookd.IsNotFound(ferr) {
		return ferr
	}
	return err
}

func (s *Server) configureIntegration(w http.ResponseWriter, r *http.Request) {
	var in map[string]json.RawMessage // config fields are top-level: the service refuses unknown keys
	if err := decode(r, &in); err != nil {
		s.fail(w, r, s.integrationFirst(r, err))
		return
	}
	st, err := s.integrations.ConfigureIntegration(r.Context(), principal(r).Owner(), r.PathValue("name"), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	it := st.Integration
	ok(w, http.StatusOK, map[string]any{"integration": map[string]any{
		"id": it.ID, "name": it.Name, "display_name": it.DisplayName, "is_configured": true,
		"config": st.Config, "status": integrationState(st.Active),
		"last_sync": apiTimePtr(st.LastSync), "sync_count": st.SyncCount,
	}}, it.DisplayName+" integration configured successfully")
}

// integrationState is an integration's status: active, or disabled after
// its service answered 410 Gone or it failed too often.
func integrationState(active bool) string {
	if active {
		return "active"
	}
	return "disabled"
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) {
	it, err := s.integrations.DeleteIntegration(r.Context(), principal(r).Owner(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"integration": map[string]any{
		"id": it.ID, "name": it.Name, "display_name": it.DisplayName, "is_configured": false,
	}}, it.DisplayName+" integration removed")
}

// activityJSON is one entry of recent_activity.
type activityJSON struct {
	Event     string  `json:"event"`
	Timestamp string  `json:"timestamp"`
	Status    string  `json:"status"`
	Message   string  `json:"message"`
	Test      bool    `json:"test"`
	NextRetry *string `json:"next_retry,omitempty"`
}

func (s *Server) integrationStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.integrations.IntegrationStatus(r.Context(), principal(r).Owner(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	activity := make([]activityJSON, 0, len(st.RecentActivity))
	for _, a := range st.RecentActivity {
		activity = append(activity, activityJSON{Event: a.Event, Timestamp: apiTime(a.At), Status: a.Status,
			Message: a.Message, Test: a.Test, NextRetry: apiTimePtr(a.NextRetry)})
	}
	it := st.Integration
	out := map[string]any{
		"id": it.ID, "name": it.Name, "display_name": it.DisplayName, "status": integrationState(st.Active),
		"is_configured": true, "last_sync": apiTimePtr(st.LastSync), "sync_count": st.SyncCount,
		"error_count": st.ErrorCount, "success_rate": hookd.SuccessRate(st.SyncCount, st.ErrorCount),
		"config": st.Config, "recent_activity": activity,
		"configured_at": apiTime(st.ConfiguredAt), "updated_at": apiTime(st.UpdatedAt),
	}
	if st.DisabledReason != "" {
		out["disabled_reason"] = st.DisabledReason
	}
	if st.Subscriptions != nil {
		out["subscriptions"] = *st.Subscriptions
	}
	ok(w, http.StatusOK, map[string]any{"integration": out}, "")
}

// testIntegration sends one event through the integration at once and
// reports what happened; a failed send still answers 200 (as webhook
// tests do).
func (s *Server) testIntegration(w http.ResponseWriter, r *http.Request) {
	owner, name := principal(r).Owner(), r.PathValue("name")
	var in hookd.TestInput
	if err := decodeOptional(r, &in); err != nil {
		// The path comes first: an integration not configured says so.
		if _, ferr := s.integrations.IntegrationStatus(r.Context(), owner, name); hookd.IsNotFound(ferr) {
			err = ferr
		}
		s.fail(w, r, err)
		return
	}
	res, err := s.integrations.TestIntegration(r.Context(), owner, name, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	result := map[string]any{"status": "failed", "response_time": res.ResponseTime, "timestamp": apiTime(res.At), "message": res.Message}
	if res.EventID != "" {
		result["event_id"] = res.EventID
		result["response_code"] = res.ResponseCode
	}
	message := "Integration test failed"
	switch {
	case res.Success:
		result["status"] = "success"
		message = "Integration test completed successfully"
	case res.ErrorType != "":
		result["error_type"], result["error_message"] = res.ErrorType, res.ErrorMessage
	}
	ok(w, http.StatusOK, map[string]any{"test_result": result}, message)
}
