package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
	destinations "github.com/hookd/hookd/internal/destination/builtin"
	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// TestBrokerURLsAreCheckedByTheirPublisher: a webhook may name a broker
// (docs/api.md §14); each publisher says what is wrong with its URL, on "url".
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

// TestBrokerURLsTakeBasicAuthOnly: the username and password of basic
// auth are the broker's login; other kinds of auth mean nothing to it.
func TestBrokerURLsTakeBasicAuthOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dests := destinations.Registry(&outbound.Sender{Now: time.Now}, f.Webhooks.Integrations, broker.Options{})
	t.Cleanup(func() { dests.Close() })
	f.Services = New(Deps{Store: f.store, Catalog: f.Webhooks.Catalog, Integrations: f.Webhooks.Integrations,
		Publisher: f.engine, Notifier: f.engine, Destinations: dests, URLKinds: dests})
	create := func(url, auth string) (*hookd.Webhook, error) {
		return f.Webhooks.CreateWebhook(t.Context(), alice, &hookd.WebhookInput{
			Name: ptr("queue"), URL: ptr(url), Events: []string{"*"}, Auth: json.RawMessage(auth),
		})
	}
	wh, err := create("amqp://rabbit/?routing_key=q", `{"type":"basic","username":"hookd","password":"s3cret"}`)
	if err != nil || wh.Auth == nil || wh.Auth.Password != "s3cret" {
		t.Fatalf("basic auth: %+v %v", wh, err)
	}
	if _, err := create("nats://nats/orders", `{"type":"bearer","token":"t"}`); !slices.Equal(fields(t, err), []string{"auth.type"}) {
		t.Errorf("bearer on a broker: %v", err)
	}
	if _, err := create("https://example.com/hook", `{"type":"bearer","token":"t"}`); err != nil {
		t.Errorf("bearer on https: %v", err)
	}
	// Moving a webhook with a bearer token to a broker is refused too.
	https, err := create("https://example.com/hook", `{"type":"bearer","token":"t"}`)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Webhooks.UpdateWebhook(t.Context(), alice, https.ID, &hookd.WebhookInput{URL: ptr("redis://redis/0?stream=s")})
	if !slices.Equal(fields(t, err), []string{"auth.type"}) {
		t.Errorf("bearer webhook moved to a broker: %v", err)
	}
}
