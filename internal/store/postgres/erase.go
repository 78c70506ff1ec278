package postgres

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
)

// EraseEvents erases the payloads of the events q selects, the response
// bodies of their attempts, and cancels their pending deliveries, in one
// transaction (docs/api.md §13). The rows' old versions stay in the heap
// as dead tuples until (auto)vacuum reclaims them; no query sees them.
func (s *Store) EraseEvents(ctx context.Context, q hookd.EraseQuery) (int64, error) {
	var erased int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		seqs, err := erasable(ctx, tx, q)
		if err != nil || len(seqs) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE events SET payload = 'null' WHERE seq = ANY($1)`, seqs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE attempts SET response_body = ''
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq = ANY($1)) AND response_body <> ''`, seqs); err != nil {
			return err
		}
		if err := cancelErased(ctx, tx, seqs, q.Now); err != nil {
			return err
		}
		erased = int64(len(seqs))
		return nil
	})
	if err != nil {
		return 0, err
	}
	return erased, nil
}

// erasable locks and returns the seqs of the tenant's events q selects;
// ENotFound when q names an event the tenant does not have.
func erasable(ctx context.Context, tx pgx.Tx, q hookd.EraseQuery) ([]int64, error) {
	if q.ID != "" {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM events WHERE id = $1 AND tenant = $2", q.ID, q.Tenant).Scan(&one)
		if err != nil {
			return nil, notFound(err, "event")
		}
	}
	rows, err := tx.Query(ctx, `SELECT seq, id, type, payload::text, created_at FROM events
		WHERE tenant = $1 AND payload::text <> 'null' AND ($2 = '' OR id = $2)
		AND ($3::timestamptz IS NULL OR $2 <> '' OR created_at < $3)
		ORDER BY seq FOR UPDATE`, q.Tenant, q.ID, q.Before)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	var ev hookd.Event
	var payload string
	_, err = pgx.ForEachRow(rows, []any{&ev.Seq, &ev.ID, &ev.Type, &payload, &ev.CreatedAt}, func() error {
		ev.Payload = json.RawMessage(payload)
		if q.Selects(&ev) {
			seqs = append(seqs, ev.Seq)
		}
		return nil
	})
	return seqs, err
}

// cancelErased cancels the pending deliveries of the erased events, so
// they are never sent: their queue rows go, they become cancelled with
// error type hookd.ErrTypeErased, and they leave their webhooks' pending
// counts and pending stats. Locks are taken in the order CompleteAttempts
// takes them (queue rows, then the counters in id order), so the two
// never wait for each other in a cycle. A delivery in flight finds its
// queue row gone when its attempt comes back and is not recorded.
func cancelErased(ctx context.Context, tx pgx.Tx, seqs []int64, now time.Time) error {
	rows, err := tx.Query(ctx, `DELETE FROM delivery_queue WHERE delivery_id IN
		(SELECT id FROM deliveries WHERE event_seq = ANY($1) AND state = 'pending')
		RETURNING delivery_id`, seqs)
	if err != nil {
		return err
	}
	queued, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(queued) == 0 {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT FROM webhook_counters WHERE webhook_id IN
		(SELECT webhook_id FROM deliveries WHERE id = ANY($1))
		ORDER BY webhook_id FOR UPDATE`, queued); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `WITH o AS (
			SELECT id, error_type FROM deliveries WHERE id = ANY($1)
		)
		UPDATE deliveries d SET state = 'cancelled', error_type = $2, updated_at = $3, completed_at = $3
		FROM o WHERE d.id = ANY($1) AND d.id = o.id AND d.state = 'pending'
		RETURNING d.webhook_id, d.test, d.created_at, d.event_type, o.error_type, d.attempts, d.response_time_sum_ms`,
		queued, hookd.ErrTypeErased, now)
	if err != nil {
		return err
	}
	stats := statsDeltas{}
	pending := map[int64]int64{}
	var c struct {
		webhookID        int64
		test             bool
		createdAt        time.Time
		eventType, error string
		attempts         int64
		rtSum            int64
	}
	_, err = pgx.ForEachRow(rows, []any{&c.webhookID, &c.test, &c.createdAt, &c.eventType, &c.error, &c.attempts, &c.rtSum}, func() error {
		if !c.test {
			pending[c.webhookID]--
			stats.add(statsKey{c.webhookID, hourOf(c.createdAt), c.eventType, string(hookd.StatePending), c.error}, -1, c.attempts, c.rtSum)
		}
		return nil
	})
	if err != nil || len(pending) == 0 {
		return err
	}
	ids := make([]int64, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	counts := make([]int64, len(ids))
	for j, id := range ids {
		counts[j] = pending[id]
	}
	b := &pgx.Batch{}
	b.Queue(addPending, ids, counts)
	if !stats.empty() {
		b.Queue(addStats, stats.args()...)
	}
	return tx.SendBatch(ctx, b).Close()
}
