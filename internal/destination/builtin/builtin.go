// Package builtin registers every destination kind hookd ships, in one
// place: users' webhooks (over HTTP, or to a message broker their URL
// names) and the integrations. A new kind is one package below
// internal/destination and one line here.
package builtin

import (
	"github.com/hookd/hookd/internal/destination"
	"github.com/hookd/hookd/internal/destination/amqp"
	"github.com/hookd/hookd/internal/destination/broker"
	"github.com/hookd/hookd/internal/destination/mqtt"
	"github.com/hookd/hookd/internal/destination/nats"
	"github.com/hookd/hookd/internal/destination/redisstream"
	"github.com/hookd/hookd/internal/destination/webhook"
	"github.com/hookd/hookd/internal/integrations"
	"github.com/hookd/hookd/internal/outbound"
)

// Registry returns the registry of the built-in destination kinds:
// webhooks signed and sent with sender, and the rows of the integrations
// of providers, sent through them. Both go through sender's guarded
// client (the providers' integrations.Deps hold it too). A webhook whose
// URL names a message broker is published to it with the same headers,
// connecting through brokers.Dial (the guarded dialer of sender's
// transport). Close the registry to close the broker connections.
func Registry(sender *outbound.Sender, providers *integrations.Registry, brokers broker.Options) *destination.Registry {
	r := destination.NewRegistry(sender.Now)
	integrationRows := integrations.NewDestination(providers, sender.Now)
	must(r.Register(webhook.New(sender), webhook.Kind))
	must(r.Register(integrationRows, integrationRows.Kinds()...))
	must(r.RegisterScheme(broker.NewDestination(amqp.New(brokers), sender), "amqp"))
	must(r.RegisterScheme(broker.NewDestination(nats.New(brokers), sender), "nats"))
	must(r.RegisterScheme(broker.NewDestination(redisstream.New(brokers), sender), "redis"))
	must(r.RegisterScheme(broker.NewDestination(mqtt.New(brokers), sender), "mqtt"))
	return r
}

// must panics on a registration error: the kinds above are fixed, so a
// clash is a programming error.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
