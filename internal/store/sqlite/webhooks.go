package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// webhookColumns are the columns scanWebhook reads, in its order.
const webhookColumns = `w.id, w.tenant, w.user_id, w.name, w.description, w.url, w.events,
	w.headers, w.secret, w.previous_secret, w.previous_secret_expires_at, w.is_active,
	w.disabled_reason, w.retry_config, w.filters, w.rate_limit, w.max_concurrency, w.created_at, w.updated_at,
	w.kind, w.config, w.lookup_key, w.auth`

// sealWebhook encodes and seals the columns of w that are not plain
// values; the patterns are stored as a JSON array.
func (s *Store) sealWebhook(w *hookd.Webhook) (rowcodec.Webhook, string, error) {
	r, err := rowcodec.SealWebhook(s.cipher, w)
	if err != nil {
		return r, "", fmt.Errorf("sqlite: %w", err)
	}
	events, err := json.Marshal(r.Events)
	return r, string(events), err
}

// scanWebhook reads one row of webhookColumns and opens its sealed values.
func (s *Store) scanWebhook(row interface{ Scan(...any) error }) (*hookd.Webhook, error) {
	var w hookd.Webhook
	var r rowcodec.Webhook
	var events string
	var prevExpires sql.NullInt64
	var createdAt, updatedAt int64
	err := row.Scan(&w.ID, &w.Owner.Tenant, &w.Owner.User, &w.Name, &w.Description, &r.URL, &events,
		&r.Headers, &r.Secret, &r.PreviousSecret, &prevExpires, &w.IsActive,
		&w.DisabledReason, &r.RetryConfig, &r.Filters, &r.RateLimit, &r.MaxConcurrency, &createdAt, &updatedAt,
		&w.Kind, &r.Config, &w.LookupKey, &r.Auth)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &r.Events); err != nil {
		return nil, fmt.Errorf("sqlite: webhook %d events: %w", w.ID, err)
	}
	if err := r.Open(s.cipher, &w); err != nil {
		return nil, fmt.Errorf("sqlite: webhook %d %w", w.ID, err)
	}
	w.PreviousSecretExpiresAt = fromNullMs(prevExpires)
	w.CreatedAt, w.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
	return &w, nil
}

// CreateWebhook inserts w with empty counters and sets w.ID.
func (s *Store) CreateWebhook(ctx context.Context, w *hookd.Webhook) error {
	defer s.rows.changed() // once committed (or not)
	r, events, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		// Users' webhooks and integrations' rows are numbered apart
		// (hookd.FirstIntegrationRowID), each from its own counter.
		idRange := "webhook"
		if w.Kind != "" {
			idRange = "integration"
		}
		var id int64
		err := tx.QueryRowContext(ctx, "UPDATE webhook_id_ranges SET last_id = last_id + 1 WHERE name = ? RETURNING last_id",
			idRange).Scan(&id)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO webhooks (id, tenant, user_id, name, description, url,
			events, headers, secret, previous_secret, previous_secret_expires_at, is_active,
			disabled_reason, retry_config, filters, rate_limit, max_concurrency, created_at, updated_at, kind, config, lookup_key, auth)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, w.Owner.Tenant, w.Owner.User, w.Name, w.Description, r.URL,
			events, r.Headers, r.Secret, r.PreviousSecret, msPtr(w.PreviousSecretExpiresAt), w.IsActive,
			w.DisabledReason, r.RetryConfig, r.Filters, r.RateLimit, r.MaxConcurrency, ms(w.CreatedAt), ms(w.UpdatedAt),
			w.Kind, r.Config, w.LookupKey, r.Auth,
		).Scan(&w.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO webhook_counters (webhook_id) VALUES (?)", w.ID)
		return err
	})
}

