package hookd

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// EventType describes a kind of event: a built-in catalog type or one a
// tenant registered. PayloadSchema is a JSON Schema (draft 2020-12).
type EventType struct {
	Name           string
	Description    string
	Category       string
	Version        string
	Deprecated     bool
	PayloadSchema  json.RawMessage
	ExamplePayload json.RawMessage // may be nil
	Tenant         string          // "" for built-in types
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Builtin reports whether et is one of the built-in catalog's types.
func (et EventType) Builtin() bool { return et.Tenant == "" }

// ErrBuiltinEventType is the answer to a change to a built-in type.
func ErrBuiltinEventType() *Error {
	return Errorf(EForbidden, "built-in event types cannot be changed")
}

// Event is one published occurrence of an event type.
type Event struct {
	ID                  string // "evt_" + a time-ordered unique suffix
	Seq                 int64  // store-assigned, increasing in commit order within a tenant's stream
	Tenant              string
	Publisher           string // the sub of the token that published it
	Type                string
	Version             string
	Payload             json.RawMessage
	IdempotencyKey      string
	CreatedAt           time.Time
	WebhooksMatched     int
	IntegrationsMatched int
}

// IdempotencyWindow is how long an idempotency key keeps answering with
// the first event it published.
const IdempotencyWindow = 24 * time.Hour

// MatchesPattern reports whether a subscription pattern covers an event
// name: the exact name, "x.*" for every event whose first segment is x, or
// "*" for all events but the operational ones (docs/api.md §11), which
// are subscribed by name or prefix only.
func MatchesPattern(pattern, event string) bool {
	if pattern == AllEvents {
		return !IsOperational(event)
	}
	if prefix, ok := CategoryPrefix(pattern); ok {
		return len(event) > len(prefix) && strings.HasPrefix(event, prefix)
	}
	return pattern == event
}

// AllEvents is the subscription pattern that covers every event.
const AllEvents = "*"

// CategoryPrefix returns the name prefix a category wildcard covers, dot
// included ("order." for "order.*"), and whether pattern is one. Stores
// turn the prefix into SQL; MatchesPattern is the rule it follows.
func CategoryPrefix(pattern string) (string, bool) {
	if len(pattern) > 2 && strings.HasSuffix(pattern, ".*") {
		return pattern[:len(pattern)-1], true
	}
	return "", false
}

// SubscribesTo reports whether any of patterns covers event.
func SubscribesTo(patterns []string, event string) bool {
	for _, p := range patterns {
		if MatchesPattern(p, event) {
			return true
		}
	}
	return false
}

// CompactJSON returns valid JSON text without insignificant white space
// (a copy of data as it is when it is not valid JSON).
func CompactJSON(data []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return append(json.RawMessage(nil), data...)
	}
	return buf.Bytes()
}
