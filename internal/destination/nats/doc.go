// Package nats publishes webhook deliveries to NATS JetStream
// (docs/api.md §14): nats://host:4222/SUBJECT.
//
// Each delivery is a JetStream publish whose headers are the §6 headers plus
// Nats-Msg-Id, the event id, so the stream de-duplicates a retried
// delivery; it counts as delivered on the stream's ack ("stream NAME seq
// N"). One connection is kept per address and credentials; it does not
// reconnect by itself (a publish during an outage would otherwise wait in a
// buffer until its timeout): a lost connection fails the publish as
// connection_error and the next publish connects again.
package nats
