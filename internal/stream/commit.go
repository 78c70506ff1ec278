package stream

import (
	"context"
	"sync"

	"github.com/hookd/hookd/internal/hookd"
)

// PublishOnCommit returns store with PublishEvents changed to hand the
// events each call committed to broker before the next call commits.
//
// This is what keeps a Broker's promise of Seq order on the embedded
// store. SQLite commits one write at a time, in Seq order, but publishers
// that called the broker after PublishEvents returned (publish.Publisher
// runs concurrent Publish calls) would run in separate goroutines and
// could overtake each other: seq 6 could reach a stream before seq 5, and
// a client resuming after 6 would never see 5. Holding one lock from
// before the commit until the broker has the events closes that window;
// it costs nothing measurable because SQLite writes are serial anyway. Duplicates (an idempotency key seen
// before) are not published again. Only events the store committed reach
// the broker: a failed PublishEvents publishes nothing.
//
// Use it for a single-process store only; with several nodes the broker
// learns of commits from the database (LISTEN/NOTIFY) instead.
func PublishOnCommit(store hookd.Store, broker Broker) hookd.Store {
	return &committingStore{Store: store, broker: broker}
}

// committingStore is the hookd.Store PublishOnCommit returns.
type committingStore struct {
	hookd.Store
	broker Broker
	mu     sync.Mutex
}

// PublishEvents stores the events, then publishes the new ones to the
// broker, both under one lock.
func (s *committingStore) PublishEvents(ctx context.Context, reqs []hookd.PublishRequest) ([]hookd.PublishResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	results, err := s.Store.PublishEvents(ctx, reqs)
	if err != nil {
		return nil, err
	}
	fresh := make([]hookd.Event, 0, len(results))
	for _, r := range results {
		if !r.Duplicate {
			fresh = append(fresh, r.Event)
		}
	}
	s.broker.Publish(fresh)
	return results, nil
}
