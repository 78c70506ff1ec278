// Package app is hookd's application layer: it implements the services of
// internal/hookd (webhooks, event types, events, deliveries, integrations,
// readiness) over a hookd.Store.
//
// Each service method validates its input, applies the rules and writes
// through the store, then triggers the side effects of the change itself
// (dropping the publisher's fan-out cache of a tenant, waking the
// dispatcher), so transports only decode, call one method and encode.
// What a service needs from the delivery engine it asks through the small
// interfaces declared here (Publisher, Notifier, Destinations); engine.go
// adapts the publisher to its interface.
package app
