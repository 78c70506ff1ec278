package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// claimQuery leases up to $3 due queue rows in one statement: SKIP LOCKED
// lets claimers on every node take disjoint rows without waiting, and a
// row another claimer leased after this statement's snapshot is re-checked
// (its next_attempt_at moved to the lease end) and left out. It answers
// each delivery with its event.
const claimQuery = `WITH c AS (
		SELECT delivery_id, next_attempt_at AS due FROM delivery_queue
		WHERE next_attempt_at <= $1 AND webhook_id <> ALL($2::bigint[])
		AND webhook_id NOT IN (SELECT id FROM webhooks WHERE NOT is_active)
		ORDER BY next_attempt_at, delivery_id
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	)` + claimLease

// claimWindowQuery is claimQuery for a claim that leaves webhooks out: it
// looks at the first $6 due rows only, so that an excluded webhook's
// backlog ahead of the others' rows is not read whole; when that comes
// back short, claimByWebhookQuery looks further.
const claimWindowQuery = `WITH c AS (
		SELECT delivery_id, next_attempt_at AS due FROM delivery_queue
		WHERE delivery_id = ANY(ARRAY(SELECT delivery_id FROM delivery_queue WHERE next_attempt_at <= $1
			ORDER BY next_attempt_at, delivery_id LIMIT $6))
		AND next_attempt_at <= $1 AND webhook_id <> ALL($2::bigint[])
		AND webhook_id NOT IN (SELECT id FROM webhooks WHERE NOT is_active)
		ORDER BY next_attempt_at, delivery_id
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	)` + claimLease

// claimByWebhookQuery is claimQuery for a claim that leaves webhooks out,
// webhook by webhook: it walks the webhooks that have queue rows
// (delivery_queue_webhook, one index probe each), and takes the oldest
// due rows of those not left out. Its cost follows the webhooks claimed
// for, however long the excluded webhooks' backlog.
const claimByWebhookQuery = `WITH RECURSIVE w AS (
		(SELECT webhook_id FROM delivery_queue ORDER BY webhook_id LIMIT 1)
		UNION ALL
		SELECT (SELECT q.webhook_id FROM delivery_queue q WHERE q.webhook_id > w.webhook_id
			ORDER BY q.webhook_id LIMIT 1)
		FROM w WHERE w.webhook_id IS NOT NULL
	), due AS (
		SELECT x.delivery_id FROM w, LATERAL (
			SELECT q.delivery_id, q.next_attempt_at FROM delivery_queue q
			WHERE q.webhook_id = w.webhook_id AND q.next_attempt_at <= $1
			ORDER BY q.next_attempt_at, q.delivery_id LIMIT $3) x
		WHERE w.webhook_id <> ALL($2::bigint[])
		AND w.webhook_id NOT IN (SELECT id FROM webhooks WHERE NOT is_active)
		ORDER BY x.next_attempt_at, x.delivery_id LIMIT $3
	), c AS (
		SELECT delivery_id, next_attempt_at AS due FROM delivery_queue
		WHERE delivery_id = ANY(ARRAY(SELECT delivery_id FROM due)) AND next_attempt_at <= $1
		ORDER BY next_attempt_at, delivery_id
		FOR UPDATE SKIP LOCKED
	)` + claimLease

// claimLease leases the rows c picked until $5 with the token $4 and
// answers them. The "= ANY(ARRAY(...))" condition keeps the update on
// primary-key lookups whatever the planner estimates for the CTE: a hash
// join would read the whole queue.
const claimLease = `, u AS (
		UPDATE delivery_queue q SET lease_token = $4, next_attempt_at = $5
		FROM c WHERE q.delivery_id = ANY(ARRAY(SELECT delivery_id FROM c)) AND q.delivery_id = c.delivery_id
		RETURNING q.delivery_id, c.due
	)
	SELECT d.id, d.webhook_id, d.event_type, d.attempts, u.due, d.created_at, d.updated_at, ` + eventColumns + `
	FROM u JOIN deliveries d ON d.id = u.delivery_id JOIN events e ON e.seq = d.event_seq
	ORDER BY u.due, d.id`

// claimWindow is how many due rows, per row wanted, claimWindowQuery
// looks at.
const claimWindow = 4

