package destination

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/outbound"
)

// kind is a destination that answers with a fixed status.
type kind struct{ status int }

func (k kind) Send(ctx context.Context, wh *hookd.Webhook, m Message) outbound.Outcome {
	return outbound.Outcome{Success: k.status < 300, Status: k.status}
}

func TestRegistrySendsByKind(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	r := NewRegistry(func() time.Time { return now })
	if err := r.Register(kind{200}, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(kind{503}, "slack", "zapier_hook"); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(kind{200}, "amqp", "slack"); err == nil {
		t.Fatal("a kind registered twice was accepted")
	}
	if got := r.Kinds(); !slices.Equal(got, []string{"", "slack", "zapier_hook"}) {
		t.Errorf("Kinds = %q", got)
	}
	m := Message{Event: &hookd.Event{ID: "evt_1"}, DeliveryID: 1}
	if out := r.Send(t.Context(), &hookd.Webhook{}, m); !out.Success {
		t.Errorf("webhook: %+v", out)
	}
	if out := r.Send(t.Context(), &hookd.Webhook{Kind: "zapier_hook"}, m); out.Success || out.Status != 503 {
		t.Errorf("zapier_hook: %+v", out)
	}
	out := r.Send(t.Context(), &hookd.Webhook{Kind: "amqp"}, m)
	if out.Success || out.Attempt.ErrorType != hookd.ErrTypeConnection || !out.Attempt.StartedAt.Equal(now) {
		t.Errorf("unregistered kind: %+v", out)
	}
}

// schemeKind is a destination reached by URL scheme, counting closes.
type schemeKind struct {
	kind
	closed *int
}

func (k schemeKind) ValidateURL(raw string) error {
	if raw == "amqp://bad" {
		return errors.New("bad amqp URL")
	}
	return nil
}

func (k schemeKind) Close() error { *k.closed++; return nil }

func TestRegistrySendsWebhooksByScheme(t *testing.T) {
	t.Parallel()
	r := NewRegistry(nil)
	closed := 0
	broker := schemeKind{kind{202}, &closed}
	if err := r.Register(kind{200}, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(kind{503}, "slack"); err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterScheme(broker, "amqp", "nats"); err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterScheme(broker, "nats"); err == nil {
		t.Fatal("a scheme registered twice was accepted")
	}
	if got := r.Schemes(); !slices.Equal(got, []string{"amqp", "nats"}) {
		t.Errorf("Schemes = %q", got)
	}
	m := Message{Event: &hookd.Event{ID: "evt_1"}, DeliveryID: 1}
	for _, tc := range []struct {
		kind, url string
		status    int
	}{
		{"", "https://example.com/hook", 200},
		{"", "AMQP://broker/?routing_key=q", 202},
		{"", "nats://broker/orders", 202},
		{"", "redis://broker/0?stream=s", 200}, // no kind for redis: the webhook's (which fails it)
		{"slack", "nats://broker/orders", 503}, // a row of another kind keeps its kind
	} {
		if out := r.Send(t.Context(), &hookd.Webhook{Kind: tc.kind, URL: tc.url}, m); out.Status != tc.status {
			t.Errorf("%q %s: status %d, want %d", tc.kind, tc.url, out.Status, tc.status)
		}
	}
	for raw, want := range map[string]struct {
		registered, bad bool
	}{
		"https://example.com/":       {false, false},
		"amqp://host/?routing_key=q": {true, false},
		"amqp://bad":                 {true, true},
		"mqtt://host/t":              {false, false},
	} {
		registered, err := r.CheckURL(raw)
		if registered != want.registered || (err != nil) != want.bad {
			t.Errorf("CheckURL(%q) = %v, %v", raw, registered, err)
		}
	}
	if err := r.Close(); err != nil || closed != 1 {
		t.Errorf("Close: %v, %d closes of a kind registered for two schemes", err, closed)
	}
}