// GetWebhook returns the owner's webhook id.
func (s *Store) GetWebhook(ctx context.Context, owner hookd.Owner, id int64) (*hookd.Webhook, error) {
	row := s.reader.QueryRowContext(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.id = ? AND w.tenant = ? AND w.user_id = ?", id, owner.Tenant, owner.User)
	w, err := s.scanWebhook(row)
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return w, nil
}

// UpdateWebhook replaces the stored webhook w.ID of w.Owner with w (its
// CreatedAt stays, and is copied into w). A webhook switched from inactive
// to active starts again with no consecutive failures.
func (s *Store) UpdateWebhook(ctx context.Context, w *hookd.Webhook) error {
	defer s.rows.changed() // once committed (or not)
	r, events, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var wasActive bool
		var createdAt int64
		err := tx.QueryRowContext(ctx, "SELECT is_active, created_at FROM webhooks WHERE id = ? AND tenant = ? AND user_id = ?",
			w.ID, w.Owner.Tenant, w.Owner.User).Scan(&wasActive, &createdAt)
		if err != nil {
			return notFound(err, "webhook")
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET name = ?, description = ?, url = ?, events = ?,
			headers = ?, secret = ?, previous_secret = ?, previous_secret_expires_at = ?, is_active = ?,
			disabled_reason = ?, retry_config = ?, filters = ?, rate_limit = ?, updated_at = ?,
			config = ?, lookup_key = ?, auth = ?, max_concurrency = ?
			WHERE id = ?`,
			w.Name, w.Description, r.URL, events, r.Headers, r.Secret, r.PreviousSecret,
			msPtr(w.PreviousSecretExpiresAt), w.IsActive, w.DisabledReason, r.RetryConfig, r.Filters,
			r.RateLimit, ms(w.UpdatedAt), r.Config, w.LookupKey, r.Auth, r.MaxConcurrency, w.ID)
		if err != nil {
			return err
		}
		if !wasActive && w.IsActive {
			if _, err := tx.ExecContext(ctx, "UPDATE webhook_counters SET consecutive_failures = 0 WHERE webhook_id = ?", w.ID); err != nil {
				return err
			}
		}
		w.CreatedAt = fromMs(createdAt)
		return nil
	})
	if err == nil && w.IsActive { // its deliveries may be claimed again
		s.leases.mu.Lock()
		s.queue.unpark(w.ID)
		s.leases.mu.Unlock()
	}
	return err
}

// DeleteWebhook removes the owner's webhook and its counters, and cancels
// its pending deliveries so they are never claimed. Its finished
// deliveries stay until pruned.
func (s *Store) DeleteWebhook(ctx context.Context, owner hookd.Owner, id int64) error {
	defer s.rows.changed() // once committed (or not)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ? AND tenant = ? AND user_id = ?",
			id, owner.Tenant, owner.User)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hookd.Errorf(hookd.ENotFound, "webhook not found")
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'cancelled', lease_token = NULL,
			lease_until = NULL, next_attempt_at = NULL WHERE webhook_id = ? AND state = 'pending'`, id)
		return err
	})
	if err == nil { // its cancelled deliveries leave the due queue at once
		s.leases.mu.Lock()
		s.queue.drop(id)
		s.leases.mu.Unlock()
	}
	return err
}

// ListWebhooks returns one page of the owner's webhooks ordered by id and
// the number of all matches. A Limit of 0 or less means no limit. Event
// selects the webhooks whose subscriptions cover it or that list it as
// one of their patterns.
func (s *Store) ListWebhooks(ctx context.Context, owner hookd.Owner, q hookd.WebhookQuery) ([]*hookd.Webhook, int64, error) {
	where := " FROM webhooks w WHERE w.tenant = ? AND w.user_id = ? AND w.kind = ?"
	args := []any{owner.Tenant, owner.User, q.Kind}
	if q.Active != nil {
		where += " AND w.is_active = ?"
		args = append(args, *q.Active)
	}
	if q.Event == "" {
		var out []*hookd.Webhook
		var total int64
		err := s.read(ctx, func(tx *sql.Tx) error {
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*)"+where, args...).Scan(&total); err != nil {
				return err
			}
			limit := q.Limit
			if limit <= 0 {
				limit = -1
			}
			var err error
			out, err = s.queryWebhooks(ctx, tx, "SELECT "+webhookColumns+where+" ORDER BY w.id LIMIT ? OFFSET ?",
				append(args, limit, max(q.Offset, 0))...)
			return err
		})
		return out, total, err
	}
	all, err := s.queryWebhooks(ctx, s.reader, "SELECT "+webhookColumns+where+" ORDER BY w.id", args...)
	if err != nil {
		return nil, 0, err
	}
	var matched []*hookd.Webhook
	for _, w := range all {
		if subscribes(w.Events, q.Event) {
			matched = append(matched, w)
		}
	}
	total := int64(len(matched))
	lo := min(max(q.Offset, 0), len(matched))
	hi := len(matched)
	if q.Limit > 0 {
		hi = min(lo+q.Limit, hi)
	}
	return matched[lo:hi], total, nil
}

