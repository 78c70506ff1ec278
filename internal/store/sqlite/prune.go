package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/statstally"
)

// pruneChunk is how many rows one pruning transaction deletes, so the
// writer is never held for long.
const pruneChunk = 5000

// PruneDeliveries deletes finished deliveries (success, failed,
// cancelled) created before the cutoff with their attempts, then events
// created before the cutoff that have no delivery left (their idempotency
// keys with them), then idempotency keys that expired before the cutoff.
// The webhooks' counters lose what the deleted deliveries added, so they
// always describe the deliveries kept. It works in transactions of
// pruneChunk rows and returns how many deliveries it deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	cutoff := ms(before)
	var deleted int64
	for {
		n, err := s.pruneDeliveryChunk(ctx, cutoff)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if n < pruneChunk {
			break
		}
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
	}
	if _, err := s.pruneLoop(ctx, `DELETE FROM events WHERE seq IN (
		SELECT seq FROM events e WHERE created_at < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
		ORDER BY seq LIMIT ?)`, cutoff); err != nil {
		return deleted, err
	}
	// A key older than the window before the cutoff expired before now.
	keyCutoff := ms(before.Add(-hookd.IdempotencyWindow))
	if _, err := s.pruneLoop(ctx, `DELETE FROM idempotency_keys WHERE (tenant, key) IN (
		SELECT tenant, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, keyCutoff); err != nil {
		return deleted, err
	}
	// Rollup rows left at zero before the cutoff count nothing any more.
	if _, err := s.writer.ExecContext(ctx, "DELETE FROM delivery_stats WHERE deliveries = 0 AND hour < ?",
		cutoff/statstally.HourMs); err != nil {
		return deleted, err
	}
	// Pruning runs periodically: a good time to refresh the planner's
	// statistics, which SQLite does only where they are stale.
	if _, err := s.writer.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		return deleted, err
	}
	return deleted, nil
}

// pruneDeliveryChunk deletes up to pruneChunk finished deliveries created
// before cutoff in one transaction, taking them off their webhooks'
// counters, and returns how many it deleted.
func (s *Store) pruneDeliveryChunk(ctx context.Context, cutoff int64) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM deliveries WHERE created_at < ?
			AND state IN ('success', 'failed', 'cancelled') ORDER BY id LIMIT ?`, cutoff, pruneChunk)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil || len(ids) == 0 {
			return err
		}
		in := "(" + placeholders(len(ids)) + ")"
		args := int64Args(ids)
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_counters SET
			success_count = success_count - p.ok, failure_count = failure_count - p.failed,
			response_time_total_ms = response_time_total_ms - p.rt,
			response_samples = response_samples - p.attempts
			FROM (SELECT webhook_id, SUM(state = 'success') AS ok, SUM(state = 'failed') AS failed,
				SUM(response_time_sum_ms) AS rt, SUM(attempts) AS attempts
				FROM deliveries WHERE id IN `+in+` AND test = 0 GROUP BY webhook_id) AS p
			WHERE webhook_counters.webhook_id = p.webhook_id`, args...); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM deliveries WHERE id IN "+in, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// pruneLoop runs a chunked DELETE (taking the cutoff and the chunk size)
// in one transaction per chunk until it deletes fewer than a chunk, and
// returns the rows deleted.
func (s *Store) pruneLoop(ctx context.Context, query string, cutoff int64) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, query, cutoff, pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < pruneChunk {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
