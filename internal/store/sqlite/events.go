package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `e.seq, e.id, e.tenant, e.publisher, e.type, e.version, e.payload,
	e.idempotency_key, e.created_at, e.webhooks_matched, e.integrations_matched`

// scanEvent reads one row of eventColumns.
func scanEvent(row interface{ Scan(...any) error }) (*hookd.Event, error) {
	var ev hookd.Event
	var payload string
	var createdAt int64
	if err := row.Scan(&ev.Seq, &ev.ID, &ev.Tenant, &ev.Publisher, &ev.Type, &ev.Version, &payload,
		&ev.IdempotencyKey, &createdAt, &ev.WebhooksMatched, &ev.IntegrationsMatched); err != nil {
		return nil, err
	}
	ev.Payload = json.RawMessage(payload)
	ev.CreatedAt = fromMs(createdAt)
	return &ev, nil
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var e *sqlitedrv.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// deliveryRowsPerInsert bounds the rows of one multi-row INSERT (a power
// of two, see multiRow).
const deliveryRowsPerInsert = 64

// PublishEvents stores every event and one pending delivery per webhook
// id in one transaction. Webhook ids that do not exist (any more) or
// belong to another tenant get no delivery. An idempotency key seen within
// hookd.IdempotencyWindow of the event's CreatedAt (also earlier in the
// same batch) makes the request a duplicate of the first event; an older
// key is taken over by the new event. WebhooksMatched is stored as the
// caller set it, or as len(WebhookIDs) when left 0.
//
// Requests with a Lease get their deliveries leased to the caller before
// the commit (leases live in memory, so this costs no write) and returned
// as Claims: no claim can see them unleased.
func (s *Store) PublishEvents(ctx context.Context, reqs []hookd.PublishRequest) ([]hookd.PublishResult, error) {
	results := make([]hookd.PublishResult, len(reqs))
	leasing := false
	for _, r := range reqs {
		leasing = leasing || r.Lease > 0
	}
	var leased []hookd.Claim
	var created []createdDelivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		tenants, err := webhookTenants(ctx, tx, s.w, reqs)
		if err != nil {
			return err
		}
		p := &publication{tx: tx, w: s.w, tenants: tenants, pending: map[int64]int64{},
			reqs: reqs, results: results}
		for i := range reqs {
			if err := p.publish(ctx, i); err != nil {
				return err
			}
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		created, err = insertDeliveries(ctx, tx, s.w, p.deliveries)
		if err != nil {
			return err
		}
		if err := s.w.addPendingCounts(ctx, tx, p.pending); err != nil {
			return err
		}
		if leasing {
			leased, err = s.leaseFresh(reqs, results, created)
		}
		return err
	})
	if err != nil {
		s.dropLeases(leased) // the commit failed: nothing to lease
		return nil, err
	}
	s.queueCreated(created)
	return results, nil
}

// queueCreated puts the deliveries a publish committed in the due queue,
// but those it leased to the publisher (they come back when their lease
// ends or is released).
func (s *Store) queueCreated(created []createdDelivery) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for _, c := range created {
		if _, held := s.leases.held[c.id]; !held {
			s.queue.push(c.webhookID, c.id, c.due)
		}
	}
}

// dropLeases forgets leases of deliveries that were never committed.
func (s *Store) dropLeases(claims []hookd.Claim) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for _, c := range claims {
		s.leases.drop(c.Delivery.ID)
	}
}

// createdDelivery is a delivery row a publish inserted.
type createdDelivery struct{ id, webhookID, eventSeq, due int64 }

// leaseFresh leases the deliveries a publish is about to commit, of the
// requests that asked for a Lease, and sets those results' Claims. It runs
// inside the transaction, so no claim can see these rows unleased.
func (s *Store) leaseFresh(reqs []hookd.PublishRequest, results []hookd.PublishResult, created []createdDelivery) ([]hookd.Claim, error) {
	token, err := newLeaseToken()
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]int, len(reqs)) // event seq -> request index
	for i, r := range results {
		if reqs[i].Lease > 0 && !r.Duplicate {
			bySeq[r.Event.Seq] = i
		}
	}
	var all []hookd.Claim
	b := s.leases
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range created {
		i, ok := bySeq[c.eventSeq]
		if !ok {
			continue
		}
		ev := results[i].Event
		due := ev.CreatedAt
		claim := hookd.Claim{
			Delivery: hookd.Delivery{ID: c.id, Tenant: ev.Tenant, WebhookID: c.webhookID, EventID: ev.ID,
				EventType: ev.Type, State: hookd.StatePending, NextAttemptAt: &due,
				CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt},
			Event: ev, LeaseToken: token,
			LeaseUntil: ev.CreatedAt.Add(reqs[i].Lease).UTC().Truncate(time.Millisecond),
		}
		b.held[c.id] = heldLease{token: token, until: claim.LeaseUntil, due: ms(due), webhookID: c.webhookID}
		results[i].Claims = append(results[i].Claims, claim)
		all = append(all, claim)
	}
	return all, nil
}

