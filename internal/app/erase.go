package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/filter"
	"github.com/hookd/hookd/internal/hookd"
)

// maxErasePatterns bounds the event patterns of one erasure.
const maxErasePatterns = 100

// EraseEvents checks an erasure request, then has the store erase the
// payloads of the tenant's matching events in one transaction
// (docs/api.md §13): event patterns as a webhook's events, filters as a
// webhook's filters (checked against the schemas of the types the
// patterns cover), and optionally only events created before a time.
func (s *EventService) EraseEvents(ctx context.Context, tenant string, in hookd.EraseInput) (int64, error) {
	known, err := s.knownTypes(ctx, tenant)
	if err != nil {
		return 0, err
	}
	var details []hookd.FieldError
	switch {
	case len(in.Events) == 0:
		details = append(details, hookd.FieldError{Field: "events", Message: "is required: at least one event type or wildcard"})
	case len(in.Events) > maxErasePatterns:
		details = append(details, hookd.FieldError{Field: "events", Message: fmt.Sprintf("must hold at most %d patterns", maxErasePatterns)})
	}
	for i, p := range in.Events {
		if !validPattern(p, known) {
			details = append(details, hookd.FieldError{Field: fmt.Sprintf("events[%d]", i), Message: "is not a known event type, a category wildcard such as order.*, or *"})
		}
	}
	q := hookd.EraseQuery{Tenant: tenant, Patterns: in.Events, Now: s.now()}
	if in.Before != nil {
		before, err := time.Parse(time.RFC3339Nano, *in.Before)
		if err != nil {
			details = append(details, hookd.FieldError{Field: "before", Message: "must be an RFC 3339 time"})
		}
		q.Before = &before
	}
	if len(details) == 0 {
		details = checkFilters(in.Filters, in.Events, known)
	}
	if len(details) > 0 {
		return 0, hookd.Invalid(details...)
	}
	f, err := filter.Compile(in.Filters)
	if err != nil {
		return 0, err // checkFilters compiled it already
	}
	if !f.IsEmpty() {
		fields := map[string]*filter.Fields{}
		q.Match = func(eventType string, payload json.RawMessage) bool {
			fs, ok := fields[eventType]
			if !ok {
				if et, found := known[eventType]; found {
					fs = filter.FieldsFromSchema(et.PayloadSchema)
				}
				fields[eventType] = fs
			}
			match, err := f.MatchJSON(eventType, fs, payload)
			return err == nil && match
		}
	}
	return s.Store.EraseEvents(ctx, q)
}

// EraseEvent erases the payload of one of the tenant's events; another
// tenant's event is ENotFound.
func (s *EventService) EraseEvent(ctx context.Context, tenant, id string) (int64, error) {
	return s.Store.EraseEvents(ctx, hookd.EraseQuery{Tenant: tenant, ID: id, Now: s.now()})
}
