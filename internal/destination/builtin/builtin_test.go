package builtin

import (
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/integrations"
	integrationsbuiltin "github.com/hookd/hookd/internal/integrations/builtin"
	"github.com/hookd/hookd/internal/outbound"
)

// TestRegistryHasEveryKind: webhooks and every integration's rows are
// registered, the Zapier settings row (which receives nothing) is not;
// the four brokers are registered by their URL schemes.
func TestRegistryHasEveryKind(t *testing.T) {
	t.Parallel()
	sender := &outbound.Sender{Client: outbound.NewClient(outbound.NewTransport(&outbound.Guard{}, time.Second, 0), time.Second), Now: time.Now}
	r := Registry(sender, integrationsbuiltin.Registry(integrations.Deps{Client: sender.Client, Now: time.Now}), broker.Options{})
	defer r.Close()
	want := []string{"", "discord", "mailchimp", "make", "microsoft_teams", "slack", "zapier_hook"}
	if got := r.Kinds(); !slices.Equal(got, want) {
		t.Errorf("Kinds = %q, want %q", got, want)
	}
	if got, want := r.Schemes(), []string{"amqp", "mqtt", "nats", "redis"}; !slices.Equal(got, want) {
		t.Errorf("Schemes = %q, want %q", got, want)
	}
}