// publication is one PublishEvents transaction under way.
type publication struct {
	tx         *sql.Tx
	w          *writeStmts
	tenants    map[int64]string // of the webhooks the batch names
	pending    map[int64]int64  // deliveries queued per webhook
	deliveries []any            // deliveryRowValues values a row, to insert
	reqs       []hookd.PublishRequest
	results    []hookd.PublishResult
	waiting    []int // requests without an idempotency key, not inserted yet
}

// eventRowsPerInsert bounds the events of one multi-row INSERT (a power of
// two, see multiRow).
const eventRowsPerInsert = 64

// eventRowValues is the number of values per events row inserted.
const eventRowValues = 10

// publish stores request i's event and deliveries, or finds the event its
// idempotency key already answers with. Events without a key are
// inserted many at a time (flush); one with a key is inserted at once,
// after the waiting ones, so seq keeps the requests' order.
func (p *publication) publish(ctx context.Context, i int) error {
	ev := p.reqs[i].Event
	if ev.IdempotencyKey != "" {
		if err := p.flush(ctx); err != nil {
			return err
		}
		first, err := recentEvent(ctx, p.tx, p.w, ev)
		if err != nil || first != nil {
			p.results[i] = hookd.PublishResult{Event: deref(first), Duplicate: first != nil}
			return err
		}
	}
	p.waiting = append(p.waiting, i)
	if ev.IdempotencyKey == "" && len(p.waiting) < eventRowsPerInsert {
		return nil
	}
	if err := p.flush(ctx); err != nil || ev.IdempotencyKey == "" {
		return err
	}
	take := p.tx.StmtContext(ctx, p.w.takeIdempotencyKey)
	defer take.Close()
	_, err := take.ExecContext(ctx, ev.Tenant, ev.IdempotencyKey, p.results[i].Event.Seq, ms(ev.CreatedAt))
	return err
}

// eventValues are the values of one events row, in flush's INSERT order.
func eventValues(ev hookd.Event) []any {
	return []any{ev.ID, ev.Tenant, ev.Publisher, ev.Type, ev.Version, rowcodec.EventPayload(ev.Payload),
		ev.IdempotencyKey, ev.WebhooksMatched, ev.IntegrationsMatched, ms(ev.CreatedAt)}
}

