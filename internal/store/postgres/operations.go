package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// operationalInsert stores operational events with their pending
// deliveries, queue rows and pending stats. The events are test = true as
// far as the tenant's stream goes: they belong to one user, and streams
// are tenant-wide; so no publish lock and no notification.
const operationalInsert = `WITH ev AS (
		INSERT INTO events (id, tenant, publisher, type, version, payload,
			webhooks_matched, integrations_matched, test, created_at)
		SELECT id, tenant, $3, type, $4, payload::json, wm, im, true, at
		FROM unnest($1::text[], $2::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::timestamptz[])
			WITH ORDINALITY AS r(id, tenant, type, payload, wm, im, at, ord)
		ORDER BY ord
		RETURNING seq, id, type, created_at
	), d AS (
		INSERT INTO deliveries (webhook_id, event_seq, event_type, state, created_at, updated_at)
		SELECT t.webhook_id, ev.seq, ev.type, 'pending', ev.created_at, ev.created_at
		FROM unnest($10::text[], $11::bigint[]) WITH ORDINALITY AS t(event_id, webhook_id, ord)
		JOIN ev ON ev.id = t.event_id
		ORDER BY t.ord
		RETURNING id, webhook_id, created_at, event_type
	), q AS (
		INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at)
		SELECT id, webhook_id, created_at FROM d
	)
	INSERT INTO delivery_stats AS s (webhook_id, hour, event_type, state, error_type,
		deliveries, attempts, attempted, response_time_sum_ms)
	SELECT webhook_id, ` + "date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00')" + `, event_type,
		'pending', '', count(*), 0, 0, 0
	FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
	ON CONFLICT (webhook_id, hour, event_type, state, error_type)
	DO UPDATE SET deliveries = s.deliveries + excluded.deliveries`

// insertOperational stores operational events (docs/api.md §11) inside
// the transaction that recorded the results causing them: each event that
// one of its owner's active webhooks or integrations subscribes to, with
// one pending delivery to each. An event nobody takes is not stored.
// The recipients' counters are locked (addPending) before their stats
// rows are written, as every writer of delivery_stats does.
func insertOperational(ctx context.Context, tx batcher, events []hookd.OperationalEvent) error {
	if len(events) == 0 {
		return nil
	}
	candidates := map[hookd.Owner][]*hookd.Webhook{}
	var ids, tenants, types, payloads, deliveryEvents []string
	var wm, im []int32
	var at []time.Time
	var deliveryHooks []int64
	pending := map[int64]int64{}
	for _, ev := range events {
		ws, ok := candidates[ev.Owner]
		if !ok {
			var err error
			if ws, err = subscribers(ctx, tx, ev.Owner); err != nil {
				return err
			}
			candidates[ev.Owner] = ws
		}
		to := hookd.OperationalRecipients(ws, ev.Owner, ev.Type)
		if len(to) == 0 {
			continue
		}
		id, err := hookd.NewEventID(ev.At, nil)
		if err != nil {
			return err
		}
		var webhooks, integrations int32
		for _, w := range to {
			if w.Kind == "" {
				webhooks++
			} else {
				integrations++
			}
			deliveryEvents, deliveryHooks = append(deliveryEvents, id), append(deliveryHooks, w.ID)
			pending[w.ID]++
		}
		ids, tenants, types = append(ids, id), append(tenants, ev.Owner.Tenant), append(types, ev.Type)
		payloads, at = append(payloads, rowcodec.EventPayload(ev.Data)), append(at, ev.At)
		wm, im = append(wm, webhooks), append(im, integrations)
	}
	if len(ids) == 0 {
		return nil
	}
	hooks := uniqueIDs(deliveryHooks)
	counts := make([]int64, len(hooks))
	for j, id := range hooks {
		counts[j] = pending[id]
	}
	b := &pgx.Batch{}
	b.Queue(addPending, hooks, counts)
	b.Queue(operationalInsert, ids, tenants, hookd.OperationalPublisher, hookd.OperationalVersion,
		types, payloads, wm, im, at, deliveryEvents, deliveryHooks)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: operational events: %w", err)
	}
	return nil
}

// subscribers returns the owner's active webhooks and integrations with
// their subscriptions only.
func subscribers(ctx context.Context, tx batcher, owner hookd.Owner) ([]*hookd.Webhook, error) {
	rows, err := tx.Query(ctx, `SELECT id, kind, events FROM webhooks
		WHERE tenant = $1 AND user_id = $2 AND is_active ORDER BY id`, owner.Tenant, owner.User)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row pgx.Row) (*hookd.Webhook, error) {
		w := &hookd.Webhook{Owner: owner, IsActive: true}
		return w, row.Scan(&w.ID, &w.Kind, &w.Events)
	})
}
