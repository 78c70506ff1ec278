package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hookd"
)

// maxBodyBytes bounds a stored response body.
const maxBodyBytes = 4 << 10

// truncateBody cuts a response body to maxBodyBytes without splitting a
// UTF-8 sequence.
func truncateBody(body string) string {
	if len(body) <= maxBodyBytes {
		return body
	}
	cut := maxBodyBytes
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut]
}

// newLeaseToken returns 16 random bytes in hex.
func newLeaseToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ClaimDeliveries leases up to limit pending deliveries due at now, oldest
// due first, until now+lease. All claims of one call share a lease token.
// While leased, a delivery's next_attempt_at is the lease's end, so an
// abandoned lease makes it due again by itself and NextDue stays exact;
// the returned Delivery.NextAttemptAt is the due time before the claim.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]hookd.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	token, err := newLeaseToken()
	if err != nil {
		return nil, err
	}
	until := now.Add(lease)
	var claims []hookd.Claim
	var seqs []int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		notIn := ""
		args := []any{ms(now), ms(now)}
		if len(exclude) > 0 {
			notIn = " AND webhook_id NOT IN (" + placeholders(len(exclude)) + ")"
			args = append(args, int64Args(exclude)...)
		}
		args = append(args, limit)
		// Deliveries of a switched-off webhook wait, pending, until it is
		// switched on again.
		rows, err := tx.QueryContext(ctx, `SELECT id, tenant, webhook_id, event_seq, event_type, attempts,
			next_attempt_at, created_at, updated_at FROM deliveries
			WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)`+notIn+`
			AND webhook_id NOT IN (SELECT id FROM webhooks WHERE is_active = 0)
			ORDER BY next_attempt_at, id LIMIT ?`, args...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var c hookd.Claim
			var seq, due, createdAt, updatedAt int64
			if err := rows.Scan(&c.Delivery.ID, &c.Delivery.Tenant, &c.Delivery.WebhookID, &seq,
				&c.Delivery.EventType, &c.Delivery.Attempts, &due, &createdAt, &updatedAt); err != nil {
				rows.Close()
				return err
			}
			dueAt := fromMs(due)
			c.Delivery.State = hookd.StatePending
			c.Delivery.NextAttemptAt = &dueAt
			c.Delivery.CreatedAt, c.Delivery.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
			c.LeaseToken, c.LeaseUntil = token, until.UTC().Truncate(time.Millisecond)
			claims = append(claims, c)
			ids = append(ids, c.Delivery.ID)
			seqs = append(seqs, seq)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET lease_token = ?, lease_until = ?, next_attempt_at = ?
			WHERE id IN (`+placeholders(len(ids))+")", append([]any{token, ms(until), ms(until)}, int64Args(ids)...)...)
		return err
	})
	if err != nil || len(claims) == 0 {
		return nil, err
	}
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		return nil, err
	}
	for i := range claims {
		ev, ok := events[seqs[i]]
		if !ok {
			return nil, fmt.Errorf("sqlite: event %d of delivery %d is missing", seqs[i], claims[i].Delivery.ID)
		}
		claims[i].Event = *ev
		claims[i].Delivery.EventID = ev.ID
	}
	return claims, nil
}

// eventsBySeq loads events by their seq.
func (s *Store) eventsBySeq(ctx context.Context, seqs []int64) (map[int64]*hookd.Event, error) {
	unique := make([]int64, 0, len(seqs))
	seen := make(map[int64]bool, len(seqs))
	for _, q := range seqs {
		if !seen[q] {
			seen[q] = true
			unique = append(unique, q)
		}
	}
	out := make(map[int64]*hookd.Event, len(unique))
	for _, part := range chunks(unique, 500) {
		rows, err := s.reader.QueryContext(ctx, "SELECT "+eventColumns+
			" FROM events e WHERE e.seq IN ("+placeholders(len(part))+")", int64Args(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			ev, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[ev.Seq] = ev
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// completion holds the statements CompleteAttempts runs for each result.
type completion struct {
	delivery, attempt, counters *sql.Stmt
}

// close closes the statements.
func (c completion) close() {
	for _, st := range []*sql.Stmt{c.delivery, c.attempt, c.counters} {
		if st != nil {
			st.Close()
		}
	}
}

// prepareCompletion prepares the statements of one CompleteAttempts call.
func prepareCompletion(ctx context.Context, tx *sql.Tx) (completion, error) {
	var c completion
	var err error
	c.delivery, err = tx.PrepareContext(ctx, `UPDATE deliveries SET state = ?, attempts = attempts + 1,
		next_attempt_at = ?, lease_token = NULL, lease_until = NULL, response_code = ?,
		response_time_ms = ?, response_time_sum_ms = response_time_sum_ms + ?, error_type = ?,
		updated_at = ?, completed_at = ?
		WHERE id = ? AND lease_token = ? AND state = 'pending'
		RETURNING webhook_id, attempts, test`)
	if err != nil {
		return c, err
	}
	c.attempt, err = tx.PrepareContext(ctx, `INSERT INTO attempts (delivery_id, number, started_at,
		request_headers, response_code, response_body, response_time_ms, error_type, error_message)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		c.close()
		return c, err
	}
	// SET expressions see the row as it was, so both CASEs compare with
	// the previous last_attempt_at.
	c.counters, err = tx.PrepareContext(ctx, `UPDATE webhook_counters SET
		success_count = success_count + ?1, failure_count = failure_count + ?2,
		pending_count = pending_count - ?1 - ?2,
		response_time_total_ms = response_time_total_ms + ?3, response_samples = response_samples + 1,
		last_response_ms = CASE WHEN last_attempt_at IS NULL OR ?4 >= last_attempt_at THEN ?3 ELSE last_response_ms END,
		last_attempt_at = CASE WHEN last_attempt_at IS NULL OR ?4 >= last_attempt_at THEN ?4 ELSE last_attempt_at END,
		consecutive_failures = CASE WHEN ?1 = 1 THEN 0 WHEN ?2 = 1 THEN consecutive_failures + 1 ELSE consecutive_failures END
		WHERE webhook_id = ?5 RETURNING consecutive_failures`)
	if err != nil {
		c.close()
		return c, err
	}
	return c, nil
}