// flush inserts the waiting events with one multi-row INSERT and queues
// their deliveries.
func (p *publication) flush(ctx context.Context) error {
	if len(p.waiting) == 0 {
		return nil
	}
	values := make([]any, 0, len(p.waiting)*eventRowValues)
	for _, i := range p.waiting {
		values = append(values, eventValues(p.reqs[i].Event)...)
	}
	seqs := make(map[string]int64, len(p.waiting))
	err := p.w.insertEvents.each(ctx, p.tx, values, func(st *sql.Stmt, values []any) error {
		rows, err := st.QueryContext(ctx, values...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return err
			}
			seqs[id] = seq
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return p.insertError(err)
	}
	for _, i := range p.waiting {
		ev := p.reqs[i].Event
		seq, ok := seqs[ev.ID]
		if !ok {
			return fmt.Errorf("sqlite: event %s was not inserted", ev.ID)
		}
		ev.Seq = seq
		p.stored(i, ev)
	}
	p.waiting = p.waiting[:0]
	return nil
}

// insertError names a clash of event ids (EConflict) in flush's errors.
func (p *publication) insertError(err error) error {
	if !isUniqueViolation(err) {
		return err
	}
	if len(p.waiting) == 1 {
		return hookd.Errorf(hookd.EConflict, "event %s already exists", p.reqs[p.waiting[0]].Event.ID)
	}
	return hookd.Errorf(hookd.EConflict, "an event id of the batch already exists")
}

// stored records request i's event as inserted and queues its deliveries
// to the webhooks of its tenant (each once).
func (p *publication) stored(i int, ev hookd.Event) {
	req := p.reqs[i]
	var targets []int64
	seen := make(map[int64]bool, len(req.WebhookIDs))
	for _, id := range req.WebhookIDs {
		if t, ok := p.tenants[id]; ok && t == ev.Tenant && !seen[id] {
			seen[id] = true
			targets = append(targets, id)
			p.pending[id]++
		}
	}
	at := ms(ev.CreatedAt)
	for _, id := range targets {
		p.deliveries = append(p.deliveries, ev.Tenant, id, ev.Seq, ev.Type, at, at, at)
	}
	p.results[i] = hookd.PublishResult{Event: ev}
}

// deref returns *ev, or the zero Event for nil.
func deref(ev *hookd.Event) hookd.Event {
	if ev == nil {
		return hookd.Event{}
	}
	return *ev
}

// webhookTenants returns the tenant of every existing webhook the
// requests name.
func webhookTenants(ctx context.Context, tx *sql.Tx, w *writeStmts, reqs []hookd.PublishRequest) (map[int64]string, error) {
	seen := make(map[int64]bool)
	var ids []int64
	for _, r := range reqs {
		for _, id := range r.WebhookIDs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	st := tx.StmtContext(ctx, w.webhookTenants)
	defer st.Close()
	rows, err := st.QueryContext(ctx, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var tenant string
		if err := rows.Scan(&id, &tenant); err != nil {
			return nil, err
		}
		out[id] = tenant
	}
	return out, rows.Err()
}

// recentEvent returns the event that took ev's idempotency key within the
// window before ev.CreatedAt, or nil.
func recentEvent(ctx context.Context, tx *sql.Tx, w *writeStmts, ev hookd.Event) (*hookd.Event, error) {
	var keyAt int64
	st := tx.StmtContext(ctx, w.recentEvent)
	defer st.Close()
	row := st.QueryRowContext(ctx, ev.Tenant, ev.IdempotencyKey)
	first, err := scanEvent(scanPrefix{row: row, first: &keyAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ev.CreatedAt.Sub(fromMs(keyAt)) >= hookd.IdempotencyWindow {
		return nil, nil
	}
	return first, nil
}

// scanPrefix scans one extra leading column into first before the
// columns a scan function expects.
type scanPrefix struct {
	row   interface{ Scan(...any) error }
	first any
}

// Scan implements the row interface scan functions take.
func (p scanPrefix) Scan(dest ...any) error {
	return p.row.Scan(append([]any{p.first}, dest...)...)
}

// deliveryRowValues is the number of values per row insertDeliveries takes:
// tenant, webhook_id, event_seq, event_type, next_attempt_at, created_at,
// updated_at.
const deliveryRowValues = 7

// insertDeliveries queues the pending deliveries of a whole publish, with
// multi-row INSERTs of up to deliveryRowsPerInsert rows prepared once
// (multiRow). It reports the rows it made, for the due queue and the
// publisher's leases.
//
// The rows are pending and never attempted; their rollup is written once
// per group (rollupDeltas), not by the insert trigger, once per row.
func insertDeliveries(ctx context.Context, tx *sql.Tx, w *writeStmts, values []any) ([]createdDelivery, error) {
	created := make([]createdDelivery, 0, len(values)/deliveryRowValues)
	var rollup rollupDeltas
	for i := 0; i < len(values); i += deliveryRowValues {
		row := values[i : i+deliveryRowValues]
		webhookID, ok1 := row[1].(int64)
		eventType, ok2 := row[3].(string)
		createdAt, ok3 := row[5].(int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("sqlite: queue deliveries: row %d: want webhook_id, event_type, created_at as int64, string, int64", i/deliveryRowValues)
		}
		rollup.add(statsGroup{webhookID, createdAt / 3600000, eventType, string(hookd.StatePending), ""}, 1, 0, 0)
	}
	if _, err := tx.StmtContext(ctx, w.rollupByWriter).ExecContext(ctx); err != nil {
		return nil, err
	}
	err := w.insertDeliveries.each(ctx, tx, values, func(st *sql.Stmt, values []any) error {
		rows, err := st.QueryContext(ctx, values...)
		if err != nil {
			return fmt.Errorf("sqlite: queue deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c createdDelivery
			if err := rows.Scan(&c.id, &c.webhookID, &c.eventSeq, &c.due); err != nil {
				return err
			}
			created = append(created, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if _, err := tx.StmtContext(ctx, w.rollupByTrigger).ExecContext(ctx); err != nil {
		return nil, err
	}
	return created, rollup.write(ctx, tx, w)
}

// GetEvent returns a tenant's event and its deliveries ordered by id.
func (s *Store) GetEvent(ctx context.Context, tenant, id string) (*hookd.Event, []*hookd.Delivery, error) {
	var ev *hookd.Event
	var ds []*hookd.Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		ev, err = scanEvent(tx.QueryRowContext(ctx, "SELECT "+eventColumns+
			" FROM events e WHERE e.id = ? AND e.tenant = ?", id, tenant))
		if err != nil {
			return notFound(err, "event")
		}
		ds, err = queryDeliveries(ctx, tx, "SELECT "+deliveryColumns+deliveryFrom+
			" WHERE d.event_seq = ? ORDER BY d.id", ev.Seq)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return ev, ds, nil
}

// LastPublished returns when the tenant last published an event type
// (test sends aside), or nil.
func (s *Store) LastPublished(ctx context.Context, tenant, eventType string) (*time.Time, error) {
	var last sql.NullInt64
	err := s.reader.QueryRowContext(ctx, `SELECT MAX(created_at) FROM events
		WHERE tenant = ? AND type = ? AND test = 0`, tenant, eventType).Scan(&last)
	if err != nil {
		return nil, err
	}
	return fromNullMs(last), nil
}

// EventsAfter returns up to limit (100 when limit <= 0) of a tenant's
// published events with Seq > afterSeq, in Seq order. Test sends are not
// part of the stream.
func (s *Store) EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*hookd.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.reader.QueryContext(ctx, "SELECT "+eventColumns+
		" FROM events e WHERE e.tenant = ? AND e.seq > ? AND e.test = 0 ORDER BY e.seq LIMIT ?",
		tenant, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, scanEvent)
}
