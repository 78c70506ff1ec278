package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// benchOrderPayload is an order.created payload of about 1 KB.
func benchOrderPayload(tb testing.TB) json.RawMessage {
	tb.Helper()
	var items []string
	for i := range 8 {
		items = append(items, fmt.Sprintf(`{"product_id": %d, "name": "Wireless Headphones model %d", "quantity": %d, "price": %d.99}`, i+1, i, i+1, 10*i+5))
	}
	p := `{"order_id": "ORD-2024-000123", "status": "confirmed", "amount": 1234.56,
		"customer": {"id": 4711, "name": "John Doe", "email": "john.doe@example.com"},
		"items": [` + strings.Join(items, ", ") + `],
		"created_at": "2024-01-15T10:30:00Z", "notes": "Leave the parcel with the neighbour if nobody answers."}`
	if len(p) < 900 || len(p) > 1300 {
		tb.Fatalf("benchmark payload is %d bytes, want about 1 KB", len(p))
	}
	return json.RawMessage(p)
}

func BenchmarkValidateOrderCreated(b *testing.B) {
	s := mustSchema(b, setup(b), "order.created")
	payload := benchOrderPayload(b)
	if errs := s.Validate(payload); errs != nil {
		b.Fatalf("benchmark payload invalid: %v", errs)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if errs := s.Validate(payload); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkValidateOrderCreatedInvalid(b *testing.B) {
	s := mustSchema(b, setup(b), "order.created")
	payload := json.RawMessage(strings.Replace(string(benchOrderPayload(b)), `"amount": 1234.56`, `"amount": "1234.56"`, 1))
	b.ReportAllocs()
	for b.Loop() {
		if errs := s.Validate(payload); len(errs) != 1 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	c := setup(b)
	et, _ := c.Get("order.created")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(et.PayloadSchema); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidate feeds arbitrary bytes to the order.created schema: it must
// never panic, invalid JSON must answer one error at "payload", and every
// error must name a field under "payload" with a message.
func FuzzValidate(f *testing.F) {
	s := mustSchema(f, setup(f), "order.created")
	f.Add([]byte(docOrderCreatedExample))
	f.Add([]byte(benchOrderPayload(f)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"order_id":1,"status":"x","amount":"1","customer":{"id":1.5},"items":[{"price":"x"}],"created_at":"now"}`))
	f.Add([]byte(`{"amount":1e999,"items":[1e-999999]}`))
	f.Add([]byte(`[null]`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		errs := s.Validate(payload)
		if !json.Valid(payload) {
			if len(errs) != 1 || errs[0].Field != "payload" {
				t.Fatalf("invalid JSON %q: errors %v, want one at payload", payload, errs)
			}
		}
		for i, e := range errs {
			if e.Field != "payload" && !strings.HasPrefix(e.Field, "payload.") || e.Message == "" {
				t.Fatalf("bad detail %+v for %q", e, payload)
			}
			if i > 0 && comparePaths(errs[i-1].Field, e.Field) >= 0 {
				t.Fatalf("details not sorted by distinct fields: %v", errs)
			}
		}
	})
}

// FuzzCompile feeds arbitrary bytes to Compile as a tenant's schema: it
// must never panic, must answer either a schema or a validation_error at
// payload_schema, and a compiled schema must validate its seed payloads
// without panicking.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(docOrderCreatedSchema))
	f.Add([]byte(`{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`))
	f.Add([]byte(`{"properties":{"a":{"$ref":"http://127.0.0.1:1/x.json"}}}`))
	f.Add([]byte(`{"$schema":"http://json-schema.org/draft-04/schema#","properties":{"a":{"pattern":"["}}}`))
	f.Add([]byte(`{"$id":"x","$anchor":"a","$dynamicRef":"#a","unevaluatedProperties":false}`))
	f.Fuzz(func(t *testing.T, schema []byte) {
		s, err := Compile(schema)
		if err != nil {
			var e *hookd.Error
			if !errors.As(err, &e) || e.Code != hookd.EValidation || len(e.Details) == 0 ||
				!strings.HasPrefix(e.Details[0].Field, "payload_schema") {
				t.Fatalf("Compile(%q) = %v, want a validation_error at payload_schema", schema, err)
			}
			return
		}
		for _, p := range []string{`{}`, docOrderCreatedExample, `{"a":[1,"x",null,{"b":true}]}`} {
			for _, e := range s.Validate(json.RawMessage(p)) {
				if !strings.HasPrefix(e.Field, "payload") || e.Message == "" {
					t.Fatalf("bad detail %+v", e)
				}
			}
		}
	})
}
