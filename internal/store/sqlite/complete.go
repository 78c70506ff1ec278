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
//
// disabled says whether it switched a webhook off.
func completeBatch(ctx context.Context, tx *sql.Tx, w *writeStmts, results []hookd.AttemptResult, owned []int, rules hookd.DeliveryRules) (operational []hookd.OperationalEvent, disabled bool, err error) {
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
		hour      int64 // of created_at, as delivery_stats groups it
		rtSum     int64
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
				if err := q.Scan(&id, &u.webhookID, &u.number, &u.test, &u.eventType, &u.eventID, &u.hour, &u.rtSum); err != nil {
					return err
				}
				rows[id] = u
			}
			return q.Err()
		})
		values = values[:0]
		return err
	}
	// First attempts leave the rollup to this batch (rollup.add) while
	// the flag row is there: from the first UPDATE to the last.
	if _, err := tx.StmtContext(ctx, w.rollupByWriter).ExecContext(ctx); err != nil {
		return nil, false, err
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
				return nil, false, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, false, err
	}
	if _, err := tx.StmtContext(ctx, w.rollupByTrigger).ExecContext(ctx); err != nil {
		return nil, false, err
	}
	var rollup rollupDeltas
	attempts := make([]any, 0, attemptColumns*len(rows))
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
			return nil, false, err
		}
		attempts = append(attempts, r.DeliveryID, u.number, ms(a.StartedAt), headers, c.code,
			hookd.StoredResponseBody(a.ResponseBody), a.ResponseTimeMs, a.ErrorType, a.ErrorMessage)
		r.Attempt.DeliveryID, r.Attempt.Number = r.DeliveryID, u.number
		if u.test {
			continue
		}
		if u.number == 1 {
			rollup.add(statsGroup{u.webhookID, u.hour, u.eventType, string(hookd.StatePending), ""}, -1, 0, 0)
			rollup.add(statsGroup{u.webhookID, u.hour, u.eventType, string(c.state), a.ErrorType}, 1, 1, u.rtSum)
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
	err = w.insertAttempts.each(ctx, tx, attempts, func(st *sql.Stmt, values []any) error {
		_, err := st.ExecContext(ctx, values...)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if err := rollup.write(ctx, tx, w); err != nil {
		return nil, false, err
	}
	return applyCounters(ctx, tx, w, order, deltas, rules)
}

// statsGroup is one delivery_stats row's key.
type statsGroup struct {
	webhookID       int64
	hour            int64
	eventType       string
	state, errorTyp string
}

// rollupDeltas gathers a batch's changes to delivery_stats by group, in
// the order first met (one order for every batch: no surprise in which
// rows a transaction touches first).
type rollupDeltas struct {
	order []statsGroup
	by    map[statsGroup]*[3]int64 // deliveries, attempts (= attempted), response_time_sum_ms
}

func (r *rollupDeltas) add(g statsGroup, deliveries, attempts, rtSum int64) {
	if r.by == nil {
		r.by = map[statsGroup]*[3]int64{}
	}
	d := r.by[g]
	if d == nil {
		d = new([3]int64)
		r.by[g] = d
		r.order = append(r.order, g)
	}
	d[0] += deliveries
	d[1] += attempts
	d[2] += rtSum
}

// write adds the deltas to delivery_stats, a group's row made when new.
func (r *rollupDeltas) write(ctx context.Context, tx *sql.Tx, w *writeStmts) error {
	values := make([]any, 0, len(r.order)*statsValues)
	for _, g := range r.order {
		d := r.by[g]
		if d[0] == 0 && d[1] == 0 && d[2] == 0 {
			continue
		}
		values = append(values, g.webhookID, g.hour, g.eventType, g.state, g.errorTyp, d[0], d[1], d[1], d[2])
	}
	return w.addStats.each(ctx, tx, values, func(st *sql.Stmt, values []any) error {
		_, err := st.ExecContext(ctx, values...)
		return err
	})
}

// statsValues is the number of values per delivery_stats row.
const statsValues = 9

// addStatsQuery adds n groups' deltas to delivery_stats.
func addStatsQuery(n int) string {
	return `INSERT INTO delivery_stats (webhook_id, hour, event_type, state, error_type,
		deliveries, attempts, attempted, response_time_sum_ms) VALUES ` + valuesRows(n, statsValues) + `
		ON CONFLICT DO UPDATE SET deliveries = deliveries + excluded.deliveries,
		attempts = attempts + excluded.attempts, attempted = attempted + excluded.attempted,
		response_time_sum_ms = response_time_sum_ms + excluded.response_time_sum_ms`
}

// readCounters reads the failure streaks of a JSON array of webhooks and
// what their operational events name (applyCounters). Planned from
// statistics taken when there were few webhooks, it may scan them all:
// once a batch, not once a webhook.
const readCounters = `SELECT c.webhook_id, c.consecutive_failures, c.failed_attempts, c.failing_since,
	w.tenant, w.user_id, w.name, w.url, w.kind, w.is_active
	FROM webhook_counters c JOIN webhooks w ON w.id = c.webhook_id
	WHERE c.webhook_id IN (SELECT value FROM json_each(?))`

// counterValues is the number of values per webhook in writeCountersQuery.
const counterValues = 10

// writeCountersQuery adds a batch's outcomes to n webhooks' counters
// (applyCounters); v.columnN are the values in applyCounters' order. SET
// expressions see the row as it was, so both CASEs compare with the
// previous last_attempt_at.
func writeCountersQuery(n int) string {
	return `UPDATE webhook_counters SET
		success_count = success_count + v.column2, failure_count = failure_count + v.column3,
		pending_count = pending_count - v.column2 - v.column3,
		response_time_total_ms = response_time_total_ms + v.column4, response_samples = response_samples + v.column5,
		last_response_ms = CASE WHEN last_attempt_at IS NULL OR v.column6 >= last_attempt_at THEN v.column7 ELSE last_response_ms END,
		last_attempt_at = CASE WHEN last_attempt_at IS NULL OR v.column6 >= last_attempt_at THEN v.column6 ELSE last_attempt_at END,
		consecutive_failures = v.column8, failed_attempts = v.column9, failing_since = v.column10
		FROM (VALUES ` + valuesRows(n, counterValues) + `) AS v WHERE webhook_counters.webhook_id = v.column1`
}

// completeRowValues is the number of values per delivery in completeBatch's
// UPDATE: id, state, next_attempt_at, response_code, response_time_ms,
// error_type, updated_at, completed_at.
const completeRowValues = 8

// completeRowsPerUpdate bounds the deliveries of one UPDATE (a power of
// two, see multiRow).
const completeRowsPerUpdate = 64

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
			deliveries.event_type, (SELECT e.id FROM events e WHERE e.seq = deliveries.event_seq),
			deliveries.created_at / 3600000, deliveries.response_time_sum_ms`
}

// attemptColumns is the number of values per attempts row.
const attemptColumns = 9

// attemptRowsPerInsert bounds the rows of one attempts INSERT (a power of
// two, see multiRow).
const attemptRowsPerInsert = 64

// applyCounters writes the webhooks' counter changes (deltas, in order)
// and switches off each webhook a result says to or whose consecutive
// final failures reach the limit; its health (hookd.WebhookHealth) says
// which operational events the results cause, and those are returned.
// All the webhooks' counters are read with one statement and written
// with few (multiRow), however many webhooks the batch names: a fan-out's
// batches name many.
func applyCounters(ctx context.Context, tx *sql.Tx, ws *writeStmts, order []int64, deltas map[int64]*counterDelta, rules hookd.DeliveryRules) ([]hookd.OperationalEvent, bool, error) {
	if len(order) == 0 {
		return nil, false, nil
	}
	type current struct {
		health  hookd.WebhookHealth
		webhook hookd.Webhook
	}
	read := tx.StmtContext(ctx, ws.readCounters)
	defer read.Close()
	rows, err := read.QueryContext(ctx, jsonIDs(order))
	if err != nil {
		return nil, false, err
	}
	found := make(map[int64]*current, len(order))
	for rows.Next() {
		c := &current{}
		var failingSince sql.NullInt64
		w := &c.webhook
		if err := rows.Scan(&w.ID, &c.health.Consecutive, &c.health.FailedAttempts, &failingSince,
			&w.Owner.Tenant, &w.Owner.User, &w.Name, &w.URL, &w.Kind, &w.IsActive); err != nil {
			rows.Close()
			return nil, false, err
		}
		c.health.FailingSince = fromNullMs(failingSince)
		found[w.ID] = c
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, err
	}
	var operational []hookd.OperationalEvent
	var writes []any
	var disable []*counterDelta
	var reasons []string
	for _, id := range order {
		c, ok := found[id]
		if !ok {
			continue // the webhook was deleted meanwhile
		}
		d, health := deltas[id], &c.health
		for _, r := range d.results {
			operational = append(operational, health.Record(&c.webhook, r, rules)...)
		}
		writes = append(writes, id, d.success, d.failure, d.rtTotal, d.samples, d.lastAt, d.lastMs,
			health.Consecutive, health.FailedAttempts, msPtr(health.FailingSince))
		if health.DisableReason != "" {
			disable, reasons = append(disable, d), append(reasons, health.DisableReason)
		}
	}
	err = ws.writeCounters.each(ctx, tx, writes, func(st *sql.Stmt, values []any) error {
		_, err := st.ExecContext(ctx, values...)
		return err
	})
	if err != nil || len(disable) == 0 {
		return operational, false, err
	}
	st := tx.StmtContext(ctx, ws.disableWebhook)
	defer st.Close()
	for i, d := range disable {
		if _, err := st.ExecContext(ctx, reasons[i], d.finished, d.webhookID); err != nil {
			return nil, false, err
		}
	}
	return operational, true, nil
}