// ClaimDeliveries leases up to limit pending deliveries due at now, oldest
// due first, until now+lease. All claims of one call share a lease token.
// While leased, a delivery's queue row is due at the lease's end, so an
// abandoned lease (a node killed) makes it due again by itself; the
// returned Delivery.NextAttemptAt is the due time before the claim.
// Deliveries of switched-off webhooks wait, pending, until it is on again.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]hookd.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	token, err := newLeaseToken()
	if err != nil {
		return nil, err
	}
	until := now.Add(lease).UTC().Truncate(time.Microsecond)
	if exclude == nil {
		exclude = []int64{}
	}
	if len(exclude) == 0 {
		return s.claim(ctx, claimQuery, now, exclude, limit, token, until)
	}
	// Leaving webhooks out: first the oldest due rows, then, when they
	// hold too few of the others', webhook by webhook.
	claims, err := s.claim(ctx, claimWindowQuery, now, exclude, limit, token, until, limit*claimWindow)
	if err != nil || len(claims) == limit {
		return claims, err
	}
	more, err := s.claim(ctx, claimByWebhookQuery, now, exclude, limit-len(claims), token, until)
	if err != nil {
		// The first claims hold their leases: answer them, the error
		// will come again at the next claim.
		return claims, nil
	}
	claims = append(claims, more...)
	sort.SliceStable(claims, func(i, j int) bool {
		a, b := claims[i].Delivery, claims[j].Delivery
		if !a.NextAttemptAt.Equal(*b.NextAttemptAt) {
			return a.NextAttemptAt.Before(*b.NextAttemptAt)
		}
		return a.ID < b.ID
	})
	return claims, nil
}

