package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// pruneChunk is how many rows one pruning statement deletes, so locks
// are short and autovacuum can follow.
const pruneChunk = 5000

// pruneDeliveries deletes one chunk of finished deliveries created before
// $1 with ids above $2, in id order (no rescanning of what earlier chunks
// deleted), with their attempts, and takes them off their webhooks'
// counters (locked in id order). Rows another node is pruning are
// skipped. It answers how many it deleted, the last id it saw, and what
// to take off delivery_stats (one row per key; none when nothing counted).
const pruneDeliveries = `WITH doomed AS (
		SELECT id FROM deliveries
		WHERE id > $2 AND created_at < $1 AND state <> 'pending'
		ORDER BY id LIMIT $3
		FOR UPDATE SKIP LOCKED
	), gone AS (
		DELETE FROM deliveries WHERE id = ANY(ARRAY(SELECT id FROM doomed))
		RETURNING id, webhook_id, state, test, attempts, response_time_sum_ms, created_at, event_type, error_type
	), att AS (
		DELETE FROM attempts WHERE delivery_id = ANY(ARRAY(SELECT id FROM gone))
	), agg AS (
		SELECT webhook_id, count(*) FILTER (WHERE state = 'success') AS ok,
			count(*) FILTER (WHERE state = 'failed') AS failed,
			sum(response_time_sum_ms) AS rt, sum(attempts) AS attempts
		FROM gone WHERE NOT test GROUP BY webhook_id
	), l AS (
		SELECT webhook_id FROM webhook_counters WHERE webhook_id = ANY(ARRAY(SELECT webhook_id FROM agg))
		ORDER BY webhook_id FOR UPDATE
	), c AS (
		UPDATE webhook_counters c SET success_count = c.success_count - agg.ok,
			failure_count = c.failure_count - agg.failed,
			response_time_total_ms = c.response_time_total_ms - agg.rt,
			response_samples = c.response_samples - agg.attempts
		FROM agg JOIN l USING (webhook_id) WHERE c.webhook_id = agg.webhook_id
	), st AS (
		SELECT webhook_id, ` + "date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00')" + ` AS hour,
			event_type, state, error_type, count(*) AS deliveries, sum(attempts) AS attempts,
			count(*) FILTER (WHERE attempts > 0) AS attempted, sum(response_time_sum_ms) AS rt
		FROM gone WHERE NOT test AND state <> 'cancelled' GROUP BY 1, 2, 3, 4, 5
	)
	SELECT t.n, t.last, st.webhook_id, st.hour, st.event_type, st.state, st.error_type,
		st.deliveries, st.attempts, st.attempted, st.rt
	FROM (SELECT count(*) AS n, COALESCE(max(id), 0) AS last FROM gone) t LEFT JOIN st ON true`

// subtractStats takes pruned deliveries off delivery_stats; rows of a
// deleted webhook are gone already and stay so.
const subtractStats = `UPDATE delivery_stats s SET deliveries = s.deliveries - u.deliveries,
		attempts = s.attempts - u.attempts, attempted = s.attempted - u.attempted,
		response_time_sum_ms = s.response_time_sum_ms - u.rt
	FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
		$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
		AS u(webhook_id, hour, event_type, state, error_type, deliveries, attempts, attempted, rt)
	WHERE s.webhook_id = ANY($1) AND s.webhook_id = u.webhook_id AND s.hour = u.hour
	AND s.event_type = u.event_type AND s.state = u.state AND s.error_type = u.error_type`

// pruneEmptyStats deletes a chunk of delivery_stats rows left at zero
// for hours before $1 ($2 unused), skipping rows a writer holds.
const pruneEmptyStats = `WITH gone AS (
		DELETE FROM delivery_stats WHERE (webhook_id, hour, event_type, state, error_type) IN (
			SELECT webhook_id, hour, event_type, state, error_type FROM delivery_stats
			WHERE hour < $1 AND deliveries = 0 AND $2::bigint >= 0
			ORDER BY 1, 2, 3, 4, 5 LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING 1
	)
	SELECT count(*), 0::bigint FROM gone`

