package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd/internal/hookd"
)

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
// Leases live in memory (see leaseBook): claiming is one read, no write.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, exclude []int64) ([]hookd.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	token, err := newLeaseToken()
	if err != nil {
		return nil, err
	}
	until := now.Add(lease).UTC().Truncate(time.Millisecond)
	notIn := ""
	args := []any{ms(now)}
	if len(exclude) > 0 {
		notIn = " AND webhook_id NOT IN (" + placeholders(len(exclude)) + ")"
		args = append(args, int64Args(exclude)...)
	}
	b := s.leases
	b.mu.Lock()
	// First pick ids from the queue index alone, skipping held ones (they
	// come back too: ask for enough more), then read those rows.
	args = append(args, limit+len(b.held))
	// Deliveries of a switched-off webhook wait, pending, until it is
	// switched on again.
	picked, err := s.pickDue(ctx, notIn, args, limit, now)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	var claims []hookd.Claim
	var seqs []int64
	var rows *sql.Rows
	if len(picked) > 0 {
		rows, err = s.reader.QueryContext(ctx, `SELECT id, tenant, webhook_id, event_seq, event_type, attempts,
			next_attempt_at, created_at, updated_at FROM deliveries
			WHERE id IN (`+placeholders(len(picked))+`) AND state = 'pending' ORDER BY next_attempt_at, id`, int64Args(picked)...)
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
	}
	for rows != nil && rows.Next() {
		var c hookd.Claim
		var seq, due, createdAt, updatedAt int64
		if err := rows.Scan(&c.Delivery.ID, &c.Delivery.Tenant, &c.Delivery.WebhookID, &seq,
			&c.Delivery.EventType, &c.Delivery.Attempts, &due, &createdAt, &updatedAt); err != nil {
			rows.Close()
			b.mu.Unlock()
			return nil, err
		}
		dueAt := fromMs(due)
		c.Delivery.State = hookd.StatePending
		c.Delivery.NextAttemptAt = &dueAt
		c.Delivery.CreatedAt, c.Delivery.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
		c.LeaseToken, c.LeaseUntil = token, until
		b.held[c.Delivery.ID] = heldLease{token: token, until: until, due: due}
		claims = append(claims, c)
		seqs = append(seqs, seq)
	}
	if rows != nil {
		err = errors.Join(rows.Err(), rows.Close())
	}
	b.mu.Unlock()
	if err != nil || len(claims) == 0 {
		s.releaseAll(claims)
		return nil, err
	}
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		s.releaseAll(claims)
		return nil, err
	}
	for i := range claims {
		ev, ok := events[seqs[i]]
		if !ok {
			s.releaseAll(claims)
			return nil, fmt.Errorf("sqlite: event %d of delivery %d is missing", seqs[i], claims[i].Delivery.ID)
		}
		claims[i].Event = *ev
		claims[i].Delivery.EventID = ev.ID
	}
	return claims, nil
}

