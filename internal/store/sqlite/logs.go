package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
	"github.com/hookd/hookd/internal/store/statstally"
)

// deliveryColumns are the columns scanDelivery reads, in its order; they
// need deliveryFrom. The last attempt's body and error message come from
// the attempts table.
const deliveryColumns = `d.id, d.tenant, d.webhook_id, e.id, d.event_type, d.state, d.attempts,
	d.next_attempt_at, d.test, d.response_code, d.response_time_ms, COALESCE(a.response_body, ''),
	d.error_type, COALESCE(a.error_message, ''), d.created_at, d.updated_at, d.completed_at, e.payload`

// deliveryFrom joins what deliveryColumns reads.
const deliveryFrom = ` FROM deliveries d JOIN events e ON e.seq = d.event_seq
	LEFT JOIN attempts a ON a.delivery_id = d.id AND a.number = d.attempts`

// scanDelivery reads one row of deliveryColumns.
func scanDelivery(row interface{ Scan(...any) error }) (*hookd.Delivery, error) {
	var d hookd.Delivery
	var next, code, rt, completed sql.NullInt64
	var createdAt, updatedAt int64
	var state, payload string
	if err := row.Scan(&d.ID, &d.Tenant, &d.WebhookID, &d.EventID, &d.EventType, &state, &d.Attempts,
		&next, &d.Test, &code, &rt, &d.ResponseBody, &d.ErrorType, &d.ErrorMessage,
		&createdAt, &updatedAt, &completed, &payload); err != nil {
		return nil, err
	}
	d.State = hookd.DeliveryState(state)
	d.NextAttemptAt = fromNullMs(next)
	if code.Valid {
		c := int(code.Int64)
		d.ResponseCode = &c
	}
	if rt.Valid {
		v := rt.Int64
		d.ResponseTimeMs = &v
	}
	d.CreatedAt, d.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
	d.CompletedAt = fromNullMs(completed)
	d.Payload = json.RawMessage(payload)
	return &d, nil
}

// queryDeliveries runs a query selecting deliveryColumns.
func queryDeliveries(ctx context.Context, q querier, query string, args ...any) ([]*hookd.Delivery, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, scanDelivery)
}

// ownWebhook answers ENotFound unless the owner has webhook id.
func ownWebhook(ctx context.Context, q querier, owner hookd.Owner, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM webhooks WHERE id = ? AND tenant = ? AND user_id = ?",
		id, owner.Tenant, owner.User).Scan(&one)
	return notFound(err, "webhook")
}

// eventCondition returns the SQL condition selecting event types the way
// hookd.MatchesPattern does: "*" all, "x.*" names under "x.", else the name.
func eventCondition(pattern string) (string, []any) {
	if pattern == "" || pattern == hookd.AllEvents {
		return "", nil
	}
	if prefix, ok := hookd.CategoryPrefix(pattern); ok {
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix)
		return ` AND d.event_type LIKE ? ESCAPE '\'`, []any{esc + "_%"}
	}
	return " AND d.event_type = ?", []any{pattern}
}

// statusCondition returns the SQL condition for an API status.
func statusCondition(status string) (string, error) {
	switch status {
	case "":
		return "1", nil
	case "success":
		return "d.state = 'success'", nil
	case "failed":
		return "(d.state = 'failed' OR (d.state = 'pending' AND d.attempts > 0))", nil
	case "pending":
		return "(d.state = 'pending' AND d.attempts = 0)", nil
	default:
		return "", hookd.Errorf(hookd.EBadRequest, "status must be success, failed or pending")
	}
}

