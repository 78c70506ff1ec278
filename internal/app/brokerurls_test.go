package app

import (
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
	destinations "github.com/hookd/hookd/internal/destination/builtin"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// TestBrokerURLsAreCheckedByTheirPublisher: a webhook may name a broker
// (CONTRACT §14); each publisher says what is wrong with its URL, on "url".
func TestBrokerURLsAreCheckedByTheirPublisher(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dests := destinations.Registry(&outbound.Sender{Now: time.Now}, f.Webhooks.Integrations, broker.Options{})
	t.Cleanup(func() { dests.Close() })
	f.Services = New(Deps{Store: f.store, Catalog: f.Webhooks.Catalog, Integrations: f.Webhooks.Integrations,
		Publisher: f.engine, Notifier: f.engine, Destinations: dests, URLKinds: dests})
	for _, tc := range []struct {
		url, problem string // problem: part of the message, "" when valid
	}{
		{"amqp://rabbit:5672/orders?exchange=events&routing_key=order.created", ""},
		{"amqp://rabbit/?routing_key=orders", ""},
		{"nats://nats:4222/orders.created", ""},
		{"redis://redis:6379/0?stream=orders", ""},
		{"mqtt://mosquitto:1883/orders/created", ""},
		{"amqp://rabbit/", "routing_key"},
		{"amqp://guest:guest@rabbit/?routing_key=q", "basic auth"},
		{"nats://nats:4222/", "subject"},
		{"redis://redis:6379/0", "stream"},
		{"mqtt://mosquitto/orders/#", "fragment"},
		{"redis://redis/0?stream=s&x=1", `"x"`},
		{"ftp://example.com/", "http or https"},
		{"https://example.com/hook", ""},
	} {
		wh, err := f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{
			Name: ptr("queue"), URL: ptr(tc.url), Events: []string{"*"},
		})
		if tc.problem == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.url, err)
			} else if wh.URL != tc.url || wh.Kind != "" {
				t.Errorf("%s: stored %q kind %q", tc.url, wh.URL, wh.Kind)
			}
			continue
		}
		e, ok := err.(*hookd.Error)
		if !ok || len(e.Details) != 1 || e.Details[0].Field != "url" || !strings.Contains(e.Details[0].Message, tc.problem) {
			t.Errorf("%s: got %v, want a problem on url about %q", tc.url, err, tc.problem)
		}
	}
}
