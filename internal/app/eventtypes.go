package app

import (
	"context"
	"strings"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hookd"
)

// EventTypeService implements hookd.EventTypeService.
type EventTypeService struct{ *core }

// FindEventTypes returns the built-in types, then the tenant's, and their
// categories.
func (s *EventTypeService) FindEventTypes(ctx context.Context, tenant string) ([]hookd.EventType, []hookd.Category, error) {
	own, err := s.Store.ListEventTypes(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	types := s.Catalog.Types()
	for _, et := range own {
		types = append(types, *et)
	}
	var categories []hookd.Category
	for _, c := range catalog.Categorize(types) {
		categories = append(categories, hookd.Category{Name: c.Name, DisplayName: c.DisplayName, Count: c.EventCount})
	}
	return types, categories, nil
}

// FindEventType returns a built-in or tenant type with the owner's
// webhooks subscribed to it and when the tenant last published it.
func (s *EventTypeService) FindEventType(ctx context.Context, owner hookd.Owner, name string) (hookd.EventType, hookd.EventTypeUsage, error) {
	var usage hookd.EventTypeUsage
	et, err := s.lookupType(ctx, owner.Tenant, name)
	if err != nil {
		return et, usage, err
	}
	if _, usage.WebhooksCount, err = s.Store.ListWebhooks(ctx, owner, hookd.WebhookQuery{Event: et.Name, Limit: 1}); err != nil {
		return et, usage, err
	}
	if usage.LastPublished, err = s.Store.LastPublished(ctx, owner.Tenant, et.Name); err != nil {
		return et, usage, err
	}
	return et, usage, nil
}

// LookupEventType returns the built-in or tenant type called name.
func (s *EventTypeService) LookupEventType(ctx context.Context, tenant, name string) (hookd.EventType, error) {
	return s.lookupType(ctx, tenant, name)
}

// UnknownPattern returns the first pattern the tenant does not know.
func (s *EventTypeService) UnknownPattern(ctx context.Context, tenant string, patterns []string) (string, bool, error) {
	known, err := s.knownTypes(ctx, tenant)
	if err != nil {
		return "", false, err
	}
	for _, p := range patterns {
		if !validPattern(p, known) {
			return p, true, nil
		}
	}
	return "", false, nil
}

// CreateEventType validates and registers a tenant type.
func (s *EventTypeService) CreateEventType(ctx context.Context, tenant string, in *hookd.EventTypeInput) (*hookd.EventType, error) {
	now := s.now()
	et := &hookd.EventType{Tenant: tenant, Version: "1.0", CreatedAt: now, UpdatedAt: now}
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
	details = append(details, applyEventTypeInput(et, in)...)
	if len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	if catalog.IsBuiltin(et.Name) {
		return nil, hookd.Errorf(hookd.EConflict, "%s is a built-in event type", et.Name)
	}
	if err := s.saveEventType(ctx, et, true); err != nil {
		return nil, err
	}
	return et, nil
}

// UpdateEventType changes the tenant type name.
func (s *EventTypeService) UpdateEventType(ctx context.Context, tenant, name string, in *hookd.EventTypeInput) (*hookd.EventType, error) {
	if catalog.IsBuiltin(name) {
		return nil, hookd.ErrBuiltinEventType()
	}
	et, err := s.Store.GetEventType(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	var details []hookd.FieldError
	if in.Name != nil && *in.Name != name {
		details = append(details, hookd.FieldError{Field: "name", Message: "cannot be changed"})
	}
	details = append(details, applyEventTypeInput(et, in)...)
	if len(details) > 0 {
		return nil, hookd.Invalid(details...)
	}
	et.UpdatedAt = s.now()
	if err := s.saveEventType(ctx, et, false); err != nil {
		return nil, err
	}
	return et, nil
}

// DeprecateEventType marks the tenant type name deprecated.
func (s *EventTypeService) DeprecateEventType(ctx context.Context, tenant, name string) (*hookd.EventType, error) {
	if catalog.IsBuiltin(name) {
		return nil, hookd.ErrBuiltinEventType()
	}
	et, err := s.Store.GetEventType(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	et.Deprecated = true
	et.UpdatedAt = s.now()
	if err := s.saveEventType(ctx, et, false); err != nil {
		return nil, err
	}
	return et, nil
}

// applyEventTypeInput validates and applies everything but the name.
func applyEventTypeInput(et *hookd.EventType, in *hookd.EventTypeInput) []hookd.FieldError {
	var details []hookd.FieldError
	if in.Description != nil {
		if len(*in.Description) > maxDescriptionLen {
			details = append(details, hookd.FieldError{Field: "description", Message: "must be at most 2000 characters"})
		} else if msg := hookd.CheckMultilineText(*in.Description); msg != "" {
			details = append(details, hookd.FieldError{Field: "description", Message: msg})
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
		} else if msg := hookd.CheckText(v); msg != "" {
			details = append(details, hookd.FieldError{Field: "version", Message: msg})
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
		et.ExamplePayload = in.ExamplePayload
		if string(in.ExamplePayload) == "null" {
			et.ExamplePayload = nil
		}
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
