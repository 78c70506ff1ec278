package sqlite

import (
	"container/heap"
	"context"
	"database/sql"
)

// dueEntry is one pending delivery in the due queue: 16 bytes.
type dueEntry struct {
	due int64 // next_attempt_at, unix ms
	id  int64
}

// before orders entries by due time, then id.
func (e dueEntry) before(o dueEntry) bool {
	return e.due < o.due || (e.due == o.due && e.id < o.id)
}

// webhookQueue is one webhook's pending deliveries, a min-heap by due
// time. Grouping by webhook lets a claim pass over an excluded or
// switched-off webhook in one step, however many deliveries it has.
type webhookQueue struct {
	webhookID int64
	entries   []dueEntry
	pos       int  // index in dueQueue.ready, -1 when not in it
	parked    bool // the webhook is switched off: out of ready until switched on
}

// head is the webhook's earliest entry; the queue must not be empty.
func (q *webhookQueue) head() dueEntry { return q.entries[0] }

// push adds an entry (sift up).
func (q *webhookQueue) push(e dueEntry) {
	q.entries = append(q.entries, e)
	for i := len(q.entries) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.entries[i].before(q.entries[p]) {
			break
		}
		q.entries[i], q.entries[p] = q.entries[p], q.entries[i]
		i = p
	}
}

// pop takes the earliest entry (sift down), shrinking the slice once a
// backlog has drained.
func (q *webhookQueue) pop() dueEntry {
	top := q.entries[0]
	last := len(q.entries) - 1
	q.entries[0] = q.entries[last]
	q.entries = q.entries[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.entries[l].before(q.entries[m]) {
			m = l
		}
		if r < last && q.entries[r].before(q.entries[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.entries[i], q.entries[m] = q.entries[m], q.entries[i]
		i = m
	}
	if cap(q.entries) > 1024 && len(q.entries) < cap(q.entries)/4 { // give memory back after a backlog
		q.entries = append(make([]dueEntry, 0, cap(q.entries)/2), q.entries...)
	}
	return top
}

// readyHeap orders the webhook queues that may be claimed by their heads
// (container/heap; pos follows each queue's index).
type readyHeap []*webhookQueue

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].head().before(h[j].head()) }
func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *readyHeap) Push(x any) {
	q := x.(*webhookQueue)
	q.pos = len(*h)
	*h = append(*h, q)
}
func (h *readyHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	q.pos = -1
	return q
}

// dueQueue is the embedded store's queue of pending deliveries by due
// time, in memory: one process owns the database file (lockDatabase), so
// nothing else queues deliveries behind its back. It holds ids and due
// times, not payloads, and is rebuilt from the database at Open. The
// database stays the truth: every write that makes a delivery due pushes
// it here after its commit, and a claim checks what it pops against the
// row, dropping entries that went stale (finished, cancelled, due again
// at another time). Leased deliveries are out of the queue until their
// lease ends or is released. Guarded by leaseBook.mu.
type dueQueue struct {
	byWebhook map[int64]*webhookQueue
	ready     readyHeap
}

// newDueQueue returns an empty queue.
func newDueQueue() *dueQueue { return &dueQueue{byWebhook: map[int64]*webhookQueue{}} }

// push queues a delivery of webhookID due at due (ms).
func (d *dueQueue) push(webhookID, id, due int64) {
	q := d.byWebhook[webhookID]
	if q == nil {
		q = &webhookQueue{webhookID: webhookID, pos: -1}
		d.byWebhook[webhookID] = q
	}
	q.push(dueEntry{due: due, id: id})
	switch {
	case q.parked:
	case q.pos < 0:
		heap.Push(&d.ready, q)
	default:
		heap.Fix(&d.ready, q.pos)
	}
}

// first returns the earliest entry of a webhook that may be claimed.
func (d *dueQueue) first() (dueEntry, bool) {
	if len(d.ready) == 0 {
		return dueEntry{}, false
	}
	return d.ready[0].head(), true
}

// popDue takes up to limit entries due at now (ms), earliest first,
// skipping the webhooks in exclude, and returns them with their webhook.
func (d *dueQueue) popDue(now int64, limit int, exclude map[int64]bool) []poppedEntry {
	var out []poppedEntry
	var setAside []*webhookQueue
	for len(out) < limit && len(d.ready) > 0 {
		q := d.ready[0]
		if exclude[q.webhookID] {
			setAside = append(setAside, heap.Pop(&d.ready).(*webhookQueue))
			continue
		}
		if q.head().due > now {
			break
		}
		out = append(out, poppedEntry{webhookID: q.webhookID, dueEntry: q.pop()})
		if len(q.entries) == 0 {
			heap.Pop(&d.ready)
			delete(d.byWebhook, q.webhookID)
		} else {
			heap.Fix(&d.ready, 0)
		}
	}
	for _, q := range setAside {
		heap.Push(&d.ready, q)
	}
	return out
}

// poppedEntry is an entry popDue took, with its webhook.
type poppedEntry struct {
	webhookID int64
	dueEntry
}

// park takes a switched-off webhook's queue out of claims until unpark.
func (d *dueQueue) park(webhookID int64) {
	q := d.byWebhook[webhookID]
	if q == nil || q.parked {
		return
	}
	q.parked = true
	if q.pos >= 0 {
		heap.Remove(&d.ready, q.pos)
	}
}

// unpark makes a switched-on webhook's deliveries claimable again.
func (d *dueQueue) unpark(webhookID int64) {
	q := d.byWebhook[webhookID]
	if q == nil || !q.parked {
		return
	}
	q.parked = false
	heap.Push(&d.ready, q)
}

// drop forgets a deleted webhook's queue.
func (d *dueQueue) drop(webhookID int64) {
	q := d.byWebhook[webhookID]
	if q == nil {
		return
	}
	if q.pos >= 0 {
		heap.Remove(&d.ready, q.pos)
	}
	delete(d.byWebhook, webhookID)
}

// loadDueQueue fills the queue with the pending deliveries in the
// database, at Open: leases died with the process that held them, so
// every pending delivery is due at its next_attempt_at again.
func (s *Store) loadDueQueue(ctx context.Context) error {
	rows, err := s.writer.QueryContext(ctx, `SELECT id, webhook_id, next_attempt_at FROM deliveries
		INDEXED BY deliveries_queue WHERE state = 'pending' AND next_attempt_at IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for rows.Next() {
		var id, webhookID int64
		var due sql.NullInt64
		if err := rows.Scan(&id, &webhookID, &due); err != nil {
			return err
		}
		s.queue.push(webhookID, id, due.Int64)
	}
	return rows.Err()
}
