package postgres

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// queueVacuumEvery is how many deliveries one store finishes or
// reschedules between its own VACUUMs of delivery_queue.
const queueVacuumEvery = 25_000

// prunedTables are vacuumed after a prune that deleted deliveries.
const prunedTables = "deliveries, attempts, events, idempotency_keys, delivery_stats, webhook_counters"

// maintenance runs the store's own VACUUMs. Autovacuum, tuned per table
// by the migrations, is the first line; these keep the tables healthy
// where it is off or slow to come round (autovacuum_naptime is global,
// a minute by default, while the queue churns thousands of rows a
// second). Each runs at most once at a time per store, skips tables
// another VACUUM holds, and costs little: the queue table is small, and
// VACUUM visits only pages that changed since the last one.
type maintenance struct {
	churn   atomic.Int64 // queue rows finished or rescheduled since the last VACUUM
	running atomic.Bool

	mu     sync.Mutex // guards closed against wg.Add
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// init readies m.
func (m *maintenance) init() { m.ctx, m.cancel = context.WithCancel(context.Background()) }

// stop cancels a VACUUM under way and waits for it.
func (m *maintenance) stop() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// noteQueueChurn counts n deliveries taken off the queue or rescheduled,
// and starts a VACUUM of delivery_queue in the background once there
// were queueVacuumEvery of them.
func (s *Store) noteQueueChurn(n int) {
	m := &s.maint
	if m.churn.Add(int64(n)) < queueVacuumEvery || !m.running.CompareAndSwap(false, true) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		m.running.Store(false)
		return
	}
	m.churn.Store(0)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.running.Store(false)
		// Best effort: on error the next batch of churn tries again.
		_ = s.vacuum(m.ctx, "delivery_queue")
	}()
}

// vacuum runs VACUUM (ANALYZE, SKIP_LOCKED) on tables (a comma-separated
// list). VACUUM cannot run in a transaction, so it goes as a simple query.
func (s *Store) vacuum(ctx context.Context, tables string) error {
	_, err := s.pool.Exec(ctx, "VACUUM (ANALYZE, SKIP_LOCKED) "+tables, pgx.QueryExecModeSimpleProtocol)
	return err
}
