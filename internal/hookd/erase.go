package hookd

import (
	"encoding/json"
	"time"
)

// Erasure removes the payloads of a tenant's events (docs/api.md §13).
// An erased event keeps its id, type, times and deliveries; its payload
// is JSON null. hookd stores no other event without a payload (a publish
// needs an object, a test send and an operational event carry one), so
// a stored null payload (JSON text "null") is the mark of an erased event.

// ErrTypeErased is the error type of a delivery cancelled, unsent,
// because its event was erased.
const ErrTypeErased = "event_erased"

// Erased reports whether the event's payload was erased.
func (e *Event) Erased() bool { return payloadErased(e.Payload) }

// Erased reports whether the delivery's event was erased; it knows only
// where the payload is joined in (delivery logs).
func (d *Delivery) Erased() bool { return payloadErased(d.Payload) }

func payloadErased(p json.RawMessage) bool { return string(p) == "null" }

// EraseQuery selects the events of Tenant whose payloads EraseEvents
// removes: the event ID alone when set; else the events whose type one of
// Patterns covers (hookd.SubscribesTo), created before Before when set,
// for which Match (nil: all) holds.
type EraseQuery struct {
	Tenant   string
	ID       string
	Patterns []string
	Before   *time.Time
	Match    func(eventType string, payload json.RawMessage) bool
	Now      time.Time // when the erasure happens: the cancelled deliveries' completion time
}

// Selects reports whether the query erases ev, an event of its tenant not
// erased yet.
func (q *EraseQuery) Selects(ev *Event) bool {
	switch {
	case ev.Erased():
		return false
	case q.ID != "":
		return ev.ID == q.ID
	case !SubscribesTo(q.Patterns, ev.Type):
		return false
	case q.Before != nil && !ev.CreatedAt.Before(*q.Before):
		return false
	}
	return q.Match == nil || q.Match(ev.Type, ev.Payload)
}

// EraseInput is an erasure request as the API gives it.
type EraseInput struct {
	Events  []string        `json:"events"`
	Filters json.RawMessage `json:"filters"`
	Before  *string         `json:"before"`
}
