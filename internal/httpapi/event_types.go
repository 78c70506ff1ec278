package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd/internal/hookd"
)

type eventTypeJSON struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	Category       string          `json:"category"`
	Version        string          `json:"version"`
	Deprecated     bool            `json:"deprecated"`
	Builtin        bool            `json:"builtin"`
	PayloadSchema  json.RawMessage `json:"payload_schema"`
	ExamplePayload json.RawMessage `json:"example_payload,omitempty"`
	// Details only. Held as any so that a typed nil (*string)(nil) is
	// shown as null while an unset field is left out of lists.
	WebhooksCount any `json:"webhooks_count,omitempty"`
	LastTriggered any `json:"last_triggered,omitempty"`
}

func newEventTypeJSON(et hookd.EventType) eventTypeJSON {
	return eventTypeJSON{
		Name: et.Name, Description: et.Description, Category: et.Category, Version: et.Version,
		Deprecated: et.Deprecated, Builtin: et.Builtin(), PayloadSchema: et.PayloadSchema, ExamplePayload: et.ExamplePayload,
	}
}

// categoryJSON is one event type category of a listing.
type categoryJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	EventCount  int    `json:"event_count"`
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) {
	types, categories, err := s.eventTypes.FindEventTypes(r.Context(), principal(r).Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events := make([]eventTypeJSON, 0, len(types))
	for _, et := range types {
		events = append(events, newEventTypeJSON(et))
	}
	cats := make([]categoryJSON, 0, len(categories))
	for _, c := range categories {
		cats = append(cats, categoryJSON{Name: c.Name, DisplayName: c.DisplayName, EventCount: c.Count})
	}
	ok(w, http.StatusOK, map[string]any{"events": events, "categories": cats}, "")
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request) {
	et, usage, err := s.eventTypes.FindEventType(r.Context(), principal(r).Owner(), r.PathValue("event_name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := newEventTypeJSON(et)
	out.WebhooksCount = usage.WebhooksCount
	out.LastTriggered = apiTimePtr(usage.LastPublished)
	ok(w, http.StatusOK, map[string]any{"event": out}, "")
}

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request) {
	var in hookd.EventTypeInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	et, err := s.eventTypes.CreateEventType(r.Context(), principal(r).Tenant, &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusCreated, map[string]any{"event": newEventTypeJSON(*et)}, "Event type registered successfully")
}

func (s *Server) updateEventType(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("event_name")
	var in hookd.EventTypeInput
	if err := decode(r, &in); err != nil {
		// A built-in type is refused whatever the body holds.
		if et, ferr := s.eventTypes.LookupEventType(r.Context(), principal(r).Tenant, name); ferr == nil && et.Builtin() {
			err = hookd.ErrBuiltinEventType()
		}
		s.fail(w, r, err)
		return
	}
	et, err := s.eventTypes.UpdateEventType(r.Context(), principal(r).Tenant, name, &in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"event": newEventTypeJSON(*et)}, "Event type updated successfully")
}

func (s *Server) deprecateEventType(w http.ResponseWriter, r *http.Request) {
	et, err := s.eventTypes.DeprecateEventType(r.Context(), principal(r).Tenant, r.PathValue("event_name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"event": newEventTypeJSON(*et)}, "Event type deprecated")
}
