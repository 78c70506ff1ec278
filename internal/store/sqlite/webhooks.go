package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
)

// webhookColumns are the columns scanWebhook reads, in its order.
const webhookColumns = `w.id, w.tenant, w.user_id, w.name, w.description, w.url, w.events,
	w.headers, w.secret, w.previous_secret, w.previous_secret_expires_at, w.is_active,
	w.disabled_reason, w.retry_config, w.filters, w.rate_limit, w.created_at, w.updated_at,
	w.kind, w.config, w.lookup_key`

// webhookRow is a webhook's stored form: JSON and sealed columns.
type webhookRow struct {
	events, headers, secret string
	previousSecret          sql.NullString
	retryConfig, filters    string
	rateLimit               sql.NullInt64
	config                  sql.NullString
}

// sealWebhook encodes and seals the columns of w that are not plain values.
func (s *Store) sealWebhook(w *hookd.Webhook) (webhookRow, error) {
	var r webhookRow
	events := w.Events
	if events == nil {
		events = []string{}
	}
	b, err := json.Marshal(events)
	if err != nil {
		return r, err
	}
	r.events = string(b)
	headers := w.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	if b, err = json.Marshal(headers); err != nil {
		return r, err
	}
	if r.headers, err = s.cipher.Seal(b); err != nil {
		return r, fmt.Errorf("sqlite: seal headers: %w", err)
	}
	if r.secret, err = s.cipher.Seal([]byte(w.Secret)); err != nil {
		return r, fmt.Errorf("sqlite: seal secret: %w", err)
	}
	if w.PreviousSecret != "" {
		sealed, err := s.cipher.Seal([]byte(w.PreviousSecret))
		if err != nil {
			return r, fmt.Errorf("sqlite: seal previous secret: %w", err)
		}
		r.previousSecret = sql.NullString{String: sealed, Valid: true}
	}
	if b, err = json.Marshal(w.RetryConfig); err != nil {
		return r, err
	}
	r.retryConfig = string(b)
	r.filters = "{}"
	if len(w.Filters) > 0 {
		if !json.Valid(w.Filters) {
			return r, fmt.Errorf("sqlite: webhook filters are not JSON")
		}
		r.filters = string(w.Filters)
	}
	if w.RateLimit != nil {
		r.rateLimit = sql.NullInt64{Int64: int64(*w.RateLimit), Valid: true}
	}
	if len(w.Config) > 0 {
		sealed, err := s.cipher.Seal(w.Config)
		if err != nil {
			return r, fmt.Errorf("sqlite: seal config: %w", err)
		}
		r.config = sql.NullString{String: sealed, Valid: true}
	}
	return r, nil
}

// open decodes and opens the stored columns into w.
func (r webhookRow) open(c hookd.Cipher, w *hookd.Webhook) error {
	if err := json.Unmarshal([]byte(r.events), &w.Events); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	plain, err := c.Open(r.headers)
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	if err := json.Unmarshal(plain, &w.Headers); err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	if plain, err = c.Open(r.secret); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	w.Secret = string(plain)
	if r.previousSecret.Valid {
		if plain, err = c.Open(r.previousSecret.String); err != nil {
			return fmt.Errorf("previous secret: %w", err)
		}
		w.PreviousSecret = string(plain)
	}
	if err := json.Unmarshal([]byte(r.retryConfig), &w.RetryConfig); err != nil {
		return fmt.Errorf("retry_config: %w", err)
	}
	w.Filters = json.RawMessage(r.filters)
	if r.rateLimit.Valid {
		n := int(r.rateLimit.Int64)
		w.RateLimit = &n
	}
	if r.config.Valid {
		if plain, err = c.Open(r.config.String); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		w.Config = plain
	}
	return nil
}

// scanWebhook reads one row of webhookColumns and opens its sealed values.
func (s *Store) scanWebhook(row interface{ Scan(...any) error }) (*hookd.Webhook, error) {
	var w hookd.Webhook
	var r webhookRow
	var prevExpires sql.NullInt64
	var createdAt, updatedAt int64
	err := row.Scan(&w.ID, &w.Owner.Tenant, &w.Owner.User, &w.Name, &w.Description, &w.URL, &r.events,
		&r.headers, &r.secret, &r.previousSecret, &prevExpires, &w.IsActive,
		&w.DisabledReason, &r.retryConfig, &r.filters, &r.rateLimit, &createdAt, &updatedAt,
		&w.Kind, &r.config, &w.LookupKey)
	if err != nil {
		return nil, err
	}
	if err := r.open(s.cipher, &w); err != nil {
		return nil, fmt.Errorf("sqlite: webhook %d %w", w.ID, err)
	}
	w.PreviousSecretExpiresAt = fromNullMs(prevExpires)
	w.CreatedAt, w.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
	return &w, nil
}

// CreateWebhook inserts w with empty counters and sets w.ID.
func (s *Store) CreateWebhook(ctx context.Context, w *hookd.Webhook) error {
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO webhooks (tenant, user_id, name, description, url,
			events, headers, secret, previous_secret, previous_secret_expires_at, is_active,
			disabled_reason, retry_config, filters, rate_limit, created_at, updated_at, kind, config, lookup_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			w.Owner.Tenant, w.Owner.User, w.Name, w.Description, w.URL,
			r.events, r.headers, r.secret, r.previousSecret, msPtr(w.PreviousSecretExpiresAt), w.IsActive,
			w.DisabledReason, r.retryConfig, r.filters, r.rateLimit, ms(w.CreatedAt), ms(w.UpdatedAt),
			w.Kind, r.config, w.LookupKey,
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
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
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
			config = ?, lookup_key = ?
			WHERE id = ?`,
			w.Name, w.Description, w.URL, r.events, r.headers, r.secret, r.previousSecret,
			msPtr(w.PreviousSecretExpiresAt), w.IsActive, w.DisabledReason, r.retryConfig, r.filters,
			r.rateLimit, ms(w.UpdatedAt), r.config, w.LookupKey, w.ID)
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
}

// DeleteWebhook removes the owner's webhook and its counters, and cancels
// its pending deliveries so they are never claimed. Its finished
// deliveries stay until pruned.
func (s *Store) DeleteWebhook(ctx context.Context, owner hookd.Owner, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
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
