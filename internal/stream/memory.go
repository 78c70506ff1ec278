package stream

import (
	"slices"
	"sync"

	"github.com/hookd/hookd/internal/hookd"
)

// Memory is the in-process Broker: subscriptions are bounded channels
// indexed by tenant. Publish holds one lock while it offers each event to
// the tenant's subscriptions without waiting; a subscription whose channel
// is full is ended with ErrTooSlow on the spot.
type Memory struct {
	mu      sync.Mutex
	closed  bool
	tenants map[string]map[*memorySubscription]struct{}
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an empty in-memory broker.
func NewMemory() *Memory {
	return &Memory{tenants: map[string]map[*memorySubscription]struct{}{}}
}

// Publish offers each event, in the order given, to its tenant's matching
// subscriptions.
func (m *Memory) Publish(events []hookd.Event) {
	if len(events) == 0 {
		return
	}
	// One copy per call, shared read-only by every subscriber.
	own := slices.Clone(events)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for i := range own {
		ev := &own[i]
		for sub := range m.tenants[ev.Tenant] {
			if len(sub.patterns) > 0 && !hookd.SubscribesTo(sub.patterns, ev.Type) {
				continue
			}
			select {
			case sub.ch <- ev:
			default:
				m.end(sub, ErrTooSlow)
			}
		}
	}
}

// Subscribe opens a subscription; buffer below 1 counts as 1.
func (m *Memory) Subscribe(tenant string, patterns []string, buffer int) (Subscription, error) {
	if buffer < 1 {
		buffer = 1
	}
	sub := &memorySubscription{broker: m, tenant: tenant, patterns: slices.Clone(patterns),
		ch: make(chan *hookd.Event, buffer)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	subs := m.tenants[tenant]
	if subs == nil {
		subs = map[*memorySubscription]struct{}{}
		m.tenants[tenant] = subs
	}
	subs[sub] = struct{}{}
	return sub, nil
}

// Close ends every subscription with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, subs := range m.tenants {
		for sub := range subs {
			m.end(sub, ErrClosed)
		}
	}
	return nil
}

// Subscribers counts the open subscriptions (for tests and metrics).
func (m *Memory) Subscribers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, subs := range m.tenants {
		n += len(subs)
	}
	return n
}

// end removes sub and closes its channel; m.mu must be held.
func (m *Memory) end(sub *memorySubscription, reason error) {
	if sub.ended {
		return
	}
	sub.ended, sub.err = true, reason
	subs := m.tenants[sub.tenant]
	delete(subs, sub)
	if len(subs) == 0 {
		delete(m.tenants, sub.tenant)
	}
	close(sub.ch)
}

// memorySubscription is one subscriber of a Memory broker. Its ended and
// err fields are guarded by the broker's lock.
type memorySubscription struct {
	broker   *Memory
	tenant   string
	patterns []string
	ch       chan *hookd.Event
	ended    bool
	err      error
}

func (s *memorySubscription) Events() <-chan *hookd.Event { return s.ch }

func (s *memorySubscription) Err() error {
	s.broker.mu.Lock()
	defer s.broker.mu.Unlock()
	return s.err
}

func (s *memorySubscription) Close() {
	s.broker.mu.Lock()
	defer s.broker.mu.Unlock()
	s.broker.end(s, nil)
}
