package filter

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Schemas shaped like the API document's catalog entries, plus two
// tenant-registered types that exercise corner cases.
const (
	orderCreatedSchema = `{
	  "type": "object",
	  "required": ["order_id", "status", "amount"],
	  "properties": {
	    "order_id": {"type": "string", "description": "Unique order identifier"},
	    "status": {"type": "string", "enum": ["draft", "confirmed", "shipped", "delivered", "cancelled"]},
	    "amount": {"type": "number"},
	    "currency": {"type": "string"},
	    "customer": {
	      "type": "object",
	      "properties": {
	        "id": {"type": "integer"},
	        "name": {"type": "string"},
	        "email": {"type": "string"}
	      }
	    },
	    "items": {
	      "type": "array",
	      "items": {
	        "type": "object",
	        "properties": {
	          "product_id": {"type": "integer"},
	          "name": {"type": "string"},
	          "quantity": {"type": "integer"},
	          "price": {"type": "number"}
	        }
	      }
	    },
	    "tags": {"type": "array", "items": {"type": "string"}},
	    "note": {"type": ["string", "null"]},
	    "created_at": {"type": "string", "format": "date-time"}
	  }
	}`
	orderUpdatedSchema = `{
	  "type": "object",
	  "properties": {
	    "order_id": {"type": "string"},
	    "status": {"type": "string"},
	    "changes": {"type": "object"}
	  }
	}`
	orderCancelledSchema = `{
	  "type": "object",
	  "properties": {
	    "order_id": {"type": "string"},
	    "status": {"type": "string"},
	    "amount": {"type": "number"},
	    "reason": {"type": "string"}
	  }
	}`
	lowStockSchema = `{
	  "type": "object",
	  "properties": {
	    "product_id": {"type": "integer"},
	    "product_name": {"type": "string"},
	    "current_stock": {"type": "integer"},
	    "threshold": {"type": "integer"}
	  }
	}`
	// ticket.opened defines a field literally named min_score next to score,
	// and a status that is an integer (unlike order.*).
	ticketOpenedSchema = `{
	  "type": "object",
	  "properties": {
	    "min_score": {"type": "string"},
	    "score": {"type": "number"},
	    "status": {"type": "integer"},
	    "big": {"type": "integer"},
	    "flag": {"type": "boolean"},
	    "extra": {}
	  }
	}`
)

// orderPayload is a typical order.created payload.
const orderPayload = `{
  "order_id": "ORD-123",
  "status": "confirmed",
  "amount": 150.00,
  "currency": "USD",
  "customer": {"id": 1, "name": "John Doe", "email": "john@example.com"},
  "items": [
    {"product_id": 10, "name": "Widget", "quantity": 2, "price": 25.5},
    {"product_id": 11, "name": "Gadget", "quantity": 1, "price": 99}
  ],
  "tags": ["vip", "new"],
  "note": null,
  "created_at": "2024-01-15T10:30:00Z"
}`

// documentFilter is the API document's example filters object.
const documentFilter = `{"order_status": ["confirmed", "shipped"], "min_amount": 100}`

// testCatalog returns the test event types' fields by name.
func testCatalog() map[string]*Fields {
	return map[string]*Fields{
		"order.created":       FieldsFromSchema(json.RawMessage(orderCreatedSchema)),
		"order.updated":       FieldsFromSchema(json.RawMessage(orderUpdatedSchema)),
		"order.cancelled":     FieldsFromSchema(json.RawMessage(orderCancelledSchema)),
		"inventory.low_stock": FieldsFromSchema(json.RawMessage(lowStockSchema)),
		"ticket.opened":       FieldsFromSchema(json.RawMessage(ticketOpenedSchema)),
	}
}

// subset picks the named event types from a catalog.
func subset(t *testing.T, cat map[string]*Fields, names ...string) map[string]*Fields {
	t.Helper()
	out := make(map[string]*Fields, len(names))
	for _, n := range names {
		f, ok := cat[n]
		if !ok {
			t.Fatalf("test catalog has no event type %q", n)
		}
		out[n] = f
	}
	return out
}

// mustCompile compiles a filter or fails the test.
func mustCompile(t testing.TB, raw string) *Filter {
	t.Helper()
	f, err := Compile(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("Compile(%s): %v", raw, err)
	}
	return f
}

// mustDecode decodes JSON the way the delivery path does (UseNumber).
func mustDecode(t testing.TB, raw string) any {
	t.Helper()
	v, err := decodePayload([]byte(raw))
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func decodePayload(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
