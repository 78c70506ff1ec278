package sqlite

import (
	"sync"
	"time"
)

// leaseBook holds the embedded store's delivery leases in memory.
//
// SQLite serves one process, so a lease never needs to outlive it: keeping
// leases here takes the claim off the single writer (a claim is one read)
// and a crash frees every lease at once. The rules are those of a lease
// column: a held delivery is not claimed again until its lease ends or is
// released; completing needs the lease's token.
//
// Ordering: a claim pops the due queue (dueQueue, also guarded by mu) and
// reads the popped rows while holding mu; a completion drops its lease and
// queues a retry only after its transaction committed, also under mu. So a
// claim's read includes every completion whose lease is already gone. A
// lease that ends unreleased puts its delivery back in the queue at the
// next claim.
type leaseBook struct {
	mu   sync.Mutex
	held map[int64]heldLease // by delivery id
}

// heldLease is one claimed delivery's lease.
type heldLease struct {
	token     string
	until     time.Time
	due       int64 // next_attempt_at (ms) when it was claimed
	webhookID int64
}

func newLeaseBook() *leaseBook { return &leaseBook{held: map[int64]heldLease{}} }

// owns reports whether token is the delivery's lease (expired or not: a
// lease that ran out but was not taken again can still complete).
func (b *leaseBook) owns(id int64, token string) bool {
	l, ok := b.held[id]
	return ok && l.token == token
}

// drop forgets leases.
func (b *leaseBook) drop(ids ...int64) {
	for _, id := range ids {
		delete(b.held, id)
	}
}

// earliestEnd returns when the first running lease ends, or 0.
func (b *leaseBook) earliestEnd() int64 {
	var first int64
	for _, l := range b.held {
		if end := l.until.UnixMilli(); first == 0 || end < first {
			first = end
		}
	}
	return first
}
