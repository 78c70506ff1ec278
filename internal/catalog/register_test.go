package catalog

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

func TestCheckEventType(t *testing.T) {
	t.Parallel()
	valid := hookd.EventType{
		Name:           "ticket.opened",
		Description:    "Triggered when a support ticket is opened",
		Category:       "customer_success",
		Version:        "1.0",
		PayloadSchema:  json.RawMessage(`{"type":"object","required":["ticket_id"],"properties":{"ticket_id":{"type":"integer"}}}`),
		ExamplePayload: json.RawMessage(`{"ticket_id":42}`),
	}
	tests := []struct {
		name   string
		change func(et *hookd.EventType)
		want   []hookd.FieldError
	}{
		{"valid", func(et *hookd.EventType) {}, nil},
		{"no example", func(et *hookd.EventType) { et.ExamplePayload = nil }, nil},
		{"three segments, dated version", func(et *hookd.EventType) { et.Name = "ticket.sla.breached"; et.Version = "2024-01" }, nil},
		{"everything missing", func(et *hookd.EventType) { *et = hookd.EventType{} }, []hookd.FieldError{
			fe("category", "is required"), fe("name", "is required"), fe("payload_schema", "is required"), fe("version", "is required"),
		}},
		{"bad name", func(et *hookd.EventType) { et.Name = "Ticket.Opened" }, []hookd.FieldError{
			fe("name", `must be 2 or 3 dot-separated lower-case segments such as "order.created" ([a-z][a-z0-9_]* each, at most 100 characters)`),
		}},
		{"bad category", func(et *hookd.EventType) { et.Category = "Customer Success" }, []hookd.FieldError{
			fe("category", `must be a lower-case name such as "sales" ([a-z][a-z0-9_]*, at most 50 characters)`),
		}},
		{"bad version", func(et *hookd.EventType) { et.Version = ".1" }, []hookd.FieldError{
			fe("version", `must be 1 to 20 letters, digits, dots, dashes or underscores, starting with a letter or digit (such as "1.0")`),
		}},
		{"long description", func(et *hookd.EventType) { et.Description = strings.Repeat("é", 501) }, []hookd.FieldError{
			fe("description", "must be at most 500 characters long"),
		}},
		{"bad schema", func(et *hookd.EventType) { et.PayloadSchema = json.RawMessage(`{"required":"ticket_id"}`) }, []hookd.FieldError{
			fe("payload_schema.required", "must be an array"),
		}},
		{"example does not validate", func(et *hookd.EventType) { et.ExamplePayload = json.RawMessage(`{"ticket_id":"42"}`) }, []hookd.FieldError{
			fe("example_payload.ticket_id", "must be an integer"),
		}},
		{"several at once", func(et *hookd.EventType) { et.Name = "ticket"; et.ExamplePayload = json.RawMessage(`{}`) }, []hookd.FieldError{
			fe("example_payload.ticket_id", "is required"),
			fe("name", `must be 2 or 3 dot-separated lower-case segments such as "order.created" ([a-z][a-z0-9_]* each, at most 100 characters)`),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			et := valid
			tt.change(&et)
			s, err := CheckEventType(et)
			if tt.want == nil {
				if err != nil || s == nil {
					t.Fatalf("CheckEventType = %v, %v; want a schema", s, err)
				}
				return
			}
			var e *hookd.Error
			if !errors.As(err, &e) || e.Code != hookd.EValidation {
				t.Fatalf("err = %v, want validation_error", err)
			}
			if !reflect.DeepEqual(e.Details, tt.want) {
				t.Errorf("details\n got %v\nwant %v", e.Details, tt.want)
			}
		})
	}
}