// claim runs one of the claim queries and reads its claims.
func (s *Store) claim(ctx context.Context, query string, now time.Time, exclude []int64, limit int, token string, until time.Time, extra ...any) ([]hookd.Claim, error) {
	args := append([]any{now, exclude, limit, token, until}, extra...)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var claims []hookd.Claim
	for rows.Next() {
		var c hookd.Claim
		var due time.Time
		d := &c.Delivery
		ev, err := scanEvent(rows, &d.ID, &d.WebhookID, &d.EventType, &d.Attempts, &due, &d.CreatedAt, &d.UpdatedAt)
		if err != nil {
			return nil, err
		}
		due = utc(due)
		d.State, d.NextAttemptAt = hookd.StatePending, &due
		d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
		d.Tenant, d.EventID = ev.Tenant, ev.ID
		c.Event, c.LeaseToken, c.LeaseUntil = *ev, token, until
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return claims, nil
}

// completeQuery records a batch of attempts in one statement: it takes
// finished deliveries off the queue and reschedules retried ones (both
// only while the result's lease token is still the row's), updates the
// log rows that kept their lease, inserts their attempts, and locks the
// webhooks' counters in id order, answering their consecutive failures.
// The results travel on with the queue rows they kept (done, again), so
// the log rows are found by primary key from those: a join back to r,
// whose row count the planner cannot see through the CTEs, could be a
// nested loop reading the whole batch once per result.
const completeQuery = `WITH r AS (
		SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int[], $6::bigint[],
			$7::text[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::text[], $12::text[])
			AS r(id, tok, state, next_at, code, rt, error_type, finished, started, headers, body, error_message)
	), done AS (
		DELETE FROM delivery_queue q USING r
		WHERE q.delivery_id = ANY($1) AND q.delivery_id = r.id AND q.lease_token = r.tok AND r.state <> 'pending'
		RETURNING r.*
	), again AS (
		UPDATE delivery_queue q SET next_attempt_at = r.next_at, lease_token = NULL
		FROM r WHERE q.delivery_id = ANY($1) AND q.delivery_id = r.id AND q.lease_token = r.tok
		AND r.state = 'pending'
		RETURNING r.*
	), d AS (
		UPDATE deliveries d SET state = x.state, attempts = d.attempts + 1, response_code = x.code,
			response_time_ms = x.rt, response_time_sum_ms = d.response_time_sum_ms + x.rt,
			error_type = x.error_type, updated_at = x.finished,
			completed_at = CASE WHEN x.state = 'pending' THEN NULL ELSE x.finished END
		FROM (SELECT * FROM done UNION ALL SELECT * FROM again) x, deliveries o
		WHERE d.id = x.id AND o.id = x.id AND d.state = 'pending'
		RETURNING d.id, d.webhook_id, d.attempts, d.test, d.created_at, d.event_type,
			o.error_type AS old_error_type, d.response_time_sum_ms, d.event_seq,
			x.started, x.headers, x.code, x.body, x.rt, x.error_type AS new_error_type, x.error_message
	), a AS (
		INSERT INTO attempts (delivery_id, number, started_at, request_headers, response_code,
			response_body, response_time_ms, error_type, error_message)
		SELECT id, attempts, started, headers, code, body, rt, new_error_type, error_message FROM d
	), c AS (
		SELECT c.webhook_id, c.consecutive_failures, c.failed_attempts, c.failing_since,
			w.tenant, w.user_id, w.name, w.url, w.kind, w.is_active
		FROM webhook_counters c JOIN webhooks w ON w.id = c.webhook_id
		WHERE c.webhook_id IN (SELECT webhook_id FROM d WHERE NOT test)
		ORDER BY c.webhook_id FOR UPDATE OF c
	)
	SELECT d.id, d.webhook_id, d.attempts, d.test, c.consecutive_failures,
		d.created_at, d.event_type, d.old_error_type, d.response_time_sum_ms,
		(SELECT e.id FROM events e WHERE e.seq = d.event_seq),
		c.failed_attempts, c.failing_since, c.tenant, c.user_id, c.name, c.url, c.kind, c.is_active
	FROM d LEFT JOIN c ON c.webhook_id = d.webhook_id AND NOT d.test`

// countersQuery adds a batch's outcomes to webhooks' counters (already
// locked by completeQuery) and switches off the webhooks it says.
const countersQuery = `WITH u AS (
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
			$6::timestamptz[], $7::bigint[], $8::bigint[], $12::bigint[], $13::timestamptz[])
			AS u(webhook_id, ok, failed, rt, samples, last_at, last_rt, consecutive, failed_attempts, failing_since)
	), c AS (
		UPDATE webhook_counters c SET success_count = c.success_count + u.ok,
			failure_count = c.failure_count + u.failed, pending_count = c.pending_count - u.ok - u.failed,
			response_time_total_ms = c.response_time_total_ms + u.rt,
			response_samples = c.response_samples + u.samples,
			last_response_ms = CASE WHEN c.last_attempt_at IS NULL OR u.last_at >= c.last_attempt_at
				THEN u.last_rt ELSE c.last_response_ms END,
			last_attempt_at = CASE WHEN c.last_attempt_at IS NULL OR u.last_at >= c.last_attempt_at
				THEN u.last_at ELSE c.last_attempt_at END,
			consecutive_failures = u.consecutive, failed_attempts = u.failed_attempts,
			failing_since = u.failing_since
		FROM u WHERE c.webhook_id = ANY($1) AND c.webhook_id = u.webhook_id
	)
	UPDATE webhooks w SET is_active = false, disabled_reason = x.reason, updated_at = x.at
	FROM unnest($9::bigint[], $10::text[], $11::timestamptz[]) AS x(id, reason, at)
	WHERE w.id = ANY($9) AND w.id = x.id AND w.is_active`

// held is what completeQuery answers for a result that kept its lease.
type held struct {
	webhookID   int64
	number      int // the attempt's, and the delivery's attempts now
	test        bool
	consecutive *int64 // the webhook's, locked; nil when deleted or a test send
	createdAt   time.Time
	eventType   string
	oldError    string // the delivery's error type before this attempt
	rtSum       int64  // response times over its attempts, this one included
	eventID     string
	// The webhook's health and what operational events tell of it, read
	// with its locked counters; nil when consecutive is.
	failedAttempts *int64
	failingSince   *time.Time
	tenant, user   *string
	name, url      *string
	kind           *string
	isActive       *bool
}

// CompleteAttempts records attempts in one transaction: the attempt row,
// the delivery's new state (success; pending again at NextAttemptAt; or
// failed for good), the webhook's counters, and auto-disable. A result
// whose lease token is no longer the delivery's is skipped entirely, and
// so is a repeat of a delivery earlier in the batch. Two statements do it
// whatever the batch size, in two round trips (BEGIN rides with the
// first, COMMIT with the second) unless operational events are stored.
func (s *Store) CompleteAttempts(ctx context.Context, results []hookd.AttemptResult, rules hookd.DeliveryRules) error {
	batch := make([]*hookd.AttemptResult, 0, len(results))
	seen := make(map[int64]bool, len(results))
	for i := range results {
		r := &results[i]
		if seen[r.DeliveryID] || !validToken(r.LeaseToken) {
			continue // a repeat finds the lease gone; a malformed token never held one
		}
		seen[r.DeliveryID] = true
		batch = append(batch, r)
	}
	if len(batch) == 0 {
		return nil
	}
	args, err := completionArgs(batch)
	if err != nil {
		return err
	}
	churn := 0
	defer func() { s.noteQueueChurn(churn) }()
	return s.inPipelinedTx(ctx, func(t *pipelinedTx) error {
		b := &pgx.Batch{}
		b.Queue(completeQuery, args...)
		br := t.send(ctx, b, false)
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return err
		}
		got := make(map[int64]held, len(batch))
		var id int64
		var h held
		_, err = pgx.ForEachRow(rows, []any{&id, &h.webhookID, &h.number, &h.test, &h.consecutive,
			&h.createdAt, &h.eventType, &h.oldError, &h.rtSum, &h.eventID, &h.failedAttempts, &h.failingSince,
			&h.tenant, &h.user, &h.name, &h.url, &h.kind, &h.isActive}, func() error {
			got[id] = h
			return nil
		})
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("postgres: complete deliveries: %w", err)
		}
		tally := tallyCounters(batch, got, rules)
		churn = len(got)
		// The counters go with COMMIT unless operational events need
		// their owners' subscriptions read first.
		b = &pgx.Batch{}
		if len(tally.ids) > 0 {
			b.Queue(countersQuery, tally.args()...)
			if !tally.stats.empty() {
				b.Queue(addStats, tally.stats.args()...)
			}
		}
		if len(tally.operational) == 0 {
			return t.send(ctx, b, true).Close()
		}
		if err := t.send(ctx, b, false).Close(); err != nil {
			return err
		}
		if err := insertOperational(ctx, t, tally.operational); err != nil {
			return err
		}
		return t.send(ctx, &pgx.Batch{}, true).Close()
	})
}

