package destination

import (
	"context"
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
