package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookd/hookd/internal/catalog"
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
		Deprecated: et.Deprecated, Builtin: et.Tenant == "", PayloadSchema: et.PayloadSchema, ExamplePayload: et.ExamplePayload,
	}
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	own, err := s.store.ListEventTypes(r.Context(), p.Tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	types := s.catalog.Types()
	for _, et := range own {
		types = append(types, *et)
	}
	events := make([]eventTypeJSON, 0, len(types))
	for _, et := range types {
		events = append(events, newEventTypeJSON(et))
	}
	ok(w, http.StatusOK, map[string]any{"events": events, "categories": catalog.Categorize(types)}, "")
}

// eventTypeFromPath finds {event_name} among the built-in types and the
// caller's tenant's own.
func (s *Server) eventTypeFromPath(r *http.Request) (hookd.EventType, error) {
	name := r.PathValue("event_name")
	if et, ok := s.catalog.Get(name); ok {
		return et, nil
	}
	et, err := s.store.GetEventType(r.Context(), principal(r).Tenant, name)
	if err != nil {
		return hookd.EventType{}, err
	}
	return *et, nil
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request) {
	et, err := s.eventTypeFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	_, count, err := s.store.ListWebhooks(r.Context(), p.Owner(), hookd.WebhookQuery{Event: et.Name, Limit: 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	last, err := s.store.LastPublished(r.Context(), p.Tenant, et.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := newEventTypeJSON(et)
	out.WebhooksCount = count
	out.LastTriggered = apiTimePtr(last)
	ok(w, http.StatusOK, map[string]any{"event": out}, "")
}

// eventTypeInput is the body of POST and PUT /api/webhooks/events/.
type eventTypeInput struct {
	Name           *string         `json:"name"`
	Description    *string         `json:"description"`
	Category       *string         `json:"category"`
	Version        *string         `json:"version"`
	PayloadSchema  json.RawMessage `json:"payload_schema"`
	ExamplePayload json.RawMessage `json:"example_payload"`
	Deprecated     *bool           `json:"deprecated"`
}

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request) {
	var in eventTypeInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	now := s.now().UTC()
	et := &hookd.EventType{Tenant: p.Tenant, Version: "1.0", CreatedAt: now, UpdatedAt: now}
	var details []hookd.FieldError
	if in.Name == nil {
		details = append(details, hookd.FieldError{Field: "name", Message: "is required"})
	} else {
		et.Name = *in.Name
		if !catalog.ValidName(et.Name) {
			details = append(details, hookd.FieldError{Field: "name", Message: "must look like resource.action: lower-case letters, digits and _ in 2-3 dot-separated parts, at most 100 characters"})
		}
	}
	if in.Category == nil {
		details = append(details, hookd.FieldError{Field: "category", Message: "is required"})
	}
	if in.PayloadSchema == nil {
		details = append(details, hookd.FieldError{Field: "payload_schema", Message: "is required"})
	}
	details = append(details, applyEventTypeInput(et, &in)...)
	if len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	if catalog.IsBuiltin(et.Name) {
		s.fail(w, r, hookd.Errorf(hookd.EConflict, "%s is a built-in event type", et.Name))
		return
	}
	if err := s.store.CreateEventType(r.Context(), et); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(et.Tenant)
	ok(w, http.StatusCreated, map[string]any{"event": newEventTypeJSON(*et)}, "Event type registered successfully")
}

// applyEventTypeInput validates and applies everything but the name.
func applyEventTypeInput(et *hookd.EventType, in *eventTypeInput) []hookd.FieldError {
	var details []hookd.FieldError
	if in.Description != nil {
		if len(*in.Description) > maxDescriptionLen {
			details = append(details, hookd.FieldError{Field: "description", Message: "must be at most 2000 characters"})
		}
		et.Description = *in.Description
	}
	if in.Category != nil {
		if !catalog.ValidCategory(*in.Category) {
			details = append(details, hookd.FieldError{Field: "category", Message: "must be lower-case letters, digits and _ (1-50 characters)"})
		}
		et.Category = *in.Category
	}
	if in.Version != nil {
		if v := strings.TrimSpace(*in.Version); v == "" || len(v) > 20 {
			details = append(details, hookd.FieldError{Field: "version", Message: "must be 1-20 characters"})
		}
		et.Version = *in.Version
	}
	if in.Deprecated != nil {
		et.Deprecated = *in.Deprecated
	}
	if in.PayloadSchema != nil {
		et.PayloadSchema = in.PayloadSchema
	}
	if in.ExamplePayload != nil {
		if string(in.ExamplePayload) == "null" {
			in.ExamplePayload = nil
		}
		et.ExamplePayload = in.ExamplePayload
	}
	if et.PayloadSchema == nil {
		return details
	}
	schema, err := catalog.Compile(et.PayloadSchema)
	if err != nil {
		return append(details, errorDetails(err, "payload_schema")...)
	}
	if et.ExamplePayload != nil {
		for _, d := range schema.Validate(et.ExamplePayload) {
			d.Field = "example_payload" + strings.TrimPrefix(d.Field, "payload")
			details = append(details, d)
		}
	}
	return details
}

// errorDetails turns an error into field details, defaulting to field.
func errorDetails(err error, field string) []hookd.FieldError {
	if e, ok := err.(*hookd.Error); ok && len(e.Details) > 0 {
		return e.Details
	}
	return []hookd.FieldError{{Field: field, Message: hookd.ErrorMessage(err)}}
}

func (s *Server) updateEventType(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("event_name")
	if catalog.IsBuiltin(name) {
		s.fail(w, r, hookd.Errorf(hookd.EForbidden, "built-in event types cannot be changed"))
		return
	}
	var in eventTypeInput
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	et, err := s.store.GetEventType(r.Context(), p.Tenant, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var details []hookd.FieldError
	if in.Name != nil && *in.Name != name {
		details = append(details, hookd.FieldError{Field: "name", Message: "cannot be changed"})
	}
	details = append(details, applyEventTypeInput(et, &in)...)
	if len(details) > 0 {
		s.fail(w, r, hookd.Invalid(details...))
		return
	}
	et.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateEventType(r.Context(), et); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(et.Tenant)
	ok(w, http.StatusOK, map[string]any{"event": newEventTypeJSON(*et)}, "Event type updated successfully")
}

func (s *Server) deprecateEventType(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("event_name")
	if catalog.IsBuiltin(name) {
		s.fail(w, r, hookd.Errorf(hookd.EForbidden, "built-in event types cannot be changed"))
		return
	}
	p := principal(r)
	et, err := s.store.GetEventType(r.Context(), p.Tenant, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	et.Deprecated = true
	et.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateEventType(r.Context(), et); err != nil {
		s.fail(w, r, err)
		return
	}
	s.webhooksChanged(et.Tenant)
	ok(w, http.StatusOK, map[string]any{"event": newEventTypeJSON(*et)}, "Event type deprecated")
}
