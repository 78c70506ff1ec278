package e2e

import (
	"net/http"
	"testing"
)

// Text fields with NUL or other control characters are a validation_error
// naming the field, on every store (docs/api.md §3): PostgreSQL never sees
// them, and no webhook is stored whose deliveries net/http would refuse.
func TestHostileTextRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	alice := token(t, "acme", "alice")
	pub := token(t, "acme", "alice", "events:publish")
	admin := token(t, "acme", "alice", "events:admin")
	const hook = `"url":"https://example.com/h","events":["order.created"]`
	cases := []struct {
		name, method, path, tok, body, field string
	}{
		{"webhook name NUL", "POST", "/api/webhooks/", alice, `{"name":"a\u0000b",` + hook + `}`, "name"},
		{"webhook name escape", "POST", "/api/webhooks/", alice, `{"name":"a\u001bb",` + hook + `}`, "name"},
		{"webhook description NUL", "POST", "/api/webhooks/", alice, `{"name":"n","description":"d\u0000",` + hook + `}`, "description"},
		{"header value VT", "POST", "/api/webhooks/", alice, `{"name":"n","headers":{"X-A":"a\u000bb"},` + hook + `}`, "headers.X-A"},
		{"header value DEL", "POST", "/api/webhooks/", alice, `{"name":"n","headers":{"X-A":"a\u007fb"},` + hook + `}`, "headers.X-A"},
		{"header value NUL", "POST", "/api/webhooks/", alice, `{"name":"n","headers":{"X-A":"a\u0000b"},` + hook + `}`, "headers.X-A"},
		{"header name", "POST", "/api/webhooks/", alice, `{"name":"n","headers":{"X\u0000A":"v"},` + hook + `}`, "headers.X\x00A"},
		{"idempotency key", "POST", "/api/events/", pub, `{"event":"order.created","payload":` + orderPayload + `,"idempotency_key":"k\u0000"}`, "idempotency_key"},
		{"event name", "POST", "/api/events/", pub, `{"event":"order.created\u0000","payload":` + orderPayload + `}`, "event"},
		{"event type name", "POST", "/api/webhooks/events/", admin, `{"name":"invoice.paid\u0000"}`, "name"},
		{"event type description", "POST", "/api/webhooks/events/", admin, `{"name":"invoice.paid","description":"x\u0000"}`, "description"},
		{"integration setting", "POST", "/api/integrations/slack/configure/", alice,
			`{"webhook_url":"https://hooks.slack.com/services/T0/B0/X","channel":"#ops\u0000"}`, "channel"},
		{"integration template", "POST", "/api/integrations/slack/configure/", alice,
			`{"webhook_url":"https://hooks.slack.com/services/T0/B0/X","message_template":"{{.Event}}\u0000"}`, "message_template"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(c.method, c.path, c.tok, c.body)
			if r.Status != http.StatusUnprocessableEntity || r.errCode() != "validation_error" || !contains(r.detailFields(), c.field) {
				t.Fatalf("got %d %s, want 422 validation_error naming %q", r.Status, r.Raw, c.field)
			}
		})
	}
	// Query parameters and paths are refused the same way (bad_request).
	for _, path := range []string{"/api/webhooks/?event=order.created%00", "/api/webhooks/events/order.created%00/", "/api/events/evt_%01/"} {
		if r := s.do("GET", path, alice, nil); r.Status != http.StatusBadRequest || r.errCode() != "bad_request" {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
	}
	// Nothing was stored; an update is held to the same rules.
	list := s.do("GET", "/api/webhooks/", alice, nil).must(t, 200)
	if list.data()["total"] != 0.0 {
		t.Fatalf("webhooks stored: %s", list.Raw)
	}
	id := webhookID(t, s.do("POST", "/api/webhooks/", alice, `{"name":"n",`+hook+`}`).must(t, 201))
	r := s.do("PUT", "/api/webhooks/"+id+"/", alice, `{"name":"x\u0000","headers":{"X-A":"\u0001"}}`).must(t, 422)
	if !contains(r.detailFields(), "name") || !contains(r.detailFields(), "headers.X-A") {
		t.Fatalf("update details: %s", r.Raw)
	}
}
