// Package stream carries committed events to live subscribers: the
// Broker that fans them out, and the Streamer that serves one
// GET /api/events/stream/ as Server-Sent Events or NDJSON, replaying from
// the store on resume (docs/api.md §9).
package stream

import (
	"errors"

	"github.com/hookd/hookd/internal/hookd"
)

// Why a broker ended a subscription, as Subscription.Err reports it.
var (
	// ErrTooSlow: the subscriber's buffer was full when an event arrived.
	// The subscription ends at once, so the subscriber never sees a later
	// event without the one it missed; it resumes with Last-Event-ID.
	ErrTooSlow = errors.New("stream: subscriber too slow")
	// ErrClosed: the broker was closed (the server is shutting down).
	ErrClosed = errors.New("stream: broker closed")
)

// Broker hands committed events to the live subscriptions of their
// tenant. Publishing never waits for a subscriber.
//
// An implementation must guarantee, for each subscription:
//   - only events of the subscription's tenant whose type matches one of
//     its patterns (hookd.SubscribesTo; no patterns: every event) arrive;
//   - only events whose transaction has committed arrive, so a subscriber
//     that reads the store after receiving an event finds it there;
//   - events arrive in increasing Seq order, and an event arrives only
//     after every event of the tenant with a smaller Seq that the
//     subscription should see (Seq order must therefore be commit order
//     within a tenant, as hookd.Event documents);
//   - every event committed after Subscribe returned arrives, unless the
//     subscription ends first: none is skipped. When the buffer is full the
//     subscription ends with ErrTooSlow instead of dropping the event.
//
// Events committed before Subscribe may or may not arrive; the Streamer
// reads those from the store and drops what it sees twice by Seq.
//
// The in-memory Memory serves one process. A multi-node implementation
// (PostgreSQL LISTEN/NOTIFY carrying tenant and Seq, the rows read back in
// Seq order) keeps the same guarantees and typically feeds a Memory on
// each node with what it reads.
type Broker interface {
	// Publish hands committed events to the matching subscriptions. It must
	// be called in commit order (see PublishOnCommit) and must not block on
	// any subscriber.
	Publish(events []hookd.Event)
	// Subscribe opens a subscription to a tenant's events whose type
	// matches one of patterns ("order.created", "order.*", "*"; none: all),
	// holding up to buffer events the subscriber has not taken yet. After
	// Close it answers ErrClosed.
	Subscribe(tenant string, patterns []string, buffer int) (Subscription, error)
	// Close ends every subscription with ErrClosed and refuses new ones.
	Close() error
}

// Subscription is one subscriber's view of a Broker.
type Subscription interface {
	// Events yields the subscription's events in Seq order. It is closed
	// when the subscription ends; the events already in it stay readable.
	// The events are shared between subscribers: read them, never change them.
	Events() <-chan *hookd.Event
	// Err says why the broker ended the subscription (ErrTooSlow,
	// ErrClosed); nil while it is open or after the subscriber's own Close.
	Err() error
	// Close ends the subscription. It may be called more than once, and
	// concurrently with Publish.
	Close()
}
