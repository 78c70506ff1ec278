package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/hookd/hookd/internal/hookd"
)

// EraseEvents erases the payloads of the events q selects, the response
// bodies of their attempts, and cancels their pending deliveries, in one
// transaction (docs/api.md §13). The writer runs with secure_delete on,
// so SQLite overwrites the old payloads instead of leaving them in free
// space; a checkpoint afterwards takes the old page images out of the WAL
// (when no reader holds them).
func (s *Store) EraseEvents(ctx context.Context, q hookd.EraseQuery) (int64, error) {
	var erased int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		seqs, err := erasable(ctx, tx, q)
		if err != nil || len(seqs) == 0 {
			return err
		}
		set := jsonIDs(seqs)
		if _, err := tx.ExecContext(ctx, `UPDATE events SET payload = 'null'
			WHERE seq IN (SELECT value FROM json_each(?))`, set); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attempts SET response_body = ''
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?)))
			AND response_body <> ''`, set); err != nil {
			return err
		}
		if err := cancelErased(ctx, tx, set, q); err != nil {
			return err
		}
		erased = int64(len(seqs))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if erased > 0 {
		// Best effort: a reader holding an old snapshot keeps the frames
		// until the next checkpoint.
		_, _ = s.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return erased, nil
}

// erasable returns the seqs of the tenant's events q selects; ENotFound
// when q names an event the tenant does not have.
func erasable(ctx context.Context, tx *sql.Tx, q hookd.EraseQuery) ([]int64, error) {
	query := `SELECT seq, id, type, payload, created_at FROM events WHERE tenant = ? AND payload <> 'null'`
	args := []any{q.Tenant}
	if q.ID != "" {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM events WHERE id = ? AND tenant = ?", q.ID, q.Tenant).Scan(&one)
		if err != nil {
			return nil, notFound(err, "event")
		}
		query += " AND id = ?"
		args = append(args, q.ID)
	} else if q.Before != nil {
		query += " AND created_at < ?"
		args = append(args, ms(*q.Before))
	}
	rows, err := tx.QueryContext(ctx, query+" ORDER BY seq", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var ev hookd.Event
		var payload string
		var createdAt int64
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Type, &payload, &createdAt); err != nil {
			return nil, err
		}
		ev.Payload, ev.CreatedAt = json.RawMessage(payload), fromMs(createdAt)
		if q.Selects(&ev) {
			seqs = append(seqs, ev.Seq)
		}
	}
	return seqs, rows.Err()
}

// cancelErased cancels the pending deliveries of the erased events (set,
// a JSON array of seqs), so they are never sent, and takes them off their
// webhooks' pending counts. A delivery in flight finds it cancelled when
// its attempt comes back and is not recorded.
func cancelErased(ctx context.Context, tx *sql.Tx, set string, q hookd.EraseQuery) error {
	now := ms(q.Now)
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET state = 'cancelled', error_type = ?,
		next_attempt_at = NULL, lease_token = NULL, lease_until = NULL, updated_at = ?, completed_at = ?
		WHERE event_seq IN (SELECT value FROM json_each(?)) AND state = 'pending'
		RETURNING webhook_id, test`, hookd.ErrTypeErased, now, now, set)
	if err != nil {
		return err
	}
	pending := map[int64]int64{}
	var order []int64
	for rows.Next() {
		var id int64
		var test bool
		if err := rows.Scan(&id, &test); err != nil {
			rows.Close()
			return err
		}
		if test {
			continue
		}
		if pending[id] == 0 {
			order = append(order, id)
		}
		pending[id]++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range order {
		if _, err := tx.ExecContext(ctx, "UPDATE webhook_counters SET pending_count = pending_count - ? WHERE webhook_id = ?", pending[id], id); err != nil {
			return err
		}
	}
	return nil
}
