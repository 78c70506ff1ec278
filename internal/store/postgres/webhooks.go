package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// webhookColumns are the columns scanWebhook reads, in its order.
const webhookColumns = `w.id, w.tenant, w.user_id, w.name, w.description, w.url, w.events,
	w.headers, w.secret, w.previous_secret, w.previous_secret_expires_at, w.is_active,
	w.disabled_reason, w.retry_config, w.filters, w.rate_limit, w.max_concurrency, w.created_at, w.updated_at,
	w.kind, w.config, w.lookup_key, w.auth`

// sealWebhook encodes and seals the columns of w that are not plain values.
func (s *Store) sealWebhook(w *hookd.Webhook) (rowcodec.Webhook, error) {
	r, err := rowcodec.SealWebhook(s.currentCipher(), w)
	if err != nil {
		return r, fmt.Errorf("postgres: %w", err)
	}
	return r, nil
}

// scanWebhook reads one row of webhookColumns and opens its sealed values.
func (s *Store) scanWebhook(row pgx.Row) (*hookd.Webhook, error) {
	var w hookd.Webhook
	var r rowcodec.Webhook
	err := row.Scan(&w.ID, &w.Owner.Tenant, &w.Owner.User, &w.Name, &w.Description, &r.URL, &r.Events,
		&r.Headers, &r.Secret, &r.PreviousSecret, &w.PreviousSecretExpiresAt, &w.IsActive,
		&w.DisabledReason, &r.RetryConfig, &r.Filters, &r.RateLimit, &r.MaxConcurrency, &w.CreatedAt, &w.UpdatedAt,
		&w.Kind, &r.Config, &w.LookupKey, &r.Auth)
	if err != nil {
		return nil, err
	}
	if err := r.Open(s.currentCipher(), &w); err != nil {
		return nil, fmt.Errorf("postgres: webhook %d %w", w.ID, err)
	}
	w.PreviousSecretExpiresAt = utcPtr(w.PreviousSecretExpiresAt)
	w.CreatedAt, w.UpdatedAt = utc(w.CreatedAt), utc(w.UpdatedAt)
	return &w, nil
}

// queryWebhooks runs a query selecting webhookColumns.
func (s *Store) queryWebhooks(ctx context.Context, q querier, sql string, args ...any) ([]*hookd.Webhook, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, s.scanWebhook)
}

// CreateWebhook inserts w with empty counters and sets w.ID.
func (s *Store) CreateWebhook(ctx context.Context, w *hookd.Webhook) error {
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// Users' webhooks and integrations' rows are numbered apart
		// (hookd.FirstIntegrationRowID), each from its own sequence.
		err := tx.QueryRow(ctx, `INSERT INTO webhooks (id, tenant, user_id, name, description, url,
			events, headers, secret, previous_secret, previous_secret_expires_at, is_active,
			disabled_reason, retry_config, filters, rate_limit, max_concurrency, created_at, updated_at, kind, config, lookup_key, auth)
			VALUES (CASE WHEN $19 = '' THEN nextval('webhooks_id_seq') ELSE nextval('webhooks_integration_id_seq') END,
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::json, $15, $16, $17, $18, $19, $20, $21, $22)
			RETURNING id`,
			w.Owner.Tenant, w.Owner.User, w.Name, w.Description, r.URL,
			r.Events, r.Headers, r.Secret, r.PreviousSecret, w.PreviousSecretExpiresAt, w.IsActive,
			w.DisabledReason, r.RetryConfig, r.Filters, r.RateLimit, r.MaxConcurrency, w.CreatedAt, w.UpdatedAt,
			w.Kind, r.Config, w.LookupKey, r.Auth,
		).Scan(&w.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO webhook_counters (webhook_id) VALUES ($1)", w.ID)
		return err
	})
}

