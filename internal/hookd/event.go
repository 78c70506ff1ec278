package hookd

import (
	"encoding/json"
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