// ListDeliveries returns one page of a webhook's delivery logs, newest
// first, the number of logs matching q, and the summary. The summary
// counts the webhook's non-test deliveries matching q's event and time
// window, whatever q.Status. A Limit of 0 or less means no limit. Counts
// come from delivery_stats (see readGroups) plus the few test sends; only
// the page reads deliveries.
func (s *Store) ListDeliveries(ctx context.Context, owner hookd.Owner, webhookID int64, q hookd.DeliveryQuery) ([]*hookd.Delivery, int64, hookd.DeliverySummary, error) {
	var sum hookd.DeliverySummary
	status, err := statusCondition(q.Status)
	if err != nil {
		return nil, 0, sum, err
	}
	where := " WHERE d.webhook_id = ?"
	args := []any{webhookID}
	cond, condArgs := eventCondition(q.Event)
	where += cond
	args = append(args, condArgs...)
	start, end := msOpt(q.Start), msOpt(q.End)
	if start != nil {
		where += " AND d.created_at >= ?"
		args = append(args, *start)
	}
	if end != nil {
		where += " AND d.created_at <= ?"
		args = append(args, *end)
	}
	var out []*hookd.Delivery
	var total int64
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		groups, err := readGroups(ctx, tx, webhookID, start, end, cond, condArgs)
		if err != nil {
			return err
		}
		for _, g := range groups {
			switch hookd.DeliveryState(g.state) {
			case hookd.StateSuccess:
				sum.Successful += g.deliveries
			case hookd.StateFailed:
				sum.Failed += g.deliveries
			case hookd.StatePending:
				sum.PendingRetry += g.attempted
			}
			total += statstally.StatusCount(q.Status, hookd.DeliveryState(g.state), g.deliveries, g.attempted)
		}
		var tests int64
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM deliveries d"+where+" AND d.test = 1 AND "+status,
			args...).Scan(&tests); err != nil {
			return err
		}
		total += tests
		limit := q.Limit
		if limit <= 0 {
			limit = -1
		}
		out, err = queryDeliveries(ctx, tx, "SELECT "+deliveryColumns+deliveryFrom+where+" AND "+status+
			" ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?", append(args, limit, max(q.Offset, 0))...)
		return err
	})
	if err != nil {
		return nil, 0, hookd.DeliverySummary{}, err
	}
	return out, total, sum, nil
}

// GetDelivery returns one of a webhook's deliveries with its attempts in
// order.
func (s *Store) GetDelivery(ctx context.Context, owner hookd.Owner, webhookID, deliveryID int64) (*hookd.Delivery, []*hookd.Attempt, error) {
	var d *hookd.Delivery
	var attempts []*hookd.Attempt
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, "SELECT "+deliveryColumns+deliveryFrom+
			" WHERE d.id = ? AND d.webhook_id = ?", deliveryID, webhookID))
		if err != nil {
			return notFound(err, "delivery")
		}
		attempts, err = queryAttempts(ctx, tx, deliveryID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return d, attempts, nil
}