// GetWebhook returns the owner's webhook id.
func (s *Store) GetWebhook(ctx context.Context, owner hookd.Owner, id int64) (*hookd.Webhook, error) {
	w, err := s.scanWebhook(s.pool.QueryRow(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.id = $1 AND w.tenant = $2 AND w.user_id = $3", id, owner.Tenant, owner.User))
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return w, nil
}

// UpdateWebhook replaces the stored webhook w.ID of w.Owner with w (its
// CreatedAt stays, and is copied into w). A webhook switched from inactive
// to active starts again with no consecutive failures. Locks are taken
// counters first, then the webhook, the order CompleteAttempts uses.
func (s *Store) UpdateWebhook(ctx context.Context, w *hookd.Webhook) error {
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT FROM webhook_counters WHERE webhook_id = $1 FOR UPDATE", w.ID); err != nil {
			return err
		}
		var wasActive bool
		var createdAt time.Time
		err := tx.QueryRow(ctx, "SELECT is_active, created_at FROM webhooks WHERE id = $1 AND tenant = $2 AND user_id = $3 FOR UPDATE",
			w.ID, w.Owner.Tenant, w.Owner.User).Scan(&wasActive, &createdAt)
		if err != nil {
			return notFound(err, "webhook")
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET name = $1, description = $2, url = $3, events = $4,
			headers = $5, secret = $6, previous_secret = $7, previous_secret_expires_at = $8, is_active = $9,
			disabled_reason = $10, retry_config = $11, filters = $12::json, rate_limit = $13, updated_at = $14,
			config = $15, lookup_key = $16, auth = $17, max_concurrency = $19
			WHERE id = $18`,
			w.Name, w.Description, r.URL, r.Events, r.Headers, r.Secret, r.PreviousSecret,
			w.PreviousSecretExpiresAt, w.IsActive, w.DisabledReason, r.RetryConfig, r.Filters,
			r.RateLimit, w.UpdatedAt, r.Config, w.LookupKey, r.Auth, w.ID, r.MaxConcurrency)
		if err != nil {
			return err
		}
		if !wasActive && w.IsActive {
			if _, err := tx.Exec(ctx, "UPDATE webhook_counters SET consecutive_failures = 0 WHERE webhook_id = $1", w.ID); err != nil {
				return err
			}
		}
		w.CreatedAt = utc(createdAt)
		return nil
	})
}

// DeleteWebhook removes the owner's webhook and its counters, and cancels
// its pending deliveries so they are never claimed. Its finished
// deliveries stay until pruned; its delivery_stats rows go (stats are only
// ever asked of an existing webhook). The webhook row is locked first, which
// waits for publishers queueing to it (they hold a key-share lock), so no
// delivery is queued for it after it is gone.
func (s *Store) DeleteWebhook(ctx context.Context, owner hookd.Owner, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM webhooks WHERE id = $1 AND tenant = $2 AND user_id = $3 FOR UPDATE",
			id, owner.Tenant, owner.User).Scan(&one)
		if err != nil {
			return notFound(err, "webhook")
		}
		_, err = tx.Exec(ctx, `WITH q AS (
				DELETE FROM delivery_queue WHERE delivery_id = ANY(ARRAY(
					SELECT id FROM deliveries WHERE webhook_id = $1 AND state = 'pending'))
				RETURNING delivery_id)
			UPDATE deliveries SET state = 'cancelled' WHERE webhook_id = $1 AND state = 'pending'`, id)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue("SELECT FROM webhook_counters WHERE webhook_id = $1 FOR UPDATE", id)
		b.Queue("DELETE FROM delivery_stats WHERE webhook_id = $1", id)
		b.Queue("DELETE FROM webhooks WHERE id = $1", id)
		return tx.SendBatch(ctx, b).Close()
	})
}

// eventMatch is the SQL condition (on w.events, with the event name as
// $1) that hookd.MatchesPattern expresses, plus a pattern named exactly;
// "*" leaves out the operational events.
const eventMatch = `EXISTS (SELECT 1 FROM unnest(w.events) p WHERE (p = '*' AND $1 <> ALL(ARRAY['` +
	"webhook.failing', 'webhook.recovered', 'webhook.disabled', 'delivery.exhausted', 'integration.failing" + `'])) OR p = $1
	OR (length(p) > 2 AND right(p, 2) = '.*' AND length($1) > length(p) - 1
		AND left($1, length(p) - 1) = left(p, length(p) - 1)))`

// ListWebhooks returns one page of the owner's webhooks ordered by id and
// the number of all matches. A Limit of 0 or less means no limit. Event
// selects the webhooks whose subscriptions cover it or that list it as
// one of their patterns.
func (s *Store) ListWebhooks(ctx context.Context, owner hookd.Owner, q hookd.WebhookQuery) ([]*hookd.Webhook, int64, error) {
	where := " FROM webhooks w WHERE " + eventMatch + " AND w.tenant = $2 AND w.user_id = $3 AND w.kind = $4"
	args := []any{q.Event, owner.Tenant, owner.User, q.Kind}
	if q.Event == "" {
		where = " FROM webhooks w WHERE $1 = '' AND w.tenant = $2 AND w.user_id = $3 AND w.kind = $4"
	}
	if q.Active != nil {
		where += " AND w.is_active = $5"
		args = append(args, *q.Active)
	}
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	var out []*hookd.Webhook
	var total int64
	err := s.snapshot(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT count(*)"+where, args...).Scan(&total); err != nil {
			return err
		}
		n := len(args)
		var err error
		out, err = s.queryWebhooks(ctx, tx, "SELECT "+webhookColumns+where+
			fmt.Sprintf(" ORDER BY w.id LIMIT $%d OFFSET $%d", n+1, n+2), append(args, limit, max(q.Offset, 0))...)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// ActiveWebhooks returns every active webhook of a tenant, ordered by id.
func (s *Store) ActiveWebhooks(ctx context.Context, tenant string) ([]*hookd.Webhook, error) {
	return s.queryWebhooks(ctx, s.pool, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.tenant = $1 AND w.is_active ORDER BY w.id", tenant)
}

// LookupWebhooks returns the webhooks with these ids, whoever owns them.
func (s *Store) LookupWebhooks(ctx context.Context, ids []int64) (map[int64]*hookd.Webhook, error) {
	out := make(map[int64]*hookd.Webhook, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ws, err := s.queryWebhooks(ctx, s.pool, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.id = ANY($1)", uniqueIDs(ids))
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		out[w.ID] = w
	}
	return out, nil
}

// FindWebhookByLookupKey returns the webhook of kind with that lookup key.
func (s *Store) FindWebhookByLookupKey(ctx context.Context, kind, key string) (*hookd.Webhook, error) {
	if key == "" {
		return nil, hookd.Errorf(hookd.ENotFound, "webhook not found")
	}
	w, err := s.scanWebhook(s.pool.QueryRow(ctx, "SELECT "+webhookColumns+
		" FROM webhooks w WHERE w.kind = $1 AND w.lookup_key = $2 ORDER BY w.id LIMIT 1", kind, key))
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return w, nil
}

// SummarizeWebhooks summarizes all of the owner's webhooks from their
// counters.
func (s *Store) SummarizeWebhooks(ctx context.Context, owner hookd.Owner) (hookd.WebhookSummary, error) {
	var sum hookd.WebhookSummary
	rows, err := s.pool.Query(ctx, `SELECT w.is_active, COALESCE(c.success_count, 0),
		COALESCE(c.failure_count, 0), COALESCE(c.pending_count, 0)
		FROM webhooks w LEFT JOIN webhook_counters c ON c.webhook_id = w.id
		WHERE w.tenant = $1 AND w.user_id = $2 AND w.kind = ''`, owner.Tenant, owner.User)
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
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT webhook_id, success_count, failure_count,
		pending_count, response_time_total_ms, response_samples, last_response_ms,
		last_attempt_at, consecutive_failures FROM webhook_counters
		WHERE webhook_id = ANY($1)
		AND success_count + failure_count + pending_count + response_samples > 0`, uniqueIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, total, samples int64
		var st hookd.WebhookStats
		if err := rows.Scan(&id, &st.SuccessCount, &st.FailureCount, &st.PendingCount, &total,
			&samples, &st.LastResponseTime, &st.LastTriggered, &st.ConsecutiveFailure); err != nil {
			return nil, err
		}
		if samples > 0 {
			st.AvgResponseTime = float64(total) / float64(samples)
		}
		st.LastTriggered = utcPtr(st.LastTriggered)
		out[id] = st
	}
	return out, rows.Err()
}