// pickDue returns up to limit ids of due deliveries that hold no running
// lease, read from the queue index only. The caller holds leases.mu.
func (s *Store) pickDue(ctx context.Context, notIn string, args []any, limit int, now time.Time) ([]int64, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id FROM deliveries INDEXED BY deliveries_queue
		WHERE state = 'pending' AND next_attempt_at <= ?`+notIn+`
		AND webhook_id IN (SELECT id FROM webhooks WHERE is_active = 1)
		ORDER BY next_attempt_at LIMIT ?`, args...) // ties in index order: no sort
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() && len(ids) < limit {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if !s.leases.heldAt(id, now) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// releaseAll drops the leases of claims this store just made.
func (s *Store) releaseAll(claims []hookd.Claim) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	for _, c := range claims {
		if s.leases.owns(c.Delivery.ID, c.LeaseToken) {
			s.leases.drop(c.Delivery.ID)
		}
	}
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
	st, err := s.readStmt(ctx, "SELECT "+eventColumns+" FROM events e WHERE e.seq IN (SELECT value FROM json_each(?))")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, jsonIDs(unique))
	if err != nil {
		return nil, err
	}
	evs, err := scanRows(rows, scanEvent)
	for _, ev := range evs {
		out[ev.Seq] = ev
	}
	return out, err
}

// jsonIDs renders ids as a JSON array, for "IN (SELECT value FROM
// json_each(?))": one statement text whatever the number of ids, so it is
// prepared once.
func jsonIDs(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// CompleteAttempts records attempts in one transaction: the attempt row,
// the delivery's new state (success; pending again at NextAttemptAt; or
// failed for good), the webhook's counters, and auto-disable. A result
// whose lease token is no longer the delivery's is skipped entirely.
func (s *Store) CompleteAttempts(ctx context.Context, results []hookd.AttemptResult, rules hookd.DeliveryRules) error {
	if len(results) == 0 {
		return nil
	}
	// Take the results whose lease is still theirs, and keep those leases
	// from expiring while the transaction runs.
	b := s.leases
	b.mu.Lock()
	owned := make([]int, 0, len(results))
	saved := make(map[int64]heldLease, len(results))
	for i, r := range results {
		if !b.owns(r.DeliveryID, r.LeaseToken) {
			continue // lease lost: another sender owns the delivery now
		}
		l := b.held[r.DeliveryID]
		saved[r.DeliveryID] = l
		l.until = time.Unix(1<<40, 0)
		b.held[r.DeliveryID] = l
		owned = append(owned, i)
	}
	b.mu.Unlock()
	err := s.write(ctx, func(tx *sql.Tx) error {
		operational, err := completeBatch(ctx, tx, results, owned, rules)
		if err != nil {
			return err
		}
		return insertOperational(ctx, tx, operational)
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, l := range saved {
		if err != nil {
			b.held[id] = l // not recorded: the lease runs on as before
		} else {
			b.drop(id)
		}
	}
	return err
}

// ReleaseClaims frees the leases of claims still held; their deliveries
// are due again at the time they were due before the claim.
func (s *Store) ReleaseClaims(ctx context.Context, claims []hookd.Claim) error {
	s.releaseAll(claims)
	return nil
}

// NextDue returns when the earliest pending delivery of an active webhook
// is due (for a leased one: when its lease ends), or nil when none is.
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	due, err := s.firstUnheldDue(ctx)
	if err != nil {
		return nil, err
	}
	s.leases.mu.Lock()
	end := s.leases.earliestEnd()
	s.leases.mu.Unlock()
	if end != 0 && (due == 0 || end < due) {
		due = end
	}
	if due == 0 {
		return nil, nil
	}
	t := fromMs(due)
	return &t, nil
}

// firstUnheldDue returns the due time (ms) of the first pending delivery
// of an active webhook that holds no lease, or 0.
func (s *Store) firstUnheldDue(ctx context.Context) (int64, error) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	rows, err := s.reader.QueryContext(ctx, `SELECT id, next_attempt_at FROM deliveries
		WHERE state = 'pending' AND next_attempt_at IS NOT NULL
		AND webhook_id IN (SELECT id FROM webhooks WHERE is_active = 1)
		ORDER BY next_attempt_at, id LIMIT ?`, len(s.leases.held)+1)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, due int64
		if err := rows.Scan(&id, &due); err != nil {
			return 0, err
		}
		if _, held := s.leases.held[id]; !held {
			return due, nil
		}
	}
	return 0, rows.Err()
}

// QueueDepth counts pending deliveries (leased ones included) and returns
// the due time of the oldest unclaimed one that is due at now.
func (s *Store) QueueDepth(ctx context.Context, now time.Time) (int64, *time.Time, error) {
	var n int64
	if err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").Scan(&n); err != nil {
		return 0, nil, err
	}
	due, err := s.firstUnheldDue(ctx)
	if err != nil || due == 0 || due > ms(now) {
		return n, nil, err
	}
	t := fromMs(due)
	return n, &t, nil
}