// queryAttempts returns a delivery's attempts by number.
func queryAttempts(ctx context.Context, q querier, deliveryID int64) ([]*hookd.Attempt, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, delivery_id, number, started_at, request_headers,
		response_code, response_body, response_time_ms, error_type, error_message
		FROM attempts WHERE delivery_id = ? ORDER BY number`, deliveryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hookd.Attempt
	for rows.Next() {
		var a hookd.Attempt
		var started int64
		var headers string
		var code sql.NullInt64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &started, &headers, &code,
			&a.ResponseBody, &a.ResponseTimeMs, &a.ErrorType, &a.ErrorMessage); err != nil {
			return nil, err
		}
		a.StartedAt = fromMs(started)
		if err := json.Unmarshal([]byte(headers), &a.RequestHeaders); err != nil {
			return nil, err
		}
		if code.Valid {
			c := int(code.Int64)
			a.ResponseCode = &c
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// requeue is the assignment that makes a delivery due again at ?1.
const requeue = `state = 'pending', next_attempt_at = ?1, lease_token = NULL, lease_until = NULL,
	completed_at = NULL, updated_at = ?1`

// RetryDelivery makes a delivery due again at now, whatever its state; a
// lease held on it is dropped. Test sends and cancelled deliveries answer
// EConflict.
func (s *Store) RetryDelivery(ctx context.Context, owner hookd.Owner, webhookID, deliveryID int64, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		var state string
		var test bool
		err := tx.QueryRowContext(ctx, "SELECT state, test FROM deliveries WHERE id = ? AND webhook_id = ?",
			deliveryID, webhookID).Scan(&state, &test)
		if err != nil {
			return notFound(err, "delivery")
		}
		if test {
			return hookd.Errorf(hookd.EConflict, "a test send cannot be retried")
		}
		if hookd.DeliveryState(state) == hookd.StateCancelled {
			return hookd.Errorf(hookd.EConflict, "a cancelled delivery cannot be retried")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET "+requeue+" WHERE id = ?2", ms(now), deliveryID); err != nil {
			return err
		}
		var counter string
		switch hookd.DeliveryState(state) {
		case hookd.StateSuccess:
			counter = "success_count"
		case hookd.StateFailed:
			counter = "failure_count"
		default:
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE webhook_counters SET "+counter+" = "+counter+
			" - 1, pending_count = pending_count + 1 WHERE webhook_id = ?", webhookID)
		return err
	})
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	s.leases.drop(deliveryID) // a lease held on it no longer counts
	if err == nil {
		s.queue.push(webhookID, deliveryID, ms(now))
	}
	return err
}

// RecoverDeliveries makes due again at now every delivery of the webhook
// that failed for good at or after since, and returns how many.
func (s *Store) RecoverDeliveries(ctx context.Context, owner hookd.Owner, webhookID int64, since, now time.Time) (int64, error) {
	var ids []int64
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "UPDATE deliveries SET "+requeue+
			" WHERE webhook_id = ?2 AND state = 'failed' AND test = 0 AND completed_at >= ?3 RETURNING id",
			ms(now), webhookID, ms(since))
		if err != nil {
			return err
		}
		if ids, err = scanRows(rows, func(row interface{ Scan(...any) error }) (int64, error) {
			var id int64
			return id, row.Scan(&id)
		}); err != nil || len(ids) == 0 {
			return err
		}
		n = int64(len(ids))
		_, err = tx.ExecContext(ctx, `UPDATE webhook_counters SET failure_count = failure_count - ?,
			pending_count = pending_count + ? WHERE webhook_id = ?`, n, n, webhookID)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for _, id := range ids {
		s.queue.push(webhookID, id, ms(now))
	}
	return n, nil
}

// RecordTestSend stores a test send in two steps (see hookd.LogStore).
// With a == nil it stores the event (kept out of streams and of
// LastPublished) and the delivery, failed with no attempt, and sets ev.Seq
// and d.ID. With a != nil it records the attempt on d.ID and the outcome
// (success, or failed when the attempt has an error type), and sets a.ID.
// Counters are never touched.
func (s *Store) RecordTestSend(ctx context.Context, ev *hookd.Event, d *hookd.Delivery, a *hookd.Attempt) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = ev.CreatedAt
	}
	if a == nil {
		return s.reserveTestSend(ctx, ev, d)
	}
	d.RecordTestAttempt(ev, a)
	var code any
	if a.ResponseCode != nil {
		code = *a.ResponseCode
	}
	headers, err := rowcodec.RequestHeaders(a.RequestHeaders)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = 1, response_code = ?,
			response_time_ms = ?, response_time_sum_ms = ?, error_type = ?, updated_at = ?, completed_at = ?
			WHERE id = ? AND test = 1 AND attempts = 0`,
			string(d.State), code, a.ResponseTimeMs, a.ResponseTimeMs, a.ErrorType, ms(d.UpdatedAt), msPtr(d.CompletedAt), d.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return hookd.Errorf(hookd.EConflict, "test send %d is not waiting for its attempt", d.ID)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO attempts (delivery_id, number, started_at,
			request_headers, response_code, response_body, response_time_ms, error_type, error_message)
			VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.ID, ms(a.StartedAt), headers, code, a.ResponseBody, a.ResponseTimeMs,
			a.ErrorType, a.ErrorMessage).Scan(&a.ID)
	})
}

// reserveTestSend is RecordTestSend's first step.
func (s *Store) reserveTestSend(ctx context.Context, ev *hookd.Event, d *hookd.Delivery) error {
	d.State, d.UpdatedAt = hookd.StateFailed, d.CreatedAt
	return s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO events (id, tenant, publisher, type, version, payload,
			idempotency_key, webhooks_matched, integrations_matched, test, created_at)
			VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, 1, ?) RETURNING seq`,
			ev.ID, ev.Tenant, ev.Publisher, ev.Type, ev.Version, rowcodec.EventPayload(ev.Payload),
			ev.WebhooksMatched, ev.IntegrationsMatched, ms(ev.CreatedAt)).Scan(&ev.Seq)
		if isUniqueViolation(err) {
			return hookd.Errorf(hookd.EConflict, "event %s already exists", ev.ID)
		} else if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO deliveries (tenant, webhook_id, event_seq, event_type,
			state, attempts, test, created_at, updated_at, completed_at)
			VALUES (?, ?, ?, ?, 'failed', 0, 1, ?, ?, ?) RETURNING id`,
			ev.Tenant, d.WebhookID, ev.Seq, ev.Type, ms(d.CreatedAt), ms(d.CreatedAt), ms(d.CreatedAt)).Scan(&d.ID)
	})
}
