// Package builtin registers every destination kind hookd ships, in one
// place: users' webhooks and the integrations. A new kind (a message
// broker, say) is one package below internal/destination and one line
// here.
package builtin

import (
	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/destination/webhook"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
)

// Registry returns the registry of the built-in destination kinds:
// webhooks signed and sent with sender, and the rows of the integrations
// of providers, sent through them. Both go through sender's guarded
// client (the providers' integrations.Deps hold it too).
func Registry(sender *outbound.Sender, providers *integrations.Registry) *destination.Registry {
	r := destination.NewRegistry(sender.Now)
	integrationRows := integrations.NewDestination(providers, sender.Now)
	must(r.Register(webhook.New(sender), webhook.Kind))
	must(r.Register(integrationRows, integrationRows.Kinds()...))
	return r
}

// must panics on a registration error: the kinds above are fixed, so a
// clash is a programming error.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
