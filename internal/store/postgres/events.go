package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `e.seq, e.id, e.tenant, e.publisher, e.type, e.version, e.payload,
	e.idempotency_key, e.created_at, e.webhooks_matched, e.integrations_matched`

// scanEvent reads one row of eventColumns, after the extra leading
// destinations given.
func scanEvent(row pgx.Row, lead ...any) (*hookd.Event, error) {
	var ev hookd.Event
	var payload []byte
	dest := append(lead, &ev.Seq, &ev.ID, &ev.Tenant, &ev.Publisher, &ev.Type, &ev.Version, &payload,
		&ev.IdempotencyKey, &ev.CreatedAt, &ev.WebhooksMatched, &ev.IntegrationsMatched)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	ev.Payload = json.RawMessage(payload)
	ev.CreatedAt = utc(ev.CreatedAt)
	return &ev, nil
}

// tenantKey is an idempotency key in its tenant.
type tenantKey struct{ tenant, key string }

// keyHolder is the event an idempotency key answers with: one stored
// before (event) or one earlier in the batch (index).
type keyHolder struct {
	at    time.Time
	event *hookd.Event
	index int
}

// publication is one PublishEvents transaction under way.
type publication struct {
	reqs     []hookd.PublishRequest
	results  []hookd.PublishResult
	tenants  map[int64]string // of the webhooks the batch names
	keys     map[tenantKey]keyHolder
	existing map[string]bool // event ids already stored
	dupOf    map[int]int     // request index → index of the batch request it repeats
	fresh    []int           // indexes of the requests to store
	targets  [][]int64       // webhooks to queue for, per request
	// lockLater are the tenants whose publish locks write takes, when
	// lookUp did not need them.
	lockLater []string
}