// completionArgs turns results into completeQuery's arrays.
func completionArgs(batch []*hookd.AttemptResult) ([]any, error) {
	n := len(batch)
	ids, toks, states := make([]int64, n), make([]string, n), make([]string, n)
	next, codes, rts := make([]*time.Time, n), make([]*int32, n), make([]int64, n)
	errTypes, finished, started := make([]string, n), make([]time.Time, n), make([]time.Time, n)
	headers, bodies, messages := make([]string, n), make([]string, n), make([]string, n)
	for i, r := range batch {
		a := r.Attempt
		ids[i], toks[i], rts[i] = r.DeliveryID, r.LeaseToken, a.ResponseTimeMs
		states[i] = string(r.State())
		if r.State() == hookd.StatePending {
			next[i] = r.NextAttemptAt
		}
		if a.ResponseCode != nil {
			c := int32(*a.ResponseCode)
			codes[i] = &c
		}
		var err error
		if headers[i], err = rowcodec.RequestHeaders(a.RequestHeaders); err != nil {
			return nil, err
		}
		errTypes[i], bodies[i], messages[i] = a.ErrorType, hookd.StoredResponseBody(a.ResponseBody), a.ErrorMessage
		started[i] = a.StartedAt
		finished[i] = a.FinishedAt()
	}
	return []any{ids, toks, states, next, codes, rts, errTypes, finished, started, headers, bodies, messages}, nil
}

// webhookTally is one webhook's share of a completed batch.
type webhookTally struct {
	ok, failed, rt, samples int64
	lastAt                  time.Time
	lastRt                  int64
	health                  hookd.WebhookHealth
	webhook                 hookd.Webhook // what operational events tell of it
	reasonAt                time.Time     // when the result giving health.DisableReason finished
}

// counterTally is a batch's counter changes, by webhook in id order,
// and its changes to delivery_stats.
type counterTally struct {
	ids         []int64
	by          map[int64]*webhookTally
	stats       statsDeltas
	operational []hookd.OperationalEvent // the results cause, in batch order
}

