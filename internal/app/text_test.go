package app

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/hookd"
)

// Every text field refuses NUL and control characters before any write
// (docs/api.md §3), naming the field.
func TestTextFieldsRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	webhook := func(mod func(in *hookd.WebhookInput)) error {
		in := &hookd.WebhookInput{Name: ptr("orders"), URL: ptr("https://example.com/hook"), Events: []string{"order.created"}}
		mod(in)
		_, err := f.Webhooks.CreateWebhook(ctx, alice, in)
		return err
	}
	cases := []struct {
		name  string
		field string
		do    func() error
	}{
		{"name NUL", "name", func() error { return webhook(func(in *hookd.WebhookInput) { in.Name = ptr("a\x00b") }) }},
		{"name escape", "name", func() error { return webhook(func(in *hookd.WebhookInput) { in.Name = ptr("a\x1bb") }) }},
		{"name C1", "name", func() error { return webhook(func(in *hookd.WebhookInput) { in.Name = ptr("a\u0085b") }) }},
		{"description NUL", "description", func() error { return webhook(func(in *hookd.WebhookInput) { in.Description = ptr("x\x00") }) }},
		{"description bell", "description", func() error { return webhook(func(in *hookd.WebhookInput) { in.Description = ptr("x\x07") }) }},
		{"header VT", "headers.X-Tenant", func() error {
			return webhook(func(in *hookd.WebhookInput) { in.Headers = map[string]string{"X-Tenant": "a\x0bb"} })
		}},
		{"header DEL", "headers.X-Tenant", func() error {
			return webhook(func(in *hookd.WebhookInput) { in.Headers = map[string]string{"X-Tenant": "a\x7fb"} })
		}},
		{"header NUL", "headers.X-Tenant", func() error {
			return webhook(func(in *hookd.WebhookInput) { in.Headers = map[string]string{"X-Tenant": "a\x00b"} })
		}},
		{"secret NUL", "secret", func() error {
			return webhook(func(in *hookd.WebhookInput) { in.Secret = ptr("whsec_0123456789abcdef\x00") })
		}},
		{"idempotency key", "idempotency_key", func() error {
			_, err := f.Events.PublishEvent(ctx, "acme", "alice", hookd.PublishInput{
				Event: ptr("order.created"), Payload: json.RawMessage(`{}`), IdempotencyKey: ptr("k\x00"),
			})
			return err
		}},
		{"event name", "event", func() error {
			_, err := f.Events.PublishEvent(ctx, "acme", "alice", hookd.PublishInput{Event: ptr("order.created\x00"), Payload: json.RawMessage(`{}`)})
			return err
		}},
		{"event type description", "description", func() error {
			_, err := f.EventTypes.CreateEventType(ctx, "acme", &hookd.EventTypeInput{Name: ptr("invoice.paid"), Description: ptr("paid\x00")})
			return err
		}},
		{"event type version", "version", func() error {
			_, err := f.EventTypes.CreateEventType(ctx, "acme", &hookd.EventTypeInput{Name: ptr("invoice.paid"), Version: ptr("1\x00")})
			return err
		}},
		{"integration setting", "channel", func() error {
			_, err := f.Integrations.ConfigureIntegration(ctx, alice, "slack", map[string]json.RawMessage{
				"webhook_url": json.RawMessage(`"https://hooks.slack.com/services/T000/B000/XXXX"`), "channel": json.RawMessage(`"#ops\u0000"`),
			})
			return err
		}},
		{"integration template", "message_template", func() error {
			_, err := f.Integrations.ConfigureIntegration(ctx, alice, "slack", map[string]json.RawMessage{
				"webhook_url": json.RawMessage(`"https://hooks.slack.com/services/T000/B000/XXXX"`), "message_template": json.RawMessage(`"{{.Event}}\u0000"`),
			})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fields(t, c.do()); !slices.Contains(got, c.field) {
				t.Errorf("details name %v, want %s", got, c.field)
			}
		})
	}
	// Nothing was written.
	if _, n, err := f.store.ListWebhooks(ctx, alice, hookd.WebhookQuery{Limit: 10}); err != nil || n != 0 {
		t.Errorf("stored webhooks = %d, %v; want none", n, err)
	}
}

// Free text keeps its tabs and line breaks; header values keep tabs and
// non-ASCII text, which net/http sends as they are.
func TestTextFieldsAcceptOrdinaryText(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{
		Name: ptr("Bestellungen für Zürich"), Description: ptr("line one\nline two\r\n\tindented"),
		URL: ptr("https://example.com/hook"), Events: []string{"order.created"},
		Headers: map[string]string{"X-Note": "a\tb é"},
	})
	if err != nil {
		t.Fatal(err)
	}
}