// PublishEvents stores every event and one pending delivery per webhook
// id in one transaction. Webhook ids that do not exist (any more) or
// belong to another tenant get no delivery. An idempotency key seen within
// hookd.IdempotencyWindow of the event's CreatedAt (also earlier in the
// same batch) makes the request a duplicate of the first event; an older
// key is taken over by the new event. WebhooksMatched is stored as the
// caller set it, or as len(WebhookIDs) when left 0.
//
// The transaction holds an advisory lock per tenant until it commits:
// publishes of one tenant are serialized across nodes, which makes Seq
// increase in commit order within a tenant (streams resume by it without
// gaps) and idempotency keys hold across nodes. Webhooks queued for are
// key-share locked, so a concurrent DeleteWebhook waits and cancels what
// was queued. Everything is written in two round trips: BEGIN with the
// locks and lookups, then one statement inserting events, deliveries,
// queue rows and keys from arrays, pipelined with the counters' update
// and COMMIT.
func (s *Store) PublishEvents(ctx context.Context, reqs []hookd.PublishRequest) ([]hookd.PublishResult, error) {
	if len(reqs) == 0 {
		return []hookd.PublishResult{}, nil
	}
	var results []hookd.PublishResult
	err := s.inPipelinedTx(ctx, func(tx *pipelinedTx) error {
		p := &publication{reqs: reqs, results: make([]hookd.PublishResult, len(reqs)),
			keys: map[tenantKey]keyHolder{}, dupOf: map[int]int{}}
		if err := p.lookUp(ctx, tx); err != nil {
			return err
		}
		if err := p.decide(); err != nil {
			return err
		}
		if err := p.write(ctx, tx); err != nil {
			return err
		}
		results = p.results
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// lookUp takes the tenants' publish locks, then reads the webhooks, keys
// and event ids the batch names, in one round trip.
func (p *publication) lookUp(ctx context.Context, tx *pipelinedTx) error {
	tenantSet := map[string]bool{}
	var webhookIDs []int64
	var keyTenants, keyNames, eventIDs []string
	for _, r := range p.reqs {
		tenantSet[r.Event.Tenant] = true
		webhookIDs = append(webhookIDs, r.WebhookIDs...)
		eventIDs = append(eventIDs, r.Event.ID)
		if r.Event.IdempotencyKey != "" {
			keyTenants = append(keyTenants, r.Event.Tenant)
			keyNames = append(keyNames, r.Event.IdempotencyKey)
		}
	}
	tenants := make([]string, 0, len(tenantSet))
	for t := range tenantSet {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants) // one order for every node: no deadlock
	b := &pgx.Batch{}
	// The tenants' publish locks keep seq in commit order. Checking
	// idempotency keys needs them too (two nodes must not both find a key
	// free); without keys they are taken later, just before the inserts
	// (write), so that nodes publishing for one tenant wait for each other
	// for less time.
	if len(keyNames) > 0 {
		lockPublish(b, tenants)
	} else {
		p.lockLater = tenants
	}
	b.Queue("SELECT id, tenant FROM webhooks WHERE id = ANY($1) FOR KEY SHARE", uniqueIDs(webhookIDs))
	b.Queue(`SELECT k.tenant, k.key, k.created_at, `+eventColumns+`
		FROM idempotency_keys k JOIN events e ON e.seq = k.event_seq
		WHERE k.tenant = ANY($1) AND k.key = ANY($2)
		AND (k.tenant, k.key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, keyTenants, keyNames)
	b.Queue("SELECT id FROM events WHERE id = ANY($1)", eventIDs)
	br := tx.send(ctx, b, false) // BEGIN goes with it
	defer br.Close()
	if p.lockLater == nil {
		for range tenants {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
	}
	p.tenants = map[int64]string{}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var id int64
	var tenant string
	if _, err := pgx.ForEachRow(rows, []any{&id, &tenant}, func() error {
		p.tenants[id] = tenant
		return nil
	}); err != nil {
		return err
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	for rows.Next() {
		var k tenantKey
		var at time.Time
		ev, err := scanEvent(rows, &k.tenant, &k.key, &at)
		if err != nil {
			rows.Close()
			return err
		}
		p.keys[k] = keyHolder{at: at, event: ev, index: -1}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.existing = map[string]bool{}
	if rows, err = br.Query(); err != nil {
		return err
	}
	var eventID string
	if _, err := pgx.ForEachRow(rows, []any{&eventID}, func() error {
		p.existing[eventID] = true
		return nil
	}); err != nil {
		return err
	}
	return br.Close()
}

// lockPublish queues the publish locks of tenants, in the order given
// (sorted: one order for every node).
func lockPublish(b *pgx.Batch, tenants []string) {
	for _, t := range tenants {
		b.Queue("SELECT pg_advisory_xact_lock($1, hashtext('publish:' || $2::text))", lockClass, t)
	}
}

// decide sorts the requests into new events and duplicates, in order, the
// way storing them one after another would.
func (p *publication) decide() error {
	p.targets = make([][]int64, len(p.reqs))
	batchIDs := map[string]bool{}
	for i, req := range p.reqs {
		ev := req.Event
		if ev.WebhooksMatched == 0 {
			ev.WebhooksMatched = len(req.WebhookIDs)
		}
		k := tenantKey{ev.Tenant, ev.IdempotencyKey}
		if ev.IdempotencyKey != "" {
			if h, ok := p.keys[k]; ok && ev.CreatedAt.Sub(h.at) < hookd.IdempotencyWindow {
				if h.event != nil {
					p.results[i] = hookd.PublishResult{Event: *h.event, Duplicate: true}
				} else {
					p.dupOf[i] = h.index
				}
				continue
			}
		}
		if p.existing[ev.ID] || batchIDs[ev.ID] {
			return hookd.Errorf(hookd.EConflict, "event %s already exists", ev.ID)
		}
		batchIDs[ev.ID] = true
		if ev.IdempotencyKey != "" {
			p.keys[k] = keyHolder{at: ev.CreatedAt, index: i}
		}
		seen := make(map[int64]bool, len(req.WebhookIDs))
		for _, id := range req.WebhookIDs {
			if t, ok := p.tenants[id]; ok && t == ev.Tenant && !seen[id] {
				seen[id] = true
				p.targets[i] = append(p.targets[i], id)
			}
		}
		p.results[i] = hookd.PublishResult{Event: ev}
		p.fresh = append(p.fresh, i)
	}
	return nil
}

// publishInsert stores the new events, their deliveries, queue rows and
// delivery_stats rows, and the idempotency keys they now hold, from
// arrays; it answers each event's seq (delivery 0), then each delivery
// leased at once: those of the events $14, their queue rows due at the
// lease's end $15 with the token $16, as a claim would leave them.
const publishInsert = `WITH ev AS (
		INSERT INTO events (id, tenant, publisher, type, version, payload, idempotency_key,
			webhooks_matched, integrations_matched, created_at)
		SELECT id, tenant, publisher, type, version, payload::json, key, wm, im, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::int[], $9::int[], $10::timestamptz[]) WITH ORDINALITY
			AS r(id, tenant, publisher, type, version, payload, key, wm, im, at, ord)
		ORDER BY ord
		RETURNING seq, id, tenant, type, idempotency_key, created_at
	), d AS (
		INSERT INTO deliveries (webhook_id, event_seq, event_type, state, created_at, updated_at)
		SELECT t.webhook_id, ev.seq, ev.type, 'pending', ev.created_at, ev.created_at
		FROM unnest($11::text[], $12::bigint[]) WITH ORDINALITY AS t(event_id, webhook_id, ord)
		JOIN ev ON ev.id = t.event_id
		ORDER BY t.ord
		RETURNING id, webhook_id, created_at, event_type, event_seq
	), l AS (
		SELECT * FROM unnest($14::text[], $15::timestamptz[]) AS l(event_id, until)
	), q AS (
		INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, lease_token)
		SELECT d.id, d.webhook_id, COALESCE(l.until, d.created_at),
			CASE WHEN l.until IS NOT NULL THEN $16::uuid END
		FROM d JOIN ev ON ev.seq = d.event_seq LEFT JOIN l ON l.event_id = ev.id
	), st AS (
		INSERT INTO delivery_stats AS s (webhook_id, hour, event_type, state, error_type,
			deliveries, attempts, attempted, response_time_sum_ms)
		SELECT webhook_id, ` + "date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00')" + `, event_type,
			'pending', '', count(*), 0, 0, 0
		FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (webhook_id, hour, event_type, state, error_type)
		DO UPDATE SET deliveries = s.deliveries + excluded.deliveries
	), k AS (
		INSERT INTO idempotency_keys (tenant, key, event_seq, created_at)
		SELECT ev.tenant, ev.idempotency_key, ev.seq, ev.created_at FROM ev WHERE ev.id = ANY($13)
		ON CONFLICT (tenant, key) DO UPDATE SET event_seq = excluded.event_seq, created_at = excluded.created_at
	)
	SELECT id, seq, 0::bigint, 0::bigint FROM ev
	UNION ALL
	SELECT ev.id, ev.seq, d.id, d.webhook_id FROM d JOIN ev ON ev.seq = d.event_seq JOIN l ON l.event_id = ev.id`

// addPending adds queued deliveries to webhooks' pending counts, locking
// the counters in id order (the order every writer uses).
const addPending = `WITH l AS (
		SELECT webhook_id FROM webhook_counters WHERE webhook_id = ANY($1) ORDER BY webhook_id FOR UPDATE
	)
	UPDATE webhook_counters c SET pending_count = c.pending_count + u.n
	FROM unnest($1::bigint[], $2::bigint[]) AS u(webhook_id, n) JOIN l USING (webhook_id)
	WHERE c.webhook_id = ANY($1) AND c.webhook_id = u.webhook_id`

// NotifyChannel is the channel PublishEvents notifies on commit, once per
// tenant it stored events for, with the payload "<tenant>:<seq>": the
// tenant's greatest Seq once the transaction commits. The tenant's
// publish lock makes the notifications of a tenant arrive in commit order.
// The rows stay the truth: a listener reads them back with EventsAfter.
const NotifyChannel = "hookd_events"

// notifyPublished notifies NotifyChannel for each tenant given, with its
// greatest stream Seq as this transaction sees it (under its publish
// lock: the events just inserted). PostgreSQL delivers it on commit.
const notifyPublished = `SELECT pg_notify('` + NotifyChannel + `', t || ':' ||
		(SELECT max(seq) FROM events WHERE tenant = t AND NOT test))
	FROM unnest($1::text[]) AS t`

// uniqueStrings returns the distinct values of ss, sorted.
func uniqueStrings(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// write stores the new events and fills in the results.
func (p *publication) write(ctx context.Context, tx *pipelinedTx) error {
	if len(p.fresh) == 0 {
		p.fillDuplicates()
		return tx.send(ctx, &pgx.Batch{}, true).Close()
	}
	n := len(p.fresh)
	ids, tenants, publishers := make([]string, n), make([]string, n), make([]string, n)
	types, versions, payloads := make([]string, n), make([]string, n), make([]string, n)
	keys := make([]string, n)
	wm, im := make([]int32, n), make([]int32, n)
	at := make([]time.Time, n)
	var keyed, deliveryEvents, leasedEvents []string
	var deliveryHooks []int64
	var leasedUntil []time.Time
	lastHolder := map[tenantKey]int{}
	pending := map[int64]int64{}
	for j, i := range p.fresh {
		ev := p.results[i].Event
		ids[j], tenants[j], publishers[j], types[j], versions[j] = ev.ID, ev.Tenant, ev.Publisher, ev.Type, ev.Version
		payloads[j], keys[j] = rowcodec.EventPayload(ev.Payload), ev.IdempotencyKey
		wm[j], im[j], at[j] = int32(ev.WebhooksMatched), int32(ev.IntegrationsMatched), ev.CreatedAt
		if ev.IdempotencyKey != "" {
			lastHolder[tenantKey{ev.Tenant, ev.IdempotencyKey}] = i
		}
		for _, id := range p.targets[i] {
			deliveryEvents = append(deliveryEvents, ev.ID)
			deliveryHooks = append(deliveryHooks, id)
			pending[id]++
		}
		if lease := p.reqs[i].Lease; lease > 0 && len(p.targets[i]) > 0 {
			leasedEvents = append(leasedEvents, ev.ID)
			leasedUntil = append(leasedUntil, ev.CreatedAt.Add(lease).UTC().Truncate(time.Microsecond))
		}
	}
	var token any // NULL unless something is leased
	if len(leasedEvents) > 0 {
		t, err := newLeaseToken()
		if err != nil {
			return err
		}
		token = t
	}
	for _, i := range lastHolder { // one row per key: the event that holds it at the end
		keyed = append(keyed, p.reqs[i].Event.ID)
	}
	// The tenants' publish locks come first (as in lookUp), then the
	// counters: every writer of a webhook's delivery_stats rows holds its
	// counters row.
	b := &pgx.Batch{}
	lockPublish(b, p.lockLater)
	if len(pending) > 0 {
		hooks := make([]int64, 0, len(pending))
		for id := range pending {
			hooks = append(hooks, id)
		}
		sort.Slice(hooks, func(a, b int) bool { return hooks[a] < hooks[b] })
		counts := make([]int64, len(hooks))
		for j, id := range hooks {
			counts[j] = pending[id]
		}
		b.Queue(addPending, hooks, counts)
	}
	b.Queue(publishInsert, ids, tenants, publishers, types, versions, payloads, keys, wm, im, at,
		deliveryEvents, deliveryHooks, keyed, leasedEvents, leasedUntil, token)
	b.Queue(notifyPublished, uniqueStrings(tenants))
	br := tx.send(ctx, b, true) // and COMMIT: answered before PublishEvents returns
	defer br.Close()
	for range p.lockLater {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	seqs := make(map[string]int64, n)
	type leased struct{ deliveryID, webhookID int64 }
	byEvent := map[string][]leased{}
	var id string
	var seq, deliveryID, webhookID int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq, &deliveryID, &webhookID}, func() error {
		if deliveryID == 0 {
			seqs[id] = seq
		} else {
			byEvent[id] = append(byEvent[id], leased{deliveryID, webhookID})
		}
		return nil
	}); err != nil {
		if isUniqueViolation(err, "events_id_key") {
			return hookd.Errorf(hookd.EConflict, "an event with one of these ids already exists")
		}
		return err
	}
	if _, err := br.Exec(); err != nil { // notifyPublished
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	for _, i := range p.fresh {
		r := &p.results[i]
		r.Event.Seq = seqs[r.Event.ID]
		tok, _ := token.(string)
		for _, l := range byEvent[r.Event.ID] {
			due := r.Event.CreatedAt.UTC().Truncate(time.Microsecond) // as stored
			r.Claims = append(r.Claims, hookd.Claim{
				Delivery: hookd.Delivery{ID: l.deliveryID, Tenant: r.Event.Tenant, WebhookID: l.webhookID,
					EventID: r.Event.ID, EventType: r.Event.Type, State: hookd.StatePending,
					NextAttemptAt: &due, CreatedAt: due, UpdatedAt: due},
				Event: r.Event, LeaseToken: tok,
				LeaseUntil: r.Event.CreatedAt.Add(p.reqs[i].Lease).UTC().Truncate(time.Microsecond),
			})
		}
	}
	p.fillDuplicates()
	return nil
}

// fillDuplicates answers the requests that repeat an earlier one of the
// batch with that one's event.
func (p *publication) fillDuplicates() {
	for i, j := range p.dupOf {
		p.results[i] = hookd.PublishResult{Event: p.results[j].Event, Duplicate: true}
	}
}

// GetEvent returns a tenant's event and its deliveries ordered by id.
func (s *Store) GetEvent(ctx context.Context, tenant, id string) (*hookd.Event, []*hookd.Delivery, error) {
	var ev *hookd.Event
	var ds []*hookd.Delivery
	err := s.snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		ev, err = scanEvent(tx.QueryRow(ctx, "SELECT "+eventColumns+
			" FROM events e WHERE e.id = $1 AND e.tenant = $2", id, tenant))
		if err != nil {
			return notFound(err, "event")
		}
		ds, err = queryDeliveries(ctx, tx, "SELECT "+deliveryColumns+deliveryFrom+
			" WHERE d.event_seq = $1 ORDER BY d.id", ev.Seq)
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
	var last *time.Time
	err := s.pool.QueryRow(ctx, `SELECT max(created_at) FROM events
		WHERE tenant = $1 AND type = $2 AND NOT test`, tenant, eventType).Scan(&last)
	if err != nil {
		return nil, err
	}
	return utcPtr(last), nil
}

// LastSeq returns the greatest Seq of a tenant's stream events committed
// so far (test sends aside), or 0 when it has none.
func (s *Store) LastSeq(ctx context.Context, tenant string) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM events WHERE tenant = $1 AND NOT test",
		tenant).Scan(&seq)
	return seq, err
}

// EventsAfter returns up to limit (100 when limit <= 0) of a tenant's
// published events with Seq > afterSeq, in Seq order. Test sends are not
// part of the stream.
func (s *Store) EventsAfter(ctx context.Context, tenant string, afterSeq int64, limit int) ([]*hookd.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, "SELECT "+eventColumns+
		" FROM events e WHERE e.tenant = $1 AND e.seq > $2 AND NOT e.test ORDER BY e.seq LIMIT $3",
		tenant, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row pgx.Row) (*hookd.Event, error) { return scanEvent(row) })
}
