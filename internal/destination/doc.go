// Package destination is where every kind of destination hookd sends to
// meets the dispatcher and the API's test sends.
//
// A kind is a Destination: it sends one Message to a row (a hookd.Webhook
// whose Kind names the kind) and classifies what happened into an
// outbound.Outcome. Plain HTTP webhooks (Kind "", package webhook) are one
// kind; the integrations (Slack, Zapier, …, through the integrations
// provider registry) are others. The Registry routes a row to its kind;
// its one Send serves both the dispatcher and the test sends.
//
// A user's webhook may also name a message broker in its URL (amqp://,
// nats://, redis://, mqtt://): such kinds are registered by URL scheme
// (RegisterScheme, a URLDestination that also checks its URLs), and the
// Registry sends a Kind "" row whose scheme one of them claims through it
// instead of over HTTP.
//
// Every kind hookd ships is registered in one place, package builtin: a
// new kind is one package below this one and one line there. Where kinds must differ in what follows a send, the Outcome
// says so in a named field (Permanent, Unsubscribed); the retry rule that
// reads it is the same for all (internal/dispatch).
package destination