// tallyCounters walks the results that kept their lease in batch order,
// as recording them one by one would: counts, the latest attempt, the run
// of consecutive failures from the locked value, and the first reason to
// switch the webhook off (a result's own, or reaching AutoDisableAfter),
// and the operational events the webhook's health says they cause.
func tallyCounters(batch []*hookd.AttemptResult, got map[int64]held, rules hookd.DeliveryRules) counterTally {
	t := counterTally{by: map[int64]*webhookTally{}, stats: statsDeltas{}}
	for _, r := range batch {
		h, ok := got[r.DeliveryID]
		if !ok {
			continue // lease lost: another sender owns the delivery now
		}
		r.Attempt.DeliveryID, r.Attempt.Number = r.DeliveryID, h.number
		if h.test || h.consecutive == nil {
			continue // test sends are not counted; a deleted webhook has no counters
		}
		w := t.by[h.webhookID]
		if w == nil {
			w = &webhookTally{health: hookd.WebhookHealth{
				FailureStreak:  hookd.FailureStreak{Consecutive: *h.consecutive},
				FailedAttempts: *h.failedAttempts, FailingSince: utcPtr(h.failingSince),
			}, webhook: hookd.Webhook{ID: h.webhookID, Owner: hookd.Owner{Tenant: *h.tenant, User: *h.user},
				Name: *h.name, URL: *h.url, Kind: *h.kind, IsActive: *h.isActive}}
			t.by[h.webhookID] = w
			t.ids = append(t.ids, h.webhookID)
		}
		a := r.Attempt
		state := r.State()
		hour := hourOf(h.createdAt)
		t.stats.move(statsKey{h.webhookID, hour, h.eventType, string(hookd.StatePending), h.oldError},
			statsKey{h.webhookID, hour, h.eventType, string(state), a.ErrorType},
			int64(h.number-1), h.rtSum-a.ResponseTimeMs, int64(h.number), h.rtSum)
		w.samples++
		w.rt += a.ResponseTimeMs
		if w.samples == 1 || !a.StartedAt.Before(w.lastAt) {
			w.lastAt, w.lastRt = a.StartedAt, a.ResponseTimeMs
		}
		switch state {
		case hookd.StateSuccess:
			w.ok++
		case hookd.StateFailed:
			w.failed++
		}
		hadReason := w.health.DisableReason != ""
		t.operational = append(t.operational, w.health.Record(&w.webhook, hookd.RecordedAttempt{Result: r, LogID: r.DeliveryID,
			EventID: h.eventID, EventType: h.eventType, Attempts: h.number}, rules)...)
		if !hadReason && w.health.DisableReason != "" {
			w.reasonAt = a.FinishedAt()
		}
	}
	sort.Slice(t.ids, func(i, j int) bool { return t.ids[i] < t.ids[j] })
	return t
}

// args returns countersQuery's arrays.
func (t counterTally) args() []any {
	n := len(t.ids)
	ok, failed, rt, samples := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	lastAt, lastRt, consecutive := make([]time.Time, n), make([]int64, n), make([]int64, n)
	failedAttempts, failingSince := make([]int64, n), make([]*time.Time, n)
	var offIDs []int64
	var reasons []string
	var offAt []time.Time
	for i, id := range t.ids {
		w := t.by[id]
		ok[i], failed[i], rt[i], samples[i] = w.ok, w.failed, w.rt, w.samples
		lastAt[i], lastRt[i], consecutive[i] = w.lastAt, w.lastRt, w.health.Consecutive
		failedAttempts[i], failingSince[i] = w.health.FailedAttempts, w.health.FailingSince
		if w.health.DisableReason != "" {
			offIDs, reasons, offAt = append(offIDs, id), append(reasons, w.health.DisableReason), append(offAt, w.reasonAt)
		}
	}
	return []any{t.ids, ok, failed, rt, samples, lastAt, lastRt, consecutive, offIDs, reasons, offAt,
		failedAttempts, failingSince}
}

// ReleaseClaims frees the leases of claims still held, making their
// deliveries due again when they were due before the claim.
func (s *Store) ReleaseClaims(ctx context.Context, claims []hookd.Claim) error {
	var ids []int64
	var toks []string
	var dues []*time.Time
	for _, c := range claims {
		if !validToken(c.LeaseToken) {
			continue
		}
		ids, toks, dues = append(ids, c.Delivery.ID), append(toks, c.LeaseToken), append(dues, c.Delivery.NextAttemptAt)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE delivery_queue q SET lease_token = NULL,
		next_attempt_at = COALESCE(r.due, q.next_attempt_at)
		FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[]) AS r(id, tok, due)
		WHERE q.delivery_id = ANY($1) AND q.delivery_id = r.id AND q.lease_token = r.tok`, ids, toks, dues)
	return err
}

// NextDue returns when the earliest pending delivery is due (for a leased
// one: when its lease ends), or nil when none is pending.
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	var due *time.Time
	if err := s.pool.QueryRow(ctx, "SELECT min(next_attempt_at) FROM delivery_queue").Scan(&due); err != nil {
		return nil, err
	}
	return utcPtr(due), nil
}

// QueueDepth counts pending deliveries (leased ones included) and returns
// the due time of the earliest one when it is due at now.
func (s *Store) QueueDepth(ctx context.Context, now time.Time) (int64, *time.Time, error) {
	var n int64
	var due *time.Time
	if err := s.pool.QueryRow(ctx, "SELECT count(*), min(next_attempt_at) FROM delivery_queue").Scan(&n, &due); err != nil {
		return 0, nil, err
	}
	if due == nil || due.After(now) {
		return n, nil, nil
	}
	return n, utcPtr(due), nil
}
