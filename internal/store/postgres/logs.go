package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
	"github.com/hookd/hookd/internal/store/statstally"
)

// deliveryColumns are the columns scanDelivery reads, in its order; they
// need deliveryFrom. A pending delivery's due time comes from its queue
// row, the last attempt's body and error message from attempts.
const deliveryColumns = `d.id, e.tenant, d.webhook_id, e.id, d.event_type, d.state, d.attempts,
	q.next_attempt_at, d.test, d.response_code, d.response_time_ms, COALESCE(a.response_body, ''),
	d.error_type, COALESCE(a.error_message, ''), d.created_at, d.updated_at, d.completed_at, e.payload`

// deliveryFrom joins what deliveryColumns reads.
const deliveryFrom = ` FROM deliveries d JOIN events e ON e.seq = d.event_seq
	LEFT JOIN delivery_queue q ON q.delivery_id = d.id
	LEFT JOIN attempts a ON a.delivery_id = d.id AND a.number = d.attempts`

// scanDelivery reads one row of deliveryColumns.
func scanDelivery(row pgx.Row) (*hookd.Delivery, error) {
	var d hookd.Delivery
	var state string
	var code *int32
	var payload []byte
	if err := row.Scan(&d.ID, &d.Tenant, &d.WebhookID, &d.EventID, &d.EventType, &state, &d.Attempts,
		&d.NextAttemptAt, &d.Test, &code, &d.ResponseTimeMs, &d.ResponseBody, &d.ErrorType, &d.ErrorMessage,
		&d.CreatedAt, &d.UpdatedAt, &d.CompletedAt, &payload); err != nil {
		return nil, err
	}
	d.State = hookd.DeliveryState(state)
	if code != nil {
		c := int(*code)
		d.ResponseCode = &c
	}
	d.NextAttemptAt, d.CompletedAt = utcPtr(d.NextAttemptAt), utcPtr(d.CompletedAt)
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	d.Payload = json.RawMessage(payload)
	return &d, nil
}

// queryDeliveries runs a query selecting deliveryColumns.
func queryDeliveries(ctx context.Context, q querier, sql string, args ...any) ([]*hookd.Delivery, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDelivery)
}

// ownWebhook answers ENotFound unless the owner has webhook id.
func ownWebhook(ctx context.Context, q querier, owner hookd.Owner, id int64) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM webhooks WHERE id = $1 AND tenant = $2 AND user_id = $3",
		id, owner.Tenant, owner.User).Scan(&one)
	return notFound(err, "webhook")
}

// eventCondition returns the SQL condition on d.event_type selecting
// event types the way hookd.MatchesPattern does ("*" all, "x.*" names
// under "x.", else the name), its argument numbered $next.
func eventCondition(pattern string, next int) (string, []any) {
	if pattern == "" || pattern == hookd.AllEvents {
		return "", nil
	}
	if prefix, ok := hookd.CategoryPrefix(pattern); ok {
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix)
		return fmt.Sprintf(` AND d.event_type LIKE $%d ESCAPE '\'`, next), []any{esc + "_%"}
	}
	return fmt.Sprintf(" AND d.event_type = $%d", next), []any{pattern}
}

// deliveryFilter builds the WHERE clause of a webhook's logs for q's
// event and time window; the webhook id is $1.
func deliveryFilter(webhookID int64, q hookd.DeliveryQuery) (string, []any) {
	cond, args := eventCondition(q.Event, 2)
	where := " WHERE d.webhook_id = $1" + cond
	args = append([]any{webhookID}, args...)
	if q.Start != nil {
		args = append(args, *q.Start)
		where += fmt.Sprintf(" AND d.created_at >= $%d", len(args))
	}
	if q.End != nil {
		args = append(args, *q.End)
		where += fmt.Sprintf(" AND d.created_at <= $%d", len(args))
	}
	return where, args
}

