package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// insertOperational stores operational events (docs/api.md §11) inside
// the transaction that recorded the results causing them: each event that
// one of its owner's active webhooks or integrations subscribes to, with
// one pending delivery to each. An event nobody takes is not stored.
// They are stored like test sends (test = 1) as far as the tenant's
// stream goes: they belong to one user, and streams are tenant-wide. It
// returns the new deliveries, for the due queue once committed.
func insertOperational(ctx context.Context, tx *sql.Tx, w *writeStmts, events []hookd.OperationalEvent) ([]createdDelivery, error) {
	if len(events) == 0 {
		return nil, nil
	}
	candidates := map[hookd.Owner][]*hookd.Webhook{}
	var deliveries []any
	pending := map[int64]int64{}
	for _, ev := range events {
		ws, ok := candidates[ev.Owner]
		if !ok {
			var err error
			if ws, err = subscribers(ctx, tx, ev.Owner); err != nil {
				return nil, err
			}
			candidates[ev.Owner] = ws
		}
		to := hookd.OperationalRecipients(ws, ev.Owner, ev.Type)
		if len(to) == 0 {
			continue
		}
		id, err := hookd.NewEventID(ev.At, nil)
		if err != nil {
			return nil, err
		}
		var webhooks, integrations int
		for _, w := range to {
			if w.Kind == "" {
				webhooks++
			} else {
				integrations++
			}
		}
		at := ms(ev.At)
		var seq int64
		err = tx.QueryRowContext(ctx, `INSERT INTO events (id, tenant, publisher, type, version, payload,
			webhooks_matched, integrations_matched, test, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
			RETURNING seq`, id, ev.Owner.Tenant, hookd.OperationalPublisher, ev.Type, hookd.OperationalVersion,
			rowcodec.EventPayload(ev.Data), webhooks, integrations, at).Scan(&seq)
		if err != nil {
			return nil, fmt.Errorf("sqlite: operational event: %w", err)
		}
		for _, w := range to {
			deliveries = append(deliveries, ev.Owner.Tenant, w.ID, seq, ev.Type, at, at, at)
			pending[w.ID]++
		}
	}
	created, err := insertDeliveries(ctx, tx, w, deliveries)
	if err != nil {
		return nil, err
	}
	return created, w.addPendingCounts(ctx, tx, pending)
}

// subscribers returns the owner's active webhooks and integrations with
// their subscriptions only.
func subscribers(ctx context.Context, tx *sql.Tx, owner hookd.Owner) ([]*hookd.Webhook, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, events FROM webhooks
		WHERE tenant = ? AND user_id = ? AND is_active = 1 ORDER BY id`, owner.Tenant, owner.User)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, func(row interface{ Scan(...any) error }) (*hookd.Webhook, error) {
		w := &hookd.Webhook{Owner: owner, IsActive: true}
		var events string
		if err := row.Scan(&w.ID, &w.Kind, &events); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
			return nil, fmt.Errorf("sqlite: webhook %d events: %w", w.ID, err)
		}
		return w, nil
	})
}