// CompleteAttempts records attempts in one transaction: the attempt row,
// the delivery's new state (success; pending again at NextAttemptAt; or
// failed for good), the webhook's counters, and auto-disable. A result
// whose lease token is no longer the delivery's is skipped entirely.
func (s *Store) CompleteAttempts(ctx context.Context, results []hookd.AttemptResult, autoDisableAfter int) error {
	if len(results) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		c, err := prepareCompletion(ctx, tx)
		if err != nil {
			return err
		}
		defer c.close()
		for i := range results {
			if err := s.completeOne(ctx, tx, c, &results[i], autoDisableAfter); err != nil {
				return fmt.Errorf("sqlite: complete delivery %d: %w", results[i].DeliveryID, err)
			}
		}
		return nil
	})
}

// completeOne records one result inside CompleteAttempts' transaction.
func (s *Store) completeOne(ctx context.Context, tx *sql.Tx, c completion, r *hookd.AttemptResult, autoDisableAfter int) error {
	a := r.Attempt
	finished := a.StartedAt.Add(time.Duration(a.ResponseTimeMs) * time.Millisecond)
	state, next, completed := hookd.StateSuccess, any(nil), any(ms(finished))
	switch {
	case r.Success:
	case r.NextAttemptAt != nil:
		state, next, completed = hookd.StatePending, ms(*r.NextAttemptAt), nil
	default:
		state = hookd.StateFailed
	}
	var code any
	if a.ResponseCode != nil {
		code = *a.ResponseCode
	}
	var webhookID int64
	var number int
	var test bool
	err := c.delivery.QueryRowContext(ctx, state, next, code, a.ResponseTimeMs, a.ResponseTimeMs,
		a.ErrorType, ms(finished), completed, r.DeliveryID, r.LeaseToken).Scan(&webhookID, &number, &test)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // lease lost: another sender owns the delivery now
	}
	if err != nil {
		return err
	}
	headers := a.RequestHeaders
	if headers == nil {
		headers = map[string]string{}
	}
	hj, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	if err := c.attempt.QueryRowContext(ctx, r.DeliveryID, number, ms(a.StartedAt), string(hj), code,
		truncateBody(a.ResponseBody), a.ResponseTimeMs, a.ErrorType, a.ErrorMessage).Scan(&r.Attempt.ID); err != nil {
		return err
	}
	r.Attempt.DeliveryID, r.Attempt.Number = r.DeliveryID, number
	if test {
		return nil
	}
	succeeded := boolInt(state == hookd.StateSuccess)
	failed := boolInt(state == hookd.StateFailed)
	var consecutive int
	err = c.counters.QueryRowContext(ctx, succeeded, failed, a.ResponseTimeMs, ms(a.StartedAt), webhookID).Scan(&consecutive)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the webhook was deleted meanwhile
	}
	if err != nil {
		return err
	}
	reason := r.DisableWebhook
	if reason == "" && failed == 1 && autoDisableAfter > 0 && consecutive >= autoDisableAfter {
		reason = fmt.Sprintf("disabled after %d consecutive failed deliveries", consecutive)
	}
	if reason != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET is_active = 0, disabled_reason = ?, updated_at = ?
			WHERE id = ? AND is_active = 1`, reason, ms(finished), webhookID); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseClaims frees the leases of claims still held, making their
// deliveries due again when they were due before the claim.
func (s *Store) ReleaseClaims(ctx context.Context, claims []hookd.Claim) error {
	if len(claims) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE deliveries SET lease_token = NULL, lease_until = NULL,
			next_attempt_at = COALESCE(?, next_attempt_at)
			WHERE id = ? AND lease_token = ? AND state = 'pending'`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range claims {
			if _, err := st.ExecContext(ctx, msPtr(c.Delivery.NextAttemptAt), c.Delivery.ID, c.LeaseToken); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleaseAllLeases frees every lease and makes those deliveries due now.
// The embedded store has one process; at its start, any lease left is one
// a crashed process held, and waiting for it to expire would only delay.
func (s *Store) ReleaseAllLeases(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_token = NULL, lease_until = NULL, next_attempt_at = ?
			WHERE state = 'pending' AND lease_token IS NOT NULL`, ms(time.Now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// NextDue returns when the earliest pending delivery is due (for a leased
// one: when its lease ends), or nil when none is pending.
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	var due sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").Scan(&due); err != nil {
		return nil, err
	}
	return fromNullMs(due), nil
}

// QueueDepth counts pending deliveries (leased ones included) and returns
// the due time of the oldest unclaimed one that is due at now.
func (s *Store) QueueDepth(ctx context.Context, now time.Time) (int64, *time.Time, error) {
	var n int64
	var due sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").Scan(&n, &due); err != nil {
		return 0, nil, err
	}
	if !due.Valid || due.Int64 > ms(now) {
		return n, nil, nil
	}
	return n, fromNullMs(due), nil
}