// statusCondition returns the SQL condition for an API status.
func statusCondition(status string) (string, error) {
	switch status {
	case "":
		return "true", nil
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
	where, args := deliveryFilter(webhookID, q)
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	var out []*hookd.Delivery
	var total int64
	err = s.snapshot(ctx, func(tx pgx.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		cond, condArgs := eventCondition(q.Event, 2)
		groups, err := readGroups(ctx, tx, webhookID, q.Start, q.End, cond, condArgs)
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
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM deliveries d"+where+" AND d.test AND "+status, args...).Scan(&tests); err != nil {
			return err
		}
		total += tests
		n := len(args)
		out, err = queryDeliveries(ctx, tx, "SELECT "+deliveryColumns+deliveryFrom+where+" AND "+status+
			fmt.Sprintf(" ORDER BY d.created_at DESC, d.id DESC LIMIT $%d OFFSET $%d", n+1, n+2),
			append(args, limit, max(q.Offset, 0))...)
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
	err := s.snapshot(ctx, func(tx pgx.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, "SELECT "+deliveryColumns+deliveryFrom+
			" WHERE d.id = $1 AND d.webhook_id = $2", deliveryID, webhookID))
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
	rows, err := q.Query(ctx, `SELECT id, delivery_id, number, started_at, request_headers,
		response_code, response_body, response_time_ms, error_type, error_message
		FROM attempts WHERE delivery_id = $1 ORDER BY number`, deliveryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hookd.Attempt
	for rows.Next() {
		var a hookd.Attempt
		var headers []byte
		var code *int32
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.StartedAt, &headers, &code,
			&a.ResponseBody, &a.ResponseTimeMs, &a.ErrorType, &a.ErrorMessage); err != nil {
			return nil, err
		}
		a.StartedAt = utc(a.StartedAt)
		if err := json.Unmarshal(headers, &a.RequestHeaders); err != nil {
			return nil, err
		}
		if code != nil {
			c := int(*code)
			a.ResponseCode = &c
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// RetryDelivery makes a delivery due again at now, whatever its state; a
// lease held on it is dropped. Test sends and cancelled deliveries answer
// EConflict. The queue row is locked before the log row, the order
// CompleteAttempts uses.
func (s *Store) RetryDelivery(ctx context.Context, owner hookd.Owner, webhookID, deliveryID int64, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT FROM delivery_queue WHERE delivery_id = $1 FOR UPDATE", deliveryID); err != nil {
			return err
		}
		var state, eventType, errorType string
		var test bool
		var createdAt time.Time
		var attempts, rtSum int64
		err := tx.QueryRow(ctx, `SELECT state, test, created_at, event_type, error_type, attempts, response_time_sum_ms
			FROM deliveries WHERE id = $1 AND webhook_id = $2 FOR UPDATE`,
			deliveryID, webhookID).Scan(&state, &test, &createdAt, &eventType, &errorType, &attempts, &rtSum)
		if err != nil {
			return notFound(err, "delivery")
		}
		if test {
			return hookd.Errorf(hookd.EConflict, "a test send cannot be retried")
		}
		if hookd.DeliveryState(state) == hookd.StateCancelled {
			return hookd.Errorf(hookd.EConflict, "a cancelled delivery cannot be retried")
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE deliveries SET state = 'pending', completed_at = NULL, updated_at = $1 WHERE id = $2`, now, deliveryID)
		b.Queue(`INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at) VALUES ($1, $2, $3)
			ON CONFLICT (delivery_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, lease_token = NULL`,
			deliveryID, webhookID, now)
		var counter string
		switch hookd.DeliveryState(state) {
		case hookd.StateSuccess:
			counter = "success_count"
		case hookd.StateFailed:
			counter = "failure_count"
		}
		if counter != "" {
			b.Queue("UPDATE webhook_counters SET "+counter+" = "+counter+
				" - 1, pending_count = pending_count + 1 WHERE webhook_id = $1", webhookID)
			hour := hourOf(createdAt)
			st := statsDeltas{}
			st.move(statsKey{webhookID, hour, eventType, state, errorType},
				statsKey{webhookID, hour, eventType, string(hookd.StatePending), errorType}, attempts, rtSum, attempts, rtSum)
			b.Queue(addStats, st.args()...)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// RecoverDeliveries makes due again at now every delivery of the webhook
// that failed for good at or after since, and returns how many.
func (s *Store) RecoverDeliveries(ctx context.Context, owner hookd.Owner, webhookID int64, since, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := ownWebhook(ctx, tx, owner, webhookID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `WITH r AS (
				UPDATE deliveries SET state = 'pending', completed_at = NULL, updated_at = $3
				WHERE webhook_id = $1 AND state = 'failed' AND NOT test AND completed_at >= $2
				RETURNING id, created_at, event_type, error_type, attempts, response_time_sum_ms
			), q AS (
				INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at)
				SELECT id, $1, $3 FROM r
				ON CONFLICT (delivery_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, lease_token = NULL
			)
			SELECT created_at, event_type, error_type, attempts, response_time_sum_ms FROM r`, webhookID, since, now)
		if err != nil {
			return err
		}
		st := statsDeltas{}
		var createdAt time.Time
		var eventType, errorType string
		var attempts, rtSum int64
		_, err = pgx.ForEachRow(rows, []any{&createdAt, &eventType, &errorType, &attempts, &rtSum}, func() error {
			n++
			hour := hourOf(createdAt)
			st.move(statsKey{webhookID, hour, eventType, string(hookd.StateFailed), errorType},
				statsKey{webhookID, hour, eventType, string(hookd.StatePending), errorType}, attempts, rtSum, attempts, rtSum)
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE webhook_counters SET failure_count = failure_count - $1,
			pending_count = pending_count + $1 WHERE webhook_id = $2`, n, webhookID)
		b.Queue(addStats, st.args()...)
		return tx.SendBatch(ctx, b).Close()
	})
	return n, err
}

// RecordTestSend stores a test send in two steps (see hookd.LogStore).
// With a == nil it stores the event (kept out of streams and of
// LastPublished) and the delivery, failed with no attempt, and sets ev.Seq
// and d.ID. With a != nil it records the attempt on d.ID and the outcome
// (success, or failed when the attempt has an error type), and sets a.ID.
// Test sends never enter the queue, and counters are never touched.
func (s *Store) RecordTestSend(ctx context.Context, ev *hookd.Event, d *hookd.Delivery, a *hookd.Attempt) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = ev.CreatedAt
	}
	if a == nil {
		return s.reserveTestSend(ctx, ev, d)
	}
	d.RecordTestAttempt(ev, a)
	var code *int32
	if a.ResponseCode != nil {
		c := int32(*a.ResponseCode)
		code = &c
	}
	headers, err := rowcodec.RequestHeaders(a.RequestHeaders)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET state = $1, attempts = 1, response_code = $2,
			response_time_ms = $3, response_time_sum_ms = $3, error_type = $4, updated_at = $5, completed_at = $5
			WHERE id = $6 AND test AND attempts = 0`,
			string(d.State), code, a.ResponseTimeMs, a.ErrorType, d.UpdatedAt, d.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return hookd.Errorf(hookd.EConflict, "test send %d is not waiting for its attempt", d.ID)
		}
		return tx.QueryRow(ctx, `INSERT INTO attempts (delivery_id, number, started_at,
			request_headers, response_code, response_body, response_time_ms, error_type, error_message)
			VALUES ($1, 1, $2, $3::jsonb, $4, $5, $6, $7, $8) RETURNING id`,
			d.ID, a.StartedAt, headers, code, a.ResponseBody, a.ResponseTimeMs,
			a.ErrorType, a.ErrorMessage).Scan(&a.ID)
	})
}

// reserveTestSend is RecordTestSend's first step.
func (s *Store) reserveTestSend(ctx context.Context, ev *hookd.Event, d *hookd.Delivery) error {
	d.State, d.UpdatedAt = hookd.StateFailed, d.CreatedAt
	err := s.pool.QueryRow(ctx, `WITH ev AS (
			INSERT INTO events (id, tenant, publisher, type, version, payload, idempotency_key,
				webhooks_matched, integrations_matched, test, created_at)
			VALUES ($1, $2, $3, $4, $5, $6::json, '', $7, $8, true, $9) RETURNING seq
		), d AS (
			INSERT INTO deliveries (webhook_id, event_seq, event_type, state, attempts, test,
				created_at, updated_at, completed_at)
			SELECT $10, seq, $4, 'failed', 0, true, $11, $11, $11 FROM ev RETURNING id
		)
		SELECT ev.seq, d.id FROM ev, d`,
		ev.ID, ev.Tenant, ev.Publisher, ev.Type, ev.Version, rowcodec.EventPayload(ev.Payload),
		ev.WebhooksMatched, ev.IntegrationsMatched, ev.CreatedAt, d.WebhookID, d.CreatedAt).Scan(&ev.Seq, &d.ID)
	if isUniqueViolation(err, "events_id_key") {
		return hookd.Errorf(hookd.EConflict, "event %s already exists", ev.ID)
	}
	return err
}
