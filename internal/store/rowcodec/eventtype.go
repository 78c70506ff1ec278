package rowcodec

import (
	"encoding/json"

	"github.com/hookd/hookd/internal/hookd"
)

// EventType is the stored form of an event type's JSON columns. A nil
// pointer is a NULL column.
type EventType struct {
	PayloadSchema  string  // "{}" when the type has none
	ExamplePayload *string // nil when the type has none
}

// EncodeEventType returns et's JSON columns.
func EncodeEventType(et *hookd.EventType) EventType {
	r := EventType{PayloadSchema: "{}"}
	if len(et.PayloadSchema) > 0 {
		r.PayloadSchema = string(et.PayloadSchema)
	}
	if len(et.ExamplePayload) > 0 {
		example := string(et.ExamplePayload)
		r.ExamplePayload = &example
	}
	return r
}

// Decode sets et's JSON fields from the columns.
func (r EventType) Decode(et *hookd.EventType) {
	et.PayloadSchema = json.RawMessage(r.PayloadSchema)
	et.ExamplePayload = nil
	if r.ExamplePayload != nil {
		et.ExamplePayload = json.RawMessage(*r.ExamplePayload)
	}
}
