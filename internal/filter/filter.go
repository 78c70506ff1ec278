// Package filter implements the webhook filter language (docs/api.md §4,
// "Filters"): a JSON object checked against each published event's payload
// to decide whether a webhook receives it.
//
//	{"order_status": ["confirmed", "shipped"], "min_amount": 100}
//	{"amount": {"$gte": 100}, "customer.email": {"$exists": true}}
//	{"$or": [{"status": "shipped"}, {"min_amount": 1000}]}
//
// A key is a dotted path into the payload. For an event type it resolves,
// in order, to: the path as written, when the type's schema defines it; the
// path without the event's resource prefix ("order_status" is "status" on
// order.* events); and, for "min_"/"max_" keys with a number value, an
// inclusive bound on the rest of the key resolved the same way. A key that
// resolves to nothing on an event type does not apply to it; an applying
// key whose field the event lacks does not match.
//
// Compile once per webhook; Validate against the subscribed event types on
// create and update; Match on the delivery path. A *Filter is immutable and
// safe for concurrent use.
package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Filter is a compiled filters object.
type Filter struct {
	root     *group   // nil: matches everything
	matchers sync.Map // event type name → *Matcher, for Match
}

// Compile parses a webhook's filters object and checks its structure
// (operators, operand types, limits). Errors are a *hookd.Error with code
// validation_error and one detail per problem, each naming "filters.<key>".
// nil, empty input, JSON null and {} compile to a filter that matches
// everything.
func Compile(raw json.RawMessage) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return &Filter{}, nil
	}
	root, err := compileDocument(raw)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root}, nil
}

// IsEmpty reports whether the filter matches every event.
func (f *Filter) IsEmpty() bool {
	return f == nil || f.root == nil
}

// Match reports whether a payload of the given event type passes the
// filter. fields are the event type's schema fields; payload is the decoded
// JSON (best with json.Decoder.UseNumber, so large numbers stay exact). Key
// resolution is cached per event type for as long as the same *Fields is
// passed. A nil or empty filter matches everything.
func (f *Filter) Match(eventType string, fields *Fields, payload any) bool {
	if f.IsEmpty() {
		return true
	}
	if v, ok := f.matchers.Load(eventType); ok {
		if m := v.(*Matcher); m.fields == fields {
			return m.Match(payload)
		}
	}
	m := f.ForEvent(eventType, fields)
	f.matchers.Store(eventType, m)
	return m.Match(payload)
}

// MatchJSON is Match on a payload still in JSON form.
func (f *Filter) MatchJSON(eventType string, fields *Fields, payload json.RawMessage) (bool, error) {
	if f.IsEmpty() {
		return true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("filter: decode payload: %w", err)
	}
	return f.Match(eventType, fields, v), nil
}

// ForEvent resolves every key of the filter for one event type and returns
// a Matcher that checks payloads of that type without further lookups.
func (f *Filter) ForEvent(eventType string, fields *Fields) *Matcher {
	m := &Matcher{fields: fields}
	if !f.IsEmpty() {
		m.root = f.root.build(resourceOf(eventType), fields)
	}
	return m
}

// Matcher is a filter resolved for one event type. It is immutable and
// safe for concurrent use.
type Matcher struct {
	fields *Fields
	root   evaluator // nil: matches everything
}

// Match reports whether the decoded payload passes the filter.
func (m *Matcher) Match(payload any) bool {
	if m == nil || m.root == nil {
		return true
	}
	return m.root.eval(payload)
}

// resourceOf is the first segment of an event type name: "order" for
// order.created, "inventory" for inventory.low_stock.
func resourceOf(eventType string) string {
	resource, _, _ := strings.Cut(eventType, ".")
	return resource
}

// reading says how a key resolved against one event type's fields.
type reading uint8

const (
	readNone     reading = iota // the key does not apply
	readLiteral                 // a field path, as written or without the resource prefix
	readBound                   // a min_/max_ bound on a field
	readBadBound                // a min_/max_ key on a field, but its value is not a number
)

// lookup finds key among fields as written or without the resource prefix.
func lookup(key, resource string, fields *Fields) (string, bool) {
	if fields.Has(key) {
		return key, true
	}
	n := len(resource)
	if n > 0 && len(key) > n+1 && key[n] == '_' && key[:n] == resource {
		if rest := key[n+1:]; fields.Has(rest) {
			return rest, true
		}
	}
	return "", false
}

// resolve finds which field of an event type the key names, and how.
func (fc *fieldCond) resolve(resource string, fields *Fields) (string, reading) {
	if path, ok := lookup(fc.key, resource, fields); ok {
		return path, readLiteral
	}
	if fc.bound == nil {
		return "", readNone
	}
	path, ok := lookup(fc.bound.rest, resource, fields)
	switch {
	case !ok:
		return "", readNone
	case !fc.bound.numeric:
		return path, readBadBound
	}
	return path, readBound
}