// subscribes reports whether patterns cover event or name it as a pattern.
func subscribes(patterns []string, event string) bool {
	if hookd.SubscribesTo(patterns, event) {
		return true
	}
	for _, p := range patterns {
		if p == event {
			return true
		}
	}
	return false
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryWebhooks runs a query selecting webhookColumns.
func (s *Store) queryWebhooks(ctx context.Context, q querier, query string, args ...any) ([]*hookd.Webhook, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, s.scanWebhook)
}

// ActiveWebhooks returns every active webhook of a tenant, ordered by id.
func (s *Store) ActiveWebhooks(ctx context.Context, tenant string) ([]*hookd.Webhook, error) {
	return s.queryWebhooks(ctx, s.reader, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.tenant = ? AND w.is_active = 1 ORDER BY w.id", tenant)
}

// LookupWebhooks returns the webhooks with these ids, whoever owns them.
func (s *Store) LookupWebhooks(ctx context.Context, ids []int64) (map[int64]*hookd.Webhook, error) {
	out := make(map[int64]*hookd.Webhook, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	st, err := s.readStmt(ctx, "SELECT "+webhookColumns+" FROM webhooks w WHERE w.id IN (SELECT value FROM json_each(?))")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	ws, err := scanRows(rows, s.scanWebhook)
	for _, w := range ws {
		out[w.ID] = w
	}
	return out, err
}

// FindWebhookByLookupKey returns the webhook of kind with that lookup key.
func (s *Store) FindWebhookByLookupKey(ctx context.Context, kind, key string) (*hookd.Webhook, error) {
	if key == "" {
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	w, err := s.scanWebhook(s.reader.QueryRowContext(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.kind = ? AND w.lookup_key = ? ORDER BY w.id LIMIT 1", kind, key))
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return w, nil
}

// SummarizeWebhooks summarizes all of the owner's webhooks from their
// counters.
func (s *Store) SummarizeWebhooks(ctx context.Context, owner hookd.Owner) (hookd.WebhookSummary, error) {
	var sum hookd.WebhookSummary
	rows, err := s.reader.QueryContext(ctx, `SELECT w.is_active, COALESCE(c.success_count, 0),
		COALESCE(c.failure_count, 0), COALESCE(c.pending_count, 0)
		FROM webhooks w LEFT JOIN webhook_counters c ON c.webhook_id = w.id
		WHERE w.tenant = ? AND w.user_id = ? AND w.kind = ''`, owner.Tenant, owner.User)
	if err != nil {
		return sum, err
	}
	defer rows.Close()
	var counts []hookd.WebhookCounts
	for rows.Next() {
		var c hookd.WebhookCounts
		if err := rows.Scan(&c.Active, &c.Successful, &c.Failed, &c.Pending); err != nil {
			return sum, err
		}
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return sum, err
	}
	return hookd.SummarizeCounts(counts), nil
}

// WebhookStats returns the counters of the given webhooks; webhooks that
// never had a delivery are absent from the map.
func (s *Store) WebhookStats(ctx context.Context, ids []int64) (map[int64]hookd.WebhookStats, error) {
	out := make(map[int64]hookd.WebhookStats, len(ids))
	for _, part := range chunks(ids, 500) {
		rows, err := s.reader.QueryContext(ctx, `SELECT webhook_id, success_count, failure_count,
			pending_count, response_time_total_ms, response_samples, last_response_ms,
			last_attempt_at, consecutive_failures FROM webhook_counters
			WHERE webhook_id IN (`+placeholders(len(part))+`)
			AND success_count + failure_count + pending_count + response_samples > 0`, int64Args(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, total, samples int64
			var st hookd.WebhookStats
			var last, lastAt sql.NullInt64
			if err := rows.Scan(&id, &st.SuccessCount, &st.FailureCount, &st.PendingCount, &total,
				&samples, &last, &lastAt, &st.ConsecutiveFailure); err != nil {
				rows.Close()
				return nil, err
			}
			if samples > 0 {
				st.AvgResponseTime = float64(total) / float64(samples)
			}
			if last.Valid {
				v := last.Int64
				st.LastResponseTime = &v
			}
			st.LastTriggered = fromNullMs(lastAt)
			out[id] = st
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