// pruneEvents deletes one chunk of events created before $1, with seq
// above $2, left without deliveries, with the idempotency keys they hold.
const pruneEvents = `WITH gone AS (
		DELETE FROM events WHERE seq = ANY(ARRAY(
			SELECT seq FROM events e WHERE seq > $2 AND created_at < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
			ORDER BY seq LIMIT $3))
		RETURNING seq
	), keys AS (
		DELETE FROM idempotency_keys WHERE event_seq = ANY(ARRAY(SELECT seq FROM gone))
	)
	SELECT count(*), COALESCE(max(seq), 0) FROM gone`

// pruneKeys deletes one chunk of idempotency keys taken before $1.
const pruneKeys = `WITH gone AS (
		DELETE FROM idempotency_keys WHERE (tenant, key) IN (
			SELECT tenant, key FROM idempotency_keys WHERE created_at < $1 AND $2::bigint >= 0 LIMIT $3)
		RETURNING 1
	)
	SELECT count(*), 0::bigint FROM gone`

// PruneDeliveries deletes finished deliveries (success, failed,
// cancelled) created before the cutoff with their attempts, then events
// created before the cutoff that have no delivery left (their idempotency
// keys with them), then idempotency keys that expired before the cutoff.
// The webhooks' counters lose what the deleted deliveries added, so they
// always describe the deliveries kept. Each chunk of pruneChunk rows is
// its own transaction; it returns how many deliveries it deleted. Several
// nodes may prune at once: each skips rows another holds. When it deleted
// deliveries it ends with a VACUUM (ANALYZE) of the tables it pruned.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var deleted, after int64
	for {
		n, last, err := s.pruneDeliveryChunk(ctx, before, after)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if n < pruneChunk {
			break
		}
		after = max(after, last)
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
	}
	if _, err := s.pruneLoop(ctx, pruneEmptyStats, hourOf(before)); err != nil {
		return deleted, err
	}
	if _, err := s.pruneLoop(ctx, pruneEvents, before); err != nil {
		return deleted, err
	}
	// A key older than the window before the cutoff expired before now.
	if _, err := s.pruneLoop(ctx, pruneKeys, before.Add(-hookd.IdempotencyWindow)); err != nil {
		return deleted, err
	}
	if deleted > 0 { // deletes leave dead tuples until a VACUUM (see maintenance)
		if err := s.vacuum(ctx, prunedTables); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// pruneDeliveryChunk runs pruneDeliveries and takes what it deleted off
// delivery_stats, in one transaction; it returns the deliveries deleted
// and the last id it saw.
func (s *Store) pruneDeliveryChunk(ctx context.Context, cutoff time.Time, after int64) (n, last int64, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, pruneDeliveries, cutoff, after, pruneChunk)
		if err != nil {
			return err
		}
		st := statsDeltas{}
		// One row with the counts when nothing counted was deleted
		// (the key columns then NULL), else one per key.
		var webhookID, deliveries, attempts, attempted, rt *int64
		var hour *time.Time
		var eventType, state, errorType *string
		_, err = pgx.ForEachRow(rows, []any{&n, &last, &webhookID, &hour, &eventType, &state, &errorType,
			&deliveries, &attempts, &attempted, &rt}, func() error {
			if webhookID != nil {
				k := statsKey{*webhookID, utc(*hour), *eventType, *state, *errorType}
				st[k] = &statsDelta{*deliveries, *attempts, *attempted, *rt}
			}
			return nil
		})
		if err != nil || st.empty() {
			return err
		}
		_, err = tx.Exec(ctx, subtractStats, st.args()...)
		return err
	})
	return n, last, err
}

// pruneLoop runs a chunked delete (taking the cutoff, the key to resume
// after and the chunk size; answering the rows deleted and the last key)
// until a chunk deletes fewer than pruneChunk rows, and returns the rows
// deleted.
func (s *Store) pruneLoop(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	var total, after int64
	for {
		var n, last int64
		if err := s.pool.QueryRow(ctx, query, cutoff, after, pruneChunk).Scan(&n, &last); err != nil {
			return total, err
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
		after = max(after, last)
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
