package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// counterDelta gathers one webhook's counter changes within a batch.
type counterDelta struct {
	webhookID        int64
	success, failure int64
	rtTotal, samples int64
	lastAt, lastMs   int64
	finished         int64
	results          []hookd.RecordedAttempt // in order, for the webhook's health
}

// completeBatch records the owned results inside one transaction: an
// UPDATE … FROM (VALUES …) of many deliveries, multi-row INSERTs of the
// attempts (both prepared once, see multiRow), and one counters UPDATE
// per webhook (with auto-disable), so a batch costs few statements on the
// one writer.
// It returns the operational events the results cause, for the caller to
// store in the same transaction.
func completeBatch(ctx context.Context, tx *sql.Tx, w *writeStmts, results []hookd.AttemptResult, owned []int, rules hookd.DeliveryRules) ([]hookd.OperationalEvent, error) {
	type completion struct {
		state    hookd.DeliveryState
		finished time.Time
		code     any
	}
	type updated struct {
		webhookID int64
		number    int
		test      bool
		eventType string
		eventID   string
	}
	done := make([]completion, len(results))
	rows := make(map[int64]updated, len(owned))
	values := make([]any, 0, completeRowValues*min(len(owned), completeRowsPerUpdate))
	flush := func() error {
		err := w.completeDeliveries.each(ctx, tx, values, func(st *sql.Stmt, values []any) error {
			q, err := st.QueryContext(ctx, values...)
			if err != nil {
				return fmt.Errorf("sqlite: complete deliveries: %w", err)
			}
			defer q.Close()
			for q.Next() {
				var id int64
				var u updated
				if err := q.Scan(&id, &u.webhookID, &u.number, &u.test, &u.eventType, &u.eventID); err != nil {
					return err
				}
				rows[id] = u
			}
			return q.Err()
		})
		values = values[:0]
		return err
	}
	queued := make(map[int64]bool, len(owned))
	for _, i := range owned {
		r := &results[i]
		if queued[r.DeliveryID] {
			continue // the same result twice: recorded once
		}
		queued[r.DeliveryID] = true
		a := r.Attempt
		finished := a.FinishedAt()
		state, next, completed := r.State(), any(nil), any(ms(finished))
		if state == hookd.StatePending {
			next, completed = ms(*r.NextAttemptAt), nil
		}
		var code any
		if a.ResponseCode != nil {
			code = *a.ResponseCode
		}
		done[i] = completion{state: state, finished: finished, code: code}
		values = append(values, r.DeliveryID, string(state), next, code, a.ResponseTimeMs, a.ErrorType, ms(finished), completed)
		if len(values) == completeRowValues*completeRowsPerUpdate {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	var attempts []any
	deltas := map[int64]*counterDelta{}
	var order []int64
	for _, i := range owned {
		r := &results[i]
		u, ok := rows[r.DeliveryID]
		if !ok {
			continue // no longer pending (cancelled or requeued meanwhile), or seen
		}
		delete(rows, r.DeliveryID)
		a, c := r.Attempt, done[i]
		headers, err := rowcodec.RequestHeaders(a.RequestHeaders)
		if err != nil {
			return nil, err
		}
		attempts = append(attempts, r.DeliveryID, u.number, ms(a.StartedAt), headers, c.code,
			hookd.StoredResponseBody(a.ResponseBody), a.ResponseTimeMs, a.ErrorType, a.ErrorMessage)
		r.Attempt.DeliveryID, r.Attempt.Number = r.DeliveryID, u.number
		if u.test {
			continue
		}
		d := deltas[u.webhookID]
		if d == nil {
			d = &counterDelta{webhookID: u.webhookID}
			deltas[u.webhookID] = d
			order = append(order, u.webhookID)
		}
		d.samples++
		d.rtTotal += a.ResponseTimeMs
		if started := ms(a.StartedAt); d.samples == 1 || started >= d.lastAt {
			d.lastAt, d.lastMs = started, a.ResponseTimeMs
		}
		d.finished = max(d.finished, ms(c.finished))
		switch c.state {
		case hookd.StateSuccess:
			d.success++
		case hookd.StateFailed:
			d.failure++
		}
		d.results = append(d.results, hookd.RecordedAttempt{Result: r, LogID: r.DeliveryID,
			EventID: u.eventID, EventType: u.eventType, Attempts: u.number})
	}
	err := w.insertAttempts.each(ctx, tx, attempts, func(st *sql.Stmt, values []any) error {
		_, err := st.ExecContext(ctx, values...)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The counters of every webhook of the batch are read and written
	// with the same two statements.
	read, write := tx.StmtContext(ctx, w.readCounters), tx.StmtContext(ctx, w.writeCounters)
	defer read.Close()
	defer write.Close()
	var operational []hookd.OperationalEvent
	for _, id := range order {
		evs, err := applyCounters(ctx, tx, w, read, write, deltas[id], rules)
		if err != nil {
			return nil, err
		}
		operational = append(operational, evs...)
	}
	return operational, nil
}

// readCounters reads a webhook's failure streak and what its operational
// events name (applyCounters). The webhook is read on its own (the
// materialized CTE), looked up by id: in a join, statistics taken when
// there were few webhooks made SQLite scan them all, for each webhook of
// a batch.
const readCounters = `WITH w AS MATERIALIZED (
		SELECT tenant, user_id, name, url, kind, is_active FROM webhooks WHERE id = ?1)
	SELECT c.consecutive_failures, c.failed_attempts, c.failing_since,
	w.tenant, w.user_id, w.name, w.url, w.kind, w.is_active
	FROM webhook_counters c, w WHERE c.webhook_id = ?1`

// writeCounters adds a batch's outcomes to a webhook's counters
// (applyCounters). SET expressions see the row as it was, so both CASEs
// compare with the previous last_attempt_at.
const writeCounters = `UPDATE webhook_counters SET
	success_count = success_count + ?1, failure_count = failure_count + ?2,
	pending_count = pending_count - ?1 - ?2,
	response_time_total_ms = response_time_total_ms + ?3, response_samples = response_samples + ?4,
	last_response_ms = CASE WHEN last_attempt_at IS NULL OR ?5 >= last_attempt_at THEN ?6 ELSE last_response_ms END,
	last_attempt_at = CASE WHEN last_attempt_at IS NULL OR ?5 >= last_attempt_at THEN ?5 ELSE last_attempt_at END,
	consecutive_failures = ?7, failed_attempts = ?9, failing_since = ?10
	WHERE webhook_id = ?8`

// completeRowValues is the number of values per delivery in completeBatch's
// UPDATE: id, state, next_attempt_at, response_code, response_time_ms,
// error_type, updated_at, completed_at.
const completeRowValues = 8

// completeRowsPerUpdate bounds the deliveries of one UPDATE (a power of
// two, see multiRow).
const completeRowsPerUpdate = 256

// completeDeliveriesQuery is completeBatch's UPDATE of n deliveries. SET
// expressions read the row as it was; v.columnN are the VALUES in the
// order completeBatch appends them.
func completeDeliveriesQuery(n int) string {
	return `UPDATE deliveries SET state = v.column2, attempts = attempts + 1,
		next_attempt_at = v.column3, lease_token = NULL, lease_until = NULL, response_code = v.column4,
		response_time_ms = v.column5, response_time_sum_ms = response_time_sum_ms + v.column5,
		error_type = v.column6, updated_at = v.column7, completed_at = v.column8
		FROM (VALUES ` + valuesRows(n, completeRowValues) + `) AS v
		WHERE deliveries.id = v.column1 AND deliveries.state = 'pending'
		RETURNING deliveries.id, deliveries.webhook_id, deliveries.attempts, deliveries.test,
			deliveries.event_type, (SELECT e.id FROM events e WHERE e.seq = deliveries.event_seq)`
}

// attemptColumns is the number of values per attempts row.
const attemptColumns = 9

// attemptRowsPerInsert bounds the rows of one attempts INSERT (a power of
// two, see multiRow).
const attemptRowsPerInsert = 128

// applyCounters writes one webhook's counter changes and switches it off
// when a result says so or its consecutive final failures reach the limit;
// its health (hookd.WebhookHealth) says which operational events the
// results cause, and those are returned.
func applyCounters(ctx context.Context, tx *sql.Tx, ws *writeStmts, read, write *sql.Stmt, d *counterDelta, rules hookd.DeliveryRules) ([]hookd.OperationalEvent, error) {
	var health hookd.WebhookHealth
	var failingSince sql.NullInt64
	w := hookd.Webhook{ID: d.webhookID}
	err := read.QueryRowContext(ctx, d.webhookID).Scan(&health.Consecutive, &health.FailedAttempts, &failingSince,
		&w.Owner.Tenant, &w.Owner.User, &w.Name, &w.URL, &w.Kind, &w.IsActive)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // the webhook was deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	health.FailingSince = fromNullMs(failingSince)
	var operational []hookd.OperationalEvent
	for _, r := range d.results {
		operational = append(operational, health.Record(&w, r, rules)...)
	}
	_, err = write.ExecContext(ctx,
		d.success, d.failure, d.rtTotal, d.samples, d.lastAt, d.lastMs, health.Consecutive, d.webhookID,
		health.FailedAttempts, msPtr(health.FailingSince))
	if err != nil || health.DisableReason == "" {
		return operational, err
	}
	disable := tx.StmtContext(ctx, ws.disableWebhook)
	defer disable.Close()
	_, err = disable.ExecContext(ctx, health.DisableReason, d.finished, d.webhookID)
	return operational, err
}
